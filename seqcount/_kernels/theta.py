"""Theta (KMV, bottom-k) sketch updates in Apache DataSketches' hash space
(``seqcount.sketches.ThetaSketch``).

A 64-bit window hash ``h`` becomes the 63-bit value ``v = h >> 1`` (DataSketches keeps 63-bit
hashes so that they compare as signed Java longs). Two ways to keep every ``v`` with
``0 < v < theta``; ``theta`` starts at :data:`THETA_MAX` ``= 2**63 - 1`` (the fraction 1.0):

* :func:`theta_insert` / :func:`theta_rebuild`: an open-addressing table (linear probing, 0
  marks an empty slot, the slot is the low bits of ``v``); at its limit the table keeps the
  ``k`` smallest values and ``theta`` drops to the ``(k+1)``-th smallest (``np.partition``).
  ``ThetaSketch.update_batch`` uses it: the slow, independent oracle of the other way.
* :func:`theta_compact`: a buffer that candidates are appended to, repeats allowed (by the
  HyperLogLog kernel, from the hashes it computes anyway: ``_kernels.hll``), trimmed when full
  to the ``k`` smallest distinct values, sorted.

Whatever the order of the hashes and wherever a stream is cut into batches, a last rebuild or
compaction leaves the ``k`` smallest distinct values seen and ``theta`` = the ``(k+1)``-th
smallest (or all values and ``THETA_MAX`` while at most ``k`` are distinct): every value below
``theta`` is always kept, and a trim's ``theta`` is the ``(k+1)``-th smallest value so far.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .exactset import probe_insert, set_rehash
from .jit import JIT
from .mix import U0, U1

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


@njit(inline="always", **JIT)
def _sort_small(a):
    """Sort a short uint64 array in place (insertion sort; ``ndarray.sort`` when long)."""
    m = a.shape[0]
    if m > 48:
        a.sort()
        return
    for i in range(1, m):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@njit(**JIT)
def theta_compact(buf, count, k, theta, tmp):
    """Trim a candidate buffer to the sketch it holds, in place.

    ``buf[:count]`` holds values in ``(0, theta)``, repeats allowed (the sketch of an earlier
    call, then candidates appended since). Afterwards ``buf[:r]`` holds the ``min(k,
    distinct)`` smallest distinct values, sorted, and the returned ``theta`` is the
    ``(k+1)``-th smallest distinct value if there are more than ``k`` (else ``theta``
    unchanged): the state of a theta sketch fed the same values, in any order.

    The values lie evenly in ``(0, theta)``: one counting pass puts them in about
    ``count / 2`` buckets by their top bits (into ``tmp``, uint64, at least ``count`` long),
    then buckets are sorted one by one, smallest first, until ``k + 1`` distinct values are
    found (about 20 ns per value where a full sort took 50).

    Returns:
        (r, theta).
    """
    if count == 0:
        return count, theta
    bits = 1
    while (np.int64(1) << bits) < count // 2:
        bits += 1
    top = 64
    while top > 1 and (theta >> np.uint64(top - 1)) == U0:
        top -= 1
    shift = np.uint64(max(top - bits, 0))
    nb = (np.int64(1) << bits) + 1
    start = np.zeros(nb + 1, dtype=np.int64)
    for i in range(count):
        start[np.int64(buf[i] >> shift) + 1] += 1
    for b in range(nb):
        start[b + 1] += start[b]
    fill = start[:nb].copy()
    for i in range(count):
        v = buf[i]
        b = np.int64(v >> shift)
        tmp[fill[b]] = v
        fill[b] += 1
    r = 0
    last = U0
    for b in range(nb):
        part = tmp[start[b] : start[b + 1]]
        _sort_small(part)
        for v in part:
            if v != last:
                if r == k:  # the (k+1)-th distinct value: the new theta, dropped with all above
                    return r, v
                buf[r] = v
                r += 1
                last = v
    return r, theta


@njit(**JIT)
def theta_compact_set(buf, count, k, theta, tmp, table):
    """:func:`theta_compact`, then ``table`` made the open-addressing set of the values kept
    (0 marks an empty slot): the candidates of the HyperLogLog kernel's theta sketches and
    their set (``seqcount._kernels.hll``).

    Returns:
        (r, theta).
    """
    table[:] = U0  # one pass over the memory: cheaper than a probe for each value it held
    r, theta = theta_compact(buf, count, k, theta, tmp)
    mask = np.uint64(table.shape[0] - 1)
    for i in range(r):
        probe_insert(table, mask, buf[i])
    return r, theta
