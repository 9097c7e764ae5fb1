"""Block sketches: HyperLogLog registers per run of whole documents (seqcount.sketches.blocks)."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import DATA

import seqcount
from seqcount import hashing
from seqcount.api import count_batch, count_corpus
from seqcount.cli import cli
from seqcount.config import BLOCK_TOKENS, CountConfig
from seqcount.hashing import Piece, WindowParams, hash_params, prefix_into
from seqcount.run.files import write_outputs
from seqcount.sketches import HLL, BlockBuilder, BlockRun, BlockSketches, load_sketches
from seqcount.sketches import blocks as blocks_module

AUSTEN = sorted((DATA / "austen").glob("*.parquet"))


# ----------------------------------------------------------------------------- kernels


def _piece(rng, ndocs: int, vocab: int = 40):
    lengths = rng.integers(0, 400, ndocs)
    doc = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = rng.integers(1, vocab, int(doc[-1])).astype(np.uint64)
    prefix = np.zeros(tokens.shape[0] + 1, np.uint64)
    return Piece(prefix_into(tokens, hash_params(3).base, prefix), doc)


@pytest.mark.parametrize("p,stride", [(16, False), (14, True), (12, False), (10, False)])
def test_block_registers_are_an_hll_of_precision_pb(p, stride):
    """The oracle: block registers equal HLL(pb).update_batch of the window hashes."""
    rng = np.random.default_rng(p)
    piece = _piece(rng, 12)
    ns = (1, 3, 7)
    win = WindowParams.of(hash_params(3), ns, p, stride)
    pb = min(12, p)
    regs = np.zeros((len(ns), 1 << p), np.int8)
    blk = np.zeros((len(ns), 1 << pb), np.int8)
    hashing.hll_update_windows(piece, 0, 12, win, regs, blk=blk)
    plain = np.zeros_like(regs)
    hashing.hll_update_windows(piece, 0, 12, win, plain)
    assert np.array_equal(regs, plain)  # the main registers do not change
    for j in range(len(ns)):
        want = HLL(pb)
        want.update_batch(hashing.window_hashes(piece, 0, 12, win.one(j)))
        assert np.array_equal(blk[j], want.reg)
        assert blk[j].max() > 0
    # the logging kernel updates the same block registers
    logged, blk2 = np.zeros_like(regs), np.zeros_like(blk)
    hashing.hll_log_windows(piece, 0, 12, win, logged, 0, blk2)
    assert np.array_equal(blk2, blk) and np.array_equal(logged, regs)


def test_each_document_goes_into_its_block():
    rng = np.random.default_rng(5)
    piece = _piece(rng, 10)
    win = WindowParams.of(hash_params(3), (2, 5), 16)
    bdoc = np.array([0, 0, 2, 2, 2, 1, 1, 2, 0, 1], np.int64)
    blk = np.zeros((3, 2, 4096), np.int8)
    regs = np.zeros((2, 1 << 16), np.int8)
    hashing.hll_update_windows(piece, 0, 10, win, regs, blk=blk, bdoc=bdoc)
    for b in range(3):
        for j in range(2):
            want = HLL(12)
            for d in np.flatnonzero(bdoc == b):
                want.update_batch(hashing.window_hashes(piece, int(d), int(d) + 1, win.one(j)))
            assert np.array_equal(blk[b, j], want.reg)
    with pytest.raises(ValueError, match="bdoc names blocks outside"):
        hashing.hll_update_windows(piece, 0, 10, win, regs, blk=blk, bdoc=bdoc + 1)
    with pytest.raises(ValueError, match="blk must have shape"):
        hashing.hll_update_windows(piece, 0, 10, win, regs, blk=np.zeros((2, 100), np.int8))


# ----------------------------------------------------------------------------- rules


def reference_blocks(lengths, block_tokens: int, per_shard: int):
    """The rules of the module docstring on one shard's document lengths, in plain Python:
    ``[(first document, end document, tokens)]``."""
    done, size, start, tokens = [], block_tokens, 0, 0
    for d, n in enumerate(lengths):
        tokens += int(n)
        if tokens >= size:
            done.append([start, d + 1, tokens])
            start, tokens = d + 1, 0
            if len(done) == 2 * per_shard:
                done = [[a[0], b[1], a[2] + b[2]] for a, b in zip(done[0::2], done[1::2])]
                size *= 2
    if tokens > 0:
        done.append([start, len(lengths), tokens])
    elif done:
        done[-1][1] = len(lengths)
    return [tuple(b) for b in done]


def _ids_corpus(root, shards):
    """Parquet shards of token ids (``ids`` lists); ``shards``: per shard, document lengths."""
    rng = np.random.default_rng(11)
    root.mkdir(exist_ok=True)
    for i, lengths in enumerate(shards):
        docs = [rng.integers(0, 300, int(n)).tolist() for n in lengths]
        table = pa.table({"ids": pa.array(docs, pa.list_(pa.int64()))})
        pq.write_table(table, root / f"s{i:03d}.parquet", row_group_size=7)
    return root


IDS = dict(tokenizer="ids", tokens_column="ids", ns=(1, 2, 5), precision=14)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 200 tokens, 3 per shard (so a shard doubles B early), at most 12 per run."""
    monkeypatch.setattr(blocks_module, "BLOCK_TOKENS", 200)
    monkeypatch.setattr(blocks_module, "BLOCKS_PER_SHARD", 3)
    monkeypatch.setattr(blocks_module, "MAX_BLOCKS", 12)


