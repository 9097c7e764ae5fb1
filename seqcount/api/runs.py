"""Saved outputs: :func:`merge`, :func:`report`, and the paper's numbers (:func:`bounds`)."""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterable

from ..analysis.bounds import bounds_summary
from ..engine.results import CountResult
from ..errors import ConfigError
from ..reporting import Report, analyze, build_report
from ..run.files import (
    check_output_dir,
    summary_dict,
    write_outputs,
)
from ..run.merge import merge_outputs
from ..run.saved import Run


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
            ``c_hi``, ``exact``, ``orders``: see :func:`seqcount.reporting.build.analyze`.

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
        options.setdefault("blocks", run.blocks)
        if run.blocks is None:
            options.setdefault("no_blocks_reason", "the result has no block sketches")
        return build_report((run.rows, summary_dict(run)), **options)
    return build_report(run.path if isinstance(run, Run) else run, **options)


def bounds(tokens: float, *, model_params: float | None = None, fit: str = "chinchilla",
           c_lo: float = 1.0, c_hi: float = 1.0) -> dict:  # fmt: skip
    """The paper's numbers for a corpus of ``tokens`` tokens (and a model of ``model_params``):
    see :func:`seqcount.analysis.bounds.bounds_summary`."""
    return bounds_summary(tokens, fit=fit, model_params=model_params, c_lo=c_lo, c_hi=c_hi)
