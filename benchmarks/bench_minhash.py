"""Cost of seqcount's MinHash signatures and near-duplicate search, against datasketch.

Run from the project root::

    python -m benchmarks.bench_minhash            # full mode, about 2-3 minutes on 2 cores
    python -m benchmarks.bench_minhash --quick    # smaller sizes, fewer repeats: under a minute

Everything is measured in one run, on the same inputs (random uint64 hashes from a fixed seed,
the bundled ``data/austen`` corpus and an 8x copy of it in a temporary directory). Sections:

1. ``kernel``: :func:`seqcount._kernels.minhash_update_hashes` on millions of random hashes,
   K = 64, 128, 256 permutations: ns per hash and per hash-permutation.
2. ``datasketch``: the same hashes (fewer of them) through ``datasketch.MinHash(scheme="affine64",
   hashfunc=identity).update_batch``, timed against the seqcount kernel on the same hashes in the
   same loop, and a bit-for-bit comparison of the resulting signatures.
3. ``e2e``: :func:`seqcount.api.count_corpus` with MinHash off (K = 0), K = 64, K = 128 (the
   default) and K = 128 plus near-duplicate search (``near_dup=0.8``), round-robin, on the corpus
   and on its 8x copy; slowdown ratios against K = 0 and the < 2x target at K = 128.
4. ``index``: a ``seqcount.engine.neardup.NearDupIndex(0.8, 128, 0)`` fed random signatures in a
   fresh subprocess: documents/s of ``add`` and memory per indexed document (RSS growth,
   tracemalloc).
5. ``windows``: :func:`seqcount._kernels.minhash_update_windows` (and ``hll_update_windows`` for
   reference) on the corpus's window hashes, 1 thread vs all threads.

Plus a noise reference (numpy sort, effective cores) from :mod:`benchmarks.common`. Writes
``<out>/minhash.json`` (``{"meta": ..., "results": [...]}``, records as in ``count.json``) and
``<out>/minhash.md`` (rendered from the same dict) and prints the markdown.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import (
    CORPUS,
    DEFAULT_OUT,
    ROOT,
    Recorder,
    bench_cpu_capacity,
    bench_sort,
    build_scaled_corpus,
    corpus_shards,
    corpus_texts,
    esc,
    finish_run,
    fmt,
    hardware_and_versions,
    log,
    median,
    source_digest,
    utf8_docs,
)

SEED = 0
KS = (64, 128, 256)  # sections 1 and 2
DEFAULT_K = 128  # seqcount.config.DEFAULT_NUM_PERM (checked in main)
SCALE = 8
NEAR_DUP = 0.8
TARGET_SLOWDOWN = 2.0  # count_corpus time at K = 128 / at K = 0, below

MODES = {
    "full": dict(
        kernel_hashes=4_000_000,
        kernel_repeats=5,
        ds_hashes=200_000,
        ds_batch=8192,
        ds_repeats=3,
        e2e_repeats=9,
        e2e_big_repeats=5,
        e2e_big_near_dup=True,
        index_docs=32768,
        window_copies=2,
        window_repeats=5,
        sort_n=10_000_000,
        sort_repeats=3,
    ),
    "quick": dict(
        kernel_hashes=2_000_000,
        kernel_repeats=3,
        ds_hashes=50_000,
        ds_batch=8192,
        ds_repeats=3,
        e2e_repeats=3,
        e2e_big_repeats=3,
        e2e_big_near_dup=False,
        index_docs=8192,
        window_copies=1,
        window_repeats=3,
        sort_n=10_000_000,
        sort_repeats=1,
    ),
}


def random_hashes(n: int) -> np.ndarray:
    rng = np.random.default_rng(12345)
    return rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)


# --------------------------------------------------------------------------- 1. kernel


def bench_kernel(rec: Recorder, cfg: dict, hashes: np.ndarray) -> None:
    from seqcount import _kernels as kernels
    from seqcount.sketches import minhash_permutations

    perms = {k: minhash_permutations(k, SEED) for k in KS}
    for k, (a, b) in perms.items():  # warm-up: the first call loads (or compiles) the kernel
        sig = np.full(k, kernels.MINHASH_EMPTY, np.int64)
        kernels.minhash_update_hashes(sig, a, b, hashes[:10_000])
    times: dict[int, list[float]] = {k: [] for k in KS}
    for _ in range(cfg["kernel_repeats"]):
        for k, (a, b) in perms.items():  # round-robin over K
            sig = np.full(k, kernels.MINHASH_EMPTY, np.int64)
            t0 = time.perf_counter()
            kernels.minhash_update_hashes(sig, a, b, hashes)
            times[k].append(time.perf_counter() - t0)
    n = hashes.shape[0]
    for k, ts in times.items():
        ns = [1e9 * t / n for t in ts]
        workload = f"{n / 1e6:g}M random uint64 hashes, K={k}, one call, 1 thread"
        sysname = "seqcount kernel minhash_update_hashes"
        rec.add(sysname, workload, "time per hash (median)", median(ns), "ns", "kernel",
                samples=ns, k=k)  # fmt: skip
        rec.add(sysname, workload, "time per hash-permutation (median)", median(ns) / k, "ns",
                "kernel", k=k)  # fmt: skip
        log(f"kernel K={k}: {median(ns):.1f} ns/hash, {median(ns) / k:.3f} ns/hash-perm")


# --------------------------------------------------------------------------- 2. datasketch


def bench_datasketch(rec: Recorder, cfg: dict, hashes: np.ndarray, meta: dict) -> None:
    from datasketch import MinHash as DMinHash

    from seqcount import _kernels as kernels
    from seqcount.sketches import MinHash, minhash_permutations, unbias

    h = np.ascontiguousarray(hashes[: cfg["ds_hashes"]])
    n, batch = h.shape[0], cfg["ds_batch"]

    def ds_new(k):
        return DMinHash(num_perm=k, seed=SEED, scheme="affine64", hashfunc=lambda x: x)

    def ds_one(k):
        m = ds_new(k)
        m.update_batch(h)
        return m.hashvalues

    def ds_batches(k):
        m = ds_new(k)
        for i in range(0, n, batch):
            m.update_batch(h[i : i + batch])
        return m.hashvalues

    def sc_kernel(k):
        a, b = minhash_permutations(k, SEED)
        sig = np.full(k, kernels.MINHASH_EMPTY, np.int64)
        kernels.minhash_update_hashes(sig, a, b, h)
        return unbias(sig)

    variants = {
        "seqcount": ("seqcount kernel minhash_update_hashes", sc_kernel),
        "ds_one": ("datasketch MinHash.update_batch (one call with the array)", ds_one),
        "ds_batches": (f"datasketch MinHash.update_batch (batches of {batch})", ds_batches),
    }
    identical_all = True
    for k in KS:
        sc_kernel(k)  # warm the kernel; datasketch has nothing to compile
        times: dict[str, list[float]] = {v: [] for v in variants}
        values: dict[str, np.ndarray] = {}
        for _ in range(cfg["ds_repeats"]):
            for v, (_, fn) in variants.items():
                gc.collect()
                t0 = time.perf_counter()
                values[v] = fn(k)
                times[v].append(time.perf_counter() - t0)
        ref = MinHash(k, SEED)
        ref.update_batch(h)
        identical = all(np.array_equal(x, values["seqcount"]) for x in values.values())
        identical = identical and np.array_equal(ref.hashvalues, values["seqcount"])
        identical_all &= identical
        workload = f"{n:,} random uint64 hashes, K={k}, seed {SEED}, identity hashfunc"
        ns = {v: [1e9 * t / n for t in ts] for v, ts in times.items()}
        for v, (sysname, _) in variants.items():
            rec.add(sysname, workload, "time per hash (median)", median(ns[v]), "ns",
                    "datasketch", samples=ns[v], k=k)  # fmt: skip
        best_ds = min(("ds_one", "ds_batches"), key=lambda v: median(ns[v]))
        ratio = median(ns[best_ds]) / median(ns["seqcount"])
        rec.add("datasketch / seqcount", workload + f"; datasketch's faster form ({best_ds})",
                "time ratio (medians)", ratio, "x", "datasketch", k=k)  # fmt: skip
        rec.add("seqcount vs datasketch", workload,
                "signatures bit-identical (kernel, sketch.MinHash, both datasketch forms)",
                bool(identical), "", "datasketch", k=k)  # fmt: skip
        log(
            f"datasketch K={k}: seqcount {median(ns['seqcount']):.1f} ns/hash, datasketch "
            f"{median(ns['ds_one']):.0f} (one call) / {median(ns['ds_batches']):.0f} (batches) "
            f"ns/hash; ratio {ratio:.0f}x; identical={identical}"
        )
    meta["identical"] = bool(identical_all)


# --------------------------------------------------------------------------- 3. end to end


def e2e_variants(near_dup: bool) -> list[tuple[str, dict, int | None]]:
    out = [
        ("K=0 (MinHash off)", dict(num_perm=0), None),
        ("K=64", dict(num_perm=64), None),
        (f"K={DEFAULT_K} (default)", dict(num_perm=DEFAULT_K), None),
    ]
    if near_dup:
        out.append((f"K={DEFAULT_K} + near_dup={NEAR_DUP}",
                    dict(num_perm=DEFAULT_K, near_dup=NEAR_DUP), None))  # fmt: skip
    return out


def bench_e2e(rec: Recorder, path: Path, label: str, variants, repeats: int, meta: dict) -> None:
    """Round-robin ``count_corpus`` over ``variants`` (name, config kwargs, threads)."""
    from seqcount.api import count_corpus
    from seqcount.config import CountConfig

    # keyed by (name, threads): the same configuration may run with several thread counts
    configs = {(name, thr): CountConfig(overlap="minhash", **kw) for name, kw, thr in variants}
    info: dict = {}
    for key, config in configs.items():  # warm-up, also checks the runs
        r = count_corpus(str(path), config, threads=key[1])
        info[key] = dict(
            tokens=r.tokens,
            threads=r.threads,
            near_dup=None if r.near_dup is None else r.near_dup.duplicates,
        )
    times: dict = {key: [] for key in configs}
    for _ in range(repeats):
        for key, config in configs.items():
            t0 = time.perf_counter()
            count_corpus(str(path), config, threads=key[1])
            times[key].append(time.perf_counter() - t0)
    tokens = next(iter(info.values()))["tokens"]
    meta.setdefault("e2e_inputs", {})[label] = {"tokens": tokens, "path": str(path)}

    def thr_label(key, with_count=True):
        if key[1] == 1:
            return "1 thread"
        return f"{info[key]['threads']} threads (default)" if with_count else "default threads"

    def ratio_of(key, base):
        med = median(times[key]) / median(times[base])
        paired = median([t / t0 for t, t0 in zip(times[key], times[base])])
        return med, paired

    for key, config in configs.items():
        workload = f"{label} ({tokens:,} words tokens), 7 n, {thr_label(key)}"
        rates = [tokens / t for t in times[key]]
        extra = {}
        if info[key]["near_dup"] is not None:
            extra["near_duplicate_documents"] = info[key]["near_dup"]
        rec.add(f"seqcount count_corpus, {key[0]}", workload, "tokens/s (median)", median(rates),
                "tokens/s", "e2e", samples=rates, num_perm=config.num_perm,
                threads=info[key]["threads"], scale=label, **extra)  # fmt: skip
        log(f"e2e {label} {key[0]}, {thr_label(key)}: {median(rates) / 1e6:.2f} M tokens/s")
    for key, config in configs.items():
        base = next((k for k, c in configs.items() if c.num_perm == 0 and k[1] == key[1]), None)
        if base is None or base == key:
            continue
        ratio, paired = ratio_of(key, base)
        extra = {}
        if config.num_perm == DEFAULT_K and config.near_dup is None and key[1] is None:
            extra = dict(target=f"< {TARGET_SLOWDOWN:g}", target_met=bool(ratio < TARGET_SLOWDOWN))
        workload = f"{label}, 7 n, {thr_label(key, False)}"
        rec.add(f"seqcount count_corpus, {key[0]} / K=0", workload,
                "slowdown: median time / median time at K=0", ratio, "x", "slowdown",
                paired_median=paired, scale=label, **extra)  # fmt: skip
        log(f"slowdown {label} {key[0]} ({thr_label(key, False)}): {ratio:.2f}x "
            f"(paired {paired:.2f}x)")  # fmt: skip
        if config.near_dup is not None:
            plain = next(
                k for k, c in configs.items()
                if c.num_perm == config.num_perm and c.near_dup is None and k[1] == key[1]
            )  # fmt: skip
            r2, p2 = ratio_of(key, plain)
            rec.add(f"seqcount count_corpus, {key[0]} / {plain[0]}", workload,
                    "near-duplicate search cost: median time / median time without it", r2, "x",
                    "slowdown", scale=label, paired_median=p2)  # fmt: skip
            log(f"near-dup cost {label}: {r2:.2f}x over {plain[0]}")


# --------------------------------------------------------------------------- 4. index memory


def _vmrss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def child_index(n_docs: int) -> None:
    """Hidden entry point (``--child-index N``): build a NearDupIndex of N random signatures in
    this fresh process; print JSON (RSS growth, add rate, tracemalloc) to stdout."""
    import tracemalloc

    import datasketch  # noqa: F401  (imported by NearDupIndex; keep it out of the growth)

    from seqcount.engine.neardup import NearDupIndex

    k = DEFAULT_K
    rng = np.random.default_rng(0)
    sigs = rng.integers(0, 2**64 - 1, (n_docs, k), dtype=np.uint64)
    warm = NearDupIndex(NEAR_DUP, k, SEED)  # first-use costs (imports, permutations)
    for i in range(8):
        warm.add(sigs[i], 0, i)
    del warm
    gc.collect()
    out: dict = {"docs": n_docs}

    index = NearDupIndex(NEAR_DUP, k, SEED)
    gc.collect()
    rss0 = _vmrss_kib()
    half = n_docs // 2
    t0 = time.perf_counter()
    for i in range(n_docs):
        if i == half:
            out["rss_half_kib"] = _vmrss_kib() - rss0
        index.add(sigs[i], 0, i)
    out["seconds"] = time.perf_counter() - t0
    gc.collect()
    out["rss_kib"] = _vmrss_kib() - rss0
    out.update(bands=index.bands, rows=index.rows, nbytes=index.nbytes,
               duplicates=index.duplicates, indexed=index.indexed)  # fmt: skip
    del index
    gc.collect()

    tracemalloc.start()
    index = NearDupIndex(NEAR_DUP, k, SEED)
    base = tracemalloc.get_traced_memory()[0]
    for i in range(n_docs):
        index.add(sigs[i], 0, i)
    gc.collect()
    cur, peak = tracemalloc.get_traced_memory()
    out["traced_bytes"] = cur - base
    out["traced_peak_bytes"] = peak - base
    tracemalloc.stop()
    print(json.dumps(out))


def bench_index(rec: Recorder, cfg: dict) -> None:
    n = cfg["index_docs"]
    cmd = [sys.executable, "-m", "benchmarks.bench_minhash", "--child-index", str(n)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        log(f"index subprocess failed: {done.stderr[-1000:]}")
        return
    res = json.loads(done.stdout.strip().splitlines()[-1])
    sysname = f"seqcount NearDupIndex({NEAR_DUP}, {DEFAULT_K}, {SEED})"
    workload = (
        f"{n:,} random signatures, K={DEFAULT_K}, LSH {res['bands']} bands x {res['rows']} rows, "
        "fresh process"
    )
    rec.add(sysname, workload, "add() rate (lookup + insert)", n / res["seconds"], "documents/s",
            "index", duplicates_found=res["duplicates"])  # fmt: skip
    rec.add(sysname, workload, "time per add()", 1e6 * res["seconds"] / n, "us", "index")
    rec.add(sysname, workload, "RSS growth per document (VmRSS)", 1024 * res["rss_kib"] / n,
            "bytes", "index", rss_growth_mib=res["rss_kib"] / 1024)  # fmt: skip
    if "rss_half_kib" in res:
        half = n // 2
        slope = 1024 * (res["rss_kib"] - res["rss_half_kib"]) / (n - half)
        rec.add(sysname, workload, f"RSS growth per document, documents {half:,} to {n:,}",
                slope, "bytes", "index")  # fmt: skip
    rec.add(sysname, workload, "Python allocations per document (tracemalloc)",
            res["traced_bytes"] / n, "bytes", "index",
            traced_peak_per_doc=res["traced_peak_bytes"] / n)  # fmt: skip
    rec.add(sysname, workload, "of which seqcount's own arrays (index.nbytes)", res["nbytes"] / n,
            "bytes", "index")  # fmt: skip
    estimate = DEFAULT_K * 8 + res["bands"] * 200
    rec.add(sysname, workload, "neardup.py docstring estimate (num_perm*8 + bands*200)",
            float(estimate), "bytes", "index")  # fmt: skip
    log(
        f"index: {n / res['seconds']:,.0f} docs/s, RSS {1024 * res['rss_kib'] / n:,.0f} B/doc, "
        f"traced {res['traced_bytes'] / n:,.0f} B/doc"
    )


# --------------------------------------------------------------------------- 5. window kernel


def bench_windows(rec: Recorder, cfg: dict, texts: list[str], meta: dict) -> None:
    import numba

    from seqcount import _kernels as kernels
    from seqcount.config import DEFAULT_NS
    from seqcount.hashing import hash_params
    from seqcount.sketches import minhash_permutations
    from seqcount.tokenize import words_chunk

    params = hash_params(SEED)
    data, offsets = utf8_docs(texts)
    chunk = words_chunk(data, offsets, params)
    copies = cfg["window_copies"]
    tokens = np.tile(chunk.tokens, copies)
    lens = np.tile(np.diff(chunk.doc), copies)
    doc = np.zeros(lens.shape[0] + 1, dtype=np.int64)
    np.cumsum(lens, out=doc[1:])
    ndocs = doc.shape[0] - 1
    prefix = kernels.prefix_values(tokens, np.uint64(params.base))
    ns, bases, salts = params.window_arrays(DEFAULT_NS)
    windows = int(sum(np.maximum(lens - (n - 1), 0).sum() for n in DEFAULT_NS))
    a, b = minhash_permutations(DEFAULT_K, SEED)

    # Since 0.2.0 the kernel cuts the documents into P runs (sigs and cache get a leading axis
    # of P; the pipeline uses P = numba threads); before, it took (len(ns), K) signatures.
    parted = "parts" in inspect.signature(kernels.minhash_cache).parameters
    meta["window_kernel_parts"] = "numba threads" if parted else "none (one task per n)"

    def run_minhash():
        if parted:
            parts = numba.get_num_threads()
            shape = (parts, len(ns), DEFAULT_K)
            cache = kernels.minhash_cache(parts, len(ns))
        else:
            shape = (len(ns), DEFAULT_K)
            cache = kernels.minhash_cache(len(ns))
        sigs = np.full(shape, kernels.MINHASH_EMPTY, dtype=np.int64)
        t0 = time.perf_counter()
        kernels.minhash_update_windows(prefix, doc, 0, ndocs, ns, bases, salts, a, b, sigs, cache)
        return time.perf_counter() - t0

    from seqcount import hashing

    piece = hashing.Piece(prefix, doc)
    win = hashing.WindowParams.of(params, DEFAULT_NS, 16)

    def run_hll():  # the checked wrapper: it runs the window sizes on numba's thread count
        regs = np.zeros((len(ns), 1 << 16), dtype=np.int8)
        t0 = time.perf_counter()
        hashing.hll_update_windows(piece, 0, ndocs, win, regs)
        return time.perf_counter() - t0

    kernels_ = {"minhash_update_windows": run_minhash, "hll_update_windows": run_hll}
    old = numba.get_num_threads()
    max_threads = numba.config.NUMBA_NUM_THREADS
    thread_counts = sorted({1, max_threads})
    times: dict = {(kn, t): [] for kn in kernels_ for t in thread_counts}
    try:
        for t in thread_counts:
            numba.set_num_threads(t)
            for fn in kernels_.values():
                fn()  # warm-up
        for _ in range(cfg["window_repeats"]):
            for t in thread_counts:
                numba.set_num_threads(t)
                for kn, fn in kernels_.items():
                    times[(kn, t)].append(fn())
    finally:
        numba.set_num_threads(old)
    workload = (
        f"{tokens.shape[0] / 1e6:.2f}M words tokens (austen x{copies}), 7 n, "
        f"{windows / 1e6:.1f}M windows"
    )
    for (kn, t), ts in times.items():
        ns_w = [1e9 * x / windows for x in ts]
        thr = "1 thread" if t == 1 else f"{t} threads"
        extra = {"k": DEFAULT_K} if kn.startswith("minhash") else {"precision": 16}
        rec.add(f"seqcount kernel {kn}", workload + f", {thr}", "time per window (median)",
                median(ns_w), "ns", "windows", samples=ns_w, threads=t, **extra)  # fmt: skip
        log(f"windows {kn} {thr}: {median(ns_w):.2f} ns/window")
    for kn in kernels_:
        if len(thread_counts) > 1:
            speedup = median(times[(kn, 1)]) / median(times[(kn, max_threads)])
            rec.add(f"seqcount kernel {kn}", workload,
                    f"thread speedup: 1 thread / {max_threads} threads (medians)", speedup, "x",
                    "windows")  # fmt: skip
    mh = median(times[("minhash_update_windows", 1)])
    hll = median(times[("hll_update_windows", 1)])
    rec.add("minhash_update_windows / hll_update_windows", workload + ", 1 thread",
            f"time ratio (K={DEFAULT_K} vs p=16)", mh / hll, "x", "windows")  # fmt: skip


# --------------------------------------------------------------------------- markdown


def _find(results, section, pred) -> dict | None:
    for r in results:
        if r["section"] == section and pred(r):
            return r
    return None


def _headline(results: list[dict], meta: dict) -> list[str]:
    rows: list[tuple[str, str]] = []

    def val(r, unit=None):
        return "n/a" if r is None else f"{fmt(r['value'], r['unit'])} {unit or r['unit']}"

    k = DEFAULT_K
    r = _find(
        results, "kernel", lambda r: r["k"] == k and r["metric"].startswith("time per hash (")
    )
    r2 = _find(results, "kernel", lambda r: r["k"] == k and "permutation" in r["metric"])
    rows.append((f"MinHash update, K={k}, per hash (= per distinct window)", val(r)))
    rows.append(("... per hash-permutation", val(r2)))
    w = _find(results, "windows", lambda r: r["metric"].startswith("time per window")
              and r["system"].endswith("minhash_update_windows") and r["threads"] == 1)  # fmt: skip
    rows.append((f"minhash_update_windows, K={k}, per corpus window (7 n, 1 thread)", val(w)))
    r = _find(results, "datasketch", lambda r: r["k"] == k and r["unit"] == "x")
    rows.append((f"datasketch / seqcount time, K={k}", val(r)))
    ident = [r for r in results if r["section"] == "datasketch" and r["unit"] == ""]
    rows.append(("signatures bit-identical to datasketch (K = " + ", ".join(
        str(r["k"]) for r in ident) + ")", "yes" if ident and all(r["value"] for r in ident)
        else "**no**"))  # fmt: skip
    for r in results:
        if r["section"] == "slowdown":
            met = ""
            if "target" in r:
                met = f" (target {r['target']}: {'met' if r['target_met'] else '**not met**'})"
            rows.append((f"{r['system'].replace('seqcount count_corpus, ', '')}, "
                         f"{r['workload']}", val(r) + met))  # fmt: skip
    for metric in ("RSS growth per document (VmRSS)", "Python allocations per document"):
        r = _find(results, "index", lambda r, m=metric: r["metric"].startswith(m))
        rows.append((f"near-dup index: {metric.split(' (')[0]}", val(r)))
    r = _find(results, "index", lambda r: r["unit"] == "documents/s")
    rows.append(("near-dup index: add() rate", val(r)))
    lines = ["| Quantity | Value |", "|---|---:|"]
    lines += [f"| {esc(q)} | {v} |" for q, v in rows]
    return lines


EXPLANATIONS = """\
## What the numbers mean