def _lengths(seed: int, ndocs: int):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 120, ndocs)
    lengths[rng.random(ndocs) < 0.15] = 0  # empty documents
    lengths[rng.random(ndocs) < 0.05] = 700  # documents longer than a block and a chunk
    return lengths


def test_blocks_follow_the_rules_on_known_documents(tmp_path, small_blocks):
    shards = [_lengths(1, 120), [0, 0, 5, 0], [0, 0], [300, 0, 0], _lengths(2, 40),
              _lengths(3, 9)]  # fmt: skip
    corpus = _ids_corpus(tmp_path / "c", shards)
    cfg = CountConfig(**IDS, chunk_bytes=300)  # documents cut across chunks
    r = count_corpus(corpus, cfg)
    b = r.blocks
    ref = [[(i, *blk) for blk in reference_blocks(ls, 200, 3)] for i, ls in enumerate(shards)]
    assert ref[0][0][3] >= 4 * 200  # the first shard doubled B twice or more
    per_shard = [len(x) for x in ref]
    rounds = blocks_module._rounds(np.array([c for c in per_shard if c]), 12)
    assert rounds >= 1  # more than 12 blocks: the run coarsens
    want = []
    for blocks_of_shard in ref:  # the run's coarsening: groups of 2**rounds per shard
        for g in range(0, len(blocks_of_shard), 1 << rounds):
            group = blocks_of_shard[g : g + (1 << rounds)]
            want.append((group[0][0], group[0][1], group[-1][2], sum(x[3] for x in group)))
    assert len(b) == len(want) <= 12
    assert b.shard.tolist() == [w[0] for w in want]
    assert b.tokens.tolist() == [w[3] for w in want]
    assert b.documents.tolist() == [w[2] - w[1] for w in want]
    # the registers of each block: a count of its documents alone at precision pb
    texts = {i: pq.read_table(corpus / f"s{i:03d}.parquet") for i in range(len(shards))}
    for k, (shard, d0, d1, _) in enumerate(want):
        pb12 = dataclasses.replace(cfg, precision=12)
        alone = count_corpus(texts[shard].slice(d0, d1 - d0), pb12)
        for j in range(3):
            assert np.array_equal(b.regs[j, k], alone.sketches.hll[j].reg)
    # sums: every token; every document but those of the shard without tokens
    assert b.tokens.sum() == r.tokens
    assert b.documents.sum() == r.documents - 2
    # shard by shard in this process (the patched sizes hold): the same blocks
    assert count_batch(corpus, cfg).blocks == b
    assert count_batch(corpus, cfg, state=tmp_path / "st").blocks == b


