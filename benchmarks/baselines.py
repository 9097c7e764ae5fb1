"""Baselines of ``python -m benchmarks.bench_count``: the obvious pure-Python alternative
(pyarrow + ``re.findall`` + datasketch per n-gram) and seqcount's window kernel alone."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import numpy as np

from benchmarks.common import (
    NS,
    PRECISION,
    WORD_PATTERN,
    Recorder,
    corpus_shards,
    log,
    median,
    utf8_docs,
)
from seqcount.api import count_corpus
from seqcount.config import CountConfig

TARGETS = {
    "speedup": 100.0,  # seqcount words tokens/s over the alternative's, at least
    "kernel_per_core": 50.0,  # M window updates/s on one thread, at least
    "rss_ratio": 1.3,  # peak RSS 8x / 1x, below
}


# --------------------------------------------------------------------------- the alternative


def alt_prefix_docs(texts: list[str], target_tokens: int) -> tuple[int, int]:
    """Smallest number of leading documents holding at least ``target_tokens`` tokens."""
    pat = re.compile(WORD_PATTERN)
    tokens = 0
    for d, t in enumerate(texts):
        tokens += len(pat.findall(t))
        if tokens >= target_tokens:
            return d + 1, tokens
    return len(texts), tokens


def run_alternative(n_docs: int, ns=NS):
    """The obvious pure-Python pipeline on the first ``n_docs`` documents; returns
    ``(tokens, seconds, {n: HyperLogLogPlusPlus})``. Reading, tokenizing and hashing are timed."""
    import pyarrow.parquet as pq
    from datasketch import HyperLogLogPlusPlus

    t0 = time.perf_counter()
    hlls = {n: HyperLogLogPlusPlus(p=PRECISION) for n in ns}
    tokens = docs = 0
    for path in corpus_shards():
        if docs >= n_docs:
            break
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=16, columns=["text"]):
            for text in batch.column(0).to_pylist():
                if docs >= n_docs:
                    break
                docs += 1
                toks = re.findall(WORD_PATTERN, text or "")
                tokens += len(toks)
                for n, h in hlls.items():
                    update = h.update
                    for i in range(len(toks) - n + 1):
                        update(" ".join(toks[i : i + n]).encode("utf-8"))
            if docs >= n_docs:
                break
    return tokens, time.perf_counter() - t0, hlls


def bench_alternative(rec: Recorder, cfg: dict, texts: list[str], work: Path) -> None:
    """The obvious pure-Python pipeline on a prefix of the corpus, seqcount on the same prefix,
    their errors against exact counts and the speedups."""
    n_docs, tokens = alt_prefix_docs(texts, cfg["alt_tokens"])
    workload = f"austen first {n_docs} documents ({tokens:,} words tokens), 7 n"
    rates, hlls = [], None
    for _ in range(cfg["alt_repeats"]):
        got, dt, hlls = run_alternative(n_docs)
        assert got == tokens, (got, tokens)
        rates.append(got / dt)
        log(f"alternative: {got:,} tokens in {dt:.2f}s = {got / dt:,.0f} tokens/s")
    alt_rate = median(rates)
    rec.add(
        "pyarrow + re.findall + datasketch HLL++ (p=16, .update per n-gram)",
        workload,
        "tokens/s (median)",
        alt_rate,
        "tokens/s",
        "alternative",
        samples=rates,
        seconds=[tokens / r for r in rates],
    )

    _seqcount_on_prefix(rec, texts[:n_docs], tokens, workload, hlls, work)
    _speedups(rec, alt_rate, whole=n_docs == len(texts))


def _seqcount_on_prefix(
    rec: Recorder, texts: list[str], tokens: int, workload: str, hlls, work: Path
) -> None:
    """seqcount on the alternative's documents: speed, and both systems' errors against
    exact counts (the same tokens, estimates within HyperLogLog error of each other)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Same prefix through seqcount: same tokens, estimates within HLL error of each other.
    pdir = work / "prefix"
    if pdir.exists():
        shutil.rmtree(pdir)
    pdir.mkdir(parents=True)
    pq.write_table(pa.table({"text": texts}), pdir / "prefix.parquet")
    config = CountConfig(ns=NS, num_perm=0, overlap="none", tokenizer="words")
    count_corpus(str(pdir), config)  # warm
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        r = count_corpus(str(pdir), config)
        times.append(time.perf_counter() - t0)
    if r.tokens != tokens:
        log(f"WARNING: seqcount read {r.tokens} tokens from the prefix, the alternative {tokens}")
    rec.add(
        "seqcount",
        workload,
        "tokens/s (median; small input, fixed costs weigh more)",
        tokens / median(times),
        "tokens/s",
        "alternative",
        samples=[tokens / t for t in times],
    )
    exact = count_corpus(
        str(pdir), CountConfig(ns=NS, num_perm=0, overlap="none", tokenizer="words", exact=True)
    )
    err_alt, err_sc = [], []
    for n in NS:
        truth = exact.final[n].unique_exact
        err_alt.append(100.0 * (hlls[n].count() / truth - 1))
        err_sc.append(100.0 * (r.unique(n) / truth - 1))
    note = "HyperLogLog++ p=16: standard error 0.41%; exact = seqcount --exact (hash set)"
    alt = "pyarrow + re.findall + datasketch HLL++ (p=16, .update per n-gram)"
    for system, errs in ((alt, err_alt), ("seqcount", err_sc)):
        metric = "max |relative error| of distinct estimates over the 7 n"
        value = max(abs(d) for d in errs)
        rec.add(system, workload, metric, value, "%", "alternative", per_n=errs, note=note)


