"""seqcount.synth: seeded synthetic corpora, checked with seqcount's own counting."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT

from seqcount import synth
from seqcount.api import count_corpus
from seqcount.config import CountConfig
from seqcount.synth import sampling
from seqcount.tokenize import words

TOKENS = 50_000
SMALL = dict(shards=3, seed=7, doc_tokens=300, dup_rate=0.2)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """The same 50k-token corpus as text and as ids (module-scoped: generated once)."""
    base = tmp_path_factory.mktemp("synth")
    return {kind: synth.generate(base / kind, TOKENS, kind=kind, **SMALL) for kind in synth.KINDS}


def _column(paths, kind):
    """All documents of the shards, in order (strings, or lists of ids)."""
    return [x for p in paths for x in pq.read_table(p).column(0).to_pylist()]


def _meta(path) -> dict:
    return json.loads(pq.read_schema(path).metadata[synth.METADATA_KEY])


# --------------------------------------------------------------------------- layout, determinism


def test_layout_and_schema(corpora):
    for kind, paths in corpora.items():
        assert [p.name for p in paths] == [f"part-{k:05d}.parquet" for k in range(3)]
        assert paths == sorted(paths)
        schema = pq.read_schema(paths[0])
        assert schema.names == [synth.TEXT_COLUMN if kind == "text" else synth.IDS_COLUMN]
        typ = schema.field(0).type
        if kind == "text":
            assert pa.types.is_string(typ)
        else:
            assert pa.types.is_list(typ) and pa.types.is_int32(typ.value_type)
        # 50,000 split evenly: 16,667 + 16,667 + 16,666
        assert [_meta(p)["shard_tokens"] for p in paths] == [16_667, 16_667, 16_666]
    assert not list(paths[0].parent.glob(".*.tmp"))


@pytest.mark.parametrize("kind", synth.KINDS)
def test_same_arguments_same_bytes(tmp_path, kind):
    a = synth.generate(tmp_path / "a", 20_000, kind=kind, **SMALL)
    b = synth.generate(tmp_path / "b", 20_000, kind=kind, **SMALL)
    assert [p.name for p in a] == [p.name for p in b]
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))
    c = synth.generate(tmp_path / "c", 20_000, kind=kind, **dict(SMALL, seed=8))
    assert all(x.read_bytes() != z.read_bytes() for x, z in zip(a, c))
    # the data, not just the metadata, differs
    assert _column(a, kind) != _column(c, kind)


def test_known_values_do_not_drift(tmp_path):
    """Fixed arguments, fixed output: if this changes, corpora of earlier benchmark runs can no
    longer be reproduced (bump GENERATOR_VERSION when that is intended)."""
    (ids,) = synth.generate(tmp_path / "i", 12, shards=1, seed=0, kind="ids", doc_tokens=5)
    (text,) = synth.generate(tmp_path / "t", 12, shards=1, seed=0, kind="text", doc_tokens=5)
    assert pq.read_table(ids).column(0).to_pylist() == [
        [32382],
        [5308, 25677],
        [5308, 5308, 5308, 13001, 36362, 39244, 18710, 20725, 30829],
    ]
    assert pq.read_table(text).column(0).to_pylist() == [
        "udurvy",
        "he utc",
        "he he he updb ogndu nbqz cstpepvd hdvszp xkvo",
    ]


# --------------------------------------------------------------------------- counts by seqcount


def test_exact_token_counts_by_seqcount(corpora):
    ns = (1, 2, 4, 8)
    results = {
        "text": count_corpus(
            str(corpora["text"][0].parent), CountConfig(ns=ns, exact=True, num_perm=0)
        ),
        "ids": count_corpus(
            str(corpora["ids"][0].parent),
            CountConfig(ns=ns, exact=True, num_perm=0, tokenizer="ids", tokens_column="ids"),
        ),
    }
    for kind, r in results.items():
        assert r.tokens == TOKENS, kind
        assert [s.tokens for s in r.shards] == [16_667, 16_667, 16_666], kind
        assert r.documents == sum(_meta(p)["documents"] for p in corpora[kind])
        assert r.empty_documents == 0 and r.invalid_utf8 == 0
    # same seed: the same token sequence, so the same distinct-window counts
    for n in ns:
        assert results["text"].final[n].unique_exact == results["ids"].final[n].unique_exact
    u = {n: results["ids"].final[n].unique_exact for n in ns}
    assert u[1] < u[2] < u[4]  # Zipf head repeats; longer windows are more distinct
    assert u[1] < TOKENS // 4


def test_count_is_exact_for_odd_sizes(tmp_path):
    for tokens, shards in ((1, 1), (7, 7), (1_001, 4), (2e3, 3)):  # 2e3: floats that are whole
        out = tmp_path / f"t{tokens}"
        synth.generate(out, tokens, shards=shards, seed=3, doc_tokens=3)
        r = count_corpus(str(out), CountConfig(ns=(1,), num_perm=0))
        assert r.tokens == tokens
        assert len(r.shards) == shards


# --------------------------------------------------------------------------- the text itself


def test_text_is_single_spaced_vocabulary_words(corpora):
    docs = _column(corpora["text"], "text")
    vocab = synth.vocabulary(50_000, SMALL["seed"])
    assert len(set(vocab)) == len(vocab) == 50_000
    assert all(re.fullmatch(r"[a-z]{1,20}", w) for w in vocab)
    vset = set(vocab)
    pattern = re.compile(r"[a-z]+( [a-z]+)*")
    for d in docs:
        assert pattern.fullmatch(d)
        assert set(d.split(" ")) <= vset
    for d in docs[:20]:  # seqcount's own tokenizer sees exactly these words
        assert words(d) == d.split(" ")


def test_text_and_ids_are_the_same_tokens(corpora):
    """Word w in the text corpus is always id f(w) at the same place in the ids corpus."""
    docs = _column(corpora["text"], "text")
    ids = _column(corpora["ids"], "ids")
    assert len(docs) == len(ids)
    to_id, to_word = {}, {}
    for d, x in zip(docs, ids):
        ws = d.split(" ")
        assert len(ws) == len(x)
        for w, i in zip(ws, x):
            assert to_id.setdefault(w, i) == i
            assert to_word.setdefault(i, w) == w
    freq = Counter(w for d in docs for w in d.split(" "))
    vocab = synth.vocabulary(50_000, SMALL["seed"])
    top = [w for w, _ in freq.most_common(3)]
    assert top[0] == vocab[0]  # rank 1 is the most frequent word
    assert set(top) <= set(vocab[:10])


# --------------------------------------------------------------------------- distributions


def test_vocabulary_bound(tmp_path):
    for kind in synth.KINDS:
        paths = synth.generate(tmp_path / kind, 30_000, kind=kind, vocab=100, seed=1)
        toks = [t for d in _column(paths, kind) for t in (d.split(" ") if kind == "text" else d)]
        assert len(toks) == 30_000
        if kind == "ids":
            assert min(toks) >= 0 and max(toks) < 100
        else:
            assert set(toks) <= set(synth.vocabulary(100, 1))
        assert len(set(toks)) == 100  # 30k Zipf draws reach every one of 100 types


def test_zipf_frequencies(tmp_path):
    v, s, n = 50_000, 1.1, 200_000
    paths = synth.generate(tmp_path, n, kind="ids", vocab=v, zipf=s, seed=2)
    counts = np.array(sorted(Counter(t for d in _column(paths, "ids") for t in d).values()))[::-1]
    p = 1.0 / np.arange(1, v + 1) ** s
    p /= p.sum()
    for rank in (0, 1, 9):
        expect = n * p[rank]
        assert abs(counts[rank] - expect) < 5 * np.sqrt(expect), rank
    # sub-linear growth of distinct unigrams: far fewer types than tokens
    assert len(counts) < n / 5
    uniform = synth.generate(tmp_path / "u", n, kind="ids", vocab=1_000, zipf=0.0, seed=2)
    c = Counter(t for d in _column(uniform, "ids") for t in d)
    assert len(c) == 1_000 and max(c.values()) < 2 * n / 1_000


def test_document_lengths(tmp_path):
    paths = synth.generate(tmp_path / "a", 200_000, shards=2, kind="ids", doc_tokens=400, seed=4)
    lens = np.array([len(d) for d in _column(paths, "ids")])
    assert lens.min() >= 1
    assert 0.8 * 400 < lens.mean() < 1.2 * 400
    assert lens.std() > 200  # log-normal, sigma 1: varied lengths
    paths = synth.generate(tmp_path / "b", 10_050, kind="ids", doc_tokens=100, doc_sigma=0)
    lens = [len(d) for d in _column(paths, "ids")]
    assert lens == [100] * 100 + [50]


def test_dup_rate_makes_exact_copies(corpora, tmp_path):
    for kind, paths in corpora.items():
        docs = [d if kind == "text" else tuple(d) for d in _column(paths, kind)]
        copies = sum(_meta(p)["copies"] for p in paths)
        seen, dups = set(), 0
        for d in docs:
            dups += d in seen
            seen.add(d)
        assert dups == copies
        assert 0.1 < dups / len(docs) < 0.3  # dup_rate 0.2
    none = synth.generate(tmp_path, TOKENS, **dict(SMALL, dup_rate=0.0))
    docs = _column(none, "text")
    assert sum(_meta(p)["copies"] for p in none) == 0
    assert len(set(docs)) > 0.98 * len(docs)  # only chance repeats of very short documents


def test_cut_copy_becomes_fresh(tmp_path):
    """dup_rate 1: every document copies the first, but the last one, cut to fit the shard, is
    a fresh draw (a prefix of a copy is not an exact duplicate)."""
    (path,) = synth.generate(
        tmp_path, 25, shards=1, kind="ids", doc_tokens=10, doc_sigma=0, dup_rate=1.0, seed=9
    )
    docs = pq.read_table(path).column(0).to_pylist()
    assert [len(d) for d in docs] == [10, 10, 5]
    assert docs[1] == docs[0] and docs[2] != docs[0][:5]
    assert _meta(path)["copies"] == 1


def test_stale_shards_replaced(tmp_path):
    (tmp_path / "part-00009.parquet").write_bytes(b"old")
    (tmp_path / "keep.txt").write_text("x")
    paths = synth.generate(tmp_path, 1_000, shards=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "keep.txt",
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    assert len(paths) == 2


# --------------------------------------------------------------------------- internals


def _random_weights(v: int, seed: int) -> np.ndarray:
    """Random int64 weights summing to v * 2**32, some of them zero."""
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 3 << 32, v) * (rng.random(v) < 0.7)
    w[0] = 0
    w[0] = (v << 32) - int(w.sum()) if int(w.sum()) < (v << 32) else 0
    w = np.floor(w * ((v << 32) / max(int(w.sum()), 1))).astype(np.int64)
    w[0] += (v << 32) - int(w.sum())
    return w


@pytest.mark.parametrize(
    "weights",
    [
        sampling.zipf_weights(1, 1.1),
        sampling.zipf_weights(5, 0.0),
        sampling.zipf_weights(1_000, 1.1),
        sampling.zipf_weights(300, 4.0),
        np.array([4, 0, 0, 0], dtype=np.int64) << 32,
        np.array([1, 3, 0, 1, 1, 0], dtype=np.int64) << 32,
        np.array([5, 0, 0, 0, 1, 0], dtype=np.int64) << 32,
        _random_weights(1_000, 0),
        _random_weights(7, 1),
    ],
)
def test_alias_table_is_exact(weights):
    assert int(weights.sum()) == len(weights) << 32
    prob, alias = sampling.alias_table(weights)
    prob = prob.astype(np.int64)
    assert ((0 <= prob) & (prob <= 1 << 32)).all()
    got = prob.copy()
    np.add.at(got, alias, (1 << 32) - prob)
    assert np.array_equal(got, weights)


def test_alias_table_random_small():
    """Many small tables, with weights of exactly one column (2**32) mixed in: the sweep's
    prefix-sum construction must match the weights exactly."""
    rng = np.random.default_rng(5)
    c = 1 << 32
    for _ in range(500):
        v = int(rng.integers(1, 9))
        w = rng.multinomial(4 * v, np.ones(v) / v).astype(np.int64) * (c // 4)
        prob, alias = sampling.alias_table(w)
        prob = prob.astype(np.int64)
        got = prob.copy()
        np.add.at(got, alias, c - prob)
        assert np.array_equal(got, w), w // (c // 4)


def test_polynomial_exp_and_ln():
    x = np.concatenate([np.arange(1, 5_000, dtype=float), [2.0**31, 1e-5, 0.3, 123.456]])
    assert np.allclose(sampling.ln(x), np.log(x), rtol=1e-14, atol=1e-15)
    y = np.linspace(-60, 60, 10_001)
    assert np.allclose(sampling.exp(y), np.exp(y), rtol=1e-14, atol=0)


def test_parse_count():
    assert synth.parse_count("1e8") == 100_000_000
    assert synth.parse_count("2.5e6") == 2_500_000
    assert synth.parse_count("1,000,000") == synth.parse_count("1_000_000") == 1_000_000
    for bad in ("1.5", "abc", "-3", "inf", ""):
        with pytest.raises(ValueError):
            synth.parse_count(bad)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(tokens=0),
        dict(tokens=10, shards=11),
        dict(tokens=10, kind="words"),
        dict(tokens=10, vocab=0),
        dict(tokens=10, dup_rate=1.5),
        dict(tokens=10, zipf=-1),
        dict(tokens=10, tokens_typo=1),
    ],
)
def test_generate_rejects_bad_arguments(tmp_path, kwargs):
    with pytest.raises((ValueError, TypeError)):
        synth.generate(tmp_path, **kwargs)
    assert not list(tmp_path.glob("*.parquet"))


# --------------------------------------------------------------------------- command line


def test_cli_writes_and_reports(tmp_path, capsys):
    assert synth.main([str(tmp_path), "--tokens", "2e3", "--shards", "2", "--kind", "ids"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith(f"wrote 2 shard(s) to {tmp_path}: 2,000 tokens (ids)")
    assert sorted(p.name for p in tmp_path.glob("*.parquet")) == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--tokens", "1.5"], "argument --tokens: not a whole number"),
        (["--tokens", "100", "--dup-rate", "2"], "--dup-rate must be in [0, 1]"),
        (["--tokens", "10", "--shards", "11"], "--shards (11) must not exceed"),
        (["--tokens", "10", "--shards", "2", "--shard-tokens", "5"], "not allowed with"),
        (["--tokens", "10", "--compression", "nope"], "--compression: 'nope' is not"),
    ],
)
def test_cli_bad_arguments(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as e:
        synth.main([str(tmp_path / "out"), *args])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "out").exists()


def test_cli_subprocess_error_has_no_traceback(tmp_path):
    p = subprocess.run(
        [sys.executable, "-m", "seqcount.synth", str(tmp_path), "--tokens", "lots"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.startswith("python -m seqcount.synth: error: argument --tokens: not a")
    assert "Traceback" not in p.stderr and p.stderr.count("\n") == 1


def test_synth_is_a_leaf():
    """seqcount.synth imports only the standard library, numpy, pyarrow and its own modules,
    so the benchmarks and the tests can share it without pulling in the engine."""
    import ast

    allowed = set(sys.stdlib_module_names) | {"numpy", "pyarrow", "__future__"}
    bad = []
    for path in sorted((ROOT / "seqcount" / "synth").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            bad += [f"{path.name}: {n}" for n in names if n.split(".")[0] not in allowed]
    assert bad == []
