"""Tokens per second of ``--tokenizer tiktoken:cl100k_base`` next to ``words``, same run.

    python -m benchmarks.bench_tiktoken [--copies 6] [--repeats 3] [--out DIR]

The bundled data/austen text is copied ``copies`` times into one Parquet file (6 copies: about
5.8 M cl100k_base tokens, 5.2 M words tokens). A whole ``count`` pass (``count_corpus``: read,
tokenize, hash, sketch) runs for each tokenizer at n=1 and at n=8, after one warm-up pass each,
the configurations taking turns; the median of ``repeats`` is kept. Beside it, tiktoken's own
``encode_ordinary_batch`` over the same documents (the tokenizer alone, no counting) with the
threads seqcount gives it.

Writes ``DIR/tiktoken.json`` and ``DIR/tiktoken.md`` (default DIR: benchmarks/results).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.common import ROOT, corpus_texts

WORK = ROOT / "benchmarks" / "_work" / "tiktoken"
TOKENIZERS = ("words", "tiktoken:cl100k_base")
NS = ((1,), (8,))


def write_corpus(copies: int) -> tuple[Path, list[str]]:
    texts = corpus_texts() * copies
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"austen_x{copies}.parquet"
    pq.write_table(pa.table({"text": texts}), path)
    return path, texts


def count_pass(path: Path, tokenizer: str, ns: tuple[int, ...]) -> tuple[float, int]:
    from seqcount.api import count_corpus
    from seqcount.config import CountConfig

    t0 = time.perf_counter()
    r = count_corpus([str(path)], CountConfig(ns=ns, tokenizer=tokenizer))
    return time.perf_counter() - t0, r.tokens


def encode_alone(texts: list[str], repeats: int, chunk_bytes: int = 4 << 20) -> dict:
    """tiktoken's ``encode_ordinary_batch`` alone, on batches of about ``chunk_bytes`` of text
    (as the count pass hands them over)."""
    from seqcount.tokenize import TiktokenTokenizer

    tok = TiktokenTokenizer("cl100k_base")
    batches, size = [[]], 0
    for t in texts:
        if size >= chunk_bytes:
            batches.append([])
            size = 0
        batches[-1].append(t)
        size += len(t.encode())
    times, tokens = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        tokens = 0
        for batch in batches:
            ids = tok.encoding.encode_ordinary_batch(batch, num_threads=tok.threads)
            tokens += sum(map(len, ids))
        times.append(time.perf_counter() - t0)
    return {"threads": tok.threads, "tokens": tokens, "seconds": statistics.median(times),
            "tokens_per_s": tokens / statistics.median(times)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    path, texts = write_corpus(args.copies)
    configs = [(t, ns) for ns in NS for t in TOKENIZERS]
    for tok, ns in configs:  # warm-up: kernels compiled, the encoding loaded
        count_pass(path, tok, ns)
    samples: dict = {c: [] for c in configs}
    tokens: dict = {}
    for _ in range(args.repeats):
        for c in configs:
            s, tokens[c] = count_pass(path, *c)
            samples[c].append(s)
    rows = []
    for tok, ns in configs:
        s, k = statistics.median(samples[(tok, ns)]), tokens[(tok, ns)]
        rows.append({"tokenizer": tok, "n": ns[0], "tokens": k, "seconds": s,
                     "tokens_per_s": k / s, "samples": samples[(tok, ns)]})  # fmt: skip
    for ns in NS:
        words, tik = (r for r in rows if r["n"] == ns[0])
        tik["over_words"] = tik["tokens_per_s"] / words["tokens_per_s"]
    alone = encode_alone(texts, args.repeats)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    meta = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "tiktoken": __import__("tiktoken").__version__, "copies": args.copies,
            "documents": len(texts), "text_mb": mb}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tiktoken.json").write_text(
        json.dumps({"meta": meta, "count": rows, "encode_alone": alone}, indent=1) + "\n"
    )
    lines = [
        "# tiktoken:cl100k_base next to words",
        "",
        f"{meta['date']}, {meta['cpus']} CPUs, Python {meta['python']}, tiktoken "
        f"{meta['tiktoken']}; data/austen x{args.copies} ({meta['documents']} documents, "
        f"{meta['text_mb']:.1f} MB of text); whole count passes, median of {args.repeats}.",
        "",
        "| tokenizer | n | tokens | seconds | tokens/s | over words |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        over = f"{r['over_words']:.2f}" if "over_words" in r else ""
        lines.append(f"| {r['tokenizer']} | {r['n']} | {r['tokens']:,} | {r['seconds']:.2f} "
                     f"| {r['tokens_per_s'] / 1e6:.2f} M | {over} |")  # fmt: skip
    lines += ["", f"tiktoken's `encode_ordinary_batch` alone ({alone['threads']} threads): "
              f"{alone['tokens_per_s'] / 1e6:.2f} M tokens/s."]  # fmt: skip
    (args.out / "tiktoken.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
