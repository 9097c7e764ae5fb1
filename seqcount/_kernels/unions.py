"""HyperLogLog++ estimates of growing unions of register arrays: the growth curve of a corpus
whose blocks are read in another order (``seqcount.sketches.prefix_union_estimates``)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .jit import JIT, JIT_PARALLEL
from .mix import U0, U1


@njit(inline="always", **JIT)
def _hllpp(zeros, s, m, top, alpha, raw, bias, threshold):
    """datasketch's HLL++ estimate from the register summary ``(zeros, s)`` (registers at 0,
    and the sum of ``2**(top - r)`` over registers at ``1 <= r <= top``); ``raw``, ``bias``,
    ``threshold``: datasketch's tables for this precision."""
    mf = float(m)
    if zeros > 0:
        lc = mf * math.log(mf / float(zeros))
        if lc <= threshold:
            return lc
    e = alpha * mf * mf / (float(zeros) + float(s) * 2.0 ** (-top))
    if e <= 5.0 * mf:
        # the mean bias of the 6 nearest raw estimates (ties: the earlier entry)
        best = np.full(6, np.inf)
        which = np.zeros(6, dtype=np.int64)
        for t in range(raw.shape[0]):
            dist = (e - raw[t]) ** 2
            if dist < best[5]:
                k = 5
                while k > 0 and dist < best[k - 1]:
                    best[k] = best[k - 1]
                    which[k] = which[k - 1]
                    k -= 1
                best[k] = dist
                which[k] = t
        acc = 0.0
        for k in range(6):
            acc += bias[which[k]]
        e -= acc / 6.0
    return e


@njit(**JIT_PARALLEL)
def prefix_union_estimates(blocks, orders, alpha, raw, bias, threshold):
    """For each order (a row of ``orders``, a permutation of the blocks), the HLL++ estimate of
    the union of its first ``k + 1`` blocks, for every ``k``.

    Args:
        blocks: int8 ``(nb, m)`` registers, one row per block (``m = 2**p``).
        orders: int64 ``(P, nb)``, each row a permutation of ``range(nb)``.
        alpha, raw, bias, threshold: datasketch's HLL++ constant and tables for precision p.

    Returns:
        float64 ``(P, nb)``. One thread per order; the register summary is kept in exact
        integers (as :func:`.hll.hip_state` does), so each estimate is a function of the union's
        registers alone, whatever the number of threads.
    """
    npm, nb = orders.shape
    m = blocks.shape[1]
    p = 0
    while (1 << p) < m:
        p += 1
    top = 64 - p
    out = np.empty((npm, nb), dtype=np.float64)
    for q in prange(npm):
        reg = np.zeros(m, dtype=np.int8)
        zeros = m
        s = U0
        for k in range(nb):
            row = blocks[orders[q, k]]
            for i in range(m):
                r = row[i]
                old = reg[i]
                if r > old:
                    if old == 0:
                        zeros -= 1
                    elif old <= top:
                        s -= U1 << np.uint64(top - old)
                    if r <= top:
                        s += U1 << np.uint64(top - r)
                    reg[i] = r
            out[q, k] = _hllpp(zeros, s, m, top, alpha, raw, bias, threshold)
    return out
