"""count_corpus end to end: checkpoint semantics, exact counts, accuracy, determinism."""

from __future__ import annotations

import csv
import json
import math
import re

import numba
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DATA, GROUND_TRUTH, write_parquet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqcount.api import count_corpus
from seqcount.config import CountConfig
from seqcount.engine.schedule import targets
from seqcount.run.curve import read_curve
from seqcount.run.files import summary_dict, write_outputs

WORD_RE = re.compile(r"\w+|[^\w\s]")


# --------------------------------------------------------------------------- oracle


def _oracle_targets(per_decade: int, up_to: int) -> list[int]:
    """Least t with t**per_decade >= 10**k, for k = 0, 1, ..., by brute force."""
    out, k, t = [], 0, 1
    while True:
        while t**per_decade < 10**k:
            t += 1
        if t > up_to:
            return out
        if not out or out[-1] != t:
            out.append(t)
        k += 1


def oracle_curve(docs: list[list], ns, per_decade: int, stride: bool = False):
    """Rows (n, tokens, documents, windows, distinct) computed with Python sets of tuples.

    With ``stride``, windows start every n tokens of a document (non-overlapping chunks).
    """
    total = sum(len(d) for d in docs)
    tgts = _oracle_targets(per_decade, max(total, 1))
    points, running, ti = [], 0, 0
    for i, d in enumerate(docs):
        running += len(d)
        if ti < len(tgts) and running >= tgts[ti]:
            points.append((running, i + 1))
            while ti < len(tgts) and tgts[ti] <= running:
                ti += 1
    if points and points[-1][0] == running:
        points.pop()
    points.append((running, len(docs)))
    rows = []
    for n in ns:
        for tokens, ndocs in points:
            seen, windows = set(), 0
            for d in docs[:ndocs]:
                for i in range(0, len(d) - n + 1, n if stride else 1):
                    seen.add(tuple(d[i : i + n]))
                    windows += 1
            rows.append((n, tokens, ndocs, windows, len(seen)))
    return rows


def _as_tuples(result):
    return [(r.n, r.tokens, r.documents, r.windows, r.unique_exact) for r in result.rows]


# --------------------------------------------------------------------------- semantics


def test_targets_match_exact_integer_grid():
    for per_decade in (1, 3, 8, 10, 25):
        assert targets(per_decade, 10**6) == _oracle_targets(per_decade, 10**6)


def test_hand_made_corpus(parquet):
    """Checkpoints, windows and counts worked out by hand.

    Targets at 4 per decade: 1, 2, 4, 6, 10, 18, ... Running tokens after each document:
    3, 3, 3, 7, 8, 10, 10. Checkpoints after documents 1 (D=3), 4 (D=7) and 6 (D=10); the last
    is the whole input, which also takes the trailing empty document.
    """
    docs = ["a b a", "", None, "b a b c", "c", "a b", "  "]
    path = parquet(docs)
    r = count_corpus([str(path)], CountConfig(ns=(1, 2, 3), checkpoints_per_decade=4, exact=True))
    assert _as_tuples(r) == [
        (1, 3, 1, 3, 2),
        (1, 7, 4, 7, 3),
        (1, 10, 7, 10, 3),
        (2, 3, 1, 2, 2),  # ab, ba
        (2, 7, 4, 5, 3),  # + bc; "c c" would cross documents
        (2, 10, 7, 6, 3),
        (3, 3, 1, 1, 1),  # aba
        (3, 7, 4, 3, 3),  # + bab, abc
        (3, 10, 7, 3, 3),  # "c" and "a b" are shorter than 3
    ]
    # Tiny sets: the HLL++ estimate (linear counting) rounds to the exact count.
    assert [round(row.unique) for row in r.rows] == [row.unique_exact for row in r.rows]
    assert (r.documents, r.tokens, r.empty_documents, r.null_documents) == (7, 10, 3, 1)


def test_empty_input_has_one_zero_row(parquet):
    path = parquet(["", None], type=pa.string())
    r = count_corpus([str(path)], CountConfig(ns=(1, 2), exact=True))
    assert _as_tuples(r) == [(1, 0, 2, 0, 0), (2, 0, 2, 0, 0)]
    assert [row.unique for row in r.rows] == [0.0, 0.0]


