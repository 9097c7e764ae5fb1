"""The analysis report as typed data: :class:`Report` and its parts.

``Report.to_dict()`` is the content of ``report.json``; the renderers (:mod:`.markdown`,
:mod:`.html`, :mod:`.plots`) read the dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..analysis.band import BandVerdict, Extrapolation
from ..analysis.drift import Assessment
from ..analysis.fit import GrowthFit
from ..engine.results import CurveRow
from ..sketches import SketchSet


def jsonable(x):
    """``x`` with numpy scalars as Python ones, tuples as lists and dict keys as strings."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    if hasattr(x, "__dataclass_fields__"):
        return jsonable(dict(x.__dict__))
    return x


@dataclass(frozen=True)
class CorpusInfo:
    """What was counted: totals, counting options, and which counts the fits use.

    Attributes:
        counts: ``"exact"`` (fits of ``unique_exact``) or ``"sketch"``.
        standard_error: relative standard error of each count (0 for exact counts).
    """

    tokens: int
    documents: int | None
    shards: int | None
    options: dict
    standard_error: float
    counts: str


@dataclass(frozen=True)
class Extrapolated:
    """An :class:`~seqcount.analysis.band.Extrapolation`, with a Bloom filter sized for its
    interval's top when the report was asked for one (see :func:`~seqcount.analysis.bounds.
    bloom_filter` for the dict's keys)."""

    at: Extrapolation
    bloom: dict | None = None

    def to_dict(self) -> dict:
        """``tokens, unique, low, high`` and, when sized, ``bloom``."""
        out = dict(self.at.__dict__)
        if self.bloom is not None:
            out["bloom"] = self.bloom
        return out


@dataclass(frozen=True)
class FitResult:
    """One window size's fitted growth curve, set against the paper's band.

    Attributes:
        growth: the power-law fit and its cut-off alternative.
        verdict: the exponent against the band, and doubling factors.
        u_corpus: the curve's U at the whole corpus.
        extrapolation: U at the requested corpus sizes.
        regime, regime_at: with a model size, its regime (see
            :func:`~seqcount.analysis.bounds.regime`) at the corpus and at each extrapolation.
        assessment: the exponent from resampled curves, with its calibrated interval, drift and
            sentence (:mod:`seqcount.analysis.drift`), when the run has block sketches.
    """

    growth: GrowthFit
    verdict: BandVerdict
    u_corpus: float
    extrapolation: list[Extrapolated]
    regime: dict | None = None
    regime_at: list[dict] | None = None
    assessment: Assessment | None = None

    @property
    def n(self) -> int:
        """The window size."""
        return self.growth.n

    @property
    def gamma(self) -> float:
        """The exponent the report quotes: the resampled one where there is an assessment,
        else the one-curve least-squares fit."""
        return self.assessment.overall.value if self.assessment is not None else self.growth.gamma

    def to_dict(self) -> dict:
        """The fit's keys, then the verdict's, ``u_corpus``, ``extrapolation`` and, with a
        model size, ``regime`` and ``regime_at`` (as in report.json)."""
        out = self.growth.to_dict() | dict(self.verdict.__dict__)
        a = self.assessment
        if a is not None:
            o = a.overall
            out.update(
                gamma_resampled=o.value,
                gamma_se=o.se,
                gamma_se_parts={"order": o.se_order, "count": o.se_count, "sketch": o.se_sketch},
                gamma_ci95_range=[o.d_lo, o.d_hi],
                sentence=a.sentence,
            )
        out.update(u_corpus=self.u_corpus, extrapolation=[e.to_dict() for e in self.extrapolation])
        if self.regime is not None:
            out.update(regime=self.regime, regime_at=self.regime_at)
        return out


@dataclass(frozen=True)
class NotFitted:
    """A window size without a fit, and why (e.g. too few checkpoints)."""

    n: int
    reason: str


@dataclass(frozen=True)
class LocalExponent:
    """The local exponent of U_n(D) over one stretch of D (a half decade), from resampled
    curves: ``gamma`` and its 95% interval ``[low, high]``, at ``tokens`` (the geometric
    middle of ``[d_lo, d_hi]``)."""

    d_lo: float
    d_hi: float
    tokens: float
    gamma: float
    low: float
    high: float


