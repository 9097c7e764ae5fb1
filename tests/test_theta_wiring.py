"""Theta sketches in count, compare, merge, shard similarity and saved runs, checked against
exact set arithmetic over the windows (Python sets of word n-grams) and the pure-Python hash
oracle."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import reference as ref
from click.testing import CliRunner
from conftest import DATA, write_parquet

from seqcount.analysis.overlap import shard_jaccard
from seqcount.analysis.theta import cardinality
from seqcount.api import compare, count_batch, count_corpus
from seqcount.cli import cli
from seqcount.config import CountConfig
from seqcount.errors import ConfigError
from seqcount.hashing import hash_params
from seqcount.run.files import write_outputs
from seqcount.sketches import ThetaSketch, load_sketches
from seqcount.tokenize import words

SHARD = DATA / "austen" / "05-persuasion.parquet"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def grams(docs: list[str], n: int) -> set[tuple[str, ...]]:
    """The exact set of n-token windows of ``docs`` (words tokens, within documents)."""
    out = set()
    for d in docs:
        w = words(d)
        out.update(tuple(w[i : i + n]) for i in range(len(w) - n + 1))
    return out


def window_values(docs: list[str], n: int, seed: int) -> set[int]:
    """The distinct theta values ``h >> 1`` (0 left out) of the oracle's window hashes."""
    params = hash_params(seed)
    values = ref.token_values("words", [d.encode("utf-8") for d in docs], params)
    return {h >> 1 for h in ref.all_window_hashes(values, params, n)} - {0}


def oracle_theta(docs: list[str], n: int, k: int, seed: int) -> ThetaSketch:
    """A theta sketch fed the pure-Python oracle's window hashes."""
    params = hash_params(seed)
    values = ref.token_values("words", [d.encode("utf-8") for d in docs], params)
    t = ThetaSketch(k, seed)
    t.update_batch(np.array(ref.all_window_hashes(values, params, n), dtype=np.uint64))
    return t


def random_docs(rng, count: int, vocab: int = 60, lo: int = 0, hi: int = 80) -> list[str]:
    names = [f"w{i}" for i in range(vocab)]
    return [" ".join(rng.choice(names, rng.integers(lo, hi))) for _ in range(count)]


def theta_config(**kw) -> CountConfig:
    """A configuration that keeps theta sketches (the default overlap sketch)."""
    return CountConfig(**{"overlap": "theta", **kw})


def test_config_checks_overlap_and_theta_k():
    for kw, field in (({"overlap": "hll"}, "overlap"), ({"theta_k": 1000}, "theta_k"),
                      ({"theta_k": 8}, "theta_k"), ({"theta_k": 2**27}, "theta_k")):  # fmt: skip
        with pytest.raises(ConfigError) as e:
            CountConfig(**kw)
        assert e.value.params == (field,)
    bad = ({"shard_theta_k": 1000}, {"shard_theta_k": 8}, {"theta_k": 64, "shard_theta_k": 128})
    for kw in bad:
        with pytest.raises(ConfigError) as e:
            CountConfig(**kw)
        assert e.value.params == ("shard_theta_k",)
    assert CountConfig().overlap == "theta" and CountConfig().minhash_perm == 0
    assert CountConfig(overlap="minhash").minhash_perm == 128
    # each shard's sketches: 2**8 values, or theta_k when that is smaller
    assert CountConfig().shard_k == 256 and CountConfig(theta_k=64).shard_k == 64
    assert CountConfig(shard_theta_k=1024).result_options()["shard_theta_k"] == 1024
    assert "overlap" not in CountConfig(overlap="minhash").result_options()
    assert CountConfig(overlap="theta", theta_k=64).result_options()["theta_k"] == 64


def test_whole_and_shard_sketches_are_those_of_their_windows(tmp_path):
    rng = np.random.default_rng(5)
    shards = [random_docs(rng, 30) for _ in range(3)]
    for i, docs in enumerate(shards):
        write_parquet(tmp_path / f"{i}.parquet", docs)
    cfg = theta_config(ns=(1, 3), theta_k=64, seed=7)
    r = count_corpus(tmp_path, cfg, threads=1)
    assert r.sketches.minhash is None
    for j, n in enumerate(cfg.ns):
        per = [oracle_theta(docs, n, 64, 7) for docs in shards]
        for i in range(3):
            assert r.sketches.shard_theta[i][j] == per[i]
        whole = oracle_theta([d for docs in shards for d in docs], n, 64, 7)
        assert r.sketches.theta_of(n) == whole
        if n == 1:  # 60 words: exact below k = 64
            assert r.sketches.theta_of(n).count() == len(grams(sum(shards, []), 1))


