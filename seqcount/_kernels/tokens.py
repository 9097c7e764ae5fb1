"""Token values (``bytes``, ``ids``) and the prefix polynomial values of any tokens.

Every token becomes a *token value* ``t`` in ``[0, P)`` with ``P = 2**61 - 1``:

* ``words``: the token's UTF-8 bytes, cut into 7-byte little-endian chunks ``c_1..c_k``, hashed as
  the polynomial ``len*Bt**k + c_1*Bt**(k-1) + ... + c_k  (mod P)`` (:mod:`.words`);
* ``bytes``: the byte value plus one;
* ``ids``: ``fmix64(id XOR s_id) mod P``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit import JIT
from .mix import M32, U0, U1, U32, addmod61, fmix64, mod61, mulmod61, mulmod61_parts, pow61


@njit(**JIT)
def byte_values(data, start, end):
    """Token values of the ``bytes`` tokenizer: each byte plus one."""
    return byte_values_into(data[start:end], np.empty(end - start, dtype=np.uint64))


@njit(**JIT)
def byte_values_into(data, out):
    """:func:`byte_values` of all of ``data`` into ``out[:len(data)]``, which is returned
    (``out`` may be reused)."""
    n = data.shape[0]
    if out.shape[0] < n:
        raise ValueError("byte_values_into: out is shorter than data")
    for i in range(n):
        out[i] = np.uint64(data[i]) + U1
    return out[:n]


@njit(**JIT)
def id_values(ids, seed):
    """Token values of the ``ids`` tokenizer: ``fmix64(id XOR seed) mod P``.

    ``ids`` may be any integer type; a signed id is taken modulo 2**64, as ``np.uint64(id)``
    does (-1 is 2**64 - 1), so an int32 column needs no widening copy first.
    """
    return id_values_into(ids, seed, np.empty(ids.shape[0], dtype=np.uint64))


@njit(**JIT)
def id_values_into(ids, seed, out):
    """:func:`id_values` into ``out[:len(ids)]``, which is returned (``out`` may be reused)."""
    n = ids.shape[0]
    if out.shape[0] < n:
        raise ValueError("id_values_into: out is shorter than ids")
    for i in range(n):
        out[i] = mod61(fmix64(np.uint64(np.int64(ids[i])) ^ seed))
    return out[:n]


@njit(**JIT)
def _step61(h, base, t):
    return addmod61(mulmod61(h, base), t)


#: Runs the tokens are cut into by :func:`prefix_into`, computed side by side (its first loop
#: is written out for this many).
RUNS = 8
#: Positions a fix-up step of :func:`prefix_into` covers with one power of the base.
FIX_BLOCK = 64
#: Runs of :func:`prefix_into` at least this long are shortened to ``72 (mod 512)`` tokens,
#: the last run taking the rest: runs a multiple of 4 KiB apart (a chunk of ``2**20`` tokens)
#: put all their reads, and all their writes, in the same cache sets, which took 5.6 ns a token
#: where other lengths took 2.3; 72 puts run ``s`` nine cache sets after run ``s - 1``.
ALIAS_FREE = 4096


@njit(**JIT)
def prefix_into(tokens, base, out):
    """:func:`prefix_values` into ``out[:len(tokens) + 1]``, which is returned.

    A caller that reuses one ``out`` for every chunk saves the fresh pages a new array costs.
    The plain recurrence waits on one multiplication modulo P after another. Here the tokens
    are cut into :data:`RUNS` runs whose prefix values are computed from 0 side by side
    (independent chains keep the multiplier busy); then run ``s`` gets its true start ``c_s``
    added as ``c_s * base**j`` at its position ``j``, in blocks of :data:`FIX_BLOCK` positions:
    ``(c_s * base**(64 b)) * base**i`` for ``i`` up to 64, a loop of independent products that
    runs in vector registers (:func:`~seqcount._kernels.mix.mulmod61_parts`). 2.3-3.1 ns a
    token where four runs and a chained fix-up took 3.7-4.5 (32M tokens in pieces of 2**20,
    one core with 512-bit vectors, interleaved runs; ``benchmarks/bench_count.py`` times it
    too). Same values as the plain recurrence (tests/test_kernels.py).
    """
    base = np.uint64(base)
    n = tokens.shape[0]
    if out.shape[0] <= n:
        raise ValueError("prefix_into: out is shorter than len(tokens) + 1")
    out = out[: n + 1]
    out[0] = U0
    r = n // RUNS  # runs [s r, (s+1) r) for s < RUNS - 1; the last one takes the rest
    if r >= ALIAS_FREE:  # runs not a multiple of 4 KiB apart (see ALIAS_FREE)
        r -= (r - 72) % 512
    h0 = h1 = h2 = h3 = h4 = h5 = h6 = h7 = U0  # one chain per run, in registers
    for j in range(r):
        h0 = _step61(h0, base, tokens[j])
        h1 = _step61(h1, base, tokens[r + j])
        h2 = _step61(h2, base, tokens[2 * r + j])
        h3 = _step61(h3, base, tokens[3 * r + j])
        h4 = _step61(h4, base, tokens[4 * r + j])
        h5 = _step61(h5, base, tokens[5 * r + j])
        h6 = _step61(h6, base, tokens[6 * r + j])
        h7 = _step61(h7, base, tokens[7 * r + j])
        out[j + 1] = h0
        out[r + j + 1] = h1
        out[2 * r + j + 1] = h2
        out[3 * r + j + 1] = h3
        out[4 * r + j + 1] = h4
        out[5 * r + j + 1] = h5
        out[6 * r + j + 1] = h6
        out[7 * r + j + 1] = h7
    last = RUNS - 1
    for i in range(RUNS * r, n):  # the last run's extra tokens
        h7 = _step61(h7, base, tokens[i])
        out[i + 1] = h7
    if r == 0:
        return out
    # true starts: c_0 = 0, c_s = c_(s-1) * base**r + (run s-1's own value at its end)
    step = pow61(base, r)
    starts = np.zeros(RUNS, dtype=np.uint64)
    for s in range(1, RUNS):
        starts[s] = addmod61(mulmod61(starts[s - 1], step), out[s * r])
    powers = np.empty(FIX_BLOCK + 1, dtype=np.uint64)  # base**i, i = 0 .. FIX_BLOCK
    powers[0] = U1
    for i in range(1, FIX_BLOCK + 1):
        powers[i] = mulmod61(powers[i - 1], base)
    for s in range(1, RUNS):  # out[s r + j] += c_s * base**j, j = 1 .. the run's length
        length = r if s < last else n - last * r
        k = starts[s]  # c_s * base**(j - 1) at the block's first j
        for j in range(1, length + 1, FIX_BLOCK):
            k_hi = k >> U32
            k_lo = k & M32
            at = out[s * r + j : s * r + min(j + FIX_BLOCK, length + 1)]
            for i in range(at.shape[0]):
                at[i] = addmod61(at[i], mulmod61_parts(powers[i + 1], k_hi, k_lo))
            k = mulmod61(k, powers[FIX_BLOCK])
    return out


@njit(**JIT)
def prefix_values(tokens, base):
    """Prefix polynomial values: ``H[0] = 0``, ``H[i+1] = H[i]*base + tokens[i] (mod P)``."""
    out = np.empty(tokens.shape[0] + 1, dtype=np.uint64)
    prefix_into(tokens, base, out)
    return out
