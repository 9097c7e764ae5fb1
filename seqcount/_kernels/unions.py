"""HyperLogLog++ estimates of growing unions of register arrays: the growth curve of a corpus
whose blocks are read in another order (``seqcount.sketches.prefix_union_estimates``)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

from .jit import JIT
from .mix import U0, U1


@njit(**JIT)
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


def prefix_union_estimates(blocks, orders, alpha, raw, bias, threshold):
    """For each order (a row of ``orders``, a permutation of the blocks), the HLL++ estimate of
    the union of its first ``k + 1`` blocks, for every ``k``.

    Args:
        blocks: int8 ``(nb, m)`` registers, one row per block (``m = 2**p``).
        orders: int64 ``(P, nb)``, each row a permutation of ``range(nb)``.
        alpha, raw, bias, threshold: datasketch's HLL++ constant and tables for precision p.

    Returns:
        float64 ``(P, nb)``. The orders are shared out among numba's number of threads, each
        running :func:`union_rows` (no GIL) on its own rows; the register summary is kept in
        exact integers (as :func:`.hll.hip_state` does), so each estimate is a function of the
        union's registers alone, whatever the number of threads. Threads of Python rather than
        a ``parallel=True`` kernel: the same speed, and 1.5 s less compiling on a first run
        (benchmarks/results/startup.md).
    """
    npm, nb = orders.shape
    out = np.empty((npm, nb), dtype=np.float64)
    parts = max(1, min(numba.get_num_threads(), npm))
    cuts = [npm * i // parts for i in range(parts + 1)]
    args = (blocks, orders, alpha, raw, bias, threshold, out)
    if parts == 1:
        union_rows(0, npm, *args)
        return out
    with ThreadPoolExecutor(parts) as pool:
        done = [pool.submit(union_rows, a, b, *args) for a, b in zip(cuts, cuts[1:])]
        for f in done:
            f.result()
    return out


@njit(**JIT)
def union_rows(q0, q1, blocks, orders, alpha, raw, bias, threshold, out):
    """Rows ``q0 .. q1 - 1`` of :func:`prefix_union_estimates` into ``out``."""
    nb = orders.shape[1]
    m = blocks.shape[1]
    p = 0
    while (1 << p) < m:
        p += 1
    top = 64 - p
    reg = np.zeros(m, dtype=np.int8)
    for q in range(q0, q1):
        reg[:] = 0
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
