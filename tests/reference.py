"""Slow, obviously-correct pure-Python oracles for the numba kernels (Python big ints only).

Nothing here imports numba or :mod:`seqcount.kernels`; the only thing taken from the package is
the seeded :class:`~seqcount.hashing.HashParams` object (plain Python ints), passed in by the
caller.
"""

from __future__ import annotations

import re

P = 2**61 - 1
MASK64 = 2**64 - 1
WORD_RE = re.compile(r"\w+|[^\w\s]")


def fmix64(k: int) -> int:
    """MurmurHash3's 64-bit finaliser."""
    k &= MASK64
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & MASK64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & MASK64
    k ^= k >> 33
    return k


def bytes_value(b: bytes, bt: int) -> int:
    """Token value of a byte string: length-prefixed polynomial over 7-byte LE chunks, mod P."""
    h = len(b) % P
    for i in range(0, len(b), 7):
        c = int.from_bytes(b[i : i + 7], "little")
        h = (h * bt + c) % P
    return h


def word_tokens(text: str) -> list[str]:
    return WORD_RE.findall(text)


def token_values(kind: str, docs, params) -> list[list[int]]:
    """Token values of every document.

    ``words``: docs are bytes (UTF-8, invalid sequences replaced); ``bytes``: docs are bytes;
    ``ids``: docs are sequences of non-negative ints (taken modulo 2**64).
    """
    out = []
    for doc in docs:
        if kind == "words":
            text = bytes(doc).decode("utf-8", errors="replace")
            toks = word_tokens(text)
            out.append([bytes_value(t.encode("utf-8"), params.token_base) for t in toks])
        elif kind == "bytes":
            out.append([b + 1 for b in bytes(doc)])
        elif kind == "ids":
            out.append([fmix64((int(i) & MASK64) ^ params.id_seed) % P for i in doc])
        else:
            raise ValueError(kind)
    return out


def window_value(values: list[int], base: int) -> int:
    n = len(values)
    return sum(t * pow(base, n - 1 - i, P) for i, t in enumerate(values)) % P


def prefix_values(values: list[int], base: int) -> list[int]:
    """``H[0] = 0``, ``H[i+1] = (H[i] * base + values[i]) mod P``: the plain recurrence."""
    h, out = 0, [0]
    for t in values:
        h = (h * base + t) % P
        out.append(h)
    return out


def window_hash(values: list[int], params, n: int) -> int:
    assert len(values) == n
    v = window_value(values, params.base)
    return fmix64(v ^ params.salt(n))


def all_window_hashes(docs_values: list[list[int]], params, n: int) -> list[int]:
    """Hashes of every n-token window, document by document; windows never cross documents."""
    out = []
    for vals in docs_values:
        for i in range(len(vals) - n + 1):
            out.append(window_hash(vals[i : i + n], params, n))
    return out


def hll_registers(hashes, p: int) -> list[int]:
    """datasketch HyperLogLog++ registers of 64-bit hashes."""
    m = 1 << p
    reg = [0] * m
    for h in hashes:
        h = int(h) & MASK64
        idx = h & (m - 1)
        rank = (64 - p) - (h >> p).bit_length() + 1
        if rank > reg[idx]:
            reg[idx] = rank
    return reg


def hll_hip(hashes, p: int, reg: list[int] | None = None, hip: float = 0.0):
    """The HIP running estimate over a stream of 64-bit hashes, starting from registers ``reg``
    and estimate ``hip``: each register growth adds ``m / sum_i 2**-reg_i`` (registers before
    the growth; a register at the top rank ``65 - p`` cannot grow and adds 0), the sum taken as
    ``zeros + (sum of 2**(64-p-r) over the others) * 2**-(64-p)`` like the kernel, so the
    bits agree. Returns ``(registers, estimate)``."""
    m = 1 << p
    top = 64 - p
    reg = [0] * m if reg is None else list(reg)
    for h in hashes:
        h = int(h) & MASK64
        idx = h & (m - 1)
        rank = top - (h >> p).bit_length() + 1
        if rank > reg[idx]:
            zeros = sum(1 for r in reg if r == 0)
            rest = sum(1 << (top - r) for r in reg if 0 < r <= top)
            hip += m / (float(zeros) + float(rest) * 2.0**-top)
            reg[idx] = rank
    return reg, hip


def minhash_permutations(num_perm: int, seed: int) -> tuple[list[int], list[int]]:
    """datasketch 2.x ``affine64`` permutation parameters, from its documented recipe."""
    import numpy as np

    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 63, num_perm, dtype=np.uint64)
    b = gen.randint(0, 1 << 64, num_perm, dtype=np.uint64)
    return [int(x) * 2 + 1 for x in a], [int(x) for x in b]


def minhash_values(hashes, a: list[int], b: list[int]) -> list[int]:
    """``affine64`` MinHash values of 64-bit hashes: min over h of a*fmix64(h)+b mod 2**64."""
    out = [MASK64] * len(a)
    for h in hashes:
        y = fmix64(int(h))
        for k in range(len(a)):
            v = (a[k] * y + b[k]) & MASK64
            if v < out[k]:
                out[k] = v
    return out


THETA_MAX = 2**63 - 1


def _theta_trim(kept: set[int], k: int) -> tuple[set[int], int]:
    s = sorted(kept)
    return set(s[:k]), s[k]


def theta_stream(hashes, k: int, limit: int, theta: int = THETA_MAX, kept=None):
    """A theta sketch item by item: ``v = h >> 1`` is kept if ``0 < v < theta``; as soon as
    ``limit`` (> k) values are kept, keep the ``k`` smallest and make ``theta`` the
    ``(k+1)``-th. Returns ``(kept set, theta)`` *without* the final trim."""
    kept = set() if kept is None else set(kept)
    for h in hashes:
        v = int(h) >> 1
        if 0 < v < theta:
            kept.add(v)
            if len(kept) >= limit:
                kept, theta = _theta_trim(kept, k)
    return kept, theta


def theta_sketch(hashes, k: int, limit: int | None = None) -> tuple[list[int], int]:
    """:func:`theta_stream` then a trim to exactly ``k`` values: ``(sorted values, theta)``."""
    kept, theta = theta_stream(hashes, k, limit or k + k // 2)
    if len(kept) > k:
        kept, theta = _theta_trim(kept, k)
    return sorted(kept), theta


def theta_bottom_k(hashes, k: int) -> tuple[list[int], int]:
    """The definition: the ``k`` smallest distinct ``h >> 1`` in ``(0, 2**63 - 1)`` and the
    ``(k+1)``-th as ``theta`` (``2**63 - 1`` if there are at most ``k``)."""
    vals = sorted({int(h) >> 1 for h in hashes} - {0, THETA_MAX})
    return (vals[:k], vals[k]) if len(vals) > k else (vals, THETA_MAX)
