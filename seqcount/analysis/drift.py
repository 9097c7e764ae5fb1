"""Verdicts a reviewer can defend: the growth exponent over the fit range and its drift with D,
set against the paper's band, and one sentence per window size that says so.

A verdict is only as strong as its interval (:mod:`.resample`):

* ``"in band"``: the exponent's 95% interval over the fit range lies inside the band;
* ``"below band"`` / ``"above band"``: it lies wholly below / above the band;
* ``"crosses band"``: within the fit range the local exponent (per half decade) is confidently
  on both sides of one band edge: some half decade's interval lies wholly above the edge and
  another's wholly below it;
* ``"undecided"``: none of these; the interval straddles a band edge.

``"crosses band"`` is checked first: a drifting exponent whose range-average happens to land in
the band is not "in band". Moving the fit range along a curve whose exponent drifts across an
edge then gives "crosses band" or "undecided" for every range holding the crossing, instead of a
verdict that flips between "in band" and "not in band".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .resample import Estimate, half_decades, range_exponent

#: What a verdict can say (the same as :data:`seqcount.analysis.band.VERDICTS`).
IN, BELOW, ABOVE, CROSSES, UNDECIDED = (
    "in band", "below band", "above band", "crosses band", "undecided",
)  # fmt: skip


def in_range(local: list[Estimate], d_lo: float, d_hi: float) -> list[Estimate]:
    """The half decades whose geometric middle lies in ``[d_lo, d_hi]``."""
    eps = 1e-9
    return [e for e in local if d_lo * (1 - eps) <= math.sqrt(e.d_lo * e.d_hi) <= d_hi * (1 + eps)]


def crossed_edges(local: list[Estimate], band: tuple[float, float]) -> list[float]:
    """The band edges that the local exponents are confidently on both sides of."""
    out = []
    for edge in band:
        above = any(e.ci95[0] > edge for e in local)
        below = any(e.ci95[1] < edge for e in local)
        if above and below:
            out.append(edge)
    return out


def verdict(overall: Estimate, local: list[Estimate], band: tuple[float, float]) -> str:
    """One of the verdicts of the module docstring, for the exponent ``overall`` over the fit
    range and the half decades ``local`` inside it."""
    if crossed_edges(local, band):
        return CROSSES
    lo, hi = overall.ci95
    if band[0] <= lo and hi <= band[1]:
        return IN
    if hi < band[0]:
        return BELOW
    if lo > band[1]:
        return ABOVE
    return UNDECIDED


def fmt_d(x: float) -> str:
    """A corpus size as ``3e6``, ``3.2e7`` (two significant figures)."""
    mant, exp = f"{x:.1e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


def _pm(e: Estimate) -> str:
    return f"{e.value:.2f} ± {1.96 * e.se:.2f}"


def crossing_point(local: list[Estimate], edge: float) -> float | None:
    """The D where the local exponents' central values first pass ``edge`` (interpolated in
    log D between the middles of two half decades), or ``None``."""
    pts = [(math.sqrt(e.d_lo * e.d_hi), e.value) for e in local]
    for (d0, g0), (d1, g1) in zip(pts, pts[1:]):
        if (g0 - edge) * (g1 - edge) < 0:
            t = (edge - g0) / (g1 - g0)
            return math.exp(math.log(d0) + t * (math.log(d1) - math.log(d0)))
    return None


def sentence(
    n: int, overall: Estimate, local: list[Estimate], band: tuple[float, float], label: str
) -> str:
    """One sentence a researcher could quote, e.g. "n=1: γ falls from 0.78 ± 0.03 at D = 1e6 to
    0.64 ± 0.03 at D = 3e7 and enters the band near D = 4e6 (γ = 0.70 ± 0.02 over 3e5-3e7:
    crosses band)"."""
    rng = f"over D = {fmt_d(overall.d_lo)}–{fmt_d(overall.d_hi)}"
    head = f"n={n}: γ = {_pm(overall)} {rng}"
    moved = False
    if len(local) >= 2:
        a, b = local[0], local[-1]
        da, db = math.sqrt(a.d_lo * a.d_hi), math.sqrt(b.d_lo * b.d_hi)
        moved = abs(b.value - a.value) > 1.96 * math.hypot(a.se, b.se)
        if moved:
            way = "falls" if b.value < a.value else "rises"
            head = f"n={n}: γ {way} from {_pm(a)} at D = {fmt_d(da)} to {_pm(b)} at D = {fmt_d(db)}"
        else:
            head = f"n={n}: γ holds at {_pm(overall)} {rng}"
    band_s = f"the paper's band ({band[0]:.2f}–{band[1]:.2f})"
    whole = "; over the whole range" if moved else ","
    tail = {
        IN: f"{whole} inside {band_s}",
        BELOW: f"{whole} below {band_s}",
        ABOVE: f"{whole} above {band_s}",
        UNDECIDED: f"; its interval straddles an edge of {band_s}: in or out is undecided",
    }.get(label, "")
    if label == CROSSES:
        parts = []
        for edge in crossed_edges(local, band):
            at = crossing_point(local, edge)
            where = f" near D = {fmt_d(at)}" if at is not None else ""
            inside_after = (local[-1].value <= edge) == (edge == band[1])
            parts.append(f"{'enters' if inside_after else 'leaves'} the band at {edge:.2f}{where}")
        tail = " and " + " and ".join(parts)
    if moved:
        tail += f" (γ = {_pm(overall)} {rng}: {label})"
    elif label == CROSSES:
        tail += f" ({label})"
    return head + tail + "."


@dataclass(frozen=True)
class Assessment:
    """The exponent of one window size over the fit range, with its drift and verdict.

    Attributes:
        overall: the exponent over the fit range (clipped to what the blocks resolve).
        local: the local exponent per half decade over the whole resampled range.
        verdict: one of the verdicts of the module docstring.
        sentence: :func:`sentence`.
    """

    n: int
    overall: Estimate
    local: list[Estimate]
    verdict: str
    sentence: str


def assess(res, d_lo: float, d_hi: float, band: tuple[float, float]) -> Assessment | None:
    """Assess the resampled curves ``res`` (:class:`~.resample.Resampled`) over the fit range
    ``[d_lo, d_hi]``; ``None`` when the blocks do not resolve 3 grid points of it."""
    overall = range_exponent(res, d_lo, d_hi)
    if overall is None:
        return None
    local = half_decades(res)
    inside = in_range(local, overall.d_lo, overall.d_hi)
    label = verdict(overall, inside, band)
    return Assessment(res.n, overall, local, label, sentence(res.n, overall, inside, band, label))
