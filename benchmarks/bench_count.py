"""Speed and memory of ``seqcount count``, against the obvious pure-Python + datasketch baseline.

Run from the project root::

    python -m benchmarks.bench_count            # full mode, about a minute or two
    python -m benchmarks.bench_count --quick    # smaller sizes, fewer repeats: well under 2 min

Everything is measured in one run, on one input: the bundled ``data/austen`` Parquet corpus
(six shards, 873,710 ``words`` tokens). Sections:

1. ``e2e``: :func:`seqcount.api.count_corpus` on the whole corpus, 7 window sizes, after a
   warm-up call (so JIT loading is excluded), ``words`` and ``bytes`` tokenizers; plus a timer
   breakdown of where that time goes (Parquet read, tokenizing, prefix values, sketch updates,
   checkpoint estimates, the rest).
2. ``alternative``: pyarrow + ``re.findall`` per document + one ``datasketch.HyperLogLogPlusPlus``
   per window size fed every n-gram through ``.update()``, on a prefix of the same corpus.
3. ``kernel``: :func:`seqcount._kernels.hll_update_windows` alone on precomputed prefix values
   (the corpus tokens repeated to ~5M tokens), one thread (per core) and all threads.
4. ``memory``: peak RSS of ``python -m seqcount count`` subprocesses on the corpus and on an 8x
   copy of it (``os.wait4`` rusage).

Plus a noise reference (numpy sort of 10M uint64) before and after. Writes
``<out>/count.json`` (``{"meta": ..., "results": [...]}``) and ``<out>/count.md`` (rendered from
the same dict) and prints the markdown. Scratch files go to ``benchmarks/_work/`` (gitignored).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "austen"
DEFAULT_OUT = ROOT / "benchmarks" / "results"
DEFAULT_WORK = ROOT / "benchmarks" / "_work"
NS = (1, 2, 4, 8, 16, 32, 64)
PRECISION = 16
WORD_PATTERN = r"\w+|[^\w\s]"
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
        kernel_repeats=3,
        mem_repeats=1,
        sort_n=10_000_000,
        sort_repeats=1,
    ),
}

TARGETS = {
    "speedup": 100.0,  # seqcount words tokens/s over the alternative's, at least
    "kernel_per_core": 50.0,  # M window updates/s on one thread, at least
    "rss_ratio": 1.3,  # peak RSS 8x / 1x, below
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- records


class Recorder:
    """Collects result records: ``system, workload, metric, value, unit`` plus optional extras."""

    def __init__(self) -> None:
        self.results: list[dict] = []

    def add(self, system, workload, metric, value, unit, section, **extra) -> dict:
        rec = {
            "system": system,
            "workload": workload,
            "metric": metric,
            "value": _round(value),
            "unit": unit,
            "section": section,
        }
        for k, v in extra.items():
            if v is not None:
                rec[k] = [_round(x) for x in v] if isinstance(v, list) else _round(v)
        self.results.append(rec)
        return rec


def _round(v):
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if v == 0 or not np.isfinite(v):
            return v
        return float(f"{v:.6g}")
    if isinstance(v, np.integer):
        return int(v)
    return v


def _median(xs):
    return statistics.median(xs)


# --------------------------------------------------------------------------- meta


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def git_state() -> tuple[str | None, bool | None]:
    """Short commit of the checkout and whether ``seqcount/`` has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "seqcount"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout
        return commit or None, bool(status.strip())
    except OSError:
        return None, None


