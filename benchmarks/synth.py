"""Seeded synthetic corpora: Parquet shards of exactly N tokens, for benchmarks up to 1e9 tokens.

The benchmarks need corpora far larger than the bundled sample, without downloads, and the same
bytes on every run. :func:`generate` writes them; ``python -m benchmarks.synth`` is its command
line. Nothing here is part of the installed ``seqcount`` package.

Model
-----
A corpus is a sequence of documents; a document is a sequence of tokens drawn independently from
a fixed vocabulary of ``vocab`` types:

* **Token frequencies are Zipfian.** The type of rank ``r`` (1 = most frequent) is drawn with
  probability proportional to ``1 / r**zipf`` over the finite vocabulary (``zipf = 0`` is
  uniform). Natural-language word frequencies follow this law with an exponent near 1, and it is
  what makes distinct n-gram counts grow sub-linearly with the corpus, as in real text: the head
  of the distribution repeats, the tail keeps bringing new types and new n-grams. With the
  defaults (``zipf = 1.1`` over 50,000 types) 10,000 tokens hold about 2,800 distinct unigrams,
  1e6 tokens 42,000, and 1e7 all 50,000; distinct bigrams are 76% of the windows at 1e4 tokens,
  45% at 1e6 and 30% at 1e7. Tokens are independent of their neighbours (no grammar), so long
  n-grams (n >= 4 or so) are almost all distinct unless documents are duplicated: U_n(D) ~ D
  there, the regime a streaming counter finds hardest.
* **Document lengths are log-normal** around ``doc_tokens``: ``exp(mu + doc_sigma * Z)``
  tokens, rounded, at least 1, with ``mu`` chosen so that the mean is ``doc_tokens`` and ``Z``
  the Irwin-Hall approximation of a standard normal (the sum of 12 uniforms minus 6; bounded at
  +-6, so no document is more than about 250x the mean at ``doc_sigma = 1``). Web and book
  corpora have about this shape: many short documents, a long tail of long ones.
* **Exact duplicates**: each document after the first of a shard is, with probability
  ``dup_rate``, an exact copy of an earlier document of the same shard (chosen uniformly; a copy
  of a copy is a copy of the original), so duplication can be studied; the rest are fresh draws.
  Duplicates never cross shards.
* **Exactly ``tokens`` tokens**: the shards hold ``tokens // shards`` tokens each (the first
  ``tokens % shards`` one more); the last document of a shard is cut to fit (if it was a
  duplicate and had to be cut, it becomes a fresh document instead).

Two kinds of shard, from the same token sequence (same seed: the same documents, token for
token, so both give the same distinct-window counts):

* ``kind="text"``: a ``text`` column (``string``): the words of a document separated by single
  spaces. The vocabulary is ``vocab`` distinct lowercase ASCII words (a..z, 1 to 20 letters;
  frequent words are short: 2-4 letters for the top ranks, 8-10 for the tail of a 50,000-word
  vocabulary, about 4.6 letters per token on average, so about 5.6 bytes of text per token),
  generated from the seed. seqcount's ``words`` tokenizer (``re.findall(r"\\w+|[^\\w\\s]")``)
  counts exactly one token per word.
* ``kind="ids"``: an ``ids`` column (``list<int32>``): token ids in ``[0, vocab)``; ids are a
  seeded permutation of the ranks, so id 0 is not the most frequent token.

Determinism
-----------
The same arguments give byte-identical files, on any machine: every random number is a raw
64-bit output of ``numpy.random.PCG64`` (whose stream numpy keeps stable across versions),
turned into tokens with integer arithmetic and IEEE-exact float operations only (no libm
``exp``/``log``/``pow``, whose last bit may differ between platforms or SIMD paths; the Zipf
weights and document lengths use the polynomial :func:`_exp` / :func:`_ln` below). Sampling uses
an alias table with integer probabilities. The streams are derived with
``SeedSequence(seed, spawn_key=...)``: one for the vocabulary, one for the id permutation, and
two per shard (document plan, tokens), so shard ``k`` depends only on the arguments, ``k`` and
its own token count. The *values* in the files (every string, every id) should therefore be the
same for any numpy and pyarrow version (tests/test_synth.py pins a few); the Parquet *bytes* also
need the same pyarrow version (the file records ``created_by``, and the encoder's or
compressor's output may change between releases).

Speed and memory: vectorised numpy in blocks of 16,384 tokens (no per-token Python); memory is
bounded by one shard (its token ranks, 4 bytes per token, 40 MB at the default 10M tokens) plus
two row groups in flight and the vocabulary. Shards are written one at a time, one row group
per about ``row_group_tokens`` tokens of whole documents (a background thread encodes and
compresses one row group while the next is generated; the writes stay in order, so this does
not change the bytes), to a hidden temporary name renamed when complete, so an
interrupted run leaves no truncated ``part-*.parquet``. Existing ``part-*.parquet`` files in
``out_dir`` are deleted first (other files are left alone), so a directory always holds one
corpus.

Use
---
::

    python -m benchmarks.synth /tmp/c1e8 --tokens 1e8                 # 10 text shards
    seqcount count /tmp/c1e8
    python -m benchmarks.synth /tmp/i1e8 --tokens 1e8 --kind ids --shards 4
    seqcount count /tmp/i1e8 --tokens-column ids                     # implies --tokenizer ids

From Python::

    from benchmarks.synth import generate
    paths = generate("/tmp/c", 50_000, shards=3, seed=1, dup_rate=0.1)
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import re
import sys
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "GENERATOR_VERSION",
    "IDS_COLUMN",
    "KINDS",
    "TEXT_COLUMN",
    "Progress",
    "generate",
    "main",
    "parse_count",
    "vocabulary",
]

#: Bumped whenever the same arguments would give different tokens.
GENERATOR_VERSION = 1
KINDS = ("text", "ids")
TEXT_COLUMN = "text"
IDS_COLUMN = "ids"
#: Longest vocabulary word, in letters.
MAX_WORD = 20
MAX_VOCAB = 2**31 - 1  # ids are int32
MAX_SHARDS = 100_000  # part-00000 .. part-99999
MAX_SHARD_TOKENS = 2**31 - 1  # int32 offsets; memory is about 4-5 bytes per token of a shard
MAX_DOC_TOKENS = 2**26  # longest document; keeps a row group's text under 2 GiB (int32 offsets)
MAX_MEAN_DOC_TOKENS = 10_000_000
MAX_ROW_GROUP_TOKENS = 2**24
METADATA_KEY = b"seqcount.synth"

_BLOCK = 1 << 14  # tokens per vectorised step of the text builder: temporaries stay in cache
_SAMPLE_BLOCK = 1 << 14
_C = 1 << 32  # capacity of one alias-table column (integer probabilities)
_LN2 = 0.6931471805599453  # float64 nearest to ln 2
_SQRT_HALF = 0.7071067811865476
_U53 = 2.0**-53
_SHARD_RE = re.compile(r"(?:part-\d{5,}\.parquet|\.part-\d{5,}\.parquet\.tmp)\Z")


class Progress(NamedTuple):
    """Passed to ``generate(progress=...)`` after every shard."""

    shards_done: int
    shards: int
    tokens_done: int
    tokens: int
    documents_done: int
    bytes_written: int
    seconds: float


# --------------------------------------------------------------------------- exact-ish math


def _ln(x: np.ndarray) -> np.ndarray:
    """Natural log of positive finite float64s with + - * / only (same bits on every machine).

    Error about 1e-16 relative; frexp/ldexp are exact, and IEEE + - * / are correctly rounded.
    """
    x = np.asarray(x, dtype=np.float64)
    m, e = np.frexp(x)  # x = m * 2**e, m in [0.5, 1)
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)  # m in [sqrt(1/2), sqrt(2))
    e = e.astype(np.float64) - low
    z = (m - 1.0) / (m + 1.0)  # |z| < 0.1716
    z2 = z * z
    acc = np.full_like(z, 1.0 / 29.0)
    for k in range(13, -1, -1):  # sum z2**k / (2k + 1): z2**14 < 4e-22
        acc = acc * z2 + 1.0 / (2 * k + 1)
    return e * _LN2 + 2.0 * z * acc


def _exp(x: np.ndarray) -> np.ndarray:
    """exp of float64s in about [-700, 700] with + - * / only (same bits on every machine)."""
    x = np.asarray(x, dtype=np.float64)
    k = np.rint(x / _LN2)
    f = x - k * _LN2  # |f| <= 0.35
    acc = np.full_like(f, 1.0 / math.factorial(22))
    for j in range(21, -1, -1):  # Taylor series; 0.35**23 / 23! < 1e-32
        acc = acc * f + 1.0 / math.factorial(j)
    return np.ldexp(acc, k.astype(np.int32))


def _uniform(raw: np.ndarray) -> np.ndarray:
    """Doubles in [0, 1) from raw 64-bit outputs (top 53 bits; exact)."""
    return (raw >> np.uint64(11)).astype(np.float64) * _U53


def _below(raw: np.ndarray, n) -> np.ndarray:
    """Integers in [0, n) from the top 32 bits of raw outputs (multiply-shift; n < 2**32)."""
    return ((raw >> np.uint64(32)) * np.asarray(n, dtype=np.uint64)) >> np.uint64(32)


def _stream(seed: int, *key: int) -> np.random.PCG64:
    return np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key))


# --------------------------------------------------------------------------- Zipf sampling


def _zipf_weights(vocab: int, zipf: float) -> np.ndarray:
    """int64 weights of ranks 1..vocab, proportional to r**-zipf, summing to exactly vocab*2**32."""
    if zipf == 0:
        w = np.ones(vocab, dtype=np.float64)
    else:
        w = _exp(-zipf * _ln(np.arange(1, vocab + 1, dtype=np.float64)))
    step = 1 << 20
    total = math.fsum(
        itertools.chain.from_iterable(w[i : i + step].tolist() for i in range(0, vocab, step))
    )  # correctly rounded, so platform independent
    q = np.floor(w * (vocab * float(_C) / total)).astype(np.int64)
    q[0] += vocab * _C - int(q.sum())  # rounding remainder to the most frequent rank
    if q[0] <= 0:  # pragma: no cover - impossible for the validated ranges
        raise ValueError("Zipf weights underflow")
    return q


def _alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table for int64 ``weights`` summing to ``len(weights) * 2**32``.

    Column ``i`` keeps itself with probability ``prob[i] / 2**32``, else gives ``alias[i]``;
    item ``x`` then has probability exactly ``weights[x] / sum(weights)``. Built with the
    "sweep" order (light items filled by heavy items in index order), which prefix sums compute
    without a loop: light item q is paid by the first heavy item whose cumulative excess exceeds
    the cumulative deficit of the light items before q.
    """
    w = np.asarray(weights, dtype=np.int64)
    v = w.shape[0]
    prob = np.full(v, _C, dtype=np.int64)
    alias = np.arange(v, dtype=np.int64)
    light = np.flatnonzero(w < _C)
    heavy = np.flatnonzero(w >= _C)
    if light.shape[0]:
        deficit = np.cumsum(_C - w[light])
        excess = np.cumsum(w[heavy] - _C)
        if deficit[-1] != excess[-1]:
            raise ValueError("alias table: weights must sum to len(weights) * 2**32")
        before = deficit - (_C - w[light])
        payer = np.searchsorted(excess, before, side="right")
        prob[light] = w[light]
        alias[light] = heavy[payer]
        # heavy j turns light once the lights paid so far owe at least its cumulative excess
        paid = np.concatenate([[0], deficit])
        done = np.searchsorted(paid, excess, side="left")
        prob[heavy] = _C + excess - paid[done]
        nxt = np.minimum(np.arange(1, heavy.shape[0] + 1), heavy.shape[0] - 1)
        alias[heavy] = np.where(prob[heavy] < _C, heavy[nxt], heavy)
    return prob.astype(np.uint64), alias


