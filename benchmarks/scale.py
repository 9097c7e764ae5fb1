"""How seqcount's memory and time grow with the corpus and with the number of window sizes.

One section of the suite (``python -m benchmarks``), on synthetic text corpora from
:mod:`seqcount.synth` (seeded, so every run sees the same bytes):

* **Memory** (section ``memory``): peak RSS of ``python -m seqcount count`` subprocesses with
  default options on corpora of 1x, 4x and 16x a base size, and the ratio 16x / 1x (a streaming
  counter should stay flat). Also the bytes of the sketches per window size: HyperLogLog
  registers and MinHash signature in memory, and ``sketches.npz`` on disk.
* **Scaling** (section ``scaling``): time of :func:`seqcount.api.count_corpus` in this
  process (after a warm-up, so JIT loading is excluded) against corpus size (1x, 4x, 16x: the
  exponent of time against size should be 1) and against the number of window sizes on the 4x
  corpus (1, 2, 4, 7 and 14 sizes: time should grow about linearly in the windows counted).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.common import Recorder, log, peak_rss
from seqcount import synth

MODES = {
    "quick": dict(base_tokens=1_000_000, repeats=2),
    "full": dict(base_tokens=6_250_000, repeats=3),
}
SCALES = (1, 4, 16)
NS_SETS = ((8,), (1, 8), (1, 2, 4, 8), (1, 2, 4, 8, 16, 32, 64), tuple(range(1, 15)))
#: Peak RSS at 16x over 1x: below this, memory does not grow with the corpus.
RSS_TARGET = 1.3


def text_corpus(work: Path, tokens: int) -> Path:
    """A synthetic ``words`` corpus of exactly ``tokens`` tokens, generated once into ``work``."""

    dest = work / f"synth_text_{tokens}"
    done = dest / ".complete"
    if not done.exists():
        log(f"generating a {tokens / 1e6:.0f}M-token text corpus in {dest}")
        synth.generate(dest, tokens, kind="text", seed=0)
        done.write_text("ok\n")
    return dest


def _fit_exponent(x, y) -> float:
    """Slope of log y against log x (least squares)."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def bench_memory(rec: Recorder, cfg: dict, work: Path, corpora: dict[int, Path]) -> None:
    import json

    peaks = {}
    for scale, path in corpora.items():
        out = work / "out" / f"scale_{scale}x"
        out.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "seqcount", "count", str(path), "--quiet", "--out", str(out)]
        res = peak_rss(cmd, work / "out" / f"scale_{scale}x.stderr")
        summary = json.loads((out / "summary.json").read_text())
        tokens = summary["totals"]["tokens"]
        peaks[scale] = res["maxrss_kib"] / 1024
        rec.add(
            "seqcount count (CLI)", f"synthetic text {scale}x ({tokens / 1e6:.0f}M tokens), "
            "default options", "peak RSS", peaks[scale], "MiB", "memory",
            wall_s=res["wall_s"], tokens=tokens,
        )  # fmt: skip
        log(f"memory {scale}x: {peaks[scale]:.0f} MiB in {res['wall_s']:.1f} s")
    lo, hi = min(peaks), max(peaks)
    ratio = peaks[hi] / peaks[lo]
    rec.add(
        "seqcount count (CLI)", f"peak RSS {hi}x / {lo}x", "ratio", ratio, "x", "memory",
        target=f"< {RSS_TARGET:g}", target_met=bool(ratio < RSS_TARGET),
    )  # fmt: skip

    from seqcount.api import count_corpus
    from seqcount.config import CountConfig

    result = count_corpus(str(corpora[lo]), CountConfig())
    ns = len(result.config.ns)
    s = result.sketches
    reg_bytes = sum(s[n].reg.nbytes for n in result.config.ns) / ns
    mh = [s.minhash_of(n) for n in result.config.ns]
    mh_bytes = sum(m.hashvalues.nbytes for m in mh if m is not None) / ns
    npz = work / "out" / f"scale_{lo}x" / "sketches.npz"
    for what, value in (
        (f"HyperLogLog registers (p={result.config.precision})", reg_bytes),
        (f"MinHash signature (K={result.config.num_perm}), whole input", mh_bytes),
        (f"sketches.npz on disk ({len(result.shards)} shard(s), per-shard MinHash included)",
         npz.stat().st_size / ns),
    ):  # fmt: skip
        rec.add("seqcount", what, "bytes per window size", value, "bytes", "memory")