def test_plain_jobs_state_and_saved_runs_give_identical_theta_bytes(tmp_path):
    cfg = theta_config(ns=(2, 8), theta_k=256)
    corpus = DATA / "austen"
    plain = count_corpus(corpus, cfg).sketches
    jobs = count_batch(corpus, cfg, jobs=2).sketches
    state = count_batch(corpus, cfg, state=tmp_path / "st").sketches
    again = count_batch(corpus, cfg, state=tmp_path / "st").sketches  # every shard reused
    write_outputs(count_corpus(corpus, cfg), tmp_path / "out")
    saved = load_sketches(tmp_path / "out" / "sketches.npz")
    want = [t.to_bytes() for t in plain.theta]
    want_shards = [[t.to_bytes() for t in s] for s in plain.shard_theta]
    for other in (jobs, state, again, saved):
        assert [t.to_bytes() for t in other.theta] == want
        assert [[t.to_bytes() for t in s] for s in other.shard_theta] == want_shards
    assert len(want_shards) == 6


def test_sketch_file_versions(tmp_path):
    for overlap, version in (("theta", 2), ("minhash", 1), ("none", 1)):
        write_outputs(
            count_corpus(SHARD, CountConfig(ns=(4,), overlap=overlap)), tmp_path / overlap
        )
        with np.load(tmp_path / overlap / "sketches.npz") as z:
            assert json.loads(str(z["header"]))["version"] == version
        back = load_sketches(tmp_path / overlap / "sketches.npz")
        assert (back.theta is not None) == (overlap == "theta")
        assert (back.minhash is not None) == (overlap == "minhash")


def test_an_older_state_directory_is_counted_anew(tmp_path):
    cfg = theta_config(ns=(2,))
    first = count_batch(SHARD, cfg, state=tmp_path / "st")
    index = tmp_path / "st" / "state.json"
    data = json.loads(index.read_text())
    data["version"] = 2
    index.write_text(json.dumps(data))
    events = []
    again = count_batch(SHARD, cfg, state=tmp_path / "st", on_event=events.append)
    assert [t.to_bytes() for t in again.sketches.theta] == [
        t.to_bytes() for t in first.sketches.theta
    ]
    assert any("state version 2" in json.dumps(e) for e in events), events


def test_small_set_in_a_larger_one_within_the_reported_bounds(tmp_path):
    """A sample of B's documents plus some of its own, against B, in estimation mode."""
    rng = np.random.default_rng(11)
    big = random_docs(rng, 400, vocab=400, lo=20, hi=120)
    own = random_docs(np.random.default_rng(12), 20, vocab=400, lo=20, hi=120)
    small = list(rng.choice(big, 60, replace=False)) + own
    write_parquet(tmp_path / "b.parquet", big)
    write_parquet(tmp_path / "a.parquet", small)
    n = 2
    sa, sb = grams(small, n), grams(big, n)
    truth = {
        "containment_a_in_b": len(sa & sb) / len(sa),
        "containment_b_in_a": len(sa & sb) / len(sb),
        "jaccard": len(sa & sb) / len(sa | sb),
        "intersection": len(sa & sb),
        "union": len(sa | sb),
    }
    cfg = theta_config(ns=(n,), theta_k=512)
    out = compare(tmp_path / "a.parquet", tmp_path / "b.parquet", cfg)
    (r,) = out["results"]
    assert out["options"]["sketch"] == "theta" and out["options"]["theta_k"] == 512
    assert len(sb) > 4 * 512  # B is sampled: the estimates are not exact
    for key, want in truth.items():
        assert r[key + "_lower"] <= want <= r[key + "_upper"], (key, want, r)
        assert r[key + "_err"] > 0
    for key in ("containment_a_in_b_err", "containment_b_in_a_err", "union_err"):
        assert key in r


def test_documents_of_a_shard_are_wholly_contained_in_it(tmp_path):
    """The issue's case: 300 documents of a shard, compared with the shard, are contained in
    it with containment 1.0 (MinHash K = 128 said 0.80 +- 0.29)."""
    import pyarrow.parquet as pq

    chapters = pq.read_table(DATA / "austen").column("text").to_pylist()
    docs = [p for c in chapters for p in c.split("\n\n") if p.strip()]  # paragraphs
    assert len(docs) > 10_000
    write_parquet(tmp_path / "all.parquet", docs)
    write_parquet(tmp_path / "part.parquet", docs[5000:5300])
    out = compare(tmp_path / "part.parquet", tmp_path / "all.parquet", theta_config(ns=(8,)))
    (r,) = out["results"]
    assert r["containment_a_in_b"] == 1.0
    truth = len(grams(docs[5000:5300], 8)) / len(grams(docs, 8))
    assert r["containment_b_in_a_lower"] <= truth <= r["containment_b_in_a_upper"]


