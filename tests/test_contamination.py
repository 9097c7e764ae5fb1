"""``seqcount contamination`` against exact set arithmetic: Python sets of token tuples."""

from __future__ import annotations

import csv
import json
import random

import numpy as np
import pytest
from click.testing import CliRunner

import seqcount.api as api
from seqcount.cli import cli
from seqcount.config import CountConfig
from seqcount.engine.contamination import BYTES_PER_WINDOW, TrainScanner
from seqcount.hashing import Piece, prefix_into, window_hashes
from seqcount.sketches import WindowTable, same_windows, verify_windows
from seqcount.tokenize import words

VOCAB = [f"w{i}" for i in range(12)] + ["é", "ß", ",", "."]


#: words only evaluation documents have
NEW = ["new1", "new2", "ñew3"]


def _doc(rng: random.Random, lo: int, hi: int, vocab=VOCAB) -> str:
    return " ".join(rng.choice(vocab) for _ in range(rng.randint(lo, hi)))


def _corpus(tmp_path, seed: int = 0):
    """Training shards and two evaluation files that share passages with them."""
    rng = random.Random(seed)
    train = [[_doc(rng, 0, 120) for _ in range(25)] for _ in range(3)]
    flat = [d for shard in train for d in shard]
    evals = []
    for _ in range(2):
        docs = []
        for _ in range(20):
            kind = rng.random()
            if kind < 0.3:  # copied from training
                docs.append(rng.choice(flat))
            elif kind < 0.6:  # a training passage inside new text
                src = words(rng.choice(flat))
                a = rng.randint(0, max(len(src) - 1, 0))
                docs.append(_doc(rng, 0, 10) + " " + " ".join(src[a : a + 30]))
            else:
                docs.append(_doc(rng, 0, 60, VOCAB + NEW))
        docs.append("")  # an empty document
        evals.append(docs)
    tdir = tmp_path / "train"
    tdir.mkdir()
    for i, shard in enumerate(train):
        (tdir / f"{i:02d}.jsonl").write_text("".join(json.dumps({"text": d}) + "\n" for d in shard))
    epaths = []
    for i, docs in enumerate(evals):
        p = tmp_path / f"eval{i}.jsonl"
        p.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs))
        epaths.append(str(p))
    return str(tdir), flat, epaths, evals


def _oracle(train_docs, eval_docs, n, tokens=words):
    """(windows, hits) per evaluation document, from Python sets of token tuples."""
    seen = set()
    for d in train_docs:
        t = tokens(d)
        seen.update(tuple(t[i : i + n]) for i in range(len(t) - n + 1))
    out = []
    for d in eval_docs:
        t = tokens(d)
        grams = [tuple(t[i : i + n]) for i in range(len(t) - n + 1)]
        out.append((len(grams), sum(g in seen for g in grams)))
    return out


@pytest.mark.parametrize("n", [1, 5, 13])
@pytest.mark.parametrize("chunk_bytes", [4 << 20, 37])  # 37: documents cut across chunks
def test_hits_per_document_match_python_sets(tmp_path, n, chunk_bytes):
    tdir, flat, epaths, evals = _corpus(tmp_path, seed=n)
    r = api.contamination(tdir, epaths, n=n, chunk_bytes=chunk_bytes)
    want = [wh for docs in evals for wh in _oracle(flat, docs, n)]
    assert list(zip(r.windows.tolist(), r.hits.tolist())) == want
    assert sum(h for _, h in want) > 0 and sum(w - h for w, h in want) > 0  # both kinds occur
    # rows in input order, each file's rows from 0
    assert [r.files[f] for f in r.doc_file] == [p for p, docs in zip(epaths, evals) for _ in docs]
    assert r.doc_row.tolist() == [i for docs in evals for i in range(len(docs))]


