"""Start-up, worker processes and peak memory of whole ``seqcount count`` processes.

``python -m benchmarks.bench_startup [--quick] [--out DIR] [--work DIR]`` writes
``DIR/startup.json`` and ``startup.md``. Every figure is a whole CLI process launched by
:func:`benchmarks.common.peak_rss` (wall time and peak RSS, workers included), warm numba cache
(a warm-up run of every variant first), variants run round-robin so a slow spell of the shared
machine hits all alike (5 repeats; 2 with ``--quick``); the medians and their ratios are
reported:

- *one document*: ``seqcount count one.txt --out X`` (interpreter, imports, cached kernels,
  outputs), the start-up a user pays on every call;
- ``--jobs 1`` against ``--jobs 2`` on a synthetic corpus of 4 shards (30 M words tokens, 78 MB
  of text), and on one of its shards (the start-up of the workers);
- peak RSS of the default run on the corpus and on half of it (flat in corpus size?);
- the start-up of a pool of 2 workers, ``fork`` against ``spawn`` (CPU time per worker);
- the floor of start-up: ``python -c pass`` and ``import numpy, pyarrow.parquet, numba`` (what
  any program on these packages pays) and the same plus one cached kernel called (numba's own
  set-up), against the one-document run: CPU and wall time, as ratios to the floor, and the
  one-document run cut into stages (imports, numba's set-up at the first kernel, the count,
  interpreter exit);
- the first run after install: ``count data/`` then ``report`` with an empty numba cache
  (``NUMBA_CACHE_DIR`` a fresh directory), CPU and wall time; the first runs on another corpus
  after the README's set-up command (whose ``count data/`` compiles the default's kernels),
  with the default options and with options that need kernels of their own; and each
  kernel's compile time (CPU, the kernels it calls inside);
- peak RSS by stage (the floor imports, a one-document run) and on ``data/austen`` against 8
  copies of it, and what two settings of the lead's files would save on the synthetic corpus
  (``chunk_bytes`` of 1 MiB, no block sketches).

With ``BENCH_BASELINE=DIR`` (another checkout's root) every CLI variant also runs with that
checkout's seqcount, interleaved, and the ratios this / baseline are reported (the baseline's
peak RSS beside them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    ROOT,
    Recorder,
    finish_run,
    fmt,
    hardware_and_versions,
    log,
    median,
    peak_rss,
    quick_main,
    source_digest,
    timed_process,
)

SECTION = "startup"
#: The peak RSS goal of a default run, 250 MB; RSS is measured in MiB (``ru_maxrss`` / 1024).
RSS_GOAL_MIB = 250e6 / 2**20
RSS_TARGET = "<= 250 MB (238 MiB)"

#: Worker start-up: from making a pool of 2 workers to both having counted a one-document shard
#: (imports, numba, loading the kernels), in a fresh process that has imported what the CLI has
#: when it makes the pool; ``fork`` (what seqcount uses on Linux) against ``spawn``. Reported:
#: the CPU time of each worker (what it adds on a busy machine) and the wall time.
_POOL_SCRIPT = r"""
import json, multiprocessing, resource, sys, time
import seqcount.api
from seqcount.config import CountConfig
from seqcount.engine import executors
from seqcount.engine.sharded import count_shard

method, path = sys.argv[1], sys.argv[2]
cfg = CountConfig()
shard = seqcount.api.find_inputs([path], cfg.format, [], cfg.column, cfg.split).shards[0]
if method == "spawn":
    executors._context = lambda: multiprocessing.get_context("spawn")
t0 = time.perf_counter()
e = executors.Executor(jobs=2, threads=1)
futures = [e.submit(count_shard, shard, cfg) for _ in range(2)]
for f in futures:
    e.result(f, shard)
