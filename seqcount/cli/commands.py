"""The ``seqcount`` commands: each parses options, makes one library call, prints.

The library (:mod:`seqcount.api`) is imported when a command runs, not before: ``seqcount
--help`` loads neither numba nor pyarrow.
"""

from __future__ import annotations

import json
import sys

import click

from ..errors import ConfigError
from .common import (
    EXIT_OK,
    EXIT_SKIPPED,
    JsonLog,
    OneLineGroup,
    ProgressBar,
    UsageFailure,
    errors,
    text_event,
)
from .options import (
    config_option,
    count_options,
    given,
    input_options,
    make_config,
    paper_constants,
    paper_options,
)


def _library():
    """The library (:mod:`seqcount.api`, which loads numba and pyarrow), imported on first use
    with the process settings around it (:mod:`seqcount.engine.process`)."""
    from ..engine.process import freeze_imports, skip_numba_cffi

    skip_numba_cffi()
    from .. import api

    freeze_imports()
    return api


def _api(announce=None):
    """The library (:func:`_library`). ``announce`` (a function taking a line) is told when
    the kernels must first be compiled (10-15 s)."""
    api = _library()
    if announce is not None and not api.kernels_compiled():
        announce("compiling kernels (first run only)...")
    return api


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    from ..engine.process import bound_heap_retention, use_system_arrow_pool

    bound_heap_retention()
    use_system_arrow_pool()


@cli.command(short_help="Count distinct n-token sequences U_n(D): the growth curve.")
@click.argument("paths", nargs=-1, required=False, metavar="PATH...")
@input_options
@count_options
@config_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table; errors only.")
def count(paths, out, shard_similarity, log_format, quiet, **options):
    """Count distinct n-token sequences U_n(D) of a corpus, as a growth curve.

    PATH is a directory (searched recursively), a file, or a glob; shards are read in
    sorted path order. Formats by extension: Parquet, Arrow IPC, JSON Lines (also .gz or
    .zst) and text. One row (JSON line, text file or, with --txt-documents lines, text
    line) is one document. Writes OUT/curve.csv (columns n, tokens,
    documents, windows, unique[, unique_exact], unique_hip), OUT/summary.json and OUT/sketches.npz
    (per n: HyperLogLog, block sketches for the report's intervals and, unless --overlap
    none, the overlap sketch whole and per shard), and prints a table of U_n at the whole
    input.

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
    _library()
    from ..reporting import count_notes, count_table

    log = JsonLog(quiet) if log_format == "json" else None
    quiet = quiet or log is not None
    if not paths:
        raise click.UsageError("give at least one PATH (or paths = [...] in the config file)")
    if options["near_dup"] is None:
        for flag in ("--near-dup-n", "--near-dup-max-docs"):
            if given(flag[2:].replace("-", "_")):
                raise UsageFailure(
                    f"{flag} is an option of --near-dup THRESHOLD, which was not given"
                )
    bar = ProgressBar() if not quiet and sys.stderr.isatty() else None
    if log is not None:
        announce = lambda line: log({"event": "message", "message": line})  # noqa: E731
    else:
        announce = None if quiet else lambda line: click.echo(line, err=True)  # noqa: E731
    with errors(log):
        run = {k: options.pop(k) for k in ("state", "jobs", "engine", "scheduler", "threads",
                                           "content_hash", "repair", "force")}  # fmt: skip
        config = make_config(**options)
        api = _api()
        by_shard = api.counts_by_shard(**{k: run[k] for k in ("state", "jobs", "engine",
                                                          "scheduler")})  # fmt: skip
        events = log if log is not None else (text_event if by_shard and not quiet else None)

        def on_event(event: dict) -> None:
            # the run starts once the options and inputs are checked: a usage or input error
            # comes first, then the notice that this first run compiles
            if event["event"] == "start" and announce is not None and not api.kernels_compiled():
                announce("compiling kernels (first run only)...")
            if events is not None:
                events(event)

        try:
            result = api.count(list(paths), config=config, out=out, progress=bar,
                               on_event=on_event, shard_similarity=shard_similarity,
                               **run)  # fmt: skip
            if bar is not None:
                bar.close(result.tokens)  # the last line shows the whole input's tokens
        finally:
            if bar is not None:
                bar.close()
    written = result.outputs
    if shard_similarity and len(result.shards) < 2:
        click.echo("note: --shard-similarity needs two shards or more; none written", err=True)
    if not quiet:
        click.echo(count_table(result))
    for note in count_notes(result):  # on stderr (or as JSON messages): stdout is the table
        if announce is not None:
            announce("note: " + note)
    if not quiet:
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
    |A∩B|/|B|, and |A∩B| and |A∪B|, each with one standard error: from the theta
    sketches (the default; exact while a set has fewer distinct windows than --theta-k),
    or with --overlap minhash from MinHash for J and HyperLogLog for the counts. With
    --json the object has a list 'results' with keys n, unique_a, unique_b, jaccard,
    containment_a_in_b, containment_b_in_a, intersection, union, each with its _err
    (theta: also _lower and _upper, 95% bounds, and a_not_b, b_not_a); undefined values
    (J of two empty sets, the containment of an empty set) are null. With --on-error skip,
    a side that had input skipped lists it under 'skipped' and the exit status is 3.

    \b
    Examples:
        seqcount compare eval-set/ train-out/ --n 8,13 --json
        seqcount compare crawl-2025-out/ crawl-2026-out/
    """
    api = _api(lambda line: click.echo(line, err=True))
    with errors():
        given_ = {k for k in ("ns", *api.INHERITED) if given(k)}
        config = make_config(**options)
        # --n given: compare those window sizes; else every size both sides have. A corpus
        # compared with a saved output takes the options not given here from it.
        ns = config.ns if "ns" in given_ else None
        inherit = [k for k in api.INHERITED if k not in given_]
        result = api.compare(a, b, config, ns=ns, threads=threads, inherit=inherit)
    skipped = [(name, result[key]["skipped"]) for key, name in (("a", a), ("b", b))
               if "skipped" in result[key]]  # fmt: skip
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(f"A = {a}\nB = {b}\n{_sketch_line(result['options'])}")
        click.echo(
            f"{'n':>4} {'jaccard':>15} {'A in B':>15} {'B in A':>15} {'|A∩B|':>20} {'|A∪B|':>20}"
        )
        for r in result["results"]:
            click.echo(
                f"{r['n']:>4} {estimate_cell(r, 'jaccard')} "
                f"{estimate_cell(r, 'containment_a_in_b')} "
                f"{estimate_cell(r, 'containment_b_in_a')} "
                f"{r['intersection']:>11.4g} ±{r['intersection_err']:<7.2g} "
                f"{r['union']:>11.4g} ±{r['union_err']:<7.2g}".rstrip()
            )
    for name, s in skipped:
        click.echo(
            f"Warning: {name}: skipped {s['rows']:,} bad row(s) and {s['shards']:,} unreadable "
            "shard(s); see 'skipped' in compare --json",
            err=True,
        )
    if skipped:
        sys.exit(EXIT_SKIPPED)