def test_bytes_tokenizer_matches_python_sets(tmp_path):
    tdir, flat, epaths, evals = _corpus(tmp_path, seed=3)
    r = api.contamination(tdir, epaths[:1], n=6, tokenizer="bytes", chunk_bytes=29)
    assert list(zip(r.windows.tolist(), r.hits.tolist())) == _oracle(
        flat, evals[0], 6, tokens=lambda d: list(d.encode("utf-8"))
    )


def test_jobs_and_verify_give_the_same_result(tmp_path):
    tdir, flat, epaths, evals = _corpus(tmp_path, seed=7)
    one = api.contamination(tdir, epaths, n=5, chunk_bytes=41)
    two = api.contamination(tdir, epaths, n=5, chunk_bytes=41, jobs=2)
    ver = api.contamination(tdir, epaths, n=5, chunk_bytes=41, verify=True)
    ver2 = api.contamination(tdir, epaths, n=5, chunk_bytes=41, verify=True, jobs=2)
    for other in (two, ver, ver2):
        assert other.hits.tolist() == one.hits.tolist()
        assert other.windows.tolist() == one.windows.tolist()
    assert ver.verify and ver.rejected == 0 and ver.eval_collisions == 0
    assert one.train["windows"] == two.train["windows"] == ver.train["windows"]
    assert one.train["tokens"] == sum(len(words(d)) for d in flat)


def test_verify_refuses_a_hash_match_with_other_tokens():
    """A window whose hash is a key but whose tokens differ from the key's window is not a hit."""
    ref_tokens = np.array([1, 2, 3, 4, 5, 6], dtype=np.uint64)
    ref_start = np.array([0, 3], dtype=np.int64)  # key 0: 1 2 3; key 1: 4 5 6
    tokens = np.array([1, 2, 3, 9, 5, 6], dtype=np.uint64)
    pos = np.array([0, 3], dtype=np.int64)
    key = np.array([0, 1], dtype=np.int64)  # the second claims key 1 but reads 9 5 6
    hit = np.zeros(2, dtype=np.uint8)
    bad = verify_windows(tokens, pos, key, 3, (ref_tokens, ref_start), hit)
    assert bad == 1 and hit.tolist() == [1, 0]


def test_same_windows_against_python():
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, 3, 400).astype(np.uint64)  # few values: many equal windows
    starts = rng.integers(0, 396, 300)
    refs = np.where(rng.random(300) < 0.2, starts, rng.integers(0, 396, 300))
    got = same_windows(tokens, starts, refs, 4)
    want = [list(tokens[a : a + 4]) == list(tokens[b : b + 4]) for a, b in zip(starts, refs)]
    assert got.tolist() == [int(x) for x in want]
    assert 0 < got.sum() < got.shape[0]
    with pytest.raises(ValueError, match="outside"):
        same_windows(tokens, np.array([398]), np.array([0]), 4)


def test_window_table_finds_its_keys_and_nothing_else():
    rng = np.random.default_rng(0)
    distinct = np.unique(rng.integers(0, 2**63, 5000, dtype=np.int64).astype(np.uint64))
    distinct = np.concatenate([distinct, np.zeros(1, np.uint64)])  # the hash 0 is kept aside
    stream = distinct[rng.integers(0, distinct.shape[0], 12000)]  # repeats, in any order
    t = WindowTable(stream)
    # keys numbered by first appearance: a dict filled in stream order
    number: dict[int, int] = {}
    for h in stream.tolist():
        number.setdefault(h, len(number))
    assert len(t) == len(number)
    assert t.inverse.tolist() == [number[h] for h in stream.tolist()]
    assert t.find(stream).tolist() == t.inverse.tolist()
    assert stream[t.first()].tolist() == list(number)
    others = np.setdiff1d(rng.integers(0, 2**63, 5000, dtype=np.int64).astype(np.uint64), stream)
    assert (t.find(others) == -1).all()
    back = WindowTable.from_arrays(t.to_arrays())
    assert back.find(stream).tolist() == t.inverse.tolist()


