"""Growth-curve fits: planted exponents through the real pipeline, slopes, the cut-off model."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from seqcount.analysis.fit import (
    MIN_POINTS,
    curve_points,
    default_range,
    fit_growth,
    local_slopes,
    too_few_points,
)
from seqcount.api import count_corpus
from seqcount.config import CountConfig


def planted_corpus(path, gamma: float, tokens: int = 2_000_000, doc_len: int = 1000, seed=0):
    """Token ids whose distinct count after D tokens is exactly min(D, floor(K * D**gamma)).

    A token is new exactly when that target grows; otherwise it repeats a random earlier one.
    K is chosen so that the target falls below D (and so is met exactly) before D = 1000.
    """
    k = 0.5 * 1000 ** (1 - gamma)
    i = np.arange(tokens + 1, dtype=np.float64)
    target = np.minimum(i, np.floor(k * i**gamma)).astype(np.int64)
    step = np.diff(target)
    assert set(np.unique(step)) <= {0, 1}
    new = step == 1
    ids = np.empty(tokens, dtype=np.int64)
    ids[new] = np.arange(int(new.sum()))
    rng = np.random.default_rng(seed)
    seen = target[:-1][~new]  # distinct tokens before each repeat
    ids[~new] = (rng.random(seen.shape[0]) * seen).astype(np.int64)
    docs = ids.reshape(-1, doc_len)
    pq.write_table(pa.table({"ids": pa.array(list(docs), pa.list_(pa.int64()))}), path)
    return lambda d: np.minimum(d, np.floor(k * d**gamma))


@pytest.mark.parametrize("gamma", [0.3, 0.6, 0.9])
def test_fit_recovers_planted_exponent(tmp_path, gamma):
    truth = planted_corpus(tmp_path / "c.parquet", gamma)
    cfg = CountConfig(ns=(1,), tokenizer="ids", tokens_column="ids", exact=True)
    r = count_corpus([str(tmp_path / "c.parquet")], cfg)
    d, exact = curve_points(r.rows, 1, exact=True)
    assert np.array_equal(exact, truth(d))  # the generator does what it says
    d, u = curve_points(r.rows, 1)
    fit = fit_growth(d, u, 1, rel_err=cfg.standard_error)
    assert abs(fit.gamma - gamma) <= 2 * fit.gamma_err, (fit.gamma, fit.gamma_err)
    assert fit.gamma_err < 0.01
    # local slopes inside the fitted range scatter around gamma
    mid, slopes = local_slopes(d, u)
    upper = slopes[mid >= fit.d_lo]
    assert abs(np.median(upper) - gamma) < 0.02


def test_fit_on_exact_power_law_and_errors():
    d = np.logspace(2, 8, 49)
    u = 3.0 * d**0.58
    fit = fit_growth(d, u, 4)
    assert fit.gamma == pytest.approx(0.58, abs=1e-12)
    assert fit.c == pytest.approx(3.0, rel=1e-9)
    assert fit.gamma_err_sketch == 0.0
    assert (fit.d_lo, fit.d_hi) == pytest.approx((1e6, 1e8))
    assert fit.predict(1e10) == pytest.approx(3.0 * 1e10**0.58, rel=1e-9)
    lo, hi = fit.interval(1e10)
    assert lo <= fit.predict(1e10) <= hi
    # the sketch part of the error: sqrt(2) * rel_err / ln(d_hi / d_lo)
    f2 = fit_growth(d, u, 4, rel_err=0.01)
    assert f2.gamma_err_sketch == pytest.approx(math.sqrt(2) * 0.01 / math.log(100))
    with pytest.raises(ValueError, match=r"too few checkpoints to fit \(2 < 3\)"):
        fit_growth(d[:2], u[:2], 4)


def test_cutoff_preferred_for_saturating_curves_only():
    # the alternative is the monotone saturating curve c * (D / (1 + D/Dc))**g
    d = np.logspace(2, 7, 41)
    saturating = 50 * (d / (1 + d / 3e5)) ** 0.7
    f = fit_growth(d, saturating, 1, d_range=(1e4, 1e7))
    assert f.preferred == "cutoff" and f.alternative == "saturating"
    assert f.cutoff_gamma == pytest.approx(0.7, rel=1e-4)
    assert f.cutoff_d == pytest.approx(3e5, rel=1e-3)
    # a power law that bends down and then falls (the old exp(-D/Dc) cut-off) is not monotone:
    # the alternative cannot follow the fall, and the power law is kept
    falling = 50 * d**0.7 * np.exp(-d / 3e6)
    assert fit_growth(d, falling, 1, d_range=(1e4, 1e7)).preferred == "power-law"
    rng = np.random.default_rng(0)
    plain = 50 * d**0.7 * (1 + 0.001 * rng.standard_normal(d.shape))
    assert fit_growth(d, plain, 1).preferred == "power-law"


def test_default_range_is_upper_two_decades_with_enough_points():
    d = np.logspace(0, 6, 49)
    assert default_range(d) == pytest.approx((1e4, 1e6))
    few = np.array([1.0, 10, 100, 1000, 5000, 9000])
    assert default_range(few) == (10.0, 9000.0)  # widened to 5 points


def test_too_few_points_is_said_plainly():
    assert MIN_POINTS == 3
    assert too_few_points(np.array([1.0, 2.0, 4.0])) is None
    assert too_few_points(np.array([4.0])) == "too few checkpoints to fit (1 < 3)"
    empty = np.array([], dtype=np.float64)
    with pytest.raises(ValueError, match=r"n=8: too few checkpoints to fit \(0 < 3\)"):
        fit_growth(empty, empty, 8)
    with pytest.raises(ValueError, match="no checkpoints"):
        default_range(empty)