def test_compare_a_corpus_with_a_saved_theta_run_inherits_k(tmp_path):
    assert run("count", SHARD, "--n", "4", "--overlap", "theta", "--theta-k", "128", "--out",
               tmp_path / "o", "-q")  # fmt: skip
    r = run("compare", SHARD, tmp_path / "o", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["options"]["theta_k"] == 128
    assert out["results"][0]["containment_a_in_b"] == 1.0
    r = run("compare", SHARD, tmp_path / "o", "--overlap", "minhash")
    assert r.exit_code == 1 and "overlap" in r.stderr, r.output


def test_merge_unions_theta_sketches(tmp_path):
    a, b = (
        DATA / "austen" / "00-sensesensibility.parquet",
        DATA / "austen" / "01-prideprejudice.parquet",
    )
    cfg = theta_config(ns=(4,), theta_k=256)
    write_outputs(count_corpus(a, cfg), tmp_path / "a")
    write_outputs(count_corpus(b, cfg), tmp_path / "b")
    r = run("merge", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "m", "-q")
    assert r.exit_code == 0, r.output
    merged = load_sketches(tmp_path / "m" / "sketches.npz")
    both = count_corpus([a, b], cfg).sketches
    assert merged.theta[0] == both.theta[0]
    assert [s[0] for s in merged.shard_theta] == [s[0] for s in both.shard_theta]


def test_shard_similarity_uses_theta_jaccard(tmp_path):
    rng = np.random.default_rng(2)
    base = random_docs(rng, 40, vocab=30)
    shards = [base[:30], base[10:40], random_docs(rng, 30, vocab=30)]
    for i, docs in enumerate(shards):
        write_parquet(tmp_path / f"{i}.parquet", docs)
    r = count_corpus(tmp_path, theta_config(ns=(3,), shard_theta_k=1 << 14))
    m = shard_jaccard(r.sketches, 3)
    for i in range(3):
        for j in range(3):
            gi, gj = grams(shards[i], 3), grams(shards[j], 3)
            assert m[i, j] == pytest.approx(len(gi & gj) / len(gi | gj))  # exact below k


def test_shard_sketches_are_the_smallest_values_of_each_shard(tmp_path):
    """Each shard keeps its own sketch of shard_theta_k values, the whole input one of theta_k:
    in one pass both are fed at once, shard by shard (--state) the whole is the union of
    sketches of theta_k per shard, trimmed afterwards; both are the sets' bottom-k."""
    rng = np.random.default_rng(4)
    for i in range(4):
        write_parquet(tmp_path / f"{i}.parquet", random_docs(rng, 30, vocab=400, lo=20, hi=90))
    cfg = theta_config(ns=(1, 4), theta_k=512, shard_theta_k=32, seed=3)
    one = count_corpus(tmp_path, cfg).sketches
    by_shard = count_batch(tmp_path, cfg, state=tmp_path / "st").sketches
    assert one.theta == by_shard.theta and one.shard_theta == by_shard.shard_theta
    shards = sorted(tmp_path.glob("*.parquet"))
    for j, n in enumerate(cfg.ns):
        whole = set()
        for i, path in enumerate(shards):
            values = window_values(pq.read_table(path).column("text").to_pylist(), n, cfg.seed)
            whole |= values
            t = one.shard_theta[i][j]
            assert t.k == 32 and list(t.entries) == sorted(values)[:32]
            assert t.theta64 == sorted(values)[32]
        assert list(one.theta[j].entries) == sorted(whole)[:512]


def test_datasketches_reads_a_saved_runs_theta(tmp_path):
    ds = pytest.importorskip("datasketches")
    cfg = theta_config(ns=(1, 8), theta_k=1024, seed=5)
    write_outputs(count_corpus(SHARD, cfg), tmp_path / "o")
    back = load_sketches(tmp_path / "o" / "sketches.npz")
    for t in back.theta:
        d = ds.compact_theta_sketch.deserialize(t.to_bytes(), seed=5)
        assert d.get_estimate() == t.count()
        assert d.num_retained == t.num_retained and d.theta64 == t.theta64
        assert d.get_lower_bound(2) == pytest.approx(cardinality(t).lower)
    assert back.theta[1].is_estimation_mode()
    both = ds.theta_intersection(seed=5)
    both.update(ds.compact_theta_sketch.deserialize(back.theta[1].to_bytes(), seed=5))
    assert both.get_result().get_estimate() == back.theta[1].count()