vocab = st.sampled_from(["a", "b", "c", "the", "é", "猫", "!", ",", "_x", "42"])
doc_st = st.one_of(st.none(), st.lists(vocab, max_size=12).map(" ".join))


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(doc_st, max_size=25), st.sampled_from([1, 2, 8]))
def test_exact_equals_python_sets(tmp_path_factory, docs, per_decade):
    path = write_parquet(tmp_path_factory.mktemp("c") / "c.parquet", docs, type=pa.string())
    ns = (1, 2, 3, 5)
    r = count_corpus([str(path)], CountConfig(ns=ns, checkpoints_per_decade=per_decade, exact=True))
    token_docs = [WORD_RE.findall(d or "") for d in docs]
    assert _as_tuples(r) == oracle_curve(token_docs, ns, per_decade)


def test_ids_tokenizer_with_large_ids(parquet):
    big = 2**64 - 1
    docs = [[1, 2, 3, 1, 2], [], None, [big, 2**63, big, 2**63, 7], [3, 1, 2]]
    path = parquet(docs, column="ids", type=pa.list_(pa.uint64()))
    ns = (1, 2, 3)
    r = count_corpus(
        [str(path)], CountConfig(ns=ns, tokenizer="ids", tokens_column="ids", exact=True)
    )
    assert _as_tuples(r) == oracle_curve([d or [] for d in docs], ns, 8)


def test_bytes_tokenizer_counts_utf8_bytes(parquet):
    docs = ["héllo", "", "猫猫", "ab\x00"]
    path = parquet(docs)
    ns = (1, 2, 4)
    r = count_corpus([str(path)], CountConfig(ns=ns, tokenizer="bytes", exact=True))
    assert _as_tuples(r) == oracle_curve([list(d.encode()) for d in docs], ns, 8)


def test_invalid_utf8_is_replaced_and_counted(parquet):
    docs = [b"ok \xff\xfe caf\xc3", b"fine"]
    path = parquet(docs, type=pa.binary())
    r = count_corpus([str(path)], CountConfig(ns=(1,), exact=True))
    expected = [WORD_RE.findall(d.decode("utf-8", "replace")) for d in docs]
    assert r.invalid_utf8 == 3
    assert r.shards[0].invalid_utf8 == 3
    assert _as_tuples(r) == oracle_curve(expected, (1,), 8)


# --------------------------------------------------------------------------- the sample corpus


def _ground_truth_totals():
    totals = {}
    with open(GROUND_TRUTH) as f:
        rows = list(csv.DictReader(f))
    for tok in ("words", "bytes"):
        mine = [r for r in rows if r["tokenizer"] == tok]
        d_max = max(int(r["D"]) for r in mine)
        totals[tok] = {
            int(r["n"]): (int(r["distinct"]), int(r["windows"]))
            for r in mine
            if int(r["D"]) == d_max
        }
        totals[tok]["D"] = d_max
    return totals


@pytest.fixture(scope="module")
def austen_exact():
    return count_corpus([str(DATA)], CountConfig(exact=True))


def test_sample_exact_totals_match_ground_truth(austen_exact):
    truth = _ground_truth_totals()["words"]
    r = austen_exact
    assert r.tokens == truth["D"] == 873_710
    assert r.documents == 269
    for n in r.config.ns:
        assert (r.final[n].unique_exact, r.final[n].windows) == truth[n], n


@pytest.mark.slow
def test_sample_bytes_exact_totals_match_ground_truth():
    truth = _ground_truth_totals()["bytes"]
    r = count_corpus([str(DATA)], CountConfig(tokenizer="bytes", exact=True))
    assert r.tokens == truth["D"]
    for n in r.config.ns:
        assert (r.final[n].unique_exact, r.final[n].windows) == truth[n], n


def test_sketch_within_three_standard_errors_at_every_checkpoint(austen_exact):
    r = austen_exact
    bound = 3 * 1.04 / math.sqrt(2**r.config.precision)
    assert len(r.rows) > 7 * 10
    for row in r.rows:
        assert abs(row.unique - row.unique_exact) <= bound * row.unique_exact, row


