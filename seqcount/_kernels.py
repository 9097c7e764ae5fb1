"""Numba kernels: token values, window hashes, HyperLogLog register updates, exact hash sets.

Kernels are private, typed and dumb: arrays and scalars in, arrays out, no configuration objects
and no globals but the ``np.uint64`` constants below (numba freezes globals at compile time).
All hashing arithmetic is kept in explicit ``np.uint64``: numba silently widens a uint64 mixed
with a signed integer to float64.

The window hash (``poly61-v1``)
-------------------------------
Every token first becomes a *token value* ``t`` in ``[0, P)`` with ``P = 2**61 - 1`` (a Mersenne
prime):

* ``words``: the token's UTF-8 bytes, cut into 7-byte little-endian chunks ``c_1..c_k``, hashed as
  the polynomial ``len*Bt**k + c_1*Bt**(k-1) + ... + c_k  (mod P)``;
* ``bytes``: the byte value plus one;
* ``ids``: ``fmix64(id XOR s_id) mod P``.

A window of ``n`` tokens ``t_0 .. t_{n-1}`` gets the polynomial value
``v = t_0*B**(n-1) + t_1*B**(n-2) + ... + t_{n-1}  (mod P)``, computed for every window at once
from prefix values ``H[i+1] = H[i]*B + t_i`` as ``v = H[i+n] - H[i]*B**n (mod P)``, and the
64-bit hash ``h = fmix64(v XOR salt_n)`` (the MurmurHash3 finaliser, a bijection of 64-bit words).
``B``, ``Bt``, ``s_id`` and ``salt_n`` are drawn from the seed with SplitMix64.

Collision bound: for two different windows of ``n`` tokens (whose tokens have different
values), ``v`` is equal only if ``B`` is a root of a non-zero polynomial of degree below ``n``:
probability at most ``(n-1)/P`` over the seeded choice of ``B``. Two different tokens get the
same value with probability at most ``k/P`` (``k`` chunks). Among ``U`` distinct windows the
expected number of colliding pairs is therefore below ``U**2 * n / 2**62``: under 0.3 pairs for
``U = 1e8, n = 64``; at ``U = 1e10`` a count is low by a relative 1e-9 or less, far below the
sketch error. ``fmix64`` is a bijection, so ``h`` adds no collisions of its own.
"""

from __future__ import annotations

import os

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange
from numba.core import types
from numba.cpython.unsafe.numbers import leading_zeros as _leading_zeros
from numba.extending import intrinsic

MERSENNE61 = (1 << 61) - 1
_P = np.uint64(MERSENNE61)
_C1 = np.uint64(0xFF51AFD7ED558CCD)
_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U3 = np.uint64(3)
_U8 = np.uint64(8)
_U33 = np.uint64(33)
_U61 = np.uint64(61)
_SIGN = np.uint64(1 << 63)
#: Biased form of the empty MinHash value ``2**64 - 1`` (see :func:`minhash_update_hashes`).
MINHASH_EMPTY = np.int64((1 << 63) - 1)
#: Slots of the per-window-size cache of recent window hashes in :func:`minhash_update_windows`.
MINHASH_CACHE = 1 << 12
_MH_BUF = 512  # pre-mixed hashes buffered per signature update

if numba.config.DISABLE_JIT:  # the no-JIT test lane runs kernel bodies as plain Python

    def leading_zeros(x):
        return 64 - int(x).bit_length()

else:
    leading_zeros = _leading_zeros

#: Character classes of the ``words`` tokenizer.
CLASS_SPACE, CLASS_WORD, CLASS_OTHER = 0, 1, 2

_JIT = dict(nogil=True, cache=True)

# The OpenMP layer spin-waits between parallel regions, which more than halved throughput with
# 2 threads on a shared 2-core machine (benchmarks/results/count.md); the workqueue layer does
# not. A user's NUMBA_THREADING_LAYER still wins.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"


# --------------------------------------------------------------------------- scalar helpers


