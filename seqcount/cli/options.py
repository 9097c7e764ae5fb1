"""Options shared by commands, config files, and turning options into a :class:`CountConfig`."""

from __future__ import annotations

import os

import click

from ..analysis.lossfits import FITS
from ..config import (
    DEFAULT_NS,
    DEFAULT_NUM_PERM,
    DEFAULT_PRECISION,
    FORMATS,
    MAX_LG_THETA_K,
    MIN_LG_THETA_K,
    ON_ERROR,
    OVERLAP_SKETCHES,
    SHARD_THETA_K,
    THETA_K,
    TOKEN_DTYPES,
    TXT_DOCUMENTS,
    CountConfig,
    parse_ns,
)
from .common import UsageFailure

CONFIG_FILE = "seqcount.toml"


def read_toml(path: str) -> dict:
    """The content of a TOML file; a one-line error if it cannot be read or parsed."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        msg = f"{path}: cannot read the config file ({e.strerror or e})"
        raise UsageFailure(msg) from None
    except tomllib.TOMLDecodeError as e:
        raise UsageFailure(f"{path}: not valid TOML ({e})") from None


def load_config(ctx: click.Context, param, value: str | None) -> str | None:
    """Eager ``--config FILE`` (or ./seqcount.toml): the table named after the command gives
    the defaults of its options, so flags given on the command line still win."""
    path = value
    if path is None and os.path.isfile(CONFIG_FILE):
        path = CONFIG_FILE
        # a file the user did not name must not change a run without a word
        click.echo(f"using config ./{CONFIG_FILE}", err=True)
    if path is None:
        return None
    table = read_toml(path).get(ctx.command.name, {})
    if not isinstance(table, dict):
        raise UsageFailure(f"{path}: [{ctx.command.name}] must be a table")
    names = {p.name: p for p in ctx.command.params}
    aliases = {o.lstrip("-").replace("-", "_"): p.name for p in ctx.command.params
               for o in getattr(p, "opts", [])}  # fmt: skip
    defaults = {}
    for key, v in table.items():
        name = aliases.get(key.replace("-", "_"), key.replace("-", "_"))
        if name not in names or name == "config":
            raise UsageFailure(f"{path}: unknown option {key!r} in [{ctx.command.name}]")
        if key.replace("-", "_") != name and getattr(names[name], "flag_value", None) is False:
            v = not v  # ``no_blocks = true`` is ``blocks = false``
        if name == "ns" and isinstance(v, list):
            v = ",".join(str(x) for x in v)
        if name == "paths" and isinstance(v, str):
            v = [v]
        defaults[name] = v
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    ctx.meta["config_file"] = path
    return path


def config_option(command):
    """``--config FILE``: defaults for the command's options from a TOML table."""
    return click.option(
        "--config",
        "config",
        type=click.Path(dir_okay=False),
        default=None,
        is_eager=True,
        expose_value=False,
        callback=load_config,
        help=f"TOML file whose [{command.__name__}] table sets defaults for these options "
        f'(names as the flags: jobs = 8, on-error = "skip"); flags override it. '
        f"[default: ./{CONFIG_FILE} if present]",
    )(command)


#: The options of :func:`input_options` for token files and Hugging Face DatasetDict folders.
TOKEN_FILE_OPTIONS = [
    click.option(
        "--doc-separator", type=int, default=None, metavar="ID",
        help="Token id that separates documents in .bin token files (llm.c shards, "
        "headerless token ids); not counted.  [default: the llm.c header's end-of-text "
        "token (50256 GPT-2, 128000 Llama-3); one document per headerless file]",
    ),
    click.option(
        "--token-dtype", type=click.Choice(TOKEN_DTYPES), default=None,
        help="Read a .bin without an llm.c header as headerless token ids of this type "
        "(nanoGPT's train.bin).",
    ),
    click.option(
        "--split", default=None, metavar="NAME",
        help="The split to read of a Hugging Face DatasetDict folder (dataset_dict.json "
        "and a subfolder per split).  [default: the only split]",
    ),
]  # fmt: skip


