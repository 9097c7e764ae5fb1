"""The ``words`` tokenizer: UTF-8 documents to token values, and safe places to cut a text.

The tokens are those of ``re.findall(r"\\w+|[^\\w\\s]", text)`` under the character classes the
caller passes (:func:`seqcount.tokenize.word_classes`: Python's own ``re``), invalid UTF-8
replaced as ``bytes.decode("utf-8", "replace")`` does. A token's value is its UTF-8 bytes cut
into 7-byte little-endian chunks ``c_1..c_k``, hashed as the polynomial
``len*Bt**k + c_1*Bt**(k-1) + ... + c_k  (mod 2**61 - 1)`` (:func:`_bytes_value`; U+FFFD for an
invalid sequence).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import types
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import intrinsic

from .jit import JIT
from .mix import U0, U1, addmod61, mulmod61

_U8 = np.uint64(8)

#: Character classes of the ``words`` tokenizer.
CLASS_SPACE, CLASS_WORD, CLASS_OTHER = 0, 1, 2


@njit(**JIT)
def _bytes_value(data, start, end, bt):
    """Token value of ``data[start:end]``: length-prefixed polynomial over 7-byte chunks."""
    h = np.uint64(end - start)
    i = start
    while i < end:
        c = U0
        for j in range(7):  # a fixed count: unrolled, not made into vector code
            if i + j < end:
                c |= np.uint64(data[i + j]) << (_U8 * np.uint64(j))
        h = addmod61(mulmod61(h, bt), c)
        i += 7
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


#: Bytes of a document classified at a time by :func:`tokenize_words` (its scratch size).
WORDS_BLOCK = 16384
# Byte classes inside tokenize_words: a word character's bytes are all _W, another character
# (or an invalid sequence) is _O then _OC for its further bytes, a space's bytes are 0.
_W, _O, _OC = np.uint8(CLASS_WORD), np.uint8(CLASS_OTHER), np.uint8(4)
_HIGH = np.uint8(8)  # a byte >= 0x80 before its character is decoded
_U7 = np.uint64(7)
_U56 = np.uint64(56)
_M56 = np.uint64((1 << 56) - 1)
_LANES1 = np.uint64(0x0101010101010101)  # bit 0 of every byte
_HIGH_BITS = np.uint64(0x8080808080808080)
_PACK = np.uint64(0x0102040810204080)  # (x * _PACK) >> 56: bit 0 of byte j to bit j


if numba.config.DISABLE_JIT:  # the no-JIT test lane runs kernel bodies as plain Python

    def _load8(data, p):
        """``data[p:p+8]`` as a little-endian uint64."""
        return np.uint64(int.from_bytes(data[p : p + 8].tobytes(), "little"))

    def trailing_zeros(x):
        """Trailing zero bits of a 64-bit word (64 for 0)."""
        x = int(x)
        return (x & -x).bit_length() - 1 if x else 64

else:

    @intrinsic
    def _load8(typingctx, data, p):
        """``data[p:p+8]`` of a C-contiguous uint8 array as a little-endian uint64: one
        unaligned load, no bounds check (the caller keeps ``p + 8 <= len(data)``)."""
        if not (
            isinstance(data, types.Array)
            and data.dtype == types.uint8
            and data.ndim == 1
            and data.layout == "C"
            and isinstance(p, types.Integer)
        ):
            return None

        def codegen(context, builder, signature, args):
            arr = context.make_array(signature.args[0])(context, builder, args[0])
            ptr = builder.gep(arr.data, [args[1]])
            return builder.load(builder.bitcast(ptr, ir.IntType(64).as_pointer()), align=1)

        return types.uint64(data, p), codegen


@njit(**JIT)
def _ascii_class(c):
    """Python's ``re`` class of the ASCII byte ``c`` (``\\w``: letters, digits, ``_``;
    ``\\s``: ``\\t\\n\\v\\f\\r``, 0x1C-0x1F and the space), or ``_HIGH`` if ``c >= 0x80``;
    compares only, so a loop of it vectorises."""
    w = ((c >= 97) & (c <= 122)) | ((c >= 65) & (c <= 90)) | ((c >= 48) & (c <= 57)) | (c == 95)
    s = ((c >= 9) & (c <= 13)) | ((c >= 28) & (c <= 32))
    h = c >= 128
    return np.uint8(w) | (np.uint8(not (w | s | h)) << np.uint8(1)) | (np.uint8(h) << np.uint8(3))


@njit(**JIT)
def _ascii_classes_agree(classes):
    """Whether ``classes[:128]`` are those of :func:`_ascii_class` (always, for a table made
    by Python's ``re``)."""
    for c in range(128):
        if classes[c] != _ascii_class(np.uint8(c)):
            return False
    return True


@njit(**JIT)
def _classify_ascii(data, lo, n, atab, cls, fixed):
    """``cls[k]`` = the class of the byte ``data[lo + k]`` for ``k < n``: ``atab[byte]``, or
    (``fixed``: ``atab`` is :func:`_ascii_class`) the vectorised :func:`_ascii_class`.
    Returns whether a byte was >= 0x80."""
    if fixed:
        for k in range(n):
            cls[np.uint64(k)] = _ascii_class(data[np.uint64(lo + k)])
    else:
        for k in range(n):
            cls[np.uint64(k)] = atab[data[np.uint64(lo + k)]]
    acc = U0
    for k in range(0, n - 7, 8):
        acc |= _load8(data, lo + k)
    for k in range(n - n % 8, n):
        acc |= np.uint64(data[lo + k])
    return (acc & _HIGH_BITS) != U0


@njit(**JIT)
def _lane_bits(x):
    """Bit 0 of each byte of ``x`` gathered into bits 0..7."""
    return ((x & _LANES1) * _PACK) >> _U56


@njit(**JIT)
def _decode_run(data, lo, a, hi, end, classes, cls, bad, nbad):
    """Give the bytes of each non-ASCII character starting in ``[a, hi)`` their class in
    ``cls`` (``cls[0]`` is the byte ``lo``; an invalid sequence: other, its start added to
    ``bad``), one character at a time by :func:`_decode_utf8` (the groups that
    :func:`_group_utf8` declines). A character may run past ``hi`` (never past ``end``).
    Returns the end of the last character (at least ``hi``), ``nbad`` and the number of
    invalid sequences.

    A character's first byte gets its class ``c`` (0, 1 or 2), its further bytes
    ``c + (c & 2)`` (so an other's further bytes are ``_OC``).
    """
    ninvalid = 0
    top = hi  # the end of the last character decoded
    k = a
    while k < hi:
        if data[k] < 0x80:
            k += 1
            continue
        cp, length, valid = _decode_utf8(data, k, end)
        c = classes[cp] if valid else _O
        if not valid:
            bad[nbad] = k
            nbad += 1
            ninvalid += 1
        cls[k - lo] = c
        for j in range(1, length):
            cls[k - lo + j] = c + (c & 2)
        k += length
        top = max(top, k)
    return top, nbad, ninvalid


@njit(**JIT)
def _pair_classes(classes):
    """The class of each valid two-byte character ``b0 b1`` at ``b0 << 8 | b1`` (0, 1 or 2);
    4 where ``b0 b1`` starts a valid three-byte character (E0: no overlong forms, ED: no
    surrogates); else 8."""
    pairs = np.empty(1 << 16, dtype=np.uint8)
    pairs[:] = 8
    for b0 in range(0xC2, 0xF0):
        lo1 = 0xA0 if b0 == 0xE0 else 0x80
        hi1 = 0x9F if b0 == 0xED else 0xBF
        for b1 in range(lo1, hi1 + 1):
            if b0 < 0xE0:
                pairs[(b0 << 8) | b1] = classes[((b0 & 0x1F) << 6) | (b1 & 0x3F)]
            else:
                pairs[(b0 << 8) | b1] = 4
    return pairs


@njit(**JIT)
def _group_utf8(data, lo, g, k, end, classes, cls, pairs):
    """Classify the non-ASCII characters starting in the 64 bytes ``[g, g + 64)`` at or
    after ``k`` without branches on the data, if they are all valid two- or three-byte
    characters (else return -1, having written ``cls[g - lo:]`` at most 66 bytes on).

    The bit masks of first bytes (>= 0xC0) and further bytes (0x80-0xBF) are made eight
    bytes at a time; each first byte is decoded and checked (``pairs``:
    :func:`_pair_classes`), and every further byte of the group must belong to one of
    them. Returns the end of the last character (or ``k``). Needs ``g + 72 <= len(data)``.
    """
    lead = U0
    cont = U0
    for j in range(8):
        w = _load8(data, g + 8 * j)
        b7 = w >> np.uint64(7)
        b6 = w >> np.uint64(6)
        lead |= _lane_bits(b7 & b6) << np.uint64(8 * j)
        cont |= _lane_bits(b7 & ~b6) << np.uint64(8 * j)
    if k > g:  # the further bytes of the previous group's last character
        done = (U1 << np.uint64(k - g)) - U1
        lead &= ~done
        cont &= ~done
    expect = U0
    err = np.uint8(0)
    ug = np.uint64(g)
    ulo = np.uint64(lo)
    while lead != U0:
        pos = np.uint64(trailing_zeros(lead))
        lead &= lead - U1
        q = ug + pos
        x = _load8(data, q)
        c = pairs[((x << _U8) & np.uint64(0xFF00)) | ((x >> _U8) & np.uint64(0xFF))]
        three = c == 4
        if three:
            b2 = (x >> np.uint64(16)) & np.uint64(0xFF)
            err |= np.uint8((b2 & np.uint64(0xC0)) != np.uint64(0x80)) << np.uint8(3)
            cp = ((x & np.uint64(0x0F)) << np.uint64(12)) | (b2 & np.uint64(0x3F))
            c = classes[cp | ((x & np.uint64(0x3F00)) >> np.uint64(2))]
        err |= c
        rest = c + (c & 2)
        r = q - ulo
        cls[r] = c
        cls[r + U1] = rest
        if three:
            cls[r + np.uint64(2)] = rest
        length = np.uint64(2 + three)
        expect |= ((U1 << (length - U1)) - U1) << pos << U1
        k = np.int64(q + length)
    if (err & 8) == 0 and k <= end and (cont & ~expect) == U0:
        return k
    return -1


@njit(**JIT)
def _classify_utf8(data, lo, hi, end, classes, cls, bad, nbad, pairs):
    """Give the bytes of each non-ASCII character starting in ``[lo, hi)`` their class in
    ``cls`` (an invalid sequence: other, its start added to ``bad``). A character may run
    past ``hi`` (never past ``end``). Returns the block's new end, ``nbad`` and the number
    of invalid sequences.

    64 bytes at a time by :func:`_group_utf8`; a group it declines (an invalid sequence, a
    four-byte character, the end of the block or of ``data``) has its ASCII classes put
    back and goes to :func:`_decode_run`.
    """
    n = data.shape[0]
    ninvalid = 0
    k = lo  # the first byte not classified yet
    g = lo
    while g < hi:
        b = min(g + 64, hi)
        if b == g + 64 and g + 72 <= n:
            r = _group_utf8(data, lo, g, k, end, classes, cls, pairs)
            if r >= 0:
                k = max(k, r)
                g = b
                continue
            for p in range(max(g, k), min(g + 67, n)):
                c = data[p]
                cls[p - lo] = classes[c] if c < 0x80 else _HIGH
        r, nbad, inv = _decode_run(data, lo, max(g, k), b, end, classes, cls, bad, nbad)
        ninvalid += inv
        k = max(k, r)
        g = b
    bad[nbad] = -1  # a sentinel: no token starts there
    return max(k, hi), nbad, ninvalid


@njit(**JIT)
def _flags(prev, cur):
    """For a byte of class ``cur`` after one of class ``prev``: bit 0 if a token starts at
    it (an other's first byte, or a word byte after a non-word byte), bit 1 if one ends just
    before it (a non-word byte after a word byte, or any byte after an other's last byte)."""
    u1 = np.uint8(1)
    s = ((cur >> u1) | (cur & ~prev)) & u1
    e = ((prev & ~cur) | (((prev | (prev >> u1)) >> u1) & ~(cur >> np.uint8(2)))) & u1
    return s | (e << u1)


@njit(**JIT)
def _boundaries(cls, lo, n, prev, st, ns, en, fl):
    """Token starts (appended to ``st[ns:]``) and ends (to ``en``) of the block of ``n``
    classes ``cls[:n]`` at ``data[lo:]``; ``prev``: the class of the byte before it.

    The :func:`_flags` of every byte (a loop that vectorises) go to ``fl``; those of 64
    bytes become two bit masks, whose set bits are listed. ``fl`` must be writable to the
    next multiple of 64 past ``n``. Returns ``(ns, ne)``.
    """
    ne = 0
    fl[0] = _flags(prev, cls[0])
    for k in range(1, n):
        fl[np.uint64(k)] = _flags(cls[np.uint64(k - 1)], cls[np.uint64(k)])
    for g in range(0, n, 64):
        sm = U0
        em = U0
        for j in range(8):
            w = _load8(fl, g + 8 * j)
            sm |= _lane_bits(w) << np.uint64(8 * j)
            em |= _lane_bits(w >> U1) << np.uint64(8 * j)
        if n - g < 64:
            keep = (U1 << np.uint64(n - g)) - U1
            sm &= keep
            em &= keep
        base = lo + g
        while (sm | em) != U0:  # a start and an end a turn (trailing_zeros(0) is 64)
            st[ns] = base + np.int64(trailing_zeros(sm))
            ns += sm != U0
            sm &= sm - U1
            en[ne] = base + np.int64(trailing_zeros(em))
            ne += em != U0
            em &= em - U1
    return ns, ne


@njit(**JIT)
def _long_value(data, start, end, bt):
    """:func:`_bytes_value` of ``data[start:end]`` with 8-byte loads (``end + 7 <=
    len(data)``)."""
    h = mulmod61(np.uint64(end - start), bt)
    p = start
    while p < end:
        m = np.uint64(min(end - p, 7))
        c = _load8(data, p) & ((U1 << (_U8 * m)) - U1)
        h = addmod61(mulmod61(h, bt) if p > start else h, c)
        p += 7
    return h


@njit(**JIT)
def _values(data, st, en, ne, bad, fffd_value, len_bt, bt, out, ntok, out_starts, out_ends):
    """Token values of the spans ``data[st[t]:en[t]]``, ``t < ne``, into ``out[ntok:]`` (and
    the spans into ``out_starts``/``out_ends`` unless empty); ``len_bt[L] = L * bt mod P``
    for ``L <= 7``. The spans starting at the positions ``bad`` (up to a -1) that are in
    ``st`` are invalid sequences: U+FFFD. Returns how many ``bad`` it used.

    A token of up to 7 bytes (most) is one 8-byte load, one of up to 14 two; the last tokens
    of ``data``, where 8 bytes cannot be loaded, go byte by byte.
    """
    n = data.shape[0]
    fast = ne
    while fast > 0 and en[fast - 1] + 7 > n:
        fast -= 1
    for t in range(fast):
        u = np.uint64(t)
        start = st[u]
        length = np.uint64(en[u] - start)
        if length <= 7:
            c = _load8(data, start) & ((U1 << (_U8 * length)) - U1)
            h = addmod61(len_bt[length], c)
        elif length <= 14:
            h = addmod61(mulmod61(length, bt), _load8(data, start) & _M56)
            c = _load8(data, start + 7) & ((U1 << (_U8 * (length - _U7))) - U1)
            h = addmod61(mulmod61(h, bt), c)
        else:
            h = _long_value(data, start, en[u], bt)
        out[np.uint64(ntok) + u] = h
    for t in range(fast, ne):
        out[ntok + t] = _bytes_value(data, st[t], en[t], bt)
    b = 0
    t = 0
    while bad[b] >= 0:  # invalid sequences are rare: find their tokens
        while t < ne and st[t] < bad[b]:
            t += 1
        if t == ne or st[t] != bad[b]:
            break  # the open token, finished in the next block
        out[ntok + t] = fffd_value
        b += 1
    if out_starts.shape[0] > 0:
        for t in range(ne):
            out_starts[ntok + t] = st[t]
            out_ends[ntok + t] = en[t]
    return b


@njit(**JIT)
def tokenize_words(
    data, offsets, classes, bt, out_tokens, out_doc, out_starts, out_ends, block=WORDS_BLOCK
):
    """Split UTF-8 documents into ``re.findall(r"\\w+|[^\\w\\s]", text)`` tokens.

    Args:
        data: uint8 bytes of all documents.
        offsets: int64, document ``d`` is ``data[offsets[d]:offsets[d+1]]``.
        classes: uint8 per code point: CLASS_SPACE, CLASS_WORD or CLASS_OTHER.
        bt: token-hash base.
        out_tokens: uint64 output, at least ``offsets[-1] - offsets[0]`` long.
        out_doc: int64 output of ``len(offsets)``: token offsets per document.
        out_starts, out_ends: int64 byte spans of each token, or empty arrays to skip them.
        block: bytes of a document taken at a time (the tests make it small).

    Returns:
        (number of tokens, number of invalid UTF-8 sequences replaced by U+FFFD).

    Per block, four passes: the ASCII class of every byte (:func:`_classify_ascii`); if the
    block has a byte >= 0x80, the class of each non-ASCII character (:func:`_classify_utf8`;
    the block then ends at the end of a character); token starts and ends from the classes
    (:func:`_boundaries`); the token values from 8-byte loads (:func:`_values`). A token
    still open at the end of a block is finished in the next. The values are those of
    :func:`_bytes_value` of each token.
    """
    text = np.ascontiguousarray(data)  # the 8-byte loads need contiguous bytes (no copy if so)
    fffd = np.zeros(3, dtype=np.uint8)
    fffd[0], fffd[1], fffd[2] = 0xEF, 0xBF, 0xBD
    fffd_value = _bytes_value(fffd, 0, 3, bt)
    len_bt = np.empty(8, dtype=np.uint64)
    for length in range(8):
        len_bt[length] = mulmod61(np.uint64(length), bt)
    atab = np.empty(256, dtype=np.uint8)
    atab[:] = _HIGH
    for c in range(128):
        atab[c] = classes[c]
    fixed = _ascii_classes_agree(classes)
    pairs = _pair_classes(classes)
    cls = np.zeros(block + 80, dtype=np.uint8)  # a block may grow by 3; reads run to +64
    fl = np.zeros(block + 80, dtype=np.uint8)
    st = np.empty(block + 8, dtype=np.int64)
    en = np.empty(block + 8, dtype=np.int64)
    bad = np.empty(block + 8, dtype=np.int64)
    # np.int64(0), not 0: a literal 0 passed on would make numba compile each callee twice
    ntok = np.int64(0)
    ninvalid = 0
    out_doc[0] = 0
    for d in range(offsets.shape[0] - 1):
        lo = offsets[d]
        end = offsets[d + 1]
        prev = np.uint8(0)
        ns = np.int64(0)  # 1 while a token is open across blocks: its start is st[0]
        nbad = np.int64(0)
        bad[0] = -1
        while lo < end:
            hi = min(lo + block, end)
            if _classify_ascii(text, lo, hi - lo, atab, cls, fixed):
                hi, nbad, k = _classify_utf8(text, lo, hi, end, classes, cls, bad, nbad, pairs)
                ninvalid += k
            ns, ne = _boundaries(cls, lo, hi - lo, prev, st, ns, en, fl)
            prev = cls[hi - lo - 1]
            if hi == end and prev != 0:
                en[ne] = end
                ne += 1
            b = _values(text, st, en, ne, bad, fffd_value, len_bt, bt, out_tokens, ntok,
                        out_starts, out_ends)  # fmt: skip
            ntok += ne
            # the open token (if any) starts the next block's list, with its bad mark
            st[0] = st[ne]
            ns -= ne
            for j in range(nbad - b + 1):
                bad[j] = bad[b + j]
            nbad -= b
            lo = hi
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
