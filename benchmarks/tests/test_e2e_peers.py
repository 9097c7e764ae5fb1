"""The end-to-end peers benchmark: its corpus, its queries (against a plain-Python count of the
same words and 8-grams) and its tables; the stage table of docs/performance.md."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level folder of the project, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import e2e_peers, multilingual, peer_queries, performance  # noqa: E402

WORDS = re.compile(r"\w+|[^\w\s]")  # seqcount's words tokenizer, in Python's re


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[list[str], list[list[str]]]:
    import pyarrow.parquet as pq

    out = tmp_path_factory.mktemp("ml") / "corpus"
    manifest = multilingual.generate(out, 12_000, seed=3)
    shards = sorted(str(p) for p in out.glob("*.parquet"))
    assert [Path(s).name for s in shards] == [s["file"] for s in manifest["shards"]]
    docs = [t for s in shards for t in pq.read_table(s).column("text").to_pylist()]
    return shards, docs, manifest


def test_corpus_token_count_scripts_and_seed(small, tmp_path):
    shards, docs, manifest = small
    assert len(shards) == multilingual.SHARDS
    assert sum(len(WORDS.findall(d)) for d in docs) == manifest["tokens"] >= 12_000
    text = "".join(docs)
    for lo, hi in ((0x430, 0x44F), (0x3B1, 0x3C9), (0x4E00, 0x9FFF), (0x627, 0x64A), (0xE0, 0xFF)):
        assert any(lo <= ord(c) <= hi for c in text), hex(lo)
    again = multilingual.generate(tmp_path / "again", 12_000, seed=3)
    assert again == manifest
    for s in shards:
        assert (tmp_path / "again" / Path(s).name).read_bytes() == Path(s).read_bytes()


def _truth(docs: list[str], n: int) -> int:
    grams = set()
    for d in docs:
        toks = WORDS.findall(d)
        grams.update(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))
    return len(grams)


@pytest.mark.parametrize(
    "query, n",
    [("polars-exact-1", 1), ("duckdb-exact-1", 1), ("duckdb-exact-8", 8)],
)
def test_exact_peer_queries_count_the_same_words_and_grams(small, query, n):
    pytest.importorskip(query.split("-")[0])
    shards, docs, manifest = small
    got = peer_queries.QUERIES[query](shards)
    if isinstance(got, tuple):
        got, tokens = got
        assert tokens == manifest["tokens"]
    assert got == _truth(docs, n)


def test_approx_peer_queries_are_near(small):
    pytest.importorskip("polars")
    shards, docs, _ = small
    for query, n in (("polars-approx-1", 1), ("polars-approx-8", 8)):
        truth = _truth(docs, n)
        assert abs(peer_queries.QUERIES[query](shards) / truth - 1) < 0.2, query


def test_datasketch_loop_counts_a_prefix(small):
    pytest.importorskip("datasketch")
    shards, docs, _ = small
    out = peer_queries.datasketch_loop(shards, max_tokens=2_000)
    assert out["tokens"] >= 2_000
    counts = Counter()
    k = 0
    for d in docs:  # the same documents, in the same order
        if k >= 2_000:
            break
        toks = WORDS.findall(d)
        k += len(toks)
        counts.update(toks)
    assert k == out["tokens"]
    assert abs(out["answer"]["1"] / len(counts) - 1) < 0.05


def _records() -> list[dict]:
    rec = e2e_peers.Recorder()
    runs = {
        "seq-1": dict(system="seqcount", what="count --n 1", n="1", kind="seqcount", whole=True),
        "polars-exact-1": dict(system="Polars", what="n_unique", n="1", kind="peer", whole=True),
    }
    got = {
        "seq-1": dict(wall=[2.0, 3.0, 2.5], rss=[100, 120, 110], answer={1: 101.0}, tokens=10),
        "polars-exact-1": dict(wall=[5.0, 4.0, 6.0], rss=[300, 310, 320], answer={1: 100},
                               tokens=10),
    }  # fmt: skip
    runs["seq-7"] = dict(system="seqcount", what="count", n="7", kind="seqcount", whole=True)
    got["seq-7"] = dict(wall=[1.0, 2.0, 4.0], rss=[1, 1, 1], answer={1: 100.0}, tokens=10)
    runs["datasketch-loop"] = dict(system="loop", what="loop", n="7", kind="peer", whole=False)
    got["datasketch-loop"] = dict(wall=[9.0, 9.0, 9.0], rss=[1, 1, 1], answer={1: 7.0},
                                  tokens=4, loop_samples=[1.0, 8.0, 2.0])  # fmt: skip
    meta = {"settings": {e2e_peers.SECTION: {"default_overlap": "minhash"}}}
    e2e_peers._record(rec, runs, got, {1: 100, 8: 50}, {"tokens": 10}, meta)
    return rec.results


def test_ratios_answers_and_tables():
    results = _records()
    goal = next(r for r in results if "target" in r)
    assert goal["value"] == pytest.approx(2.5 / 5.0)
    assert goal["per_round"] == pytest.approx([0.4, 0.75, 2.5 / 6.0])
    assert goal["target_met"] is True
    seq = next(r for r in results if r.get("run_id") == "seq-1")
    assert seq["relative_error"]["1"] == pytest.approx(0.01)
    assert seq["peak_rss_mib"] == 120 and seq["spread"] == pytest.approx(0.4)
    md = "\n".join(e2e_peers.markdown(results))
    assert "| seq-1 | seqcount | count --n 1 | 2.50 | 40% | 120 | 101 (+1.00%) |" in md
    assert "0.5x" in md and "| exact |" in md
    assert e2e_peers.markdown([{"section": "other"}]) == []
    loop = next(r for r in results if r.get("run_id") == "seq-7/datasketch-loop")
    assert loop["loop_tokens_per_s"] == pytest.approx(4 / 2.0)  # the median loop time
    assert loop["value"] == pytest.approx((10 / 2.0) / (4 / 2.0)) and not loop["target_met"]
    peer = next(r for r in results if r.get("run_id") == "datasketch-loop")
    assert peer["relative_error"] == {}  # a prefix: no error against the whole corpus


def test_stage_rows_say_not_measured_without_results():
    rows = performance.stage_rows({})
    assert {r[0] for r in rows} == {
        "words tokenizer", "bytes tokenizer", "window hash + register update",
        "MinHash, per hash-permutation",
    }  # fmt: skip
    assert all(r[2] == "not measured" for r in rows)
    meta = {"date_utc": "2026-01-02T00:00:00", "seqcount_commit": "abc", "hardware": {}}
    tok = {"meta": meta, "results": [
        {"section": "words", "system": "this checkout", "unit": "ns/byte", "value": 3.0,
         "limit": 2.5, "workload": "w"}]}  # fmt: skip
    rows = performance.stage_rows({"tokenizers.json": tok})
    words = [r for r in rows if r[0] == "words tokenizer"]
    assert words == [("words tokenizer", "w", "3.00 ns/byte", "2.5 (**not met**)",
                      "`tokenizers.json`, 2026-01-02, commit abc, ?")]  # fmt: skip