def source_digest() -> str:
    """Hash of the seqcount sources, to notice edits made while the benchmark runs."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((ROOT / "seqcount").rglob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def hardware_and_versions(mode: str, argv: list[str]) -> dict:
    from importlib import metadata

    import numba

    cpu_model = None
    text = _read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        if line.lower().startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    mem_total_kib = None
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            mem_total_kib = int(line.split()[1])
    versions = {"python": platform.python_version()}
    for name in ("seqcount", "numpy", "numba", "pyarrow", "datasketch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    commit, dirty = git_state()
    cpu_max = _read("/sys/fs/cgroup/cpu.max")
    return {
        "benchmark": "benchmarks/bench_count.py",
        "command": "python -m benchmarks.bench_count " + " ".join(argv),
        "mode": mode,
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "hardware": {
            "cpu_model": cpu_model,
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0,
            "cgroup_cpu_max": cpu_max.strip() if cpu_max else None,
            "mem_total_gib": round(mem_total_kib / 2**20, 1) if mem_total_kib else None,
            "platform": platform.platform(),
        },
        "numba_threads": numba.get_num_threads(),
        "numba_threading_layer_max": numba.config.NUMBA_NUM_THREADS,
        "versions": versions,
        "seqcount_commit": commit,
        "seqcount_source_dirty": dirty,
    }


# --------------------------------------------------------------------------- corpus helpers


def corpus_shards() -> list[Path]:
    shards = sorted(CORPUS.glob("*.parquet"))
    if not shards:
        sys.exit(f"no Parquet shards in {CORPUS}; run from a checkout that has data/austen")
    return shards


def corpus_texts() -> list[str]:
    """Every document of the corpus, in reading order (sorted shard path, then row)."""
    import pyarrow.parquet as pq

    texts: list[str] = []
    for path in corpus_shards():
        col = pq.read_table(path, columns=["text"]).column("text")
        texts.extend(t if t is not None else "" for t in col.to_pylist())
    return texts


def utf8_docs(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated UTF-8 bytes and int64 document offsets."""
    enc = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(enc) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in enc], out=offsets[1:])
    data = np.frombuffer(b"".join(enc), dtype=np.uint8)
    return data, offsets


# --------------------------------------------------------------------------- 0. noise reference


def bench_sort(rec: Recorder, cfg: dict, when: str) -> None:
    n = cfg["sort_n"]
    rng = np.random.default_rng(12345)
    a = rng.integers(0, np.iinfo(np.int64).max, size=n, dtype=np.int64).astype(np.uint64)
    times = []
    for _ in range(cfg["sort_repeats"]):
        t0 = time.perf_counter()
        np.sort(a)
        times.append(time.perf_counter() - t0)
    rec.add(
        "numpy",
        f"np.sort of {n / 1e6:g}M random uint64 ({when})",
        "time (median)",
        _median(times),
        "s",
        "noise",
        samples=times,
    )


_BUSY = (
    "import time\nt = time.perf_counter()\nx = 0\nfor i in range(8_000_000):\n    x += i\n"
    "print(time.perf_counter() - t)"
)


def bench_cpu_capacity(rec: Recorder) -> None:
    """How much two CPU-bound processes get compared with one: effective cores on this machine."""

    def run(k: int) -> list[float]:
        procs = [
            subprocess.Popen([sys.executable, "-c", _BUSY], stdout=subprocess.PIPE, text=True)
            for _ in range(k)
        ]
        return [float(p.communicate()[0]) for p in procs]

    one = min(run(1)[0] for _ in range(2))
    ncpu = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    many = max(run(ncpu))
    rec.add(
        "python busy loop",
        f"1 process vs {ncpu} concurrent processes (8M-iteration loop)",
        "effective cores (ncpu x t1 / t_concurrent)",
        ncpu * one / many,
        "cores",
        "noise",
        t1=one,
        t_concurrent=many,
    )


# --------------------------------------------------------------------------- 1. seqcount e2e