@njit(inline="always", **_JIT)
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


@njit(inline="always", **_JIT)
def mulmod61(a, b):
    """``a * b mod (2**61 - 1)`` for ``a, b < 2**61``, from the 128-bit product."""
    hi, lo = _mul128(np.uint64(a), np.uint64(b))
    # a*b = q*2**61 + (lo & P) with q = a*b >> 61 < 2**61, and 2**61 = 1 (mod P)
    r = (lo & _P) + ((lo >> _U61) | (hi << _U3))
    r = (r & _P) + (r >> _U61)
    if r >= _P:
        r -= _P
    return r


@njit(inline="always", **_JIT)
def _addmod61(a, b):
    r = np.uint64(a) + np.uint64(b)
    if r >= _P:
        r -= _P
    return r


@njit(inline="always", **_JIT)
def _bytes_value(data, start, end, bt):
    """Token value of ``data[start:end]``: length-prefixed polynomial over 7-byte chunks."""
    h = np.uint64(end - start)
    i = start
    while i < end:
        c = _U0
        shift = _U0
        stop = min(i + 7, end)
        while i < stop:
            c |= np.uint64(data[i]) << shift
            shift += _U8
            i += 1
        h = _addmod61(mulmod61(h, bt), c)
    return h


@njit(inline="always", **_JIT)
def _hll_rank(h, p):
    """HyperLogLog++ register index and rank of a 64-bit hash, as datasketch computes them.

    Index: the low ``p`` bits. Rank: one plus the leading zeros of the remaining ``64 - p`` bits.
    """
    pu = np.uint64(p)
    idx = h & ((_U1 << pu) - _U1)
    rank = np.int64(leading_zeros(h >> pu)) - np.int64(p) + 1
    return idx, rank


# --------------------------------------------------------------------------- tokenizers


@njit(**_JIT)
def _decode_utf8(data, i, end):
    """Decode one code point at ``data[i]``; return ``(code_point, length, valid)``.

    Invalid input follows Python's ``errors="replace"``: each maximal ill-formed subpart
    (Unicode's recommended practice) is one replacement character.
    """
    b0 = np.int64(data[i])
    if b0 < 0x80:
        return b0, 1, True
    if 0xC2 <= b0 <= 0xDF:
        need = 1
        lo, hi = 0x80, 0xBF
        cp = b0 & 0x1F
    elif 0xE0 <= b0 <= 0xEF:
        need = 2
        lo = 0xA0 if b0 == 0xE0 else 0x80
        hi = 0x9F if b0 == 0xED else 0xBF
        cp = b0 & 0x0F
    elif 0xF0 <= b0 <= 0xF4:
        need = 3
        lo = 0x90 if b0 == 0xF0 else 0x80
        hi = 0x8F if b0 == 0xF4 else 0xBF
        cp = b0 & 0x07
    else:
        return 0xFFFD, 1, False
    j = 1
    while j <= need:
        if i + j >= end:
            return 0xFFFD, j, False
        b = np.int64(data[i + j])
        if b < lo or b > hi:
            return 0xFFFD, j, False
        cp = (cp << 6) | (b & 0x3F)
        lo, hi = 0x80, 0xBF
        j += 1
    return cp, need + 1, True


