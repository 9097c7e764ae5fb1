"""What a notebook or a script calls: every command of the CLI as one function.

The CLI (:mod:`seqcount.cli`) turns options into one call here and prints what it returns;
whatever it can do, a library caller can do with these functions:

>>> import seqcount
>>> result = seqcount.count("data/", n=(1, 4), out="seqcount-out")  # doctest: +SKIP
>>> result.curve.to_pandas()  # doctest: +SKIP
>>> run = seqcount.open_run("seqcount-out")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import inspect
import os
from collections.abc import Callable, Iterable
from dataclasses import fields, replace

import numpy as np

from . import io
from .analysis.bounds import bounds_summary
from .analysis.overlap import INHERITED, MATCHING, check_comparable, compare_sketches
from .config import DEFAULT_NS, CountConfig, parse_ns
from .engine.results import CountResult, Progress
from .engine.sharded import check_batch_config, count_sharded
from .engine.single import count_corpus as count_pass
from .errors import ConfigError, InputError, SketchMismatchError
from .hashing import kernels_compiled
from .io import Inputs, discover
from .reporting import Report, analyze, build_report, write_shard_similarity
from .run.files import (
    CURVE_FILE,
    SKETCH_FILE,
    SUMMARY_FILE,
    check_counted,
    check_output_dir,
    summary_dict,
    write_outputs,
    written_by_seqcount,
)
from .run.merge import merge_outputs
from .run.saved import Run, open_run
from .sketches import SketchSet, load_sketches

__all__ = [
    "INHERITED",
    "kernels_compiled",
    "Run",
    "bounds",
    "compare",
    "count",
    "count_batch",
    "count_corpus",
    "counts_by_shard",
    "find_inputs",
    "merge",
    "open_run",
    "report",
]


#: why a source in memory cannot be counted shard by shard
_MEMORY_ONE_PASS = (
    "a table or strings in memory are counted in one pass: not with state, jobs or engine dask "
    "(write them to Parquet to count them shard by shard)"
)


def _is_paths(source) -> bool:
    """A path, or a list or tuple of paths (anything else iterable is documents)."""
    if isinstance(source, (str, os.PathLike)):
        return True
    return isinstance(source, (list, tuple)) and all(
        isinstance(p, (str, os.PathLike)) for p in source
    )


def find_inputs(source, format: str | None = None, exclude=(), column: str = "text",
                split: str | None = None) -> Inputs:  # fmt: skip
    """The shards of ``source``: paths (directories, files or globs; seqcount's own output and
    state directories and ``exclude`` left out; ``split``: the split of a Hugging Face
    DatasetDict folder), a ``pyarrow.Table``, or an iterable of document strings (any
    iterable that is not a list or tuple of paths)."""
    if not _is_paths(source):
        return io.inputs_from_memory(source, column=column)
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    paths = [os.fspath(p) for p in paths]
    return discover(paths, format, exclude, foreign=written_by_seqcount, split=split)


def count_corpus(source, config: CountConfig | None = None, *, progress=None, threads=None,
                 exclude=(), on_event=None) -> CountResult:  # fmt: skip
    """Count a corpus in one streaming pass, writing nothing (see :func:`count` for all)."""
    config = config or CountConfig()
    inputs = find_inputs(source, config.format, exclude, config.column, config.split)
    return count_pass(inputs, config, progress=progress, threads=threads, on_event=on_event)


def count_batch(source, config: CountConfig | None = None, *, state=None, exclude=(),
                **options) -> CountResult:  # fmt: skip
    """Count a corpus shard by shard (``state``, ``jobs``, ``engine``, ``scheduler``,
    ``threads``, ``content_hash``, ``repair``, ``on_event``: see :func:`count`)."""
    config = config or CountConfig()
    if not _is_paths(source):
        raise ConfigError(_MEMORY_ONE_PASS, "source")
    exclude = list(exclude) + ([state] if state is not None else [])
    inputs = find_inputs(source, config.format, exclude, config.column, config.split)
    return count_sharded(inputs, config, state=state, **options)


def counts_by_shard(*, state=None, jobs: int = 1, engine: str | None = None,
                    scheduler: str | None = None) -> bool:  # fmt: skip
    """Whether :func:`count` with these options counts shard by shard (then it emits
    ``shard_finished``/``shard_reused`` events) rather than in one streaming pass."""
    return state is not None or jobs > 1 or engine == "dask" or scheduler is not None


def count(
    source,
    *,
    n: int | str | Iterable[int] | None = None,
    tokenizer: str | None = None,
    out: str | os.PathLike | None = None,
    state: str | os.PathLike | None = None,
    jobs: int = 1,
    engine: str | None = None,
    scheduler: str | None = None,
    threads: int | None = None,
    content_hash: bool = False,
    repair: bool = False,
    shard_similarity: bool = False,
    force: bool = False,
    progress: Callable[[Progress], None] | None = None,
    on_event: Callable[[dict], None] | None = None,
    config: CountConfig | None = None,
    **options,
) -> CountResult:
    """Count distinct n-token sequences of a corpus: all that ``seqcount count`` does.

    Args:
        source: a path (directory, file or glob) or a list of them, a ``pyarrow.Table``, or
            an iterable of document strings (a generator, say; a list is read as paths).
        n: window sizes (``8``, ``"1,2,4"`` or ``(1, 2, 4)``) [default: 1,2,4,...,64].
        tokenizer: ``words``, ``bytes``, ``ids``, ``hf:PATH`` or ``tiktoken:NAME`` [default:
            ``ids`` with ``tokens_column`` or token files, else ``words``].
        out: write ``curve.csv``, ``summary.json`` and ``sketches.npz`` there (all or nothing).
        state: a state directory: count shard by shard, resumable and incremental.
        jobs: shards counted at once in worker processes (or Dask workers).
        engine: ``local`` or ``dask`` [default: ``dask`` with ``scheduler``, else ``local``].
        scheduler: address of a running Dask scheduler.
        threads: numba threads; results do not depend on it.
        content_hash, repair: state fingerprints by content; recount corrupt state files.
        shard_similarity: also write ``shard_similarity.csv`` and ``.png`` into ``out``.
        force: allow ``out`` inside an input directory.
        progress: called with a :class:`~seqcount.engine.results.Progress` per chunk (one pass).
        on_event: called with a dict per event (``start``, ``shard_finished``, ...).
        config: a ready :class:`CountConfig` (then ``n``, ``tokenizer`` and ``options`` must not
            be given).
        options: the other fields of :class:`CountConfig` (``precision``, ``num_perm``,
            ``exact``, ``near_dup``, ``text_column``, ``tokens_column``, ``on_error``, ...).

    Returns:
        The :class:`CountResult`; ``result.outputs`` lists the files written.

    Raises:
        ConfigError: options out of range or in conflict (checked before anything is read).
        InputError, SchemaError: missing, unreadable or corrupt input.
        OutputError: ``out`` cannot be written.
    """
    config = _count_config(config, n, tokenizer, options)
    engine = engine or ("dask" if scheduler else "local")
    sharded = counts_by_shard(state=state, jobs=jobs, engine=engine, scheduler=scheduler)
    _check_request(config, source, out, state, jobs, engine, scheduler, content_hash, repair,
                   shard_similarity, force, sharded)  # fmt: skip
    exclude = [p for p in (out, state) if p is not None]
    inputs = find_inputs(source, config.format, exclude, config.column, config.split)
    if sharded:
        result = count_sharded(inputs, config, state=state, jobs=jobs, engine=engine,
                               scheduler=scheduler, threads=threads, content_hash=content_hash,
                               repair=repair, on_event=on_event)  # fmt: skip
    else:
        result = count_pass(inputs, config, progress=progress, threads=threads, on_event=on_event)
    check_counted(result)
    if out is not None:
        extras = ()
        if shard_similarity and len(result.shards) >= 2:
            extras = (lambda d: _similarity_files(result.sketches, d),)
        result.outputs = write_outputs(result, out, extras)
    return result


def _count_config(config: CountConfig | None, n, tokenizer, options: dict) -> CountConfig:
    """The :class:`CountConfig` of :func:`count`: ``config`` as given, or one made of ``n``,
    ``tokenizer`` and ``options`` (never both)."""
    if config is not None:
        given = ["n"] * (n is not None) + ["tokenizer"] * (tokenizer is not None) + list(options)
        if given:
            raise ConfigError(
                f"config already holds the counting options; leave out {', '.join(given)} "
                "(or leave out config)",
                "config",
            )
        return config
    known = [f.name for f in fields(CountConfig) if f.name not in ("ns", "tokenizer")]
    unknown = sorted(set(options) - set(known))  # ``ns`` is given as ``n``
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)}; the counting options are n, tokenizer "
            f"and {', '.join(known)}",
            *unknown,
        )
    if n is None:
        ns = DEFAULT_NS
    elif isinstance(n, str):
        ns = parse_ns(n)
    elif isinstance(n, (int, np.integer)) and not isinstance(n, bool):
        ns = (n,)
    elif isinstance(n, Iterable):
        ns = tuple(n)
    else:
        raise ConfigError(
            f"n must be an integer, a string like '1,2,4' or integers, got {n!r}", "n"
        )
    if tokenizer is None:
        tokenizer = "ids" if options.get("tokens_column") else "words"
    return CountConfig(ns=ns, tokenizer=tokenizer, **options)


def _similarity_files(sketches: SketchSet, directory: str) -> dict[str, str]:
    written = write_shard_similarity(sketches, directory)
    return {"shard_similarity_" + k: os.path.basename(p) for k, p in written.items()}


def _check_request(config, source, out, state, jobs, engine, scheduler, content_hash, repair,
                   shard_similarity, force, sharded) -> None:  # fmt: skip
    """Options of :func:`count` that only make sense together: refused before any reading."""
    if jobs < 1:
        raise ConfigError(f"jobs must be at least 1, got {jobs}", "jobs")
    if engine not in ("local", "dask"):
        raise ConfigError(f"engine must be 'local' or 'dask', got {engine!r}", "engine")
    if scheduler is not None and engine != "dask":
        raise ConfigError(
            f"scheduler {scheduler} needs engine 'dask' (got '{engine}')",
            "scheduler", "engine",
        )  # fmt: skip
    for name, on in (("content_hash", content_hash), ("repair", repair)):
        if on and state is None:
            raise ConfigError(f"{name} is an option of state, which was not given", name, "state")
    if sharded:
        check_batch_config(config)
        if not _is_paths(source):
            raise ConfigError(_MEMORY_ONE_PASS, "state", "jobs", "engine")
    if shard_similarity:
        if not config.num_perm:
            raise ConfigError(
                "shard_similarity needs MinHash signatures (num_perm > 0)",
                "shard_similarity", "num_perm",
            )  # fmt: skip
        if out is None:
            raise ConfigError("shard_similarity writes files: give out", "shard_similarity", "out")
        _require("matplotlib", "shard_similarity's heatmaps")
    if out is not None:
        check_output_dir(out)
        if _is_paths(source):
            _check_out_outside(source, out, force)


def _require(module: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise InputError(f"{what} need {module}, which is not installed: pip install {module}")


def _check_out_outside(source, out, force: bool) -> None:
    """Refuse an output directory that is an input directory, or (unless ``force``) one
    inside an input directory or beside input files: the next run over that input would have
    to skip it."""
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    where = os.path.realpath(out)
    for p in map(os.fspath, paths):
        top = os.path.realpath(p)
        if os.path.isdir(p) and where == top:
            raise ConfigError(
                f"out {os.fspath(out)} is the input directory {p} itself: nothing in it would "
                "be read (choose another directory)",
                "out",
            )
        inside = os.path.isdir(p) and where.startswith(top + os.sep)
        beside = os.path.isfile(p) and where == os.path.dirname(top)
        if (inside or beside) and not force:
            raise ConfigError(
                f"out {os.fspath(out)} is inside the input {p}: its files would sit among the "
                "corpus (choose another directory, or force to write there anyway)",
                "out", "force",
            )  # fmt: skip


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
    if len(loaded) < 2 and not config.num_perm:
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
        "options": {k: sa.options.get(k) for k in MATCHING} | {"num_perm": sa.minhash[0].num_perm},
        "results": [r.to_dict() for r in results],
    }


def merge(
    outputs: Iterable[str | os.PathLike], out: str | os.PathLike | None = None
) -> CountResult:
    """Merge saved ``count`` outputs of disjoint corpora into one result (and write it to
    ``out``); see :func:`seqcount.run.merge.merge_outputs`."""
    outputs = [os.fspath(o) for o in outputs]
    if out is not None:
        check_output_dir(out)
        same = [o for o in outputs if os.path.realpath(o) == os.path.realpath(out)]
        if same:
            raise ConfigError(
                f"out {os.fspath(out)} is one of the outputs merged: it would be replaced "
                "(choose another directory)",
                "out",
            )
    result = merge_outputs(outputs)
    if out is not None:
        result.outputs = write_outputs(result, out)
    return result


def report(run: Run | CountResult | str | os.PathLike, **options) -> Report:
    """Fit every window size's growth curve of a count and set it against the paper's bounds.

    Args:
        run: an output directory of ``count`` (or its :class:`Run`), or a :class:`CountResult`
            (then without the near-duplicate and shard-similarity sections, which come from
            an output directory's files).
        options: ``at``, ``fit``, ``model_params``, ``d_range``, ``bloom_fpr``, ``c_lo``,
            ``c_hi``, ``exact``: see :func:`seqcount.reporting.build.analyze`.

    Returns:
        The :class:`~seqcount.reporting.model.Report` (``to_dict()`` is ``report.json``).
    """
    known = set(inspect.signature(analyze).parameters) - {"rows", "summary"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)}; the report's options are "
            f"{', '.join(sorted(known))}",
            *unknown,
        )
    if isinstance(run, CountResult):
        return build_report((run.rows, summary_dict(run)), **options)
    return build_report(run.path if isinstance(run, Run) else run, **options)


def bounds(tokens: float, *, model_params: float | None = None, fit: str = "chinchilla",
           c_lo: float = 1.0, c_hi: float = 1.0) -> dict:  # fmt: skip
    """The paper's numbers for a corpus of ``tokens`` tokens (and a model of ``model_params``):
    see :func:`seqcount.analysis.bounds.bounds_summary`."""
    return bounds_summary(tokens, fit=fit, model_params=model_params, c_lo=c_lo, c_hi=c_hi)
