"""Exact overlap of evaluation sets with a training corpus: :func:`contamination`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace

from ..config import CountConfig
from ..engine.contamination import DEFAULT_MAX_MEMORY, collect_eval, scan_train
from ..engine.results import Progress
from ..errors import ConfigError, InputError
from ..io import Inputs
from ..run.contamination import (
    DEFAULT_THRESHOLD,
    ContaminationResult,
    contamination_result,
    write_contamination,
)
from ..run.files import (
    check_output_dir,
)
from .counting import check_out_outside, find_inputs, is_paths


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
    off = {
        "ns": (n,),
        "num_perm": 0,
        "overlap": "none",
        "exact": False,
        "near_dup": None,
        "stride": False,
    }
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
    if jobs > 1 and not is_paths(train):
        raise ConfigError("a training set in memory is scanned in one pass: not with jobs",
                          "jobs")  # fmt: skip
    if not 0 < threshold <= 1:
        raise ConfigError(f"threshold must be in (0, 1], got {threshold}", "threshold")
    if max_memory <= 0:
        raise ConfigError(f"max_memory must be positive, got {max_memory}", "max_memory")
    if not evals:
        raise ConfigError("give at least one evaluation input (eval)", "eval")
    if is_paths(train):
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
        for source in [train, *evals]:
            if is_paths(source):
                check_out_outside(source, out, force)


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
