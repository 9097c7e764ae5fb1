"""Is the error a theta sketch reports for a containment honest? Small sets in large ones,
and theta against MinHash at equal memory (docs/overlap.md, "which tool for which question").

Run from the project root::

    python -m benchmarks.bench_containment            # a few minutes on 2 cores
    python -m benchmarks.bench_containment --quick    # smaller sets, fewer trials

1. ``small in large``: per trial a large set ``B`` of ``big`` random 64-bit hashes (10^7) and,
   for every size ``|A|`` of 10^3 .. 10^6 and containment ``c`` of 0.5, 0.9 and 1.0, a set
   ``A`` of ``c |A|`` hashes of ``B`` and ``(1 - c) |A|`` of its own; theta sketches at
   ``k = 2**14`` (the default) and :func:`seqcount.analysis.theta.containment`. Reported per
   row: the mean estimate, the observed standard error over the trials, the mean ``err`` the
   estimator reports, their ratio (1 = honest, above 1 = it claims too little error) and the
   coverage of its 95% bounds (the share of trials with the truth inside ``[lower, upper]``).
   With ``--big 100000000`` the large set is 10^8 (hashed in pieces of 10^7), written to
   ``containment_1e+08.json`` and ``.md``.
2. ``equal memory``: theta at ``k = 2**10`` (8 KiB of values) against a MinHash of ``K =
   1024`` permutations (8 KiB), large set 10^6, ``c = 0.5``: MinHash estimates the Jaccard
   similarity ``J`` and, given the exact sizes (more than a MinHash run knows), the
   containment ``J (|A| + |B|) / ((1 + J) |A|)``. Reported: bias and observed standard error of
   each.

Writes ``<out>/containment.json`` and ``.md`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from benchmarks.common import (
    DEFAULT_OUT,
    Recorder,
    finish_run,
    hardware_and_versions,
    log,
    source_digest,
)
from seqcount import _kernels as kernels
from seqcount.analysis import theta as T
from seqcount.sketches import MinHash, ThetaSketch

MODES = {
    "full": dict(big=10**7, sizes=(10**3, 10**4, 10**5, 10**6), trials=40, mh_trials=20),
    "quick": dict(big=10**6, sizes=(10**3, 10**4, 10**5), trials=8, mh_trials=4),
}
CS = (0.5, 0.9, 1.0)
PIECE = 10**7


def _big(rng, big: int, k: int) -> tuple[ThetaSketch, np.ndarray]:
    """A theta sketch of ``big`` random hashes and the first 10^6 of them (to share)."""
    s = ThetaSketch(k)
    head = None
    for lo in range(0, big, PIECE):
        h = rng.integers(0, 2**64, min(PIECE, big - lo), dtype=np.uint64)
        if head is None:
            head = h[: 10**6].copy()
        s.update_batch(h)
    return s, head


def _small(rng, head: np.ndarray, size: int, c: float, k: int) -> ThetaSketch:
    common = int(round(size * c))
    own = rng.integers(0, 2**64, size - common, dtype=np.uint64)
    a = ThetaSketch(k)
    a.update_batch(np.concatenate([head[:common], own]))
    return a


def small_in_large(cfg: dict, rec: Recorder) -> None:
    rng = np.random.default_rng(20)
    k = 1 << 14
    rows = {(s, c): [] for s in cfg["sizes"] for c in CS}
    for t in range(cfg["trials"]):
        b, head = _big(rng, cfg["big"], k)
        for size, c in rows:
            e = T.containment(_small(rng, head, size, c, k), b)
            rows[(size, c)].append((e.estimate, e.err, e.lower <= c <= e.upper))
        if (t + 1) % 10 == 0:
            log(f"small in large: trial {t + 1}/{cfg['trials']}")
    for (size, c), r in rows.items():
        est = np.array([x[0] for x in r])
        err = np.array([x[1] for x in r])
        se = float(np.std(est, ddof=1))
        work = f"A = {size:.0e} in B = {cfg['big']:.0e}, c = {c}"
        sec = "small in large"
        rec.add("theta k=2^14", work, "mean estimate", float(est.mean()), "", sec, truth=c)
        rec.add("theta k=2^14", work, "observed SE", se, "", sec)
        rec.add("theta k=2^14", work, "mean reported err", float(err.mean()), "", sec)
        ratio = se / float(err.mean()) if err.mean() > 0 else None
        rec.add("theta k=2^14", work, "observed / reported", ratio, "x", sec)
        cover = float(np.mean([x[2] for x in r]))
        rec.add("theta k=2^14", work, "coverage of 95% bounds", cover, "", sec, trials=len(r))


def _minhash_containment(sa, sb, size_a: int, size_b: int) -> float:
    j = float(np.mean(sa == sb))
    return j * (size_a + size_b) / ((1 + j) * size_a)


def equal_memory(cfg: dict, rec: Recorder) -> None:
    rng = np.random.default_rng(21)
    big, c, kk = 10**6, 0.5, 1 << 10
    mh = MinHash(kk, 1)
    pa, pb = mh.permutations
    sizes = [s for s in cfg["sizes"] if s < big]
    res = {(s, name): [] for s in sizes for name in ("theta", "minhash")}
    for _ in range(cfg["mh_trials"]):
        hb = rng.integers(0, 2**64, big, dtype=np.uint64)
        tb = ThetaSketch(kk)
        tb.update_batch(hb)
        sig_b = np.full(kk, kernels.MINHASH_EMPTY)
        kernels.minhash_update_hashes(sig_b, pa, pb, hb)
        for s in sizes:
            common = int(s * c)
            ha = np.concatenate([hb[:common], rng.integers(0, 2**64, s - common, dtype=np.uint64)])
            ta = ThetaSketch(kk)
            ta.update_batch(ha)
            res[(s, "theta")].append(T.containment(ta, tb).estimate)
            sig_a = np.full(kk, kernels.MINHASH_EMPTY)
            kernels.minhash_update_hashes(sig_a, pa, pb, ha)
            res[(s, "minhash")].append(_minhash_containment(sig_a, sig_b, s, big))
    for (s, name), v in res.items():
        v = np.array(v)
        system = "theta k=2^10" if name == "theta" else "minhash K=1024"
        work = f"A = {s:.0e} in B = 1e+06, c = {c}, 8 KiB each"
        rec.add(system, work, "bias", float(v.mean() - c), "", "equal memory")
        rec.add(system, work, "observed SE", float(np.std(v, ddof=1)), "", "equal memory")


def render(doc: dict) -> str:
    meta = doc["meta"]
    by: dict = {}
    for r in doc["results"]:
        by.setdefault((r["section"], r["system"], r["workload"]), {})[r["metric"]] = r["value"]
    lines = [
        "# Containment of a small set in a large one: is the reported error honest?",
        "",
        f"`benchmarks/bench_containment.py`, {meta['trials']} trials per row (random 64-bit "
        "hashes, seeded). Observed SE: the spread of the estimates over the trials; reported "
        "err: the mean `err` of `seqcount.analysis.theta.containment` (a quarter of its 95% "
        "interval); coverage: share of trials whose 95% bounds hold the truth.",
        "",
        "| set sizes, truth | mean | observed SE | reported err | observed / reported | coverage |",
        "|---|---:|---:|---:|---:|---:|",
    ]

    def f(x, d=4):
        return "–" if x is None else f"{x:.{d}f}"

    for (sec, _system, work), m in by.items():
        if sec == "small in large":
            lines.append(
                f"| {work} | {f(m['mean estimate'])} | {f(m['observed SE'])} | "
                f"{f(m['mean reported err'])} | {f(m['observed / reported'], 2)} | "
                f"{f(m['coverage of 95% bounds'], 2)} |"
            )
    lines += [
        "",
        f"## Theta against MinHash at equal memory ({meta['mh_trials']} trials)",
        "",
        "| sets | sketch | bias | observed SE |",
        "|---|---|---:|---:|",
    ]
    for (sec, system, work), m in by.items():
        if sec == "equal memory":
            lines.append(f"| {work} | {system} | {f(m['bias'])} | {f(m['observed SE'])} |")
    hw = meta.get("hardware", {})
    lines += ["", f"Machine: {hw.get('cpu_model', '?')}, {hw.get('cpu_count', '?')} cores.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--big", type=int, help="size of the large set (default 1e7; 1e6 quick)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    a = p.parse_args(argv)
    mode = "quick" if a.quick else "full"
    cfg = dict(MODES[mode])
    if a.big:
        cfg["big"] = a.big
    t_start = time.perf_counter()
    digest = source_digest()
    rec = Recorder()
    small_in_large(cfg, rec)
    equal_memory(cfg, rec)
    meta = hardware_and_versions(mode, [])
    meta |= {k: cfg[k] for k in ("big", "trials", "mh_trials")}
    meta["benchmark"] = "benchmarks/bench_containment.py"
    meta["command"] = " ".join(["python -m benchmarks.bench_containment", *(argv or [])])
    name = "containment" if cfg["big"] == MODES[mode]["big"] else f"containment_{cfg['big']:.0e}"
    return finish_run(rec, meta, digest, t_start, a.out, name, render)


if __name__ == "__main__":
    raise SystemExit(main())
