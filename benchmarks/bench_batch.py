"""Benchmark of shard-by-shard counting: ``--jobs 2`` against ``--jobs 1``, and the time of an
incremental ``--state`` run that adds one shard to eight.

Every figure is the wall time of a ``seqcount count`` CLI process (what a scheduled job pays,
start-up included), as the median of repeats taken in alternating order in the same run, and
is quoted as a ratio against a baseline of that run. The corpus is made of shards of
``SHARD_COPIES`` concatenated copies of the bundled sample (data/austen), so each shard holds
about ``SHARD_COPIES * 873,710`` words tokens.

Run from the project root::

    python -m benchmarks.bench_batch [--quick] [--out DIR]

writes ``DIR/batch.json`` and ``DIR/batch.md``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.common import (
    DEFAULT_OUT,
    Recorder,
    corpus_shards,
    esc,
    finish_run,
    fmt,
    hardware_and_versions,
    log,
    median,
    source_digest,
)

MODES = {
    "quick": {"shard_copies": 1, "repeats": 2},
    # shards of about 10M tokens: a worker's start-up (about 2-4 s) is paid once per run
    "full": {"shard_copies": 12, "repeats": 3},
}
SHARDS = 8
TARGET_SPEEDUP = 1.7


def build_corpus(work: Path, copies: int, shards: int) -> Path:
    """``shards`` Parquet shards ``s00.parquet`` ... each holding ``copies`` times the sample."""
    table = pa.concat_tables([pq.read_table(p) for p in corpus_shards()])
    big = pa.concat_tables([table] * copies)
    d = work / "corpus"
    d.mkdir(parents=True, exist_ok=True)
    for i in range(shards):
        pq.write_table(big, d / f"s{i:02d}.parquet")
    return d


def cli(*args, cpu: list | None = None) -> float:
    """Wall time of one ``seqcount`` CLI process (it must succeed); appends the CPU time
    (user + system) of it and its worker processes to ``cpu``."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "seqcount", *map(str, args)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall


