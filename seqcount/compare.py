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

Undefined values are ``None``: ``J`` of two empty sets, and the containment of an empty set.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, replace

import numpy as np

from .config import CountConfig
from .errors import ConfigError, InputError, SketchMismatchError
from .pipeline import CURVE_FILE, SKETCH_FILE, SUMMARY_FILE, check_counted
from .sketch import HLL, MinHash, SketchSet, load_sketches

#: Options that must match for two sketch sets to be compared (``ns`` and ``num_perm`` are
#: checked separately).
MATCHING = ("hash", "tokenizer", "column", "seed", "precision", "stride", "minhash_scheme")
#: Options a corpus compared with a saved output takes from it (see :func:`compare`).
INHERITED = ("precision", "seed", "stride", "num_perm")


@dataclass
class Overlap:
    """The overlap of the ``n``-token window sets of ``A`` and ``B`` (keys of ``--json``)."""

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


def check_comparable(a: SketchSet, b: SketchSet, names=("A", "B")) -> None:
    """Raise :class:`SketchMismatchError` unless ``a`` and ``b`` were made the same way."""
    for name, s in zip(names, (a, b)):
        if s.minhash is None:
            raise SketchMismatchError(
                f"{name} has no MinHash signatures (counted with --num-perm 0 or by a seqcount "
                "before 0.2); count it again"
            )
    for key in MATCHING:
        va, vb = a.options.get(key), b.options.get(key)
        if va != vb:
            raise SketchMismatchError(
                f"{names[0]} and {names[1]} were counted with different {key}: {va!r} vs {vb!r}"
            )
    ka, kb = a.minhash[0].num_perm, b.minhash[0].num_perm
    if ka != kb:
        raise SketchMismatchError(f"{names[0]} and {names[1]} differ in --num-perm: {ka} vs {kb}")


def compare_sketches(a: SketchSet, b: SketchSet, ns=None) -> list[Overlap]:
    """:func:`overlap` for every window size both sketch sets hold (or those of ``ns``).

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
    return [overlap(n, a[n], b[n], a.minhash_of(n), b.minhash_of(n)) for n in common]


def saved_sketch_path(path: str | os.PathLike) -> str | None:
    """The sketch file if ``path`` is a ``count`` output: its directory, its sketches.npz, or
    another file of it (summary.json, curve.csv)."""
    path = os.fspath(path)
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, SKETCH_FILE)):
        return os.path.join(path, SKETCH_FILE)
    if os.path.isfile(path) and path.endswith(".npz"):
        return path
    beside = os.path.join(os.path.dirname(path), SKETCH_FILE)
    if os.path.basename(path) in (SUMMARY_FILE, CURVE_FILE) and os.path.isfile(beside):
        return beside
    return None


def _count_side(path, config: CountConfig, threads: int | None) -> tuple[SketchSet, dict | None]:
    """Count a corpus side: its sketches, and what was skipped under ``--on-error skip``
    (``rows``, ``shards``, ``items``) or ``None``.

    Raises:
        InputError: no such path, or every shard was unreadable.
    """
    from .pipeline import count_corpus

    if not os.path.exists(path) and not any(c in os.fspath(path) for c in "*?["):
        raise InputError(f"{path}: no such file or directory")
    result = count_corpus(path, config, threads=threads)
    check_counted(result)
    return result.sketches, (result.skipped.to_dict() if result.skipped else None)


def compare(
    a: str | os.PathLike,
    b: str | os.PathLike,
    config: CountConfig | None = None,
    *,
    ns=None,
    threads: int | None = None,
    inherit=(),
) -> dict:
    """Compare two corpora or saved ``count`` outputs; the object ``compare --json`` prints.

    A saved output keeps the options it was counted with. A corpus compared with one is
    counted with its window sizes (or those of ``ns``) and takes the ``inherit`` options from
    it (``compare`` on the command line passes those of :data:`INHERITED` not given there);
    every other option comes from ``config`` and must agree, which is checked before counting.

    Returns:
        ``{"a": ..., "b": ..., "options": ..., "results": [Overlap.to_dict(), ...]}``; a side
        counted now with input skipped (``--on-error skip``) has ``skipped`` (``rows``,
        ``shards``, ``items``).

    Raises:
        SketchMismatchError: the sides were (or would be) counted differently.
    """
    config = config or CountConfig()
    paths = {"a": a, "b": b}
    saved = {k: saved_sketch_path(p) for k, p in paths.items()}
    loaded = {k: load_sketches(f) for k, f in saved.items() if f is not None}
    if len(loaded) == 1:  # count the corpus side the way the saved side was counted
        key, ref = next(iter(loaded.items()))
        names = ("A", "B") if key == "b" else ("B", "A")  # (corpus, saved)
        if ref.minhash is None:
            check_comparable(ref, ref, (names[1], names[1]))  # raises: no MinHash signatures
        opts = ref.options
        changes = {k: opts[k] for k in inherit if opts.get(k) is not None}
        changes["ns"] = tuple(ns) if ns is not None else tuple(ref.ns)
        config = replace(config, **changes)
        corpus = config.result_options()
        for k in (*MATCHING, "num_perm"):
            if k in opts and corpus.get(k) != opts[k]:
                raise SketchMismatchError(
                    f"{names[1]} was counted with {k} {opts[k]!r}, {names[0]} would be counted "
                    f"with {corpus.get(k)!r}; give the same option (or leave it out)"
                )
        missing = [n for n in config.ns if n not in ref.ns]
        if missing:
            raise SketchMismatchError(
                f"window sizes {missing} are not in {names[1]} (it has {list(ref.ns)})"
            )
    if len(loaded) < 2 and not config.num_perm:
        raise ConfigError("compare needs MinHash signatures: --num-perm must be above 0")
    sides = {}
    for key, path in paths.items():
        skipped = None
        if key in loaded:
            sketches = loaded[key]
        else:
            sketches, skipped = _count_side(path, config, threads)
        side = {"path": os.fspath(path), "saved": key in loaded,
                "tokens": sketches.meta.get("tokens")}  # fmt: skip
        if skipped is not None:
            side["skipped"] = skipped
        sides[key] = (sketches, side)
    (sa, side_a), (sb, side_b) = sides["a"], sides["b"]
    results = compare_sketches(sa, sb, ns)
    return {
        "a": side_a,
        "b": side_b,
        "options": {k: sa.options.get(k) for k in MATCHING} | {"num_perm": sa.minhash[0].num_perm},
        "results": [r.to_dict() for r in results],
    }


def shard_jaccard(sketches: SketchSet, n: int) -> np.ndarray:
    """The ``(shards, shards)`` matrix of estimated Jaccard similarities of the shards'
    ``n``-token window sets (1 on the diagonal).

    Raises:
        SketchMismatchError: no per-shard signatures, or ``n`` not counted.
    """
    if sketches.shard_minhash is None:
        raise SketchMismatchError("no per-shard MinHash signatures (counted with --num-perm 0)")
    if n not in sketches.ns:
        raise SketchMismatchError(f"n={n} was not counted (counted: {list(sketches.ns)})")
    sig = np.ascontiguousarray(sketches.shard_minhash[:, sketches.ns.index(n), :])
    s, k = sig.shape
    out = np.empty((s, s), dtype=np.float64)
    for i in range(s):
        out[i] = np.count_nonzero(sig == sig[i], axis=1) / k
    empty = np.all(sig == np.uint64(2**64 - 1), axis=1)
    out[empty, :] = np.nan  # a shard without windows has no similarity
    out[:, empty] = np.nan
    return out