def test_curve_is_monotone_and_log_spaced(austen_exact):
    for n in austen_exact.config.ns:
        rows = [row for row in austen_exact.rows if row.n == n]
        tokens = [row.tokens for row in rows]
        assert tokens == sorted(set(tokens))
        assert all(b.unique_exact >= a.unique_exact for a, b in zip(rows, rows[1:]))
        assert rows[-1].tokens == austen_exact.tokens


# --------------------------------------------------------------------------- determinism


def _files(out):
    return {name: (out / name).read_bytes() for name in ("curve.csv", "sketches.npz")}


def test_two_runs_identical_files(tmp_path):
    cfg = CountConfig(ns=(1, 3, 16), exact=True)
    outs = []
    for i in range(2):
        out = tmp_path / f"run{i}"
        write_outputs(count_corpus([str(DATA)], cfg), out)
        outs.append(out)
    assert _files(outs[0]) == _files(outs[1])
    s0, s1 = (json.loads((o / "summary.json").read_text()) for o in outs)
    s0.pop("run"), s1.pop("run")
    assert s0 == s1


def test_threads_batches_and_shard_split_do_not_change_results(tmp_path):
    cfg = CountConfig(ns=(1, 2, 8, 64), precision=12)
    base = count_corpus([str(DATA)], cfg, threads=1)
    threads = count_corpus([str(DATA)], cfg, threads=min(2, numba.config.NUMBA_NUM_THREADS))
    small = count_corpus(
        [str(DATA)],
        CountConfig(ns=(1, 2, 8, 64), precision=12, batch_rows=3, chunk_bytes=5000),
    )
    whole = pa.concat_tables([pq.read_table(p) for p in sorted((DATA / "austen").glob("*"))])
    one = tmp_path / "one.parquet"
    pq.write_table(whole, one)
    single = count_corpus([str(one)], cfg)
    for other in (threads, small, single):
        assert other.rows == base.rows
        assert all(a == b for a, b in zip(other.sketches.hll, base.sketches.hll))


def test_summary_records_inputs_and_totals(tmp_path, austen_exact):
    s = summary_dict(austen_exact)
    assert s["totals"]["tokens"] == 873_710
    assert [x["path"].endswith(".parquet") for x in s["inputs"]["shards"]] == [True] * 6
    assert s["inputs"]["ignored"] == []  # data/README.md is metadata: left out quietly
    assert [x["n"] for x in s["totals"]["per_n"]] == list(austen_exact.config.ns)
    assert s["sketch_options"]["hash"] == "poly61-v1"
    assert s["run"]["tokens_per_s"] > 0
    written = write_outputs(austen_exact, tmp_path / "o")
    rows = read_curve(written["curve"])
    assert [r.unique_exact for r in rows] == [r.unique_exact for r in austen_exact.rows]
    assert [r.unique for r in rows] == [float(round(r.unique)) for r in austen_exact.rows]
    assert np.isclose(s["standard_error"], 1.04 / 256)


