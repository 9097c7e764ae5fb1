"""Power-law fits of growth curves U_n(D), local slopes, and a saturating alternative.

The alternative, ``U = c * (D / (1 + D/Dc)) ** g`` with ``g >= 0``, is monotone by
construction: it is chosen over the power law only on checkpoints it was not fitted to (the top
third of the fit range), and only when its gain there exceeds what the sketch's error could fake.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..engine.results import CurveRow
from ..errors import FormatError

#: Fewest checkpoints a power law is fitted to (two parameters, and one degree of freedom left).
MIN_POINTS = 3
#: The alternative model's name (``GrowthFit.alternative``).
ALTERNATIVE = "saturating"
#: Fewest checkpoints in the fit range for the held-out comparison (four to fit the
#: alternative's three parameters, two held out).
MIN_HELDOUT_RANGE = 6
#: The alternative's held-out gain (RMS log error) must exceed this many sketch errors ...
SKETCH_ERRORS = 3.0
#: ... and its held-out error must be at most this fraction of the power law's.
GAIN_RATIO = 0.5


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
    """A power law ``U = c * D**gamma`` fitted to one growth curve, and a saturating alternative.

    Attributes:
        n: window size.
        gamma, c: the power law, by least squares of log U on log D over ``[d_lo, d_hi]``.
        gamma_err: standard error of gamma: the regression's, combined with the error the sketch
            adds (relative error ``rel_err`` at both ends of the range, independent), i.e.
            ``sqrt(se_ols**2 + 2 * rel_err**2 / log(d_hi/d_lo)**2)``.
        gamma_err_ols, gamma_err_sketch: the two parts.
        points: checkpoints in the range.
        rss, aic: residual sum of squares (log space) and Akaike criterion of the power law.
        alternative: ``"saturating"``: the alternative model is
            ``U = cutoff_c * (D / (1 + D / cutoff_d)) ** cutoff_gamma`` (see
            :func:`fit_saturating`), which rises monotonically (``cutoff_gamma >= 0``) from the
            power law ``D**cutoff_gamma`` well below ``cutoff_d`` to the ceiling
            ``cutoff_ceiling = cutoff_c * cutoff_d ** cutoff_gamma`` well above it. The
            ``cutoff_*`` keys keep their names from an earlier, non-monotone cut-off model.
        cutoff_gamma, cutoff_d, cutoff_c, cutoff_ceiling: the alternative fitted over the whole
            range, or ``None`` when the curve does not bend down within reach (its best
            ``cutoff_d`` is far above the range: the power law itself).
        cutoff_aic: its Akaike criterion (three parameters), for information only.
        heldout_points: checkpoints held out (the top third of the range; ``None`` when the
            range has fewer than :data:`MIN_HELDOUT_RANGE`); both models are refitted on the
            rest and scored on them.
        heldout_err, cutoff_heldout_err: root-mean-square log error of the power law and of the
            alternative on the held-out checkpoints.
        preferred: ``"cutoff"`` (the saturating alternative) when it predicts the held-out
            checkpoints better by more than :data:`SKETCH_ERRORS` sketch errors (``rel_err``:
            the checkpoints share one sketch, so its error can bend a curve that much), its
            error is at most :data:`GAIN_RATIO` of the power law's, and its bend lies inside
            the data (``cutoff_d <= d_hi``: at the range's top its local exponent has fallen to
            half or less; a ceiling further out is an extrapolation, and a curve whose slope
            only drifts down, e.g. a Pitman-Yor process converging to its exponent, is not
            saturating); else ``"power-law"``. A non-monotone model is never chosen.
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
    alternative: str = ALTERNATIVE
    cutoff_c: float | None = None
    cutoff_ceiling: float | None = None
    heldout_points: int | None = None
    heldout_err: float | None = None
    cutoff_heldout_err: float | None = None

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
    fit.update(_alternative(d, u, rel_err))
    return GrowthFit(**fit)


def saturating_curve(tokens, c: float, gamma: float, d_c: float) -> np.ndarray:
    """``c * (D / (1 + D / d_c)) ** gamma`` at ``tokens``: non-decreasing in D for
    ``gamma >= 0`` and ``d_c > 0``, rising to the ceiling ``c * d_c ** gamma``."""
    d = np.asarray(tokens, dtype=np.float64)
    return c * (d / (1.0 + d / d_c)) ** gamma