def _sample(bg: np.random.PCG64, n: int, prob: np.ndarray, alias: np.ndarray) -> np.ndarray:
    """``n`` int32 ranks (0-based) from the alias table; one raw 64-bit output per token: the top
    32 bits pick the column, the low 32 bits toss its coin."""
    out = np.empty(n, dtype=np.int32)
    alias32 = alias.astype(np.int32)
    v = np.uint64(prob.shape[0])
    s32, low = np.uint64(32), np.uint64(0xFFFFFFFF)
    col = np.empty(_SAMPLE_BLOCK, dtype=np.uint64)
    for s in range(0, n, _SAMPLE_BLOCK):  # in place, in cache: about 2x faster than temporaries
        m = min(_SAMPLE_BLOCK, n - s)
        raw = bg.random_raw(m)
        c = col[:m]
        np.right_shift(raw, s32, out=c)
        np.multiply(c, v, out=c)
        np.right_shift(c, s32, out=c)
        ci = c.view(np.int64)
        np.bitwise_and(raw, low, out=raw)
        own = raw < prob[ci]
        o = out[s : s + m]
        np.take(alias32, ci, out=o, mode="clip")  # indices are valid: clip only skips buffering
        np.copyto(o, ci, where=own, casting="unsafe")
    return out


# --------------------------------------------------------------------------- vocabulary


