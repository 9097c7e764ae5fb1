"""Token values (``words``, ``bytes``, ``ids``) and their prefix polynomial values.

Every token becomes a *token value* ``t`` in ``[0, P)`` with ``P = 2**61 - 1``:

* ``words``: the token's UTF-8 bytes, cut into 7-byte little-endian chunks ``c_1..c_k``, hashed as
  the polynomial ``len*Bt**k + c_1*Bt**(k-1) + ... + c_k  (mod P)``;
* ``bytes``: the byte value plus one;
* ``ids``: ``fmix64(id XOR s_id) mod P``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit import JIT
from .mix import U0, U1, addmod61, fmix64, mod61, mulmod61, pow61

_U8 = np.uint64(8)

#: Character classes of the ``words`` tokenizer.
CLASS_SPACE, CLASS_WORD, CLASS_OTHER = 0, 1, 2


@njit(inline="always", **JIT)
def _bytes_value(data, start, end, bt):
    """Token value of ``data[start:end]``: length-prefixed polynomial over 7-byte chunks."""
    h = np.uint64(end - start)
    i = start
    while i < end:
        c = U0
        shift = U0
        stop = min(i + 7, end)
        while i < stop:
            c |= np.uint64(data[i]) << shift
            shift += _U8
            i += 1
        h = addmod61(mulmod61(h, bt), c)
    return h


@njit(**JIT)
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


@njit(**JIT)
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


@njit(**JIT)
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


@njit(inline="always", **JIT)
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
