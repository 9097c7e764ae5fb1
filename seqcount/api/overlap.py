"""Comparing two corpora or saved outputs: :func:`compare` (``seqcount compare``)."""

from __future__ import annotations

import os
from dataclasses import replace

from ..analysis.overlap import MATCHING, check_comparable, compare_sketches, sketch_kind
from ..config import CountConfig
from ..errors import ConfigError, InputError, SketchMismatchError
from ..run.files import (
    CURVE_FILE,
    SKETCH_FILE,
    SUMMARY_FILE,
    check_counted,
)
from ..sketches import SketchSet, load_sketches
from .counting import count_corpus


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
    if not os.path.exists(path) and not any(c in os.fspath(path) for c in "*?["):
        raise InputError(f"{path}: no such file or directory")
    result = count_corpus(path, config, threads=threads)
    check_counted(result)
    return result.sketches, (result.skipped.to_dict() if result.skipped else None)


def _config_like(ref: SketchSet, config: CountConfig, ns, inherit, names) -> CountConfig:
    """The options to count a corpus with to compare it with the saved sketches ``ref``;
    ``names`` is ``(corpus side, saved side)``, e.g. ``("A", "B")``."""
    kind = sketch_kind(ref)
    if kind is None:
        check_comparable(ref, ref, (names[1], names[1]))  # raises: no overlap sketches
    opts = dict(ref.options)
    opts["overlap"] = kind  # absent before theta sketches: then MinHash
    if kind == "theta":
        opts["theta_k"] = ref.theta[0].k
    changes = {k: opts[k] for k in inherit if opts.get(k) is not None}
    changes["ns"] = tuple(ns) if ns is not None else tuple(ref.ns)
    config = replace(config, **changes)
    corpus = config.result_options() | {"overlap": config.overlap}
    keys = (*MATCHING, "overlap", "num_perm" if kind == "minhash" else "theta_k")
    for k in keys:
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
    return config


def compare(
    a,
    b,
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
    The same corpus on both sides is counted once.

    Returns:
        ``{"a": ..., "b": ..., "options": ..., "results": [Overlap.to_dict(), ...]}``; a side
        counted now with input skipped (``on_error="skip"``) has ``skipped`` (``rows``,
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
        config = _config_like(ref, config, ns, inherit, ("A", "B") if key == "b" else ("B", "A"))
    if len(loaded) < 2 and config.overlap == "none":
        msg = "compare needs per-n sketches: overlap must be theta or minhash"
        raise ConfigError(msg, "overlap")
    if len(loaded) < 2 and not (config.theta or config.num_perm):
        raise ConfigError("compare needs MinHash signatures: num_perm must be above 0", "num_perm")
    sides, counted = {}, {}
    for key, path in paths.items():
        skipped = None
        if key in loaded:
            sketches = loaded[key]
        else:
            same = os.path.realpath(os.fspath(path))
            if same not in counted:  # compare X X: count X once
                counted[same] = _count_side(path, config, threads)
            sketches, skipped = counted[same]
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
        "options": {k: sa.options.get(k) for k in MATCHING} | _sketch_options(sa),
        "results": [r.to_dict() for r in results],
    }


def _sketch_options(s: SketchSet) -> dict:
    """``sketch`` (``theta`` or ``minhash``) and its size (``theta_k`` or ``num_perm``)."""
    if s.theta is not None:
        return {"sketch": "theta", "theta_k": s.theta[0].k}
    return {"sketch": "minhash", "num_perm": s.minhash[0].num_perm}