**Kernel** (`kernel`). `seqcount._kernels.minhash_update_hashes(sig, a, b, hashes)` called once on
the whole array of random uint64 hashes, with `sig = np.full(K, MINHASH_EMPTY)` fresh every repeat
and `a, b = seqcount.sketches.minhash_permutations(K, seed)`; one warm-up call first (numba loads
or compiles the kernel). *Time per hash* is what one new hash costs a K-permutation signature
(one `fmix64` pre-mix plus K multiply-add-min steps); *per hash-permutation* divides by K, so it
should be flat across K if the kernel scales linearly. K values run round-robin; median of the
repeats (every repeat is in `samples` in the JSON).

**datasketch** (`datasketch`). The same hashes (a prefix of them: datasketch is slow) fed to
`datasketch.MinHash(num_perm=K, seed=seed, scheme="affine64", hashfunc=lambda x: x)` in two ways:
one `update_batch(hashes)` call with the whole numpy array, and `update_batch` on batches of a
few thousand (datasketch builds an N x K matrix per call, so one big call is limited by memory
traffic). The seqcount kernel runs on the same prefix in the same loop. The *ratio* is
datasketch's faster form over seqcount, medians of the same run. *Bit-identical* compares the
uint64 signatures of the seqcount kernel (`unbias(sig)`), `seqcount.sketches.MinHash.update_batch`
and both datasketch forms.