t = time.perf_counter() - t0
e.close()
workers = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": t, "cpu_per_worker": (workers.ru_utime + workers.ru_stime) / 2}))
"""


def _corpus(work: Path, tokens: float) -> Path:
    from seqcount.synth import generate

    dest = work / f"startup_{int(tokens):d}"
    if len(list(dest.glob("part-*.parquet"))) != 4:
        generate(dest, int(tokens), shards=4, seed=21)
    half = work / f"startup_{int(tokens):d}_half"
    half.mkdir(parents=True, exist_ok=True)
    for p in sorted(dest.glob("part-*.parquet"))[:2]:
        if not (half / p.name).exists():
            shutil.copyfile(p, half / p.name)
    return dest


def _seqcount(tree: str | None) -> list[str]:
    """The command line that runs ``seqcount`` of this checkout, or of the checkout ``tree``."""
    if tree is None:
        return [sys.executable, "-m", "seqcount"]
    start = (
        f"import sys, runpy; sys.path.insert(0, {tree!r}); "
        "runpy.run_module('seqcount', run_name='__main__', alter_sys=True)"
    )
    return [sys.executable, "-c", start]


def _round_robin(variants: dict, repeats: int, env: dict | None = None) -> dict[str, list]:
    """``repeats`` rounds of every variant in turn (after one dropped warm-up round)."""
    samples: dict[str, list] = {k: [] for k in variants}
    for r in range(repeats + 1):
        for name, cmd in variants.items():
            res = timed_process(cmd, env)
            if r:
                samples[name].append(res)
    return samples


#: One cached kernel, for the floor of numba's own set-up (typing registries, NRT, codegen).
_FLOOR_KERNEL = """
import numba

@numba.njit(cache=True)
def f(x):
    return x + 1
"""

#: The one-document run cut into stages, in one process (imports done by hand first, then the
#: CLI); prints the seconds of each stage as JSON at exit (``exit`` is measured outside).
_STAGES = r"""
import json, os, sys, time
tree = sys.argv[1]
if tree:
    sys.path.insert(0, tree)
marks = [("start", time.perf_counter())]
import numpy, pyarrow.parquet, numba
marks.append(("floor imports", time.perf_counter()))
import seqcount.cli.commands as commands
lib = getattr(commands, "_library", None)
if lib is not None:
    lib()
else:
    import seqcount.api, seqcount.reporting
marks.append(("seqcount imports", time.perf_counter()))
import numba.core.dispatcher as D
orig = D.Dispatcher.compile
def compile(self, sig):
    first = len(marks) == 3
    out = orig(self, sig)
    if first:
        marks.append(("numba set-up and first kernel", time.perf_counter()))
    return out
D.Dispatcher.compile = compile
from seqcount.cli import cli
try:
    cli.main(sys.argv[2:], standalone_mode=False)
finally:
    marks.append(("the rest of the run", time.perf_counter()))
    print(json.dumps({b: t1 - t0 for (a, t0), (b, t1) in zip(marks, marks[1:])}
                     | {"_end": time.time()}), flush=True)
