"""How accurate seqcount's counts are: HyperLogLog++ error against exact counts, HIP, peers, γ.

One section of the suite (``python -m benchmarks``, section ``accuracy``); on its own::

    python -m benchmarks.accuracy --quick    # about 30-40 s (50 s when numba compiles first)
    python -m benchmarks.accuracy            # about 7.5 minutes
    python -m benchmarks.accuracy --out DIR  # writes DIR/accuracy.json, DIR/accuracy.md
                                             # (default: benchmarks/results)

Times on the 2-vCPU development VM (AMD EPYC). Full mode: 250 s for parts 1-2 (most of it the
8 streams of 1e9 items), 120 s for the peers, 65 s for γ. The register-update kernel gains
little from the second vCPU (about 1.1x), so the times hardly depend on the thread count.

Every stream is synthetic and seeded, so the exact answer is known without counting: item ``i``
of trial ``t`` is the 64-bit hash ``splitmix64(seed_t + (i + 1) * 0x9E3779B97F4A7C15)``, a
bijection of ``i``, so the first ``N`` items are exactly ``N`` distinct hashes. They go straight
into registers laid out like seqcount's (:func:`seqcount._kernels._hll_rank`: index from the low
``p`` bits, rank one plus the leading zeros of the rest).

1. **Standard estimator** (``accuracy/standard``): seqcount's HyperLogLog++ estimate
   (:func:`seqcount.sketches.hll_estimates`, datasketch's estimator) at N = 10, 100, ..., 1e9
   (1e7 quick) for every precision p = 4..16, read along each trial's stream (one stream per
   trial gives every smaller N). Each trial feeds all precisions from the same stream. Trials
   come in tiers: many short streams, a few long ones (:data:`MODES`). The kernel keeps a
   histogram of register values per precision and copies it at each checkpoint; the estimate
   is computed from registers rebuilt from that histogram (the estimator depends on the
   histogram only), so it is exactly what :meth:`seqcount.sketches.HLL.count` returns for the
   stream. Reported per (p, N): RMS and mean relative error over the trials, and 1.04/sqrt(m).
2. **HIP** (``accuracy/hip``): the historic-inverse-probability estimate of the same stream
   (Cohen 2014, Ting 2014), computed in :func:`trial_streams` alongside. With the rank of
   ``_hll_rank``, P(rank > r) = 2**-r for r <= top = 64 - p, and rank never exceeds top + 1, so
   a new distinct item grows register i with probability 2**-reg[i] / m if reg[i] <= top and 0
   at top + 1; q = sum_i (that) and every growth first adds 1/q. ``m q`` is kept incrementally
   in exact integers (registers at 0, and the sum of 2**(top - r) over registers at 1..top as
   a uint64), so q depends on the registers only, not on the order of float additions.
   Reported next to the standard estimate, with the ratio and theory sqrt(ln 2 / m) =
   0.833/sqrt(m); pooled over the scale-free range N >= 32 m with a bootstrap interval over
   trials; and checked against seqcount's own HIP kernel (``kernels.hip_replay``) if present.
3. **Peers at equal memory** (``accuracy/peers``), on the first trials' streams, up to 1e6
   items (1e5 quick) because they are fed one Python call per item: datasketch
   ``HyperLogLogPlusPlus(p)`` with ``hashfunc=int`` (the same 2**p int8 registers; its estimate
   must equal seqcount's bit for bit), Apache DataSketches ``hll_sketch`` HLL_8 at lg_k = p and
   HLL_4 at lg_k = p + 1 (both about 2**p bytes), and ``cpc_sketch`` at the lg_k whose compact
   serialized size at the largest N is closest to 2**p bytes. DataSketches hashes every value
   again (MurmurHash3), so it sees a different but equally random set of N distinct values, and
   its HLL and CPC sketches use a HIP estimator while they have seen one ordered stream (no
   merges). Bytes are the compact serialized sizes (``serialize_compact``/``serialize``).
4. **Growth exponent** (``accuracy/gamma``): streams whose exact distinct count is
   U(D) = floor(D**γ) (step D brings a new hash when floor(D**γ) rises, else repeats a uniformly
   drawn earlier one), checkpoints on seqcount's schedule
   (:func:`seqcount.engine.schedule.targets`, 8 per decade), γ fitted by
   :func:`seqcount.analysis.fit.fit_growth` (its default range: the top two decades of D) to the
   standard estimates, to the HIP estimates and to the exact counts; reported: mean
   and SD over trials of γ_hat − γ_exact, and the fit's own sketch error for comparison.

Deterministic: fixed seeds, integer hash streams, trials independent of the thread count.
"""

