"""The numba kernels of the accuracy study (:mod:`benchmarks.accuracy`): seeded streams of
distinct 64-bit hashes (splitmix64 of a counter) fed into HyperLogLog registers laid out like
seqcount's, recording the register histogram and the HIP estimate at every checkpoint."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from seqcount._kernels import _hll_rank  # the rank under test: datasketch's layout

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
def trial_streams(seeds, cps, ps, hist_out, hip_out):
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
def growth_streams(seeds, gamma, cps, ps, hist_out, hip_out, exact_out):
    """Streams with exact distinct count floor(D**gamma) after D items; checkpoints as in
    :func:`trial_streams`, plus the exact count in ``exact_out[t, k]``."""
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
def regs_from_hist(hist, m):
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
def idx_rank(hashes, p, m, row):
    """Flat register index (row ``row`` of width ``m``) and rank of each hash."""
    idx = np.empty(hashes.shape[0], dtype=np.int64)
    rank = np.empty(hashes.shape[0], dtype=np.int8)
    for k in range(hashes.shape[0]):
        i, r = _hll_rank(hashes[k], p)
        idx[k] = row * m + np.int64(i)
        rank[k] = r
    return idx, rank