@pytest.mark.parametrize("ns", [(1, 2, 4, 8, 16, 32, 64), (1,)])
def test_union_of_blocks_is_the_main_registers_folded(ns):
    r = count_corpus(AUSTEN[:2], CountConfig(ns=ns))
    b = r.blocks
    pb = b.precision
    assert pb == 12 and len(b) > 4
    for j, h in enumerate(r.sketches.hll):
        folded = h.reg.reshape(-1, 1 << pb).max(axis=0)  # registers sharing the low pb bits
        assert np.array_equal(b.union()[j], folded)
        assert folded.max() > 0
    assert b.tokens.sum() == r.tokens and b.documents.sum() == r.documents
    last = np.append(b.shard[1:] != b.shard[:-1], True)  # each shard's last block
    assert b.tokens[~last].min() >= BLOCK_TOKENS and last.sum() == 2
    assert b.shard.tolist() == sorted(b.shard.tolist()) and set(b.shard.tolist()) == {0, 1}


def test_block_ends_are_document_ends():
    r = count_corpus(AUSTEN[:3], CountConfig(ns=(1, 4)))
    b = r.blocks
    for i, path in enumerate(AUSTEN[:3]):
        mine = b.tokens[b.shard == i]
        tokens = np.cumsum(mine)
        docs = np.cumsum(b.documents[b.shard == i])
        # the tokens of the first docs[k] documents of the shard are tokens[k]
        table = pq.read_table(path)
        for k in range(len(mine)):
            head = count_corpus(pa.table({"text": table.column("text").slice(0, int(docs[k]))}),
                                CountConfig(ns=(1,), num_perm=0, blocks=False))  # fmt: skip
            assert head.tokens == tokens[k]
        assert docs[-1] == table.num_rows


# ----------------------------------------------------------------------------- runs alike


