"""Power-law fits of growth curves U_n(D), local slopes, and a saturating alternative."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.results import CurveRow
from ..errors import FormatError

#: Fewest checkpoints a power law is fitted to (two parameters, and one degree of freedom left).
MIN_POINTS = 3


def curve_points(rows: list[CurveRow], n: int, exact: bool = False) -> tuple[np.ndarray, ...]:
    """``(tokens, unique)`` of window size ``n`` as float arrays, points with U > 0 only.

    ``unique`` is the exact count with ``exact``, else each row's :attr:`CurveRow.estimate`
    (the HIP estimate where the curve has one)."""
    pts = [(r.tokens, r.unique_exact if exact else r.estimate) for r in rows if r.n == n]
    if exact and any(u is None for _, u in pts):
        raise FormatError("this curve has no unique_exact column (count with exact=True)")
    d = np.array([p[0] for p in pts], dtype=np.float64)
    u = np.array([p[1] for p in pts], dtype=np.float64)
    keep = (d > 0) & (u > 0)
    return d[keep], u[keep]


def local_slopes(tokens: np.ndarray, unique: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local exponents ``d log U / d log D`` between consecutive checkpoints.

    Returns:
        (D at the geometric middle of each step, slope of each step).
    """
    x, y = np.log(tokens), np.log(unique)
    dx = np.diff(x)
    ok = dx > 0
    mid = np.exp((x[1:] + x[:-1]) / 2)[ok]
    return mid, (np.diff(y)[ok] / dx[ok])


