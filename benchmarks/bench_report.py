"""The cost of calibrated intervals: block sketches in ``count``, resampling in ``report``.

Run from the project root::

    python -m benchmarks.bench_report            # 36 copies of data/austen (31M tokens), 7 n
    python -m benchmarks.bench_report --quick    # 4 copies, 2 repeats

Per repeat, interleaved, on ``scale`` copies of the bundled ``data/austen`` shards with the
default window sizes (1, 2, 4, 8, 16, 32, 64):

* ``count`` with block sketches (the default) and with ``blocks=False`` (``--no-blocks``):
  their ratio is what the blocks cost a count;
* ``report`` of the counted result (fits, resampling with the default 200 block orders, verdicts;
  no files), and the resampling alone (``resample`` + ``assess`` of every n), and of exactly 256
  synthetic blocks at 7 n: the goal is at most 10 s for 200 orders of 256 blocks at 7 n, and
  small next to the count.

Writes ``<out>/report.json`` and ``<out>/report.md`` (default ``<out>``: benchmarks/results).
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.common import (
    Recorder,
    build_scaled_corpus,
    finish_run,
    fmt,
    hardware_and_versions,
    log,
    median,
    quick_main,
    source_digest,
)

MODES = {"full": dict(scale=36, repeats=3), "quick": dict(scale=4, repeats=2)}
GOAL_S = 10.0


def _resample_all(result, orders: int) -> float:
    """Seconds to resample and assess every n of ``result`` (as ``report`` does)."""
    from seqcount.analysis.bounds import gamma_band
    from seqcount.analysis.drift import assess
    from seqcount.analysis.resample import resample
    from seqcount.reporting.build import MAX_RESAMPLED_BLOCKS

    t0 = time.perf_counter()
    blocks = result.blocks.coarsen(MAX_RESAMPLED_BLOCKS)
    top = float(result.tokens)
    for j, n in enumerate(blocks.ns):
        res = resample(blocks.tokens, blocks.regs[j], n, orders)
        assess(res, top / 100, top, gamma_band("chinchilla"))
    return time.perf_counter() - t0


def _resample_256(orders: int = 200) -> float:
    """Seconds to resample and assess 7 n of exactly 256 blocks (random registers of a
    Pitman-Yor-like growth: block b holds ~2000 * b**0.6 distinct items)."""
    import numpy as np

    from seqcount.analysis.bounds import gamma_band
    from seqcount.analysis.drift import assess
    from seqcount.analysis.resample import resample
    from seqcount.sketches import HLL

    rng = np.random.default_rng(0)
    regs = np.zeros((256, 1 << 12), dtype=np.int8)
    for b in range(256):
        h = HLL(12)
        h.update_batch(rng.integers(0, 2**63, size=2000 + 40 * b, dtype=np.uint64) * 2 + 1)
        regs[b] = h.reg
    tokens = np.full(256, 100_000)
    t0 = time.perf_counter()
    for n in (1, 2, 4, 8, 16, 32, 64):
        res = resample(tokens, regs, n, orders)
        assess(res, 2.56e7 / 100, 2.56e7, gamma_band("chinchilla"))
    return time.perf_counter() - t0


def run(mode: str, out: Path, work: Path) -> int:
    import seqcount
    import seqcount.api as api
    from seqcount.config import CountConfig
    from seqcount.reporting.build import MAX_RESAMPLED_BLOCKS

    t_start = time.perf_counter()
    digest = source_digest()
    cfg = MODES[mode]
    work.mkdir(parents=True, exist_ok=True)
    corpus = str(build_scaled_corpus(work, cfg["scale"]))
    with_blocks, without = CountConfig(), CountConfig(blocks=False)
    one = str(build_scaled_corpus(work, 1))
    warm = api.count_corpus(one, with_blocks)  # compile or load every kernel
    api.count_corpus(one, without)
    seqcount.report(warm)
    times = {k: [] for k in ("count", "count --no-blocks", "report", "resampling",
                             "resampling 256 blocks")}  # fmt: skip
    result = None
    for r in range(cfg["repeats"]):
        t0 = time.perf_counter()
        result = api.count_corpus(corpus, with_blocks)
        times["count"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        api.count_corpus(corpus, without)
        times["count --no-blocks"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rep = seqcount.report(result)
        times["report"].append(time.perf_counter() - t0)
        times["resampling"].append(_resample_all(result, 200))
        times["resampling 256 blocks"].append(_resample_256())
        log(f"repeat {r + 1}/{cfg['repeats']}: "
            + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))  # fmt: skip
    rec = Recorder()
    work_name = f"austen x{cfg['scale']}, 7 n"
    for k, ts in times.items():
        goal = GOAL_S if k.startswith("resampling") else None
        rec.add(k, work_name, "seconds", median(ts), "s", "time", samples=ts, goal=goal)
    ratios = [a / b for a, b in zip(times["count"], times["count --no-blocks"])]
    rec.add("count", work_name, "blocks overhead", median(ratios), "x", "ratio", samples=ratios)
    ratios = [a / b for a, b in zip(times["report"], times["count"])]
    rec.add("report", work_name, "report / count", median(ratios), "x", "ratio", samples=ratios)
    blocks = result.blocks
    meta = hardware_and_versions(mode, [])
    meta |= {
        "tokens": result.tokens,
        "scale": cfg["scale"],
        "repeats": cfg["repeats"],
        "blocks_counted": len(blocks),
        "blocks_resampled": len(blocks.coarsen(MAX_RESAMPLED_BLOCKS)),
        "block_bytes": int(blocks.regs.nbytes),
        "orders": rep.resampling.get("orders"),
    }
    return finish_run(rec, meta, digest, t_start, out, "report", render)


def render(doc: dict) -> str:
    meta = doc["meta"]
    by = {(r["system"], r["metric"]): r for r in doc["results"]}
    lines = [
        "# report: the cost of calibrated intervals",
        "",
        f"data/austen x{meta['scale']} ({meta['tokens']:,} words tokens), n = 1, 2, 4, 8, 16, "
        f"32, 64, {meta['repeats']} interleaved repeats, medians. The count keeps "
        f"{meta['blocks_counted']} blocks ({meta['block_bytes'] / 2**20:.1f} MiB of registers "
        f"in sketches.npz); the report resamples {meta['blocks_resampled']} of them in "
        f"{meta['orders']} orders. Goal (issue 19): resampling ≤ {GOAL_S:g} s for 200 orders of "
        "256 blocks at 7 n.",
        "",
        "| run | seconds |",
        "|---|---|",
    ]
    for k in ("count", "count --no-blocks", "report", "resampling", "resampling 256 blocks"):
        lines.append(f"| {k} | {fmt(by[(k, 'seconds')]['value'])} |")
    lines += [
        "",
        f"Block sketches cost the count {fmt(by[('count', 'blocks overhead')]['value'])}x "
        "(count / count --no-blocks); the whole report takes "
        f"{fmt(by[('report', 'report / count')]['value'])}x the count.",
        "",
        f"Machine: {meta['hardware']['cpu_model']}, {meta['hardware']['cpus_usable']} CPUs usable, "
        "shared with other work: the seconds are noisy, the ratios less so.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    return quick_main(__doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