@pytest.fixture
def corpus(tmp_path):
    """Five of the sample novels cut into three shards each (the last one a few rows)."""
    d = tmp_path / "corpus"
    d.mkdir()
    for i, f in enumerate(AUSTEN[:5]):
        t = pq.read_table(f)
        cuts = [0, t.num_rows // 2, t.num_rows - 3, t.num_rows]
        for k, (lo, hi) in enumerate(zip(cuts, cuts[1:])):
            pq.write_table(t.slice(lo, hi - lo), d / f"{i:02d}{'abc'[k]}.parquet")
    return d


CFG = CountConfig(ns=(1, 2, 8))


def test_every_way_of_counting_gives_the_same_blocks(corpus, tmp_path):
    one = count_corpus(corpus, CFG).blocks
    assert len(one) > 12 and one.nbytes == one.regs.nbytes + 20 * len(one)
    assert count_batch(corpus, CFG, jobs=2).blocks == one
    state = tmp_path / "st"
    assert count_batch(corpus, CFG, state=state).blocks == one  # fresh
    assert count_batch(corpus, CFG, state=state).blocks == one  # every shard reused
    files = sorted((state / "shards").glob("*.npz"))
    for f in files[3:7]:  # a killed run: some shards were never saved
        f.unlink()
    assert count_batch(corpus, CFG, state=state, jobs=2).blocks == one  # resumed
    assert count_corpus(corpus, dataclasses.replace(CFG, exact=True)).blocks == one


def test_incremental_run_gives_a_fresh_run_s_blocks(corpus, tmp_path):
    later = tmp_path / "later"
    later.mkdir()
    for name in ("03c.parquet", "04a.parquet", "04b.parquet", "04c.parquet"):
        shutil.move(corpus / name, later / name)
    first = count_batch(corpus, CFG, state=tmp_path / "st")
    assert first.blocks == count_corpus(corpus, CFG).blocks
    for f in later.iterdir():
        shutil.move(f, corpus / f.name)
    grown = count_batch(corpus, CFG, state=tmp_path / "st")
    assert grown.blocks == count_corpus(corpus, CFG).blocks
    assert len(grown.blocks) > len(first.blocks)


def test_dask_gives_the_same_blocks(corpus):
    pytest.importorskip("distributed")
    dask = count_batch(corpus, CFG, engine="dask", jobs=2)
    assert dask.blocks == count_corpus(corpus, CFG).blocks


def test_coarsening_of_a_run_with_many_shards(tmp_path, small_blocks):
    shards = [_lengths(s, 30) for s in range(9)]
    corpus = _ids_corpus(tmp_path / "c", shards)
    cfg = CountConfig(**IDS)
    r = count_corpus(corpus, cfg)
    # the same blocks uncoarsened: every shard alone (a shard has at most 2 * 3 - 1 blocks)
    alone = [count_corpus(corpus / f"s{i:03d}.parquet", cfg).blocks for i in range(9)]
    whole = BlockSketches.concat(alone, offsets=range(9))
    assert len(whole) > 12 and r.blocks == whole.coarsen(12) and len(r.blocks) <= 12
    assert r.blocks.rounds(12) == 0 and whole.rounds(12) >= 1
    assert count_batch(corpus, cfg).blocks == r.blocks


# ----------------------------------------------------------------------------- data type


def _naive_coarsen(shard, items, max_blocks):
    """The coarsening rule on lists, one round at a time."""
    groups: dict[int, list] = {}
    for s, it in zip(shard, items):
        groups.setdefault(s, []).append(it)
    while sum(map(len, groups.values())) > max_blocks and any(len(g) > 1 for g in groups.values()):
        groups = {s: [g[i : i + 2] for i in range(0, len(g), 2)] for s, g in groups.items()}
        groups = {s: [sum(x, []) for x in g] for s, g in groups.items()}
    return [(s, x) for s in sorted(groups) for x in groups[s]]


def _synthetic(rng, counts, m=16):
    nb = int(sum(counts))
    shard = np.repeat(np.arange(len(counts)), counts).astype(np.int32)
    regs = rng.integers(0, 20, (2, nb, m)).astype(np.int8)
    tokens = rng.integers(1, 100, nb).astype(np.int64)
    return BlockSketches((1, 2), 4, tokens, tokens % 7, shard, regs)


@pytest.mark.parametrize("seed", range(6))
def test_coarsen_and_block_run_follow_the_rule(seed):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 40, rng.integers(1, 30))
    b = _synthetic(rng, counts)
    max_blocks = int(rng.integers(1, 60))
    got = b.coarsen(max_blocks)
    naive = _naive_coarsen(b.shard.tolist(), [[k] for k in range(len(b))], max_blocks)
    assert got.shard.tolist() == [s for s, _ in naive]
    assert got.tokens.tolist() == [int(b.tokens[g].sum()) for _, g in naive]
    assert got.documents.tolist() == [int(b.documents[g].sum()) for _, g in naive]
    for k, (_, g) in enumerate(naive):
        assert np.array_equal(got.regs[:, k], b.regs[:, g].max(axis=1))
    assert len(got) <= max(max_blocks, int((counts > 0).sum()))
    # shard after shard, coarsened as they come: the same
    run = BlockRun((1, 2), 4, max_blocks)
    for s in range(len(counts)):
        keep = b.shard == s
        run.add(BlockSketches((1, 2), 4, b.tokens[keep], b.documents[keep], b.shard[keep],
                              b.regs[:, keep]))  # fmt: skip
    assert run.result() == got


def test_a_long_shard_doubles_its_block_size():
    builder = BlockBuilder((1,), 4, block_tokens=10, per_shard=4)
    assert builder.regs.nbytes == 2 * 4 * 1 * 16
    lengths = np.array([3, 9, 0, 12, 4, 4, 4] * 20)
    ends = np.cumsum(lengths)
    bdoc = np.zeros(len(lengths), np.int64)
    a = 0
    while a < len(lengths):
        b = builder.assign(ends, len(lengths), a, len(lengths), bdoc)
        builder.regs[bdoc[a:b], 0, 0] = 1  # as the kernels would
        builder.settle()
        a = b
    out = builder.finish(7)
    want = reference_blocks(lengths, 10, 4)
    assert out.tokens.tolist() == [t for _, _, t in want]
    assert out.documents.tolist() == [e - s for s, e, _ in want]
    assert 4 <= len(out) < 8 and builder.size == 10 and set(out.shard.tolist()) == {7}
    assert (out.regs[0, :, 0] == 1).all() and not out.regs[0, :, 1:].any()


