"""Overlap of two corpora, and of the shards of one, from their sketches.

Per window size ``n``: the MinHash signatures estimate the Jaccard similarity ``J`` of the two
window sets; the HyperLogLogs estimate ``|A|``, ``|B|`` and, merged, ``|A ∪ B|``. Then
``|A ∩ B| = J * |A ∪ B|`` and the containments are ``|A ∩ B| / |A|`` and ``|A ∩ B| / |B|``.

Errors (one standard error each): ``J`` has ``sqrt(J (1 - J) / K)`` with ``K`` permutations, with
``J`` held inside ``[1/K, 1 - 1/K]`` for this purpose because an estimate of exactly 0 or 1 only
says the truth is within about ``1/K``; a count has ``σ = 1.04 / sqrt(2**p)`` relative. The
errors of products and ratios combine in quadrature as if independent (they are not quite: the
union and the single sets share registers), so they are a guide rather than an exact interval.
A small set inside a large one is the weak case: ``J`` is about ``|A| / |B|``, and below ``1/K``
the containment of ``A`` in ``B`` cannot be resolved (its error says so).

With theta sketches on both sides (``overlap="theta"``, the default) every estimate comes from
:func:`seqcount.analysis.theta.theta_overlap` instead: DataSketches' set operations and
estimators, exact while a set has at most ``theta_k`` distinct windows, each with its standard
error and 95% bounds (``*_lower``, ``*_upper``); :func:`shard_jaccard` then uses the shards'
theta sketches too.

Undefined values are ``None``: ``J`` of two empty sets, and the containment of an empty set.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import SketchMismatchError
from ..sketches import EMPTY_HASHVALUE, HLL, MinHash, SketchSet
from .theta import ThetaOverlap, theta_overlap
from .theta import jaccard as theta_jaccard

#: Options that must match for two sketch sets to be compared (``ns``, the overlap sketch and
#: ``num_perm`` are checked separately).
MATCHING = ("hash", "tokenizer", "column", "seed", "precision", "stride", "minhash_scheme")
#: Options a corpus compared with a saved output takes from it (see :func:`compare`).
INHERITED = ("precision", "seed", "stride", "num_perm", "overlap", "theta_k")


@dataclass
class Overlap:
    """The overlap of the ``n``-token window sets of ``A`` and ``B`` (the keys of ``to_dict``
    are those of ``seqcount compare --json``)."""

    n: int
    unique_a: float
    unique_b: float
    union: float
    union_err: float
    jaccard: float | None
    jaccard_err: float | None
    intersection: float
    intersection_err: float
    containment_a_in_b: float | None
    containment_a_in_b_err: float | None
    containment_b_in_a: float | None
    containment_b_in_a_err: float | None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ThetaComparison:
    """The theta-sketch overlap of window size ``n``; ``to_dict`` has every key of
    :class:`Overlap` and, for each estimate, ``_err``, ``_lower`` and ``_upper`` (95%)."""

    n: int
    theta: ThetaOverlap

    def to_dict(self) -> dict:
        return {"n": self.n} | self.theta.to_dict()


def _jaccard_err(j: float, k: int) -> float:
    jj = min(max(j, 1.0 / k), 1.0 - 1.0 / k)
    return math.sqrt(jj * (1.0 - jj) / k)


def overlap(n: int, hll_a: HLL, hll_b: HLL, mh_a: MinHash, mh_b: MinHash) -> Overlap:
    """Estimate the overlap of two sets from their HyperLogLogs and MinHash signatures."""
    if hll_a.p != hll_b.p:
        raise SketchMismatchError(f"n={n}: HLL precision {hll_a.p} vs {hll_b.p}")
    sigma = 1.04 / math.sqrt(hll_a.m)
    ua, ub = hll_a.count(), hll_b.count()
    union = HLL.union(hll_a, hll_b).count()
    union = max(union, ua, ub)
    k = mh_a.num_perm
    if mh_a.is_empty() and mh_b.is_empty():  # J of two empty sets is undefined
        return Overlap(n, ua, ub, union, union * sigma, None, None, 0.0, 0.0, *[None] * 4)
    j = mh_a.jaccard(mh_b)
    j_err = _jaccard_err(j, k)
    inter = min(j * union, ua, ub)
    inter_err = math.hypot(j_err * union, inter * sigma)

    def containment(size: float) -> tuple[float | None, float | None]:
        if size <= 0:  # the containment of an empty set is undefined
            return None, None
        c = min(inter / size, 1.0)
        # relative errors of J, the union and the set's own count, in quadrature
        rel = math.sqrt((j_err / max(j, j_err)) ** 2 + 2 * sigma**2)
        return c, min(max(c, j_err * union / size) * rel, 1.0)

    ca, ca_err = containment(ua)
    cb, cb_err = containment(ub)
    return Overlap(
        n=n,
        unique_a=ua,
        unique_b=ub,
        union=union,
        union_err=union * sigma,
        jaccard=j,
        jaccard_err=j_err,
        intersection=inter,
        intersection_err=inter_err,
        containment_a_in_b=ca,
        containment_a_in_b_err=ca_err,
        containment_b_in_a=cb,
        containment_b_in_a_err=cb_err,
    )


def sketch_kind(s: SketchSet) -> str | None:
    """``"theta"``, ``"minhash"`` or ``None``: the overlap sketch a sketch set holds."""
    return "theta" if s.theta is not None else "minhash" if s.minhash is not None else None


def check_comparable(a: SketchSet, b: SketchSet, names=("A", "B")) -> None:
    """Raise :class:`SketchMismatchError` unless ``a`` and ``b`` were made the same way."""
    for name, s in zip(names, (a, b)):
        if sketch_kind(s) is None:
            raise SketchMismatchError(
                f"{name} has no overlap sketches: no theta sketches and no MinHash signatures "
                "(counted with overlap none, num_perm=0 or by a seqcount before 0.2); count it "
                "again"
            )
    if sketch_kind(a) != sketch_kind(b):
        raise SketchMismatchError(
            f"{names[0]} has {sketch_kind(a)} sketches, {names[1]} {sketch_kind(b)}: count both "
            "with the same overlap sketch"
        )
    for key in MATCHING:
        va, vb = a.options.get(key), b.options.get(key)
        if va != vb:
            raise SketchMismatchError(
                f"{names[0]} and {names[1]} were counted with different {key}: {va!r} vs {vb!r}"
            )
    if a.minhash is None:
        return
    ka, kb = a.minhash[0].num_perm, b.minhash[0].num_perm
    if ka != kb:
        raise SketchMismatchError(f"{names[0]} and {names[1]} differ in num_perm: {ka} vs {kb}")


def compare_sketches(a: SketchSet, b: SketchSet, ns=None) -> list:
    """The overlap of every window size both sketch sets hold (or those of ``ns``): an
    :class:`Overlap` each with MinHash, a :class:`ThetaComparison` each with theta sketches
    (``to_dict()`` gives the object of ``compare --json``).

    Raises:
        SketchMismatchError: different counting options, no MinHash, or no common ``n``.
    """
    check_comparable(a, b)
    common = [n for n in a.ns if n in b.ns]
    if ns is not None:
        missing = [n for n in ns if n not in common]
        if missing:
            raise SketchMismatchError(
                f"window sizes {missing} are not in both inputs (they have {list(common)})"
            )
        common = [n for n in common if n in ns]
    if not common:
        raise SketchMismatchError(
            f"no window size in common: A has {list(a.ns)}, B has {list(b.ns)}"
        )
    if a.theta is not None:
        return [ThetaComparison(n, theta_overlap(a.theta_of(n), b.theta_of(n))) for n in common]
    return [overlap(n, a[n], b[n], a.minhash_of(n), b.minhash_of(n)) for n in common]


def shard_jaccard(sketches: SketchSet, n: int) -> np.ndarray:
    """The ``(shards, shards)`` matrix of estimated Jaccard similarities of the shards'
    ``n``-token window sets (1 on the diagonal); :func:`shard_jaccard_errors` gives both
    the estimates and their standard errors.

    Raises:
        SketchMismatchError: no per-shard signatures, or ``n`` not counted.
    """
    return shard_jaccard_errors(sketches, n)[0]


def shard_jaccard_errors(sketches: SketchSet, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The Jaccard matrix of :func:`shard_jaccard` and the standard error of each entry
    (theta: a quarter of the width of DataSketches' 95% bounds; MinHash: ``sqrt(J (1 - J) /
    K)`` with ``J`` held in ``[1/K, 1 - 1/K]``);
    NaN for a shard without windows, 0 on the diagonal.

    Raises:
        SketchMismatchError: no per-shard signatures, or ``n`` not counted.
    """
    if sketches.shard_minhash is None and sketches.shard_theta is None:
        raise SketchMismatchError(
            "no per-shard overlap sketches (counted with overlap none or num_perm=0)"
        )
    if n not in sketches.ns:
        raise SketchMismatchError(f"n={n} was not counted (counted: {list(sketches.ns)})")
    if sketches.shard_theta is not None:
        return _theta_shard_jaccard(sketches, n)
    sig = np.ascontiguousarray(sketches.shard_minhash[:, sketches.ns.index(n), :])
    s, k = sig.shape
    out = np.empty((s, s), dtype=np.float64)
    for i in range(s):
        out[i] = np.count_nonzero(sig == sig[i], axis=1) / k
    empty = np.all(sig == EMPTY_HASHVALUE, axis=1)
    out[empty, :] = np.nan  # a shard without windows has no similarity
    out[:, empty] = np.nan
    # J held in [1/K, 1 - 1/K] for the error, as compare does: an estimate of exactly 0 or 1
    # only says the truth is within about 1/K
    held = np.clip(out, 1.0 / k, 1.0 - 1.0 / k)
    err = np.sqrt(held * (1.0 - held) / k)
    np.fill_diagonal(err, 0.0)
    return out, err


