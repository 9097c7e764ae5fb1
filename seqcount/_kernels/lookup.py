"""A static table of 64-bit hashes → key numbers, and window lookups in it (for exact overlap).

The table is open addressing with linear probing at load at most 1/2, as
:mod:`.exactset`; beside each slot's hash it keeps the key's number. The hash 0 marks an empty
slot, so the key 0 (if present) is kept aside as ``zero_id`` (-1 when absent).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit import JIT
from .mix import U0, U1
from .windows import first_window, window_hash


@njit(**JIT)
def table_build(keys, table, ids):
    """Put the distinct hashes ``keys`` into the empty table; ``ids[slot]`` = the key's index.

    Returns the index of the key 0 (-1 if absent), or -2 if a key is repeated.
    """
    mask = np.uint64(table.shape[0] - 1)
    zero_id = -1
    for k in range(keys.shape[0]):
        h = keys[k]
        if h == U0:
            if zero_id >= 0:
                return -2
            zero_id = k
            continue
        slot = h & mask
        while table[slot] != U0:
            if table[slot] == h:
                return -2
            slot = (slot + U1) & mask
        table[slot] = h
        ids[slot] = k
    return zero_id


@njit(inline="always", **JIT)
def table_find(table, ids, zero_id, h):
    """The key number of hash ``h``, or -1."""
    if h == U0:
        return zero_id
    mask = np.uint64(table.shape[0] - 1)
    slot = h & mask
    while True:
        cur = table[slot]
        if cur == h:
            return np.int64(ids[slot])
        if cur == U0:
            return np.int64(-1)
        slot = (slot + U1) & mask


@njit(**JIT)
def table_lookup(table, ids, zero_id, hashes, out):
    """``out[i]`` = the key number of ``hashes[i]``, or -1."""
    for i in range(hashes.shape[0]):
        out[i] = table_find(table, ids, zero_id, hashes[i])


#: Windows hashed before their table slots are read: the reads of a batch do not depend on each
#: other, so their cache misses overlap (about 3x faster than one window at a time on a table
#: larger than the cache).
PROBE_BATCH = 64


@njit(inline="always", **JIT)
def _resolve(hs, ps, m, table, ids, zero_id, head, hit, record, pos, key, c):
    """Look up the ``m`` hashes ``hs`` of windows starting at ``ps``; returns the new ``c``."""
    mask = np.uint64(table.shape[0] - 1)
    for j in range(m):  # independent loads: their misses overlap
        head[j] = table[hs[j] & mask]
    for j in range(m):
        h = hs[j]
        k = np.int64(-1)
        if h == U0:
            k = zero_id
        elif head[j] == h:
            k = np.int64(ids[h & mask])
        elif head[j] != U0:
            slot = ((h & mask) + U1) & mask
            while True:
                cur = table[slot]
                if cur == h:
                    k = np.int64(ids[slot])
                    break
                if cur == U0:
                    break
                slot = (slot + U1) & mask
        if k >= 0:
            if record:
                pos[c] = ps[j]
                key[c] = k
                c += 1
            else:
                hit[k] = 1
    return c


@njit(**JIT)
def filter_build(keys, bits, shift):
    """Set bit ``h >> shift`` of the uint64 words ``bits`` for every hash ``h`` of ``keys``."""
    for k in range(keys.shape[0]):
        b = keys[k] >> np.uint64(shift)
        bits[b >> np.uint64(6)] |= U1 << (b & np.uint64(63))


@njit(**JIT)
def probe_windows(
    prefix, doc, d0, d1, n, base_n, salt, skip, before, table, ids, zero_id, bits, shift, hit,
    record, pos, key,
):  # fmt: skip
    """Look up every sliding ``n``-token window of documents ``d0 .. d1-1`` in the table.

    A window whose bit ``h >> shift`` of the filter ``bits`` (:func:`filter_build`) is clear is
    not in the table and is passed over without reading it. Without ``record``: ``hit[k] = 1``
    for every key ``k`` found. With ``record``: each window found is written as ``pos[c]`` (its
    first token) and ``key[c]`` (its key), ``hit`` untouched.
    See :func:`.windows.first_window` for ``skip`` and ``before``.

    Returns:
        The number of windows written with ``record`` (else 0).
    """
    hs = np.empty(PROBE_BATCH, dtype=np.uint64)
    head = np.empty(PROBE_BATCH, dtype=np.uint64)
    ps = np.empty(PROBE_BATCH, dtype=np.int64)
    c = 0
    m = 0
    sh = np.uint64(shift)
    for d in range(d0, d1):
        for i in range(first_window(doc, d, d0, skip, n, 1, before), doc[d + 1] - n + 1):
            h = window_hash(prefix, i, n, base_n, salt)
            b = h >> sh
            if not (bits[b >> np.uint64(6)] >> (b & np.uint64(63))) & U1:
                continue
            hs[m] = h
            ps[m] = i
            m += 1
            if m == PROBE_BATCH:
                c = _resolve(hs, ps, m, table, ids, zero_id, head, hit, record, pos, key, c)
                m = 0
    if m:
        c = _resolve(hs, ps, m, table, ids, zero_id, head, hit, record, pos, key, c)
    return c


@njit(**JIT)
def verify_windows(tokens, pos, key, count, n, ref_tokens, ref_start, hit):
    """Mark ``hit[key[c]]`` for each recorded window ``c < count`` whose ``n`` token values
    ``tokens[pos[c]:pos[c]+n]`` equal those of its key's reference window
    ``ref_tokens[ref_start[k]:ref_start[k]+n]``.

    Returns:
        The windows whose hash matched but whose tokens did not (hash collisions).
    """
    bad = 0
    for c in range(count):
        k = key[c]
        if hit[k]:
            continue
        i, s = pos[c], ref_start[k]
        same = True
        for t in range(n):
            if tokens[i + t] != ref_tokens[s + t]:
                same = False
                break
        if same:
            hit[k] = 1
        else:
            bad += 1
    return bad