"""


def _floor_section(rec: Recorder, work: Path, one: Path, repeats: int, baseline) -> None:
    """Start-up against its floor: whole processes, round-robin; the one-document run in
    stages."""
    (work / "startup_floor_kernel.py").write_text(_FLOOR_KERNEL)
    floor = "import numpy, pyarrow.parquet, numba"
    kernel = f"import sys; sys.path.insert(0, {str(work)!r}); {floor}; "
    kernel += "import startup_floor_kernel as k; k.f(1)"
    # the same with seqcount's settings: no scipy BLAS probe (_kernels.jit), no cffi, gc.freeze
    tuned = f"import sys; sys.path.insert(0, {str(work)!r}); {floor}; "
    tuned += "import seqcount._kernels.jit; from seqcount.engine import process as p; "
    tuned += "p.skip_numba_cffi(); import startup_floor_kernel as k; p.freeze_imports(); k.f(1)"
    variants = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "floor: " + floor: [sys.executable, "-c", floor],
        "floor + one cached kernel": [sys.executable, "-c", kernel],
        "floor + one cached kernel, seqcount's process settings": [sys.executable, "-c", tuned],
        "seqcount count, one document": _seqcount(None)
        + ["count", str(one), "--out", str(work / "f_one")],
    }
    if baseline:
        variants["seqcount count, one document (baseline)"] = _seqcount(baseline) + [
            "count",
            str(one),
            "--out",
            str(work / "f_one_b"),
        ]
    samples = _round_robin(variants, repeats)
    med = {
        k: {m: median([s[m] for s in v]) for m in ("wall_s", "cpu_s", "maxrss_mb")}
        for k, v in samples.items()
    }
    for name, v in samples.items():
        for metric, key in (("wall time", "wall_s"), ("CPU time", "cpu_s")):
            rec.add(
                "start-up floor",
                name,
                metric,
                med[name][key],
                "s",
                SECTION,
                samples=[s[key] for s in v],
                peak_rss_mb=med[name]["maxrss_mb"],
            )
    one_doc, base = med["seqcount count, one document"], med["floor: " + floor]
    for metric, key in (("wall time", "wall_s"), ("CPU time", "cpu_s")):
        rec.add(
            "start-up floor",
            "one document / floor imports",
            metric + " ratio",
            one_doc[key] / base[key],
            "x",
            SECTION,
        )
        tuned_floor = med["floor + one cached kernel, seqcount's process settings"]
        rec.add(
            "start-up floor",
            "one document minus floor + one cached kernel (seqcount's settings)",
            metric,
            one_doc[key] - tuned_floor[key],
            "s",
            SECTION,
        )
        rec.add(
            "start-up floor",
            "one document / floor + one cached kernel (seqcount's settings)",
            metric + " ratio",
            one_doc[key] / tuned_floor[key],
            "x",
            SECTION,
        )
        if baseline:
            b = med["seqcount count, one document (baseline)"]
            rec.add(
                "start-up floor",
                "one document (baseline) / floor imports",
                metric + " ratio",
                b[key] / base[key],
                "x",
                SECTION,
            )
    _stages(rec, work, one, repeats, baseline)


def _stages(rec: Recorder, work: Path, one: Path, repeats: int, baseline) -> None:
    """The one-document run in stages (medians over ``repeats`` runs, trees interleaved)."""
    trees = {"": None} | ({" (baseline)": baseline} if baseline else {})
    got: dict[str, list[dict]] = {k: [] for k in trees}
    for r in range(repeats + 1):
        for label, tree in trees.items():
            out = work / ("s_one" + ("_b" if tree else ""))
            cmd = [sys.executable, "-c", _STAGES, tree or "", "count", str(one), "--out", str(out)]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
            ended = time.time()
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            res["interpreter exit"] = ended - res.pop("_end")
            if r:
                got[label].append(res)
    for label, runs in got.items():
        for stage in runs[0]:
            rec.add(
                "one-document run, in stages" + label,
                stage,
                "wall time",
                median([x[stage] for x in runs]),
                "s",
                SECTION,
            )


#: Each kernel's compile time in a run with an empty cache: the CLI in this process, numba's
#: ``Dispatcher.compile`` timed (CPU of the compiling thread); nested compiles (the kernels a kernel
#: calls) are listed under their caller and included in its time.
_COMPILE_LOG = r"""
import json, sys, threading, time
tree = sys.argv[1]
if tree:
    sys.path.insert(0, tree)
import numba.core.dispatcher as D
orig, local, log = D.Dispatcher.compile, threading.local(), []
def compile(self, sig):
    name = self.py_func.__module__.rsplit(".", 1)[-1] + "." + self.py_func.__name__
    stack = local.__dict__.setdefault("stack", [])
    stack.append(name)
    t0 = time.thread_time()
    try:
        return orig(self, sig)
    finally:
        dt = time.thread_time() - t0
        stack.pop()
        if dt > 0.05 and not name.startswith(("arrayobj.", "builtins.")):
            log.append({"kernel": " > ".join(stack + [name]), "cpu_s": dt, "depth": len(stack),
                        "signature": str(sig)[:300]})