from __future__ import annotations

import argparse
import collections
import math
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.accuracy_report import fmt_n, markdown, render  # noqa: F401  (markdown: the suite's)
from benchmarks.accuracy_streams import (
    growth_streams,
    idx_rank,
    regs_from_hist,
    stream_hashes,
    trial_streams,
)
from benchmarks.common import (
    ROOT,
    Recorder,
    finish_run,
    hardware_and_versions,
    log,
    source_digest,
)

SECTION = "accuracy"
DEFAULT_OUT = ROOT / "benchmarks" / "results"
SEED = 20240214
HIP_CONST = math.sqrt(math.log(2.0))  # HIP relative standard error * sqrt(m), asymptotically
STD_CONST = 1.04
POOL_FACTOR = 32  # HIP summary: checkpoints with N >= POOL_FACTOR * m (both estimators scale-free)
BOOTSTRAP = 400

#: Sizes per mode. ``tiers``: (stream length, trials); trial t of the study is the same stream
#: in every tier, the first tiers' trials are the longest. ``peer_*``: precisions, trials and
#: stream length of the per-item peers; ``ds_trials``: of those, how many also go through
#: datasketch (slowest, and only there to show equality). ``gamma_*``: the growth-curve study.
MODES = {
    "quick": dict(
        ps=list(range(4, 17)),
        tiers=[(10**7, 64), (10**6, 256), (10**5, 1024), (10**4, 4096)],
        peer_ps=[10, 12],
        peer_trials=64,
        peer_n=10**5,
        ds_trials=2,
        gammas=[0.5, 0.72],
        gamma_ps=[12, 16],
        gamma_d=10**6,
        gamma_trials=128,
    ),
    "full": dict(
        ps=list(range(4, 17)),
        tiers=[(10**9, 8), (10**8, 48), (10**7, 192), (10**6, 768), (10**5, 4096)],
        peer_ps=[10, 12, 14, 16],
        peer_trials=128,
        peer_n=10**6,
        ds_trials=2,
        gammas=[0.5, 0.72],
        gamma_ps=[12, 16],
        gamma_d=10**8,
        gamma_trials=32,
    ),
}

# --------------------------------------------------------------------------- helpers


def trial_seeds(count: int, salt: int = 0) -> np.ndarray:
    """Seeds of trials ``0 .. count-1`` (trial t has the same seed in every part)."""
    return stream_hashes(np.uint64(SEED + salt), 0, count)


def estimates_from_hist(hist: np.ndarray, p: int, chunk: int = 256) -> np.ndarray:
    """seqcount's standard estimate for each histogram row (int64 ``(k, 65)``)."""
    from seqcount.sketches import hll_estimates

    out = np.empty(hist.shape[0], dtype=np.float64)
    for a in range(0, hist.shape[0], chunk):
        out[a : a + chunk] = hll_estimates(regs_from_hist(hist[a : a + chunk], 1 << p))
    return out


def run_streams(ps, tiers) -> dict:
    """Part 1 and 2 streams. Returns ``{"cps", "length" (per trial), "std", "hip"}`` with
    ``std[p]``/``hip[p]`` float ``(trials, checkpoints)`` (NaN past a trial's length)."""
    top = max(n for n, _ in tiers)
    cps = np.array([10**k for k in range(1, round(math.log10(top)) + 1)], dtype=np.int64)
    total = max(t for _, t in tiers)
    seeds = trial_seeds(total)
    length = np.zeros(total, dtype=np.int64)
    start = 0
    for n, t in sorted(tiers, key=lambda x: -x[0]):
        length[start:t] = n
        start = max(start, t)
    psa = np.asarray(ps, dtype=np.int64)
    std = {p: np.full((total, len(cps)), np.nan) for p in ps}
    hip = {p: np.full((total, len(cps)), np.nan) for p in ps}
    for n in sorted({int(x) for x in length}, reverse=True):
        sel = np.flatnonzero(length == n)
        k = int(np.searchsorted(cps, n, side="right"))
        hist = np.zeros((sel.shape[0], k, len(ps), 65), dtype=np.int64)
        hout = np.zeros((sel.shape[0], k, len(ps)), dtype=np.float64)
        t0 = time.perf_counter()
        trial_streams(seeds[sel], cps[:k], psa, hist, hout)
        dt = time.perf_counter() - t0
        log(f"accuracy: {sel.shape[0]} streams of {n:.0e} items x {len(ps)} precisions: {dt:.1f} s")
        for j, p in enumerate(ps):
            est = estimates_from_hist(hist[:, :, j].reshape(-1, 65), p)
            std[p][sel, :k] = est.reshape(sel.shape[0], k)
            hip[p][sel, :k] = hout[:, :, j]
    return {"cps": cps, "length": length, "seeds": seeds, "std": std, "hip": hip}


