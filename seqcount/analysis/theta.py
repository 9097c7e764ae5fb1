"""Set operations and their estimators on theta sketches, as Apache DataSketches computes them.

Every function takes :class:`~seqcount.sketches.ThetaSketch` objects of the same ``seed`` (the
sketches of one window size ``n``) and returns an :class:`Estimate`: the estimate, a standard
error and 95% bounds (DataSketches' bounds at 2 standard deviations).

* Counts (:func:`cardinality`, :func:`union`, :func:`intersection`, :func:`a_not_b`): the
  result keeps the values below ``θ = min(θ_A, θ_B)`` that the operation selects; the estimate
  is ``retained / θ`` and the bounds are DataSketches' binomial bounds (``get_lower_bound(2)``,
  ``get_upper_bound(2)``). The union is trimmed to ``k`` values (``k = max(k_A, k_B)`` unless
  given), as DataSketches' ``theta_union(lg_k)``.
* Ratios (:func:`jaccard`, :func:`containment`): ``b / a`` where ``a`` counts the values of the
  larger set below ``θ`` and ``b`` those of the subset, with DataSketches' bounds on ratios in
  sampled sets. Jaccard is ``|A ∩ B| / |A ∪ B|`` with the union and intersection of
  ``theta_jaccard_similarity`` (a union large enough to keep every value, so ``θ = min``);
  the containment of ``A`` in ``B`` is ``|A ∩ B| / |A|``: ``A``'s values below ``θ`` and, of
  them, those also in ``B``.

The standard error ``err`` is a quarter of the width of the 95% interval: the standard error
where the normal approximation holds (about ``sqrt(b (1 - θ)) / θ`` for a count and
``sqrt(p (1 - p) (1 - f) / a)`` for a ratio ``p`` sampled at rate ``f``), and still honest at a
ratio of 0 or 1 or a count of 0, where the normal formula would say 0. In exact mode (``θ = 1``
for every sketch involved) every estimate is exact and its error 0.

Undefined values: :func:`theta_overlap` gives ``None`` for the Jaccard index of two empty sets
and the containment of an empty set.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..errors import SketchMismatchError
from ..sketches import THETA_MAX, ThetaSketch
from .theta_bounds import count_lower_bound, count_upper_bound, ratio_bounds

_MAX = int(THETA_MAX)
_MIN_LG_K, _MAX_LG_K = 5, 26  # the union of theta_jaccard_similarity (theta_constants.hpp)


@dataclass(frozen=True)
class Estimate:
    """An estimate with its standard error and 95% bounds."""

    estimate: float
    err: float
    lower: float
    upper: float

    @classmethod
    def from_bounds(cls, estimate: float, lower: float, upper: float) -> Estimate:
        return cls(float(estimate), (upper - lower) / 4.0, float(lower), float(upper))


@dataclass(frozen=True)
class _Result:
    """A set-operation result in DataSketches' terms: sorted values, θ, the empty flag."""

    entries: np.ndarray
    theta64: int
    empty: bool

    @property
    def theta(self) -> float:
        return float(self.theta64) / float(_MAX)


def _result(s: ThetaSketch) -> _Result:
    return _Result(s.entries, s.theta64, s.is_empty())


def _below(entries: np.ndarray, theta64: int) -> np.ndarray:
    return entries[: int(np.searchsorted(entries, np.uint64(theta64)))]


def _check(a: ThetaSketch, b: ThetaSketch) -> None:
    for s in (a, b):
        if not isinstance(s, ThetaSketch):
            raise TypeError(f"expected a ThetaSketch, got {type(s).__name__}")
    if a.seed != b.seed:
        raise SketchMismatchError(f"ThetaSketch seed {a.seed} does not match seed {b.seed}")


def _count(r: _Result) -> Estimate:
    """DataSketches' estimate and 2-standard-deviation bounds of a result sketch."""
    n = int(r.entries.shape[0])
    if r.theta64 >= _MAX or r.empty:  # not in estimation mode: exact
        return Estimate.from_bounds(n / r.theta, n, n)
    return Estimate.from_bounds(
        n / r.theta, count_lower_bound(n, r.theta, 2), count_upper_bound(n, r.theta, 2)
    )


def _intersect(a: _Result, b: _Result) -> _Result:
    """``theta_intersection`` of two results (θ = min, the values below it in both)."""
    if a.empty or b.empty:
        return _Result(np.zeros(0, np.uint64), _MAX, True)
    theta = min(a.theta64, b.theta64)
    both = np.intersect1d(_below(a.entries, theta), _below(b.entries, theta), assume_unique=True)
    return _Result(both, theta, both.shape[0] == 0 and theta == _MAX)


def _ratio(big: _Result, sub: _Result) -> Estimate:
    """``bounds_on_ratios_in_theta_sketched_sets``: ``sub / big`` with ``sub`` a subset of
    ``big`` sketched at ``θ_sub <= θ_big``."""
    kept = big.entries if big.theta64 == sub.theta64 else _below(big.entries, sub.theta64)
    a = int(kept.shape[0])
    b = int(sub.entries.shape[0])
    if a == 0:
        return Estimate.from_bounds(0.5, 0.0, 1.0)
    return Estimate.from_bounds(b / a, *ratio_bounds(a, b, sub.theta))