long_doc_st = st.one_of(
    st.none(),
    st.lists(st.sampled_from(["ab", "c", "猫猫", "!", " ", "\n", "é", "x_y"]), max_size=40).map(
        "".join
    ),
    st.binary(max_size=40),
)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(long_doc_st, max_size=8),
    st.integers(1, 24),
    st.sampled_from(["words", "bytes"]),
)
def test_long_documents_cut_into_pieces_count_the_same(tmp_path_factory, docs, chunk, tokenizer):
    """Documents longer than chunk_bytes are cut (words: never inside a word); counts agree."""
    docs = [d.encode() if isinstance(d, str) else d for d in docs]
    path = write_parquet(tmp_path_factory.mktemp("c") / "c.parquet", docs, type=pa.binary())
    ns = (1, 2, 3, 7)
    cfg = dict(ns=ns, tokenizer=tokenizer, exact=True, checkpoints_per_decade=3)
    small = count_corpus([str(path)], CountConfig(chunk_bytes=chunk, **cfg))
    if tokenizer == "words":
        token_docs = [WORD_RE.findall((d or b"").decode("utf-8", "replace")) for d in docs]
    else:
        token_docs = [list(d or b"") for d in docs]
    assert _as_tuples(small) == oracle_curve(token_docs, ns, 3)
    whole = count_corpus([str(path)], CountConfig(**cfg))
    assert all(a == b for a, b in zip(small.sketches.hll, whole.sketches.hll))
    assert small.invalid_utf8 == whole.invalid_utf8


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(st.lists(st.integers(-3, 12), max_size=60), max_size=8),
    st.sampled_from([1, 2, 5, 13, 40, 1 << 20]),
)
def test_ids_in_pieces_of_any_size_count_exactly(tmp_path_factory, docs, chunk):
    """``ids`` chunks are mixed into values in one buffer reused by every chunk, behind the
    tokens carried over from a cut document: pieces of any size (growing and shrinking
    buffers, carries longer than the piece) still count exactly."""
    path = tmp_path_factory.mktemp("c") / "c.parquet"
    pq.write_table(pa.table({"ids": pa.array(docs, type=pa.list_(pa.int32()))}), path)
    ns = (1, 2, 3, 7)
    cfg = dict(ns=ns, tokenizer="ids", tokens_column="ids", exact=True, checkpoints_per_decade=3)
    got = count_corpus([str(path)], CountConfig(chunk_bytes=chunk, batch_rows=3, **cfg))
    assert _as_tuples(got) == oracle_curve(docs, ns, 3)
    whole = count_corpus([str(path)], CountConfig(**cfg))
    assert all(a == b for a, b in zip(got.sketches.hll, whole.sketches.hll))


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(long_doc_st, max_size=8), st.sampled_from([3, 11, 1 << 20]))
def test_stride_counts_non_overlapping_chunks(tmp_path_factory, docs, chunk):
    docs = [d.encode() if isinstance(d, str) else d for d in docs]
    path = write_parquet(tmp_path_factory.mktemp("c") / "c.parquet", docs, type=pa.binary())
    ns = (1, 2, 3, 5)
    cfg = CountConfig(
        ns=ns, tokenizer="bytes", exact=True, stride=True, chunk_bytes=chunk,
        checkpoints_per_decade=3,
    )  # fmt: skip
    r = count_corpus([str(path)], cfg)
    assert _as_tuples(r) == oracle_curve([list(d or b"") for d in docs], ns, 3, stride=True)
    assert [round(row.unique) for row in r.rows] == [row.unique_exact for row in r.rows]


# --------------------------------------------------------------------------- reading ahead


def test_the_next_shard_is_read_while_this_one_is_counted(tmp_path, monkeypatch):
    """The reader thread does not wait at a shard's end: while the last piece of shard ``a``
    is being counted, shard ``b`` is already being read (else the wait below times out and
    records ``False``)."""
    import threading

    import seqcount.engine.counter as counter
    import seqcount.engine.single as pipeline

    write_parquet(tmp_path / "a.parquet", ["one two three"] * 5)
    write_parquet(tmp_path / "b.parquet", ["four five six"] * 5)
    reading_b = threading.Event()
    tokenized, add = pipeline._tokenized, counter.Counter.add

    def watch(shard, *args):
        if shard.path.endswith("b.parquet"):
            reading_b.set()
        return tokenized(shard, *args)

    seen = []

    def slow_add(self, chunk):
        if self.shard == 0:  # counting shard a: is b being read meanwhile?
            seen.append(reading_b.wait(timeout=5))
        add(self, chunk)

    monkeypatch.setattr(pipeline, "_tokenized", watch)
    monkeypatch.setattr(counter.Counter, "add", slow_add)
    result = count_corpus(tmp_path, CountConfig(ns=(1,), exact=True))
    assert seen == [True]
    assert result.tokens == 30 and [s.documents for s in result.shards] == [5, 5]


def test_freed_memory_goes_back_to_the_os_on_glibc():
    import platform

    from seqcount.engine.process import bound_heap_retention

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    assert bound_heap_retention() is True