D.Dispatcher.compile = compile
from seqcount.cli import cli
try:
    cli.main(sys.argv[2:], standalone_mode=False)
finally:
    print(json.dumps(log))
"""


def _compile_section(rec: Recorder, work: Path, repeats: int, baseline) -> None:
    """The first run after install: ``count data/`` + ``report`` with an empty numba cache."""
    trees = {"": None} | ({" (baseline)": baseline} if baseline else {})
    data = str(ROOT / "data")
    totals: dict[str, list[float]] = {}
    for _ in range(repeats):
        for label, tree in trees.items():
            cache = Path(tempfile.mkdtemp(prefix="nbcache_", dir=work))
            env = {"NUMBA_CACHE_DIR": str(cache)}
            out = str(work / ("c_out" + ("_b" if tree else "")))
            shutil.rmtree(out, ignore_errors=True)
            c = timed_process(_seqcount(tree) + ["count", data, "--out", out, "-q"], env)
            rp = timed_process(_seqcount(tree) + ["report", out], env)
            w = timed_process(_seqcount(tree) + ["count", data, "--out", out, "-q"], env)  # warm
            wr = timed_process(_seqcount(tree) + ["report", out], env)
            shutil.rmtree(cache, ignore_errors=True)
            for key, value in (
                ("count, empty cache", c),
                ("report, empty cache", rp),
                ("count, warm cache", w),
                ("report, warm cache", wr),
            ):
                for metric in ("cpu_s", "wall_s"):
                    totals.setdefault(f"{key}{label}|{metric}", []).append(value[metric])
    for key, v in totals.items():
        name, metric = key.split("|")
        what = "CPU time" if metric == "cpu_s" else "wall time"
        rec.add("first run after install", name, what, median(v), "s", SECTION, samples=v)
    for label in trees:
        first = sum(
            median(totals[f"{k}{label}|cpu_s"])
            for k in ("count, empty cache", "report, empty cache")
        )
        warm = sum(
            median(totals[f"{k}{label}|cpu_s"]) for k in ("count, warm cache", "report, warm cache")
        )
        rec.add(
            "first run after install",
            "count + report, empty cache" + label,
            "CPU time",
            first,
            "s",
            SECTION,
            target="<= 4 s",
            target_met=first <= 4,
        )
        rec.add(
            "first run after install",
            "count + report: empty minus warm cache" + label,
            "CPU time (compiling)",
            first - warm,
            "s",
            SECTION,
        )
    _after_setup(rec, work, repeats)
    _kernel_log(rec, work, trees)


#: First runs after the README's set-up command: its ``count data/`` leaves the kernels of the
#: default options compiled; each of these then runs first on a corpus the set-up did not count
#: (the multilingual warm-up corpus of ``e2e_peers``): the default, then options that need
#: kernels of their own, each from the cache the set-up left.
AFTER_SETUP = {
    "count (default options)": ["count", "{corpus}"],
    "count --n 8": ["count", "{corpus}", "--n", "8"],
    "count --overlap none": ["count", "{corpus}", "--overlap", "none"],
    "count --overlap minhash": ["count", "{corpus}", "--overlap", "minhash"],
    "count --tokenizer bytes": ["count", "{corpus}", "--tokenizer", "bytes"],
    "count --exact": ["count", "{corpus}", "--exact"],
    "report (of the set-up's count)": ["report", "{setup_out}"],
}


def _after_setup(rec: Recorder, work: Path, repeats: int) -> None:
    """Wall and CPU time of the first runs after the README's set-up command, from an empty
    numba cache before it (:data:`AFTER_SETUP`): what a new user waits for on their own corpus
    once set up. The default is held to the goal of the first run (issue 21: 4 s)."""
    from benchmarks import multilingual

    corpus = str(multilingual.corpus(work, 200_000)[0])
    times: dict[str, list[dict]] = {name: [] for name in AFTER_SETUP}
    for _ in range(repeats):
        setup_cache = Path(tempfile.mkdtemp(prefix="nbcache_setup_", dir=work))
        setup_out = work / "setup_out"
        shutil.rmtree(setup_out, ignore_errors=True)
        env = {"NUMBA_CACHE_DIR": str(setup_cache)}
        setup = ["count", str(ROOT / "data"), "--out", str(setup_out), "-q"]
        timed_process(_seqcount(None) + setup, env)
        for name, args in AFTER_SETUP.items():
            cache = Path(tempfile.mkdtemp(prefix="nbcache_after_", dir=work))
            shutil.copytree(setup_cache, cache, dirs_exist_ok=True)
            out = work / "after_out"
            shutil.rmtree(out, ignore_errors=True)
            argv = [a.format(corpus=corpus, setup_out=setup_out) for a in args]
            if argv[0] == "count":
                argv += ["--out", str(out), "-q"]
            times[name].append(
                timed_process(_seqcount(None) + argv, {"NUMBA_CACHE_DIR": str(cache)})
            )
            shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(setup_cache, ignore_errors=True)
    for name, runs in times.items():
        wall = [r["wall_s"] for r in runs]
        cpu = [r["cpu_s"] for r in runs]
        goal = {}
        if name == "count (default options)":
            goal = dict(target="<= 4 s", target_met=median(cpu) <= 4)
        workload = f"{name}, first run after the README's set-up command"
        rec.add("first run after set-up", workload, "wall time", median(wall), "s", SECTION,
                samples=wall)  # fmt: skip
        rec.add("first run after set-up", workload, "CPU time", median(cpu), "s", SECTION,
                samples=cpu, **goal)  # fmt: skip
        log(f"after set-up, {name}: {median(wall):.2f} s wall, {median(cpu):.2f} s CPU")


def _kernel_log(rec: Recorder, work: Path, trees: dict) -> None:
    """Each kernel's compile CPU time in ``count data/`` + ``report`` from an empty cache."""
    for label, tree in trees.items():
        cache = Path(tempfile.mkdtemp(prefix="nbcache_", dir=work))
        env = dict(os.environ, NUMBA_CACHE_DIR=str(cache))
        out = str(work / ("k_out" + ("_b" if tree else "")))
        shutil.rmtree(out, ignore_errors=True)
        for args in (["count", str(ROOT / "data"), "--out", out, "-q"], ["report", out]):
            cmd = [sys.executable, "-c", _COMPILE_LOG, tree or "", *args]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
            for entry in json.loads(proc.stdout.strip().splitlines()[-1]):
                rec.add(
                    "kernel compile (empty cache)" + label,
                    entry["kernel"],
                    "CPU time",
                    entry["cpu_s"],
                    "s",
                    SECTION,
                    command=args[0],
                    signature=entry["signature"],
                )
        shutil.rmtree(cache, ignore_errors=True)