def bench_e2e(rec: Recorder, cfg: dict, big: Path) -> None:
    from seqcount.api import count_corpus
    from seqcount.config import CountConfig

    t0 = time.perf_counter()
    r = count_corpus(str(CORPUS), CountConfig(ns=NS, num_perm=0, tokenizer="words"))
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
    configs = {tok: CountConfig(ns=NS, num_perm=0, tokenizer=tok) for tok in ("words", "bytes")}
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
            _median(rates),
            "tokens/s",
            "e2e",
            samples=rates,
            tokenizer=tokenizer,
            threads=nthreads,
            tokens=tokens,
        )
        rec.add("seqcount", workload, "tokens/s (best)", max(rates), "tokens/s", "e2e")
        log(f"e2e {tokenizer} {thr}: {_median(rates) / 1e6:.2f} M tokens/s")

    # The same on the 8x copy: fixed per-run costs (checkpoint estimates) weigh less.
    config = CountConfig(ns=NS, num_perm=0, tokenizer="words")
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
            _median(rates),
            "tokens/s",
            "e2e",
            samples=rates,
            tokens=r.tokens,
            scale=MEM_SCALE,
        )
        log(f"e2e words x{MEM_SCALE}, {thr}: {_median(rates) / 1e6:.2f} M tokens/s")


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

    config = CountConfig(ns=NS, num_perm=0, tokenizer="words")
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
                _median(rates),
                "tokens/s",
                "threading",
                samples=rates,
            )
            log(f"threading {label}, {thr}: {_median(rates) / 1e6:.2f} M tokens/s")


# --------------------------------------------------------------------------- 1b. breakdown


class _Timers:
    def __init__(self) -> None:
        self.t: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def add(self, key: str, dt: float) -> None:
        self.t[key] = self.t.get(key, 0.0) + dt
        self.calls[key] = self.calls.get(key, 0) + 1


@contextmanager
def _instrumented(timers: _Timers, missing: list[str]):
    """Wrap seqcount's stage functions with timers (restored on exit).

    Targets that do not exist (the code moved) are listed in ``missing`` and their time ends up
    in "other".
    """
    import seqcount._kernels as sk
    import seqcount.engine.counter as sp
    import seqcount.io as sio

    def timed_call(key, fn):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                timers.add(key, time.perf_counter() - t0)

        return wrapper

    def timed_gen(key, fn):
        def wrapper(*a, **k):
            gen = fn(*a, **k)
            while True:
                t0 = time.perf_counter()
                try:
                    item = next(gen)
                except StopIteration:
                    timers.add(key, time.perf_counter() - t0)
                    return
                timers.add(key, time.perf_counter() - t0)
                yield item

        return wrapper

    plan = [
        (sp, "discover", timed_call, "discover shards"),
        (sio.ParquetReader, "iter_batches", timed_gen, "Parquet read + to numpy"),
        (sp, "iter_chunks", timed_gen, "tokenize (token values)"),
        (sk, "prefix_values", timed_call, "prefix values"),
        (sk, "hll_update_windows", timed_call, "window hashes + HLL updates"),
        (sp, "hll_estimates", timed_call, "checkpoint estimates"),
    ]
    saved = []
    try:
        for obj, name, kind, key in plan:
            if not hasattr(obj, name):
                missing.append(f"{getattr(obj, '__name__', obj)}.{name}")
                continue
            orig = getattr(obj, name)
            saved.append((obj, name, orig))
            setattr(obj, name, kind(key, orig))
        yield [key for _, _, _, key in plan]
    finally:
        for obj, name, orig in reversed(saved):
            setattr(obj, name, orig)


