"""The Pitman-Yor corpus generator: exact against its slow oracle, right in law, deterministic."""

from __future__ import annotations

import math
import random

import numpy as np
import pyarrow.parquet as pq
import pytest

import seqcount
from seqcount.synth import (
    distinct_counts,
    distinct_moments,
    expected_distinct,
    pitman_yor_ids,
    pitman_yor_table,
    sequential_ids,
    write_pitman_yor,
)

PARAMS = [(0.5, 1.0), (0.85, 0.0), (0.3, 100.0), (0.0, 10.0), (0.72, -0.5), (0.6, 10.0)]


@pytest.mark.parametrize("d, theta", PARAMS)
def test_same_ids_as_the_sequential_oracle(d, theta):
    for seed in range(3):
        fast = pitman_yor_ids(4000, d, theta, seed)
        assert np.array_equal(fast, sequential_ids(4000, d, theta, seed))


def _naive_crp(n: int, d: float, theta: float, rnd: random.Random) -> list[int]:
    """The textbook Chinese restaurant, table by table weights n_j - d (independent oracle)."""
    counts: list[int] = []
    for i in range(n):
        r = rnd.random() * (theta + i)
        acc = theta + d * len(counts)
        if i == 0 or r < acc:
            counts.append(1)
            continue
        for j, c in enumerate(counts):
            acc += c - d
            if r < acc:
                counts[j] += 1
                break
        else:
            counts[-1] += 1
    return counts


@pytest.mark.parametrize("d, theta", [(0.5, 1.0), (0.85, 0.0), (0.3, 5.0)])
def test_table_sizes_match_the_textbook_restaurant(d, theta):
    """Singletons and the largest id's count: fast sampler vs naive CRP, two-sample z < 4."""
    n, reps = 400, 300
    rnd = random.Random(7)
    stats = {"fast": [], "naive": []}
    for s in range(reps):
        fast = np.bincount(pitman_yor_ids(n, d, theta, seed=s))
        naive = np.array(_naive_crp(n, d, theta, rnd))
        stats["fast"].append((np.sum(fast == 1), fast.max()))
        stats["naive"].append((np.sum(naive == 1), naive.max()))
    a, b = np.array(stats["fast"], float), np.array(stats["naive"], float)
    se = np.sqrt(a.var(axis=0, ddof=1) / reps + b.var(axis=0, ddof=1) / reps)
    z = np.abs(a.mean(axis=0) - b.mean(axis=0)) / se
    assert np.all(z < 4), (a.mean(axis=0), b.mean(axis=0), z)


@pytest.mark.parametrize("d, theta", PARAMS)
def test_closed_form_mean_matches_the_moment_recursion(d, theta):
    for n in (1, 2, 10, 5000):
        mean, var = distinct_moments(n, d, theta)
        assert expected_distinct(n, d, theta) == pytest.approx(mean, rel=1e-9)
        assert var >= 0
    assert expected_distinct(2, d, theta) == pytest.approx(1 + (theta + d) / (theta + 1))


@pytest.mark.parametrize(
    "d, theta, n, reps",
    [(0.5, 1.0, 5000, 200), (0.85, 0.0, 5000, 200), (0.3, 100.0, 5000, 200),
     (0.0, 10.0, 5000, 200), (0.72, -0.5, 5000, 200), (0.6, 10.0, 100_000, 30)],
)  # fmt: skip
def test_distinct_growth_matches_the_expectation(d, theta, n, reps):
    """Mean K at n/10 and n over many seeds within 4 exact standard errors of E[K]."""
    at = [n // 10, n]
    ks = np.array([distinct_counts(pitman_yor_ids(n, d, theta, s), at) for s in range(reps)])
    for j, m in enumerate(at):
        mean, var = distinct_moments(m, d, theta)
        tol = 4 * math.sqrt(var / reps)
        assert abs(ks[:, j].mean() - expected_distinct(m, d, theta)) < tol
        # the spread is right too (sample variance within a generous factor)
        assert 0.5 * var < ks[:, j].var(ddof=1) < 2.0 * var


def test_the_exponent_is_the_discount_at_large_d():
    """log E[K] has local slope -> d (theta = 0: exactly d up to O(1/n))."""
    for d in (0.3, 0.6, 0.85):
        k1, k2 = expected_distinct(1e6, d), expected_distinct(1e7, d)
        assert math.log(k2 / k1) / math.log(10) == pytest.approx(d, abs=1e-6)


def test_deterministic_and_seeded(tmp_path):
    a = pitman_yor_table(50_000, 0.6, 10.0, seed=3, doc_tokens=200)
    b = pitman_yor_table(50_000, 0.6, 10.0, seed=3, doc_tokens=200)
    c = pitman_yor_table(50_000, 0.6, 10.0, seed=4, doc_tokens=200)
    assert a.equals(b) and not a.equals(c)
    col = a.column("ids").combine_chunks()
    assert str(col.type) == "list<item: int64>"
    assert np.array_equal(col.flatten().to_numpy(), pitman_yor_ids(50_000, 0.6, 10.0, seed=3))
    assert 150 < 50_000 / a.num_rows < 260  # geometric lengths, mean 200
    path = write_pitman_yor(
        tmp_path / "py.parquet", 50_000, 0.6, concentration=10.0, seed=3, doc_tokens=200
    )
    back = pq.read_table(path).column("ids").combine_chunks()
    assert back.to_pylist() == col.to_pylist()


def test_seqcount_counts_the_table_exactly():
    ids = pitman_yor_ids(30_000, 0.72, 10.0, seed=1)
    table = pitman_yor_table(30_000, 0.72, 10.0, seed=1, doc_tokens=100)
    result = seqcount.count(table, n=(1,), tokens_column="ids", exact=True)
    rows = [r for r in result.rows if r.n == 1]
    want = distinct_counts(ids, [r.tokens for r in rows])
    assert [r.unique_exact for r in rows] == want.tolist()


@pytest.mark.parametrize(
    "args", [(10, 1.0), (10, -0.1), (10, 0.5, -0.5), (0, 0.5), (10, 0.5, float("nan"))]
)
def test_bad_parameters_are_refused(args):
    with pytest.raises(ValueError):
        pitman_yor_ids(*args)