def cardinality(s: ThetaSketch) -> Estimate:
    """The distinct count of one sketch: ``get_estimate``, ``get_lower_bound(2)``,
    ``get_upper_bound(2)``."""
    return _count(_result(s))


def union_sketch(a: ThetaSketch, b: ThetaSketch, k: int | None = None) -> ThetaSketch:
    """The sketch of ``A ∪ B`` with ``k`` values at most (default ``max(k_A, k_B)``)."""
    _check(a, b)
    theta = min(a.theta64, b.theta64)
    both = np.concatenate([a.entries, b.entries])
    return ThetaSketch.from_entries(both, theta, k or max(a.k, b.k), a.seed)


def union(a: ThetaSketch, b: ThetaSketch, k: int | None = None) -> Estimate:
    """``|A ∪ B|`` (DataSketches' ``theta_union`` with ``k`` values)."""
    return cardinality(union_sketch(a, b, k))


def intersection(a: ThetaSketch, b: ThetaSketch) -> Estimate:
    """``|A ∩ B|`` (DataSketches' ``theta_intersection``)."""
    _check(a, b)
    return _count(_intersect(_result(a), _result(b)))


def a_not_b(a: ThetaSketch, b: ThetaSketch) -> Estimate:
    """``|A \\ B|`` (DataSketches' ``theta_a_not_b``)."""
    _check(a, b)
    ra, rb = _result(a), _result(b)
    theta = min(ra.theta64, rb.theta64)
    if ra.empty or (rb.empty and ra.entries.shape[0]):
        return _count(ra)
    rest = np.setdiff1d(_below(ra.entries, theta), _below(rb.entries, theta), assume_unique=True)
    return _count(_Result(rest, theta, rest.shape[0] == 0 and theta == _MAX))


def jaccard(a: ThetaSketch, b: ThetaSketch) -> Estimate:
    """``|A ∩ B| / |A ∪ B|`` as DataSketches' ``theta_jaccard_similarity.jaccard`` computes it
    (1 for two empty sets, 0 when only one is empty)."""
    _check(a, b)
    ra, rb = _result(a), _result(b)
    if ra.empty and rb.empty:
        return Estimate.from_bounds(1.0, 1.0, 1.0)
    if ra.empty or rb.empty:
        return Estimate.from_bounds(0.0, 0.0, 0.0)
    total = ra.entries.shape[0] + rb.entries.shape[0]
    lg_k = min(max(max(total - 1, 0).bit_length(), _MIN_LG_K), _MAX_LG_K)
    u = _result(union_sketch(a, b, 1 << lg_k))
    n_u = u.entries.shape[0]
    if (n_u, u.theta64) == (ra.entries.shape[0], ra.theta64) == (rb.entries.shape[0], rb.theta64):
        return Estimate.from_bounds(1.0, 1.0, 1.0)
    return _ratio(u, _intersect(_intersect(ra, rb), u))


def containment(a: ThetaSketch, b: ThetaSketch) -> Estimate | None:
    """``|A ∩ B| / |A|``, the share of ``A`` found in ``B`` (``None`` if ``A`` is empty): the
    ratio bounds of DataSketches with ``A`` as the set and ``A ∩ B`` as its subset."""
    _check(a, b)
    ra = _result(a)
    if ra.empty:
        return None
    return _ratio(ra, _intersect(ra, _result(b)))


@dataclass(frozen=True)
class ThetaOverlap:
    """Every overlap estimate of two sketches (see :func:`theta_overlap`)."""

    unique_a: Estimate
    unique_b: Estimate
    union: Estimate
    intersection: Estimate
    a_not_b: Estimate
    b_not_a: Estimate
    jaccard: Estimate | None
    containment_a_in_b: Estimate | None
    containment_b_in_a: Estimate | None

    def to_dict(self) -> dict:
        """Flat keys: ``name``, ``name_err``, ``name_lower``, ``name_upper`` for each field
        (``None`` for an undefined value)."""
        out: dict = {}
        for f in fields(self):
            e = getattr(self, f.name)
            out[f.name] = None if e is None else e.estimate
            out[f.name + "_err"] = None if e is None else e.err
            out[f.name + "_lower"] = None if e is None else e.lower
            out[f.name + "_upper"] = None if e is None else e.upper
        return out


def theta_overlap(a: ThetaSketch, b: ThetaSketch) -> ThetaOverlap:
    """The sizes, union, intersection, differences, Jaccard index (``None`` for two empty sets)
    and both containments (``None`` for an empty set) of the sets behind ``a`` and ``b``."""
    _check(a, b)
    both_empty = a.is_empty() and b.is_empty()
    return ThetaOverlap(
        unique_a=cardinality(a),
        unique_b=cardinality(b),
        union=union(a, b),
        intersection=intersection(a, b),
        a_not_b=a_not_b(a, b),
        b_not_a=a_not_b(b, a),
        jaccard=None if both_empty else jaccard(a, b),
        containment_a_in_b=containment(a, b),
        containment_b_in_a=containment(b, a),
    )
