"""Window hashes: the polynomial value of every ``n``-token window, salted and mixed.

A window of ``n`` tokens ``t_0 .. t_{n-1}`` gets the polynomial value
``v = t_0*B**(n-1) + t_1*B**(n-2) + ... + t_{n-1}  (mod P)``, computed for every window at once
from prefix values ``H[i+1] = H[i]*B + t_i`` as ``v = H[i+n] - H[i]*B**n (mod P)``, and the
64-bit hash ``h = fmix64(v XOR salt_n)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit import JIT
from .mix import P61, fmix64, mulmod61, mulmod61_parts


@njit(inline="always", **JIT)
def window_hash(prefix, i, n, base_n, salt):
    """Hash of the ``n`` tokens from ``i``: ``fmix64((H[i+n] - H[i]*B**n mod P) ^ salt)``."""
    a = prefix[i + n]
    b = mulmod61(prefix[i], base_n)
    v = a - b if a >= b else a + P61 - b
    return fmix64(v ^ np.uint64(salt))


@njit(inline="always", **JIT)
def window_hash_parts(after, at, b_hi, b_lo, salt):
    """:func:`window_hash` from the prefix values ``after = H[i+n]`` and ``at = H[i]``, with
    ``B**n = b_hi * 2**32 + b_lo``: arithmetic a loop over consecutive windows computes in
    vector registers (:func:`~seqcount._kernels.mix.mulmod61_parts`)."""
    b = mulmod61_parts(at, b_hi, b_lo)
    v = after - b if after >= b else after + P61 - b
    return fmix64(v ^ np.uint64(salt))


@njit(inline="always", **JIT)
def first_window(doc, d, d0, skip, n, step, before):
    """Start of the first window of document ``d`` to count.

    The first ``skip`` tokens of document ``d0`` were carried over from an earlier piece of the
    same document: windows lying entirely inside them are already counted. With ``step > 1``
    (non-overlapping chunks) windows start at document positions that are multiples of
    ``step``; token ``doc[d0]`` is at position ``before`` of its document.
    """
    start = doc[d]
    if d == d0 and skip > 0:
        start += max(0, skip - n + 1)
    if step > 1:
        pos = start - doc[d] + (before if d == d0 else 0)
        r = pos % step
        if r:
            start += step - r
    return start


@njit(**JIT)
def window_hashes(prefix, doc, d0, d1, n, base_n, salt, skip=0, step=1, before=0):
    """64-bit hashes of the ``n``-token windows inside documents ``d0 .. d1-1``.

    Windows never cross document boundaries; ``doc`` holds token offsets per document. Windows
    start every ``step`` tokens (1: sliding windows; ``n``: non-overlapping chunks). See
    :func:`first_window` for ``skip`` and ``before``.
    """
    total = 0
    for d in range(d0, d1):
        first = first_window(doc, d, d0, skip, n, step, before)
        last = doc[d + 1] - n  # last start
        if last >= first:
            total += (last - first) // step + 1
    out = np.empty(total, dtype=np.uint64)
    k = 0
    for d in range(d0, d1):
        for i in range(first_window(doc, d, d0, skip, n, step, before), doc[d + 1] - n + 1, step):
            out[k] = window_hash(prefix, i, n, base_n, salt)
            k += 1
    return out


@njit(**JIT)
def split_documents(doc, d0, d1, parts):
    """Document boundaries cutting documents ``d0 .. d1-1`` into ``parts`` runs of about equal
    token counts: int64 array ``bounds`` with ``bounds[0] = d0`` and ``bounds[parts] = d1``."""
    bounds = np.empty(parts + 1, dtype=np.int64)
    total = doc[d1] - doc[d0]
    d = d0
    for p in range(parts):
        goal = doc[d0] + (total * p) // parts
        while d < d1 and doc[d] < goal:
            d += 1
        bounds[p] = d
    bounds[parts] = d1
    return bounds
