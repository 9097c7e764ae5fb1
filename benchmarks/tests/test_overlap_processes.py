"""The interval and verdict of benchmarks/bench_overlap_processes.py."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from benchmarks import bench_overlap_processes as b
from benchmarks.common import ROOT


def _coverage(n: int, j: int) -> float:
    """P(X_(j) <= median <= X_(n-j+1)) for n draws of a continuous variable."""
    return 1 - 2 * sum(math.comb(n, i) for i in range(j)) / 2**n


@pytest.mark.parametrize("n", [3, 5, 6, 9, 15, 30])
def test_median_interval_takes_the_narrowest_ranks_that_cover_95(n):
    xs = list(np.random.default_rng(n).normal(size=n))
    got = b.median_interval(xs)
    s = sorted(xs)
    js = [j for j in range(1, n // 2 + 1) if _coverage(n, j) >= 0.95]
    if not js:
        assert got is None
    else:
        j = max(js)
        assert got == (s[j - 1], s[n - j])


def test_the_interval_covers_the_median_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(4000):
        lo, hi = b.median_interval(list(rng.lognormal(0.1, 0.2, 15)))
        hits += lo <= math.exp(0.1) <= hi
    assert 0.95 <= hits / 4000 <= 0.98  # 0.965 for 15 rounds


def test_verdict():
    assert b.verdict((1.02, 1.10)) == "met"
    assert b.verdict((1.11, 1.30)) == "not met"
    assert b.verdict((1.05, 1.15)) == "undecided"
    assert b.verdict(None) == "undecided"


def test_the_page_has_the_table_markers():
    text = (ROOT / "docs" / "overlap.md").read_text()
    assert re.search(re.escape(b.BEGIN) + r"\n.*?" + re.escape(b.END), text, re.S)
