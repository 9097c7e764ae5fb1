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
   (Cohen 2014, Ting 2014), computed in :func:`_trial_streams` alongside. With the rank of
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
from numba import njit, prange

from benchmarks.common import (
    ROOT,
    Recorder,
    esc,
    finish_run,
    hardware_and_versions,
    log,
    source_digest,
)
from seqcount._kernels import _hll_rank  # the rank under test: datasketch's layout

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

# --------------------------------------------------------------------------- kernels

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_U1 = np.uint64(1)


@njit(inline="always", cache=True)
def _mix(seed, i):
    """Item ``i`` of the stream ``seed``: splitmix64 output, a bijection of ``i``."""
    z = seed + (np.uint64(i) + _U1) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def stream_hashes(seed, start, count):
    """Items ``start .. start+count-1`` of stream ``seed`` as uint64."""
    out = np.empty(count, dtype=np.uint64)
    for k in range(count):
        out[k] = _mix(seed, start + k)
    return out


@njit(inline="always", cache=True)
def _add(h, ps, off, reg, hist, big, hip):
    """Add hash ``h`` to every precision's registers; HIP first adds 1/q on a growth.

    ``hist[j]``: register-value histogram of precision ``ps[j]`` (``hist[j, 0]`` = registers at
    0); ``big[j]``: sum of ``2**(top - r)`` over registers at ``1 <= r <= top`` (exact, at most
    ``2**63``), so ``m q = hist[j, 0] + big[j] * 2**-top``."""
    for j in range(ps.shape[0]):
        p = ps[j]
        idx, rank = _hll_rank(h, p)
        r = off[j] + np.int64(idx)
        old = reg[r]
        if rank > old:
            top = 64 - p
            mq = float(hist[j, 0]) + float(big[j]) * 2.0 ** (-top)
            hip[j] += float(np.int64(1) << p) / mq
            if old > 0:
                big[j] -= _U1 << np.uint64(top - old)
            if rank <= top:
                big[j] += _U1 << np.uint64(top - rank)
            hist[j, old] -= 1
            hist[j, rank] += 1
            reg[r] = rank


@njit(inline="always", cache=True)
def _fresh(ps):
    off = np.zeros(ps.shape[0] + 1, dtype=np.int64)
    for j in range(ps.shape[0]):
        off[j + 1] = off[j] + (np.int64(1) << ps[j])
    hist = np.zeros((ps.shape[0], 65), dtype=np.int64)
    for j in range(ps.shape[0]):
        hist[j, 0] = np.int64(1) << ps[j]
    reg = np.zeros(off[ps.shape[0]], dtype=np.int8)
    big = np.zeros(ps.shape[0], dtype=np.uint64)
    hip = np.zeros(ps.shape[0], dtype=np.float64)
    return off, reg, hist, big, hip


@njit(parallel=True, cache=True)
def _trial_streams(seeds, cps, ps, hist_out, hip_out):
    """Stream ``seeds[t]`` up to ``cps[-1]`` items into registers of every precision ``ps``;
    at ``cps[k]`` items copy the histograms to ``hist_out[t, k]`` and HIP to ``hip_out[t, k]``.
    One trial per task: the result does not depend on the number of threads."""
    for t in prange(seeds.shape[0]):
        off, reg, hist, big, hip = _fresh(ps)
        i = 0
        for k in range(cps.shape[0]):
            while i < cps[k]:
                _add(_mix(seeds[t], i), ps, off, reg, hist, big, hip)
                i += 1
            hist_out[t, k] = hist
            hip_out[t, k] = hip


@njit(parallel=True, cache=True)
def _growth_streams(seeds, gamma, cps, ps, hist_out, hip_out, exact_out):
    """Streams with exact distinct count floor(D**gamma) after D items; checkpoints as in
    :func:`_trial_streams`, plus the exact count in ``exact_out[t, k]``."""
    inv = 1.0 / gamma
    for t in prange(seeds.shape[0]):
        off, reg, hist, big, hip = _fresh(ps)
        seed = seeds[t]
        pick = _mix(seed, np.int64(-1))  # the repeat-choice stream's own seed
        u = 0
        next_new = 1  # least D with floor(D**gamma) >= u + 1
        k = 0
        for d in range(1, cps[cps.shape[0] - 1] + 1):
            if d >= next_new:
                h = _mix(seed, u)
                u += 1
                next_new = max(d + 1, np.int64(math.ceil((u + 1.0) ** inv)))
            else:
                x = _mix(pick, d) >> np.uint64(11)
                h = _mix(seed, min(np.int64(float(x) * 2.0**-53 * u), u - 1))
            _add(h, ps, off, reg, hist, big, hip)
            if d == cps[k]:
                hist_out[t, k] = hist
                hip_out[t, k] = hip
                exact_out[t, k] = u
                k += 1