def bench_scaling(rec: Recorder, cfg: dict, corpora: dict[int, Path]) -> None:
    from seqcount.api import count_corpus
    from seqcount.config import CountConfig

    hll = CountConfig(num_perm=0, overlap="none")
    count_corpus(str(corpora[SCALES[0]]), hll)  # warm-up
    times: dict[int, list[float]] = {k: [] for k in corpora}
    tokens = {}
    for _ in range(cfg["repeats"]):
        for scale, path in corpora.items():
            t0 = time.perf_counter()
            r = count_corpus(str(path), hll)
            times[scale].append(time.perf_counter() - t0)
            tokens[scale] = r.tokens
    med = {k: statistics.median(v) for k, v in times.items()}
    for scale in corpora:
        rec.add(
            "seqcount count_corpus", f"synthetic text {scale}x ({tokens[scale] / 1e6:.0f}M "
            "tokens), 7 n, HLL only", "tokens/s", tokens[scale] / med[scale] / 1e6,
            "M tokens/s", "scaling", seconds=med[scale], samples=times[scale],
        )  # fmt: skip
    slope = _fit_exponent([tokens[k] for k in corpora], [med[k] for k in corpora])
    rec.add(
        "seqcount count_corpus", "time against corpus size (1x to 16x)",
        "exponent of time in size", slope, "", "scaling", target="about 1 (linear)",
        target_met=bool(abs(slope - 1) < 0.15),
    )  # fmt: skip
    log(f"scaling in size: exponent {slope:.3f}")

    mid = corpora[SCALES[1]]
    t_ns = {}
    windows = {}
    for ns in NS_SETS:
        conf = CountConfig(ns=ns, num_perm=0, overlap="none")
        count_corpus(str(mid), conf)  # the first call with a new ns set compiles nothing new
        ts = []
        for _ in range(cfg["repeats"]):
            t0 = time.perf_counter()
            r = count_corpus(str(mid), conf)
            ts.append(time.perf_counter() - t0)
        t_ns[ns] = statistics.median(ts)
        windows[ns] = sum(r.windows.values())
        rec.add(
            "seqcount count_corpus", f"synthetic text {SCALES[1]}x ({r.tokens / 1e6:.0f}M "
            f"tokens), {len(ns)} window sizes ({','.join(map(str, ns))})", "seconds",
            t_ns[ns], "s", "scaling", samples=ts, windows=windows[ns],
            ns_per_window=t_ns[ns] / max(1, windows[ns]) * 1e9,
        )  # fmt: skip
        log(f"scaling, {len(ns)} window sizes: {t_ns[ns]:.2f} s")
    sizes = [len(ns) for ns in NS_SETS]
    slope = _fit_exponent(sizes, [t_ns[ns] for ns in NS_SETS])
    rec.add(
        "seqcount count_corpus", "time against the number of window sizes (1 to 14)",
        "exponent of time in window sizes", slope, "", "scaling",
        note="below 1: reading and tokenizing are shared by all window sizes",
    )  # fmt: skip
    extra = t_ns[NS_SETS[-1]] - t_ns[NS_SETS[0]]
    per = extra / (sizes[-1] - sizes[0])
    rec.add(
        "seqcount count_corpus", f"synthetic text {SCALES[1]}x, each extra window size",
        "seconds per extra window size", per, "s", "scaling",
        share_of_one_size=per / t_ns[NS_SETS[0]],
    )  # fmt: skip


def run(rec: Recorder, quick: bool, work: Path, meta: dict) -> None:
    cfg = MODES["quick" if quick else "full"]
    meta.setdefault("settings", {})["scale"] = dict(
        cfg, scales=list(SCALES), ns_sets=[list(n) for n in NS_SETS]
    )
    corpora = {k: text_corpus(work, cfg["base_tokens"] * k) for k in SCALES}
    log("memory: peak RSS at 1x, 4x, 16x")
    bench_memory(rec, cfg, work, corpora)
    log("scaling: time against size and against window sizes")
    bench_scaling(rec, cfg, corpora)