@njit(**_JIT)
def tokenize_words(data, offsets, classes, bt, out_tokens, out_doc, out_starts, out_ends):
    """Split UTF-8 documents into ``re.findall(r"\\w+|[^\\w\\s]", text)`` tokens.

    Args:
        data: uint8 bytes of all documents.
        offsets: int64, document ``d`` is ``data[offsets[d]:offsets[d+1]]``.
        classes: uint8 per code point: CLASS_SPACE, CLASS_WORD or CLASS_OTHER.
        bt: token-hash base.
        out_tokens: uint64 output, at least ``offsets[-1] - offsets[0]`` long.
        out_doc: int64 output of ``len(offsets)``: token offsets per document.
        out_starts, out_ends: int64 byte spans of each token, or empty arrays to skip them.

    Returns:
        (number of tokens, number of invalid UTF-8 sequences replaced by U+FFFD).
    """
    spans = out_starts.shape[0] > 0
    fffd = np.zeros(3, dtype=np.uint8)
    fffd[0], fffd[1], fffd[2] = 0xEF, 0xBF, 0xBD
    fffd_value = _bytes_value(fffd, 0, 3, bt)
    ntok = 0
    ninvalid = 0
    out_doc[0] = 0
    for d in range(offsets.shape[0] - 1):
        i = offsets[d]
        end = offsets[d + 1]
        run = -1
        while i < end:
            b0 = data[i]
            if b0 < 0x80:  # ASCII fast path
                cp, length, valid = np.int64(b0), 1, True
                c = classes[b0]
            else:
                cp, length, valid = _decode_utf8(data, i, end)
                c = classes[cp] if valid else CLASS_OTHER
            if c == CLASS_WORD:
                if run < 0:
                    run = i
            else:
                if run >= 0:
                    out_tokens[ntok] = _bytes_value(data, run, i, bt)
                    if spans:
                        out_starts[ntok] = run
                        out_ends[ntok] = i
                    ntok += 1
                    run = -1
                if c == CLASS_OTHER:
                    if valid:
                        out_tokens[ntok] = _bytes_value(data, i, i + length, bt)
                    else:
                        out_tokens[ntok] = fffd_value
                        ninvalid += 1
                    if spans:
                        out_starts[ntok] = i
                        out_ends[ntok] = i + length
                    ntok += 1
            i += length
        if run >= 0:
            out_tokens[ntok] = _bytes_value(data, run, end, bt)
            if spans:
                out_starts[ntok] = run
                out_ends[ntok] = end
            ntok += 1
        out_doc[d + 1] = ntok
    return ntok, ninvalid


@njit(**_JIT)
def words_cut(data, lo, hi, end, classes):
    """A place to cut ``data[lo:end]`` into two texts whose ``words`` tokens are those of the whole.

    Safe places are code-point boundaries where the character before or the one after is not a
    word character (so no word run is split). ``lo`` must be a code-point boundary of the
    document (its start or an earlier cut); decoding resynchronises exactly as in
    :func:`tokenize_words`.

    Returns:
        The last safe place in ``(lo, hi]``; else the first one in ``(hi, end)``; else -1.
    """
    last = -1
    prev_word = False
    i = lo
    while i < end:
        b0 = data[i]
        if b0 < 0x80:
            c = classes[b0]
            length = 1
        else:
            cp, length, valid = _decode_utf8(data, i, end)
            c = classes[cp] if valid else CLASS_OTHER
        word = c == CLASS_WORD
        if i > lo and not (word and prev_word):
            if i > hi:
                return i if last < 0 else last
            last = i
        prev_word = word
        i += length
    return last


@njit(**_JIT)
def byte_values(data, start, end):
    """Token values of the ``bytes`` tokenizer: each byte plus one."""
    return byte_values_into(data[start:end], np.empty(end - start, dtype=np.uint64))


@njit(**_JIT)
def byte_values_into(data, out):
    """:func:`byte_values` of all of ``data`` into ``out[:len(data)]``, which is returned
    (``out`` may be reused)."""
    n = data.shape[0]
    if out.shape[0] < n:
        raise ValueError("byte_values_into: out is shorter than data")
    for i in range(n):
        out[i] = np.uint64(data[i]) + _U1
    return out[:n]


@njit(inline="always", **_JIT)
def _mod61(x):
    """``x mod (2**61 - 1)`` for any 64-bit ``x``, in shifts and adds (vectorises, unlike ``%``)."""
    r = (x & _P) + (x >> _U61)  # 2**61 = 1 (mod P); r < 2**61 + 8
    if r >= _P:
        r -= _P
    return r


