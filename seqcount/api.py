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
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import replace

from . import io
from .analysis.bounds import bounds_summary
from .analysis.overlap import INHERITED, MATCHING, check_comparable, compare_sketches
from .config import CountConfig, parse_ns
from .engine.contamination import DEFAULT_MAX_MEMORY, collect_eval, scan_train
from .engine.results import CountResult, Progress
from .engine.sharded import check_batch_config, count_sharded
from .engine.single import count_corpus as count_pass
from .errors import ConfigError, InputError, SketchMismatchError
from .hashing import kernels_compiled
from .io import Inputs, discover
from .reporting import Report, build_report, write_shard_similarity
from .run.contamination import (
    DEFAULT_THRESHOLD,
    ContaminationResult,
    contamination_result,
    write_contamination,
)
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
    "contamination",
    "ContaminationResult",
    "count",
    "count_batch",
    "count_corpus",
    "counts_by_shard",
    "find_inputs",
    "merge",
    "open_run",
    "report",
]


def _is_paths(source) -> bool:
    """A path, or a list or tuple of paths (anything else iterable is documents)."""
    if isinstance(source, (str, os.PathLike)):
        return True
    return isinstance(source, (list, tuple)) and all(
        isinstance(p, (str, os.PathLike)) for p in source
    )


def find_inputs(source, format: str | None = None, exclude=(), column: str = "text") -> Inputs:
    """The shards of ``source``: paths (directories, files or globs; seqcount's own output and
    state directories and ``exclude`` left out), a ``pyarrow.Table``, or an iterable of
    document strings (any iterable that is not a list or tuple of paths)."""
    if not _is_paths(source):
        return io.inputs_from_memory(source, column=column)
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    paths = [os.fspath(p) for p in paths]
    return discover(paths, format, exclude, foreign=written_by_seqcount)


def count_corpus(source, config: CountConfig | None = None, *, progress=None, threads=None,
                 exclude=(), on_event=None) -> CountResult:  # fmt: skip
    """Count a corpus in one streaming pass, writing nothing (see :func:`count` for all)."""
    config = config or CountConfig()
    inputs = find_inputs(source, config.format, exclude, config.column)
    return count_pass(inputs, config, progress=progress, threads=threads, on_event=on_event)


def count_batch(source, config: CountConfig | None = None, *, state=None, exclude=(),
                **options) -> CountResult:  # fmt: skip
    """Count a corpus shard by shard (``state``, ``jobs``, ``engine``, ``scheduler``,
    ``threads``, ``content_hash``, ``repair``, ``on_event``: see :func:`count`)."""
    config = config or CountConfig()
    exclude = list(exclude) + ([state] if state is not None else [])
    inputs = find_inputs(source, config.format, exclude, config.column)
    return count_sharded(inputs, config, state=state, **options)


def counts_by_shard(*, state=None, jobs: int = 1, engine: str | None = None,
                    scheduler: str | None = None) -> bool:  # fmt: skip
    """Whether :func:`count` with these options counts shard by shard (then it emits
    ``shard_finished``/``shard_reused`` events) rather than in one streaming pass."""
    return state is not None or jobs > 1 or engine == "dask" or scheduler is not None