def _piece_of(docs: list[list[int]], base: int):
    """A :class:`Piece` of the token lists ``docs`` (prefix values as the kernels make them)."""
    tokens = np.array([t for d in docs for t in d], dtype=np.uint64)
    doc = np.concatenate([[0], np.cumsum([len(d) for d in docs])]).astype(np.int64)
    prefix = prefix_into(tokens, np.uint64(base), np.empty(tokens.shape[0] + 1, np.uint64))
    return Piece(prefix, doc)


@pytest.mark.parametrize("seed", range(4))
def test_probe_follows_runs_and_matches_python_sets(seed):
    """The lookup kernel (runs followed, batches cut early) against sets of token tuples, on
    documents that copy runs of the small set's windows, repeat them and change single tokens."""
    rng = random.Random(seed)
    n = rng.choice([1, 3, 8])
    small = [[rng.randrange(200) for _ in range(rng.randint(0, 80))] for _ in range(12)]
    small.append(small[0][5:40])  # repeated windows inside the small set
    large = []
    for _ in range(25):
        src = rng.choice(small)
        a = rng.randint(0, max(len(src) - 1, 0))
        d = [rng.randrange(40) for _ in range(rng.randint(0, 10))] + src[a : a + 30]
        for _ in range(rng.randint(0, 3)):  # a changed token inside a run
            if d:
                d[rng.randrange(len(d))] = rng.randrange(40)
        large.append(d + [rng.randrange(40) for _ in range(rng.randint(0, 10))])
    config = CountConfig(ns=(n,), num_perm=0, overlap="none")
    scanner = TrainScanner(config, WindowTable(np.zeros(1, np.uint64)))
    win, base = scanner.wins[0], scanner.params.base
    ps = _piece_of(small, base)
    t = WindowTable(window_hashes(ps, 0, len(small), win))
    pl = _piece_of(large, base)
    at = np.zeros(len(t.stream), dtype=np.uint8)
    t.probe(pl, 0, len(large), win, at)
    hit = t.key_hits(at)
    grams = [tuple(d[i : i + n]) for d in small for i in range(len(d) - n + 1)]
    seen = {tuple(d[i : i + n]) for d in large for i in range(len(d) - n + 1)}
    assert [bool(hit[k]) for k in t.inverse] == [g in seen for g in grams]
    assert all(grams[p] in seen for p in np.flatnonzero(at))  # positions flagged: found
    assert 0 < hit.sum() < len(t)
    pos, key = t.candidates(pl, 0, len(large), win)
    tokens = [t_ for d in large for t_ in d]
    found = [(tuple(tokens[p : p + n]), grams[t.first()[k]]) for p, k in zip(pos, key)]
    assert all(a == b for a, b in found)
    starts = [sum(map(len, large[:j])) + i for j, d in enumerate(large)
              for i in range(len(d) - n + 1)]  # fmt: skip
    want = [p for p in starts if tuple(tokens[p : p + n]) in set(grams)]
    assert pos.tolist() == want
    done = (np.arange(len(t)) % 2).astype(np.uint8)  # keys already confirmed: left out
    pos2, key2 = t.candidates(pl, 0, len(large), win, done)
    keep = done[key] == 0
    assert pos2.tolist() == pos[keep].tolist() and key2.tolist() == key[keep].tolist()