def _word_lengths(bg: np.random.PCG64, vocab: int) -> np.ndarray:
    """Letters of the word of each rank: about 2 + 0.7 ln(rank) +- 1, 1..MAX_WORD, and no more
    words of a length than a quarter of the 26**length strings (so short words stay sparse)."""
    base = np.floor(2.0 + 0.7 * _ln(np.arange(1, vocab + 1, dtype=np.float64)))
    noise = _below(bg.random_raw(vocab), 3).astype(np.int64) - 1
    lengths = np.clip(base.astype(np.int64) + noise, 1, MAX_WORD)
    for length in range(1, MAX_WORD):
        cap = 26**length // 4
        idx = np.flatnonzero(lengths == length)
        if idx.shape[0] > cap:
            lengths[idx[cap:]] = length + 1  # the rarest overflow to the next length
    if np.count_nonzero(lengths == MAX_WORD) > 26**MAX_WORD // 4:  # pragma: no cover
        raise ValueError("vocabulary too large")
    return lengths


def _distinct_rows(bg: np.random.PCG64, count: int, length: int) -> np.ndarray:
    """``count`` distinct random rows of ``length`` letters a..z (uint8, shape (count, length))."""
    rows = (_below(bg.random_raw(count * length), 26) + np.uint64(97)).astype(np.uint8)
    rows = rows.reshape(count, length)
    while True:
        keys = np.ascontiguousarray(rows).view(f"V{length}").ravel()
        _, first = np.unique(keys, return_index=True)
        if first.shape[0] == count:
            return rows
        redo = np.ones(count, dtype=bool)
        redo[first] = False
        idx = np.flatnonzero(redo)
        fresh = _below(bg.random_raw(idx.shape[0] * length), 26) + np.uint64(97)
        rows[idx] = fresh.astype(np.uint8).reshape(-1, length)