def count(
    source,
    *,
    n: int | str | Iterable[int] = (1, 2, 4, 8, 16, 32, 64),
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
        n: window sizes (``8``, ``"1,2,4"`` or ``(1, 2, 4)``).
        tokenizer: ``words``, ``bytes``, ``ids`` or ``hf:PATH`` [default: ``ids`` with
            ``tokens_column``, else ``words``].
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
    if config is None:
        ns = parse_ns(n) if isinstance(n, str) else ((n,) if isinstance(n, int) else tuple(n))
        if tokenizer is None:
            tokenizer = "ids" if options.get("tokens_column") else "words"
        config = CountConfig(ns=ns, tokenizer=tokenizer, **options)
    engine = engine or ("dask" if scheduler else "local")
    sharded = counts_by_shard(state=state, jobs=jobs, engine=engine, scheduler=scheduler)
    _check_request(config, source, out, state, jobs, engine, scheduler, content_hash, repair,
                   shard_similarity, force, sharded)  # fmt: skip
    exclude = [p for p in (out, state) if p is not None]
    inputs = find_inputs(source, config.format, exclude, config.column)
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
            f"scheduler {scheduler} needs engine 'dask', not engine '{engine}'",
            "scheduler", "engine",
        )  # fmt: skip
    for name, on in (("content_hash", content_hash), ("repair", repair)):
        if on and state is None:
            raise ConfigError(f"{name} is an option of state, which was not given", name, "state")
    if sharded:
        check_batch_config(config)
        if not _is_paths(source):
            raise ConfigError(
                "a table or strings in memory are counted in one pass: not with state, jobs "
                "or engine dask (write them to Parquet to count them shard by shard)",
                "state", "jobs", "engine",
            )  # fmt: skip
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
        if not force and _is_paths(source):
            _check_out_outside(source, out)


