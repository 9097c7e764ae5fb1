"""What a notebook or a script calls: every command of the CLI as one function.

The CLI (:mod:`seqcount.cli`) turns options into one call here and prints what it returns.
"""

from __future__ import annotations

import os
from dataclasses import replace

from .analysis.overlap import INHERITED, MATCHING, check_comparable, compare_sketches
from .config import CountConfig
from .engine.results import CountResult
from .engine.sharded import count_sharded
from .engine.single import count_corpus as _count_pass
from .errors import ConfigError, InputError, SketchMismatchError
from .io import Inputs, discover
from .run.files import (
    CURVE_FILE,
    SKETCH_FILE,
    SUMMARY_FILE,
    check_counted,
    written_by_seqcount,
)
from .sketches import SketchSet, load_sketches

__all__ = ["INHERITED", "compare", "count_batch", "count_corpus", "find_inputs"]


def find_inputs(paths, format: str | None = None, exclude=()) -> Inputs:
    """Discover the shards of ``paths`` (directories, files or globs), leaving out
    ``exclude`` and seqcount's own output and state directories."""
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    paths = [os.fspath(p) for p in paths]
    return discover(paths, format, exclude, foreign=written_by_seqcount)


def count_corpus(paths, config: CountConfig | None = None, *, progress=None, threads=None,
                 exclude=(), on_event=None) -> CountResult:  # fmt: skip
    """Count a corpus in one streaming pass (see :func:`seqcount.engine.single.count_corpus`)."""
    config = config or CountConfig()
    inputs = find_inputs(paths, config.format, exclude)
    return _count_pass(inputs, config, progress=progress, threads=threads, on_event=on_event)


def count_batch(paths, config: CountConfig | None = None, *, state=None, exclude=(),
                **options) -> CountResult:  # fmt: skip
    """Count a corpus shard by shard (see :func:`seqcount.engine.sharded.count_sharded`)."""
    config = config or CountConfig()
    exclude = list(exclude) + ([state] if state is not None else [])
    inputs = find_inputs(paths, config.format, exclude)
    return count_sharded(inputs, config, state=state, **options)


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