#: Peak RSS of a count through the library with some settings changed, with the settings the
#: CLI makes for its process (on a checkout that has them).
_SETTINGS_RUN = r"""
import json, sys
import seqcount.engine.process as process
process.bound_heap_retention()
for name in ("use_system_arrow_pool", "skip_numba_cffi"):
    getattr(process, name, lambda: None)()
import seqcount
from seqcount.config import CountConfig
settings = json.loads(sys.argv[2])
depth = settings.pop("prefetch_depth", None)
if depth is not None:  # the read-ahead of engine/single.py, in chunks (not decoded batches)
    import seqcount.engine.single as single
    ahead = single.prefetch
    def chunks_ahead(items, depth=1, name="seqcount-reader"):
        return ahead(items, chunks if name == "seqcount-tokenize" else depth, name)
    chunks, single.prefetch = depth, chunks_ahead
seqcount.count([sys.argv[1]], config=CountConfig(**settings), out=sys.argv[3])
"""


#: A one-document ``count`` through the CLI in this process, then this process's resident
#: memory by mapping (``/proc/self/smaps``, Linux): what the floor of every run's peak RSS is.
_RESIDENT_RUN = r"""
import collections, json, sys
from seqcount.cli import cli
cli.main(["count", sys.argv[1], "--out", sys.argv[2], "-q"], standalone_mode=False)
rss, name = collections.Counter(), None
for line in open("/proc/self/smaps"):
    parts = line.split()
    if len(parts) >= 5 and "-" in parts[0] and ":" in parts[3]:  # a mapping's header line
        path = parts[5] if len(parts) > 5 else ""
        base = path.rsplit("/", 1)[-1]
        if base.startswith("libllvmlite"):
            name = "llvmlite's LLVM library (code and data mapped from libllvmlite.so)"
        elif ".so" in base:
            name = "other shared libraries (numpy, pyarrow, Python, ...)"
        else:
            name = "heap, anonymous memory and the rest"
    elif parts[0] == "Rss:" and name is not None:
        rss[name] += int(parts[1])
print(json.dumps({k: v / 1024 for k, v in rss.items()}))
"""


