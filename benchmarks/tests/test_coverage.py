"""The coverage benchmark's target and tallies (benchmarks/coverage.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level folder of the project, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.coverage import expected_slope, summarize  # noqa: E402
from seqcount.synth import expected_distinct  # noqa: E402


def test_target_is_the_expected_curves_slope_on_the_resampling_grid():
    top, lo, hi = 2e6, 2e4, 2e6
    g = top * 10.0 ** (-np.arange(0, 17) / 8)
    want = np.polyfit(np.log(g), np.log([expected_distinct(x, 0.5, 10.0) for x in g]), 1)[0]
    assert expected_slope(lo, hi, top, 0.5, 10.0) == pytest.approx(want, rel=1e-12)
    # theta = 0: the expected curve is a power law but for a vanishing correction
    assert expected_slope(lo, hi, top, 0.6, 0.0) == pytest.approx(0.6, abs=1e-3)


def test_summary_counts_what_each_interval_holds():
    def run(value, se, target, gamma, err):
        parts = dict(se_order=se, se_count=0.0, se_sketch=0.0)
        return dict(value=value, se=se, target=target, gamma=gamma, gamma_err=err, blocks=100,
                    local=[[value, se, target]], **parts)  # fmt: skip

    runs = [run(0.50, 0.01, 0.51, 0.50, 0.001), run(0.50, 0.01, 0.53, 0.52, 0.1)]
    c = summarize(0.5, 0.0, 1000, runs)
    assert c["coverage"] == 0.5  # |0.50 - 0.53| > 1.96 * 0.01
    assert c["coverage_d"] == 1.0
    assert c["old_coverage"] == 1.0  # 0.50 +- 0.002 and 0.52 +- 0.196 both hold 0.5
    assert c["local_coverage"] == 0.5