@njit(**_JIT)
def id_values(ids, seed):
    """Token values of the ``ids`` tokenizer: ``fmix64(id XOR seed) mod P``.

    ``ids`` may be any integer type; a signed id is taken modulo 2**64, as ``np.uint64(id)``
    does (-1 is 2**64 - 1), so an int32 column needs no widening copy first.
    """
    return id_values_into(ids, seed, np.empty(ids.shape[0], dtype=np.uint64))


@njit(**_JIT)
def id_values_into(ids, seed, out):
    """:func:`id_values` into ``out[:len(ids)]``, which is returned (``out`` may be reused)."""
    n = ids.shape[0]
    if out.shape[0] < n:
        raise ValueError("id_values_into: out is shorter than ids")
    for i in range(n):
        out[i] = _mod61(fmix64(np.uint64(np.int64(ids[i])) ^ seed))
    return out[:n]


@njit(inline="always", **_JIT)
def _step61(h, base, t):
    return _addmod61(mulmod61(h, base), t)


@njit(**_JIT)
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
    out[0] = _U0
    r = n // 4  # runs [0, r), [r, 2r), [2r, 3r), [3r, n)
    h0 = h1 = h2 = h3 = _U0
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
    step = _pow61(base, r)
    c1 = out[r]
    c2 = _addmod61(mulmod61(c1, step), out[2 * r])
    c3 = _addmod61(mulmod61(c2, step), out[3 * r])
    pw = _U1
    for j in range(1, r + 1):  # out[s*r + j] += c_s * base**j
        pw = mulmod61(pw, base)
        out[r + j] = _addmod61(out[r + j], mulmod61(c1, pw))
        out[2 * r + j] = _addmod61(out[2 * r + j], mulmod61(c2, pw))
        out[3 * r + j] = _addmod61(out[3 * r + j], mulmod61(c3, pw))
    for i in range(4 * r + 1, n + 1):
        pw = mulmod61(pw, base)
        out[i] = _addmod61(out[i], mulmod61(c3, pw))
    return out


@njit(**_JIT)
def prefix_values(tokens, base):
    """Prefix polynomial values: ``H[0] = 0``, ``H[i+1] = H[i]*base + tokens[i] (mod P)``."""
    out = np.empty(tokens.shape[0] + 1, dtype=np.uint64)
    prefix_into(tokens, base, out)
    return out


@njit(inline="always", **_JIT)
def _pow61(base, e):
    """``base**e mod P`` by squaring."""
    result = _U1
    b = np.uint64(base)
    while e > 0:
        if e & 1:
            result = mulmod61(result, b)
        b = mulmod61(b, b)
        e >>= 1
    return result


# --------------------------------------------------------------------------- windows


@njit(inline="always", **_JIT)
def _window_hash(prefix, i, n, base_n, salt):
    a = prefix[i + n]
    b = mulmod61(prefix[i], base_n)
    v = a - b if a >= b else a + _P - b
    return fmix64(v ^ np.uint64(salt))


@njit(inline="always", **_JIT)
def _first_window(doc, d, d0, skip, n, step, before):
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


@njit(**_JIT)
def window_hashes(prefix, doc, d0, d1, n, base_n, salt, skip=0, step=1, before=0):
    """64-bit hashes of the ``n``-token windows inside documents ``d0 .. d1-1``.

    Windows never cross document boundaries; ``doc`` holds token offsets per document. Windows
    start every ``step`` tokens (1: sliding windows; ``n``: non-overlapping chunks). See
    :func:`_first_window` for ``skip`` and ``before``.
    """
    total = 0
    for d in range(d0, d1):
        first = _first_window(doc, d, d0, skip, n, step, before)
        last = doc[d + 1] - n  # last start
        if last >= first:
            total += (last - first) // step + 1
    out = np.empty(total, dtype=np.uint64)
    k = 0
    for d in range(d0, d1):
        for i in range(_first_window(doc, d, d0, skip, n, step, before), doc[d + 1] - n + 1, step):
            out[k] = _window_hash(prefix, i, n, base_n, salt)
            k += 1
    return out