def test_files_csv_and_json(tmp_path):
    tdir, flat, epaths, evals = _corpus(tmp_path, seed=5)
    out = tmp_path / "out"
    r = api.contamination(tdir, epaths, n=5, out=out, threshold=0.5)
    want = [wh for docs in evals for wh in _oracle(flat, docs, 5)]
    with open(out / "contamination.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(int(x["windows"]), int(x["hits"])) for x in rows] == want
    for x, (w, h) in zip(rows, want):
        assert x["fraction"] == ("" if w == 0 else f"{h / w:.6f}")
    summary = json.loads((out / "contamination.json").read_text())
    assert summary["options"]["n"] == 5 and summary["options"]["hash"] == "poly61-v1"
    start = 0
    for s, docs in zip(summary["evals"], evals):
        mine = want[start : start + len(docs)]
        start += len(docs)
        scored = [(w, h) for w, h in mine if w]
        assert s["documents"] == len(docs)
        assert s["windows"] == sum(w for w, _ in mine)
        assert s["hits"] == sum(h for _, h in mine)
        assert s["contaminated_documents"] == sum(h >= 0.5 * w for w, h in scored)
        assert s["mean_fraction"] == pytest.approx(np.mean([h / w for w, h in scored]), abs=1e-6)
    assert summary["false_hits"]["random_hash"] < 1e-6
    assert r.outputs["csv"].endswith("contamination.csv")


def _run(*args):
    return CliRunner().invoke(cli, ["contamination", *args, "-q"])


def test_cli_writes_and_refuses_bad_input(tmp_path):
    tdir, _, epaths, _ = _corpus(tmp_path)
    ok = _run(tdir, "--eval", epaths[0], "--eval", epaths[1], "--n", "5", "--out",
              str(tmp_path / "o"))  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "o" / "contamination.csv").is_file()
    # the evaluation set is training input: an option conflict
    same = _run(tdir, "--eval", tdir + "/01.jsonl", "--out", str(tmp_path / "x"))
    assert same.exit_code == 2 and "is both a training shard" in same.output
    same = _run(epaths[0], "--eval", epaths[0], "--out", str(tmp_path / "x"))
    assert same.exit_code == 2 and "--eval" in same.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    for path, words_ in ((empty, "no documents"), (bad, "not a readable Parquet"),
                         (tmp_path / "none.jsonl", "no such file")):  # fmt: skip
        r = _run(tdir, "--eval", str(path), "--out", str(tmp_path / "x"))
        assert r.exit_code == 1 and words_ in r.output, r.output
        assert len(r.output.strip().splitlines()) == 1
    long_n = _run(tdir, "--eval", epaths[0], "--n", "100000", "--out", str(tmp_path / "x"))
    assert long_n.exit_code == 1 and "no windows" in long_n.output
    mem = _run(tdir, "--eval", epaths[0], "--max-memory", "1KiB", "--out", str(tmp_path / "x"))
    assert mem.exit_code == 1 and f"{BYTES_PER_WINDOW} bytes each" in mem.output
    assert _run(tdir, "--eval", epaths[0], "--threshold", "1.5").exit_code == 2
    assert _run(tdir, "--eval", epaths[0], "--max-memory", "lots").exit_code == 2
    assert not (tmp_path / "x").exists()


def test_cli_refuses_eval_directories_in_one_line(tmp_path):
    """An evaluation directory without a corpus file, the training directory itself (however
    spelled) and a corpus without the text column: one line each, naming the path."""
    tdir, _, _, _ = _corpus(tmp_path)
    (tmp_path / "nothing").mkdir()
    (tmp_path / "nothing" / "notes.md").write_text("not a corpus file")
    nocol = tmp_path / "nocol.jsonl"
    nocol.write_text(json.dumps({"body": "a b c d e f"}) + "\n")
    cases = [
        (str(tmp_path / "nothing"), 1, "no input shards found"),
        (tdir + "/", 2, "is also a training path"),
        (str(tmp_path / "train" / ".." / "train"), 2, "is also a training path"),
        (str(nocol), 1, "no field 'text'"),
    ]
    for path, code, words_ in cases:
        r = _run(tdir, "--eval", path, "--n", "3")
        assert r.exit_code == code and words_ in r.output, (path, r.output)
        assert len(r.output.strip().splitlines()) == 1
        assert path.rstrip("/") in r.output or path in r.output


def test_contamination_output_is_not_read_as_corpus(tmp_path):
    """A later count over the parent directory leaves the contamination output out."""
    tdir, _, epaths, _ = _corpus(tmp_path)
    api.contamination(tdir, epaths[0], n=5, out=tmp_path / "train" / "c-out", force=True)
    again = api.contamination(tdir, epaths[0], n=5)
    assert again.train["shards"] == 3
