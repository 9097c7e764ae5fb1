"""The saturating alternative to the power law (analysis/fit.py): monotone by construction, and
chosen only on held-out checkpoints, by more than the sketch's error could fake."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import seqcount
from seqcount.analysis.fit import (
    SKETCH_ERRORS,
    curve_points,
    fit_growth,
    fit_saturating,
    saturating_curve,
)
from seqcount.synth.pitman_yor import distinct_counts, pitman_yor_ids, pitman_yor_table

#: The sketch's relative error at the default precision (1.04 / sqrt(2**16)).
SIGMA = 1.04 / math.sqrt(2**16)
CHECKPOINTS = np.unique(np.round(np.logspace(2, 6.5, 37)))


def _count_n1(table: pa.Table):
    res = seqcount.count(table, n=(1,), tokens_column="ids", num_perm=0)
    d, u = curve_points(res.rows, 1)
    return d, u, res.config.standard_error


def _ids_table(ids: np.ndarray, doc: int = 1000) -> pa.Table:
    offs = np.arange(0, ids.shape[0] + 1, doc).astype(np.int32)
    return pa.table({"ids": pa.ListArray.from_arrays(pa.array(offs), pa.array(ids))})


def test_uniform_small_vocabulary_saturates_and_prefers_the_alternative():
    # n = 1 over tokens drawn uniformly from 50,000 ids: U(D) = V (1 - (1 - 1/V)**D) flattens
    vocab = 50_000
    ids = np.random.default_rng(0).integers(0, vocab, 2_000_000)
    d, u, rel_err = _count_n1(_ids_table(ids))
    assert rel_err == pytest.approx(SIGMA, rel=0.01)
    f = fit_growth(d, u, 1, rel_err=rel_err)
    assert f.preferred == "cutoff" and f.alternative == "saturating"
    assert f.cutoff_heldout_err < f.heldout_err / 2
    assert f.heldout_err - f.cutoff_heldout_err > SKETCH_ERRORS * rel_err
    assert f.cutoff_d <= f.d_hi and f.cutoff_gamma >= 0
    # its ceiling is the vocabulary, to the slow 1/D approach the form allows
    assert 0.95 * vocab < f.cutoff_ceiling < 1.3 * vocab
    assert f.cutoff_ceiling == pytest.approx(f.cutoff_c * f.cutoff_d**f.cutoff_gamma)


@pytest.mark.parametrize("walk", [False, True])
def test_power_law_with_sketch_noise_keeps_the_power_law(walk):
    picked = []
    for seed in range(100):
        rng = np.random.default_rng(seed)
        gamma = rng.uniform(0.3, 1.0)
        e = rng.standard_normal(CHECKPOINTS.shape)
        if walk:  # checkpoints of one sketch: errors that persist along the curve
            e = np.cumsum(e) / np.sqrt(np.arange(1, e.shape[0] + 1))
        u = 30 * CHECKPOINTS**gamma * np.exp(SIGMA * e)
        picked.append(fit_growth(CHECKPOINTS, u, 1, rel_err=SIGMA).preferred)
    assert picked == ["power-law"] * 100


@pytest.mark.parametrize("discount", [0.3, 0.5, 0.7, 0.85])
@pytest.mark.parametrize("theta", [0.0, 10.0, 100.0])
def test_pitman_yor_keeps_the_power_law(discount, theta):
    # its local exponent drifts down to `discount` (for theta > 0) but never to a ceiling
    d = CHECKPOINTS[CHECKPOINTS <= 1e6]
    for seed in range(3):
        u = distinct_counts(pitman_yor_ids(int(d.max()), discount, theta, seed=seed), d)
        for rel_err in (0.0, SIGMA):
            assert fit_growth(d, u.astype(np.float64), 1, rel_err=rel_err).preferred == "power-law"


def test_pitman_yor_counted_by_sketch_keeps_the_power_law():
    d, u, rel_err = _count_n1(pitman_yor_table(2_000_000, 0.5, 10.0, seed=1))
    f = fit_growth(d, u, 1, rel_err=rel_err)
    assert f.preferred == "power-law"
    assert f.gamma == pytest.approx(0.5, abs=0.05)


def test_fit_saturating_recovers_an_exact_curve():
    d = np.logspace(3, 7, 33)
    u = saturating_curve(d, 3.0, 0.8, 2e5)
    s = fit_saturating(d, u)
    assert s.gamma == pytest.approx(0.8, rel=1e-4)
    assert s.d_c == pytest.approx(2e5, rel=1e-3)
    assert s.c == pytest.approx(3.0, rel=1e-2)
    assert s.ceiling == pytest.approx(3.0 * 2e5**0.8, rel=1e-3)
    f = fit_growth(d, u, 1, d_range=(1e4, 1e7))
    assert f.preferred == "cutoff"
    # a pure power law does not bend down: no alternative within reach
    assert fit_saturating(d, 5 * d**0.6) is None
    assert fit_growth(d, 5 * d**0.6, 1).cutoff_d is None


def test_a_bend_beyond_the_data_is_not_called_saturation():
    # the same form, but its bend (d_c) lies above the fitted range: an extrapolation
    d = np.logspace(3, 6, 25)
    u = saturating_curve(d, 3.0, 0.8, 3e6)
    f = fit_growth(d, u, 1, d_range=(1e4, 1e6))
    assert f.cutoff_d == pytest.approx(3e6, rel=1e-2)
    assert f.cutoff_heldout_err < f.heldout_err / 2  # it predicts better ...
    assert f.preferred == "power-law"  # ... but no ceiling shows in the data


def test_heldout_errors_are_those_of_refits_without_the_top_third():
    rng = np.random.default_rng(3)
    d = np.logspace(3, 6, 19)
    u = saturating_curve(d, 2.0, 0.9, 1e5) * np.exp(0.01 * rng.standard_normal(d.shape))
    f = fit_growth(d, u, 1, rel_err=0.01, d_range=(1e3, 1e6))
    assert f.heldout_points == 19 // 3
    train, held = slice(0, 19 - 6), slice(19 - 6, None)
    slope, icpt = np.linalg.lstsq(
        np.column_stack([np.log(d[train]), np.ones(13)]), np.log(u[train]), rcond=None
    )[0]
    pl = np.exp(icpt) * d[held] ** slope
    assert f.heldout_err == pytest.approx(np.sqrt(np.mean(np.log(pl / u[held]) ** 2)), rel=1e-9)
    s = fit_saturating(d[train], u[train])
    alt = np.sqrt(np.mean(np.log(s.predict(d[held]) / u[held]) ** 2))
    assert f.cutoff_heldout_err == pytest.approx(alt, rel=1e-9)
    # too few checkpoints for a held-out comparison: no held-out keys, and the power law
    few = fit_growth(d[:5], u[:5], 1, d_range=(1e3, 1e6))
    assert few.heldout_points is None and few.preferred == "power-law"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-0.5, 1.5), min_size=4, max_size=30),
    st.floats(1.0, 1e4),
    st.floats(0.0, 0.3),
    st.integers(0, 2**32 - 1),
)
def test_the_alternative_is_monotone_for_every_fitted_curve(slopes, d0, noise, seed):
    # random curves: steps of any local slope (falling ones too) and noise
    k = len(slopes)
    d = d0 * np.logspace(0, 4, k)
    rng = np.random.default_rng(seed)
    y = np.concatenate([[0.0], np.cumsum(np.array(slopes[1:]) * np.diff(np.log(d)))])
    u = np.exp(y + noise * rng.standard_normal(k)) * 10
    grid = np.logspace(-3, 4, 400) * d0
    s = fit_saturating(d, u)
    if s is not None:
        assert s.gamma >= 0 and s.d_c > 0 and s.c > 0
        v = s.predict(grid)
        assert np.all(np.diff(v) >= -1e-12 * v[1:])
    f = fit_growth(d, u, 1, d_range=(d[0], d[-1]))
    if f.cutoff_d is not None:
        v = saturating_curve(grid, f.cutoff_c, f.cutoff_gamma, f.cutoff_d)
        assert np.all(np.diff(v) >= -1e-12 * v[1:])
