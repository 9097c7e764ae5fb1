"""Near-duplicate documents: planted copies are found, unrelated documents are not, and the
deduplicated curve equals the curve of the corpus without the dropped documents."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import write_parquet

from seqcount.api import count_corpus
from seqcount.config import CountConfig
from seqcount.engine.neardup import NearDupIndex
from seqcount.errors import ConfigError
from seqcount.run.files import write_outputs


def _vocabulary(rng, size=4000):
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return ["".join(rng.choice(letters, rng.integers(3, 9))) for _ in range(size)]


def _edit(words, rng, edits=3):
    words = list(words)
    for _ in range(edits):
        words[rng.integers(len(words))] = "edited" + str(rng.integers(1000))
    return words


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Two shards: 30 unrelated documents, then edited copies of documents 5 and 10 (twice).

    Shard 0 holds documents 0-29; shard 1 holds 3 unrelated documents and the copies at rows
    1 (of 5), 3 and 4 (of 10).
    """
    rng = np.random.default_rng(0)
    vocab = _vocabulary(rng)
    docs = [list(rng.choice(vocab, 200)) for _ in range(33)]
    shard0 = [" ".join(d) for d in docs[:30]]
    shard1 = [
        " ".join(docs[30]),
        " ".join(_edit(docs[5], rng)),
        " ".join(docs[31]),
        " ".join(_edit(docs[10], rng)),
        " ".join(_edit(docs[10], rng, edits=2)),
        " ".join(docs[32]),
    ]
    d = tmp_path_factory.mktemp("planted")
    write_parquet(d / "a.parquet", shard0)
    write_parquet(d / "b.parquet", shard1)
    # the same corpus without the documents a deduplication drops
    clean = tmp_path_factory.mktemp("clean")
    write_parquet(clean / "a.parquet", shard0)
    write_parquet(clean / "b.parquet", [shard1[0], shard1[2], shard1[5]])
    return d, clean


def _ids(cluster):
    return [(doc["path"].rsplit("/", 1)[-1], doc["row"]) for doc in cluster]


def test_planted_near_duplicates_are_found(planted):
    d, _ = planted
    r = count_corpus(d, CountConfig(ns=(1, 4, 8), near_dup=0.7, near_dup_n=5))
    nd = r.near_dup
    assert nd.checked == 36 and nd.short == 0
    assert nd.duplicates == 3
    assert nd.clusters == 2
    assert nd.cluster_sizes == [3, 2]
    assert _ids(nd.largest[0]) == [("a.parquet", 10), ("b.parquet", 3), ("b.parquet", 4)]
    assert _ids(nd.largest[1]) == [("a.parquet", 5), ("b.parquet", 1)]
    assert nd.pairs == 4  # (b1, a5), (b3, a10), (b4, a10), (b4, b3)


def test_unrelated_documents_are_not_near_duplicates(planted):
    d, _ = planted
    r = count_corpus(d / "a.parquet", CountConfig(ns=(4,), near_dup=0.3))
    assert r.near_dup.duplicates == 0 and r.near_dup.clusters == 0


def test_dedup_curve_equals_the_curve_without_dropped_documents(planted):
    d, clean = planted
    cfg = CountConfig(ns=(1, 2, 8), near_dup=0.7)
    r = count_corpus(d, cfg)
    plain = count_corpus(clean, CountConfig(ns=(1, 2, 8)))
    last = max(row.tokens for row in r.near_dup.rows)
    final = {row.n: row for row in r.near_dup.rows if row.tokens == last}
    assert last == plain.tokens
    for n in (1, 2, 8):
        assert final[n].unique == plain.final[n].unique
        assert final[n].windows == plain.windows[n]
        assert final[n].documents == plain.documents
    # the raw curve is untouched by --near-dup
    raw = count_corpus(d, CountConfig(ns=(1, 2, 8)))
    assert [(x.tokens, x.unique) for x in raw.rows] == [(x.tokens, x.unique) for x in r.rows]


@pytest.mark.parametrize("ns", [(1, 8), (1, 2)])  # near_dup_n=5 above and below max(ns)
def test_long_documents_cut_into_pieces_give_the_same_result(planted, ns):
    d, _ = planted
    whole = count_corpus(d, CountConfig(ns=ns, near_dup=0.7))
    cut = count_corpus(d, CountConfig(ns=ns, near_dup=0.7, chunk_bytes=300))
    assert cut.near_dup.to_dict() == whole.near_dup.to_dict()
    assert [(x.n, x.tokens, x.unique) for x in cut.near_dup.rows] == [
        (x.n, x.tokens, x.unique) for x in whole.near_dup.rows
    ]