def _theta_shard_jaccard(sketches: SketchSet, n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`shard_jaccard_errors` from the shards' theta sketches."""
    j = sketches.ns.index(n)
    ts = [shard[j] for shard in sketches.shard_theta]
    s = len(ts)
    out = np.ones((s, s), dtype=np.float64)
    err = np.zeros((s, s), dtype=np.float64)
    for a in range(s):
        for b in range(a + 1, s):
            est = theta_jaccard(ts[a], ts[b])
            out[a, b] = out[b, a] = est.estimate
            err[a, b] = err[b, a] = est.err
    empty = np.array([t.is_empty() for t in ts], dtype=bool)
    for m in (out, err):
        m[empty, :] = np.nan  # a shard without windows has no similarity
        m[:, empty] = np.nan
    return out, err


def most_similar_pairs(mats: dict[int, np.ndarray], limit: int) -> list[tuple[int, int]]:
    """The ``limit`` most similar shard pairs ``(a, b)``, ``a < b``: by the largest n first,
    ties broken by the next smaller n, and so on, then by index. Shared long windows are the
    sign of duplicated text.

    Args:
        mats: by n, ``(shards, shards)`` float64 Jaccard matrices of :func:`shard_jaccard`
            (NaN for shards without windows, ranked last).
        limit: how many pairs to return at most.
    """
    shards = next(iter(mats.values())).shape[0]
    a, b = np.triu_indices(shards, 1)
    scores = [np.nan_to_num(mats[n][a, b], nan=-1.0) for n in sorted(mats, reverse=True)]
    order = sorted(
        range(len(a)), key=lambda t: tuple(-sc[t] for sc in scores) + (int(a[t]), int(b[t]))
    )
    return [(int(a[t]), int(b[t])) for t in order[:limit]]
