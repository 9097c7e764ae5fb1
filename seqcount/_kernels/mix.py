"""Scalar arithmetic of the window hash: ``fmix64`` and arithmetic modulo the Mersenne prime
``P = 2**61 - 1``.

All hashing arithmetic is kept in explicit ``np.uint64``: numba silently widens a uint64 mixed
with a signed integer to float64. Numba freezes globals at compile time, so the constants here
are the only globals the kernels read.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import types
from numba.cpython.unsafe.numbers import leading_zeros as _leading_zeros
from numba.extending import intrinsic

from .jit import JIT

MERSENNE61 = (1 << 61) - 1
#: ``P = 2**61 - 1`` as uint64.
P61 = np.uint64(MERSENNE61)
U0 = np.uint64(0)
U1 = np.uint64(1)
#: The top bit of a 64-bit word.
SIGN = np.uint64(1 << 63)
_C1 = np.uint64(0xFF51AFD7ED558CCD)
_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_U3 = np.uint64(3)
_U33 = np.uint64(33)
_U61 = np.uint64(61)

if numba.config.DISABLE_JIT:  # the no-JIT test lane runs kernel bodies as plain Python

    def leading_zeros(x):
        """Leading zero bits of a 64-bit word."""
        return 64 - int(x).bit_length()

else:
    leading_zeros = _leading_zeros


@njit(**JIT)
def fmix64(k):
    """MurmurHash3's 64-bit finaliser: a bijection with full avalanche."""
    k = np.uint64(k)
    k ^= k >> _U33
    k *= _C1
    k ^= k >> _U33
    k *= _C2
    k ^= k >> _U33
    return k


if numba.config.DISABLE_JIT:

    def _mul128(a, b):
        p = int(a) * int(b)
        return np.uint64(p >> 64), np.uint64(p & ((1 << 64) - 1))

else:

    @intrinsic
    def _mul128(typingctx, a, b):
        """The full product of two uint64: ``(high, low)`` words (one ``mul`` on x86-64)."""
        if a != types.uint64 or b != types.uint64:
            return None
        sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

        def codegen(context, builder, signature, args):
            i128 = ir.IntType(128)
            prod = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
            lo = builder.trunc(prod, ir.IntType(64))
            hi = builder.trunc(builder.lshr(prod, ir.Constant(i128, 64)), ir.IntType(64))
            return context.make_tuple(builder, signature.return_type, [hi, lo])

        return sig, codegen


@njit(**JIT)
def mulmod61(a, b):
    """``a * b mod (2**61 - 1)`` for ``a, b < 2**61``, from the 128-bit product."""
    hi, lo = _mul128(np.uint64(a), np.uint64(b))
    # a*b = q*2**61 + (lo & P) with q = a*b >> 61 < 2**61, and 2**61 = 1 (mod P)
    r = (lo & P61) + ((lo >> _U61) | (hi << _U3))
    r = (r & P61) + (r >> _U61)
    if r >= P61:
        r -= P61
    return r


_U29 = np.uint64(29)
#: Shift and mask of the 32-bit halves of a 64-bit word.
U32 = np.uint64(32)
_M29 = np.uint64((1 << 29) - 1)
M32 = np.uint64((1 << 32) - 1)


@njit(inline="always", **JIT)
def mulmod61_parts(a, b_hi, b_lo):
    """:func:`mulmod61` of ``a`` and ``b = b_hi * 2**32 + b_lo`` (``a, b < 2**61``) from four
    32-bit by 32-bit products, which a loop over many ``a`` computes in vector registers (the
    128-bit product of :func:`mulmod61` keeps such a loop scalar).

    With ``a = a_hi 2**32 + a_lo``: ``a b = a_hi b_hi 2**64 + m 2**32 + a_lo b_lo`` where
    ``m = a_hi b_lo + a_lo b_hi < 2**62``. Modulo ``P``, ``2**61 = 1``, so ``2**64 = 8`` and
    ``m 2**32 = (m >> 29) + (m mod 2**29) 2**32``; the five terms sum to less than ``2**63``
    and fold once into ``[0, P)``.
    """
    a_hi = a >> U32
    a_lo = a & M32
    mid = a_hi * b_lo + a_lo * b_hi
    low = a_lo * b_lo
    s = ((a_hi * b_hi) << _U3) + (mid >> _U29) + ((mid & _M29) << U32)
    s += (low & P61) + (low >> _U61)
    r = (s & P61) + (s >> _U61)
    if r >= P61:
        r -= P61
    return r


@njit(**JIT)
def addmod61(a, b):
    """``a + b mod P`` for ``a, b < P``."""
    r = np.uint64(a) + np.uint64(b)
    if r >= P61:
        r -= P61
    return r


@njit(**JIT)
def mod61(x):
    """``x mod (2**61 - 1)`` for any 64-bit ``x``, in shifts and adds (vectorises, unlike ``%``)."""
    r = (x & P61) + (x >> _U61)  # 2**61 = 1 (mod P); r < 2**61 + 8
    if r >= P61:
        r -= P61
    return r


@njit(**JIT)
def pow61(base, e):
    """``base**e mod P`` by squaring."""
    result = U1
    b = np.uint64(base)
    while e > 0:
        if e & 1:
            result = mulmod61(result, b)
        b = mulmod61(b, b)
        e >>= 1
    return result
