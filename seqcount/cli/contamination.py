"""``seqcount contamination``: exact overlap of evaluation sets with a training corpus."""

from __future__ import annotations

import sys

import click

from .commands import cli
from .common import EXIT_OK, EXIT_SKIPPED, ProgressBar, UsageFailure, errors, text_event
from .options import config_option, input_options, make_config

#: options of ``input_options`` that do not apply: one window size, sliding windows, no sketches
_NOT_HERE = ("ns", "precision", "num_perm", "stride", "overlap", "theta_k", "shard_theta_k")


def reading_options(command):
    """The reading options of ``count`` (readers, tokenizers, columns, ``--on-error``, ...)
    without those of its sketches and window sizes."""

    def probe():
        """Collects the options of :func:`input_options`."""

    params = input_options(probe).__click_params__
    kept = [p for p in params if p.name not in _NOT_HERE]
    command.__click_params__ = getattr(command, "__click_params__", []) + kept
    return command


def memory_size(value: str) -> int:
    """``4GiB``, ``500MB``, ``2e9``: a number of bytes (usage error otherwise)."""
    text = str(value).strip()
    units = {
        "kib": 2**10,
        "mib": 2**20,
        "gib": 2**30,
        "tib": 2**40,
        "kb": 10**3,
        "mb": 10**6,
        "gb": 10**9,
        "tb": 10**12,
        "k": 2**10,
        "m": 2**20,
        "g": 2**30,
        "t": 2**40,
        "b": 1,
    }
    scale = 1
    for unit in sorted(units, key=len, reverse=True):
        if text.lower().endswith(unit):
            text, scale = text[: -len(unit)].strip(), units[unit]
            break
    try:
        v = float(text) * scale
    except ValueError:
        raise UsageFailure(f"--max-memory: {value!r} is not a size (e.g. 4GiB, 500MB)") from None
    if not 0 < v < 2**63:
        raise UsageFailure(f"--max-memory must be positive, got {value}")
    return int(v)


@cli.command(short_help="Exact n-gram overlap of evaluation sets with a training corpus.")
@click.argument("train", nargs=-1, required=False, metavar="TRAIN...")
@click.option(
    "--eval",
    "evals",
    multiple=True,
    metavar="EVAL",
    help="An evaluation set (directory, file or glob); repeat for several.",
)
@click.option(
    "--n", "n", type=int, default=13, show_default=True, help="Window size: tokens per n-gram."
)
@reading_options
@click.option(
    "--out",
    "-o",
    default="contamination-out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Directory for contamination.csv and contamination.json (replaced as a set).",
)
@click.option(
    "--threshold",
    type=float,
    default=0.8,
    show_default=True,
    help="A document is contaminated when at least this share of its windows occurs "
    "in the training corpus.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Confirm every hash match token by token (no false hits; costs n compares "
    "per matching training window).",
)
@click.option(
    "--max-memory",
    default="4GiB",
    show_default=True,
    metavar="SIZE",
    help="Memory the evaluation windows may take (about 76 bytes each, 100 with "
    "--verify); refused beyond it.",
)
@click.option(
    "--jobs",
    "-j",
    type=int,
    default=1,
    show_default=True,
    help="Scan this many training shards at once in worker processes. The results "
    "equal --jobs 1's.",
)
@click.option("--force", is_flag=True, help="Write --out even inside an input directory.")
@config_option
@click.option("--quiet", "-q", is_flag=True, help="No progress and no table; errors only.")
def contamination(train, evals, n, out, threshold, verify, max_memory, jobs, force, quiet,
                  threads, **options):  # fmt: skip
    """How much of each evaluation document occurs in a training corpus, exactly.

    Every sliding n-token window of the EVAL documents is hashed into a table in memory;
    TRAIN (directories, files or globs, read like 'count' reads them) is streamed once and
    each of its windows is looked up. Writes OUT/contamination.csv, one row per evaluation
    document in input order (file, row, windows, hits, fraction: windows counts repeats,
    hits those of them whose tokens occur anywhere in TRAIN; fraction is empty for a
    document shorter than n tokens), and OUT/contamination.json: per EVAL the documents,
    windows, contaminated documents (fraction >= --threshold) and mean fraction, the
    options and the expected false hits of the 64-bit window hash (negligible; none with
    --verify).

    \b
    Examples:
        seqcount contamination corpus/ --eval benchmark.jsonl --n 13
        seqcount contamination 'shards/*.parquet' --eval mmlu/ --eval gsm8k/ --jobs 8 --verify

    \b
    Exit status: 0 success; 1 failed (bad input); 2 usage error; 3 finished, but training
    input was skipped (--on-error skip).
    """
    if not train:
        raise click.UsageError("give at least one TRAIN path")
    if not evals:
        raise click.UsageError("give at least one --eval EVAL")
    size = memory_size(max_memory)
    bar = ProgressBar() if not quiet and sys.stderr.isatty() and jobs == 1 else None
    on_event = text_event if jobs > 1 and not quiet else None
    with errors():
        config = make_config(ns=str(n), num_perm=0, overlap="none", **options)
        from .. import api

        try:
            result = api.contamination(
                list(train), list(evals), n=n, config=config, out=out, jobs=jobs,
                threads=threads, threshold=threshold, verify=verify, max_memory=size,
                force=force, progress=bar, on_event=on_event,
            )  # fmt: skip
        finally:
            if bar is not None:
                bar.close()
    if not quiet:
        for s in result.eval_summaries():
            mean = "-" if s["mean_fraction"] is None else f"{s['mean_fraction']:.4f}"
            click.echo(
                f"{s['eval']}: {s['documents']:,} document{'' if s['documents'] == 1 else 's'}, "
                f"{s['windows']:,} windows, "
                f"{s['hits']:,} in training; contaminated (>= {threshold:g}): "
                f"{s['contaminated_documents']:,}; mean fraction {mean}"
            )
        click.echo("wrote " + ", ".join(result.outputs.values()))
    if result.skipped:
        s = result.skipped
        click.echo(f"Warning: skipped {s.rows:,} bad training row(s) and {s.shards:,} unreadable "
                   f"shard(s); see 'skipped' in {result.outputs['summary']}", err=True)  # fmt: skip
        sys.exit(EXIT_SKIPPED)
    sys.exit(EXIT_OK)
