"""Fast, loose checks of the accuracy study (benchmarks/accuracy.py) on tiny sizes.

They live beside the benchmarks, not in tests/, because tests/ never imports ``benchmarks``
(tests/test_no_benchmarks_import.py); pyproject's ``testpaths`` collects both folders.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level folder of the project, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import accuracy as acc  # noqa: E402
from benchmarks import accuracy_streams as streams  # noqa: E402
from benchmarks.common import Recorder  # noqa: E402
from seqcount.sketches import HLL  # noqa: E402


def test_streams_match_seqcount_and_hip_is_close():
    """The kernel's histogram gives exactly HLL.count() of the same hashes, and the HIP
    estimate is near the exact count (and, if seqcount has a HIP kernel, equal to it)."""
    seeds = acc.trial_seeds(2)
    cps = np.array([100, 1000, 20_000], dtype=np.int64)
    ps = np.array([8, 12], dtype=np.int64)
    hist = np.zeros((2, 3, 2, 65), dtype=np.int64)
    hip = np.zeros((2, 3, 2))
    streams.trial_streams(seeds, cps, ps, hist, hip)
    for t in range(2):
        hashes = streams.stream_hashes(seeds[t], 0, int(cps[-1]))
        assert np.unique(hashes).shape[0] == hashes.shape[0]  # distinct: exact count is N
        for j, p in enumerate(ps):
            h = HLL(int(p))
            prev = 0
            for k, n in enumerate(cps):
                h.update_batch(hashes[prev:n])
                prev = int(n)
                assert acc.estimates_from_hist(hist[t, k, j][None], int(p))[0] == h.count()
                # HIP: RMS 0.83/sqrt(m), 5.2% at p=8; allow 6 sigma
                assert abs(hip[t, k, j] / n - 1) < 6 * 0.833 / math.sqrt(1 << int(p))
    rec = Recorder()
    acc.check_seqcount_hip(
        rec,
        {"cps": cps, "seeds": seeds, "hip": {12: hip[:, :, 1]}, "length": [20_000]},
        p=12,
        n=20_000,
    )
    for r in rec.results:  # absent if seqcount has no HIP kernel
        assert r["value"] == 3, r


def test_growth_stream_exact_counts():
    cps = np.array([1, 2, 3, 4, 10, 99, 100, 101, 10_000], dtype=np.int64)
    ps = np.array([10], dtype=np.int64)
    seeds = acc.trial_seeds(2, salt=7)
    hist = np.zeros((2, len(cps), 1, 65), dtype=np.int64)
    hip = np.zeros((2, len(cps), 1))
    exact = np.zeros((2, len(cps)), dtype=np.int64)
    streams.growth_streams(seeds, 0.5, cps, ps, hist, hip, exact)
    want = [math.isqrt(int(d)) for d in cps]
    assert exact.tolist() == [want, want]
    # repeats add nothing: the registers hold about sqrt(D) distinct hashes
    est = acc.estimates_from_hist(hist[:, -1, 0], 10)
    assert np.all(np.abs(est / 100 - 1) < 0.2)


def test_tiny_run_and_markdown():
    pytest.importorskip("datasketch")
    cfg = dict(
        ps=[8, 10],
        tiers=[(10**4, 4), (10**3, 16)],
        peer_ps=[8],
        peer_trials=4,
        peer_n=10**3,
        ds_trials=1,
        gammas=[0.5],
        gamma_ps=[8],
        gamma_d=10**4,
        gamma_trials=3,
    )
    rec = Recorder()
    res = acc.part_estimators(rec, cfg)
    acc.part_peers(rec, cfg, res)
    acc.part_gamma(rec, cfg)
    recs = rec.results
    assert all(r["section"] == "accuracy" for r in recs)
    same = [r for r in recs if r["system"] == "datasketch HyperLogLogPlusPlus"]
    assert same and all(r["value"] == 3 and r["unit"] == "of 3" for r in same)
    std = {(r["p"], r["cardinality"]): r for r in recs if r.get("part") == "standard"}
    assert std[(8, 10**4)]["trials"] == 4 and std[(8, 10**3)]["trials"] == 16
    assert std[(10, 10**4)]["value"] < 15  # RMS %, theory 3.25
    md = acc.markdown(recs + [{"section": "other"}], {})
    for title in ("## Accuracy", "### HIP estimate", "### Peers", "### Growth exponent"):
        assert title in md


def test_rank_distribution_is_what_hip_assumes():
    """HIP's q takes P(rank > r) = 2**-r (r <= 64 - p) for seqcount's _hll_rank."""
    p = 12
    hashes = streams.stream_hashes(np.uint64(3), 0, 200_000)
    _, rank = streams.idx_rank(hashes, p, 1 << p, 0)
    assert rank.min() >= 1 and rank.max() <= 64 - p + 1
    for r in range(1, 7):
        assert abs(np.mean(rank > r) * 2**r - 1) < 0.05 * 2 ** (r / 2)