def test_sketch_file_round_trip_and_old_files(tmp_path):
    r = count_corpus(AUSTEN[0], CountConfig(ns=(1, 3)))
    path = tmp_path / "s.npz"
    r.sketches.save(path)
    back = load_sketches(path)
    assert back.blocks == r.blocks and back.blocks.precision == 12
    old = dataclasses.replace(r.sketches, blocks=None)
    old.save(tmp_path / "old.npz")
    assert load_sketches(tmp_path / "old.npz").blocks is None
    with np.load(path) as z, np.load(tmp_path / "old.npz") as zo:
        added = {"block_tokens", "block_documents", "block_shard", "block_regs", "block_raw"}
        assert set(z.files) - set(zo.files) == added
        for name in zo.files:  # every other array as before (the header gains 'blocks')
            if name != "header":
                assert np.array_equal(z[name], zo[name])
        header, header_old = json.loads(str(z["header"])), json.loads(str(zo["header"]))
        assert header.pop("blocks") == {"precision": 12} and header == header_old


def test_merge_concatenates_and_coarsens(tmp_path, small_blocks, monkeypatch):
    corpus_a = _ids_corpus(tmp_path / "a", [_lengths(s, 30) for s in range(3)])
    corpus_b = _ids_corpus(tmp_path / "b", [_lengths(s, 30) for s in range(3, 7)])
    cfg = CountConfig(**IDS)
    ra, rb = count_corpus(corpus_a, cfg), count_corpus(corpus_b, cfg)
    write_outputs(ra, tmp_path / "oa")
    write_outputs(rb, tmp_path / "ob")
    want = count_corpus([corpus_a, corpus_b], cfg).blocks  # a count of the union
    for order in (("ob", "oa"), ("oa", "ob")):
        m = seqcount.merge([tmp_path / o for o in order])
        assert m.blocks == want and len(want) <= 12
    assert m.sketches.shard_paths == sorted(m.sketches.shard_paths)


