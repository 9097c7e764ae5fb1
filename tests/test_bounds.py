"""The paper's numbers, pinned from first principles (constants written out, not recomputed)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from seqcount.analysis import bounds
from seqcount.errors import ConfigError

# Chinchilla (Hoffmann et al. 2022) and Chinchilla's own training run.
B, BETA = 410.7, 0.28
D_CHIN, N_CHIN = 1.4e12, 7e10


# --- exponents and doubling factors ------------------------------------------------------------


def test_band_and_midpoint_for_beta_028():
    lo, hi = bounds.gamma_band("chinchilla")
    assert lo == pytest.approx(0.44, abs=1e-12)
    assert hi == pytest.approx(0.72, abs=1e-12)
    assert bounds.gamma_mid("chinchilla") == pytest.approx(0.58, abs=1e-12)
    assert bounds.gamma_mid() == pytest.approx((lo + hi) / 2, abs=1e-12)


@pytest.mark.parametrize("gamma, factor", [(0.72, 2.62), (0.58, 3.30), (0.44, 4.83)])
def test_doubling_factors_of_the_paper(gamma, factor):
    assert round(float(bounds.doubling_factor(gamma)), 2) == factor


def test_doubling_band_and_its_meaning():
    fast, slow = bounds.doubling_band("chinchilla")
    assert (round(fast, 2), round(slow, 2)) == (2.62, 4.83)  # the paper's "3 to 5 fold"
    # doubling U really takes that much data: (k D)^gamma = 2 D^gamma
    assert fast**0.72 == pytest.approx(2.0, rel=1e-12)
    assert slow**0.44 == pytest.approx(2.0, rel=1e-12)


def test_doubling_factor_edge_cases():
    out = bounds.doubling_factor(np.array([1.0, 0.5, 0.0, -0.3, np.nan]))
    assert out[0] == 2.0 and out[1] == 4.0
    assert np.isinf(out[2]) and np.isinf(out[3])
    assert np.isnan(out[4])
    assert np.isinf(bounds.doubling_factor(1e-6))  # overflows to inf without a warning


# --- worked values at Chinchilla's D ------------------------------------------------------------


def test_worked_values_at_chinchilla_scale():
    assert bounds.epsilon(D_CHIN) == pytest.approx(0.163, rel=1e-2)
    assert bounds.u_upper(D_CHIN) == pytest.approx(2.28e11, rel=1e-2)
    assert bounds.u_lower(D_CHIN) == pytest.approx(3.73e10, rel=1e-2)
    assert bounds.u_mid(D_CHIN) == pytest.approx(9.2e10, rel=1e-2)
    assert bounds.n_eff(D_CHIN) == pytest.approx(9.2e10, rel=1e-2)


def test_closed_forms_of_the_bounds():
    d = np.logspace(6, 15, 10)
    assert np.allclose(bounds.u_upper(d), 410.7 * d**0.72, rtol=1e-12)
    assert np.allclose(bounds.u_lower(d), 168_674.49 * d**0.44, rtol=1e-7)  # B^2
    assert np.allclose(bounds.u_mid(d), 8_323.14 * d**0.58, rtol=1e-6)  # B^1.5


def test_constants_scale_the_bounds():
    assert bounds.u_upper(D_CHIN, c_lo=2.0) == pytest.approx(bounds.u_upper(D_CHIN) / 2)
    assert bounds.u_lower(D_CHIN, c_hi=2.0) == pytest.approx(bounds.u_lower(D_CHIN) / 4)


def test_loss_at_chinchilla():
    expected = 1.69 + 406.4 / 7e10**0.34 + 410.7 / 1.4e12**0.28
    assert bounds.loss(N_CHIN, D_CHIN) == pytest.approx(expected, rel=1e-12)
    assert bounds.loss(N_CHIN, D_CHIN) == pytest.approx(1.94, abs=0.01)


# --- D*: where the band becomes meaningful ------------------------------------------------------


def test_d_star_value():
    assert bounds.d_star("chinchilla") == pytest.approx(2.16e9, rel=1e-2)
    assert bounds.epsilon(bounds.d_star()) == pytest.approx(1.0, rel=1e-12)


def test_bounds_cross_at_d_star():
    ds = bounds.d_star()
    assert bounds.u_lower(ds) == pytest.approx(bounds.u_upper(ds), rel=1e-10)
    assert bounds.u_lower(ds / 10) > bounds.u_upper(ds / 10)  # inverted below D*
    assert bounds.u_lower(ds * 10) < bounds.u_upper(ds * 10)


def test_d_star_moves_with_the_constants():
    ds = bounds.d_star(c_lo=2.0, c_hi=1.5)
    assert ds == pytest.approx((410.7 * 2.0 / 1.5**2) ** (1 / 0.28), rel=1e-12)
    assert bounds.u_lower(ds, c_hi=1.5) == pytest.approx(bounds.u_upper(ds, c_lo=2.0), rel=1e-10)


# --- vectorisation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn", [bounds.epsilon, bounds.u_upper, bounds.u_lower, bounds.u_mid, bounds.n_eff]
)
def test_array_in_array_out(fn):
    d = np.logspace(3, 14, 12).reshape(3, 4)
    out = fn(d, "chinchilla")
    assert isinstance(out, np.ndarray) and out.shape == d.shape
    loop = np.array([float(fn(x, "chinchilla")) for x in d.ravel()]).reshape(d.shape)
    assert np.array_equal(out, loop)
    assert isinstance(fn(1e9, "chinchilla"), float)  # scalar in, scalar out
    assert fn([1e9, 1e10], "chinchilla").shape == (2,)


def test_doubling_factor_vectorised():
    g = np.linspace(0.1, 1.0, 7)
    out = bounds.doubling_factor(g)
    assert out.shape == g.shape
    assert np.array_equal(out, [float(bounds.doubling_factor(x)) for x in g])


def test_loss_broadcasts():
    n = np.array([1e8, 1e9, 1e10])[:, None]
    d = np.array([1e10, 1e11])[None, :]
    assert bounds.loss(n, d).shape == (3, 2)


# --- fits -----------------------------------------------------------------------------------------


def test_epoch_fit_gives_its_own_band():
    lo, hi = bounds.gamma_band("epoch")
    assert (lo, hi) == pytest.approx((1 - 2 * 0.3658, 1 - 0.3658), abs=1e-12)
    assert (lo, hi) != pytest.approx(bounds.gamma_band("chinchilla"))
    f = bounds.get_fit("epoch")
    assert (f.A, f.B, f.alpha, f.beta) == (482.01, 2085.43, 0.3478, 0.3658)
    assert "2404.10102" in f.source
    assert bounds.d_star("epoch") == pytest.approx(2085.43 ** (1 / 0.3658), rel=1e-12)


def test_get_fit_names_and_objects():
    assert bounds.get_fit("Chinchilla") is bounds.FITS["chinchilla"]
    custom = bounds.LossFit("mine", E=1.0, A=100.0, B=200.0, alpha=0.3, beta=0.25, source="x")
    assert bounds.get_fit(custom) is custom
    assert bounds.gamma_band(custom) == pytest.approx((0.5, 0.75))
    with pytest.raises(AttributeError):
        custom.beta = 0.3  # frozen


# --- regime -------------------------------------------------------------------------------------


def test_regime_chinchilla_is_inside_the_band():
    r = bounds.regime(N_CHIN, D_CHIN, "chinchilla")
    assert r["band"] == "undetermined"
    assert r["below_d_star"] is False and r["note"] is None
    assert "measured" not in r
    assert r["u_lower"] < N_CHIN < r["u_upper"]


def test_regime_small_and_huge_models():
    assert bounds.regime(1e9, D_CHIN)["band"] == "emergent"  # below 3.73e10
    assert bounds.regime(1e12, D_CHIN)["band"] == "saturated"  # above 2.28e11


def test_regime_against_a_measured_u():
    r = bounds.regime(N_CHIN, D_CHIN, u_measured=1e11)
    assert r["measured"] == "emergent" and r["u_measured"] == 1e11
    r = bounds.regime(N_CHIN, D_CHIN, u_measured=1e10)
    assert r["measured"] == "saturated"
    assert r["band"] == "undetermined"  # the band verdict does not depend on the measurement


def test_regime_below_d_star_is_flagged():
    r = bounds.regime(1e6, 1e8)
    assert r["below_d_star"] is True
    assert "not meaningful" in r["note"]
    assert r["band"] == "emergent"  # still well-defined against min(U_lower, U_upper)
    json.dumps(r)


# --- summary contract -----------------------------------------------------------------------------

SUMMARY_KEYS = {
    "tokens",
    "fit",
    "c_lo",
    "c_hi",
    "epsilon",
    "u_lower",
    "u_mid",
    "u_upper",
    "gamma_band",
    "gamma_mid",
    "d_star",
    "doubling_band",
    "doubling_mid",
    "below_d_star",
}


def test_bounds_summary_contract():
    s = bounds.bounds_summary(D_CHIN)
    assert set(s) == SUMMARY_KEYS
    assert s["fit"] == "chinchilla" and s["tokens"] == D_CHIN
    assert s["gamma_band"] == pytest.approx([0.44, 0.72])
    assert isinstance(s["gamma_band"], list) and isinstance(s["doubling_band"], list)
    assert [round(x, 2) for x in s["doubling_band"]] == [2.62, 4.83]
    assert round(s["doubling_mid"], 2) == 3.30
    assert s["u_upper"] == pytest.approx(2.28e11, rel=1e-2)
    assert s["d_star"] == pytest.approx(2.16e9, rel=1e-2)
    for k, v in s.items():
        assert type(v) in ((bool,) if k == "below_d_star" else (float, str, list)), k
    assert s["below_d_star"] is False  # 1.4e12 > D*
    assert json.loads(json.dumps(s)) == s


def test_bounds_summary_with_model_params():
    s = bounds.bounds_summary(D_CHIN, fit="epoch", model_params=N_CHIN, c_lo=2.0, c_hi=0.5)
    assert set(s) == SUMMARY_KEYS | {"regime"}
    assert s["fit"] == "epoch" and (s["c_lo"], s["c_hi"]) == (2.0, 0.5)
    assert s["regime"]["band"] in {"emergent", "saturated", "undetermined"}
    assert json.loads(json.dumps(s)) == s


# --- Bloom filter ---------------------------------------------------------------------------------


def test_bloom_filter_textbook():
    b = bounds.bloom_filter(1_000_000, 0.01)
    # m = -n ln p / (ln 2)^2 = 1e6 * 4.605170 / 0.480453 = 9,585,058.4 -> 9,585,059
    assert b["bits"] == 9_585_059
    assert b["bits"] == pytest.approx(9.585e6, rel=1e-3)
    assert b["bytes"] == 1_198_133  # ceil(bits / 8)
    assert b["hashes"] == 7  # round(9.585 * 0.6931) = round(6.64)
    assert (b["n_items"], b["fpr"]) == (1e6, 0.01)
    json.dumps(b)


def test_bloom_filter_empty_and_achieved_rate():
    assert bounds.bloom_filter(0, 0.01) == {
        "bits": 0, "bytes": 0, "hashes": 1, "n_items": 0.0, "fpr": 0.01
    }  # fmt: skip
    b = bounds.bloom_filter(5e7, 1e-3)
    n, m, k = 5e7, b["bits"], b["hashes"]
    achieved = (1 - math.exp(-k * n / m)) ** k
    assert achieved == pytest.approx(1e-3, rel=0.05)


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: bounds.epsilon(0), "D"),
        (lambda: bounds.u_upper(-1e9), "D"),
        (lambda: bounds.u_lower(np.array([1e9, 0.0])), "D"),
        (lambda: bounds.u_mid(float("nan")), "D"),
        (lambda: bounds.loss(0, 1e9), "N"),
        (lambda: bounds.regime(-5, 1e9), "N"),
        (lambda: bounds.regime(1e9, 1e9, u_measured=0), "u_measured"),
        (lambda: bounds.u_upper(1e9, c_lo=0), "c_lo"),
        (lambda: bounds.u_lower(1e9, c_hi=-1), "c_hi"),
        (lambda: bounds.d_star(c_lo=0), "c_lo"),
        (lambda: bounds.bounds_summary(1e9, c_hi=0), "c_hi"),
        (lambda: bounds.bounds_summary(0), "D"),
        (lambda: bounds.bounds_summary(1e9, fit="kaplan"), "fit"),
        (lambda: bounds.gamma_band("nope"), "fit"),
        (lambda: bounds.get_fit(3), "fit"),
        (lambda: bounds.epsilon("many"), "D"),
        (lambda: bounds.bloom_filter(1e6, 0), "fpr"),
        (lambda: bounds.bloom_filter(1e6, 1.0), "fpr"),
        (lambda: bounds.bloom_filter(-1, 0.01), "n_items"),
        (lambda: bounds.bloom_filter(float("inf"), 0.01), "n_items"),
        (lambda: bounds.LossFit("bad", E=1.0, A=1.0, B=-1.0, alpha=0.3, beta=0.3), "B"),
    ],
)
def test_bad_inputs_raise_config_error_naming_the_parameter(call, name):
    with pytest.raises(ConfigError, match=name) as info:
        call()
    assert isinstance(info.value, ValueError)


def test_unknown_fit_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="chinchilla, epoch"):
        bounds.get_fit("kaplan")
