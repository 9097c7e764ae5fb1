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
from .mix import U0, U1, addmod61, fmix64, mod61, mulmod61, pow61


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


@njit(**JIT)
def prefix_into(tokens, base, out):
    """:func:`prefix_values` into ``out[:len(tokens) + 1]``, which is returned.

    A caller that reuses one ``out`` for every chunk saves the fresh pages a new array costs.
    The plain recurrence waits on one multiplication modulo P after another. Here the tokens
    are cut into four equal runs whose prefix values are computed from 0 side by side (four
    independent chains keep the multiplier busy); then run ``s`` gets its true start ``c_s``
    added as ``c_s * base**j`` at its position ``j``, again three chains side by side. Same
    values as the plain recurrence (tests/test_kernels.py).
    """
    base = np.uint64(base)
    n = tokens.shape[0]
    if out.shape[0] <= n:
        raise ValueError("prefix_into: out is shorter than len(tokens) + 1")
    out = out[: n + 1]
    out[0] = U0
    r = n // 4  # runs [0, r), [r, 2r), [2r, 3r), [3r, n)
    h0 = h1 = h2 = h3 = U0
    for j in range(r):
        h0 = _step61(h0, base, tokens[j])
        h1 = _step61(h1, base, tokens[r + j])
        h2 = _step61(h2, base, tokens[2 * r + j])
        h3 = _step61(h3, base, tokens[3 * r + j])
        out[j + 1] = h0
        out[r + j + 1] = h1
        out[2 * r + j + 1] = h2
        out[3 * r + j + 1] = h3
    for i in range(4 * r, n):  # the last run's extra tokens
        h3 = _step61(h3, base, tokens[i])
        out[i + 1] = h3
    if r == 0:
        return out
    # true starts: c_1 = H[r], c_2 = H[2r], c_3 = H[3r], with H[(s+1)r] = c_s*base**r + local
    step = pow61(base, r)
    c1 = out[r]
    c2 = addmod61(mulmod61(c1, step), out[2 * r])
    c3 = addmod61(mulmod61(c2, step), out[3 * r])
    pw = U1
    for j in range(1, r + 1):  # out[s*r + j] += c_s * base**j
        pw = mulmod61(pw, base)
        out[r + j] = addmod61(out[r + j], mulmod61(c1, pw))
        out[2 * r + j] = addmod61(out[2 * r + j], mulmod61(c2, pw))
        out[3 * r + j] = addmod61(out[3 * r + j], mulmod61(c3, pw))
    for i in range(4 * r + 1, n + 1):
        pw = mulmod61(pw, base)
        out[i] = addmod61(out[i], mulmod61(c3, pw))
    return out


@njit(**JIT)
def prefix_values(tokens, base):
    """Prefix polynomial values: ``H[0] = 0``, ``H[i+1] = H[i]*base + tokens[i] (mod P)``."""
    out = np.empty(tokens.shape[0] + 1, dtype=np.uint64)
    prefix_into(tokens, base, out)
    return out
