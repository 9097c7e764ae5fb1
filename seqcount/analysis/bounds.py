"""The bounds of "Scaling Efficient LLMs" (Kausik, arXiv 2402.14746) as pure, vectorised functions.

The paper's body is not available to us, so this module is a *reconstruction*: every number the
paper reports follows exactly from the Chinchilla loss fit of Hoffmann et al. (2022),

    L(N, D) = E + A / N^alpha + B / D^beta          (nats/token)

through the excess loss that data alone leaves, ``epsilon(D) = B * D^-beta``. Two classical
learning rates bracket that excess loss in terms of the number U of unique sequences in a
corpus of D tokens: a fast rate ``epsilon ~ c_lo * U / D`` and a slow rate
``epsilon ~ c_hi * sqrt(U / D)``. Solving each for U gives

    U_upper(D) = D * epsilon / c_lo       = (B / c_lo)     * D^(1 - beta)     ~ 410.7 * D^0.72
    U_lower(D) = D * epsilon^2 / c_hi^2   = (B^2 / c_hi^2) * D^(1 - 2 beta)   ~ 168,674 * D^0.44
    U_mid(D)   = sqrt(U_lower * U_upper)                                      ~ 8,323 * D^0.58

so U grows as D^gamma with gamma in the band [1 - 2 beta, 1 - beta] = [0.44, 0.72] for the
Chinchilla fit, midpoint 1 - 1.5 beta = 0.58 (the paper's "N ~ D^0.58"), and doubling the number
of skills (unique sequences) takes 2^(1/gamma) = 2.62x to 4.83x more data (the paper's "3 to 5
fold"). The two bounds cross where ``U_lower = U_upper``, i.e. at ``epsilon = c_hi^2 / c_lo``; with
the default constants that is ``epsilon = 1`` at ``D* = B^(1/beta)`` (about 2.16e9 tokens). Below
D* the bracket is inverted and its absolute values mean nothing; exponents can still be compared.

What is certain and what is assumed:

* The exponents (band, midpoint, doubling factors) follow from beta alone and reproduce every
  number the paper states; they are as certain as the choice of loss fit.
* The constants ``c_lo`` and ``c_hi`` of the two learning rates are **assumptions**, default 1;
  they scale U_upper by ``1 / c_lo`` and U_lower by ``1 / c_hi^2`` and move the crossing point.
* The loss fit itself is a parameter (see :data:`FITS`): "chinchilla" (the paper's numbers) and
  "epoch" (the Epoch AI replication, which has a larger data exponent and hence a lower band).
* "One parameter per unique sequence" (:func:`n_eff`) is the paper's reading of an efficient
  model, not something derived here.

Every array function takes numpy arrays or scalars and returns the same shape (a numpy scalar,
which is a ``float``, for scalar input). Invalid inputs raise :class:`~seqcount.errors.ConfigError`
(a ``ValueError``) naming the parameter. Nothing here does I/O.

Example:
    >>> from seqcount import bounds
    >>> round(float(bounds.u_upper(1.4e12)), -9)
    228000000000.0
    >>> [round(g, 2) for g in bounds.gamma_band("chinchilla")]
    [0.44, 0.72]
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ..errors import ConfigError
from .lossfits import FITS, LossFit

__all__ = [
    "FITS",
    "LossFit",
    "bloom_filter",
    "bounds_summary",
    "d_star",
    "doubling_band",
    "doubling_factor",
    "epsilon",
    "gamma_band",
    "gamma_mid",
    "get_fit",
    "loss",
    "n_eff",
    "regime",
    "u_lower",
    "u_mid",
    "u_upper",
]

#: Verdicts of :func:`regime`, with what each means for a model of N parameters.
REGIMES = {
    "emergent": "N is below the unique sequences: scaling N can still uncover skills",
    "saturated": "N is above the unique sequences: more parameters alone should not uncover "
    "skills; more diverse data is needed",
    "undetermined": "N lies inside the paper's band: the bounds do not decide",
}


def get_fit(name_or_fit: str | LossFit) -> LossFit:
    """Look up a loss fit by name (case-insensitive), or pass a :class:`LossFit` through.

    Args:
        name_or_fit: a key of :data:`FITS` (``"chinchilla"``, ``"epoch"``) or a ``LossFit``.

    Returns:
        The :class:`LossFit`.

    Raises:
        ConfigError: if the name is unknown or the argument is neither a string nor a fit.
    """
    if isinstance(name_or_fit, LossFit):
        return name_or_fit
    if isinstance(name_or_fit, str):
        key = name_or_fit.strip().lower()
        if key in FITS:
            return FITS[key]
    raise ConfigError(
        f"fit: unknown loss fit {name_or_fit!r}; choose one of {', '.join(sorted(FITS))} "
        "or pass a seqcount.analysis.lossfits.LossFit"
    )


#: the parameter of the public functions (and of ``seqcount.bounds``) each quantity comes from
_PARAMS = {"D (tokens)": "tokens", "N (model parameters)": "model_params"}


def _positive(x: ArrayLike, name: str) -> np.ndarray:
    """``x`` as a float64 array whose every value is finite and > 0, else ConfigError."""
    param = _PARAMS.get(name, name)
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name} must be a positive number or array of them, got {x!r}", param
        ) from None
    ok = np.isfinite(a) & (a > 0)
    if not ok.all():
        bad = a[~ok].flat[0] if a.ndim else a
        raise ConfigError(f"{name} must be finite and > 0, got {float(bad)!r}", param)
    return a


def _shape_like(a: np.ndarray):
    """Return 0-d results as a numpy scalar (a ``float``), arrays unchanged."""
    return a[()] if a.ndim == 0 else a


def loss(N: ArrayLike, D: ArrayLike, fit: str | LossFit = "chinchilla"):
    """The fitted loss ``L(N, D) = E + A / N**alpha + B / D**beta`` in nats/token.

    Args:
        N: model parameters (> 0), scalar or array.
        D: training tokens (> 0), scalar or array; broadcast against ``N``.
        fit: loss fit name or :class:`LossFit`.

    Returns:
        The loss, with the broadcast shape of ``N`` and ``D``.

    Raises:
        ConfigError: if ``N`` or ``D`` is not positive, or the fit is unknown.
    """
    f = get_fit(fit)
    n = _positive(N, "N (model parameters)")
    d = _positive(D, "D (tokens)")
    return _shape_like(f.E + f.A * n ** (-f.alpha) + f.B * d ** (-f.beta))


def epsilon(D: ArrayLike, fit: str | LossFit = "chinchilla"):
    """The excess loss that data alone leaves, ``epsilon(D) = B * D**-beta``.

    Args:
        D: training tokens (> 0), scalar or array.
        fit: loss fit name or :class:`LossFit`.

    Returns:
        epsilon(D), same shape as ``D`` (0.163 nats/token at D = 1.4e12 for Chinchilla).

    Raises:
        ConfigError: if ``D`` is not positive or the fit is unknown.
    """
    f = get_fit(fit)
    return _shape_like(f.B * _positive(D, "D (tokens)") ** (-f.beta))


def u_upper(D: ArrayLike, fit: str | LossFit = "chinchilla", c_lo: ArrayLike = 1.0):
    """Upper bound on unique sequences, from the fast rate ``epsilon = c_lo * U / D``.

    ``U_upper = D * epsilon / c_lo = (B / c_lo) * D**(1 - beta)``.

    Args:
        D: training tokens (> 0), scalar or array.
        fit: loss fit name or :class:`LossFit`.
        c_lo: constant of the fast rate (an assumption, default 1; > 0).

    Returns:
        U_upper(D), same shape as ``D`` (about 2.28e11 at D = 1.4e12 for Chinchilla).

    Raises:
        ConfigError: if ``D`` or ``c_lo`` is not positive or the fit is unknown.
    """
    d = _positive(D, "D (tokens)")
    c = _positive(c_lo, "c_lo")
    return _shape_like(d * epsilon(d, fit) / c)


def u_lower(D: ArrayLike, fit: str | LossFit = "chinchilla", c_hi: ArrayLike = 1.0):
    """Lower bound on unique sequences, from the slow rate ``epsilon = c_hi * sqrt(U / D)``.

    ``U_lower = D * epsilon**2 / c_hi**2 = (B**2 / c_hi**2) * D**(1 - 2 beta)``.

    ``D`` and ``fit`` are as for :func:`u_upper`; ``c_hi`` is the constant of the slow rate
    (an assumption, default 1; > 0). Returns U_lower(D), shaped like ``D`` (about 3.73e10 at
    D = 1.4e12 for Chinchilla); raises :class:`ConfigError` as :func:`u_upper` does.
    """
    d = _positive(D, "D (tokens)")
    c = _positive(c_hi, "c_hi")
    return _shape_like(d * epsilon(d, fit) ** 2 / c**2)


def u_mid(
    D: ArrayLike, fit: str | LossFit = "chinchilla", c_lo: ArrayLike = 1.0, c_hi: ArrayLike = 1.0
):
    """Geometric midpoint of the bounds, ``sqrt(U_lower * U_upper)``.

    With c_lo = c_hi = 1 this is ``B**1.5 * D**(1 - 1.5 beta)``, about 8,323 * D^0.58 for
    Chinchilla: the paper's single-exponent statement "N ~ D^0.58".

    Args:
        D: training tokens (> 0), scalar or array.
        fit: loss fit name or :class:`LossFit`.
        c_lo: constant of the fast rate (assumption, default 1).
        c_hi: constant of the slow rate (assumption, default 1).

    Returns:
        U_mid(D), same shape as ``D`` (about 9.2e10 at D = 1.4e12 for Chinchilla).

    Raises:
        ConfigError: if ``D``, ``c_lo`` or ``c_hi`` is not positive or the fit is unknown.
    """
    return _shape_like(np.sqrt(u_lower(D, fit, c_hi) * u_upper(D, fit, c_lo)))


def n_eff(
    D: ArrayLike, fit: str | LossFit = "chinchilla", c_lo: ArrayLike = 1.0, c_hi: ArrayLike = 1.0
):
    """The paper's efficient parameter count for a corpus of D tokens: ``N_eff(D) = U_mid(D)``.

    An efficient LLM (fewest parameters for the desired accuracy) has about one parameter per
    unique sequence of its corpus, N_eff(D) ~ U(D); the paper's single-exponent statement of
    that is U_mid, i.e. N ~ D^(1 - 1.5 beta) = D^0.58 for Chinchilla. The one-parameter-per-
    sequence reading is the paper's, not derived here. Arguments, shape and errors as
    :func:`u_mid`.
    """
    return u_mid(D, fit, c_lo, c_hi)


def gamma_band(fit: str | LossFit = "chinchilla") -> tuple[float, float]:
    """The band of growth exponents of U(D): ``(1 - 2 beta, 1 - beta)``.

    Args:
        fit: loss fit name or :class:`LossFit`.

    Returns:
        ``(low, high)``: the exponents of U_lower and U_upper; (0.44, 0.72) for Chinchilla.

    Raises:
        ConfigError: if the fit is unknown.
    """
    b = get_fit(fit).beta
    return (1.0 - 2.0 * b, 1.0 - b)


def gamma_mid(fit: str | LossFit = "chinchilla") -> float:
    """The midpoint of the band, ``1 - 1.5 beta`` (the exponent of U_mid; 0.58 for Chinchilla).

    Args:
        fit: loss fit name or :class:`LossFit`.

    Raises:
        ConfigError: if the fit is unknown.
    """
    return 1.0 - 1.5 * get_fit(fit).beta


def d_star(fit: str | LossFit = "chinchilla", c_lo: float = 1.0, c_hi: float = 1.0) -> float:
    """Corpus size above which the band is meaningful: where U_lower = U_upper.

    The bounds cross where ``epsilon(D) = c_hi**2 / c_lo``, i.e. at
    ``D* = (B * c_lo / c_hi**2)**(1 / beta)``; with the default constants that is where
    ``epsilon = 1``, ``D* = B**(1 / beta)`` (about 2.16e9 tokens for Chinchilla). Below D*,
    U_lower > U_upper and the absolute values of the band mean nothing.

    Args:
        fit: loss fit name or :class:`LossFit`.
        c_lo: constant of the fast rate (assumption, default 1).
        c_hi: constant of the slow rate (assumption, default 1).

    Returns:
        D* in tokens.

    Raises:
        ConfigError: if ``c_lo`` or ``c_hi`` is not positive or the fit is unknown.
    """
    f = get_fit(fit)
    lo = float(_positive(c_lo, "c_lo"))
    hi = float(_positive(c_hi, "c_hi"))
    return float((f.B * lo / hi**2) ** (1.0 / f.beta))


def doubling_factor(gamma: ArrayLike):
    """Growth in data that doubles U when ``U = c * D**gamma``: ``k = 2**(1 / gamma)``.

    Args:
        gamma: growth exponent(s), scalar or array. ``gamma <= 0`` (U does not grow) gives
            ``inf``; NaN stays NaN.

    Returns:
        The factor, same shape as ``gamma`` (2.62 at 0.72, 3.30 at 0.58, 4.83 at 0.44).

    Raises:
        ConfigError: if ``gamma`` is not numeric.
    """
    try:
        g = np.asarray(gamma, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"gamma must be a number or array of numbers, got {gamma!r}") from None
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        k = np.where(g > 0, np.exp2(1.0 / np.where(g > 0, g, 1.0)), np.inf)
    k = np.where(np.isnan(g), np.nan, k)
    return _shape_like(k)


def doubling_band(fit: str | LossFit = "chinchilla") -> tuple[float, float]:
    """Range of skills-doubling factors over the band: ``(2**(1/(1-beta)), 2**(1/(1-2 beta)))``.

    Args:
        fit: loss fit name or :class:`LossFit`.

    Returns:
        ``(factor at the high exponent, factor at the low exponent)``: the fewest and the most
        data growth that doubles U; (2.62, 4.83) for Chinchilla, the paper's "3 to 5 fold".

    Raises:
        ConfigError: if the fit is unknown.
    """
    lo, hi = gamma_band(fit)
    return (float(doubling_factor(hi)), float(doubling_factor(lo)))


def _verdict(n: float, below: float, above: float) -> str:
    if n < below:
        return "emergent"
    if n > above:
        return "saturated"
    return "undetermined"


def regime(
    N: float,
    D: float,
    fit: str | LossFit = "chinchilla",
    u_measured: float | None = None,
    c_lo: float = 1.0,
    c_hi: float = 1.0,
) -> dict:
    """Emergent-skills regime of a model of N parameters trained on D tokens.

    Against the paper's band: ``"emergent"`` when N < U_lower(D) (scaling N can still uncover
    skills), ``"saturated"`` when N > U_upper(D) (more diverse data is needed, not more
    parameters), ``"undetermined"`` in between. Against a measured or extrapolated U of the
    actual corpus (``u_measured``): ``"emergent"`` when N < U, else ``"saturated"``.

    Below D* (see :func:`d_star`) the bounds are inverted (U_lower > U_upper); the band verdict is
    then taken against ``min`` / ``max`` of the two, ``below_d_star`` is True and ``note`` says
    that the verdict is not meaningful there.

    Args:
        N: model parameters (> 0), a scalar.
        D: training tokens (> 0), a scalar.
        fit: loss fit name or :class:`LossFit`.
        u_measured: unique sequences measured (or extrapolated) for this corpus at D, or None.
        c_lo: constant of the fast rate (assumption, default 1).
        c_hi: constant of the slow rate (assumption, default 1).

    Returns:
        A JSON-serialisable dict with ``model_params``, ``tokens``, ``fit``, ``u_lower``,
        ``u_mid``, ``u_upper``, ``band`` (the verdict against the band), ``band_meaning``,
        ``d_star``, ``below_d_star`` and ``note`` (a string, or None above D*); with
        ``u_measured`` also ``u_measured``, ``measured`` (the verdict against it) and
        ``measured_meaning``.

    Raises:
        ConfigError: if N, D, u_measured, c_lo or c_hi is not a positive scalar, or the fit is
            unknown.
    """
    f = get_fit(fit)
    n = _positive_scalar(N, "N (model parameters)")
    d = _positive_scalar(D, "D (tokens)")
    lo = float(u_lower(d, f, c_hi))
    hi = float(u_upper(d, f, c_lo))
    ds = d_star(f, c_lo, c_hi)
    below = d < ds
    band = _verdict(n, min(lo, hi), max(lo, hi))
    out = {
        "model_params": n,
        "tokens": d,
        "fit": f.name,
        "u_lower": lo,
        "u_mid": float(u_mid(d, f, c_lo, c_hi)),
        "u_upper": hi,
        "band": band,
        "band_meaning": REGIMES[band],
        "d_star": ds,
        "below_d_star": bool(below),
        "note": (
            f"D = {d:.3g} is below D* = {ds:.3g}: U_lower > U_upper here, so the band "
            "verdict is not meaningful; compare growth exponents instead"
            if below
            else None
        ),
    }
    if u_measured is not None:
        u = _positive_scalar(u_measured, "u_measured")
        verdict = "emergent" if n < u else "saturated"
        out.update(u_measured=u, measured=verdict, measured_meaning=REGIMES[verdict])
    return out


def _positive_scalar(x, name: str) -> float:
    a = _positive(x, name)
    if a.ndim != 0:
        raise ConfigError(
            f"{name} must be a single number, got an array of shape {a.shape}",
            _PARAMS.get(name, name),
        )
    return float(a)


def bounds_summary(
    D: float,
    fit: str | LossFit = "chinchilla",
    model_params: float | None = None,
    c_lo: float = 1.0,
    c_hi: float = 1.0,
) -> dict:
    """The paper's numbers for a corpus of D tokens, as one JSON-serialisable dict.

    This is the contract of ``seqcount bounds --json``.

    Args:
        D: training tokens (> 0), a scalar.
        fit: loss fit name or :class:`LossFit`.
        model_params: a model size N; adds ``regime`` (see :func:`regime`).
        c_lo: constant of the fast rate (assumption, default 1).
        c_hi: constant of the slow rate (assumption, default 1).

    Returns:
        A dict of plain Python values with the keys ``tokens``, ``fit`` (name), ``c_lo``,
        ``c_hi``, ``epsilon``, ``u_lower``, ``u_mid``, ``u_upper``, ``gamma_band`` ([low, high]),
        ``gamma_mid``, ``d_star`` (where U_lower = U_upper for these constants),
        ``doubling_band`` ([factor at the high exponent, factor at the low one]),
        ``doubling_mid``, ``below_d_star`` (``D < D*``: U_lower is above U_upper, and the band
        means nothing), and ``regime`` (a dict) only when ``model_params`` is given.

    Raises:
        ConfigError: if D, model_params, c_lo or c_hi is not a positive scalar, or the fit is
            unknown.
    """
    f = get_fit(fit)
    d = _positive_scalar(D, "D (tokens)")
    lo_c = _positive_scalar(c_lo, "c_lo")
    hi_c = _positive_scalar(c_hi, "c_hi")
    g_lo, g_hi = gamma_band(f)
    g_mid = gamma_mid(f)
    out = {
        "tokens": d,
        "fit": f.name,
        "c_lo": lo_c,
        "c_hi": hi_c,
        "epsilon": float(epsilon(d, f)),
        "u_lower": float(u_lower(d, f, hi_c)),
        "u_mid": float(u_mid(d, f, lo_c, hi_c)),
        "u_upper": float(u_upper(d, f, lo_c)),
        "gamma_band": [g_lo, g_hi],
        "gamma_mid": g_mid,
        "d_star": d_star(f, lo_c, hi_c),
        "doubling_band": list(doubling_band(f)),
        "doubling_mid": float(doubling_factor(g_mid)),
    }
    out["below_d_star"] = bool(d < out["d_star"])
    if model_params is not None:
        out["regime"] = regime(model_params, d, f, c_lo=lo_c, c_hi=hi_c)
    return out


def bloom_filter(n_items: float, fpr: float) -> dict:
    """Size of a Bloom filter for ``n_items`` distinct keys at false-positive rate ``fpr``.

    Textbook optimum: ``m = ceil(-n ln p / (ln 2)**2)`` bits and ``k = max(1, round(m / n ln 2))``
    hash functions. For n = 1e6 and p = 0.01 that is 9,585,059 bits (1.14 MiB) and 7 hashes.
    With ``n_items = 0`` the filter is empty: 0 bits, 1 hash.

    Args:
        n_items: expected distinct keys (>= 0, finite), e.g. an extrapolated U_n.
        fpr: target false-positive rate, in (0, 1).

    Returns:
        A JSON-serialisable dict with ``bits`` (int), ``bytes`` (int, bits rounded up to whole
        bytes), ``hashes`` (int), ``n_items`` and ``fpr``.

    Raises:
        ConfigError: if ``n_items`` is negative or not finite, or ``fpr`` is not in (0, 1).
    """
    try:
        n = float(n_items)
        p = float(fpr)
    except (TypeError, ValueError):
        raise ConfigError(
            f"n_items and fpr must be numbers, got n_items={n_items!r}, fpr={fpr!r}"
        ) from None
    if not (math.isfinite(n) and n >= 0):
        raise ConfigError(f"n_items must be finite and >= 0, got {n_items!r}")
    if not 0 < p < 1:
        raise ConfigError(f"fpr must be in (0, 1), got {fpr!r}")
    ln2 = math.log(2.0)
    bits = math.ceil(-n * math.log(p) / ln2**2) if n > 0 else 0
    hashes = max(1, round(bits / n * ln2)) if n > 0 else 1
    return {
        "bits": int(bits),
        "bytes": -(-bits // 8),
        "hashes": int(hashes),
        "n_items": n,
        "fpr": p,
    }