def bench_breakdown(rec: Recorder, cfg: dict, meta: dict, big: Path) -> None:
    from seqcount.api import count_corpus
    from seqcount.config import CountConfig

    missing: list[str] = []
    import numba

    nthreads = numba.get_num_threads()
    # One thread: the stage times are then not disturbed by worker threads spinning between
    # parallel regions (see the threading section); the last run shows the default for contrast.
    for run, path, tokenizer, threads in (
        ("words, 1 thr", CORPUS, "words", 1),
        ("bytes, 1 thr", CORPUS, "bytes", 1),
        (f"words x{MEM_SCALE}, 1 thr", big, "words", 1),
        (f"words, {nthreads} thr", CORPUS, "words", None),
    ):
        config = CountConfig(ns=NS, num_perm=0, tokenizer=tokenizer)
        count_corpus(str(CORPUS), config, threads=threads)  # warm
        runs = []
        for _ in range(cfg["breakdown_repeats"]):
            timers = _Timers()
            miss: list[str] = []
            with _instrumented(timers, miss) as keys:
                t0 = time.perf_counter()
                count_corpus(str(path), config, threads=threads)
                total = time.perf_counter() - t0
            missing = miss
            runs.append((total, timers))
        runs.sort(key=lambda x: x[0])
        total, timers = runs[len(runs) // 2]  # the median run by total time
        scale = f" x{MEM_SCALE}" if path == big else ""
        thr = "1 thread" if threads == 1 else f"{nthreads} threads"
        workload = f"austen{scale}, {tokenizer}, 7 n, {thr}, breakdown"
        accounted = 0.0
        for key in keys:
            if key not in timers.t:
                continue
            dt = timers.t[key]
            accounted += dt
            rec.add(
                "seqcount",
                workload,
                key,
                dt,
                "s",
                "breakdown",
                share=100 * dt / total,
                calls=timers.calls[key],
                run=run,
            )
        other = max(total - accounted, 0.0)
        rec.add(
            "seqcount",
            workload,
            "other (Python glue: window counts, searchsorted, results)",
            other,
            "s",
            "breakdown",
            share=100 * other / total,
            run=run,
        )
        rec.add(
            "seqcount",
            workload,
            "total (instrumented)",
            total,
            "s",
            "breakdown",
            share=100.0,
            run=run,
        )
        top = max(timers.t, key=timers.t.get)
        log(f"breakdown {run}: total {total:.3f}s, largest '{top}' {timers.t[top]:.3f}s")
    if missing:
        meta["breakdown_unpatched"] = missing


# --------------------------------------------------------------------------- 2. alternative


def _alt_prefix_docs(texts: list[str], target_tokens: int) -> tuple[int, int]:
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
    import pyarrow as pa
    import pyarrow.parquet as pq

    from seqcount.api import count_corpus
    from seqcount.config import CountConfig

    n_docs, tokens = _alt_prefix_docs(texts, cfg["alt_tokens"])
    workload = f"austen first {n_docs} documents ({tokens:,} words tokens), 7 n"
    rates, hlls = [], None
    for _ in range(cfg["alt_repeats"]):
        got, dt, hlls = run_alternative(n_docs)
        assert got == tokens, (got, tokens)
        rates.append(got / dt)
        log(f"alternative: {got:,} tokens in {dt:.2f}s = {got / dt:,.0f} tokens/s")
    alt_rate = _median(rates)
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

    # Same prefix through seqcount: same tokens, estimates within HLL error of each other.
    pdir = work / "prefix"
    if pdir.exists():
        shutil.rmtree(pdir)
    pdir.mkdir(parents=True)
    pq.write_table(pa.table({"text": texts[:n_docs]}), pdir / "prefix.parquet")
    config = CountConfig(ns=NS, num_perm=0, tokenizer="words")
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
        tokens / _median(times),
        "tokens/s",
        "alternative",
        samples=[tokens / t for t in times],
    )
    exact = count_corpus(str(pdir), CountConfig(ns=NS, num_perm=0, tokenizer="words", exact=True))
    err_alt, err_sc = [], []
    for n in NS:
        truth = exact.final[n].unique_exact
        err_alt.append(100.0 * (hlls[n].count() / truth - 1))
        err_sc.append(100.0 * (r.unique(n) / truth - 1))
    note = "HyperLogLog++ p=16: standard error 0.41%; exact = seqcount --exact (hash set)"
    rec.add(
        "pyarrow + re.findall + datasketch HLL++ (p=16, .update per n-gram)",
        workload,
        "max |relative error| of distinct estimates over the 7 n",
        max(abs(d) for d in err_alt),
        "%",
        "alternative",
        per_n=err_alt,
        note=note,
    )
    rec.add(
        "seqcount",
        workload,
        "max |relative error| of distinct estimates over the 7 n",
        max(abs(d) for d in err_sc),
        "%",
        "alternative",
        per_n=err_sc,
        note=note,
    )

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

    whole = n_docs == len(texts)
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