@dataclass(frozen=True)
class GrowthFit:
    """A power law ``U = c * D**gamma`` fitted to one growth curve, and a cut-off alternative.

    Attributes:
        n: window size.
        gamma, c: the power law, by least squares of log U on log D over ``[d_lo, d_hi]``.
        gamma_err: standard error of gamma: the regression's, combined with the error the sketch
            adds (relative error ``rel_err`` at both ends of the range, independent), i.e.
            ``sqrt(se_ols**2 + 2 * rel_err**2 / log(d_hi/d_lo)**2)``.
        gamma_err_ols, gamma_err_sketch: the two parts.
        points: checkpoints in the range.
        rss, aic: residual sum of squares (log space) and Akaike criterion of the power law.
        cutoff_gamma, cutoff_d: the alternative ``U = c * D**gamma * exp(-D / cutoff_d)``
            (a power law bending into saturation, as small n do on real text), or ``None`` when
            the data do not bend down (no positive cut-off).
        cutoff_aic: its Akaike criterion; ``preferred`` is ``"cutoff"`` when it is lower by more
            than 2 and the bend over the range, ``(d_hi - d_lo) / cutoff_d``, exceeds three
            sketch errors (checkpoints share one sketch, so its error is not independent noise
            and AIC alone would take it for a bend); else ``"power-law"``.
    """

    n: int
    gamma: float
    gamma_err: float
    gamma_err_ols: float
    gamma_err_sketch: float
    c: float
    d_lo: float
    d_hi: float
    points: int
    rss: float
    aic: float
    x_mean: float = 0.0
    sxx: float = 0.0
    resid_var: float = 0.0
    rel_err: float = 0.0
    cutoff_gamma: float | None = None
    cutoff_d: float | None = None
    cutoff_aic: float | None = None
    preferred: str = "power-law"

    def predict(self, tokens) -> np.ndarray:
        """U at ``tokens`` from the power law."""
        return self.c * np.asarray(tokens, dtype=np.float64) ** self.gamma

    def interval(self, tokens, z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
        """A prediction interval for U at ``tokens`` (log space, ± z standard errors).

        The variance adds the regression's prediction variance (intercept and slope, and the
        scatter of the points), the sketch's error of one estimate, and the sketch's part of
        the slope error times the distance from the fitted range's top; it widens away from
        the fitted range.
        """
        x = np.log(np.asarray(tokens, dtype=np.float64))
        k = max(self.points, 3)
        var = self.resid_var * (1 + 1 / k + (x - self.x_mean) ** 2 / max(self.sxx, 1e-300))
        var = var + self.rel_err**2 + (self.gamma_err_sketch * (x - math.log(self.d_hi))) ** 2
        centre = np.log(self.predict(np.exp(x)))
        half = z * np.sqrt(var)
        return np.exp(centre - half), np.exp(centre + half)

    def to_dict(self) -> dict:
        """Every attribute, numpy floats as Python floats."""
        return {
            k: (float(v) if isinstance(v, (np.floating, float)) else v)
            for k, v in self.__dict__.items()
        }


def default_range(tokens: np.ndarray, decades: float = 2.0, min_points: int = 5) -> tuple:
    """The upper ``decades`` of D (widened to hold ``min_points`` checkpoints if needed).

    Args:
        tokens: float64 array of the curve's D values, at least one.

    Raises:
        ValueError: ``tokens`` is empty.
    """
    if tokens.shape[0] == 0:
        raise ValueError("no checkpoints: the curve is empty")
    hi = float(tokens.max())
    lo = hi / 10**decades
    inside = tokens[tokens >= lo]
    if inside.shape[0] < min_points and tokens.shape[0] >= min_points:
        lo = float(np.sort(tokens)[-min_points])
    return max(lo, float(tokens.min())), hi


def too_few_points(tokens: np.ndarray) -> str | None:
    """Why a curve of these checkpoints cannot be fitted at all, or ``None`` if it can.

    Args:
        tokens: float64 array of the curve's D values (points with U > 0).
    """
    k = int(tokens.shape[0])
    if k < MIN_POINTS:
        return f"too few checkpoints to fit ({k} < {MIN_POINTS})"
    return None


def _aic(rss: float, k: int, params: int) -> float:
    return k * math.log(max(rss, 1e-300) / k) + 2 * params


def fit_growth(
    tokens: np.ndarray,
    unique: np.ndarray,
    n: int,
    rel_err: float = 0.0,
    d_range: tuple[float, float] | None = None,
) -> GrowthFit:
    """Fit ``U = c * D**gamma`` (and the cut-off alternative) to one growth curve.

    Args:
        tokens, unique: the curve (D, U), U > 0.
        n: window size (carried into the result).
        rel_err: relative standard error of each U (the sketch's 1.04/sqrt(2**p); 0 if exact).
        d_range: ``(lo, hi)`` range of D to fit; default :func:`default_range`.

    Raises:
        ValueError: fewer than :data:`MIN_POINTS` checkpoints on the curve
            (:func:`too_few_points` says so) or in the range.
    """
    reason = too_few_points(tokens)
    if reason is not None:
        raise ValueError(f"n={n}: {reason}")
    lo, hi = d_range if d_range is not None else default_range(tokens)
    sel = (tokens >= lo) & (tokens <= hi)
    d, u = tokens[sel], unique[sel]
    k = int(d.shape[0])
    if k < MIN_POINTS:
        raise ValueError(
            f"n={n}: {k} checkpoint(s) in D range [{lo:.3g}, {hi:.3g}]; need {MIN_POINTS}"
        )
    x, y = np.log(d), np.log(u)
    a = np.column_stack([np.ones(k), x])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    resid = y - a @ coef
    rss = float(resid @ resid)
    sxx = float(((x - x.mean()) ** 2).sum())
    se_ols = math.sqrt(rss / (k - 2) / sxx) if k > 2 and sxx > 0 else float("inf")
    span = float(x.max() - x.min())
    se_sketch = math.sqrt(2.0) * rel_err / span if span > 0 else float("inf")
    fit = dict(
        n=n,
        gamma=float(coef[1]),
        gamma_err=math.sqrt(se_ols**2 + se_sketch**2),
        gamma_err_ols=se_ols,
        gamma_err_sketch=se_sketch,
        c=float(math.exp(coef[0])),
        d_lo=float(d.min()),
        d_hi=float(d.max()),
        points=k,
        rss=rss,
        aic=_aic(rss, k, 2),
        x_mean=float(x.mean()),
        sxx=sxx,
        resid_var=rss / (k - 2) if k > 2 else 0.0,
        rel_err=float(rel_err),
    )
    if k >= 4:
        scale = float(d.max())
        b = np.column_stack([np.ones(k), x, -d / scale])
        cc, *_ = np.linalg.lstsq(b, y, rcond=None)
        if cc[2] > 0:
            r2 = y - b @ cc
            rss2 = float(r2 @ r2)
            aic2 = _aic(rss2, k, 3)
            cutoff_d = scale / float(cc[2])
            # the bend must also exceed what the sketch's error could fake: the cut-off's
            # factor changes by (d_hi - d_lo) / cutoff_d over the range
            material = (float(d.max()) - float(d.min())) / cutoff_d > 3 * rel_err
            fit.update(
                cutoff_gamma=float(cc[1]),
                cutoff_d=cutoff_d,
                cutoff_aic=aic2,
                preferred="cutoff" if aic2 < fit["aic"] - 2 and material else "power-law",
            )
    return GrowthFit(**fit)