def _rel(est: np.ndarray, n) -> np.ndarray:
    return est / np.asarray(n, dtype=np.float64) - 1.0


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def _pooled_ratio(std_rel: np.ndarray, hip_rel: np.ndarray, rng) -> tuple[float, float, float]:
    """RMS(hip) / RMS(standard) over every (trial, checkpoint) cell, and a 95% bootstrap
    interval resampling whole trials (checkpoints of one trial are correlated)."""
    ok = ~np.isnan(std_rel)
    s2 = np.where(ok, std_rel**2, 0.0).sum(axis=1)
    h2 = np.where(ok, hip_rel**2, 0.0).sum(axis=1)
    ratio = math.sqrt(h2.sum() / s2.sum())
    t = s2.shape[0]
    idx = rng.integers(0, t, size=(BOOTSTRAP, t))
    boot = np.sqrt(h2[idx].sum(axis=1) / s2[idx].sum(axis=1))
    lo, hi = np.quantile(boot, [0.025, 0.975])
    return ratio, float(lo), float(hi)


# --------------------------------------------------------------------------- parts


def part_estimators(rec: Recorder, cfg: dict) -> dict:
    """Parts 1 and 2: standard and HIP error per (p, N)."""
    ps = cfg["ps"]
    res = run_streams(ps, cfg["tiers"])
    cps, length = res["cps"], res["length"]
    for p in ps:
        m = 1 << p
        for k, n in enumerate(cps):
            live = length >= n
            t = int(live.sum())
            s = _rel(res["std"][p][live, k], n)
            h = _rel(res["hip"][p][live, k], n)
            work = f"p={p}, N={fmt_n(int(n))}, {t} trials"
            common = dict(p=p, cardinality=int(n), trials=t)
            rec.add(
                "seqcount HLL++ standard estimate", work, "RMS relative error", 100 * _rms(s),
                "%", SECTION, part="standard", mean=100 * float(s.mean()),
                theory=100 * STD_CONST / math.sqrt(m), **common,
            )  # fmt: skip
            rec.add(
                "seqcount HIP estimate", work, "RMS relative error", 100 * _rms(h), "%", SECTION,
                part="hip", mean=100 * float(h.mean()), theory=100 * HIP_CONST / math.sqrt(m),
                hip_over_standard=_rms(h) / _rms(s) if _rms(s) > 0 else None, **common,
            )  # fmt: skip
    rng = np.random.default_rng(SEED)
    for p in ps:
        m = 1 << p
        cols = cps >= POOL_FACTOR * m
        if not cols.any():
            continue
        s = _rel(res["std"][p][:, cols], cps[cols])
        h = _rel(res["hip"][p][:, cols], cps[cols])
        keep = ~np.isnan(s).all(axis=1)
        s, h = s[keep], h[keep]
        ratio, lo, hi = _pooled_ratio(s, h, rng)
        ok = ~np.isnan(s)
        n_lo, n_hi = int(cps[cols][0]), int(cps[cols][-1])
        rec.add(
            "HIP / standard (pooled)", f"p={p}, N={fmt_n(n_lo)}..{fmt_n(n_hi)} (N >= "
            f"{POOL_FACTOR}m), {int(keep.sum())} trials, {int(ok.sum())} estimates",
            "RMS ratio HIP / standard", ratio, "", SECTION, part="hip_summary", p=p,
            ci_lo=lo, ci_hi=hi, std_rms_sqrt_m=_rms(s[ok]) * math.sqrt(m),
            hip_rms_sqrt_m=_rms(h[ok]) * math.sqrt(m), std_theory=STD_CONST,
            hip_theory=HIP_CONST, ratio_theory=HIP_CONST / STD_CONST,
            trials=int(keep.sum()), estimates=int(ok.sum()),
        )  # fmt: skip
    check_seqcount_hip(rec, res)
    return res