def _resident(rec: Recorder, work: Path, one: Path, repeats: int) -> None:
    """The one-document run's resident memory by mapping (medians of ``repeats`` runs)."""
    if not Path("/proc/self/smaps").exists():
        return
    runs = []
    for _ in range(repeats):
        cmd = [sys.executable, "-c", _RESIDENT_RUN, str(one), str(work / "r_one")]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    total = [sum(r.values()) for r in runs]
    for name in runs[0]:
        rec.add("resident memory at the end of a one-document count", name, "RSS",
                median([r.get(name, 0.0) for r in runs]), "MiB", SECTION)  # fmt: skip
    rec.add("resident memory at the end of a one-document count", "all", "RSS", median(total),
            "MiB", SECTION)  # fmt: skip


def _memory_section(rec: Recorder, work: Path, corpus: Path, repeats: int, baseline) -> None:
    """Peak RSS: data/austen against 8 copies of it (flat?), and two settings' savings."""
    eight = work / "austen_8x"
    for k in range(8):
        (eight / f"copy{k}").mkdir(parents=True, exist_ok=True)
        for p in sorted((ROOT / "data" / "austen").glob("*.parquet")):
            if not (eight / f"copy{k}" / p.name).exists():
                shutil.copyfile(p, eight / f"copy{k}" / p.name)
    variants = {}
    for label, tree in {"": None, " (baseline)": baseline}.items():
        if label and not baseline:
            continue
        for name, path in (("data/austen", ROOT / "data" / "austen"), ("8 x data/austen", eight)):
            out = str(work / ("m_" + name.replace(" ", "").replace("/", "_") + label[:3]))
            variants[name + label] = _seqcount(tree) + ["count", str(path), "--out", out, "-q"]
    settings = {
        "default": {},
        "chunk_bytes 1 MiB": {"chunk_bytes": 1 << 20},
        "no block sketches": {"blocks": False},
        "chunk_bytes 1 MiB, no block sketches": {"chunk_bytes": 1 << 20, "blocks": False},
        "read ahead 1 chunk (not 2)": {"prefetch_depth": 1},
        "chunk_bytes 1 MiB, read ahead 1 chunk": {"chunk_bytes": 1 << 20, "prefetch_depth": 1},
    }
    for name, cfg in settings.items():
        out = str(work / ("m_set_" + str(len(variants))))
        variants["synthetic corpus, " + name] = [
            sys.executable,
            "-c",
            _SETTINGS_RUN,
            str(corpus),
            json.dumps(cfg),
            out,
        ]
    samples = _round_robin(variants, repeats)
    rss = {k: median([s["maxrss_mb"] for s in v]) for k, v in samples.items()}
    for name, v in samples.items():
        rec.add(
            "peak RSS",
            name,
            "peak RSS",
            rss[name],
            "MiB",
            SECTION,
            samples=[s["maxrss_mb"] for s in v],
            wall_s=median([s["wall_s"] for s in v]),
        )
    for label in ("", " (baseline)") if baseline else ("",):
        rec.add(
            "peak RSS",
            "8 x data/austen / data/austen" + label,
            "ratio",
            rss["8 x data/austen" + label] / rss["data/austen" + label],
            "x",
            SECTION,
        )
    rec.add(
        "peak RSS",
        "data/austen, default options",
        "peak RSS",
        rss["data/austen"],
        "MiB",
        SECTION,
        target=RSS_TARGET,
        target_met=rss["data/austen"] <= RSS_GOAL_MIB,
    )