def bench_jobs(rec: Recorder, cfg: dict, corpus: Path, work: Path, tokens: int) -> None:
    variants = {
        "--jobs 1 (numba threads: all cores)": ["--jobs", "1"],
        "--jobs 1 --threads 1": ["--jobs", "1", "--threads", "1"],
        "--jobs 2 (one numba thread each)": ["--jobs", "2"],
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    cpus: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(cfg["repeats"]):
        for name, extra in variants.items():
            # a fresh state each time: every shard is counted
            state = work / f"state-jobs-{r}-{len(times[name])}"
            t = cli("count", corpus, "--out", work / "out-jobs", "-q", "--state", state, *extra,
                    cpu=cpus[name])  # fmt: skip
            shutil.rmtree(state)
            times[name].append(t)
            log(f"  {name}: {t:.2f} s wall, {cpus[name][-1]:.2f} s CPU")
    workload = f"{SHARDS} shards, {tokens:,} words tokens, 7 n, MinHash K=128, --state"
    for name, ts in times.items():
        rec.add(f"seqcount count {name}", workload, "wall time (median)", median(ts), "s",
                "jobs", repeats=ts)  # fmt: skip
        # how many cores the run kept busy: --jobs 2 cannot beat a run that already used c
        # cores by more than cores / c
        busy = [c / t for c, t in zip(cpus[name], ts)]
        rec.add(f"seqcount count {name}", workload, "cores busy (CPU time / wall, median)",
                median(busy), "cores", "jobs", repeats=busy)  # fmt: skip
    one_shard = corpus / "s00.parquet"
    start = {"--jobs 1": [], "--jobs 2": []}
    for _ in range(cfg["repeats"]):
        for name in start:
            start[name].append(cli("count", one_shard, "--out", work / "out-one", "-q",
                                   *name.split()))  # fmt: skip
    rec.add("start-up of --jobs 2 over --jobs 1", f"one shard of {tokens // SHARDS:,} tokens",
            "extra wall time (medians)", median(start["--jobs 2"]) - median(start["--jobs 1"]),
            "s", "jobs")  # fmt: skip
    base = median(times["--jobs 1 (numba threads: all cores)"])
    single = median(times["--jobs 1 --threads 1"])
    two = median(times["--jobs 2 (one numba thread each)"])
    rec.add("--jobs 2 vs --jobs 1", workload, "speed-up (ratio of medians)", base / two, "x",
            "jobs", target=TARGET_SPEEDUP, met=base / two >= TARGET_SPEEDUP)  # fmt: skip
    rec.add("--jobs 2 vs --jobs 1 --threads 1", workload, "speed-up (ratio of medians)",
            single / two, "x", "jobs", target=TARGET_SPEEDUP,
            met=single / two >= TARGET_SPEEDUP)  # fmt: skip


def bench_incremental(rec: Recorder, cfg: dict, corpus: Path, work: Path, tokens: int) -> None:
    """Full run over 9 shards; run over 8 then add the 9th; rerun with nothing new."""
    ninth = corpus / f"s{SHARDS:02d}.parquet"
    shutil.copyfile(corpus / "s00.parquet", ninth)
    full, incr, noop = [], [], []
    for r in range(cfg["repeats"]):
        state = work / f"state-full-{r}"
        full.append(cli("count", corpus, "--out", work / "o", "-q", "--state", state))
        shutil.rmtree(state)
        state = work / f"state-inc-{r}"
        ninth.rename(work / ninth.name)
        cli("count", corpus, "--out", work / "o", "-q", "--state", state)
        (work / ninth.name).rename(ninth)
        incr.append(cli("count", corpus, "--out", work / "o", "-q", "--state", state))
        noop.append(cli("count", corpus, "--out", work / "o", "-q", "--state", state))
        shutil.rmtree(state)
        log(f"  full {full[-1]:.2f} s, +1 shard {incr[-1]:.2f} s, nothing new {noop[-1]:.2f} s")
    workload = f"{SHARDS + 1} shards of {tokens // SHARDS:,} tokens, --state, --jobs 1"
    f, i, z = median(full), median(incr), median(noop)
    rec.add("full run, 9 shards", workload, "wall time (median)", f, "s", "incremental",
            repeats=full)  # fmt: skip
    rec.add("incremental run: 8 reused + 1 new", workload, "wall time (median)", i, "s",
            "incremental", repeats=incr)  # fmt: skip
    rec.add("rerun, nothing new", workload, "wall time (median)", z, "s", "incremental",
            repeats=noop)  # fmt: skip
    rec.add("incremental / full", workload, "time ratio (medians)", i / f, "x", "incremental",
            target=round(1 / 9, 3))  # fmt: skip
    rec.add("incremental - full/9", workload, "constant part (medians)", i - f / 9, "s",
            "incremental")  # fmt: skip


def render_markdown(doc: dict) -> str:
    meta, results = doc["meta"], doc["results"]
    hw = meta["hardware"]
    lines = [
        "# seqcount shard-by-shard benchmark",
        "",
        f"Generated by `{meta['command'].strip()}` on {meta['date_utc']} "
        f"({meta['mode']} mode, {meta.get('total_runtime_s', '?')} s). Do not edit: rerun.",
        "",
        f"- CPU: {hw['cpu_model']}, {hw['cpus_usable']} usable CPUs, {hw['mem_total_gib']} GiB",
        f"- Versions: {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}; "
        f"commit {meta['seqcount_commit']}",
        f"- Corpus: {meta['corpus']}",
    ]
    for section, title in (("jobs", "Worker processes"), ("incremental", "Incremental runs")):
        lines += ["", f"## {title}", "", "| System | Workload | Metric | Value | Unit | Target |"]
        lines.append("|---|---|---|---:|---|---|")
        for r in results:
            if r["section"] != section:
                continue
            target = ""
            if "target" in r:
                target = f"{r['target']}" + (
                    "" if "met" not in r else (" (met)" if r["met"] else " (**not met**)")
                )
            lines.append(
                f"| {esc(r['system'])} | {esc(r['workload'])} | {esc(r['metric'])} "
                f"| {fmt(r['value'], r['unit'])} | {r['unit']} | {target} |"
            )
    lines += [
        "",
        "Wall times are whole CLI processes (about 1-2 s of each is Python start-up and loading",
        "the compiled kernels, paid once per process: workers pay it too, which the start-up row",
        "measures). `--jobs 1` uses numba threads for the sketch updates and reads and tokenizes",
        "in a second thread; `--jobs 2` runs two worker processes of one numba thread each. *Cores",
        "busy* is CPU time (the process and its workers) over wall time: a run that already keeps",
        "c of the machine's cores busy can be sped up by at most cores / c by more processes.",
        "The incremental target is about 1/9 of the full run plus a small constant: the",
        "constant is start-up, reading the eight stored shard results and writing the outputs.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_batch",
        description="Benchmark --jobs and incremental --state runs; writes batch.json/.md.",
    )
    ap.add_argument("--quick", action="store_true", help="smaller shards, fewer repeats")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help="directory for batch.json and .md")
    args = ap.parse_args(argv)
    mode = "quick" if args.quick else "full"
    cfg = MODES[mode]
    t_start = time.perf_counter()
    meta = hardware_and_versions(mode, argv)
    meta["benchmark"] = "benchmarks/bench_batch.py"
    meta["command"] = "python -m benchmarks.bench_batch " + " ".join(argv)
    digest = source_digest()
    rec = Recorder()
    with tempfile.TemporaryDirectory(prefix="seqcount-bench-batch-") as tmp:
        work = Path(tmp)
        corpus = build_corpus(work, cfg["shard_copies"], SHARDS)
        tokens = 873_710 * cfg["shard_copies"] * SHARDS
        meta["corpus"] = (
            f"{SHARDS} Parquet shards, each {cfg['shard_copies']}x data/austen "
            f"({tokens:,} words tokens in all)"
        )
        log("1. --jobs")
        bench_jobs(rec, cfg, corpus, work, tokens)
        log("2. incremental")
        bench_incremental(rec, cfg, corpus, work, tokens)
    return finish_run(rec, meta, digest, t_start, Path(args.out), "batch", render_markdown)


if __name__ == "__main__":
    sys.exit(main())