def check_seqcount_hip(rec: Recorder, res: dict, p: int = 12, n: int = 10**5) -> None:
    """Replay trial 0's first ``n`` items through seqcount's own HIP kernel (if it has one) and
    compare with this module's HIP at every checkpoint."""
    from seqcount import _kernels as kernels

    if not (hasattr(kernels, "hip_replay") and hasattr(kernels, "hip_state")):
        log("accuracy: seqcount.kernels has no hip_replay/hip_state: HIP cross-check skipped")
        return
    cps = res["cps"]
    if p not in res["hip"] or res["length"][0] < n:
        return
    m = 1 << p
    hashes = stream_hashes(res["seeds"][0], 0, n)
    idx, rank = idx_rank(hashes, p, m, 0)
    regs = np.zeros((1, m), dtype=np.int8)
    try:
        st = kernels.hip_state(regs, np.int64(p))
        hip = np.zeros(1, dtype=np.float64)
        flat = regs.reshape(-1)
        worst, equal, compared, start = 0.0, 0, 0, 0
        for k, c in enumerate(cps[cps <= n]):
            kernels.hip_replay(flat, np.int64(m), np.int64(p), st, hip, idx, rank, start, int(c))
            start = int(c)
            mine = res["hip"][p][0, k]
            worst = max(worst, abs(hip[0] / mine - 1.0))
            equal += int(hip[0] == mine)
            compared += 1
    except Exception as e:  # the kernel's signature may move; this is a cross-check only
        log(f"accuracy: seqcount HIP cross-check failed to run ({type(e).__name__}: {e})")
        return
    rec.add(
        "seqcount._kernels.hip_replay vs this module's HIP", f"trial 0, p={p}, N=10..{fmt_n(n)}",
        "checkpoints bit-identical", equal, f"of {compared}", SECTION, part="check",
        max_rel_diff=worst,
    )  # fmt: skip


def _choose_cpc_lgk(dsk, values: list, target: int) -> tuple[int, dict]:
    """The CPC lg_k whose compact size after ``values`` is closest to ``target`` bytes."""
    p = target.bit_length() - 1
    sizes = {}
    for lg in range(max(4, p - 2), min(26, p + 3) + 1):
        s = dsk.cpc_sketch(lg)
        collections.deque(map(s.update, values), 0)
        sizes[lg] = len(s.serialize())
    best = min(sizes, key=lambda lg: abs(math.log(sizes[lg] / target)))
    return best, sizes


def _check_datasketch(rec: Recorder, cfg: dict, res: dict, p: int, cps, common: dict) -> None:
    """datasketch keeps the same registers, so it must give the same estimates as the study's
    standard estimate (checked, not assumed) on the first ``ds_trials`` streams."""
    from datasketch import HyperLogLogPlusPlus

    m, nmax, seeds = 1 << p, cfg["peer_n"], res["seeds"]
    equal = compared = 0
    worst = 0.0
    for t in range(cfg["ds_trials"]):
        values = stream_hashes(seeds[t], 0, nmax).tolist()
        h = HyperLogLogPlusPlus(p=p, hashfunc=int)
        prev = 0
        for k, n in enumerate(cps):
            collections.deque(map(h.update, values[prev:n]), 0)
            prev = int(n)
            mine = res["std"][p][t, k]
            theirs = float(h.count())
            equal += int(theirs == mine)
            compared += 1
            worst = max(worst, abs(theirs / mine - 1.0))
    rec.add(
        "datasketch HyperLogLogPlusPlus", f"p={p}, hashfunc=int, {cfg['ds_trials']} trials, "
        f"N=10..{fmt_n(nmax)}", "estimates identical to seqcount's", equal,
        f"of {compared}", SECTION, max_rel_diff=worst, bytes=m, **dict(common, part="check"),
    )  # fmt: skip