def run(mode: str, out: Path, work: Path) -> int:
    t_start = time.perf_counter()
    digest = source_digest()
    meta = hardware_and_versions(mode, sys.argv[1:])
    work.mkdir(parents=True, exist_ok=True)
    # as an installed package: compiled bytecode written once and used, not compiled every run
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    corpus = _corpus(work, 3e7)
    one = work / "startup_one.txt"
    one.write_text("The quick brown fox jumps over the lazy dog.\n")
    baseline = os.environ.get("BENCH_BASELINE")  # another checkout, run interleaved
    meta["baseline"] = baseline
    repeats = 2 if mode == "quick" else 5
    # BENCH_STARTUP_SECTIONS=floor,compile (say) runs only those sections
    sections = os.environ.get("BENCH_STARTUP_SECTIONS", "cli,pool,floor,compile,memory")
    sections = sections.split(",")
    rec = Recorder()
    if "pool" in sections:
        _pool_section(rec, one, repeats)
    if "cli" in sections:
        _cli_section(rec, work, corpus, one, repeats, baseline)
    if "floor" in sections:
        _floor_section(rec, work, one, repeats + 2, baseline)
        log("floor done")
    if "compile" in sections:
        _compile_section(rec, work, 1 if mode == "quick" else 2, baseline)
        log("compile done")
    if "memory" in sections:
        _memory_section(rec, work, corpus, repeats, baseline)
        _resident(rec, work, one, repeats)
        log("memory done")
    meta["settings"] = {"repeats": repeats, "corpus": str(corpus), "sections": sections}
    return finish_run(rec, meta, digest, t_start, out, "startup", render)


def _pool_section(rec: Recorder, one: Path, repeats: int) -> None:
    """Worker start-up: a pool of 2, ``fork`` against ``spawn``."""
    pool: dict[str, list[dict]] = {"fork": [], "spawn": []}
    for r in range(repeats + 1):
        for method in pool:
            done = subprocess.run([sys.executable, "-c", _POOL_SCRIPT, method, str(one)],
                                  cwd=ROOT, capture_output=True, text=True, check=True)  # fmt: skip
            if r:
                pool[method].append(json.loads(done.stdout))
    for method, v in pool.items():
        cpu = median([x["cpu_per_worker"] for x in v])
        rec.add(f"worker pool ({method})", "2 workers each count one document",
                "CPU per worker", cpu, "s", SECTION, target="<= 0.3 s", target_met=cpu <= 0.3,
                samples=[x["cpu_per_worker"] for x in v])  # fmt: skip
        rec.add(f"worker pool ({method})", "2 workers each count one document",
                "wall time, pool made to both done", median([x["seconds"] for x in v]), "s",
                SECTION, samples=[x["seconds"] for x in v])  # fmt: skip


