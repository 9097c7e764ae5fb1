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
- the start-up of a pool of 2 workers, ``fork`` against ``spawn`` (CPU time per worker).

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
)

SECTION = "startup"

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
    baseline = os.environ.get("BENCH_BASELINE")  # another checkout, run interleaved
    if baseline:
        start = (f"import sys, runpy; sys.path.insert(0, {baseline!r}); "
                 "runpy.run_module('seqcount', run_name='__main__', alter_sys=True)")  # fmt: skip
        for name, cmd in list(variants.items()):
            args = [a.replace(str(work / "o_"), str(work / "b_")) for a in cmd[len(cli) :]]
            variants[name + " (baseline)"] = [sys.executable, "-c", start, "count", *args]
        meta["baseline"] = baseline
    repeats = 2 if mode == "quick" else 5
    samples: dict[str, list[dict]] = {k: [] for k in variants}
    err = work / "startup_err.txt"
    for r in range(repeats + 1):  # the first round warms the cache and is dropped
        for name, cmd in variants.items():
            res = peak_rss(cmd, err)
            if r:
                samples[name].append(res)
        log(f"round {r}/{repeats} done")
    pool: dict[str, list[dict]] = {"fork": [], "spawn": []}
    for r in range(repeats + 1):
        for method in pool:
            done = subprocess.run([sys.executable, "-c", _POOL_SCRIPT, method, str(one)],
                                  cwd=ROOT, capture_output=True, text=True, check=True)  # fmt: skip
            if r:
                pool[method].append(json.loads(done.stdout))
    rec = Recorder()
    for method, v in pool.items():
        cpu = median([x["cpu_per_worker"] for x in v])
        rec.add(f"worker pool ({method})", "2 workers each count one document",
                "CPU per worker", cpu, "s", SECTION, target="<= 0.3 s", target_met=cpu <= 0.3,
                samples=[x["cpu_per_worker"] for x in v])  # fmt: skip
        rec.add(f"worker pool ({method})", "2 workers each count one document",
                "wall time, pool made to both done", median([x["seconds"] for x in v]), "s",
                SECTION, samples=[x["seconds"] for x in v])  # fmt: skip
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
    rec.add("seqcount count (CLI)", "corpus, default options", "peak RSS", peak, "MB", SECTION,
            target="<= 250 MB", target_met=peak <= 250)  # fmt: skip
    rec.add("seqcount count (CLI)", "peak RSS corpus / half corpus", "ratio",
            peak / rss["half corpus, --jobs 1"], "x", SECTION)  # fmt: skip
    for name in [k for k in variants if k.endswith(" (baseline)")]:
        now = name[: -len(" (baseline)")]
        rec.add("seqcount count (CLI)", f"{now}: this checkout / baseline", "wall time ratio",
                wall[now] / wall[name], "x", SECTION, peak_rss_mb=rss[name])  # fmt: skip
    meta["settings"] = {"repeats": repeats, "corpus": str(corpus)}
    return finish_run(rec, meta, digest, t_start, out, "startup", render)


def render(doc: dict) -> str:
    lines = [
        "# Start-up, worker processes, peak memory (`benchmarks/bench_startup.py`)",
        "",
        f"Run {doc['meta'].get('date_utc', '')}, commit {doc['meta'].get('seqcount_commit')}; "
        "whole CLI processes, medians of round-robin repeats; baseline: "
        f"{doc['meta'].get('baseline') or 'none'}.",
        "",
        "| System | Workload | Metric | Value | Peak RSS (MB) | Target |",
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