def _require(module: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise InputError(f"{what} need {module}, which is not installed: pip install {module}")


def _check_out_outside(source, out) -> None:
    """Refuse an output directory inside an input directory (or beside input files): the next
    run over that input would have to skip it."""
    paths = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    where = os.path.realpath(out)
    for p in map(os.fspath, paths):
        top = os.path.realpath(p)
        inside = os.path.isdir(p) and (where == top or where.startswith(top + os.sep))
        beside = os.path.isfile(p) and where == os.path.dirname(top)
        if inside or beside:
            raise ConfigError(
                f"out {os.fspath(out)} is inside the input {p}: its files would sit among the "
                "corpus (give another out, or force to write there anyway)",
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
    if isinstance(run, CountResult):
        return build_report((run.rows, summary_dict(run)), **options)
    return build_report(run.path if isinstance(run, Run) else run, **options)


def bounds(tokens: float, *, model_params: float | None = None, fit: str = "chinchilla",
           c_lo: float = 1.0, c_hi: float = 1.0) -> dict:  # fmt: skip
    """The paper's numbers for a corpus of ``tokens`` tokens (and a model of ``model_params``):
    see :func:`seqcount.analysis.bounds.bounds_summary`."""
    return bounds_summary(tokens, fit=fit, model_params=model_params, c_lo=c_lo, c_hi=c_hi)


def contamination(
    train,
    eval,
    *,
    n: int = 13,
    tokenizer: str | None = None,
    out: str | os.PathLike | None = None,
    jobs: int = 1,
    threads: int | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    verify: bool = False,
    max_memory: int = DEFAULT_MAX_MEMORY,
    force: bool = False,
    progress: Callable[[Progress], None] | None = None,
    on_event: Callable[[dict], None] | None = None,
    config: CountConfig | None = None,
    **options,
) -> ContaminationResult:
    """Exact overlap of evaluation sets with a training corpus: all that ``seqcount
    contamination`` does.

    Every sliding ``n``-token window of the evaluation documents is hashed into a table in
    memory; the training corpus is streamed once (in ``jobs`` processes) and each of its
    windows looked up. Per evaluation document: its ``windows`` (repeats counted) and ``hits``,
    those whose tokens occur anywhere in the training corpus.

    Args:
        train: the training corpus, as the ``source`` of :func:`count`.
        eval: an evaluation input (a path, a ``pyarrow.Table`` or an iterable of strings) or a
            list of paths, each its own evaluation input.
        n: the window size.
        tokenizer: as in :func:`count` (both sides are read with the same options).
        out: write ``contamination.csv`` and ``contamination.json`` there (all or nothing).
        jobs: training shards scanned at once in worker processes; results do not depend on it.
        threads: numba threads per worker.
        threshold: share of a document's windows at which it counts as contaminated.
        verify: confirm every hash match token by token (no false hits; costs ``n`` compares
            per matching training window).
        max_memory: bytes the evaluation windows may take (about
            :data:`~seqcount.engine.contamination.BYTES_PER_WINDOW` per window).
        force: allow ``out`` inside an input directory.
        options: other reading options of :class:`CountConfig` (``text_column``,
            ``tokens_column``, ``format``, ``on_error`` (training side only), ...).

    Raises:
        ConfigError: options out of range, or an evaluation input that is also training input.
        InputError: unreadable or empty evaluation input, no evaluation document of ``n``
            tokens, windows beyond ``max_memory``, unreadable training input.
        OutputError: ``out`` cannot be written.
    """
    t0 = time.perf_counter()
    off = {"ns": (n,), "num_perm": 0, "exact": False, "near_dup": None, "stride": False}
    if config is None:
        if tokenizer is None:
            tokenizer = "ids" if options.get("tokens_column") else "words"
        config = CountConfig(tokenizer=tokenizer, **(options | off))
    else:
        config = replace(config, **off)
    evals = list(eval) if isinstance(eval, (list, tuple)) else [eval]
    _check_contamination(train, evals, out, jobs, threshold, max_memory, force)
    exclude = [out] if out is not None else []
    train_inputs = find_inputs(train, config.format, exclude, config.column)
    eval_inputs = [(_name(e), find_inputs(e, config.format, exclude, config.column))
                   for e in evals]  # fmt: skip
    _check_disjoint(train_inputs, eval_inputs)
    ev = collect_eval(eval_inputs, config, verify=verify, max_memory=max_memory)
    scan = scan_train(train_inputs, config, ev, jobs=jobs, threads=threads, progress=progress,
                      on_event=on_event)  # fmt: skip
    shards = len(scan.stats)
    if shards and scan.skipped.shards == shards and scan.documents == 0:
        raise InputError(f"every training shard ({shards}) was unreadable; nothing was scanned")
    result = contamination_result(
        ev, scan, config, threshold=threshold, verify=verify,
        train_paths=[s.path for s in train_inputs.shards], elapsed=time.perf_counter() - t0,
    )  # fmt: skip
    if out is not None:
        result.outputs = write_contamination(result, out)
    return result


def _name(source) -> str:
    return os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<memory>"


def _check_contamination(train, evals, out, jobs, threshold, max_memory, force) -> None:
    """Options of :func:`contamination` refused before anything is read."""
    if jobs < 1:
        raise ConfigError(f"jobs must be at least 1, got {jobs}", "jobs")
    if jobs > 1 and not _is_paths(train):
        raise ConfigError("a training set in memory is scanned in one pass: not with jobs",
                          "jobs")  # fmt: skip
    if not 0 < threshold <= 1:
        raise ConfigError(f"threshold must be in (0, 1], got {threshold}", "threshold")
    if max_memory <= 0:
        raise ConfigError(f"max_memory must be positive, got {max_memory}", "max_memory")
    if not evals:
        raise ConfigError("give at least one evaluation input (eval)", "eval")
    if _is_paths(train):
        trains = [train] if isinstance(train, (str, os.PathLike)) else list(train)
        real = {os.path.realpath(os.fspath(p)) for p in trains}
        for e in evals:
            if isinstance(e, (str, os.PathLike)) and os.path.realpath(os.fspath(e)) in real:
                raise ConfigError(
                    f"eval {os.fspath(e)} is also a training path: every window would be found",
                    "eval", "train",
                )  # fmt: skip
    if out is not None:
        check_output_dir(out)
        if not force:
            for source in [train, *evals]:
                if _is_paths(source):
                    _check_out_outside(source, out)


def _check_disjoint(train_inputs: Inputs, eval_inputs) -> None:
    """Refuse an evaluation shard that is also read as training data."""
    train = {os.path.realpath(s.path) for s in train_inputs.shards if s.data is None}
    for name, inputs in eval_inputs:
        for s in inputs.shards:
            if s.data is None and os.path.realpath(s.path) in train:
                raise ConfigError(
                    f"{s.path} is both a training shard and part of eval {name}: every "
                    "window would be found (leave it out of the training paths)",
                    "eval", "train",
                )  # fmt: skip
