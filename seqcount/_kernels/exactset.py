"""An open-addressing set of 64-bit hashes, for exact counts (``seqcount.sketches.ExactSet``)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit import JIT
from .mix import U0, U1


@njit(inline="always", **JIT)
def probe_insert(table, mask, h):
    """Put the non-zero key ``h`` into ``table`` (linear probing from slot ``h & mask``).

    Returns:
        whether ``h`` was new.
    """
    slot = h & mask
    while True:
        cur = table[slot]
        if cur == h:
            return False
        if cur == U0:
            table[slot] = h
            return True
        slot = (slot + U1) & mask


@njit(**JIT)
def set_insert(table, hashes, start, count, limit):
    """Insert ``hashes[start:]`` into an open-addressing set until it holds ``limit`` keys.

    ``table`` is a power-of-two uint64 array; 0 marks an empty slot, so the key 0 is stored as
    its own flag in ``count`` bookkeeping by the caller (see :class:`seqcount.sketches.ExactSet`).

    Returns:
        (keys now in the table, index of the first hash not yet inserted).
    """
    mask = np.uint64(table.shape[0] - 1)
    k = start
    while k < hashes.shape[0] and count < limit:
        h = hashes[k]
        k += 1
        if h != U0 and probe_insert(table, mask, h):
            count += 1
    return count, k


@njit(**JIT)
def set_rehash(old, new):
    """Move every key of ``old`` into the empty table ``new``."""
    mask = np.uint64(new.shape[0] - 1)
    for k in range(old.shape[0]):
        h = old[k]
        if h != U0:
            slot = h & mask
            while new[slot] != U0:
                slot = (slot + U1) & mask
            new[slot] = h
