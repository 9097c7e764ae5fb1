"""Cost of the block sketches (``blocks=True``, the default) against ``--no-blocks``.

Run from the project root::

    python -m benchmarks.bench_blocks            # about a minute on 2 cores
    python -m benchmarks.bench_blocks --repeats 3

In one process, after a warm-up, the default count (7 window sizes, MinHash, written to an
output folder, as ``seqcount count DIR --out OUT`` does) with and without blocks, alternating
``blocks``/``no blocks`` repeat after repeat, on ``data/austen`` and on the shared sample
``/work/shared/corpus-sample`` (if present). Prints the median wall and CPU time (all threads
of the process; less disturbed by other processes on a shared machine) of each and the ratio of
the medians, and the ratio of each adjacent pair (the spread of those says how far to trust the
median ratio), plus the size of ``sketches.npz`` and of the block arrays.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

import seqcount

ROOT = Path(__file__).resolve().parent.parent
CORPORA = {"austen": ROOT / "data" / "austen", "sample": Path("/work/shared/corpus-sample")}


def _run(src: Path, out: str, blocks: bool) -> tuple[float, float]:
    """Wall and CPU seconds (all threads of the process) of one count."""
    shutil.rmtree(out, ignore_errors=True)
    t0, c0 = time.perf_counter(), time.process_time()
    seqcount.count(str(src), out=out, blocks=blocks)
    return time.perf_counter() - t0, time.process_time() - c0


def bench(name: str, src: Path, repeats: int, tmp: str) -> None:
    out = os.path.join(tmp, name)
    _run(src, out, True), _run(src, out, False)  # warm-up: kernels, page cache
    times = {(b, k): [] for b in (True, False) for k in (0, 1)}
    pairs = {0: [], 1: []}
    for i in range(repeats):
        order = (True, False) if i % 2 == 0 else (False, True)
        t = {b: _run(src, out, b) for b in order}
        for b in order:
            for k in (0, 1):
                times[b, k].append(t[b][k])
        for k in (0, 1):
            pairs[k].append(t[True][k] / t[False][k])
    med = {key: float(np.median(v)) for key, v in times.items()}
    _run(src, out, True)
    size = os.path.getsize(os.path.join(out, "sketches.npz"))
    blocks = seqcount.open_run(out).sketches.blocks
    _run(src, out, False)
    size_off = os.path.getsize(os.path.join(out, "sketches.npz"))
    r = seqcount.open_run(out)
    print(
        f"{name}: {r.tokens:,} tokens, {len(r.summary['inputs']['shards'])} shards, "
        f"{len(blocks)} blocks"
    )
    for k, what in ((0, "wall"), (1, "CPU")):
        print(f"  {what} median s: blocks {med[True, k]:.3f}, no blocks {med[False, k]:.3f}; "
              f"ratio of medians {med[True, k] / med[False, k]:.3f}x")  # fmt: skip
        print(f"    pair ratios: {', '.join(f'{p:.3f}' for p in pairs[k])} "
              f"(median {np.median(pairs[k]):.3f})")  # fmt: skip
    print(f"  sketches.npz: {size / 2**20:.2f} MiB with blocks, {size_off / 2**20:.2f} MiB "
          f"without; block arrays in memory {blocks.nbytes / 2**20:.2f} MiB")  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for name, src in CORPORA.items():
            if src.exists():
                bench(name, src, args.repeats, tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