def part_peers(rec: Recorder, cfg: dict, res: dict) -> None:
    """Part 3: datasketch and Apache DataSketches on the first trials' streams."""
    cps_all, seeds = res["cps"], res["seeds"]
    nmax, trials = cfg["peer_n"], cfg["peer_trials"]
    cps = cps_all[cps_all <= nmax]
    if not (res["length"][:trials] >= nmax).all():
        raise ValueError("peer trials must be among the study's streams of at least peer_n items")
    try:
        import datasketches as dsk
    except ImportError:
        dsk = None
        log("accuracy: Apache DataSketches not installed (pip install datasketches): skipped")

    cap = f"N <= {fmt_n(nmax)} (per-item Python updates)"
    for p in cfg["peer_ps"]:
        m = 1 << p
        t0 = time.perf_counter()
        common = dict(part="peers", p=p, trials=trials, cap=cap)
        # seqcount itself on the same streams (from parts 1 and 2)
        for name, key, nbytes in (
            ("seqcount HLL++ standard estimate", "std", m),
            ("seqcount HIP estimate", "hip", m),
        ):
            for k, n in enumerate(cps):
                rel = _rel(res[key][p][:trials, k], n)
                rec.add(
                    name, f"p={p}, N={fmt_n(int(n))}, {trials} trials, {cap}",
                    "RMS relative error", 100 * _rms(rel), "%", SECTION, cardinality=int(n),
                    bytes=nbytes, lg_k=p, **common,
                )  # fmt: skip
        _check_datasketch(rec, cfg, res, p, cps, common)
        if dsk is None:
            continue
        first = stream_hashes(seeds[0], 0, nmax).view(np.int64).tolist()
        lgk_cpc, cpc_sizes = _choose_cpc_lgk(dsk, first, m)
        peers = {
            "DataSketches hll_sketch HLL_8": (p, "HLL_8"),
            "DataSketches hll_sketch HLL_4": (p + 1, "HLL_4"),
            "DataSketches cpc_sketch": (lgk_cpc, "cpc"),
        }
        est = {name: np.empty((trials, len(cps))) for name in peers}
        nbytes = {}
        for t in range(trials):
            values = first if t == 0 else stream_hashes(seeds[t], 0, nmax).view(np.int64).tolist()
            for name, (lg, kind) in peers.items():
                if kind == "cpc":
                    s = dsk.cpc_sketch(lg)
                else:
                    s = dsk.hll_sketch(lg, getattr(dsk.tgt_hll_type, kind))
                prev = 0
                for k, n in enumerate(cps):
                    collections.deque(map(s.update, values[prev:n]), 0)
                    prev = int(n)
                    est[name][t, k] = s.get_estimate()
                if t == 0:
                    blob = s.serialize() if name.endswith("cpc_sketch") else s.serialize_compact()
                    nbytes[name] = len(blob)
        for name, (lg, _) in peers.items():
            for k, n in enumerate(cps):
                rel = _rel(est[name][:, k], n)
                rec.add(
                    name, f"p={p}, lg_k={lg}, N={fmt_n(int(n))}, {trials} trials, {cap}",
                    "RMS relative error", 100 * _rms(rel), "%", SECTION, cardinality=int(n),
                    mean=100 * float(rel.mean()), bytes=nbytes[name], lg_k=lg, **common,
                )  # fmt: skip
        # the goal: seqcount's curve estimate (HIP) no worse than HLL_8 at equal memory, where
        # both are in their HyperLogLog regime (DataSketches is exact while it holds a list)
        sel = cps >= 8 * m
        if sel.any():
            hip = _rel(res["hip"][p][:trials, : len(cps)][:, sel], cps[sel][None, :])
            hll8 = _rel(est["DataSketches hll_sketch HLL_8"][:, sel], cps[sel][None, :])
            ratio, lo, hi = _pooled_ratio(hll8, hip, np.random.default_rng(SEED + p))
            rng_txt = ",".join(fmt_n(int(n)) for n in cps[sel])
            rec.add(
                "seqcount HIP estimate / DataSketches HLL_8", f"p={p}, equal memory (lg_k={p}), "
                f"N={rng_txt} (N >= 8m), {trials} trials", "RMS error ratio", ratio, "x",
                SECTION, part="goal", p=p, interval=[lo, hi],
                target="error at equal memory no worse than DataSketches HLL_8 "
                "(95% interval of the ratio reaches 1 or below)",
                target_met=bool(lo <= 1.0),
            )  # fmt: skip
        rec.add(
            "DataSketches cpc_sketch", f"p={p}: compact bytes at N={fmt_n(nmax)} per lg_k "
            f"(chosen lg_k={lgk_cpc}, closest to {m} B)", "serialized bytes", nbytes[
                "DataSketches cpc_sketch"], "B", SECTION, part="cpc_sizes", p=p,
            sizes=[f"{lg}:{b}" for lg, b in cpc_sizes.items()],
        )  # fmt: skip
        dt = time.perf_counter() - t0
        log(f"accuracy: peers at p={p}, {trials} x {nmax:.0e} items: {dt:.1f} s")


