"""Theta (KMV, bottom-k) sketch updates in Apache DataSketches' hash space
(``seqcount.sketches.ThetaSketch``).

A 64-bit window hash ``h`` becomes the 63-bit value ``v = h >> 1`` (DataSketches keeps 63-bit
hashes so that they compare as signed Java longs). The sketch keeps every ``v`` with
``0 < v < theta`` in an open-addressing table (linear probing, 0 marks an empty slot, the slot
is the low bits of ``v``); ``theta`` starts at :data:`THETA_MAX` ``= 2**63 - 1`` (the fraction
1.0). The common case of an update is one compare with ``theta``. When the table reaches its
limit, :func:`theta_rebuild` keeps the ``k`` smallest values and lowers ``theta`` to the
``(k+1)``-th smallest (``np.partition``, no full sort).

Whatever the order of the hashes and wherever a stream is cut into batches, a rebuild to
exactly ``k`` values after the last update leaves the ``k`` smallest distinct values seen and
``theta`` = the ``(k+1)``-th smallest (or all values and ``THETA_MAX`` while at most ``k`` are
distinct): every value below ``theta`` is always in the table, and a rebuild's ``theta`` is
the ``(k+1)``-th smallest value seen so far.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .exactset import probe_insert, set_rehash
from .jit import JIT, JIT_PARALLEL
from .mix import U0, U1
from .windows import first_window, window_hash

#: ``theta`` of a sketch that has dropped nothing: ``2**63 - 1``, DataSketches' ``MAX_THETA``.
THETA_MAX = np.uint64((1 << 63) - 1)


@njit(**JIT)
def theta_insert(table, hashes, start, count, theta, limit):
    """Add ``hashes[start:] >> 1`` that lie in ``(0, theta)`` to the table until it holds
    ``limit`` values.

    Args:
        table: power-of-two uint64 open-addressing table (0 = empty slot), updated in place.
        hashes: uint64 window hashes.
        start: index of the first hash to add.
        count: values now in the table.
        theta: uint64 threshold; values at or above it are dropped.
        limit: stop as soon as the table holds this many values (``limit > count``).

    Returns:
        (values now in the table, index of the first hash not yet looked at).
    """
    mask = np.uint64(table.shape[0] - 1)
    n = hashes.shape[0]
    k = start
    while k < n:
        v = hashes[k] >> U1
        k += 1
        if v < theta and v != U0 and probe_insert(table, mask, v):
            count += 1
            if count >= limit:
                break
    return count, k


@njit(**JIT)
def theta_values(table, count):
    """The ``count`` non-zero values of the table, in slot order (a new array)."""
    out = np.empty(count, dtype=np.uint64)
    j = 0
    for i in range(table.shape[0]):
        if table[i] != U0:
            out[j] = table[i]
            j += 1
    return out


@njit(**JIT)
def theta_rebuild(table, count, k):
    """Keep the ``k`` smallest of the ``count > k`` values of the table (in place).

    Returns:
        the new ``theta``: the ``(k+1)``-th smallest value, which is dropped with all above it.
    """
    part = np.partition(theta_values(table, count), k)
    table[:] = U0
    set_rehash(part[:k], table)
    return part[k]


@njit(**JIT)
def theta_windows_one(prefix, doc, d0, d1, n, base_n, salt, skip, step, before, table, count,
                      theta, k, limit):  # fmt: skip
    """Add the ``n``-token windows of documents ``d0 .. d1-1`` (see
    :func:`~seqcount._kernels.windows.window_hashes`) to one theta table (a power of two of
    slots above ``limit``), rebuilding it to ``k`` values (:func:`theta_rebuild`) whenever it
    holds ``limit > k``.

    Returns:
        (values now in the table, theta).
    """
    mask = np.uint64(table.shape[0] - 1)
    for d in range(d0, d1):
        for i in range(first_window(doc, d, d0, skip, n, step, before), doc[d + 1] - n + 1, step):
            v = window_hash(prefix, i, n, base_n, salt) >> U1
            if v < theta and v != U0 and probe_insert(table, mask, v):
                count += 1
                if count >= limit:
                    theta = theta_rebuild(table, count, k)
                    count = k
    return count, theta


@njit(**JIT_PARALLEL)
def theta_update_windows(prefix, doc, d0, d1, ns, bases, salts, skip, stride, before, tables,
                         counts, thetas, k, limit):  # fmt: skip
    """:func:`theta_windows_one` for every window size ``ns[j]`` into ``tables[j]``,
    ``counts[j]``, ``thetas[j]`` (updated in place), one window size per thread: the window
    hashes are computed once and never stored."""
    for j in prange(ns.shape[0]):
        n = ns[j]
        step = n if stride else np.int64(1)
        c, t = theta_windows_one(prefix, doc, d0, d1, n, bases[j], salts[j], skip, step,
                                 before, tables[j], counts[j], thetas[j], k, limit)  # fmt: skip
        counts[j] = c
        thetas[j] = t