@njit(cache=True)
def _regs_from_hist(hist, m):
    """Registers holding a histogram's values (sorted): same estimate as the originals."""
    out = np.empty((hist.shape[0], m), dtype=np.int8)
    for row in range(hist.shape[0]):
        i = 0
        for v in range(hist.shape[1]):
            for _ in range(hist[row, v]):
                out[row, i] = v
                i += 1
    return out


@njit(cache=True)
def _idx_rank(hashes, p, m, row):
    """Flat register index (row ``row`` of width ``m``) and rank of each hash."""
    idx = np.empty(hashes.shape[0], dtype=np.int64)
    rank = np.empty(hashes.shape[0], dtype=np.int8)
    for k in range(hashes.shape[0]):
        i, r = _hll_rank(hashes[k], p)
        idx[k] = row * m + np.int64(i)
        rank[k] = r
    return idx, rank


# --------------------------------------------------------------------------- helpers


def trial_seeds(count: int, salt: int = 0) -> np.ndarray:
    """Seeds of trials ``0 .. count-1`` (trial t has the same seed in every part)."""
    return stream_hashes(np.uint64(SEED + salt), 0, count)


def estimates_from_hist(hist: np.ndarray, p: int, chunk: int = 256) -> np.ndarray:
    """seqcount's standard estimate for each histogram row (int64 ``(k, 65)``)."""
    from seqcount.sketches import hll_estimates

    out = np.empty(hist.shape[0], dtype=np.float64)
    for a in range(0, hist.shape[0], chunk):
        out[a : a + chunk] = hll_estimates(_regs_from_hist(hist[a : a + chunk], 1 << p))
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
        _trial_streams(seeds[sel], cps[:k], psa, hist, hout)
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