@njit(inline="always", **_JIT)
def _hip_step(st, old, new, m, top):
    """The HIP (historic inverse probability) increment for a register growing from ``old``
    to ``new``; updates the register summary ``st`` (see :func:`hip_state`).

    A new distinct item grows a register with probability ``q = sum_i 2**-reg_i / m`` (rank
    ``r`` has probability ``2**-r``; a register at the top rank ``top + 1`` cannot grow), so each
    growth adds ``1 / q`` to the running estimate. The summary is kept in exact integers, so
    ``q`` is a function of the registers alone: the same registers give the same bits however
    they were reached (in one pass, or shard by shard and replayed).
    """
    s = float(st[0]) + float(st[1]) * 2.0 ** (-top)  # m * q
    if old == 0:
        st[0] -= _U1
    else:
        st[1] -= _U1 << np.uint64(top - old)
    if new <= top:
        st[1] += _U1 << np.uint64(top - new)
    return m / s


@njit(**_JIT)
def hip_state(regs, p):
    """The register summary the HIP estimate needs, per row of a ``(k, 2**p)`` int8 array:
    uint64 ``(k, 2)`` = (registers at 0, sum of ``2**(64 - p - r)`` over registers at
    ``1 <= r <= 64 - p``). The sum is below ``2**63 + 1``: at most ``2**p`` terms of at most
    ``2**(63 - p)``."""
    top = 64 - p
    out = np.zeros((regs.shape[0], 2), dtype=np.uint64)
    for j in range(regs.shape[0]):
        for i in range(regs.shape[1]):
            r = regs[j, i]
            if r == 0:
                out[j, 0] += _U1
            elif r <= top:
                out[j, 1] += _U1 << np.uint64(top - r)
    return out


@njit(parallel=True, nogil=True, cache=True)
def hll_update_windows(
    prefix, doc, d0, d1, ns, bases, salts, p, regs, skip=0, stride=False, before=0, keep=None,
    hipst=None, hip=None,
):  # fmt: skip
    """Add every window of every size ``ns[j]`` in documents ``d0 .. d1-1`` to ``regs[j]``.

    One thread per window size; each writes only its own register row, so the result does not
    depend on the number of threads.

    Args:
        prefix: uint64 prefix values from :func:`prefix_values`.
        doc: int64 token offsets per document.
        ns, bases, salts: int64 window sizes, uint64 ``B**n mod P`` and uint64 salts.
        p: int64 precision.
        regs: int8 array of shape ``(len(ns), 2**p)``, updated in place.
        skip, before: tokens of document ``d0`` carried over from an earlier piece, and the
            document position of its first token here (see :func:`_first_window`).
        stride: count non-overlapping windows (every ``n`` tokens) instead of sliding ones.
        keep: optional uint8 flag per document (indexed like ``doc``); documents flagged 0 are
            left out.
        hipst, hip: optional register summaries (:func:`hip_state`) and float64 running HIP
            estimates per window size, both updated in place (see :func:`_hip_step`). Each
            window size is one sequential stream, so the estimates do not depend on the number
            of threads either.
    """
    m = float(regs.shape[1])
    top = 64 - p
    for j in prange(ns.shape[0]):
        n = ns[j]
        base_n = bases[j]
        salt = salts[j]
        reg = regs[j]
        # the HIP state of row j in thread-local copies, written back once: rows j share cache
        # lines, and a write per register growth from two threads took away the second
        # thread's gain
        st = np.zeros(2, dtype=np.uint64)
        acc = 0.0
        if hip is not None:
            st[0] = hipst[j, 0]
            st[1] = hipst[j, 1]
            acc = hip[j]
        for d in range(d0, d1):
            if keep is not None and keep[d] == 0:
                continue
            step = n if stride else 1
            first = _first_window(doc, d, d0, skip, n, step, before)
            for i in range(first, doc[d + 1] - n + 1, step):
                idx, rank = _hll_rank(_window_hash(prefix, i, n, base_n, salt), p)
                if rank > reg[idx]:
                    if hip is not None:
                        acc += _hip_step(st, reg[idx], rank, m, top)
                    reg[idx] = rank
        if hip is not None:
            hipst[j, 0] = st[0]
            hipst[j, 1] = st[1]
            hip[j] = acc


