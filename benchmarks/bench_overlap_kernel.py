"""Where the theta sketches' time goes in the counting kernel: ``hll_update_windows`` with
each set of theta sketches against none, on one thread.

Run from the project root::

    python -m benchmarks.bench_overlap_kernel            # the 32M-token multilingual corpus
    python -m benchmarks.bench_overlap_kernel --quick    # 2M tokens, 3 repeats

The tokens of the multilingual corpus of :mod:`benchmarks.multilingual` (the corpus of
``e2e_peers``) are counted as a run counts them: 7 n (1, 2, ..., 64), HyperLogLog++ p = 16
with the HIP estimates and block registers, in pieces of about a million tokens (whole
documents), one numba thread. Each set of theta sketches is fed by the same kernel calls (see
:data:`SETS`); the shards' sets are emptied at each of the 4 shards' ends, as ``count`` does.
The configurations run interleaved, ``repeats`` times; reported: the median time per window
and its difference to the kernel without theta sketches. Writes ``<out>/overlap_kernel.json``
and ``.md``, and (a full run into the default ``--out``) the table of docs/overlap.md between
:data:`BEGIN` and :data:`END`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from benchmarks.baselines import multilingual_tokens
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
    write_between,
)

MODES = {
    "full": dict(tokens=32_000_000, repeats=7),
    "quick": dict(tokens=2_000_000, repeats=3),
}
NS = (1, 2, 4, 8, 16, 32, 64)
#: Tokens per kernel call: about what a run's 4 MiB piece of words text holds.
PIECE = 1 << 20
#: The configurations: the nominal size ``k`` of each set of theta sketches, and whether the
#: set is a shard's (emptied at each shard's end). ``()``: no theta sketches.
SETS = {
    "no theta sketches (--overlap none)": (),
    "one set of k = 16 (keeps almost nothing)": ((16, False),),
    "the shards' sketches of 2^8 alone": ((1 << 8, True),),
    "the whole input's sketch of 2^14 alone": ((1 << 14, False),),
    "both (the default)": ((1 << 8, True), (1 << 14, False)),
}
DOC = ROOT / "docs" / "overlap.md"
BEGIN = "<!-- the table below is written by benchmarks/bench_overlap_kernel.py -->"
END = "<!-- end of the table written by benchmarks/bench_overlap_kernel.py -->"


def calls(doc: np.ndarray, firsts: list[int]) -> list[tuple[int, int, bool]]:
    """``(d0, d1, shard ends)``: whole documents of about :data:`PIECE` tokens, never across
    a shard's end."""
    out = []
    for a, b in zip(firsts, firsts[1:]):
        d = a
        while d < b:
            e = min(int(np.searchsorted(doc, doc[d] + PIECE, side="right")) - 1, b)
            e = max(e, d + 1)
            out.append((d, e, e == b))
            d = e
    return out


def time_once(piece, win, cuts, sets) -> float:
    """Seconds of the kernel calls of one pass with the theta sketches of ``sets``."""
    from seqcount.hashing import hip_state, hll_update_windows
    from seqcount.sketches.theta import ThetaTables

    regs = np.zeros((len(NS), 1 << 16), np.int8)
    hip = (hip_state(regs, 16), np.zeros(len(NS)))
    blk = np.zeros((len(NS), 1 << 12), np.int8)
    tables = ThetaTables(len(NS), [k for k, _ in sets]) if sets else None
    spent = 0.0
    for d0, d1, shard_end in cuts:
        theta = tables.kernel_args() if tables is not None else None
        t0 = time.perf_counter()
        hll_update_windows(piece, d0, d1, win, regs, hip=hip, blk=blk, theta=theta)
        spent += time.perf_counter() - t0
        for which, (_, per_shard) in enumerate(sets):
            if per_shard and shard_end:  # as count does at a shard's end (not timed)
                tables.sketches(which)
                tables.reset(which)
    return spent