def _fmt_n(n: int) -> str:
    return f"1e{round(math.log10(n))}" if n >= 10 and 10 ** round(math.log10(n)) == n else f"{n:,}"


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
            work = f"p={p}, N={_fmt_n(int(n))}, {t} trials"
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
            "HIP / standard (pooled)", f"p={p}, N={_fmt_n(n_lo)}..{_fmt_n(n_hi)} (N >= "
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
    idx, rank = _idx_rank(hashes, p, m, 0)
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
        "seqcount._kernels.hip_replay vs this module's HIP", f"trial 0, p={p}, N=10..{_fmt_n(n)}",
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
    from datasketch import HyperLogLogPlusPlus

    cap = f"N <= {_fmt_n(nmax)} (per-item Python updates)"
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
                    name, f"p={p}, N={_fmt_n(int(n))}, {trials} trials, {cap}",
                    "RMS relative error", 100 * _rms(rel), "%", SECTION, cardinality=int(n),
                    bytes=nbytes, lg_k=p, **common,
                )  # fmt: skip
        # datasketch: the same registers, so the same estimate (checked, not assumed)
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
            f"N=10..{_fmt_n(nmax)}", "estimates identical to seqcount's", equal,
            f"of {compared}", SECTION, max_rel_diff=worst, bytes=m, **dict(common, part="check"),
        )  # fmt: skip
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
                    name, f"p={p}, lg_k={lg}, N={_fmt_n(int(n))}, {trials} trials, {cap}",
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
            rng_txt = ",".join(_fmt_n(int(n)) for n in cps[sel])
            rec.add(
                "seqcount HIP estimate / DataSketches HLL_8", f"p={p}, equal memory (lg_k={p}), "
                f"N={rng_txt} (N >= 8m), {trials} trials", "RMS error ratio", ratio, "x",
                SECTION, part="goal", p=p, interval=[lo, hi],
                target="error at equal memory no worse than DataSketches HLL_8 "
                "(95% interval of the ratio reaches 1 or below)",
                target_met=bool(lo <= 1.0),
            )  # fmt: skip
        rec.add(
            "DataSketches cpc_sketch", f"p={p}: compact bytes at N={_fmt_n(nmax)} per lg_k "
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
        _growth_streams(seeds, float(gamma), cps, ps, hist, hout, exact)
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
                    f"γ={gamma}, p={p}, D={_fmt_n(int(f0.d_lo))}..{_fmt_n(int(f0.d_hi))} "
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


# --------------------------------------------------------------------------- markdown


def _pct(v) -> str:
    if v is None:
        return ""
    a = abs(v)
    if a >= 10:
        return f"{v:.1f}"
    if a >= 0.1:
        return f"{v:.2f}"
    return f"{v:.2g}" if a >= 0.001 else ("0" if v == 0 else f"{v:.1e}")


def _grid(rows: list[dict], cell, extra_col=None) -> list[str]:
    """A p x N table of ``cell(record)``; ``extra_col`` = (title, fn(p) -> str)."""
    ps = sorted({r["p"] for r in rows})
    ns = sorted({r["cardinality"] for r in rows})
    by = {(r["p"], r["cardinality"]): r for r in rows}
    head = ["p (m)"] + [_fmt_n(n) for n in ns] + ([extra_col[0]] if extra_col else [])
    out = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    trials = [str(by[(ps[0], n)]["trials"]) if (ps[0], n) in by else "" for n in ns]
    out.append("| trials | " + " | ".join(trials) + (" | |" if extra_col else " |"))
    for p in ps:
        cells = [cell(by[(p, n)]) if (p, n) in by else "" for n in ns]
        if extra_col:
            cells.append(extra_col[1](p))
        out.append(f"| {p} ({1 << p:,}) | " + " | ".join(cells) + " |")
    return out


def markdown(results: list[dict], meta: dict) -> str:
    """The accuracy part of the report, from the records of section ``accuracy``."""
    rs = [r for r in results if r.get("section") == SECTION]
    if not rs:
        return ""
    part = collections.defaultdict(list)
    for r in rs:
        part[r.get("part")].append(r)
    std, hip = part["standard"], part["hip"]
    lines = ["## Accuracy", ""]
    settings = (meta.get("settings") or {}).get(SECTION)
    rt = meta.get("accuracy_part_runtime_s") or {}
    if rt:
        lines += [
            "Run time: " + ", ".join(f"{k} {v} s" for k, v in rt.items()) + ".",
            "",
        ]
    if std:
        theory = {r["p"]: r["theory"] for r in std}
        lines += [
            "Synthetic streams of distinct 64-bit hashes (splitmix64 of a counter, so the exact "
            "count of the first N items is N), one stream per trial read at every N; every "
            "precision is fed the same streams. Relative error = estimate / N − 1, in %."
            + (f" Seed {settings['seed']}." if settings else ""),
            "",
            "### Standard HyperLogLog++ estimate (seqcount, = datasketch): RMS relative error, %",
            "",
        ]
        lines += _grid(std, lambda r: _pct(r["value"]), ("1.04/√m", lambda p: _pct(theory[p])))
        lines += ["", "Mean relative error (bias), %:", ""]
        lines += _grid(std, lambda r: _pct(r["mean"]))
    if hip:
        htheory = {r["p"]: r["theory"] for r in hip}
        lines += [
            "",
            "### HIP estimate on the same streams: RMS relative error, % (ratio to the standard "
            "estimate's)",
            "",
        ]
        lines += _grid(
            hip,
            lambda r: (
                f"{_pct(r['value'])} ({r['hip_over_standard']:.2f})"
                if r.get("hip_over_standard") is not None
                else _pct(r["value"])
            ),
            ("0.833/√m", lambda p: _pct(htheory[p])),
        )
    summ = part["hip_summary"]
    if summ:
        lines += [
            "",
            "### HIP against the standard estimate where both are scale-free (N ≥ "
            f"{settings['pool_factor'] if settings else 32}·m), pooled",
            "",
            "RMS·√m is the constant in RMS = c/√m (theory: 1.04 standard, √ln 2 = 0.833 HIP, "
            "ratio 0.80). The interval is a 95% bootstrap over trials.",
            "",
            "| p | workload | standard RMS·√m | HIP RMS·√m | HIP / standard | 95% interval |",
            "|---:|---|---:|---:|---:|---|",
        ]
        for r in summ:
            lines.append(
                f"| {r['p']} | {esc(r['workload'])} | {r['std_rms_sqrt_m']:.3f} | "
                f"{r['hip_rms_sqrt_m']:.3f} | {r['value']:.3f} | "
                f"{r['ci_lo']:.3f}–{r['ci_hi']:.3f} |"
            )
        lines.append(
            f"| theory | | {summ[0]['std_theory']:.3f} | {summ[0]['hip_theory']:.3f} | "
            f"{summ[0]['ratio_theory']:.3f} | |"
        )
    peers = part["peers"]
    if peers:
        lines += [
            "",
            "### Peers at equal memory (same streams): RMS relative error, %",
            "",
            "DataSketches re-hashes every value and, like seqcount's HIP, its HLL and CPC "
            "sketches estimate by HIP while they have seen one ordered stream (no merges). "
            "Bytes: compact serialized size at the largest N (seqcount/datasketch: the int8 "
            "registers).",
            "",
        ]
        ns = sorted({r["cardinality"] for r in peers})
        for p in sorted({r["p"] for r in peers}):
            rows = [r for r in peers if r["p"] == p]
            systems = list(dict.fromkeys(r["system"] for r in rows))
            t = rows[0]["trials"]
            lines += [
                f"p = {p} ({t} trials, {rows[0]['cap']}):",
                "",
                "| system | lg_k | bytes | " + " | ".join(_fmt_n(n) for n in ns) + " |",
                "|---|---:|---:|" + "---:|" * len(ns),
            ]
            for s in systems:
                cell = {r["cardinality"]: r for r in rows if r["system"] == s}
                r0 = next(iter(cell.values()))
                lines.append(
                    f"| {esc(s)} | {r0.get('lg_k', '')} | {r0.get('bytes', ''):,} | "
                    + " | ".join(_pct(cell[n]["value"]) if n in cell else "" for n in ns)
                    + " |"
                )
            lines.append("")
    goal = part["goal"]
    if goal:
        lines += [
            "### seqcount's curve estimate (HIP) against DataSketches HLL_8 at equal memory",
            "",
            "RMS error ratio pooled over the cardinalities where both are HyperLogLogs (N ≥ 8m); "
            "95% bootstrap interval over trials. Below N ≈ m/4 DataSketches stores the values "
            "exactly (its list and set modes) and is near exact; seqcount is not (see the "
            "table above).",
            "",
            "| p | workload | ratio | 95% interval | no worse? |",
            "|---:|---|---:|---|---|",
        ]
        for r in goal:
            lo, hi = r["interval"]
            lines.append(
                f"| {r['p']} | {esc(r['workload'])} | {r['value']:.3f} | {lo:.3f}–{hi:.3f} | "
                f"{'yes' if r['target_met'] else '**no**'} |"
            )
        lines.append("")
    checks = part["check"] + part["cpc_sizes"]
    if checks:
        lines += ["### Checks", "", "| system | workload | metric | value |", "|---|---|---|---:|"]
        for r in checks:
            v = f"{r['value']} {r['unit']}".strip()
            if r.get("max_rel_diff") is not None:
                v += f" (max rel. diff {r['max_rel_diff']:.1g})"
            if r.get("sizes"):
                v += " (lg_k:bytes " + ", ".join(r["sizes"]) + ")"
            lines.append(
                f"| {esc(r['system'])} | {esc(r['workload'])} | {esc(r['metric'])} | {v} |"
            )
    gam = part["gamma"]
    if gam:
        lines += [
            "",
            "### Growth exponent γ of U(D) = D^γ",
            "",
            "Streams whose exact distinct count is floor(D^γ) (a new hash when it rises, else a "
            "uniformly drawn earlier one); checkpoints on seqcount's schedule (8 per decade); γ "
            "fitted by `seqcount.analysis.fit.fit_growth` over its default range (top two "
            "decades). "
            "Error = γ fitted to the estimates − γ fitted to the exact counts of the same "
            "stream. *fit's claim*: the sketch part of `gamma_err` the fit reports.",
            "",
            "| γ | p | D range | U at end | γ_exact | estimator | mean error | SD | fit's claim |",
            "|---:|---:|---|---:|---:|---|---:|---:|---:|",
        ]
        for r in gam:
            drange = f"{_fmt_n(int(r['d_lo']))}..{_fmt_n(int(r['d_hi']))} ({r['points']} pts)"
            lines.append(
                f"| {r['gamma']} | {r['p']} | {drange} | {r['u_end']:,.0f} | "
                f"{r['gamma_exact']:.4f} | {r['estimator']} | {r['value']:+.5f} | {r['sd']:.5f} | "
                f"{r['claimed_sketch_err']:.5f} |"
            )
    return "\n".join(lines) + "\n"


def _render(doc: dict) -> str:
    meta = doc["meta"]
    hw, ver = meta["hardware"], meta["versions"]
    head = [
        "# seqcount accuracy study",
        "",
        f"Generated by `{meta['command'].strip()}` on {meta['date_utc']} ({meta['mode']} mode, "
        f"{meta['total_runtime_s']:.0f} s total). Do not edit: rerun the script.",
        "",
    ]
    if meta.get("seqcount_changed_during_run"):
        head += [
            "**Warning: seqcount's sources changed while this ran; figures mix versions.**",
            "",
        ]
    head += [
        f"- CPU: {hw['cpu_model']} ({hw['machine']}), {hw['cpus_usable']} usable CPUs; numba "
        f"threads {meta['numba_threads']}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in ver.items() if v),
        "",
    ]
    return "\n".join(head) + markdown(doc["results"], meta)


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
    return finish_run(rec, meta, digest, t_start, Path(args.out), "accuracy", _render)


if __name__ == "__main__":
    sys.exit(main())
