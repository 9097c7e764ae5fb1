"""The cost of the default overlap sketch in whole ``seqcount count`` processes, with an interval.

Run from the project root::

    python -m benchmarks.bench_overlap_processes            # 31 rounds on 32M tokens
    python -m benchmarks.bench_overlap_processes --quick    # 3 rounds on 2M tokens

Issue 20's goal: the default run (theta sketches) costs at most 1.10x a run with
``--overlap none``, 7 n, on 30M tokens or more. Single runs of this shared machine scatter by
10-30%, so one ratio does not decide it. Here each round runs both commands as whole processes
(start-up and outputs included) on the multilingual corpus of :mod:`benchmarks.multilingual`,
in alternating order, after one warm-up run of each; a round's ratio is the default's wall (and
CPU) time over ``none``'s. Reported: the median of the rounds' ratios with a distribution-free
95% interval for it (order statistics of the rounds: the ``j``-th smallest and largest, with
``j`` the largest rank whose binomial coverage is still 95%), and the verdict: *met* if the
interval lies at or below the goal, *not met* if it lies above, else *undecided* at this many
rounds. Writes ``<out>/overlap_processes.json`` and ``.md``, and (a full run into the default
``--out``) the table of ``docs/overlap.md`` between :data:`BEGIN` and :data:`END`.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

from benchmarks import multilingual
from benchmarks.common import (
    DEFAULT_OUT,
    ROOT,
    Recorder,
    finish_run,
    fmt,
    hardware_and_versions,
    log,
    median,
    quick_main,
    source_digest,
    stamp_lines,
    timed_process,
    write_between,
)

SECTION = "overlap_processes"
GOAL = 1.10
MODES = {
    "full": dict(rounds=31, tokens=32_000_000),
    "quick": dict(rounds=3, tokens=2_000_000),
}
DOC = ROOT / "docs" / "overlap.md"
BEGIN = "<!-- the table below is written by benchmarks/bench_overlap_processes.py -->"
END = "<!-- end of the table written by benchmarks/bench_overlap_processes.py -->"
COMMANDS = {"none": ["--overlap", "none"], "default": []}


def median_interval(xs: list[float], level: float = 0.95) -> tuple[float, float] | None:
    """A distribution-free interval for the median of ``xs``: the ``j``-th smallest and
    ``j``-th largest value, ``j`` the largest rank for which ``P(B < j) * 2 <= 1 - level`` with
    ``B ~ Binomial(len(xs), 1/2)``; ``None`` if even the extremes cover less than ``level``."""
    n = len(xs)
    s = sorted(xs)
    below, j = 0.0, 0
    while True:  # below = P(B <= j - 1) when j is tried as the next rank
        nxt = below + math.comb(n, j) / 2**n
        if 2 * nxt > 1 - level:
            break
        below, j = nxt, j + 1
    if j == 0:
        return None
    return s[j - 1], s[n - j]


def verdict(interval: tuple[float, float] | None, goal: float = GOAL) -> str:
    """``met``, ``not met`` or ``undecided`` for a goal of at most ``goal``."""
    if interval is None:
        return "undecided"
    lo, hi = interval
    return "met" if hi <= goal else "not met" if lo > goal else "undecided"


def run(mode: str, out: Path, work: Path) -> int:
    t_start = time.perf_counter()
    digest = source_digest()
    cfg = MODES[mode]
    meta = hardware_and_versions(mode, sys.argv[1:])
    corpus, manifest = multilingual.corpus(work, cfg["tokens"])
    meta |= {"tokens": manifest["tokens"], "rounds": cfg["rounds"], "goal": GOAL}
    runs = work / "overlap_processes_out"

    def command(name: str) -> list[str]:
        return [sys.executable, "-m", "seqcount", "count", str(corpus), *COMMANDS[name],
                "--quiet", "--force", "--out", str(runs / name)]  # fmt: skip

    for name in COMMANDS:  # warm-up: the kernels' cache, the files in the page cache
        timed_process(command(name))
    samples: dict[str, list[dict]] = {name: [] for name in COMMANDS}
    for r in range(cfg["rounds"]):
        order = list(COMMANDS) if r % 2 == 0 else list(COMMANDS)[::-1]
        for name in order:
            samples[name].append(timed_process(command(name)))
        log(f"round {r + 1}/{cfg['rounds']}: "
            + ", ".join(f"{k} {samples[k][-1]['wall_s']:.2f} s" for k in COMMANDS))  # fmt: skip
    rec = Recorder()
    for name, res in samples.items():
        for key, metric in (("wall_s", "wall time"), ("cpu_s", "CPU time")):
            values = [x[key] for x in res]
            rec.add("seqcount count", name, metric, median(values), "s", SECTION,
                    samples=values)  # fmt: skip
    for key, metric in (("wall_s", "wall time ratio"), ("cpu_s", "CPU time ratio")):
        ratios = [d[key] / n[key] for d, n in zip(samples["default"], samples["none"])]
        interval = median_interval(ratios)
        rec.add("default / --overlap none", "ratio of each round", metric, median(ratios), "x",
                SECTION, samples=ratios, interval=interval,
                verdict=verdict(interval) if key == "wall_s" else None)  # fmt: skip
    code = finish_run(rec, meta, digest, t_start, out, "overlap_processes", render)
    if mode == "full" and Path(out) == DEFAULT_OUT:
        write_between(DOC, BEGIN, END, table(rec.results, meta))  # = doc_table of the file
        log(f"wrote the table of {DOC}")
    return code


def table(results: list[dict], meta: dict) -> str:
    """The markdown table of a run's results (also the table of docs/overlap.md)."""
    lines = [
        f"At {meta.get('seqcount_commit')}, {meta.get('rounds')} rounds of whole processes on "
        f"{meta.get('tokens', 0):,} words tokens, 7 n; the median of the rounds' ratios with its "
        f"95% interval; goal: at most {meta.get('goal', GOAL):.2f}x.",
        "",
        "| what | median | 95% interval | rounds | goal |",
        "|---|---:|---|---|---|",
    ]
    for r in results:
        if r["unit"] == "x":
            lo_hi = r.get("interval")
            interval = f"{fmt(lo_hi[0])} to {fmt(lo_hi[1])}" if lo_hi else "too few rounds"
            rounds = ", ".join(fmt(x) for x in r["samples"])
            goal = r.get("verdict") or ""
            lines.append(f"| default / `--overlap none`, {r['metric']} | {fmt(r['value'])}x "
                         f"| {interval} | {rounds} | {goal} |")  # fmt: skip
        else:
            lines.append(f"| `{'count' if r['workload'] == 'default' else 'count --overlap none'}`"
                         f", {r['metric']} | {fmt(r['value'])} s | | | |")  # fmt: skip
    return "\n".join(lines)


def doc_table(doc: dict) -> str:
    """The table of docs/overlap.md from a results file's contents."""
    return table(doc["results"], doc["meta"])


def render(doc: dict) -> str:
    return "\n".join(
        ["# Overlap sketch cost in whole processes (`benchmarks/bench_overlap_processes.py`)", ""]
        + stamp_lines(doc["meta"])
        + ["", table(doc["results"], doc["meta"]), ""]
    )


def main(argv=None) -> int:
    return quick_main(__doc__.split("\n")[0], run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