def _sketch_line(options: dict) -> str:
    """The overlap sketch behind a comparison, in words."""
    if options.get("sketch") == "theta":
        k = options["theta_k"]
        return f"theta sketches, k = {k} (exact below {k:,} distinct windows; ± is 1 s.e.)"
    k = options["num_perm"]
    return f"MinHash K = {k} (Jaccard resolution {1 / k:.4f})"


def estimate_cell(r: dict, key: str) -> str:
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
    _library()
    from ..reporting import count_table

    with errors():
        result = _api().merge(list(inputs), out)
    if not quiet:
        click.echo(count_table(result))
        click.echo("wrote " + ", ".join(result.outputs.values()))


def number(value: str | None, name: str) -> float | None:
    """A positive number written as 7e10 or 70000000000 (usage errors otherwise)."""
    if value is None:
        return None
    try:
        v = float(value)
    except ValueError:
        raise UsageFailure(f"{name}: {value!r} is not a number (e.g. 7e10)") from None
    if v == float("inf"):
        raise UsageFailure(f"{name} {value} is out of range (at most about 1.8e308)")
    if not v > 0:
        raise UsageFailure(f"{name} must be a positive number, got {value}")
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
@click.option(
    "--orders",
    type=click.IntRange(2, 100_000),
    default=200,
    show_default=True,
    help="Random block orders behind the exponents' 95% intervals (runs with block sketches).",
)
@paper_options
@click.option("--no-plots", is_flag=True, help="Skip growth.png and slopes.png.")
@click.option(
    "--dest", default=None, type=click.Path(file_okay=False), help="Write here [default: OUT]."
)
def report(
    out,
    at,
    model_params,
    loss_fit,
    fit_range,
    bloom_fpr,
    exact,
    c_lo,
    c_hi,
    c_lo_alias,
    c_hi_alias,
    no_plots,
    dest,
    orders,
):
    """Fit U_n(D) of a count run and set it against the paper's bounds.

    Reads OUT/curve.csv, OUT/summary.json and OUT/sketches.npz (written by 'seqcount
    count') and writes report.md, report.html, report.json, growth.png and slopes.png:
    per n the exponent gamma over the fit range with a calibrated 95% interval (from
    random orders of the run's blocks of documents), its drift per half decade, a
    verdict against the paper's band (in band, below band, above band, crosses band,
    undecided) and one sentence that says it; the doubling factor 2^(1/gamma), a
    saturating alternative, and extrapolations.

    \b
    Examples:
        seqcount report seqcount-out
        seqcount report seqcount-out --at 1e9,1e12 --bloom-fpr 0.01 --model-params 7e10
    """
    _library()
    from ..reporting import parse_floats, write_report

    c_lo, c_hi = paper_constants(c_lo, c_hi, c_lo_alias, c_hi_alias)
    try:  # malformed command-line text: a usage error
        targets = parse_floats(at, "--at")
        rng = parse_floats(fit_range, "--fit-range")
    except ConfigError as e:
        raise UsageFailure(str(e)) from None
    with errors():
        if fit_range is not None and (len(rng) != 2 or rng[0] >= rng[1]):
            raise UsageFailure("--fit-range needs LO,HI with LO < HI, e.g. 1e4,1e6")
        if bloom_fpr is not None and not 0 < bloom_fpr < 1:
            raise UsageFailure(f"--bloom-fpr must be in (0, 1), got {bloom_fpr}")
        rep = write_report(
            out,
            dest,
            plots=not no_plots,
            at=targets,
            fit=loss_fit,
            model_params=number(model_params, "--model-params"),
            d_range=tuple(rng) if rng else None,
            bloom_fpr=bloom_fpr,
            c_lo=c_lo,
            c_hi=c_hi,
            exact=exact,
            orders=orders,
        )
    _print_report(rep)