**End to end** (`e2e`, `slowdown`). `count_corpus(path, CountConfig(num_perm=K))` (words, the 7
default window sizes, HyperLogLog p = 16) on `data/austen` and on 8 copies of its shards in a
temporary directory, K = 0 (MinHash off), 64, 128 (the default) and 128 with `near_dup=0.8`.
One warm-up call per configuration, then the configurations round-robin, so a slow spell of the
shared machine hits all alike. *Slowdown* is the median time of a configuration over the median
time at K = 0 in the same loop (`paired_median` in the JSON: the median of the per-round ratios).
It includes everything MinHash adds: the window-hash pass of `minhash_update_windows` (which
recomputes the window hashes, skips exact repeats via a small cache, and min-updates K values per
new window) and the per-shard signatures. The target is a slowdown below 2x at the default K.
The near-dup row compares `near_dup=0.8` with the same K without it: per-document MinHash of the
5-token windows, an LSH lookup and insert per document, and a second HyperLogLog pass over the
kept documents. The 8x copy is made of exact duplicates, so there 7 of every 8 documents are
near-duplicates (the record's `near_duplicate_documents`).

**Index memory** (`index`). A fresh subprocess builds `NearDupIndex(0.8, 128, 0)` and calls
`add(signature, 0, i)` with random uint64 signatures (no near-duplicates among them: every
lookup finds nothing, the cheap case). *add() rate* is documents per second of lookup plus
insert. *RSS growth per document* is the process's VmRSS after the adds minus before, over the
documents (it includes datasketch's band tables, seqcount's signature arrays, which grow by
doubling, and allocator slack); the second RSS row is the slope over the second half. A second
build under `tracemalloc` gives the Python-level allocations (numpy arrays included), and
`index.nbytes` the part held in seqcount's own arrays. The docstring of `seqcount/neardup.py`
quotes `num_perm*8 + bands*200` bytes per document; its row is that formula, for comparison.

**Window kernel** (`windows`). `minhash_update_windows` (K = 128, fresh signatures and cache each
repeat) and, for reference, `hll_update_windows` (p = 16) on the prefix values of the corpus's
words tokens, the 7 window sizes; *per window* divides by all windows (repeats skipped by the
cache included). `hll_update_windows` runs one task per window size (at most 7 threads help, and
the split is uneven); `minhash_update_windows` (since seqcount 0.2.0) cuts the documents into P
runs of equal size, P = the numba thread count as in the pipeline, and runs one task per (run,
window size), each with its own signature and cache (`meta.window_kernel_parts` says which form
was measured). The speedup row is the 1-thread median over the all-threads median. Compare with
the *effective cores* of the noise reference: on a VM whose vCPUs share a core, 2 threads cannot
be 2x.

**Noise** (`noise`). `np.sort` of 10M uint64 at the start and the end (if they differ much, the
machine was busy), and effective cores, as in `bench_count`.
"""


def render_markdown(doc: dict) -> str:
    meta, results = doc["meta"], doc["results"]
    hw, ver = meta["hardware"], meta["versions"]
    lines = [
        "# seqcount MinHash benchmark",
        "",
        f"Generated by `{meta['command'].strip()}` on {meta['date_utc']} "
        f"({meta['mode']} mode, {meta['total_runtime_s']:.0f} s total). "
        "Do not edit: rerun the script.",
        "",
    ]
    if meta.get("seqcount_changed_during_run"):
        lines += [
            "**Warning: seqcount's sources changed while this ran; figures mix versions.**",
            "",
        ]
    inputs = meta.get("e2e_inputs", {})
    lines += [
        f"- CPU: {hw['cpu_model']} ({hw['machine']}), {hw['cpu_count']} logical CPUs "
        f"({hw['cpus_usable']} usable), {hw['mem_total_gib']} GiB RAM; numba threads: "
        f"{meta['numba_threads']} ({meta.get('numba_threading_layer')} layer)",
        "- Versions: "
        + ", ".join(f"{k} {v}" for k, v in ver.items())
        + f"; seqcount commit {meta['seqcount_commit']}"
        + (" (+ uncommitted changes in seqcount/)" if meta.get("seqcount_source_dirty") else ""),
        "- Inputs: "
        + "; ".join(f"{label}: {v['tokens']:,} words tokens" for label, v in inputs.items())
        + f"; MinHash seed {SEED}, scheme affine64",
        "",
        "## Summary",
        "",
    ]
    lines += _headline(results, meta)
    slow = [r for r in results if r.get("target") is not None and r["section"] == "slowdown"]
    if slow:
        met = all(r["target_met"] for r in slow)
        detail = ", ".join(f"{r['scale']}: {r['value']:.2f}x" for r in slow)
        lines += [
            "",
            f"**Target (slowdown under {TARGET_SLOWDOWN:g}x at the default K={DEFAULT_K}): "
            + ("met" if met else "NOT met")
            + f"** ({detail}; ratios of medians on a noisy shared machine).",
        ]
    titles = {
        "kernel": "1. MinHash kernel on random hashes",
        "datasketch": "2. Against datasketch on the same hashes",
        "e2e": "3. count_corpus end to end",
        "slowdown": "3b. Slowdowns",
        "index": "4. Near-duplicate index memory and speed",
        "windows": "5. Window kernels and threads",
        "noise": "Noise reference",
    }
    for section, title in titles.items():
        rows = [r for r in results if r["section"] == section]
        if not rows:
            continue
        lines += ["", f"## {title}", "", "| System | Workload | Metric | Value | Unit |"]
        lines.append("|---|---|---|---:|---|")
        for r in rows:
            lines.append(
                f"| {esc(r['system'])} | {esc(r['workload'])} | {esc(r['metric'])} "
                f"| {fmt(r['value'], r['unit'])} | {r['unit']} |"
            )
    lines += ["", EXPLANATIONS]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_minhash",
        description="Benchmark seqcount's MinHash (kernel, vs datasketch, end-to-end slowdown, "
        "near-duplicate index); writes minhash.json and minhash.md.",
    )
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes (< 1 min)")
    ap.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        help="directory for minhash.json and minhash.md (default: benchmarks/results)",
    )
    ap.add_argument("--child-index", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_index is not None:
        import seqcount._kernels  # noqa: F401  (sets numba's threading layer)

        child_index(args.child_index)
        return 0
    mode = "quick" if args.quick else "full"
    cfg = MODES[mode]
    out = Path(args.out)
    t_start = time.perf_counter()

    # Import seqcount before anything touches numba's threads (it picks the threading layer).
    import seqcount._kernels  # noqa: F401
    from seqcount.config import DEFAULT_NUM_PERM

    if DEFAULT_NUM_PERM != DEFAULT_K:
        log(f"WARNING: seqcount's default num_perm is now {DEFAULT_NUM_PERM}, not {DEFAULT_K}")

    meta = hardware_and_versions(mode, argv)
    meta["benchmark"] = "benchmarks/bench_minhash.py"
    meta["command"] = "python -m benchmarks.bench_minhash " + " ".join(argv)
    digest = meta["seqcount_source_sha256_16"] = source_digest()
    meta["settings"] = dict(cfg, ks=list(KS), default_k=DEFAULT_K, seed=SEED, scale=SCALE,
                            near_dup=NEAR_DUP, target_slowdown=TARGET_SLOWDOWN)  # fmt: skip
    rec = Recorder()
    texts = corpus_texts()
    meta["corpus"] = {
        "path": "data/austen",
        "shards": len(corpus_shards()),
        "documents": len(texts),
    }

    log(f"mode {mode}; noise reference")
    bench_sort(rec, cfg, "start")
    bench_cpu_capacity(rec)
    hashes = random_hashes(cfg["kernel_hashes"])
    log("1. kernel")
    bench_kernel(rec, cfg, hashes)
    log("2. datasketch")
    bench_datasketch(rec, cfg, hashes, meta)
    del hashes
    gc.collect()
    import numba

    meta["numba_threading_layer"] = numba.threading_layer()
    log("3. end to end")
    with tempfile.TemporaryDirectory(prefix="bench_minhash_") as tmp:
        big = build_scaled_corpus(Path(tmp), SCALE)
        one = e2e_variants(near_dup=True) + [
            ("K=0 (MinHash off)", dict(num_perm=0), 1),
            (f"K={DEFAULT_K} (default)", dict(num_perm=DEFAULT_K), 1),
        ]
        bench_e2e(rec, CORPUS, "austen", one, cfg["e2e_repeats"], meta)
        bench_e2e(rec, big, f"austen x{SCALE}", e2e_variants(cfg["e2e_big_near_dup"]),
                  cfg["e2e_big_repeats"], meta)  # fmt: skip
    log("4. near-duplicate index")
    bench_index(rec, cfg)
    log("5. window kernels and threads")
    bench_windows(rec, cfg, texts, meta)
    bench_sort(rec, cfg, "end")

    return finish_run(rec, meta, digest, t_start, out, "minhash", render_markdown)


if __name__ == "__main__":
    sys.exit(main())
