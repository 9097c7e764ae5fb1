"""MinHash signatures in datasketch's ``affine64`` scheme, kept biased.

A hash h is pre-mixed once, y = fmix64(h), and permutation k maps it to a_k * y + b_k
(mod 2**64). The signature keeps the minimum per k. Signatures are held here *biased*:
s = (v XOR 2**63) as int64, so that the minimum of unsigned values is a signed minimum, which
AVX2 does in two instructions instead of three. Unbias with ``sig.view(np.uint64) ^ 2**63``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .jit import JIT, JIT_PARALLEL
from .mix import SIGN, fmix64
from .windows import first_window, split_documents, window_hash

#: The value of an empty MinHash slot (no hash seen), as datasketch writes it: ``2**64 - 1``.
EMPTY_HASHVALUE = np.uint64((1 << 64) - 1)
#: The biased form of :data:`EMPTY_HASHVALUE`, as the kernels keep it.
MINHASH_EMPTY = np.int64(EMPTY_HASHVALUE ^ SIGN)
#: Slots of the per-window-size cache of recent window hashes in :func:`minhash_update_windows`.
MINHASH_CACHE = 1 << 12
_MH_BUF = 512  # pre-mixed hashes buffered per signature update


@njit(inline="always", **JIT)
def _minhash_block(sig, a, b, buf, count):
    """Add the pre-mixed values ``buf[:count]`` to the biased signature ``sig``.

    Two permutations per pass over the buffer, each minimum kept in a register: the loop over
    the buffer vectorises (measured fastest of the layouts tried, benchmarks/bench_minhash.py).
    The bias is folded into ``b``: ``(a y + b) XOR 2**63 == a y + (b XOR 2**63)`` modulo 2**64
    (flipping the top bit is adding 2**63), which leaves a multiply, an add and a minimum per
    value and permutation. The multiply is the limit: 128 permutations are 16 512-bit
    ``vpmullq`` per hash.
    """
    k_perm = sig.shape[0]
    k = 0
    while k + 2 <= k_perm:
        a0 = a[k]
        b0 = b[k] ^ SIGN
        a1 = a[k + 1]
        b1 = b[k + 1] ^ SIGN
        s0 = sig[k]
        s1 = sig[k + 1]
        for t in range(count):
            y = buf[t]
            s0 = min(s0, np.int64(a0 * y + b0))
            s1 = min(s1, np.int64(a1 * y + b1))
        sig[k] = s0
        sig[k + 1] = s1
        k += 2
    if k < k_perm:
        ak = a[k]
        bk = b[k] ^ SIGN
        s0 = sig[k]
        for t in range(count):
            s0 = min(s0, np.int64(ak * buf[t] + bk))
        sig[k] = s0


@njit(**JIT)
def minhash_update_hashes(sig, a, b, hashes):
    """Add 64-bit hashes (datasketch's identity-``hashfunc`` values) to one biased signature.

    Args:
        sig: int64 biased signature of ``K`` values, updated in place.
        a, b: uint64 permutation parameters of length ``K`` (``a`` odd).
        hashes: uint64 values.
    """
    buf = np.empty(_MH_BUF, dtype=np.uint64)
    i = 0
    n = hashes.shape[0]
    while i < n:
        m = min(_MH_BUF, n - i)
        for t in range(m):
            buf[t] = fmix64(hashes[i + t])
        _minhash_block(sig, a, b, buf, m)
        i += m


@njit(**JIT_PARALLEL)
def minhash_update_windows(
    prefix, doc, d0, d1, ns, bases, salts, a, b, sigs, cache, skip=0, stride=False, before=0
):
    """Add every window of every size ``ns[j]`` in documents ``d0 .. d1-1`` to the signatures.

    The windows are those of :func:`hll_update_windows` (same arguments). The documents are cut
    into ``P = sigs.shape[0]`` runs of about equal size, and run ``p`` goes into ``sigs[p, j]``:
    one task per (run, window size), so P threads share the work evenly even though window
    sizes cost differently. The signature of the whole is the minimum over ``p``, which does not
    depend on P or on the threads. A window whose hash is in ``cache[p, j]`` (a direct-mapped
    table of recent hashes) is skipped: it is a repeat and cannot change a minimum.

    Args:
        sigs: int64 biased signatures, shape ``(P, len(ns), K)``, updated in place.
        cache: uint64 array ``(P, len(ns), 2**c)`` from :func:`minhash_cache`, updated in place.
    """
    parts = sigs.shape[0]
    nn = ns.shape[0]
    mask = np.uint64(cache.shape[2] - 1)
    bounds = split_documents(doc, d0, d1, parts)
    for t in prange(parts * nn):
        p = t // nn
        j = t % nn
        n = ns[j]
        base_n = bases[j]
        salt = salts[j]
        sig = sigs[p, j]
        row = cache[p, j]
        buf = np.empty(_MH_BUF, dtype=np.uint64)
        m = 0
        step = n if stride else 1
        for d in range(bounds[p], bounds[p + 1]):
            first = first_window(doc, d, d0, skip, n, step, before)
            for i in range(first, doc[d + 1] - n + 1, step):
                h = window_hash(prefix, i, n, base_n, salt)
                slot = h & mask
                if row[slot] == h:
                    continue
                row[slot] = h
                buf[m] = fmix64(h)
                m += 1
                if m == _MH_BUF:
                    _minhash_block(sig, a, b, buf, m)
                    m = 0
        _minhash_block(sig, a, b, buf, m)


def minhash_cache(parts: int, rows: int, size: int = MINHASH_CACHE) -> np.ndarray:
    """An empty ``(parts, rows, size)`` window-hash cache for :func:`minhash_update_windows`.

    Slot ``i`` starts with a value whose low bits are not ``i``, which no hash stored in slot
    ``i`` can equal (0 would wrongly match the hash 0).
    """
    slots = np.arange(size, dtype=np.uint64) ^ np.uint64(1)
    return np.tile(slots, (parts, rows, 1))  # a new, writable array whatever the shape


@njit(**JIT_PARALLEL)
def doc_minhash(prefix, doc, d0, d1, n, base_n, salt, a, b, out, skip=0, before=0):
    """Biased MinHash signature of the sliding ``n``-token windows of each document.

    ``out[d - d0]`` (int64, ``K`` wide) is min-updated with the windows of document ``d``; it is
    not reset, so a document cut into pieces can be continued. ``skip`` and ``before`` are those
    of :func:`hll_update_windows`. One thread per document.
    """
    for d in prange(d0, d1):
        sig = out[d - d0]
        buf = np.empty(_MH_BUF, dtype=np.uint64)
        m = 0
        first = first_window(doc, d, d0, skip, n, 1, before)
        for i in range(first, doc[d + 1] - n + 1):
            buf[m] = fmix64(window_hash(prefix, i, n, base_n, salt))
            m += 1
            if m == _MH_BUF:
                _minhash_block(sig, a, b, buf, m)
                m = 0
        _minhash_block(sig, a, b, buf, m)