# --------------------------------------------------------------------------- 3. kernel


def bench_kernel(rec: Recorder, cfg: dict, texts: list[str]) -> None:
    import numba

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
    ndocs = doc.shape[0] - 1
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

    ns, bases, salts = params.window_arrays(NS)
    p = np.int64(PRECISION)
    regs = np.zeros((len(NS), 1 << PRECISION), dtype=np.int8)
    all_lens = np.diff(doc)
    windows = int(sum(np.maximum(all_lens - (n - 1), 0).sum() for n in NS))
    kernels.hll_update_windows(prefix, doc, 0, 1, ns, bases, salts, p, regs)  # warm
    old = numba.get_num_threads()
    workload = (
        f"{tokens.shape[0] / 1e6:.2f}M words tokens (austen x{copies}, {ndocs} docs), 7 n, "
        f"{windows / 1e6:.1f}M windows"
    )
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            rates = []
            for _ in range(cfg["kernel_repeats"]):
                regs[:] = 0
                t0 = time.perf_counter()
                kernels.hll_update_windows(prefix, doc, 0, ndocs, ns, bases, salts, p, regs)
                rates.append(windows / (time.perf_counter() - t0) / 1e6)
            best, med = max(rates), _median(rates)
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
            log(f"kernel {label}: {med:.1f} M updates/s (best {best:.1f})")
    finally:
        numba.set_num_threads(old)


# --------------------------------------------------------------------------- 4. memory


def build_scaled_corpus(work: Path, scale: int) -> Path:
    """``scale`` copies of the corpus shards in ``work/corpus_{scale}x/copyK/`` (kept for reuse)."""
    dest = work / f"corpus_{scale}x"
    shards = corpus_shards()
    for k in range(scale):
        sub = dest / f"copy{k}"
        sub.mkdir(parents=True, exist_ok=True)
        for s in shards:
            target = sub / s.name
            if not target.exists() or target.stat().st_size != s.stat().st_size:
                shutil.copyfile(s, target)
    return dest


#: Runs one command and reports its peak RSS. It is a separate small Python process on purpose:
#: a child's ``ru_maxrss`` starts from the RSS of the process that forked it (Linux keeps the
#: pre-exec high-water mark, and Python's subprocess uses vfork/posix_spawn, which share the
#: parent's memory map), so forking the CLI straight from this big benchmark process would report
#: the benchmark's own RSS instead of the CLI's whenever the former is larger.
_LAUNCHER = r"""
import json, os, subprocess, sys, time
cmd = json.loads(sys.argv[1])
with open(sys.argv[2], "wb") as err:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
proc.returncode = os.waitstatus_to_exitcode(status)
print(json.dumps({"returncode": proc.returncode, "maxrss_kib": usage.ru_maxrss, "wall_s": wall}))
"""


def peak_rss(cmd: list[str], err_path: Path) -> dict:
    """Run ``cmd`` (cwd: project root) via :data:`_LAUNCHER`; ``maxrss_kib`` is KiB on Linux."""
    launcher = [sys.executable, "-c", _LAUNCHER, json.dumps(cmd), str(err_path)]
    done = subprocess.run(launcher, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"launcher failed: {done.stderr}")
    res = json.loads(done.stdout)
    if res["returncode"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res['returncode']}): {err_path.read_text()}")
    return res


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


# --------------------------------------------------------------------------- markdown


