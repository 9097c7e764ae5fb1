"""The ``seqcount`` command line: parse options, call one library function, print.

Library errors (:class:`~seqcount.errors.SeqcountError`) become a one-line ``Error: ...`` on
stderr and exit status 1; click's usage errors exit with status 2.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager

import click

from .analysis.bounds import FITS
from .config import (
    DEFAULT_NS,
    DEFAULT_NUM_PERM,
    DEFAULT_PRECISION,
    FORMATS,
    ON_ERROR,
    TXT_DOCUMENTS,
    CountConfig,
    parse_ns,
)
from .errors import ConfigError, SeqcountError

#: Exit statuses (also in README.md): success; failure (an error message says why); command-line
#: usage error; finished, but some input was skipped under --on-error skip.
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3


@contextmanager
def _errors(log=None):
    """Turn library errors into one-line messages and exit codes (and a JSON ``error`` event
    when logging JSON)."""
    try:
        yield
    except SeqcountError as e:
        if log is not None:
            log({"event": "error", "message": str(e), "exit_code": EXIT_FAILED})
        raise click.ClickException(str(e)) from None
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


class _JsonLog:
    """``--log-format json``: one JSON object per line on stdout, flushed at once."""

    def __call__(self, event: dict) -> None:
        event = {"time": round(time.time(), 3), **event}
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

    def result(self, result, written: dict, code: int) -> None:
        for tokens in sorted({r.tokens for r in result.rows}):
            rows = [r for r in result.rows if r.tokens == tokens]
            self({"event": "checkpoint", "tokens": tokens, "documents": rows[0].documents,
                  "unique": {str(r.n): round(r.unique) for r in rows}})  # fmt: skip
        self({
            "event": "summary", "exit_code": code, "shards": len(result.shards),
            "documents": result.documents, "tokens": result.tokens,
            "skipped_rows": result.skipped.rows, "skipped_shards": result.skipped.shards,
            "unique": {str(n): round(r.unique) for n, r in result.final.items()},
            "elapsed_s": round(result.elapsed, 3), "outputs": written,
        })  # fmt: skip


def _text_event(event: dict) -> None:
    """Batch progress as plain lines on stderr (cron mails, CI logs)."""
    kind = event["event"]
    if kind == "start":
        line = f"{event['shards']} shard(s), {event['jobs']} job(s) ({event['engine']})"
    elif kind in ("shard_finished", "shard_reused"):
        head = f"[{event['shard'] + 1}/{event['shards']}]"
        tokens = f"{event['tokens']:,} tokens"
        if "error" in event:
            line = f"{head} skipped {event['path']} from there on: {event['error']}"
        elif kind == "shard_finished":
            line = f"{head} counted {event['path']}: {tokens} in {event['seconds']:.2f} s"
        else:
            line = f"{head} reused  {event['path']}: {tokens} (--state)"
    elif kind == "message":
        line = "note: " + event["message"]
    else:
        return
    click.echo(line, err=True)


class _ProgressBar:
    """A click progress bar with tokens/s, only on a terminal.

    It counts documents when every shard's row count is known (Parquet), else shards.
    """

    def __init__(self):
        self.bar = None
        self.by_docs = True
        self.last = 0.0

    def __call__(self, p) -> None:
        now = time.monotonic()
        if self.bar is None:
            self.by_docs = p.total_documents is not None
            self.bar = click.progressbar(
                length=max(p.total_documents if self.by_docs else p.shards, 1),
                label="counting",
                file=sys.stderr,
                show_pos=True,
                item_show_func=lambda s: s,
            )
            self.bar.__enter__()
        elif now - self.last < 0.1:
            return
        self.last = now
        rate = p.tokens / p.elapsed if p.elapsed > 0 else 0.0
        item = f"shard {p.shard + 1}/{p.shards}  {p.tokens:,} tokens  {rate / 1e6:.2f} M tok/s"
        done = p.documents if self.by_docs else p.shard
        self.bar.update(max(0, done - self.bar.pos), current_item=item)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.update(self.bar.length - self.bar.pos)
            self.bar.__exit__(None, None, None)


CONFIG_FILE = "seqcount.toml"


def _read_toml(path: str) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        msg = f"{path}: cannot read the config file ({e.strerror or e})"
        raise click.ClickException(msg) from None
    except tomllib.TOMLDecodeError as e:
        raise click.ClickException(f"{path}: not valid TOML ({e})") from None


def _load_config(ctx: click.Context, param, value: str | None) -> str | None:
    """Eager ``--config FILE`` (or ./seqcount.toml): the table named after the command gives
    the defaults of its options, so flags given on the command line still win."""
    path = value
    if path is None and os.path.isfile(CONFIG_FILE):
        path = CONFIG_FILE
    if path is None:
        return None
    table = _read_toml(path).get(ctx.command.name, {})
    if not isinstance(table, dict):
        raise click.ClickException(f"{path}: [{ctx.command.name}] must be a table")
    names = {p.name: p for p in ctx.command.params}
    aliases = {o.lstrip("-").replace("-", "_"): p.name for p in ctx.command.params
               for o in getattr(p, "opts", [])}  # fmt: skip
    defaults = {}
    for key, v in table.items():
        name = aliases.get(key.replace("-", "_"), key.replace("-", "_"))
        if name not in names or name == "config":
            raise click.ClickException(f"{path}: unknown option {key!r} in [{ctx.command.name}]")
        if name == "ns" and isinstance(v, list):
            v = ",".join(str(x) for x in v)
        if name == "paths" and isinstance(v, str):
            v = [v]
        defaults[name] = v
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    ctx.meta["config_file"] = path
    return path


def config_option(command):
    return click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False),
        default=None,
        is_eager=True,
        expose_value=False,
        callback=_load_config,
        help=f"TOML file whose [{command.__name__}] table sets defaults for these options "
        f'(names as the flags: jobs = 8, on-error = "skip"); flags override it. '
        f"[default: ./{CONFIG_FILE} if present]",
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="seqcount", prog_name="seqcount")
def cli():
    """Count distinct n-token sequences U_n(D) in a corpus, streaming, in constant memory.

    seqcount reads Parquet, Arrow, JSON Lines or text shards, tokenizes each document,
    hashes every window of n consecutive tokens for several n at once, and keeps one
    HyperLogLog sketch (and MinHash signature) per n. The result is a growth curve U_n(D):
    how many distinct n-token sequences the first D tokens of the corpus hold. 'report'
    sets it against the paper's bounds; 'compare' measures overlap between corpora.

    \b
    Example:
        seqcount count data/ --out seqcount-out
        seqcount report seqcount-out
    """
    from .engine.process import bound_heap_retention

    bound_heap_retention()


def input_options(command):
    """The options that say how a corpus is read and counted (``count`` and ``compare``)."""
    options = [
        click.option(
            "--tokenizer",
            default=None,
            metavar="words|bytes|ids|hf:PATH",
            type=str,
            help="words: re.findall(r'\\w+|[^\\w\\s]') tokens; bytes: UTF-8 bytes; "
            "ids: integers of --tokens-column; hf:PATH: a Hugging Face tokenizer.json "
            "(pip install 'seqcount[hf]').  [default: words, or ids with --tokens-column]",
        ),
        click.option(
            "--text-column", default="text", show_default=True, help="Column holding document text."
        ),
        click.option(
            "--tokens-column",
            default=None,
            metavar="NAME",
            help="Column holding a list of token ids per row (pre-tokenized input); implies "
            "--tokenizer ids.",
        ),
        click.option(
            "--n",
            "ns",
            default=",".join(map(str, DEFAULT_NS)),
            show_default=True,
            metavar="N,N,...",
            help="Window sizes, counted in the same pass.",
        ),
        click.option(
            "--precision",
            "-p",
            type=int,
            default=DEFAULT_PRECISION,
            show_default=True,
            help="HyperLogLog precision p in [4, 16]: 2**p bytes per n, standard error "
            "1.04/sqrt(2**p) (0.41% at 16).",
        ),
        click.option(
            "--num-perm",
            type=int,
            default=DEFAULT_NUM_PERM,
            show_default=True,
            help="MinHash permutations per n (for compare, shard similarity and near-duplicates): "
            "Jaccard standard error sqrt(J(1-J)/K); 0 turns MinHash off (faster count).",
        ),
        click.option(
            "--stride",
            is_flag=True,
            help="Count non-overlapping n-token chunks (windows starting every n tokens of a "
            "document, the way training sequences are cut) instead of sliding windows.",
        ),
        click.option(
            "--seed", type=int, default=0, show_default=True,
            help="Seed of the window hash and the MinHash permutations.",
        ),
        click.option(
            "--threads",
            type=int,
            default=None,
            help="Threads for the sketch updates [default: all cores]; results do not depend "
            "on it.",
        ),
        click.option(
            "--batch-rows",
            type=int,
            default=1024,
            show_default=True,
            help="Rows read from a shard at a time (lower it for very long documents).",
        ),
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default=None,
            help="Read every file as this format [default: by extension: .parquet/.pq, "
            ".arrow/.feather/.ipc, .jsonl/.json/.ndjson, .txt; .gz and .zst for JSON Lines and "
            "text].",
        ),
        click.option(
            "--txt-documents",
            type=click.Choice(TXT_DOCUMENTS),
            default="file",
            show_default=True,
            help="For .txt input: one document per file, or one per line.",
        ),
        click.option(
            "--on-error",
            type=click.Choice(ON_ERROR),
            default="fail",
            show_default=True,
            help="fail: stop at the first bad shard or row (exit 1). skip: skip bad rows and "
            "unreadable shards, list them ('skipped' in summary.json or compare --json), and "
            "exit 3.",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def _config(tokenizer, ns, fmt, **options) -> CountConfig:
    """A :class:`CountConfig` from the values of :func:`input_options` and a command's own."""
    if tokenizer is None:
        tokenizer = "ids" if options.get("tokens_column") else "words"
    return CountConfig(ns=parse_ns(ns), tokenizer=tokenizer, format=fmt, **options)