def _speedups(rec: Recorder, alt_rate: float, whole: bool) -> None:
    """seqcount's words tokens/s (section e2e) over the alternative's."""

    def e2e_rate(one_thread: bool) -> float:
        for r_ in rec.results:
            if (
                r_["section"] == "e2e"
                and r_["metric"] == "tokens/s (median)"
                and r_.get("tokenizer") == "words"
                and (r_.get("threads") == 1) == one_thread
            ):
                return r_["value"]
        raise KeyError("e2e words record")

    speedup = e2e_rate(False) / alt_rate
    rec.add(
        "seqcount / alternative",
        "words tokens/s: seqcount (default threads) / alternative, "
        + ("both on the whole corpus" if whole else "alternative on a prefix (--quick)"),
        "speedup",
        speedup,
        "x",
        "ratio",
        target=f">= {TARGETS['speedup']:g}",
        target_met=bool(speedup >= TARGETS["speedup"]),
    )
    rec.add(
        "seqcount (1 thread) / alternative",
        "words tokens/s, both on one core",
        "speedup",
        e2e_rate(True) / alt_rate,
        "x",
        "ratio",
    )


# --------------------------------------------------------------------------- the kernel alone


def best_config_ratio(rec: Recorder) -> None:
    """Speedup of the fastest seqcount configuration measured on the same (1x) input."""
    alt = [
        r
        for r in rec.results
        if r["section"] == "alternative"
        and r["system"].startswith("pyarrow")
        and r["unit"] == "tokens/s"
    ]
    cands = [
        r
        for r in rec.results
        if r["section"] in ("e2e", "threading")
        and r["metric"] == "tokens/s (median)"
        and "words" in r["workload"]
        and "scale" not in r
    ]
    if not alt or not cands:
        return
    best = max(cands, key=lambda r: r["value"])
    rec.add(
        "seqcount (fastest configuration) / alternative",
        f"words tokens/s; fastest: {best['system']}, {best['workload']}",
        "speedup",
        best["value"] / alt[0]["value"],
        "x",
        "ratio",
    )