@njit(parallel=True, nogil=True, cache=True)
def hll_log_windows(
    prefix, doc, d0, d1, ns, bases, salts, p, regs, skip, stride, before, doc_base, log_doc,
    log_key, counts,
):  # fmt: skip
    """:func:`hll_update_windows`, recording every register that grows.

    Row ``j`` of the log gets, for each growth, the document's number ``doc_base + d`` in
    ``log_doc[j]`` and ``idx << 8 | rank`` in ``log_key[j]``, from position ``counts[j]`` on
    (advanced in place). Replaying a log in order up to a document gives the registers right
    after it, which is how a checkpoint inside a shard counted elsewhere is rebuilt. The
    log needs room for one entry per window of the call in the worst case.
    """
    for j in prange(ns.shape[0]):
        n = ns[j]
        base_n = bases[j]
        salt = salts[j]
        reg = regs[j]
        c = counts[j]
        for d in range(d0, d1):
            step = n if stride else 1
            first = _first_window(doc, d, d0, skip, n, step, before)
            for i in range(first, doc[d + 1] - n + 1, step):
                idx, rank = _hll_rank(_window_hash(prefix, i, n, base_n, salt), p)
                if rank > reg[idx]:
                    reg[idx] = rank
                    log_doc[j, c] = doc_base + d
                    log_key[j, c] = (np.int64(idx) << 8) | rank
                    c += 1
        counts[j] = c


@njit(**_JIT)
def hip_replay(flat_regs, m, p, hipst, hip, log_reg, log_rank, start, stop):
    """Apply entries ``start .. stop-1`` of a :func:`hll_log_windows` log (flat register index,
    rank) to registers viewed flat, carrying the HIP estimates along (``hipst``, ``hip`` as in
    :func:`hll_update_windows`; row ``j`` of the registers is ``flat_regs[j*m:(j+1)*m]``).

    Replaying in order a log of every register growth of a shard counted on its own, against
    the registers of all the shards before it, meets exactly the growths a single pass would
    have made (a window that grows the running registers also grew the shard's own), in the
    same order, so the estimates come out bit for bit the same.
    """
    top = 64 - p
    mf = float(m)
    for k in range(start, stop):
        r = log_reg[k]
        new = log_rank[k]
        if new > flat_regs[r]:
            j = r // m
            hip[j] += _hip_step(hipst[j], flat_regs[r], new, mf, top)
            flat_regs[r] = new


@njit(**_JIT)
def hll_update_hashes(reg, hashes, p):
    """Add 64-bit hashes to one HyperLogLog++ register array (datasketch's layout)."""
    for k in range(hashes.shape[0]):
        idx, rank = _hll_rank(hashes[k], p)
        if rank > reg[idx]:
            reg[idx] = rank


@njit(**_JIT)
def reg_histograms(regs):
    """Histogram of register values per row of a ``(k, m)`` int8 array: int64 ``(k, 65)``.

    Four partial histograms, summed at the end: runs of equal registers (most are 0 early
    on) would otherwise wait on the same counter one increment after another.
    """
    out = np.zeros((regs.shape[0], 65), dtype=np.int64)
    part = np.zeros((4, 65), dtype=np.int64)
    m = regs.shape[1]
    for j in range(regs.shape[0]):
        part[:] = 0
        row = regs[j]
        i = 0
        while i + 4 <= m:
            part[0, row[i]] += 1
            part[1, row[i + 1]] += 1
            part[2, row[i + 2]] += 1
            part[3, row[i + 3]] += 1
            i += 4
        while i < m:
            part[0, row[i]] += 1
            i += 1
        for v in range(65):
            out[j, v] = part[0, v] + part[1, v] + part[2, v] + part[3, v]
    return out