@dataclass(frozen=True)
class Slopes:
    """Local exponents d log U / d log D of one curve, at the geometric middle of each step,
    and (``intervals``) per half decade with 95% intervals, when the run has block sketches."""

    tokens: list[float]
    slope: list[float]
    intervals: list[LocalExponent] | None = None


@dataclass(frozen=True)
class DedupRow:
    """U_n at the whole corpus before and after dropping near-duplicate documents."""

    n: int
    unique: float
    unique_dedup: float
    ratio: float


@dataclass(frozen=True)
class NearDupSection:
    """What a ``near_dup`` count found: ``found`` is the ``near_dup`` block of summary.json
    (keys ``n``, ``threshold``, ``near_duplicate_documents``, ``largest_clusters`` ...)."""

    found: dict
    per_n: list[DedupRow]

    def to_dict(self) -> dict:
        """The summary block with ``per_n`` added."""
        return dict(self.found) | {"per_n": [dict(r.__dict__) for r in self.per_n]}


@dataclass(frozen=True)
class ShardPair:
    """Two shards and the estimated Jaccard similarity of their window sets, by n (``None``
    where a shard has no windows)."""

    a: str
    b: str
    jaccard: dict[int, float | None]
    jaccard_err: dict[int, float | None] | None = None  # one standard error, by n


@dataclass(frozen=True)
class ShardSimilarity:
    """The most similar shard pairs, ranked by the largest n first."""

    num_perm: int | None
    ranked_by_n: int
    top_pairs: list[ShardPair]
    sketch: str = "minhash"  # or "theta", with theta_k values per shard's sketch
    theta_k: int | None = None


@dataclass
class Report:
    """The analysis of one ``count`` run: fits of U_n(D) against the paper's bounds.

    Attributes:
        corpus: what was counted.
        loss_fit: name of the loss fit behind the bounds.
        gamma_band: ``(low, high)`` growth exponents of the paper's band.
        d_star: corpus size (tokens) above which the band's constants mean something.
        corpus_over_d_star: the corpus's tokens / ``d_star``.
        paper: :func:`~seqcount.analysis.bounds.bounds_summary` at the corpus size.
        model_params, bloom_fpr: the options asked for, or ``None``.
        fits: one per window size fitted, smallest n first.
        not_fitted: the window sizes that could not be fitted, with the reason.
        slopes: local slopes of every curve, by n.
        near_dup: near-duplicate documents, when the run looked for them.
        shard_similarity: most similar shard pairs, when the run has per-shard overlap
            sketches.
        resampling: how the calibrated intervals were made (blocks, orders, seconds), or
            ``{"skipped": reason}`` when they could not be.
        curve, dedup_curve, sketches, exact: what the plots are drawn from (not in to_dict).
        files: paths written by :func:`~seqcount.reporting.write.write_report`, by kind.
    """

    corpus: CorpusInfo
    loss_fit: str
    gamma_band: tuple[float, float]
    d_star: float
    corpus_over_d_star: float
    paper: dict
    model_params: float | None
    bloom_fpr: float | None
    fits: list[FitResult]
    not_fitted: list[NotFitted]
    slopes: dict[int, Slopes]
    near_dup: NearDupSection | None = None
    shard_similarity: ShardSimilarity | None = None
    resampling: dict | None = None
    curve: list[CurveRow] = field(default_factory=list, repr=False)
    dedup_curve: list[CurveRow] | None = field(default=None, repr=False)
    sketches: SketchSet | None = field(default=None, repr=False)
    exact: bool = False
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The content of ``report.json`` (plain JSON types)."""
        out = {
            "corpus": dict(self.corpus.__dict__),
            "loss_fit": self.loss_fit,
            "gamma_band": list(self.gamma_band),
            "d_star": self.d_star,
            "corpus_over_d_star": self.corpus_over_d_star,
            "paper": self.paper,
            "model_params": self.model_params,
            "bloom_fpr": self.bloom_fpr,
            "fits": [f.to_dict() for f in self.fits],
            "not_fitted": [dict(s.__dict__) for s in self.not_fitted],
            "slopes": {str(n): dict(s.__dict__) for n, s in self.slopes.items()},
        }
        if self.near_dup is not None:
            out["near_dup"] = self.near_dup.to_dict()
        if self.shard_similarity is not None:
            out["shard_similarity"] = self.shard_similarity
        if self.resampling is not None:
            out["resampling"] = self.resampling
        return jsonable(out)