def bench_kernel(rec: Recorder, cfg: dict, texts: list[str]) -> None:
    from seqcount import _kernels as kernels
    from seqcount.hashing import hash_params
    from seqcount.tokenize import word_classes, words_chunk

    params = hash_params(0)
    data, offsets = utf8_docs(texts)
    word_classes()
    words_chunk(data, offsets[:2], params)  # warm
    t0 = time.perf_counter()
    chunk = words_chunk(data, offsets, params)
    t_tok = time.perf_counter() - t0
    ntok = chunk.tokens.shape[0]
    rec.add(
        "seqcount kernel tokenize_words",
        f"austen, {data.shape[0] / 1e6:.2f} MB UTF-8 in one call, 1 thread",
        "throughput",
        data.shape[0] / t_tok / 1e6,
        "MB/s",
        "kernel",
        tokens_per_s=ntok / t_tok,
    )

    copies = max(1, round(cfg["kernel_tokens"] / ntok))
    tokens = np.tile(chunk.tokens, copies)
    lens = np.diff(chunk.doc)
    doc = np.zeros(lens.shape[0] * copies + 1, dtype=np.int64)
    np.cumsum(np.tile(lens, copies), out=doc[1:])
    base = np.uint64(params.base)
    kernels.prefix_values(tokens[:10], base)  # warm
    t0 = time.perf_counter()
    prefix = kernels.prefix_values(tokens, base)
    t_pre = time.perf_counter() - t0
    rec.add(
        "seqcount kernel prefix_values",
        f"{tokens.shape[0] / 1e6:.2f}M words tokens, 1 thread",
        "throughput",
        tokens.shape[0] / t_pre / 1e6,
        "M tokens/s",
        "kernel",
    )

    ndocs = doc.shape[0] - 1
    workload = f"{tokens.shape[0] / 1e6:.2f}M words tokens (austen x{copies}, {ndocs} docs)"
    time_windows(rec, cfg, params, prefix, doc, workload)


def multilingual_tokens(work: Path, tokens: int):
    """The ``words`` tokens of the multilingual corpus of :mod:`benchmarks.multilingual` (made
    once under ``work``): ``(params, tokens, doc, firsts)``, with ``doc`` the int64 token
    offsets of the documents and ``firsts`` the first document of each shard (and the number
    of documents at the end)."""
    import pyarrow.parquet as pq

    from benchmarks import multilingual
    from seqcount.hashing import hash_params
    from seqcount.tokenize import words_chunk

    corpus, _ = multilingual.corpus(work, tokens)
    params = hash_params(0)
    toks, lens, firsts = [], [], [0]
    for path in sorted(corpus.glob("*.parquet")):
        data, offsets = utf8_docs(pq.read_table(path, columns=["text"])["text"].to_pylist())
        chunk = words_chunk(data, offsets, params)
        toks.append(chunk.tokens.copy())
        lens.append(np.diff(chunk.doc))
        firsts.append(firsts[-1] + lens[-1].shape[0])
    lens = np.concatenate(lens)
    doc = np.zeros(lens.shape[0] + 1, dtype=np.int64)
    np.cumsum(lens, out=doc[1:])
    return params, np.concatenate(toks), doc, firsts


def bench_kernel_multilingual(rec: Recorder, cfg: dict, work: Path) -> None:
    """:func:`time_prefix` and :func:`time_windows` on the multilingual corpus of
    :mod:`benchmarks.multilingual` (the corpus of ``e2e_peers``): text that does not repeat
    itself, so the registers fill as they do on a real corpus. On copies of ``data/austen``
    every window after the first copy is a repeat and never grows a register; on one copy (the
    suite's harness, precision 16) 15% of the windows grow one (930,600 of 6.08M), as early
    windows of any corpus do."""
    from seqcount import _kernels as kernels

    params, tokens, doc, _ = multilingual_tokens(work, cfg["kernel_ml_tokens"])
    what = f"{doc[-1] / 1e6:.2f}M words tokens (multilingual, {doc.shape[0] - 1} docs)"
    time_prefix(rec, cfg, params, tokens, what)
    prefix = kernels.prefix_values(tokens, np.uint64(params.base))
    del tokens
    time_windows(rec, cfg, params, prefix, doc, what)


