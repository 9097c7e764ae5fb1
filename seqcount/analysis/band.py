"""A fitted growth curve set against the paper's band: band verdicts, doubling factors, and
extrapolations of the power law beyond the corpus. Pure numpy; nothing here does I/O."""

from __future__ import annotations

from dataclasses import dataclass

from .bounds import doubling_factor
from .drift import IN, Assessment
from .fit import GrowthFit


@dataclass(frozen=True)
class BandVerdict:
    """Where a fitted exponent ``gamma ± gamma_err`` lies with respect to a band of exponents.

    Attributes:
        in_band: gamma lies inside the band (ends included); with a calibrated interval, it
            follows ``verdict`` (true only for ``"in band"``).
        band_overlap: gamma ± 2 errors reaches the band.
        doubling_factor: ``2**(1/gamma)``, the growth in data that doubles U.
        doubling_interval: the doubling factors at gamma ± 2 errors, smaller first.
        verdict: one of :data:`VERDICTS`, from the calibrated interval and the local exponents
            (see :mod:`seqcount.analysis.drift`); ``None`` without resampled curves.
        gamma_ci95: the calibrated 95% interval ``[low, high]`` of the exponent over the fit
            range, or ``None`` (and then ``verdict`` is ``None`` too).
    """

    in_band: bool
    band_overlap: bool
    doubling_factor: float
    doubling_interval: list[float]
    verdict: str | None = None
    gamma_ci95: list[float] | None = None


#: What ``BandVerdict.verdict`` can say.
VERDICTS = ("in band", "below band", "above band", "crosses band", "undecided")


def against_band(
    fit: GrowthFit, band: tuple[float, float], assessment: Assessment | None = None
) -> BandVerdict:
    """Set the exponent of ``fit`` against ``band`` (``(low, high)`` growth exponents).

    With an ``assessment`` (resampled curves), ``in_band`` follows its verdict, and
    ``band_overlap`` and ``doubling_interval`` use its calibrated interval; without one, they
    use ``gamma ± 2 gamma_err`` as before.
    """
    if assessment is None:
        lo, hi = fit.gamma - 2 * fit.gamma_err, fit.gamma + 2 * fit.gamma_err
        in_band = band[0] <= fit.gamma <= band[1]
        label, ci = None, None
    else:
        lo, hi = assessment.overall.ci95
        label, ci = assessment.verdict, [float(lo), float(hi)]
        in_band = label == IN
    return BandVerdict(
        in_band=bool(in_band),
        band_overlap=bool(hi >= band[0] and lo <= band[1]),
        doubling_factor=float(doubling_factor(fit.gamma)),
        doubling_interval=sorted(float(doubling_factor(x)) for x in (lo, hi)),
        verdict=label,
        gamma_ci95=ci,
    )


@dataclass(frozen=True)
class Extrapolation:
    """U predicted by a power law at a corpus size, with its 95% prediction interval.

    Attributes:
        tokens: the corpus size D.
        unique: the power law's U at D, capped at D.
        low, high: the prediction interval, each capped at D.
    """

    tokens: float
    unique: float
    low: float
    high: float


def extrapolate(fit: GrowthFit, tokens: float) -> Extrapolation:
    """The power law of ``fit`` at ``tokens``, with its prediction interval (see
    :meth:`GrowthFit.interval`)."""
    # U_n can never exceed the windows read, and so never D itself
    lo, hi = (min(float(v), tokens) for v in fit.interval(tokens))
    return Extrapolation(
        tokens=float(tokens), unique=min(float(fit.predict(tokens)), tokens), low=lo, high=hi
    )
