"""Block registers two to a byte (``seqcount.sketches.PackedRegisters``): a register of 0 to 15 in
a nibble, the few others listed apart by flat index. Rows of ``m`` registers; one pass each way,
and two more over the rows that hold a register of 16 or more (to count, then list them)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit import JIT


@njit(**JIT)
def pack_nibbles(regs, out, flags):
    """Pack the int8 registers ``regs`` (``(nb, m)``, ``m`` even, any strides) into uint8
    ``out`` (``(nb, m // 2)``): byte ``i`` of a row holds register ``2i`` in its low nibble and
    ``2i + 1`` in its high one, each as its low 4 bits. ``flags[b]`` (uint8) is set to 1 if
    row ``b`` has a register outside 0..15 (whose nibble is then wrong: see
    :func:`nibble_exceptions`), else 0. Returns the number of rows flagged."""
    nb, m = regs.shape
    flagged = 0
    for b in range(nb):
        seen = np.uint8(0)  # the bits of every register of the row, or-ed
        for i in range(m // 2):
            lo = np.uint8(regs[b, 2 * i])
            hi = np.uint8(regs[b, 2 * i + 1])
            seen |= lo | hi
            out[b, i] = (lo & np.uint8(15)) | (hi << np.uint8(4))
        flags[b] = seen > 15
        flagged += seen > 15
    return flagged


@njit(**JIT)
def nibble_exceptions(regs, flags):
    """The flat indices ``b * m + i`` (int64, increasing) and values (int8) of the registers
    of ``regs`` (``(nb, m)``) outside 0..15, looking only in the rows ``flags`` marks (see
    :func:`pack_nibbles`)."""
    nb, m = regs.shape
    count = 0
    for b in range(nb):
        if flags[b]:
            for i in range(m):
                count += (np.int64(regs[b, i]) & 0xFF) > 15
    where = np.empty(count, dtype=np.int64)
    values = np.empty(count, dtype=np.int8)
    k = 0
    for b in range(nb):
        if flags[b]:
            for i in range(m):
                v = regs[b, i]
                if (np.int64(v) & 0xFF) > 15:
                    where[k] = b * m + i
                    values[k] = v
                    k += 1
    return where, values


@njit(**JIT)
def unpack_nibbles(nibbles, where, values, out):
    """The inverse of :func:`pack_nibbles` and :func:`nibble_exceptions`: the int8 registers
    ``(nb, 2 * nibbles.shape[1])`` into ``out``."""
    nb, half = nibbles.shape
    m = 2 * half
    for b in range(nb):
        for i in range(half):
            x = np.int64(nibbles[b, i])
            out[b, 2 * i] = x & 15
            out[b, 2 * i + 1] = x >> 4
    for k in range(where.shape[0]):
        w = where[k]
        out[w // m, w % m] = values[k]
