"""Counting a corpus: :func:`count` (all that ``seqcount count`` does) and its lower levels."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterable
from dataclasses import fields

import numpy as np

from .. import io
from ..config import DEFAULT_NS, CountConfig, parse_ns
from ..engine.executors import worth_a_pool
from ..engine.results import CountResult, Progress
from ..engine.sharded import check_batch_config, count_sharded
from ..engine.single import count_corpus as count_pass
from ..errors import ConfigError, InputError
from ..io import Inputs, discover
from ..reporting import write_shard_similarity
from ..run.files import (
    check_counted,
    check_output_dir,
    write_outputs,
    written_by_seqcount,
)
from ..sketches import SketchSet

#: why a source in memory cannot be counted shard by shard
_MEMORY_ONE_PASS = (
    "a table or strings in memory are counted in one pass: not with state, jobs or engine dask "
    "(write them to Parquet to count them shard by shard)"
)


def is_paths(source) -> bool:
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
    if not is_paths(source):
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
    if not is_paths(source):
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
    if sharded and state is None and engine == "local" and not worth_a_pool(inputs.shards, jobs):
        sharded = False  # workers would cost more than they save: one pass here, same results
    if sharded:
        result = count_sharded(inputs, config, state=state, jobs=jobs, engine=engine,
                               scheduler=scheduler, threads=threads, content_hash=content_hash,
                               repair=repair, on_event=on_event)  # fmt: skip
    else:
        result = count_pass(inputs, config, progress=progress, threads=threads, on_event=on_event)
        if on_event is not None and jobs is not None and jobs > 1:
            on_event({"event": "message", "message": (
                f"jobs={jobs}: counted in this process; on {os.cpu_count()} core(s) and "
                f"{len(inputs.shards)} shard(s) worker processes would cost more than they "
                "save (the results are the same)"
            )})  # fmt: skip
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
        if not is_paths(source):
            raise ConfigError(_MEMORY_ONE_PASS, "state", "jobs", "engine")
    if shard_similarity:
        if config.overlap == "none":
            raise ConfigError(
                "shard_similarity needs per-shard sketches: overlap must be theta or minhash",
                "shard_similarity", "overlap",
            )  # fmt: skip
        if not (config.theta or config.num_perm):
            raise ConfigError(
                "shard_similarity needs MinHash signatures (num_perm > 0)",
                "shard_similarity", "num_perm",
            )  # fmt: skip
        if out is None:
            raise ConfigError("shard_similarity writes files: give out", "shard_similarity", "out")
        _require("matplotlib", "shard_similarity's heatmaps")
    if out is not None:
        check_output_dir(out)
        if is_paths(source):
            check_out_outside(source, out, force)


def _require(module: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise InputError(f"{what} need {module}, which is not installed: pip install {module}")


def check_out_outside(source, out, force: bool) -> None:
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
