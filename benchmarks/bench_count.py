"""Speed and memory of ``seqcount count``, against the obvious pure-Python + datasketch baseline.

Run from the project root::

    python -m benchmarks.bench_count            # full mode, about a minute or two
    python -m benchmarks.bench_count --quick    # smaller sizes, fewer repeats: well under 2 min

Everything is measured in one run, on one input: the bundled ``data/austen`` Parquet corpus
(six shards, 873,710 ``words`` tokens). Sections:

1. ``e2e``: :func:`seqcount.api.count_corpus` on the whole corpus, 7 window sizes, after a
   warm-up call (so JIT loading is excluded), ``words`` and ``bytes`` tokenizers; plus where
   that time goes, stage by stage (:mod:`benchmarks.stages`: decode, tokenize, window hashes and
   register updates, MinHash, finish).
2. ``alternative``: pyarrow + ``re.findall`` per document + one ``datasketch.HyperLogLogPlusPlus``
   per window size fed every n-gram through ``.update()``, on a prefix of the same corpus.
3. ``kernel``: :func:`seqcount.hashing.hll_update_windows` (the checked wrapper, which runs the
   window sizes on the threads numba is set to) alone on precomputed prefix values, one thread
   (per core) and all threads: the corpus tokens repeated to ~5M tokens, and the 32M-token
   multilingual corpus of ``e2e_peers`` (text that does not repeat: the registers fill as on a
   real corpus).
4. ``memory``: peak RSS of ``python -m seqcount count`` subprocesses on the corpus and on an 8x
   copy of it (``os.wait4`` rusage).

Plus a noise reference (numpy sort of 10M uint64) before and after. Writes
``<out>/count.json`` (``{"meta": ..., "results": [...]}``) and ``<out>/count.md`` (rendered from
the same dict) and prints the markdown. Scratch files go to ``benchmarks/_work/`` (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import stages
from benchmarks.baselines import (
    TARGETS,
    bench_alternative,
    bench_kernel,
    bench_kernel_multilingual,
    best_config_ratio,
)
from benchmarks.common import (
    CORPUS,
    DEFAULT_OUT,
    DEFAULT_WORK,
    NS,
    PRECISION,
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
    peak_rss,
    source_digest,
    utf8_docs,
)

MEM_SCALE = 8

#: Sizes and repeats per mode.
MODES = {
    "full": dict(
        e2e_repeats=7,
        e2e_big_repeats=3,
        breakdown_repeats=3,
        alt_tokens=10**12,  # the whole corpus (about 20-30 s): the same input as seqcount
        alt_repeats=3,
        kernel_tokens=5_000_000,
        kernel_ml_tokens=32_000_000,  # the corpus of e2e_peers: generated once, shared
        kernel_repeats=5,
        mem_repeats=2,
        sort_n=10_000_000,
        sort_repeats=3,
    ),
    "quick": dict(
        e2e_repeats=3,
        e2e_big_repeats=1,
        breakdown_repeats=1,
        alt_tokens=50_000,
        alt_repeats=1,
        kernel_tokens=1_700_000,
        kernel_ml_tokens=2_000_000,
        kernel_repeats=3,
        mem_repeats=1,
        sort_n=10_000_000,
        sort_repeats=1,
    ),
}


# --------------------------------------------------------------------------- 1. seqcount e2e


def bench_e2e(rec: Recorder, cfg: dict, big: Path) -> None:
    from seqcount.api import count_corpus
    from seqcount.config import CountConfig

    t0 = time.perf_counter()
    r = count_corpus(str(CORPUS), CountConfig(ns=NS, num_perm=0, overlap="none", tokenizer="words"))
    cold = time.perf_counter() - t0
    rec.add(
        "seqcount",
        "austen, words, 7 n, first call in process",
        "time (cold: numba cache load, tables)",
        cold,
        "s",
        "e2e",
    )
    variants = (("words", None), ("bytes", None), ("words", 1), ("bytes", 1))
    configs = {
        tok: CountConfig(ns=NS, num_perm=0, overlap="none", tokenizer=tok)
        for tok in ("words", "bytes")
    }
    for tokenizer, threads in variants:
        count_corpus(str(CORPUS), configs[tokenizer], threads=threads)  # warm-up
    # Round-robin over the variants so that a slow spell of the machine hits them all alike.
    times: dict = {v: [] for v in variants}
    used: dict = {}
    for _ in range(cfg["e2e_repeats"]):
        for v in variants:
            t0 = time.perf_counter()
            r = count_corpus(str(CORPUS), configs[v[0]], threads=v[1])
            times[v].append(time.perf_counter() - t0)
            used[v] = (r.tokens, r.threads)
    for (tokenizer, threads), ts in times.items():
        tokens, nthreads = used[(tokenizer, threads)]
        thr = f"{nthreads} threads (default)" if threads is None else "1 thread"
        workload = f"austen ({tokens:,} {tokenizer} tokens), 7 n, {thr}"
        rates = [tokens / t for t in ts]
        rec.add(
            "seqcount",
            workload,
            "tokens/s (median)",
            median(rates),
            "tokens/s",
            "e2e",
            samples=rates,
            tokenizer=tokenizer,
            threads=nthreads,
            tokens=tokens,
        )
        rec.add("seqcount", workload, "tokens/s (best)", max(rates), "tokens/s", "e2e")
        log(f"e2e {tokenizer} {thr}: {median(rates) / 1e6:.2f} M tokens/s")

    # The same on the 8x copy: fixed per-run costs (checkpoint estimates) weigh less.
    config = CountConfig(ns=NS, num_perm=0, overlap="none", tokenizer="words")
    big_rates: dict = {None: [], 1: []}
    for _ in range(cfg["e2e_big_repeats"]):
        for threads in big_rates:
            t0 = time.perf_counter()
            r = count_corpus(str(big), config, threads=threads)
            big_rates[threads].append(r.tokens / (time.perf_counter() - t0))
            used[("big", threads)] = r.threads
    for threads, rates in big_rates.items():
        thr = "1 thread" if threads == 1 else f"{used[('big', threads)]} threads (default)"
        rec.add(
            "seqcount",
            f"austen x{MEM_SCALE} ({r.tokens:,} words tokens), 7 n, {thr}",
            "tokens/s (median)",
            median(rates),
            "tokens/s",
            "e2e",
            samples=rates,
            tokens=r.tokens,
            scale=MEM_SCALE,
        )
        log(f"e2e words x{MEM_SCALE}, {thr}: {median(rates) / 1e6:.2f} M tokens/s")


# --------------------------------------------------------------------------- 1c. threading env

THREAD_ENVS = (
    ("default environment", {}),
    ("NUMBA_THREADING_LAYER=omp", {"NUMBA_THREADING_LAYER": "omp"}),
    (
        "NUMBA_THREADING_LAYER=omp OMP_WAIT_POLICY=passive",
        {"NUMBA_THREADING_LAYER": "omp", "OMP_WAIT_POLICY": "passive"},
    ),
    ("NUMBA_THREADING_LAYER=workqueue", {"NUMBA_THREADING_LAYER": "workqueue"}),
)


def child_e2e(repeats: int) -> None:
    """Hidden entry point (``--child-e2e REPEATS``): time ``count_corpus`` on the corpus, words,
    default threads and 1 thread round-robin, after a warm-up; print JSON to stdout."""
    import numba

    from seqcount.api import count_corpus
    from seqcount.config import CountConfig

    config = CountConfig(ns=NS, num_perm=0, overlap="none", tokenizer="words")
    for threads in (None, 1):
        r = count_corpus(str(CORPUS), config, threads=threads)
    out = {"layer": numba.threading_layer(), "tokens": r.tokens, "default": [], "one": []}
    for _ in range(repeats):
        for key, threads in (("default", None), ("one", 1)):
            t0 = time.perf_counter()
            r = count_corpus(str(CORPUS), config, threads=threads)
            out[key].append(time.perf_counter() - t0)
            if threads is None:
                out["threads"] = r.threads
    print(json.dumps(out))


def bench_threading(rec: Recorder, cfg: dict) -> None:
    for label, extra in THREAD_ENVS:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("OMP_WAIT_POLICY", "NUMBA_THREADING_LAYER", "NUMBA_NUM_THREADS")
        }
        env.update(extra)
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.bench_count",
            "--child-e2e",
            str(cfg["e2e_repeats"]),
        ]
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            log(f"threading run {label!r} failed: {done.stderr[-500:]}")
            continue
        res = json.loads(done.stdout.strip().splitlines()[-1])
        for key, thr in (("default", f"{res['threads']} threads"), ("one", "1 thread")):
            rates = [res["tokens"] / t for t in res[key]]
            rec.add(
                f"seqcount, {label}",
                f"austen words, 7 n, {thr}, numba layer {res['layer']}, own process",
                "tokens/s (median)",
                median(rates),
                "tokens/s",
                "threading",
                samples=rates,
            )
            log(f"threading {label}, {thr}: {median(rates) / 1e6:.2f} M tokens/s")


def bench_breakdown(rec: Recorder, cfg: dict, big: Path) -> None:
    """Where the end-to-end time goes (:mod:`benchmarks.stages`), also on the 8x copy."""
    import numba

    runs = stages.default_runs(numba.get_num_threads())
    runs.insert(2, (f"words x{MEM_SCALE}, 1 thr", big, "words", 1))
    stages.measure(rec, runs, cfg["breakdown_repeats"])


def run_cli_peak_rss(path: Path, out: Path) -> dict:
    """Run ``python -m seqcount count PATH --quiet --out OUT``: peak RSS, wall time, summary."""
    cmd = [sys.executable, "-m", "seqcount", "count", str(path), "--quiet", "--out", str(out)]
    out.parent.mkdir(parents=True, exist_ok=True)
    res = peak_rss(cmd, out.parent / (out.name + ".stderr"))
    summary = json.loads((out / "summary.json").read_text())
    return {
        "peak_rss_kib": res["maxrss_kib"],
        "wall_s": res["wall_s"],
        "tokens": summary["totals"]["tokens"],
        "elapsed_s": summary["run"]["elapsed_s"],
        "tokens_per_s": summary["run"]["tokens_per_s"],
    }


def bench_memory(rec: Recorder, cfg: dict, work: Path, big: Path) -> None:
    floor = peak_rss(
        [sys.executable, "-c", "import seqcount.cli, seqcount.api, seqcount._kernels"],
        work / "import_floor.stderr",
    )
    rec.add(
        "python -c 'import seqcount.cli, seqcount.api'",
        "imports only (interpreter, numpy, numba, pyarrow), for reference",
        "peak RSS",
        floor["maxrss_kib"] / 1024,
        "MiB",
        "memory",
    )
    peaks = {}
    for label, path in (("1x", CORPUS), (f"{MEM_SCALE}x", big)):
        runs = [
            run_cli_peak_rss(path, work / "out" / f"count_{label}")
            for _ in range(cfg["mem_repeats"])
        ]
        peak = max(r["peak_rss_kib"] for r in runs)
        best = min(runs, key=lambda r: r["wall_s"])
        tokens = best["tokens"]
        workload = f"austen {label} ({tokens:,} words tokens), CLI subprocess, 7 n"
        peaks[label] = peak
        rec.add(
            "seqcount CLI",
            workload,
            "peak RSS (max over runs)",
            peak / 1024,
            "MiB",
            "memory",
            samples=[r["peak_rss_kib"] / 1024 for r in runs],
        )
        rec.add(
            "seqcount CLI",
            workload,
            "tokens/s inside count_corpus (incl. first-call overheads)",
            best["tokens_per_s"],
            "tokens/s",
            "memory",
        )
        rec.add(
            "seqcount CLI",
            workload,
            "tokens/s wall clock (incl. interpreter start and imports)",
            tokens / best["wall_s"],
            "tokens/s",
            "memory",
            wall_s=best["wall_s"],
        )
        log(f"memory {label}: peak {peak / 1024:.1f} MiB, wall {best['wall_s']:.2f}s")
    ratio = peaks[f"{MEM_SCALE}x"] / peaks["1x"]
    rec.add(
        "seqcount CLI",
        f"peak RSS, austen {MEM_SCALE}x / 1x",
        "ratio",
        ratio,
        "x",
        "ratio",
        target=f"< {TARGETS['rss_ratio']:g}",
        target_met=bool(ratio < TARGETS["rss_ratio"]),
    )


def render_markdown(doc: dict) -> str:
    meta, results = doc["meta"], doc["results"]
    hw, ver = meta["hardware"], meta["versions"]
    lines = [
        "# seqcount count benchmark",
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
    lines += [
        f"- CPU: {hw['cpu_model']} ({hw['machine']}), {hw['cpu_count']} logical CPUs "
        f"({hw['cpus_usable']} usable), {hw['mem_total_gib']} GiB RAM; numba threads: "
        f"{meta['numba_threads']} ({meta.get('numba_threading_layer')} layer)",
        "- Versions: "
        + ", ".join(f"{k} {v}" for k, v in ver.items())
        + f"; seqcount commit {meta['seqcount_commit']}"
        + (" (+ uncommitted changes in seqcount/)" if meta.get("seqcount_source_dirty") else ""),
        f"- Input: `data/austen` ({meta['corpus']['documents']} documents, "
        f"{meta['corpus']['utf8_bytes']:,} bytes of UTF-8 text); window sizes n = "
        + ", ".join(map(str, NS))
        + f"; HyperLogLog++ p = {PRECISION}",
        "",
        "## Targets",
        "",
        "| Check | Measured | Target | Met |",
        "|---|---:|---:|:---:|",
    ]
    for r in results:
        if "target" in r:
            lines.append(
                f"| {esc(r['system'])}: {esc(r['workload'])} — {esc(r['metric'])} "
                f"| {fmt(r['value'], r['unit'])} {r['unit']} | {r['target']} {r['unit']} "
                f"| {'yes' if r['target_met'] else '**no**'} |"
            )
    titles = {
        "e2e": "seqcount end to end (in process, after warm-up)",
        "threading": "Threading-layer sensitivity (separate processes, words)",
        "alternative": "The obvious alternative (pure Python + datasketch)",
        "ratio": "Ratios",
        "kernel": "Kernels alone",
        "memory": "Peak memory: CLI subprocess on 1x and 8x the corpus",
        "noise": "Noise reference",
    }
    for section, title in titles.items():
        rows = [r for r in results if r["section"] == section]
        if not rows:
            continue
        lines += ["", f"## {title}", "", "| System | Workload | Metric | Value | Unit |"]
        lines.append("|---|---|---|---:|---|")
        for r in rows:
            unit = r["unit"]
            value = fmt(r["value"], unit)
            lines.append(
                f"| {esc(r['system'])} | {esc(r['workload'])} | {esc(r['metric'])} "
                f"| {value} | {unit} |"
            )
        if section == "e2e":
            lines += [""] + stages.markdown(results)
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_count",
        description="Benchmark seqcount count against pyarrow + re + datasketch, "
        "kernel speed and peak memory; writes count.json and count.md.",
    )
    ap.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes (< 2 min)")
    ap.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        help="directory for count.json and count.md (default: benchmarks/results)",
    )
    ap.add_argument(
        "--work", default=str(DEFAULT_WORK), help="scratch directory (default: benchmarks/_work)"
    )
    ap.add_argument("--child-e2e", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_e2e is not None:
        child_e2e(args.child_e2e)
        return 0
    mode = "quick" if args.quick else "full"
    cfg = MODES[mode]
    out, work = Path(args.out), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()

    # Import seqcount before anything touches numba's threads: seqcount chooses numba's
    # threading layer at import, and numba.get_num_threads() would launch the default one.
    import seqcount._kernels  # noqa: F401

    meta = hardware_and_versions(mode, argv)
    digest = meta["seqcount_source_sha256_16"] = source_digest()
    meta["settings"] = dict(cfg, ns=list(NS), precision=PRECISION, mem_scale=MEM_SCALE)
    rec = Recorder()
    texts = corpus_texts()
    data, _ = utf8_docs(texts)
    meta["corpus"] = {
        "path": "data/austen",
        "shards": len(corpus_shards()),
        "documents": len(texts),
        "utf8_bytes": int(data.shape[0]),
    }
    del data

    big = build_scaled_corpus(work, MEM_SCALE)
    log(f"mode {mode}; noise reference")
    bench_sort(rec, cfg, "start")
    bench_cpu_capacity(rec)
    log("1. seqcount end to end")
    bench_e2e(rec, cfg, big)
    import numba

    meta["numba_threading_layer"] = numba.threading_layer()
    env_keys = ("OMP_WAIT_POLICY", "NUMBA_THREADING_LAYER", "NUMBA_NUM_THREADS")
    meta["threading_env"] = {k: os.environ.get(k) for k in env_keys}
    log("1c. threading environment")
    bench_threading(rec, cfg)
    log("1b. breakdown")
    bench_breakdown(rec, cfg, big)
    log("2. alternative")
    bench_alternative(rec, cfg, texts, work)
    best_config_ratio(rec)
    log("3. kernel")
    bench_kernel(rec, cfg, texts)
    bench_kernel_multilingual(rec, cfg, work)
    log("4. memory")
    bench_memory(rec, cfg, work, big)
    bench_sort(rec, cfg, "end")

    return finish_run(rec, meta, digest, t_start, out, "count", render_markdown)


if __name__ == "__main__":
    sys.exit(main())