def _cli_section(rec: Recorder, work: Path, corpus: Path, one: Path, repeats: int,
                 baseline) -> None:  # fmt: skip
    """Whole ``seqcount count`` processes on the synthetic corpus, its half, one shard."""
    first = sorted(corpus.glob("part-*.parquet"))[0]
    cli = [sys.executable, "-m", "seqcount", "count"]
    variants = {
        "one document": cli + [str(one), "--out", str(work / "o_one")],
        "corpus, --jobs 1": cli + [str(corpus), "--out", str(work / "o_j1")],
        "corpus, --jobs 2": cli + [str(corpus), "--out", str(work / "o_j2"), "--jobs", "2"],
        "one shard, --jobs 1": cli + [str(first), "--out", str(work / "o_s1")],
        "one shard, --jobs 2": cli + [str(first), "--out", str(work / "o_s2"), "--jobs", "2"],
        "half corpus, --jobs 1": cli + [str(corpus) + "_half", "--out", str(work / "o_h1")],
    }
    if baseline:
        for name, cmd in list(variants.items()):
            args = [a.replace(str(work / "o_"), str(work / "b_")) for a in cmd[len(cli) :]]
            variants[name + " (baseline)"] = _seqcount(baseline) + ["count", *args]
    samples: dict[str, list[dict]] = {k: [] for k in variants}
    err = work / "startup_err.txt"
    for r in range(repeats + 1):  # the first round warms the cache and is dropped
        for name, cmd in variants.items():
            res = peak_rss(cmd, err)
            if r:
                samples[name].append(res)
        log(f"round {r}/{repeats} done")
    wall = {k: median([s["wall_s"] for s in v]) for k, v in samples.items()}
    rss = {k: median([s["maxrss_kib"] / 1024 for s in v]) for k, v in samples.items()}
    for name in variants:
        rec.add("seqcount count (CLI)", name, "wall time", wall[name], "s", SECTION,
                samples=[s["wall_s"] for s in samples[name]], peak_rss_mb=rss[name])  # fmt: skip
    rec.add("seqcount count (CLI)", "one document, warm cache", "start-up", wall["one document"],
            "s", SECTION, target="<= 0.5 s", target_met=wall["one document"] <= 0.5)  # fmt: skip
    for what in ("corpus", "one shard"):
        ratio = wall[f"{what}, --jobs 2"] / wall[f"{what}, --jobs 1"]
        rec.add("seqcount count (CLI)", f"{what}: --jobs 2 / --jobs 1", "time ratio", ratio, "x",
                SECTION, target="<= 1", target_met=ratio <= 1.0)  # fmt: skip
    extra = wall["one shard, --jobs 2"] - wall["one shard, --jobs 1"]
    rec.add("seqcount count (CLI)", "one shard: --jobs 2 minus --jobs 1", "extra wall time",
            extra, "s", SECTION)  # fmt: skip
    peak = rss["corpus, --jobs 1"]
    rec.add("seqcount count (CLI)", "corpus, default options", "peak RSS", peak, "MiB", SECTION,
            target=RSS_TARGET, target_met=peak <= RSS_GOAL_MIB)  # fmt: skip
    rec.add("seqcount count (CLI)", "peak RSS corpus / half corpus", "ratio",
            peak / rss["half corpus, --jobs 1"], "x", SECTION)  # fmt: skip
    for name in [k for k in variants if k.endswith(" (baseline)")]:
        now = name[: -len(" (baseline)")]
        rec.add("seqcount count (CLI)", f"{now}: this checkout / baseline", "wall time ratio",
                wall[now] / wall[name], "x", SECTION, peak_rss_mb=rss[name])  # fmt: skip


def render(doc: dict) -> str:
    lines = [
        "# Start-up, worker processes, peak memory (`benchmarks/bench_startup.py`)",
        "",
        f"Run {doc['meta'].get('date_utc', '')}, commit {doc['meta'].get('seqcount_commit')}; "
        "whole CLI processes, medians of round-robin repeats; baseline: "
        f"{doc['meta'].get('baseline') or 'none'}.",
        "",
        "| System | Workload | Metric | Value | Peak RSS (MiB) | Target |",
        "|---|---|---|---:|---:|---|",
    ]
    for r in doc["results"]:
        target = r.get("target", "")
        if target:
            target += ": met" if r.get("target_met") else ": **not met**"
        rss = fmt(r["peak_rss_mb"]) if "peak_rss_mb" in r else ""
        value = fmt(r["value"]) + " " + r["unit"]
        cells = [r["system"], r["workload"], r["metric"], value, rss, target]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    return quick_main(__doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