TOKENIZER_HELP = (
    "words: re.findall(r'\\w+|[^\\w\\s]') tokens; bytes: UTF-8 bytes; "
    "ids: integers of --tokens-column; hf:PATH: a Hugging Face tokenizer.json "
    "(pip install 'seqcount[hf]'); tiktoken:NAME: a tiktoken encoding such as "
    "cl100k_base, or tiktoken:PATH.tiktoken, read offline "
    "(pip install 'seqcount[tiktoken]').  [default: words, or ids with --tokens-column]"
)


#: The options of :func:`input_options` that choose the overlap sketch.
OVERLAP_OPTIONS = [
    click.option(
        "--overlap",
        type=click.Choice(OVERLAP_SKETCHES),
        default="theta",
        show_default=True,
        help="Overlap sketch per n, whole and per shard, for compare and shard similarity: "
        "theta (how much of A is in B, Jaccard and set sizes, each with its error and 95% "
        "bounds; --theta-k values whole, --shard-theta-k per shard), minhash (Jaccard only, "
        "--num-perm permutations, datasketch-identical signatures) or none (no overlap sketch: "
        "the fastest count). --near-dup uses per-document MinHash whatever this is.",
    ),
    click.option(
        "--theta-k",
        type=int,
        default=THETA_K,
        show_default=True,
        metavar="K",
        help=f"Size of the whole input's theta sketch per n, a power of two in "
        f"[2**{MIN_LG_THETA_K}, 2**{MAX_LG_THETA_K}]: at most 8K bytes per n; relative "
        "standard error of a count about 1/sqrt(K) (containment of 3e5 distinct windows in "
        "1e7 to within 0.03 at the default).",
    ),
    click.option(
        "--shard-theta-k",
        type=int,
        default=None,
        metavar="K",
        help=f"Size of each shard's theta sketch per n, a power of two from 2**{MIN_LG_THETA_K} "
        f"to --theta-k: at most 8K bytes per n and shard; larger compares shards more "
        f"precisely and costs count more time.  [default: {SHARD_THETA_K}, or --theta-k if "
        "smaller]",
    ),
]


def input_options(command):
    """The options that say how a corpus is read and counted (``count`` and ``compare``)."""
    options = [
        click.option(
            "--tokenizer",
            default=None,
            metavar="words|bytes|ids|hf:PATH|tiktoken:NAME",
            type=str,
            help=TOKENIZER_HELP,
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
            help="MinHash permutations per n, for --overlap minhash and --near-dup: Jaccard "
            "standard error sqrt(J(1-J)/K).",
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
            "text; .bin: megatron with a PREFIX.idx beside it, else llmc].",
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
    for option in reversed(options + OVERLAP_OPTIONS + TOKEN_FILE_OPTIONS):
        command = option(command)
    return command


def make_config(tokenizer, ns, fmt, **options) -> CountConfig:
    """A :class:`CountConfig` from the values of :func:`input_options` and a command's own."""
    if tokenizer is None:
        tokenizer = "ids" if options.get("tokens_column") else "words"
    return CountConfig(ns=parse_ns(ns), tokenizer=tokenizer, format=fmt, **options)


def given(name: str) -> bool:
    """Option ``name`` of the running command was set on the command line (a config file's
    value is a default that a job may not use every time)."""
    source = click.get_current_context().get_parameter_source(name)
    return source == click.core.ParameterSource.COMMANDLINE


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
                "--upper-bound-constant", "c_lo", type=float, default=1.0, show_default=True,
                help="Constant factor of the upper bound U_upper (the paper's c_lo, from its "
                "fast-rate term; an assumption).",
            ),
            click.option(
                "--lower-bound-constant", "c_hi", type=float, default=1.0, show_default=True,
                help="Constant factor of the lower bound U_lower (the paper's c_hi, from its "
                "slow-rate term; an assumption).",
            ),
            # the paper's symbols, kept working for scripts written before the rename
            click.option("--c-lo", "c_lo_alias", type=float, default=None, hidden=True),
            click.option("--c-hi", "c_hi_alias", type=float, default=None, hidden=True),
        ]
    ):  # fmt: skip
        command = option(command)
    return command


def paper_constants(c_lo, c_hi, c_lo_alias, c_hi_alias) -> tuple[float, float]:
    """``(c_lo, c_hi)`` from the named options or their hidden aliases ``--c-lo``/``--c-hi``."""
    return (c_lo if c_lo_alias is None else c_lo_alias,
            c_hi if c_hi_alias is None else c_hi_alias)  # fmt: skip