def run(mode: str, out: Path, work: Path) -> int:
    import numba

    from seqcount.hashing import Piece, WindowParams, prefix_into

    t_start = time.perf_counter()
    digest = source_digest()
    cfg = MODES[mode]
    params, tokens, doc, firsts = multilingual_tokens(work, cfg["tokens"])
    prefix = prefix_into(tokens, np.uint64(params.base), np.empty(tokens.shape[0] + 1, np.uint64))
    piece = Piece(prefix, doc)
    win = WindowParams.of(params, NS, 16)
    cuts = calls(doc, firsts)
    windows = int(sum(np.maximum(np.diff(doc) - n + 1, 0).sum() for n in NS))
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for sets in SETS.values():  # warm-up: compile or load every specialisation
            time_once(piece, win, cuts[:2], sets)
        per = {name: [] for name in SETS}
        for r in range(cfg["repeats"]):
            for name, sets in SETS.items():
                per[name].append(time_once(piece, win, cuts, sets) / windows * 1e9)
            last = ", ".join(f"{k.split(' (')[0]} {v[-1]:.2f} ns" for k, v in per.items())
            log(f"repeat {r + 1}/{cfg['repeats']}: {last}")
    finally:
        numba.set_num_threads(old)
    rec = Recorder()
    base = per["no theta sketches (--overlap none)"]
    what = (f"{tokens.shape[0] / 1e6:.2f}M words tokens (multilingual, {doc.shape[0] - 1} docs, "
            f"{len(firsts) - 1} shards), 7 n, {windows / 1e6:.1f}M windows, 1 thread")  # fmt: skip
    for name, ts in per.items():
        rec.add(name, what, "time per window (median)", median(ts), "ns", "kernel", samples=ts)
        extra = [t - b for t, b in zip(ts, base)]
        rec.add(name, what, "above none (median of repeats)", median(extra), "ns", "kernel",
                samples=extra)  # fmt: skip
    meta = hardware_and_versions(mode, [])
    meta |= {"repeats": cfg["repeats"], "benchmark": "benchmarks/bench_overlap_kernel.py",
             "command": "python -m benchmarks.bench_overlap_kernel"
             + (" --quick" if mode == "quick" else "")}  # fmt: skip
    rc = finish_run(rec, meta, digest, t_start, out, "overlap_kernel", render)
    if mode == "full" and Path(out).resolve() == DEFAULT_OUT.resolve():
        doc_ = json.loads((Path(out) / "overlap_kernel.json").read_text())
        write_between(DOC, BEGIN, END, table(doc_))
        log(f"wrote the kernel table of {DOC}")
    return rc


def table(doc: dict) -> str:
    """The kernel table: median ns per window, and above none with its range over repeats."""
    meta = doc["meta"]
    by = {}
    for r in doc["results"]:
        by.setdefault(r["system"], {})[r["metric"]] = r
    lines = [
        f"At {meta.get('seqcount_commit', '?')}, {meta.get('repeats', '?')} interleaved "
        "repeats, one thread (`python -m benchmarks.bench_overlap_kernel`):",
        "",
        "| theta sketches fed | ns a window | above none (range over the repeats) |",
        "|---|---:|---:|",
    ]
    for name, m in by.items():
        t = m["time per window (median)"]["value"]
        above = m["above none (median of repeats)"]
        s = above.get("samples") or [above["value"]]
        cell = "" if name.startswith("no theta") else (
            f"{fmt(above['value'])} ({fmt(min(s))} to {fmt(max(s))})")  # fmt: skip
        lines.append(f"| {name} | {fmt(t)} | {cell} |")
    return "\n".join(lines)


def render(doc: dict) -> str:
    meta = doc["meta"]
    hw = meta.get("hardware", {})
    workload = doc["results"][0]["workload"] if doc["results"] else ""
    return "\n".join([
        "# The theta sketches in the counting kernel", "",
        f"`hll_update_windows`: {workload}; pieces of about {PIECE:,} tokens, HIP and block "
        "registers as in `count`, the shards' sketches emptied at each shard's end.", "",
        table(doc), "",
        f"Machine: {hw.get('cpu_model', '?')}, {hw.get('cpu_count', '?')} cores.", "",
    ])  # fmt: skip


def main(argv=None) -> int:
    return quick_main(__doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