def _given(name: str) -> bool:
    """Option ``name`` of the running command was set on the command line (a config file's
    value is a default that a job may not use every time)."""
    source = click.get_current_context().get_parameter_source(name)
    return source == click.core.ParameterSource.COMMANDLINE


def _check_count_options(config, shard_similarity, state, content_hash, repair, jobs) -> None:
    """Flags of ``count`` that only make sense together, checked before any counting."""
    if jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {jobs}")
    if config.near_dup is None:
        for flag in ("--near-dup-n", "--near-dup-max-docs"):
            if _given(flag[2:].replace("-", "_")):
                raise ConfigError(
                    f"{flag} is an option of --near-dup THRESHOLD, which was not given"
                )
    if shard_similarity and not config.num_perm:
        raise ConfigError("--shard-similarity needs MinHash signatures (--num-perm > 0)")
    for flag, on in (("--content-hash", content_hash), ("--repair", repair)):
        if on and state is None:
            raise ConfigError(f"{flag} is an option of --state DIR, which was not given")


@cli.command(short_help="Count distinct n-token sequences U_n(D): the growth curve.")
@click.argument("paths", nargs=-1, required=False, metavar="PATH...")
@input_options
@click.option(
    "--checkpoints-per-decade",
    type=int,
    default=8,
    show_default=True,
    help="Growth-curve checkpoints per factor of 10 in tokens.",
)
@click.option(
    "--out",
    "-o",
    default="seqcount-out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Output directory for curve.csv, summary.json and sketches.npz (files are replaced).",
)
@click.option(
    "--exact",
    is_flag=True,
    help="Also count distinct window hashes exactly (column unique_exact); costs 16-32 bytes "
    "per distinct window per n.",
)
@click.option(
    "--near-dup",
    type=float,
    default=None,
    metavar="THRESHOLD",
    help="Find near-duplicate documents: pairs whose --near-dup-n windows have estimated "
    "Jaccard similarity >= THRESHOLD, in (0, 1) (e.g. 0.8). Writes curve_dedup.csv (the curve "
    "after keeping the first document of each cluster) and a near_dup section in summary.json.",
)
@click.option(
    "--near-dup-n",
    type=int,
    default=5,
    show_default=True,
    help="Window size (tokens) of the per-document signatures for --near-dup.",
)
@click.option(
    "--near-dup-max-docs",
    type=int,
    default=None,
    metavar="DOCS",
    help="Memory cap for --near-dup: index at most DOCS documents (about 5 KB each at "
    "--num-perm 128); later documents are still checked against them.  [default: no cap]",
)
@click.option(
    "--shard-similarity",
    is_flag=True,
    help="Also write shard_similarity.csv (estimated Jaccard of every pair of shards, per n) "
    "and shard_similarity.png (heatmaps), to find shards that duplicate each other.",
)
@click.option(
    "--state",
    default=None,
    type=click.Path(file_okay=False),
    help="State directory: keep each shard's sketches there, keyed by the shard's path, size, "
    "mtime and the options, so a rerun counts only new or changed shards and a killed job "
    "resumes. The results equal a fresh run's.",
)
@click.option(
    "--jobs",
    "-j",
    type=int,
    default=1,
    show_default=True,
    help="Count this many shards at once in worker processes (numba threads per worker: "
    "cores / jobs). The results equal --jobs 1's.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: this machine; dask: a Dask cluster (pip install 'seqcount[dask]'), a local "
    "one with --jobs workers unless --scheduler is given.",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Address of a running Dask scheduler (tcp://host:8786); implies --engine dask. "
    "Workers must see the shards at the same paths.",
)
@click.option(
    "--content-hash",
    is_flag=True,
    help="With --state: fingerprint shards by a SHA-256 of their bytes too, not only by size "
    "and mtime.",
)
@click.option(
    "--repair",
    is_flag=True,
    help="With --state: recount shards whose state file is corrupt instead of stopping.",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: print one JSON object per event on stdout (start, shard_started, "
    "shard_finished, shard_reused, message, checkpoint, error, summary) instead of the table.",
)
@config_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table; errors only.")
def count(
    paths,
    checkpoints_per_decade,
    out,
    exact,
    near_dup,
    near_dup_n,
    near_dup_max_docs,
    shard_similarity,
    threads,
    state,
    jobs,
    engine,
    scheduler,
    content_hash,
    repair,
    log_format,
    quiet,
    **options,
):
    """Count distinct n-token sequences U_n(D) of a corpus, as a growth curve.

    PATH is a directory (searched recursively), a file, or a glob; shards are read in
    sorted path order. Formats by extension: Parquet, Arrow IPC, JSON Lines (also .gz or
    .zst) and text. One row (JSON line, text file or, with --txt-documents lines, text
    line) is one document. Writes OUT/curve.csv (columns n, tokens,
    documents, windows, unique[, unique_exact], unique_hip), OUT/summary.json and OUT/sketches.npz
    (HyperLogLog and, unless --num-perm 0, MinHash per n, per shard and whole), and
    prints a table of U_n at the whole input.

    \b
    Examples:
        seqcount count data/
        seqcount count 'shards/*.parquet' --n 1,2,4,8 --exact --out run1
        seqcount count tokens/ --tokens-column input_ids --precision 14
        seqcount count crawl/ --format jsonl --on-error skip
        seqcount count books/ --tokenizer hf:tokenizer.json
        seqcount count crawl/ --near-dup 0.8 --shard-similarity

    \b
    Scheduled jobs and scale-out:
        seqcount count corpus/ --state state/ --jobs 8 --log-format json
        seqcount count --config nightly.toml
        seqcount count corpus/ --scheduler tcp://scheduler:8786 --state state/

    \b
    Exit status: 0 success; 1 failed (one-line error; also when every shard was
    unreadable); 2 usage error; 3 finished, but input was skipped (--on-error skip).
    """
    from .api import count_corpus
    from .report import count_table
    from .run.files import check_counted, check_output_dir, write_outputs

    log = _JsonLog() if log_format == "json" else None
    if log is not None:
        quiet = True
    if not paths:
        raise click.UsageError("give at least one PATH (or paths = [...] in the config file)")
    batch = state is not None or jobs > 1 or engine == "dask" or scheduler is not None
    with _errors(log):
        config = _config(
            checkpoints_per_decade=checkpoints_per_decade,
            exact=exact,
            near_dup=near_dup,
            near_dup_n=near_dup_n,
            near_dup_max_docs=near_dup_max_docs,
            **options,
        )
        _check_count_options(config, shard_similarity, state, content_hash, repair, jobs)
        check_output_dir(out)  # fail now, not after hours of counting
        if batch:
            from .api import count_batch

            on_event = log if log is not None else (None if quiet else _text_event)
            result = count_batch(
                paths, config, state=state, jobs=jobs, engine=engine, scheduler=scheduler,
                threads=threads, content_hash=content_hash, repair=repair, on_event=on_event,
                exclude=[out] + ([state] if state else []),
            )  # fmt: skip
        else:
            bar = _ProgressBar() if not quiet and sys.stderr.isatty() else None
            try:
                result = count_corpus(
                    paths, config, progress=bar, threads=threads, exclude=[out], on_event=log
                )
            finally:
                if bar is not None:
                    bar.close()
        check_counted(result)
        written = write_outputs(result, out)
        if shard_similarity and len(result.shards) < 2:
            click.echo("note: --shard-similarity needs two shards or more; none written", err=True)
        elif shard_similarity:
            from .report import write_shard_similarity

            written.update(write_shard_similarity(result.sketches, out))
    if not quiet:
        click.echo(count_table(result))
        click.echo("wrote " + ", ".join(written.values()))
    code = EXIT_SKIPPED if result.skipped else EXIT_OK
    if log is not None:
        log.result(result, written, code)
    if result.skipped:
        s = result.skipped
        if log is None:
            click.echo(
                f"Warning: skipped {s.rows:,} bad row(s) and {s.shards:,} unreadable shard(s); "
                f"see 'skipped' in {written['summary']}",
                err=True,
            )
        sys.exit(EXIT_SKIPPED)


@cli.command()
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@input_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def compare(a, b, threads, as_json, **options):
    """How much the n-token window sets of A and B overlap.

    A and B are corpora (directories, files or globs, counted now with the options
    given) or outputs of 'seqcount count' (their directory or sketches.npz, which keep
    the options they were counted with; both sides must match: a corpus compared with
    a saved output takes its --precision, --seed, --stride, --num-perm and window sizes
    unless given here). Per n it prints the
    estimated Jaccard similarity |A∩B|/|A∪B|, the containments |A∩B|/|A| and
    |A∩B|/|B|, and |A∩B| and |A∪B|, each with one standard error: MinHash for J,
    HyperLogLog for the counts. With --json the object has a list 'results' with keys
    n, unique_a, unique_b, jaccard, jaccard_err, containment_a_in_b,
    containment_b_in_a, intersection, union and their _err; undefined values (J of
    two empty sets, the containment of an empty set) are null. With --on-error skip,
    a side that had input skipped lists it under 'skipped' and the exit status is 3.

    \b
    Examples:
        seqcount compare eval-set/ train-out/ --n 8,13 --json
        seqcount compare crawl-2025-out/ crawl-2026-out/
    """
    from .api import INHERITED
    from .api import compare as compare_corpora

    with _errors():
        given = {k for k in ("ns", *INHERITED) if _given(k)}
        config = _config(**options)
        # --n given: compare those window sizes; else every size both sides have. A corpus
        # compared with a saved output takes the options not given here from it.
        ns = config.ns if "ns" in given else None
        inherit = [k for k in INHERITED if k not in given]
        result = compare_corpora(a, b, config, ns=ns, threads=threads, inherit=inherit)
    skipped = [(name, result[key]["skipped"]) for key, name in (("a", a), ("b", b))
               if "skipped" in result[key]]  # fmt: skip
    if as_json:
        click.echo(json.dumps(result))
    else:
        k = result["options"]["num_perm"]
        click.echo(f"A = {a}\nB = {b}\nMinHash K = {k} (Jaccard resolution {1 / k:.4f})")
        click.echo(
            f"{'n':>4} {'jaccard':>15} {'A in B':>15} {'B in A':>15} {'|A∩B|':>20} {'|A∪B|':>14}"
        )
        for r in result["results"]:
            click.echo(
                f"{r['n']:>4} {_estimate(r, 'jaccard')} {_estimate(r, 'containment_a_in_b')} "
                f"{_estimate(r, 'containment_b_in_a')} "
                f"{r['intersection']:>11.4g} ±{r['intersection_err']:<7.2g} {r['union']:>14.4g}"
            )
    for name, s in skipped:
        click.echo(
            f"Warning: {name}: skipped {s['rows']:,} bad row(s) and {s['shards']:,} unreadable "
            "shard(s); see 'skipped' in compare --json",
            err=True,
        )
    if skipped:
        sys.exit(EXIT_SKIPPED)


def _estimate(r: dict, key: str) -> str:
    """``value ±error`` of a compare result, 15 wide; ``undefined`` for ``None``."""
    if r[key] is None:
        return f"{'undefined':>15}"
    return f"{r[key]:>7.4f} ±{r[key + '_err']:<6.4f}"


@cli.command(short_help="Merge count outputs of disjoint corpora into one.")
@click.argument("inputs", nargs=-1, required=True, metavar="OUT...")
@click.option(
    "--out", "-o", required=True, type=click.Path(file_okay=False),
    help="Directory for the merged curve.csv, summary.json and sketches.npz.",
)  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No table; errors only.")
def merge(inputs, out, quiet):
    """Merge the outputs of 'seqcount count' on disjoint corpora into one.

    The sketches of the union are exact: HyperLogLog registers merge by maximum and
    MinHash signatures by minimum, in any order or grouping. The merged curve.csv has
    one row per n, at the whole union (a checkpoint inside it would need the documents
    in order; count with --state for a full curve). Inputs must have been counted with
    the same options and must not share a shard.

    \b
    Example:
        seqcount merge out-part1 out-part2 out-part3 --out out-all
    """
    from .report import count_table
    from .run.files import check_output_dir, write_outputs
    from .run.merge import merge_outputs

    with _errors():
        check_output_dir(out)
        result = merge_outputs(list(inputs))
        written = write_outputs(result, out)
    if not quiet:
        click.echo(count_table(result))
        click.echo("wrote " + ", ".join(written.values()))


def paper_options(command):
    """The options that choose the paper's bounds: the loss fit and the two constants."""
    for option in reversed(
        [
            click.option(
                "--fit",
                "loss_fit",
                type=click.Choice(sorted(FITS)),
                default="chinchilla",
                show_default=True,
                help="Loss fit behind the paper's bounds.",
            ),
            click.option(
                "--c-lo", type=float, default=1.0, show_default=True,
                help="Constant of the fast-rate bound U_upper (an assumption).",
            ),
            click.option(
                "--c-hi", type=float, default=1.0, show_default=True,
                help="Constant of the slow-rate bound U_lower (an assumption).",
            ),
        ]
    ):  # fmt: skip
        command = option(command)
    return command


def _number(value: str | None, name: str) -> float | None:
    """A positive number written as 7e10 or 70000000000."""
    from .errors import ConfigError

    if value is None:
        return None
    try:
        v = float(value)
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a number (e.g. 7e10)") from None
    if not v > 0 or v != v or v == float("inf"):
        raise ConfigError(f"{name} must be a positive number, got {value}")
    return v


@cli.command()
@click.argument("out", metavar="OUT", type=click.Path())
@click.option(
    "--at", default=None, metavar="D,D,...", help="Corpus sizes (tokens) to extrapolate U_n to."
)
@click.option(
    "--model-params",
    default=None,
    metavar="N",
    help="A model size; adds its emergent-skills regime on this corpus.",
)
@click.option(
    "--fit-range",
    default=None,
    metavar="LO,HI",
    help="Range of D (tokens) for the power-law fit  [default: the upper two decades].",
)
@click.option(
    "--bloom-fpr",
    type=float,
    default=None,
    help="False-positive rate: adds Bloom filter bits and hash count for the extrapolated U_n.",
)
@click.option("--exact", is_flag=True, help="Fit unique_exact (needs a count run with --exact).")
@paper_options
@click.option("--no-plots", is_flag=True, help="Skip growth.png and slopes.png.")
@click.option(
    "--dest", default=None, type=click.Path(file_okay=False), help="Write here [default: OUT]."
)
def report(
    out, at, model_params, loss_fit, fit_range, bloom_fpr, exact, c_lo, c_hi, no_plots, dest
):
    """Fit U_n(D) of a count run and set it against the paper's bounds.

    Reads OUT/curve.csv and OUT/summary.json (written by 'seqcount count') and writes
    report.md, report.html, report.json, growth.png and slopes.png: per n the exponent
    gamma of U = c*D^gamma with its error, whether it lies in the paper's band, the
    doubling factor 2^(1/gamma), a saturating alternative, and extrapolations.

    \b
    Examples:
        seqcount report seqcount-out
        seqcount report seqcount-out --at 1e9,1e12 --bloom-fpr 0.01 --model-params 7e10
    """
    from .report import parse_floats, write_report

    with _errors():
        targets = parse_floats(at, "--at")
        rng = parse_floats(fit_range, "--fit-range")
        if fit_range is not None and (len(rng) != 2 or rng[0] >= rng[1]):
            from .errors import ConfigError

            raise ConfigError("--fit-range needs LO,HI with LO < HI, e.g. 1e4,1e6")
        if bloom_fpr is not None and not 0 < bloom_fpr < 1:
            from .errors import ConfigError

            raise ConfigError(f"--bloom-fpr must be in (0, 1), got {bloom_fpr}")
        rep = write_report(
            out,
            dest,
            plots=not no_plots,
            at=targets,
            fit=loss_fit,
            model_params=_number(model_params, "--model-params"),
            d_range=tuple(rng) if rng else None,
            bloom_fpr=bloom_fpr,
            c_lo=c_lo,
            c_hi=c_hi,
            exact=exact,
        )
    lo, hi = rep.gamma_band
    click.echo(f"paper's band: gamma in [{lo:.3f}, {hi:.3f}]; D* = {rep.d_star:.3g} tokens")
    click.echo(f"{'n':>5} {'gamma':>8} {'± err':>7} {'in band':>8} {'doubling':>9} {'model':>10}")
    for f in rep.fits:
        g, v = f.growth, f.verdict
        band = "yes" if v.in_band else ("overlaps" if v.band_overlap else "no")
        click.echo(
            f"{g.n:>5} {g.gamma:>8.4f} {g.gamma_err:>7.4f} {band:>8} "
            f"{v.doubling_factor:>8.2f}x {g.preferred:>10}"
        )
    for s in rep.not_fitted:
        click.echo(f"{s.n:>5} not fitted: {s.reason}")
    click.echo("wrote " + ", ".join(rep.files.values()))


@cli.command()
@click.option("--tokens", "-D", required=True, metavar="D", help="Corpus size in tokens.")
@click.option("--model-params", default=None, metavar="N", help="Model size: adds its regime.")
@paper_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bounds(tokens, model_params, loss_fit, c_lo, c_hi, as_json):
    """The paper's numbers for a corpus of D tokens, without a corpus.

    Prints epsilon(D), U_lower, U_mid and U_upper, the exponent band, D*, and the
    skills-doubling factors; with --model-params N also the emergent-skills regime.

    \b
    Examples:
        seqcount bounds --tokens 1.4e12 --model-params 7e10
        seqcount bounds --tokens 1e9 --fit epoch --json
    """
    from .analysis.bounds import bounds_summary

    with _errors():
        d = _number(tokens, "--tokens")
        n = _number(model_params, "--model-params")
        out = bounds_summary(d, fit=loss_fit, model_params=n, c_lo=c_lo, c_hi=c_hi)
    if as_json:
        click.echo(json.dumps(out))
        return
    lo, hi = out["gamma_band"]
    click.echo(f"loss fit         {out['fit']}")
    click.echo(f"tokens D         {out['tokens']:.4g}")
    click.echo(f"epsilon(D)       {out['epsilon']:.4g}")
    click.echo(f"U_lower          {out['u_lower']:.4g}")
    click.echo(f"U_mid            {out['u_mid']:.4g}")
    click.echo(f"U_upper          {out['u_upper']:.4g}")
    click.echo(f"gamma band       [{lo:.3f}, {hi:.3f}], mid {out['gamma_mid']:.3f}")
    click.echo(f"D*               {out['d_star']:.4g}")
    if out["below_d_star"]:
        click.echo("note             D < D*: U_lower is above U_upper, the band means nothing here")
    db = out["doubling_band"]
    click.echo(f"doubling factor  {db[0]:.2f}x - {db[1]:.2f}x, mid {out['doubling_mid']:.2f}x")
    if "regime" in out:
        r = out["regime"]
        click.echo(f"regime (N={n:.3g})  {r['band']}: {r['band_meaning']}")
        if r.get("note"):
            click.echo(f"note             {r['note']}")