def _vocab_bytes(vocab: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The words of ranks 0..vocab-1, each followed by one space, as flat bytes and int64 offsets
    (``data[off[r]:off[r+1]]`` is word ``r`` and its space)."""
    bg = _stream(seed, 0, 0)
    lengths = _word_lengths(bg, vocab)
    off = np.zeros(vocab + 1, dtype=np.int64)
    np.cumsum(lengths + 1, out=off[1:])
    data = np.full(int(off[-1]), 32, dtype=np.uint8)
    for length in range(1, MAX_WORD + 1):
        idx = np.flatnonzero(lengths == length)
        if idx.shape[0]:
            rows = _distinct_rows(bg, idx.shape[0], length)
            data[off[idx][:, None] + np.arange(length)] = rows
    return data, off


def vocabulary(vocab: int = 50_000, seed: int = 0) -> list[str]:
    """The vocabulary of ``kind="text"`` corpora, most frequent word first (for inspection)."""
    vocab = _check_int("vocab", vocab, 1, MAX_VOCAB)
    data, off = _vocab_bytes(vocab, _check_int("seed", seed, 0, 2**64 - 1))
    text = data.tobytes().decode("ascii")
    return [text[off[i] : off[i + 1] - 1] for i in range(vocab)]


def _id_permutation(vocab: int, seed: int) -> np.ndarray:
    """int32 id of each rank: a seeded permutation of 0..vocab-1."""
    keys = _stream(seed, 0, 1).random_raw(vocab)
    return np.argsort(keys, kind="stable").astype(np.int32)


# --------------------------------------------------------------------------- documents


def _doc_mu(doc_tokens: float, doc_sigma: float) -> float:
    """mu of the log-normal with Irwin-Hall Z whose mean is ``doc_tokens``."""
    mu = float(_ln(np.array([doc_tokens]))[0])
    if doc_sigma > 0:
        h = doc_sigma / 2
        e = _exp(np.array([h, -h]))
        # E[exp(sigma (U - 1/2))] = (e**h - e**-h) / sigma; Z is a sum of 12 of them
        mu -= 12.0 * float(_ln(np.array([(e[0] - e[1]) / doc_sigma]))[0])
    return mu


def _plan(
    bg: np.random.PCG64,
    tokens: int,
    doc_tokens: float,
    doc_sigma: float,
    dup_rate: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Document lengths (int64, summing to ``tokens``) and the original of each document
    (``root[i] == i`` for a fresh document, else an earlier original it copies)."""
    mu = _doc_mu(doc_tokens, doc_sigma)
    own_parts: list[np.ndarray] = []
    root = np.empty(0, dtype=np.int64)
    have = count = 0
    while have < tokens:
        n = int(min(max(64.0, (tokens - have) / doc_tokens * 1.25 + 64.0), float(1 << 20)))
        raw = bg.random_raw(n * 14).reshape(n, 14)
        z = _uniform(raw[:, 0])
        for j in range(1, 12):  # explicit order: the sum is the same on every machine
            z = z + _uniform(raw[:, j])
        own = np.floor(_exp(mu + doc_sigma * (z - 6.0)) + 0.5)  # nearest: sigma 0 is exact
        own = np.clip(own, 1, MAX_DOC_TOKENS).astype(np.int64)
        idx = np.arange(count, count + n, dtype=np.int64)
        dup = (_uniform(raw[:, 12]) < dup_rate) & (idx > 0)
        src = _below(raw[:, 13], idx.astype(np.uint64)).astype(np.int64)
        new_root = np.where(dup, src, idx)
        root = np.concatenate([root, new_root])
        while True:  # pointer jumping: a copy of a copy is a copy of the original
            nxt = root[root]
            if np.array_equal(nxt, root):
                break
            root = nxt
        own_parts.append(own)
        count += n
        have = int(np.concatenate(own_parts)[root].sum())
    own = np.concatenate(own_parts)
    lengths = own[root]
    cum = np.cumsum(lengths)
    last = int(np.searchsorted(cum, tokens, side="left"))
    lengths, root = lengths[: last + 1].copy(), root[: last + 1].copy()
    lengths[last] = tokens - (int(cum[last - 1]) if last else 0)
    if root[last] != last and lengths[last] != own[root[last]]:
        root[last] = last  # a cut copy is no copy: make it a fresh document
    return lengths, root


class _ShardTokens:
    """The token ranks of one shard, produced row group by row group, in document order.

    Fresh documents take the next tokens of the shard's token stream (one raw output each, so
    the values do not depend on how the shard is split into row groups); copies are gathered
    from their original, which is always earlier in the shard.
    """

    def __init__(self, seed: int, shard: int, tokens: int, table, doc_tokens, doc_sigma, dup):
        self.lengths, self.root = _plan(
            _stream(seed, 1, shard, 0), tokens, doc_tokens, doc_sigma, dup
        )
        self.documents = self.lengths.shape[0]
        self.doff = np.zeros(self.documents + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=self.doff[1:])
        self.fresh = self.root == np.arange(self.documents)
        self.copies = self.documents - int(np.count_nonzero(self.fresh))
        self.ranks = np.empty(tokens, dtype=np.int32)
        self._bg = _stream(seed, 1, shard, 1)
        self._table = table

    def fill(self, d: int, e: int) -> np.ndarray:
        """Ranks of documents ``d .. e-1`` (a view of the shard's ranks); in increasing order."""
        a, b = int(self.doff[d]), int(self.doff[e])
        out = self.ranks[a:b]
        fresh = self.fresh[d:e]
        if fresh.all():
            out[:] = _sample(self._bg, b - a, *self._table)
            return out
        own = np.repeat(fresh, self.lengths[d:e])
        out[own] = _sample(self._bg, int(np.count_nonzero(own)), *self._table)
        shift = np.repeat(self.doff[self.root[d:e]] - self.doff[d:e], self.lengths[d:e])
        shift += np.arange(a, b, dtype=np.int64)
        out[:] = self.ranks[shift]  # fresh tokens map to themselves
        return out


# --------------------------------------------------------------------------- columns


class _Words(NamedTuple):
    """The text vocabulary, laid out for the text builder."""

    data: np.ndarray  # uint8: every word followed by one space
    end: np.ndarray  # int64: end of word r and its space in ``data``
    width: np.ndarray  # uint8: letters of word r plus one
    ramp: np.ndarray  # int64: 0, 1, 2, ... (a block's worth of bytes)

    @classmethod
    def build(cls, vocab: int, seed: int) -> _Words:
        data, off = _vocab_bytes(vocab, seed)
        ramp = np.arange(_BLOCK * (MAX_WORD + 1), dtype=np.int64)
        return cls(data, off[1:].copy(), np.diff(off).astype(np.uint8), ramp)


def _text_array(ranks: np.ndarray, doff: np.ndarray, words: _Words) -> pa.StringArray:
    """Documents ``ranks[doff[d]-doff[0] : doff[d+1]-doff[0]]`` as words joined by single spaces.

    Byte j of the text is ``words.data[base[i] + j]`` for the token i that covers it, so the
    text is one gather through ``repeat(base, bytes of each token) + arange(total)``.
    """
    kp = words.width[ranks]  # bytes of each token: word + space
    ends = doff[1:] - doff[0] - 1
    kp[ends] -= 1  # no space after a document's last word
    cum = np.cumsum(kp, dtype=np.int64)
    total = int(cum[-1])
    if total >= 2**31:  # pragma: no cover - prevented by MAX_DOC_TOKENS / MAX_ROW_GROUP_TOKENS
        raise ValueError("row group too large")
    offsets = np.zeros(doff.shape[0], dtype=np.int32)
    offsets[1:] = cum[ends]
    base = words.end[ranks]  # word start - token start = word end - token end (- 1 at the ends)
    base -= cum
    base[ends] -= 1
    data = np.empty(total, dtype=np.uint8)
    n = ranks.shape[0]
    lo = 0
    for s in range(0, n, _BLOCK):
        e = min(s + _BLOCK, n)
        hi = int(cum[e - 1])
        src = np.repeat(base[s:e] + lo, kp[s:e])
        src += words.ramp[: hi - lo]
        data[lo:hi] = words.data[src]  # faster than np.take(..., out=) here
        lo = hi
    return pa.StringArray.from_buffers(
        doff.shape[0] - 1, pa.py_buffer(offsets), pa.py_buffer(data), null_count=0
    )


def _ids_array(ids: np.ndarray, doff: np.ndarray) -> pa.ListArray:
    offsets = (doff - doff[0]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(ids, type=pa.int32()))


# --------------------------------------------------------------------------- generate


def _check_int(name: str, value, lo: int, hi: int) -> int:
    """``value`` as an int in [lo, hi]; integral floats (``1e8``) are accepted."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"{name} must be an integer, got {value!r}")
        value = int(value)
    try:
        value = int(value.__index__())
    except (AttributeError, TypeError):
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in [{lo:,}, {hi:,}], got {value:,}")
    return value


def _check_float(name: str, value, lo: float, hi: float) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValueError(f"{name} must be in [{lo:g}, {hi:g}], got {value!r}")
    return value


def _shard_counts(tokens: int, shards: int | None, shard_tokens: int) -> list[int]:
    tokens = _check_int("tokens", tokens, 1, 10**13)
    if shards is None:
        shard_tokens = _check_int("shard_tokens", shard_tokens, 1, MAX_SHARD_TOKENS)
        shards = -(-tokens // shard_tokens)
        if shards > MAX_SHARDS:
            raise ValueError(
                f"shard_tokens too small: {tokens:,} tokens at {shard_tokens:,} per shard would "
                f"make {shards:,} shards (at most {MAX_SHARDS:,})"
            )
    else:
        shards = _check_int("shards", shards, 1, MAX_SHARDS)
        if shards > tokens:
            raise ValueError(f"shards ({shards:,}) must not exceed tokens ({tokens:,})")
        if -(-tokens // shards) > MAX_SHARD_TOKENS:
            raise ValueError(
                f"shards too few: {tokens:,} tokens in {shards:,} shards is more than "
                f"{MAX_SHARD_TOKENS:,} tokens per shard"
            )
    q, r = divmod(tokens, shards)
    return [q + (k < r) for k in range(shards)]


def generate(
    out_dir: str | os.PathLike,
    tokens: int,
    *,
    shards: int | None = None,
    shard_tokens: int = 10_000_000,
    seed: int = 0,
    kind: str = "text",
    vocab: int = 50_000,
    zipf: float = 1.1,
    doc_tokens: int | float = 2_000,
    doc_sigma: float = 1.0,
    dup_rate: float = 0.0,
    compression: str | None = "zstd",
    compression_level: int | None = None,
    row_group_tokens: int = 1_000_000,
    progress: Callable[[Progress], None] | None = None,
) -> list[Path]:
    """Write a synthetic corpus of exactly ``tokens`` tokens as Parquet shards (see the module
    docstring for the model and the determinism guarantee).

    Args:
        out_dir: directory for ``part-00000.parquet``, ``part-00001.parquet``, ...; created if
            missing; ``part-*.parquet`` files already there are deleted first.
        tokens: total tokens (``words`` tokens for ``text``, list items for ``ids``).
        shards: number of shards (overrides ``shard_tokens``); the tokens are split evenly.
        shard_tokens: tokens per shard at most, when ``shards`` is not given.
        seed: seed of everything (an integer in [0, 2**64)).
        kind: ``text`` (a ``text`` string column) or ``ids`` (an ``ids`` list<int32> column).
        vocab: vocabulary size: distinct token types possible.
        zipf: Zipf exponent s, rank r drawn with probability proportional to 1/r**s (0: uniform).
        doc_tokens: mean document length in tokens (before the cut at the end of a shard).
        doc_sigma: sigma of the log-normal document length (0: every document ``doc_tokens``).
        dup_rate: probability that a document is an exact copy of an earlier one of its shard.
        compression: Parquet codec (``zstd``, ``snappy``, ``gzip``, ``lz4``, ``brotli``,
            ``none``).
        compression_level: codec level, or the codec's default.
        row_group_tokens: tokens per Parquet row group (whole documents, so about).
        progress: called with a :class:`Progress` after every shard.

    Returns:
        The paths written, sorted.

    Raises:
        ValueError: an argument out of range.
        OSError: ``out_dir`` cannot be created or written.
    """
    counts = _shard_counts(tokens, shards, shard_tokens)
    tokens = sum(counts)
    seed = _check_int("seed", seed, 0, 2**64 - 1)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    vocab = _check_int("vocab", vocab, 1, MAX_VOCAB)
    zipf = _check_float("zipf", zipf, 0.0, 10.0)
    doc_tokens = _check_float("doc_tokens", doc_tokens, 1.0, MAX_MEAN_DOC_TOKENS)
    doc_sigma = _check_float("doc_sigma", doc_sigma, 0.0, 4.0)
    dup_rate = _check_float("dup_rate", dup_rate, 0.0, 1.0)
    row_group_tokens = _check_int("row_group_tokens", row_group_tokens, 1, MAX_ROW_GROUP_TOKENS)
    compression = "none" if compression is None else str(compression).lower()
    try:
        ok = compression == "none" or pa.Codec.is_available(compression)
    except ValueError:  # not a codec name at all
        ok = False
    if not ok:
        raise ValueError(
            f"compression: {compression!r} is not a Parquet codec available in this pyarrow "
            "(zstd, snappy, gzip, lz4, brotli, none)"
        )
    if compression_level is not None:
        compression_level = _check_int("compression_level", compression_level, -(2**31), 2**31)

    t0 = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in sorted(out.iterdir()):
        if _SHARD_RE.match(old.name) and old.is_file():
            old.unlink()

    table = _alias_table(_zipf_weights(vocab, zipf))
    if kind == "text":
        words = _Words.build(vocab, seed)
        field = pa.field(TEXT_COLUMN, pa.string())
    else:
        perm = _id_permutation(vocab, seed)
        field = pa.field(IDS_COLUMN, pa.list_(pa.int32()))
    params = dict(
        generator="benchmarks.synth",
        version=GENERATOR_VERSION,
        kind=kind,
        tokens=tokens,
        shards=len(counts),
        seed=seed,
        vocab=vocab,
        zipf=zipf,
        doc_tokens=doc_tokens,
        doc_sigma=doc_sigma,
        dup_rate=dup_rate,
    )
    width = max(5, len(str(len(counts) - 1)))
    paths: list[Path] = []
    done_tokens = done_docs = done_bytes = 0
    # one background thread writes (pyarrow releases the GIL while encoding and compressing)
    # while this one makes the next row group; writes stay in order, so the bytes do not depend
    # on timing, and at most two row groups wait (bounded memory)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synth-writer") as pool:
        for k, count in enumerate(counts):
            shard = _ShardTokens(seed, k, count, table, doc_tokens, doc_sigma, dup_rate)
            ndocs, doff = shard.documents, shard.doff
            meta = dict(params, shard=k, shard_tokens=count, documents=ndocs, copies=shard.copies)
            schema = pa.schema([field], metadata={METADATA_KEY: json.dumps(meta, sort_keys=True)})
            path = out / f"part-{k:0{width}d}.parquet"
            tmp = out / f".{path.name}.tmp"
            writer = pq.ParquetWriter(
                tmp,
                schema,
                compression=compression,
                compression_level=compression_level,
                use_dictionary=kind == "ids",  # ids: smaller; text: never pays off
                write_statistics=False,
            )
            pending: deque[Future] = deque()
            try:
                d = 0
                while d < ndocs:
                    e = int(np.searchsorted(doff, doff[d] + row_group_tokens, side="left"))
                    e = min(max(e, d + 1), ndocs)
                    ranks = shard.fill(d, e)
                    if kind == "text":
                        col = _text_array(ranks, doff[d : e + 1], words)
                    else:
                        col = _ids_array(perm[ranks], doff[d : e + 1])
                    while len(pending) >= 2:
                        pending.popleft().result()
                    rg = pa.Table.from_arrays([col], schema=schema)
                    pending.append(pool.submit(writer.write_table, rg))
                    d = e
                while pending:
                    pending.popleft().result()
                writer.close()
                os.replace(tmp, path)
            except BaseException:
                for f in pending:
                    f.cancel()
                wait(pending)
                try:
                    writer.close()
                except Exception:  # the first error is the one to report
                    pass
                tmp.unlink(missing_ok=True)
                raise
            del shard, doff
            paths.append(path)
            done_tokens += count
            done_docs += ndocs
            done_bytes += path.stat().st_size
            if progress is not None:
                progress(
                    Progress(
                        k + 1,
                        len(counts),
                        done_tokens,
                        tokens,
                        done_docs,
                        done_bytes,
                        time.perf_counter() - t0,
                    )
                )
    return sorted(paths)


# --------------------------------------------------------------------------- command line


def parse_count(text: str) -> int:
    """A non-negative integer written as ``100000000``, ``100_000_000``, ``100,000,000``, ``1e8``
    or ``2.5e6`` (it must be a whole number)."""
    s = str(text).strip().replace(",", "").replace("_", "")
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not d.is_finite() or d != d.to_integral_value():
        raise ValueError(f"not a whole number: {text!r}")
    if d < 0:
        raise ValueError(f"must not be negative: {text!r}")
    return int(d)


def _count_type(text: str) -> int:
    try:
        return parse_count(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _float_type(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block, exit code 2
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m benchmarks.synth",
        description=(
            "Write a seeded synthetic corpus of exactly --tokens tokens as Parquet shards "
            "OUT_DIR/part-00000.parquet, ...: Zipf-distributed tokens in log-normal-length "
            "documents, optionally with exact duplicate documents. The same arguments always "
            "give the same files. Existing part-*.parquet files in OUT_DIR are replaced."
        ),
        epilog=(
            "examples:\n"
            "  python -m benchmarks.synth /tmp/c --tokens 1e8            # 10 text shards\n"
            "  seqcount count /tmp/c\n"
            "  python -m benchmarks.synth /tmp/i --tokens 1e9 --kind ids --shards 32\n"
            "  seqcount count /tmp/i --tokens-column ids\n"
            "  python -m benchmarks.synth /tmp/d --tokens 1e6 --dup-rate 0.2 --doc-tokens 500"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="directory to write the shards into")
    p.add_argument(
        "--tokens",
        type=_count_type,
        required=True,
        metavar="N",
        help="total tokens, exactly (1e8, 100_000_000 and 100,000,000 all work); for text, as "
        "seqcount's words tokenizer counts them",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--shards", type=_count_type, metavar="N", help="number of shards (tokens split evenly)"
    )
    g.add_argument(
        "--shard-tokens",
        type=_count_type,
        default=10_000_000,
        metavar="N",
        help="at most this many tokens per shard, when --shards is not given; memory grows "
        "with it (about 5 bytes per token) [default: 1e7]",
    )
    p.add_argument(
        "--seed", type=_count_type, default=0, metavar="S", help="seed of everything [default: 0]"
    )
    p.add_argument(
        "--kind",
        choices=KINDS,
        default="text",
        help="text: a 'text' string column of space-separated lowercase words (count with "
        "'seqcount count OUT_DIR'); ids: an 'ids' list<int32> column of token ids (count with "
        "'seqcount count OUT_DIR --tokens-column ids') [default: text]",
    )
    p.add_argument(
        "--vocab",
        type=_count_type,
        default=50_000,
        metavar="V",
        help="vocabulary size: distinct token types (ids 0..V-1) [default: 50000]",
    )
    p.add_argument(
        "--zipf",
        type=_float_type,
        default=1.1,
        metavar="S",
        help="Zipf exponent: rank r is drawn with probability proportional to 1/r**S; 0 is "
        "uniform, about 1 is natural language [default: 1.1]",
    )
    p.add_argument(
        "--doc-tokens",
        type=_count_type,
        default=2_000,
        metavar="N",
        help="mean document length in tokens (log-normal) [default: 2000]",
    )
    p.add_argument(
        "--doc-sigma",
        type=_float_type,
        default=1.0,
        metavar="F",
        help="sigma of the log-normal document length; 0 makes every document --doc-tokens "
        "long [default: 1.0]",
    )
    p.add_argument(
        "--dup-rate",
        type=_float_type,
        default=0.0,
        metavar="F",
        help="fraction of documents (in [0, 1]) that are exact copies of an earlier document "
        "of the same shard [default: 0]",
    )
    p.add_argument(
        "--compression",
        default="zstd",
        metavar="CODEC",
        help="Parquet codec: zstd, snappy, gzip, lz4, brotli or none [default: zstd]",
    )
    p.add_argument(
        "--row-group-tokens",
        type=_count_type,
        default=1_000_000,
        metavar="N",
        help="tokens per Parquet row group, in whole documents [default: 1e6]",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    return p


_OPTIONS = (
    "tokens shards shard_tokens seed kind vocab zipf doc_tokens doc_sigma dup_rate compression "
    "row_group_tokens"
).split()


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit code (2 for bad arguments)."""
    parser = _parser()
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    last = [t0]

    def report(p: Progress) -> None:
        now = time.perf_counter()
        if args.quiet or p.shards_done == p.shards or now - last[0] < 2.0:
            return
        last[0] = now
        rate = p.tokens_done / max(p.seconds, 1e-9)
        eta = (p.tokens - p.tokens_done) / max(rate, 1e-9)
        print(
            f"synth: {p.shards_done}/{p.shards} shards, {p.tokens_done:,}/{p.tokens:,} tokens "
            f"({100 * p.tokens_done / p.tokens:.0f}%), {rate / 1e6:.1f} M tokens/s, "
            f"about {eta:.0f} s to go",
            file=sys.stderr,
            flush=True,
        )

    final: list[Progress] = []
    try:
        paths = generate(
            args.out_dir,
            args.tokens,
            shards=args.shards,
            shard_tokens=args.shard_tokens,
            seed=args.seed,
            kind=args.kind,
            vocab=args.vocab,
            zipf=args.zipf,
            doc_tokens=args.doc_tokens,
            doc_sigma=args.doc_sigma,
            dup_rate=args.dup_rate,
            compression=args.compression,
            row_group_tokens=args.row_group_tokens,
            progress=lambda p: (final.append(p), report(p)),
        )
    except ValueError as e:
        name, sep, rest = str(e).partition(" ")
        if name.rstrip(":") in _OPTIONS:  # "dup_rate must be ..." -> "--dup-rate must be ..."
            name = "--" + name.replace("_", "-")
        parser.error(name + sep + rest)
    except OSError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    p = final[-1]
    seconds = time.perf_counter() - t0
    print(
        f"wrote {len(paths)} shard(s) to {args.out_dir}: {p.tokens:,} tokens ({args.kind}), "
        f"{p.documents_done:,} documents, {p.bytes_written:,} bytes "
        f"({p.bytes_written / 1e6:.1f} MB) in {seconds:.2f} s "
        f"({p.tokens / max(seconds, 1e-9) / 1e6:.1f} M tokens/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
