"""Counting a memory-mapped Megatron .bin against the same token ids from Parquet.

    python -m benchmarks.bench_formats [--tokens N] [--repeats R] [--out DIR]

Writes N token ids (default 24M; numpy, seeded: Zipf-like ids below 50,257 in documents of
log-normal length, mean about 1,000 tokens) twice: as a Megatron-Core dataset (uint16
``corpus.bin`` + ``corpus.idx``) and as Parquet (one ``list<int32>`` row per document, column
``ids``). Both are counted in this process at n=8 (``count_corpus``, default options otherwise),
alternately, ``R`` times each after a warm-up, and the median seconds are compared: the ratio
is Parquet's time over the .bin's (above 1: the .bin is faster). Both give the same counts
(checked). Writes ``DIR/formats.json`` (default DIR: benchmarks/results).
"""

from __future__ import annotations

import argparse
import json
import statistics
import struct
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.common import ROOT, log

WORK = ROOT / "benchmarks" / "_work" / "formats"


def make_documents(tokens: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, offsets)``: about ``tokens`` uint16 ids cut into documents."""
    rng = np.random.default_rng(seed)
    lengths = np.maximum(1, rng.lognormal(6.5, 0.8, tokens // 500).astype(np.int64))
    lengths = lengths[: int(np.searchsorted(np.cumsum(lengths), tokens)) + 1]
    offsets = np.zeros(lengths.shape[0] + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ranks = rng.zipf(1.2, int(offsets[-1]))
    ids = ((ranks - 1) % 50257).astype(np.uint16)
    return ids, offsets


def write_megatron(prefix: Path, ids: np.ndarray, offsets: np.ndarray) -> Path:
    """Megatron-Core's layout, one sequence per document."""
    lengths = np.diff(offsets).astype("<i4")
    pointers = (offsets[:-1] * ids.itemsize).astype("<i8")
    doc_index = np.arange(lengths.shape[0] + 1, dtype="<i8")
    prefix.with_suffix(".bin").write_bytes(ids.astype("<u2").tobytes())
    with open(prefix.with_suffix(".idx"), "wb") as f:
        f.write(b"MMIDIDX\x00\x00" + struct.pack("<QBQQ", 1, 8, len(lengths), len(doc_index)))
        f.write(lengths.tobytes() + pointers.tobytes() + doc_index.tobytes())
    return prefix.with_suffix(".bin")


def write_parquet(path: Path, ids: np.ndarray, offsets: np.ndarray) -> Path:
    values = pa.array(ids.astype(np.int32))
    column = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values)
    pq.write_table(pa.table({"ids": column}), path, row_group_size=8192)
    return path


def main(argv: list[str] | None = None) -> int:
    from seqcount.api import count_corpus
    from seqcount.config import CountConfig

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=24_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    ids, offsets = make_documents(args.tokens)
    log(f"{ids.shape[0]:,} tokens in {offsets.shape[0] - 1:,} documents")
    sources = {
        "megatron": (write_megatron(WORK / "corpus", ids, offsets), {}),
        "parquet": (
            write_parquet(WORK / "corpus.parquet", ids, offsets),
            {"tokenizer": "ids", "tokens_column": "ids"},
        ),
    }
    seconds: dict[str, list[float]] = {k: [] for k in sources}
    results = {}
    for path, opts in sources.values():  # warm-up: compile, page cache
        count_corpus([str(path)], CountConfig(ns=(8,), **opts))
    for _ in range(args.repeats):
        for k, (path, opts) in sources.items():
            t0 = time.perf_counter()
            r = count_corpus([str(path)], CountConfig(ns=(8,), **opts))
            seconds[k].append(time.perf_counter() - t0)
            results[k] = (r.tokens, r.documents, r.final[8].windows, r.final[8].unique)
    assert results["megatron"] == results["parquet"], results
    median = {k: statistics.median(v) for k, v in seconds.items()}
    out = {
        "tokens": int(ids.shape[0]),
        "documents": int(offsets.shape[0] - 1),
        "n": 8,
        "seconds": seconds,
        "median_seconds": median,
        "mtokens_per_s": {k: ids.shape[0] / v / 1e6 for k, v in median.items()},
        "parquet_over_megatron": median["parquet"] / median["megatron"],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "formats.json").write_text(json.dumps(out, indent=2) + "\n")
    for k, v in median.items():
        log(f"{k:>9}: {v:.3f} s median ({out['mtokens_per_s'][k]:.1f} M tokens/s)")
    log(f"Parquet time / Megatron time: {out['parquet_over_megatron']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
