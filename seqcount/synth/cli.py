"""The command line of :mod:`seqcount.synth`: ``python -m seqcount.synth OUT_DIR --tokens N``."""

from __future__ import annotations

import argparse
import math
import sys
import time
from decimal import Decimal, InvalidOperation

from .corpus import KINDS, Progress, generate

# --------------------------------------------------------------------------- command line


def parse_count(text: str) -> int:
    """A non-negative integer written as ``100000000``, ``100_000_000``, ``100,000,000``, ``1e8``
    or ``2.5e6`` (it must be a whole number)."""
    s = str(text).strip().replace(",", "").replace("_", "")
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not d.is_finite() or d != d.to_integral_value():
        raise ValueError(f"not a whole number: {text!r}")
    if d < 0:
        raise ValueError(f"must not be negative: {text!r}")
    return int(d)


def _count_type(text: str) -> int:
    try:
        return parse_count(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _float_type(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block, exit code 2
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _add_model_options(p: argparse.ArgumentParser) -> None:
    """The options of the corpus model: vocabulary, Zipf exponent, documents, duplicates."""
    p.add_argument(
        "--vocab",
        type=_count_type,
        default=50_000,
        metavar="V",
        help="vocabulary size: distinct token types (ids 0..V-1) [default: 50000]",
    )
    p.add_argument(
        "--zipf",
        type=_float_type,
        default=1.1,
        metavar="S",
        help="Zipf exponent: rank r is drawn with probability proportional to 1/r**S; 0 is "
        "uniform, about 1 is natural language [default: 1.1]",
    )
    p.add_argument(
        "--doc-tokens",
        type=_count_type,
        default=2_000,
        metavar="N",
        help="mean document length in tokens (log-normal) [default: 2000]",
    )
    p.add_argument(
        "--doc-sigma",
        type=_float_type,
        default=1.0,
        metavar="F",
        help="sigma of the log-normal document length; 0 makes every document --doc-tokens "
        "long [default: 1.0]",
    )
    p.add_argument(
        "--dup-rate",
        type=_float_type,
        default=0.0,
        metavar="F",
        help="fraction of documents (in [0, 1]) that are exact copies of an earlier document "
        "of the same shard [default: 0]",
    )


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m seqcount.synth",
        description=(
            "Write a seeded synthetic corpus of exactly --tokens tokens as Parquet shards "
            "OUT_DIR/part-00000.parquet, ...: Zipf-distributed tokens in log-normal-length "
            "documents, optionally with exact duplicate documents. The same arguments always "
            "give the same files. Existing part-*.parquet files in OUT_DIR are replaced."
        ),
        epilog=(
            "examples:\n"
            "  python -m seqcount.synth /tmp/c --tokens 1e8            # 10 text shards\n"
            "  seqcount count /tmp/c\n"
            "  python -m seqcount.synth /tmp/i --tokens 1e9 --kind ids --shards 32\n"
            "  seqcount count /tmp/i --tokens-column ids\n"
            "  python -m seqcount.synth /tmp/d --tokens 1e6 --dup-rate 0.2 --doc-tokens 500"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="directory to write the shards into")
    p.add_argument(
        "--tokens",
        type=_count_type,
        required=True,
        metavar="N",
        help="total tokens, exactly (1e8, 100_000_000 and 100,000,000 all work); for text, as "
        "seqcount's words tokenizer counts them",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--shards", type=_count_type, metavar="N", help="number of shards (tokens split evenly)"
    )
    g.add_argument(
        "--shard-tokens",
        type=_count_type,
        default=10_000_000,
        metavar="N",
        help="at most this many tokens per shard, when --shards is not given; memory grows "
        "with it (about 5 bytes per token) [default: 1e7]",
    )
    p.add_argument(
        "--seed", type=_count_type, default=0, metavar="S", help="seed of everything [default: 0]"
    )
    p.add_argument(
        "--kind",
        choices=KINDS,
        default="text",
        help="text: a 'text' string column of space-separated lowercase words (count with "
        "'seqcount count OUT_DIR'); ids: an 'ids' list<int32> column of token ids (count with "
        "'seqcount count OUT_DIR --tokens-column ids') [default: text]",
    )
    _add_model_options(p)
    p.add_argument(
        "--compression",
        default="zstd",
        metavar="CODEC",
        help="Parquet codec: zstd, snappy, gzip, lz4, brotli or none [default: zstd]",
    )
    p.add_argument(
        "--row-group-tokens",
        type=_count_type,
        default=1_000_000,
        metavar="N",
        help="tokens per Parquet row group, in whole documents [default: 1e6]",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    return p


_OPTIONS = (
    "tokens shards shard_tokens seed kind vocab zipf doc_tokens doc_sigma dup_rate compression "
    "row_group_tokens"
).split()


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit code (2 for bad arguments)."""
    parser = _parser()
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    last = [t0]

    def report(p: Progress) -> None:
        now = time.perf_counter()
        if args.quiet or p.shards_done == p.shards or now - last[0] < 2.0:
            return
        last[0] = now
        rate = p.tokens_done / max(p.seconds, 1e-9)
        eta = (p.tokens - p.tokens_done) / max(rate, 1e-9)
        print(
            f"synth: {p.shards_done}/{p.shards} shards, {p.tokens_done:,}/{p.tokens:,} tokens "
            f"({100 * p.tokens_done / p.tokens:.0f}%), {rate / 1e6:.1f} M tokens/s, "
            f"about {eta:.0f} s to go",
            file=sys.stderr,
            flush=True,
        )

    final: list[Progress] = []
    try:
        paths = generate(
            args.out_dir,
            args.tokens,
            shards=args.shards,
            shard_tokens=args.shard_tokens,
            seed=args.seed,
            kind=args.kind,
            vocab=args.vocab,
            zipf=args.zipf,
            doc_tokens=args.doc_tokens,
            doc_sigma=args.doc_sigma,
            dup_rate=args.dup_rate,
            compression=args.compression,
            row_group_tokens=args.row_group_tokens,
            progress=lambda p: (final.append(p), report(p)),
        )
    except ValueError as e:
        name, sep, rest = str(e).partition(" ")
        if name.rstrip(":") in _OPTIONS:  # "dup_rate must be ..." -> "--dup-rate must be ..."
            name = "--" + name.replace("_", "-")
        parser.error(name + sep + rest)
    except OSError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    p = final[-1]
    seconds = time.perf_counter() - t0
    print(
        f"wrote {len(paths)} shard(s) to {args.out_dir}: {p.tokens:,} tokens ({args.kind}), "
        f"{p.documents_done:,} documents, {p.bytes_written:,} bytes "
        f"({p.bytes_written / 1e6:.1f} MB) in {seconds:.2f} s "
        f"({p.tokens / max(seconds, 1e-9) / 1e6:.1f} M tokens/s)"
    )
    return 0