def _print_report(rep) -> None:
    """The report's verdicts on stdout (notes on stderr)."""
    lo, hi = rep.gamma_band
    click.echo(f"paper's band: gamma in [{lo:.3f}, {hi:.3f}]; D* = {rep.d_star:.3g} tokens")
    skipped = (rep.resampling or {}).get("skipped")
    if skipped:
        click.echo(f"note: no calibrated interval: {skipped}", err=True)
    click.echo(
        f"{'n':>5} {'gamma':>8} {'95% interval':>17} {'verdict':>13} {'doubling':>9} {'model':>10}"
    )
    for f in rep.fits:
        g, v = f.growth, f.verdict
        if v.gamma_ci95 is not None:
            gam, ci = f.gamma, "[{:.3f}, {:.3f}]".format(*v.gamma_ci95)
            label = v.verdict
        else:  # one curve's least-squares fit: its error is too small, say so
            gam, ci = g.gamma, f"(± {g.gamma_err:.3f} LS)"
            label = "yes" if v.in_band else ("overlaps" if v.band_overlap else "no")
        click.echo(
            f"{g.n:>5} {gam:>8.4f} {ci:>17} {label:>13} {v.doubling_factor:>8.2f}x "
            f"{g.preferred:>10}"
        )
    for s in rep.not_fitted:
        click.echo(f"{s.n:>5} not fitted: {s.reason}")
    for f in rep.fits:
        if f.assessment is not None:
            click.echo(f.assessment.sentence)
    click.echo("wrote " + ", ".join(rep.files.values()))


@cli.command()
@click.option("--tokens", "-D", required=True, metavar="D", help="Corpus size in tokens.")
@click.option("--model-params", default=None, metavar="N", help="Model size: adds its regime.")
@paper_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bounds(tokens, model_params, loss_fit, c_lo, c_hi, c_lo_alias, c_hi_alias, as_json):
    """The paper's numbers for a corpus of D tokens, without a corpus.

    Prints epsilon(D), U_lower, U_mid and U_upper, the exponent band, D*, and the
    skills-doubling factors; with --model-params N also the emergent-skills regime.

    \b
    Examples:
        seqcount bounds --tokens 1.4e12 --model-params 7e10
        seqcount bounds --tokens 1e9 --fit epoch --json
    """
    c_lo, c_hi = paper_constants(c_lo, c_hi, c_lo_alias, c_hi_alias)
    with errors():
        d = number(tokens, "--tokens")
        n = number(model_params, "--model-params")
        out = _api().bounds(d, fit=loss_fit, model_params=n, c_lo=c_lo, c_hi=c_hi)
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