# --------------------------------------------------------------------------- MinHash
#
# datasketch's "affine64" scheme: a hash h is pre-mixed once, y = fmix64(h), and permutation k
# maps it to a_k * y + b_k (mod 2**64). The signature keeps the minimum per k. Signatures are held
# here *biased*: s = (v XOR 2**63) as int64, so that the minimum of unsigned values is a signed
# minimum, which AVX2 does in two instructions instead of three. Unbias with
# ``sig.view(np.uint64) ^ 2**63``; the empty value 2**64 - 1 is MINHASH_EMPTY.


@njit(inline="always", **_JIT)
def _minhash_block(sig, a, b, buf, count):
    """Add the pre-mixed values ``buf[:count]`` to the biased signature ``sig``.

    Two permutations per pass over the buffer, each minimum kept in a register: the loop over
    the buffer vectorises (measured fastest of the layouts tried, benchmarks/bench_minhash.py).
    """
    k_perm = sig.shape[0]
    k = 0
    while k + 2 <= k_perm:
        a0 = a[k]
        b0 = b[k]
        a1 = a[k + 1]
        b1 = b[k + 1]
        s0 = sig[k]
        s1 = sig[k + 1]
        for t in range(count):
            y = buf[t]
            s0 = min(s0, np.int64((a0 * y + b0) ^ _SIGN))
            s1 = min(s1, np.int64((a1 * y + b1) ^ _SIGN))
        sig[k] = s0
        sig[k + 1] = s1
        k += 2
    if k < k_perm:
        ak = a[k]
        bk = b[k]
        s0 = sig[k]
        for t in range(count):
            s0 = min(s0, np.int64((ak * buf[t] + bk) ^ _SIGN))
        sig[k] = s0


@njit(**_JIT)
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


@njit(**_JIT)
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


@njit(parallel=True, nogil=True, cache=True)
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
            first = _first_window(doc, d, d0, skip, n, step, before)
            for i in range(first, doc[d + 1] - n + 1, step):
                h = _window_hash(prefix, i, n, base_n, salt)
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


@njit(parallel=True, nogil=True, cache=True)
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
        first = _first_window(doc, d, d0, skip, n, 1, before)
        for i in range(first, doc[d + 1] - n + 1):
            buf[m] = fmix64(_window_hash(prefix, i, n, base_n, salt))
            m += 1
            if m == _MH_BUF:
                _minhash_block(sig, a, b, buf, m)
                m = 0
        _minhash_block(sig, a, b, buf, m)


# --------------------------------------------------------------------------- exact counting


@njit(**_JIT)
def set_insert(table, hashes, start, count, limit):
    """Insert ``hashes[start:]`` into an open-addressing set until it holds ``limit`` keys.

    ``table`` is a power-of-two uint64 array; 0 marks an empty slot, so the key 0 is stored as
    its own flag in ``count`` bookkeeping by the caller (see :class:`seqcount.sketch.ExactSet`).

    Returns:
        (keys now in the table, index of the first hash not yet inserted).
    """
    mask = np.uint64(table.shape[0] - 1)
    k = start
    while k < hashes.shape[0] and count < limit:
        h = hashes[k]
        k += 1
        if h == _U0:
            continue
        slot = h & mask
        while True:
            cur = table[slot]
            if cur == h:
                break
            if cur == _U0:
                table[slot] = h
                count += 1
                break
            slot = (slot + _U1) & mask
    return count, k


@njit(**_JIT)
def set_rehash(old, new):
    """Move every key of ``old`` into the empty table ``new``."""
    mask = np.uint64(new.shape[0] - 1)
    for k in range(old.shape[0]):
        h = old[k]
        if h != _U0:
            slot = h & mask
            while new[slot] != _U0:
                slot = (slot + _U1) & mask
            new[slot] = h