@dataclass(frozen=True)
class Saturating:
    """A fitted :func:`saturating_curve` and its residual sum of squares (log space)."""

    c: float
    gamma: float
    d_c: float
    rss: float

    def predict(self, tokens) -> np.ndarray:
        """U at ``tokens``."""
        return saturating_curve(tokens, self.c, self.gamma, self.d_c)

    @property
    def ceiling(self) -> float:
        """The limit of U as D grows."""
        return self.c * self.d_c**self.gamma


def _saturating_at(x: np.ndarray, d: np.ndarray, y: np.ndarray, log_dc: float) -> tuple:
    """``(rss, log c, gamma)`` of the best saturating curve with ``d_c = exp(log_dc)``: linear
    least squares of ``y`` on ``x - log(1 + d/d_c)``, with ``gamma`` held at 0 or more."""
    z = x - np.log1p(d / math.exp(log_dc))
    zc = z - z.mean()
    szz = float(zc @ zc)
    g = float(zc @ (y - y.mean())) / szz if szz > 1e-18 else 0.0
    g = max(g, 0.0)
    a = float(y.mean()) - g * float(z.mean())
    r = y - a - g * z
    return float(r @ r), a, g


def fit_saturating(tokens: np.ndarray, unique: np.ndarray, grid: int = 121) -> Saturating | None:
    """Fit :func:`saturating_curve` to a curve by least squares in log space.

    A search over ``log d_c`` (a grid from a decade below the smallest D to four decades above
    the largest, then a golden-section refinement around the best grid point), with the linear
    least squares for ``log c`` and ``gamma`` inside it; ``gamma`` is held at 0 or more, so
    every fitted curve is non-decreasing.

    Args:
        tokens, unique: the curve (D > 0, U > 0), at least three points.

    Returns:
        The fit, or ``None`` when the best ``d_c`` is the top of the search (the curve does not
        bend down within reach: the power law fits at least as well).
    """
    d = np.asarray(tokens, dtype=np.float64)
    x, y = np.log(d), np.log(np.asarray(unique, dtype=np.float64))
    if x.shape[0] < 3:
        return None
    logs = np.linspace(float(x.min()) - math.log(10.0), float(x.max()) + math.log(1e4), grid)
    rss = np.array([_saturating_at(x, d, y, t)[0] for t in logs])
    i = int(np.argmin(rss))
    if i >= grid - 2:
        return None
    lo, hi = logs[max(i - 1, 0)], logs[i + 1]
    phi = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(40):
        a, b = hi - phi * (hi - lo), lo + phi * (hi - lo)
        if _saturating_at(x, d, y, a)[0] <= _saturating_at(x, d, y, b)[0]:
            hi = b
        else:
            lo = a
    best = min((logs[i], (lo + hi) / 2), key=lambda t: _saturating_at(x, d, y, t)[0])
    r, a, g = _saturating_at(x, d, y, best)
    return Saturating(c=math.exp(a), gamma=g, d_c=math.exp(best), rss=r)


def _rms_log_err(predicted: np.ndarray, unique: np.ndarray) -> float:
    e = np.log(predicted) - np.log(unique)
    return float(np.sqrt(np.mean(e * e)))


def _alternative(d: np.ndarray, u: np.ndarray, rel_err: float) -> dict:
    """The ``cutoff_*``, ``heldout_*`` and ``preferred`` keys of :class:`GrowthFit` for the
    curve ``(d, u)`` (the fit range's checkpoints, D increasing)."""
    k = int(d.shape[0])
    out: dict = {}
    sat = fit_saturating(d, u) if k >= 4 else None
    if sat is not None:
        out.update(
            cutoff_gamma=sat.gamma,
            cutoff_d=sat.d_c,
            cutoff_c=sat.c,
            cutoff_ceiling=sat.ceiling,
            cutoff_aic=_aic(sat.rss, k, 3),
        )
    if k < MIN_HELDOUT_RANGE:
        return out
    order = np.argsort(d, kind="stable")
    d, u = d[order], u[order]
    held = k // 3
    dt, ut, dh, uh = d[:-held], u[:-held], d[-held:], u[-held:]
    gamma, log_c = np.polyfit(np.log(dt), np.log(ut), 1)
    pl_err = _rms_log_err(np.exp(log_c) * dh**gamma, uh)
    train = fit_saturating(dt, ut)
    alt_err = pl_err if train is None else _rms_log_err(train.predict(dh), uh)
    out.update(heldout_points=held, heldout_err=pl_err, cutoff_heldout_err=alt_err)
    gain = pl_err - alt_err
    inside = sat is not None and sat.d_c <= float(d[-1])  # the bend shows in the data
    if inside and gain > SKETCH_ERRORS * rel_err and alt_err <= GAIN_RATIO * pl_err:
        out["preferred"] = "cutoff"
    return out