def test_no_blocks(tmp_path, corpus):
    r = CliRunner().invoke(cli, ["count", str(corpus), "--out", str(tmp_path / "o"),
                                 "--no-blocks", "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    run = seqcount.open_run(tmp_path / "o")
    assert run.sketches.blocks is None and run.summary["options"]["blocks"] is False
    (tmp_path / "c.toml").write_text("[count]\nno-blocks = true\n")
    r = CliRunner().invoke(cli, ["count", str(corpus), "--out", str(tmp_path / "o2"),
                                 "--config", str(tmp_path / "c.toml"), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert seqcount.open_run(tmp_path / "o2").sketches.blocks is None
    r = CliRunner().invoke(cli, ["count", str(corpus), "--out", str(tmp_path / "o3"), "-q"])
    run = seqcount.open_run(tmp_path / "o3")
    assert len(run.sketches.blocks) > 0 and "blocks" not in run.summary["options"]
    # a merge with an input without blocks has none
    assert seqcount.merge([tmp_path / "o"]).blocks is None


def test_pairwise_group_maxima_equal_reduceat():
    """The coarsening's round-by-round maxima equal one reduceat over the groups (the slow way)."""
    from seqcount.sketches.blocks import _group_starts, _max_groups

    rng = np.random.default_rng(0)
    for _ in range(50):
        shard = np.sort(rng.integers(0, 6, size=int(rng.integers(1, 60)))).astype(np.int32)
        regs = rng.integers(0, 30, size=(2, shard.shape[0], 16)).astype(np.int8)
        for r in range(1, 5):
            want = np.maximum.reduceat(regs, _group_starts(shard, r), axis=1)
            assert np.array_equal(_max_groups(regs, shard, r), want)


def test_merge_gives_the_blocks_of_a_count_of_the_union(tmp_path, small_blocks):
    """An input coarsened on its own (8 shards, more than MAX_BLOCKS raw blocks) and one that
    was not (2 shards): the merge coarsens each by the rounds the union needs beyond its own,
    so its blocks are bit for bit those of counting both corpora at once."""
    corpus_a = _ids_corpus(tmp_path / "a", [_lengths(s, 30) for s in range(8)])
    corpus_b = _ids_corpus(tmp_path / "b", [_lengths(s, 30) for s in range(8, 10)])
    cfg = CountConfig(**IDS)
    ra, rb = count_corpus(corpus_a, cfg), count_corpus(corpus_b, cfg)
    from seqcount.sketches.blocks import applied_rounds

    assert applied_rounds(ra.blocks) >= 1 and applied_rounds(rb.blocks) == 0
    write_outputs(ra, tmp_path / "oa")
    write_outputs(rb, tmp_path / "ob")
    union = count_corpus([corpus_a, corpus_b], cfg)
    m = seqcount.merge([tmp_path / "ob", tmp_path / "oa"])
    assert m.blocks == union.blocks
    assert np.array_equal(m.blocks.raw, union.blocks.raw)
    # the old way (inputs without raw counts) would differ here
    old = BlockSketches.concat(
        [dataclasses.replace(ra.blocks, raw=None), dataclasses.replace(rb.blocks, raw=None)],
        offsets=[0, 8],
    ).coarsen()
    assert not old == union.blocks


def _nibble_oracle(regs: np.ndarray):
    """Packed bytes and the registers outside 0..15, by plain numpy on the flat registers."""
    u = regs.view(np.uint8).reshape(regs.shape[0], -1)
    nibbles = (u[:, 0::2] & 15) | ((u[:, 1::2] & 15) << 4)
    where = np.flatnonzero(u.reshape(-1) > 15)
    return nibbles.astype(np.uint8), where, regs.reshape(-1)[where]


@pytest.mark.parametrize("seed", range(4))
def test_nibble_kernels_against_numpy(seed):
    from seqcount import _kernels as kernels

    rng = np.random.default_rng(seed)
    nb, m = int(rng.integers(1, 40)), 2 * int(rng.integers(1, 40))
    top = [16, 17, 60, 128][seed]  # none, few, many registers of 16 or more
    regs = rng.integers(-3 if seed == 3 else 0, top, (nb, m)).astype(np.int8)
    wide = np.zeros((nb, 3, m), dtype=np.int8)  # and a strided view, as the builder's
    wide[:, 1] = regs
    nibbles, where, values = _nibble_oracle(regs)
    for src in (regs, wide[:, 1]):
        out = np.zeros((nb, m // 2), dtype=np.uint8)
        flags = np.zeros(nb, dtype=np.uint8)
        flagged = kernels.pack_nibbles(src, out, flags)
        assert np.array_equal(out, nibbles)
        rows_with = np.unique(where // m)
        assert (
            flagged == rows_with.shape[0] and np.flatnonzero(flags).tolist() == rows_with.tolist()
        )
        w, v = kernels.nibble_exceptions(src, flags)
        assert w.tolist() == where.tolist() and v.tolist() == values.tolist()
        back = np.full((nb, m), 99, dtype=np.int8)
        kernels.unpack_nibbles(out, w, v, back)
        assert np.array_equal(back, regs)


@pytest.mark.parametrize("seed", range(5))
def test_packed_blocks_merge_and_unpack_as_the_plain_ones(seed):
    from seqcount.sketches.blocks import PackedBlocks, PackedRegisters

    rng = np.random.default_rng(seed)
    b = _synthetic(rng, rng.integers(1, 12, int(rng.integers(1, 4))))  # one shard or more
    b.regs[0, 0, 0] = 70  # a register above every nibble
    packed = PackedBlocks.of(b)
    low = np.minimum(b.regs, 15)  # registers as small as real blocks' nearly all are: half
    assert 2 * PackedRegisters(low).nbytes == low.nbytes
    assert np.array_equal(packed.regs.unpack(), b.regs)
    for rounds in range(6):
        want, got = b.merged(rounds), packed.merged(rounds)
        assert got.tokens.tolist() == want.tokens.tolist()
        assert got.documents.tolist() == want.documents.tolist()
        assert got.shard.tolist() == want.shard.tolist()
        assert np.array_equal(got.regs.unpack(), want.regs)
    with pytest.raises(ValueError, match="even"):
        PackedRegisters(np.zeros((1, 2, 3), dtype=np.int8))