def _fmt(v, unit: str = "") -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if unit in ("tokens/s",):
            if abs(v) >= 1e6:
                return f"{v / 1e6:,.2f} M"
            return f"{v / 1e3:,.1f} k"
        a = abs(v)
        if a >= 1000:
            return f"{v:,.0f}"
        if a >= 100:
            return f"{v:.0f}"
        if a >= 10:
            return f"{v:.1f}"
        if a >= 1:
            return f"{v:.2f}"
        return f"{v:.3g}"
    return str(v)


def _esc(s: str) -> str:
    return str(s).replace("|", "\\|")


def _breakdown_lines(results: list[dict], meta: dict) -> list[str]:
    lines: list[str] = []
    bd = [r for r in results if r["section"] == "breakdown"]
    if bd:
        lines += [
            "",
            "## Where seqcount's end-to-end time goes",
            "",
            "Timers wrapped around seqcount's stage functions during one instrumented, warm "
            "`count_corpus` call (the median of the repeats by total time). `thr`: numba "
            "threads. Shares are of the instrumented total.",
            "",
        ]
        toks = list(dict.fromkeys(r["run"] for r in bd))
        lines.append("| Stage | " + " | ".join(f"{t}: s | {t}: share" for t in toks) + " |")
        lines.append("|---|" + "---:|---:|" * len(toks))
        stages = list(dict.fromkeys(r["metric"] for r in bd))
        for st in stages:
            cells = []
            for t in toks:
                m = [r for r in bd if r["metric"] == st and r["run"] == t]
                if m:
                    k = m[0].get("calls")
                    calls = "" if k is None else f" ({k} call{'s' if k != 1 else ''})"
                    cells += [f"{m[0]['value']:.3f}{calls}", f"{m[0]['share']:.0f}%"]
                else:
                    cells += ["", ""]
            lines.append(f"| {_esc(st)} | " + " | ".join(cells) + " |")
        if meta.get("breakdown_unpatched"):
            lines += ["", "Not instrumented (moved?): " + ", ".join(meta["breakdown_unpatched"])]
    return lines


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
                f"| {_esc(r['system'])}: {_esc(r['workload'])} — {_esc(r['metric'])} "
                f"| {_fmt(r['value'], r['unit'])} {r['unit']} | {r['target']} {r['unit']} "
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
            value = _fmt(r["value"], unit)
            lines.append(
                f"| {_esc(r['system'])} | {_esc(r['workload'])} | {_esc(r['metric'])} "
                f"| {value} | {unit} |"
            )
        if section == "e2e":
            lines += _breakdown_lines(results, meta)
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
    bench_breakdown(rec, cfg, meta, big)
    log("2. alternative")
    bench_alternative(rec, cfg, texts, work)
    best_config_ratio(rec)
    log("3. kernel")
    bench_kernel(rec, cfg, texts)
    log("4. memory")
    bench_memory(rec, cfg, work, big)
    bench_sort(rec, cfg, "end")

    return finish_run(rec, meta, digest, t_start, out, "count", render_markdown)


def finish_run(rec, meta: dict, digest: str, t_start: float, out, name: str, render) -> int:
    """Stamp the run time, warn if seqcount's sources changed meanwhile, and write
    ``out/<name>.json`` and ``out/<name>.md`` (rendered by ``render``)."""
    meta["total_runtime_s"] = round(time.perf_counter() - t_start, 1)
    if source_digest() != digest or git_state()[0] != meta["seqcount_commit"]:
        meta["seqcount_changed_during_run"] = True
        log("WARNING: seqcount's sources changed during the run; the figures mix versions")
    doc = {"meta": meta, "results": rec.results}
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = render(json.loads(json.dumps(doc)))
    (out / f"{name}.md").write_text(md)
    print(md)
    log(f"wrote {out / (name + '.json')} and {out / (name + '.md')} in {meta['total_runtime_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