#: The options of ``count`` beyond :func:`input_options`, in --help order.
COUNT_OPTIONS = [
    click.option(
        "--checkpoints-per-decade",
        type=int,
        default=8,
        show_default=True,
        help="Growth-curve checkpoints per factor of 10 in tokens.",
    ),
    click.option(
        "--out",
        "-o",
        default="seqcount-out",
        show_default=True,
        type=click.Path(file_okay=False),
        help="Output directory for curve.csv, summary.json and sketches.npz (replaced as a set: a "
        "run that fails leaves it as it was).",
    ),
    click.option(
        "--exact",
        is_flag=True,
        help="Also count distinct window hashes exactly (column unique_exact); costs 16-32 bytes "
        "per distinct window per n.",
    ),
    click.option(
        "--near-dup",
        type=float,
        default=None,
        metavar="THRESHOLD",
        help="Find near-duplicate documents: pairs whose --near-dup-n windows have estimated "
        "Jaccard similarity >= THRESHOLD, in (0, 1) (e.g. 0.8). Writes curve_dedup.csv (the curve "
        "after keeping the first document of each cluster) and a near_dup section in summary.json.",
    ),
    click.option(
        "--near-dup-n",
        type=int,
        default=5,
        show_default=True,
        help="Window size (tokens) of the per-document signatures for --near-dup.",
    ),
    click.option(
        "--near-dup-max-docs",
        type=int,
        default=None,
        metavar="DOCS",
        help="Memory cap for --near-dup: index at most DOCS documents (about 5 KB each at "
        "--num-perm 128); later documents are still checked against them.  [default: no cap]",
    ),
    click.option(
        "--shard-similarity",
        is_flag=True,
        help="Also write shard_similarity.csv (estimated Jaccard of every pair of shards, per n) "
        "and shard_similarity.png (heatmaps), to find shards that duplicate each other.",
    ),
    click.option(
        "--no-blocks",
        "blocks",
        is_flag=True,
        flag_value=False,
        default=True,
        help="Skip the block sketches (HyperLogLog registers per run of documents) that the "
        "report's calibrated intervals need; saves up to 4 MiB of sketches.npz per n, and of "
        "memory 2 MiB per n per shard being counted and up to 2 MiB per n for the run's blocks.",
    ),
    click.option(
        "--state",
        default=None,
        type=click.Path(file_okay=False),
        help="State directory: keep each shard's sketches there, keyed by the shard's path, size, "
        "mtime and the options, so a rerun counts only new or changed shards and a killed job "
        "resumes. The results equal a fresh run's.",
    ),
    click.option(
        "--jobs",
        "-j",
        type=int,
        default=1,
        show_default=True,
        help="Count this many shards at once in worker processes (numba threads per worker: "
        "cores / jobs). The results equal --jobs 1's.",
    ),
    click.option(
        "--engine",
        type=click.Choice(["local", "dask"]),
        default=None,
        help="local: this machine; dask: a Dask cluster (pip install 'seqcount[dask]'), a local "
        "one with --jobs workers unless --scheduler is given.  [default: local; dask with "
        "--scheduler]",
    ),
    click.option(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Address of a running Dask scheduler (tcp://host:8786); implies --engine dask. "
        "Workers must see the shards at the same paths.",
    ),
    click.option(
        "--content-hash",
        is_flag=True,
        help="With --state: fingerprint shards by a SHA-256 of their bytes too, not only by size "
        "and mtime.",
    ),
    click.option(
        "--repair",
        is_flag=True,
        help="With --state: recount shards whose state file is corrupt instead of stopping.",
    ),
    click.option(
        "--log-format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="json: print one JSON object per event on stdout (start, shard_started, "
        "shard_finished, shard_reused, message, checkpoint, error, summary) instead of the table.",
    ),
    click.option(
        "--force",
        is_flag=True,
        help="Write --out even inside an input directory (its files would sit among the corpus).",
    ),
]


def count_options(command):
    """The options of ``count`` beyond :func:`input_options`."""
    for option in reversed(COUNT_OPTIONS):
        command = option(command)
    return command