#: Tokens per piece in :func:`time_prefix`: about what a 4 MiB chunk of words holds.
PREFIX_PIECE = 1 << 20


def time_prefix(rec: Recorder, cfg: dict, params, tokens: np.ndarray, what: str) -> None:
    """Time per token of :func:`seqcount.hashing.prefix_into` (the counting thread computes it
    for each chunk, on its own, before the kernels count the chunk's windows) over ``tokens``
    in pieces of :data:`PREFIX_PIECE` into one reused buffer, as ``Counter.add`` does."""
    from seqcount import hashing

    out = np.empty(PREFIX_PIECE + 1, dtype=np.uint64)
    base = np.uint64(params.base)
    hashing.prefix_into(tokens[:PREFIX_PIECE], base, out)  # warm
    per = []
    for _ in range(cfg["kernel_repeats"]):
        t0 = time.perf_counter()
        for a in range(0, tokens.shape[0], PREFIX_PIECE):
            hashing.prefix_into(tokens[a : a + PREFIX_PIECE], base, out)
        per.append((time.perf_counter() - t0) / tokens.shape[0] * 1e9)
    rec.add("seqcount kernel prefix_into", f"{what}, pieces of {PREFIX_PIECE:,} tokens",
            "time per token (median)", median(per), "ns", "kernel", samples=per)  # fmt: skip
    log(f"prefix values {what}: {median(per):.2f} ns/token")


def time_windows(rec: Recorder, cfg: dict, params, prefix, doc, what: str) -> None:
    """Window updates per second of :func:`seqcount.hashing.hll_update_windows` (7 n, fresh
    registers each repeat) on one thread and on all, recorded as section ``kernel``."""
    import numba

    from seqcount import hashing

    regs = np.zeros((len(NS), 1 << PRECISION), dtype=np.int8)
    all_lens = np.diff(doc)
    windows = int(sum(np.maximum(all_lens - (n - 1), 0).sum() for n in NS))
    ndocs = doc.shape[0] - 1
    piece = hashing.Piece(prefix, doc)
    win = hashing.WindowParams.of(params, NS, PRECISION)
    hashing.hll_update_windows(piece, 0, 1, win, regs)  # warm
    old = numba.get_num_threads()
    workload = f"{what}, 7 n, {windows / 1e6:.1f}M windows"
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            rates = []
            for _ in range(cfg["kernel_repeats"]):
                regs[:] = 0
                t0 = time.perf_counter()
                # the checked wrapper: it runs the window sizes on the threads numba is set to
                hashing.hll_update_windows(piece, 0, ndocs, win, regs)
                rates.append(windows / (time.perf_counter() - t0) / 1e6)
            best, med = max(rates), median(rates)
            label = "1 thread (per core)" if threads == 1 else f"{threads} threads"
            extra = {}
            if threads == 1:
                extra = dict(
                    target=f">= {TARGETS['kernel_per_core']:g}",
                    target_met=bool(med >= TARGETS["kernel_per_core"]),
                )
            rec.add(
                "seqcount kernel hll_update_windows",
                workload + f", {label}",
                "window updates/s (median)",
                med,
                "M/s",
                "kernel",
                samples=rates,
                threads=threads,
                **extra,
            )
            rec.add(
                "seqcount kernel hll_update_windows",
                workload + f", {label}",
                "time per window update (median)",
                1e3 / med,
                "ns",
                "kernel",
                threads=threads,
            )
            log(f"kernel {what}, {label}: {med:.1f} M updates/s (best {best:.1f})")
    finally:
        numba.set_num_threads(old)