def part_gamma(rec: Recorder, cfg: dict) -> None:
    """Part 4: the growth exponent's error."""
    from seqcount.analysis.fit import fit_growth
    from seqcount.engine.schedule import targets

    dmax, trials = cfg["gamma_d"], cfg["gamma_trials"]
    ps = np.asarray(cfg["gamma_ps"], dtype=np.int64)
    cps = np.asarray(targets(8, dmax), dtype=np.int64)
    for gi, gamma in enumerate(cfg["gammas"]):
        seeds = trial_seeds(trials, salt=1000 + gi)
        hist = np.zeros((trials, len(cps), len(ps), 65), dtype=np.int64)
        hout = np.zeros((trials, len(cps), len(ps)), dtype=np.float64)
        exact = np.zeros((trials, len(cps)), dtype=np.int64)
        t0 = time.perf_counter()
        growth_streams(seeds, float(gamma), cps, ps, hist, hout, exact)
        log(
            f"accuracy: γ={gamma}: {trials} streams of {dmax:.0e}: {time.perf_counter() - t0:.1f} s"
        )
        d = cps.astype(np.float64)
        g_exact = np.array(
            [fit_growth(d, exact[t].astype(np.float64), 1).gamma for t in range(trials)]
        )
        u_end = float(exact[:, -1].mean())
        for j, p in enumerate(ps):
            p = int(p)
            rel_err = STD_CONST / math.sqrt(1 << p)
            std = estimates_from_hist(hist[:, :, j].reshape(-1, 65), p).reshape(trials, -1)
            for name, u in (("standard estimate", std), ("HIP estimate", hout[:, :, j])):
                fits = [fit_growth(d, u[t], 1, rel_err=rel_err) for t in range(trials)]
                err = np.array([f.gamma for f in fits]) - g_exact
                f0 = fits[0]
                rec.add(
                    f"seqcount fit_growth on the {name}",
                    f"γ={gamma}, p={p}, D={fmt_n(int(f0.d_lo))}..{fmt_n(int(f0.d_hi))} "
                    f"({f0.points} checkpoints), {trials} trials",
                    "γ_hat − γ_exact, mean", float(err.mean()), "", SECTION, part="gamma",
                    gamma=gamma, p=p, sd=float(err.std(ddof=1)), rms=_rms(err), trials=trials,
                    gamma_exact=float(g_exact.mean()), u_end=u_end,
                    claimed_sketch_err=f0.gamma_err_sketch, d_lo=f0.d_lo, d_hi=f0.d_hi,
                    points=f0.points,
                    estimator="hip" if name.startswith("HIP") else "standard",
                )  # fmt: skip


def run(rec: Recorder, quick: bool, work: Path, meta: dict) -> None:
    """Add the accuracy records (``section="accuracy"``) to ``rec``."""
    mode = "quick" if quick else "full"
    cfg = MODES[mode]
    meta.setdefault("settings", {})[SECTION] = dict(cfg, seed=SEED, pool_factor=POOL_FACTOR)
    times = meta.setdefault("accuracy_part_runtime_s", {})
    t0 = time.perf_counter()
    log(f"accuracy ({mode}): 1-2. standard and HIP estimates against exact counts")
    res = part_estimators(rec, cfg)
    times["estimators"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    log("accuracy: 3. peers at equal memory")
    part_peers(rec, cfg, res)
    times["peers"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    log("accuracy: 4. growth exponent")
    part_gamma(rec, cfg)
    times["gamma"] = round(time.perf_counter() - t0, 1)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.accuracy",
        description="seqcount's HyperLogLog++ and HIP error against exact counts, peers at "
        "equal memory, growth-exponent error; writes accuracy.json and accuracy.md.",
    )
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer trials")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help=f"output directory ({DEFAULT_OUT})")
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    import seqcount._kernels  # noqa: F401  (seqcount picks numba's threading layer at import)

    mode = "quick" if args.quick else "full"
    meta = hardware_and_versions(mode, argv)
    meta["benchmark"] = "benchmarks/accuracy.py"
    meta["command"] = "python -m benchmarks.accuracy " + " ".join(argv)
    from importlib import metadata

    try:
        meta["versions"]["datasketches"] = metadata.version("datasketches")
    except metadata.PackageNotFoundError:
        meta["versions"]["datasketches"] = None
    digest = meta["seqcount_source_sha256_16"] = source_digest()
    rec = Recorder()
    run(rec, args.quick, Path(args.out), meta)
    return finish_run(rec, meta, digest, t_start, Path(args.out), "accuracy", render)


if __name__ == "__main__":
    sys.exit(main())
