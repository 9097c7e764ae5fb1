"""A static table of the window hashes of a small set (an evaluation set), and the lookup of a
large corpus's windows in it (for exact overlap).

The set is kept as its ``stream``: the hash of every window in reading order, repeats
included. Its distinct hashes are the keys, numbered in order of first appearance, so
``inverse[w]``, the key of window ``w``, grows along the stream except at repeats. The table is
open addressing with linear probing at load at most 1/2, as :mod:`.exactset`; beside each
slot's hash it keeps the stream position where the hash first appears. The hash 0 marks an
empty slot, so the first position of the hash 0 (if present) is kept aside as ``zero_pos``
(-1 when absent).

The lookup follows runs: a corpus window that matches stream position ``p`` is often followed
by one matching ``p + 1`` (a passage copied from the small set), which is checked against
``stream[p + 1]`` (a read next to the last one) before the filter and the table; a run found is
flagged by position (``hit[p:q] = 1`` at its end), and the flags are gathered by key once, at
the end of the scan.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit import JIT
from .mix import U0, U1
from .windows import first_window, window_hash


@njit(**JIT)
def table_build(stream, table, pos, inverse):
    """Put the hashes ``stream`` into the empty table: ``pos[slot]`` = the first position of
    the slot's hash, ``inverse[w]`` = the key of ``stream[w]`` (keys numbered by first
    appearance).

    Returns:
        ``(zero_pos, keys)``: the first position of the hash 0 (-1 if absent), distinct hashes.
    """
    mask = np.uint64(table.shape[0] - 1)
    keys = 0
    zero_pos = -1
    for w in range(stream.shape[0]):
        h = stream[w]
        if h == U0:
            if zero_pos < 0:
                zero_pos = w
                inverse[w] = keys
                keys += 1
            else:
                inverse[w] = inverse[zero_pos]
            continue
        slot = h & mask
        while True:
            cur = table[slot]
            if cur == h:
                inverse[w] = inverse[pos[slot]]
                break
            if cur == U0:
                table[slot] = h
                pos[slot] = w
                inverse[w] = keys
                keys += 1
                break
            slot = (slot + U1) & mask
    return zero_pos, keys


@njit(inline="always", **JIT)
def table_find(table, pos, zero_pos, h):
    """The first stream position of hash ``h``, or -1."""
    if h == U0:
        return np.int64(zero_pos)
    mask = np.uint64(table.shape[0] - 1)
    slot = h & mask
    while True:
        cur = table[slot]
        if cur == h:
            return np.int64(pos[slot])
        if cur == U0:
            return np.int64(-1)
        slot = (slot + U1) & mask


@njit(**JIT)
def table_lookup(table, pos, zero_pos, inverse, hashes, out):
    """``out[i]`` = the key of ``hashes[i]``, or -1."""
    for i in range(hashes.shape[0]):
        p = table_find(table, pos, zero_pos, hashes[i])
        out[i] = inverse[p] if p >= 0 else -1


#: Windows hashed before their table slots are read: the reads of a batch do not depend on each
#: other, so their cache misses overlap (about 3x faster than one window at a time on a table
#: larger than the cache).
PROBE_BATCH = 64


@njit(inline="always", **JIT)
def _resolve(hs, m, table, pos, zero_pos, head, found):
    """``found[j]`` = the first stream position of the hash ``hs[j]`` (-1: none), ``j < m``."""
    mask = np.uint64(table.shape[0] - 1)
    for j in range(m):  # independent loads: their misses overlap
        head[j] = table[hs[j] & mask]
    for j in range(m):
        h = hs[j]
        p = np.int64(-1)
        if h == U0:
            p = zero_pos
        elif head[j] == h:
            p = np.int64(pos[h & mask])
        elif head[j] != U0:
            slot = ((h & mask) + U1) & mask
            while True:
                cur = table[slot]
                if cur == h:
                    p = np.int64(pos[slot])
                    break
                if cur == U0:
                    break
                slot = (slot + U1) & mask
        found[j] = p


@njit(inline="always", **JIT)
def _mark(ps, found, m, inverse, hit, record, out_pos, out_key, c):
    """Mark (or record) the windows ``j < m`` of a resolved batch; returns the new ``c``."""
    for j in range(m):
        p = found[j]
        if p >= 0:
            if not record:
                hit[p] = 1
            elif not hit[inverse[p]]:
                out_pos[c] = ps[j]
                out_key[c] = inverse[p]
                c += 1
    return c


@njit(inline="always", **JIT)
def filter_bits(h):
    """The two bits of hash ``h`` in its filter word: bits 26-31 and 32-37 of the hash (the
    table reads the bottom bits, the filter's word index the top ones)."""
    return (U1 << ((h >> np.uint64(26)) & np.uint64(63))) | (
        U1 << ((h >> np.uint64(32)) & np.uint64(63))
    )


@njit(**JIT)
def filter_build(keys, bits, shift):
    """Set the two :func:`filter_bits` of every hash ``h`` of ``keys`` in the uint64 word
    ``bits[h >> shift]``."""
    for k in range(keys.shape[0]):
        h = keys[k]
        bits[h >> np.uint64(shift)] |= filter_bits(h)


@njit(inline="always", **JIT)
def _mark_run(hit, a, b):
    """``hit[a:b] = 1``."""
    for p in range(a, b):
        hit[p] = 1


@njit(**JIT)
def probe_windows(
    prefix, doc, d0, d1, n, base_n, salt, skip, before, table, pos, zero_pos, bits, shift,
    stream, hit, record, inverse, out_pos, out_key,
):  # fmt: skip
    """Look up every sliding ``n``-token window of documents ``d0 .. d1-1`` in the table.

    A window is first compared with the stream position after the last window's match (see
    the module); failing that, a window whose two bits in word ``h >> shift`` of the filter
    ``bits`` (:func:`filter_build`) are not both set is not in the table and is passed over
    without reading it; the others are looked up in batches, a batch ending early at the
    second of two neighbouring windows that pass the filter (the start of a run, most
    likely). Without ``record``: ``hit[p] = 1`` for the stream position ``p`` each window
    matched (the first position of its hash, or the one followed), so key ``k`` is found
    where ``hit`` is set at a position of ``k``. With ``record``: ``hit`` holds a flag per key
    (read only) and each window found whose key is not flagged is written as ``out_pos[c]``
    (its first token) and ``out_key[c]`` (its key, ``inverse`` of the position). See
    :func:`.windows.first_window` for ``skip`` and ``before``.

    Returns:
        The number of windows written with ``record`` (else 0).
    """
    hs = np.empty(PROBE_BATCH, dtype=np.uint64)
    head = np.empty(PROBE_BATCH, dtype=np.uint64)
    ps = np.empty(PROBE_BATCH, dtype=np.int64)
    found = np.empty(PROBE_BATCH, dtype=np.int64)
    c = 0
    m = 0
    sh = np.uint64(shift)
    end = stream.shape[0]
    follow = end  # the stream position the next window may match (end: none)
    run = end  # the position the run being followed started at: hit[run:follow] (record: none)
    passed = np.int64(-2)  # the last window that passed the filter
    for d in range(d0, d1):
        for i in range(first_window(doc, d, d0, skip, n, 1, before), doc[d + 1] - n + 1):
            h = window_hash(prefix, i, n, base_n, salt)
            if follow < end and stream[follow] == h:
                if record and not hit[inverse[follow]]:
                    out_pos[c] = i
                    out_key[c] = inverse[follow]
                    c += 1
                follow += 1
                continue
            if follow > run:
                _mark_run(hit, run, follow)
            run = follow = end
            want = filter_bits(h)
            if bits[h >> sh] & want != want:
                continue
            hs[m] = h
            ps[m] = i
            m += 1
            if m == PROBE_BATCH or passed == i - 1:
                _resolve(hs, m, table, pos, zero_pos, head, found)
                c = _mark(ps, found, m, inverse, hit, record, out_pos, out_key, c)
                if found[m - 1] >= 0:  # window i matched: try the next position with i + 1
                    follow = found[m - 1] + 1
                    run = end if record else follow
                m = 0
            passed = i
    if follow > run:
        _mark_run(hit, run, follow)
    if m:
        _resolve(hs, m, table, pos, zero_pos, head, found)
        c = _mark(ps, found, m, inverse, hit, record, out_pos, out_key, c)
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


@njit(**JIT)
def same_windows(tokens, starts, refs, n, out):
    """``out[w] = 1`` where the ``n`` token values from ``starts[w]`` equal those from
    ``refs[w]``, else 0."""
    for w in range(starts.shape[0]):
        a, b = starts[w], refs[w]
        same = 1
        if a != b:
            for t in range(n):
                if tokens[a + t] != tokens[b + t]:
                    same = 0
                    break
        out[w] = same