@pytest.mark.parametrize("ns", [(1, 8), (1, 2)])  # near_dup_n=5 above and below max(ns)
def test_document_signatures_do_not_depend_on_cuts(planted, monkeypatch, ns):
    seen = []
    add = NearDupIndex.add

    def spy(self, values, shard, row):
        seen.append((shard, row, np.asarray(values).tobytes()))
        return add(self, values, shard, row)

    monkeypatch.setattr(NearDupIndex, "add", spy)
    d, _ = planted
    count_corpus(d, CountConfig(ns=ns, near_dup=0.7))
    whole, seen[:] = list(seen), []
    count_corpus(d, CountConfig(ns=ns, near_dup=0.7, chunk_bytes=40))
    assert len(whole) > 30 and seen == whole


def test_max_docs_caps_the_index(planted):
    d, _ = planted
    r = count_corpus(d, CountConfig(ns=(4,), near_dup=0.7, near_dup_max_docs=31))
    nd = r.near_dup
    # a5 and a10 are indexed, so all three copies still find an earlier near-duplicate ...
    assert nd.duplicates == 3 and nd.unindexed == 36 - 31
    # ... but they are not indexed themselves, and clusters hold indexed documents only
    assert nd.cluster_sizes == [] and nd.clusters == 0


def test_summary_and_outputs(planted, tmp_path):
    d, _ = planted
    r = count_corpus(d, CountConfig(ns=(1, 4), near_dup=0.7))
    paths = write_outputs(r, tmp_path)
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["near_duplicate_documents"] == 3
    assert s["near_dup"]["near_duplicate_rate"] == round(3 / 36, 6)
    assert s["near_dup"]["largest_clusters"][0]["size"] == 3
    assert s["outputs"]["curve_dedup"] == "curve_dedup.csv"
    header = (tmp_path / "curve_dedup.csv").read_text().splitlines()[0]
    assert header == "n,tokens,documents,windows,unique"
    per_n = {x["n"]: x for x in s["totals"]["per_n"]}
    assert per_n[4]["unique_dedup"] < per_n[4]["unique"]
    # a later run without --near-dup does not leave the old dedup curve behind
    write_outputs(count_corpus(d, CountConfig(ns=(1, 4))), tmp_path)
    assert not (tmp_path / "curve_dedup.csv").exists() and "curve_dedup" in paths


def test_short_documents_are_counted_not_checked(tmp_path):
    write_parquet(tmp_path / "s.parquet", ["a b", "a b", "", "one two three four five six"] * 2)
    r = count_corpus(tmp_path, CountConfig(ns=(1,), near_dup=0.9, near_dup_n=5))
    assert r.near_dup.short == 4  # the non-empty documents under 5 tokens
    assert r.near_dup.checked == 2 and r.near_dup.duplicates == 1


def test_index_union_find_is_order_independent():
    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**63, 64).astype(np.uint64)
    idx = NearDupIndex(0.5, 64, 0)
    for i in range(4):
        sig = base.copy()
        sig[i * 4 : i * 4 + 4] = rng.integers(0, 2**63, 4).astype(np.uint64)
        idx.add(sig, 0, i)
    assert idx.duplicates == 3
    clusters = idx.clusters()
    assert len(clusters) == 1 and [m.row for m in clusters[0]] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "kw, fragment",
    [
        ({"near_dup": 1.5}, "near_dup must be in (0, 1)"),
        ({"near_dup": 0.0}, "near_dup must be in (0, 1)"),
        ({"near_dup": 1.0}, "near_dup must be in (0, 1)"),
        ({"near_dup": 0.8, "num_perm": 0}, "num_perm of at least 2"),
        ({"near_dup": 0.8, "near_dup_n": 0}, "near_dup_n"),
        ({"near_dup": 0.8, "near_dup_max_docs": 0}, "near_dup_max_docs"),
        ({"seed": 2**40, "overlap": "minhash"}, "below 2**32"),
        ({"seed": 2**40, "near_dup": 0.8}, "below 2**32"),
        ({"num_perm": -1}, "num_perm"),
    ],
)
def test_invalid_near_dup_options(kw, fragment):
    """Library errors name the Python parameters (the CLI respells them as its flags)."""
    with pytest.raises(ConfigError) as e:
        CountConfig(**kw)
    assert fragment in str(e.value) and "--" not in str(e.value)
    assert e.value.params and all(p in str(e.value) for p in e.value.params)


def test_report_shows_near_duplicates_dedup_curve_and_shard_pairs(planted, tmp_path):
    from seqcount.reporting import write_report

    d, _ = planted
    write_outputs(count_corpus(d, CountConfig(ns=(1, 8), near_dup=0.7)), tmp_path)
    rep = write_report(tmp_path).to_dict()
    nd = rep["near_dup"]
    assert nd["near_duplicate_documents"] == 3
    assert [r["n"] for r in nd["per_n"]] == [1, 8]
    assert all(0 < r["ratio"] <= 1 for r in nd["per_n"])
    md = (tmp_path / "report.md").read_text()
    assert "## Near-duplicate documents" in md and "3 documents: `" in md
    assert "## Most similar shards" in md
    top = rep["shard_similarity"]["top_pairs"][0]
    assert top["a"].endswith("a.parquet") and top["b"].endswith("b.parquet")
    assert (tmp_path / "shard_similarity.png").stat().st_size > 5_000
