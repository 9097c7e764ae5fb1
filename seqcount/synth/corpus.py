"""The corpus model of :mod:`seqcount.synth`: vocabulary, document plan, token ranks per shard,
Arrow columns, and :func:`generate`, which writes the Parquet shards."""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .sampling import alias_table, below, exp, ln, sample, stream, uniform, zipf_weights

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


# --------------------------------------------------------------------------- vocabulary


def _word_lengths(bg: np.random.PCG64, vocab: int) -> np.ndarray:
    """Letters of the word of each rank: about 2 + 0.7 ln(rank) +- 1, 1..MAX_WORD, and no more
    words of a length than a quarter of the 26**length strings (so short words stay sparse)."""
    base = np.floor(2.0 + 0.7 * ln(np.arange(1, vocab + 1, dtype=np.float64)))
    noise = below(bg.random_raw(vocab), 3).astype(np.int64) - 1
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
    rows = (below(bg.random_raw(count * length), 26) + np.uint64(97)).astype(np.uint8)
    rows = rows.reshape(count, length)
    while True:
        keys = np.ascontiguousarray(rows).view(f"V{length}").ravel()
        _, first = np.unique(keys, return_index=True)
        if first.shape[0] == count:
            return rows
        redo = np.ones(count, dtype=bool)
        redo[first] = False
        idx = np.flatnonzero(redo)
        fresh = below(bg.random_raw(idx.shape[0] * length), 26) + np.uint64(97)
        rows[idx] = fresh.astype(np.uint8).reshape(-1, length)


def _vocab_bytes(vocab: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The words of ranks 0..vocab-1, each followed by one space, as flat bytes and int64 offsets
    (``data[off[r]:off[r+1]]`` is word ``r`` and its space)."""
    bg = stream(seed, 0, 0)
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
    keys = stream(seed, 0, 1).random_raw(vocab)
    return np.argsort(keys, kind="stable").astype(np.int32)


# --------------------------------------------------------------------------- documents


def _doc_mu(doc_tokens: float, doc_sigma: float) -> float:
    """mu of the log-normal with Irwin-Hall Z whose mean is ``doc_tokens``."""
    mu = float(ln(np.array([doc_tokens]))[0])
    if doc_sigma > 0:
        h = doc_sigma / 2
        e = exp(np.array([h, -h]))
        # E[exp(sigma (U - 1/2))] = (e**h - e**-h) / sigma; Z is a sum of 12 of them
        mu -= 12.0 * float(ln(np.array([(e[0] - e[1]) / doc_sigma]))[0])
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
        z = uniform(raw[:, 0])
        for j in range(1, 12):  # explicit order: the sum is the same on every machine
            z = z + uniform(raw[:, j])
        own = np.floor(exp(mu + doc_sigma * (z - 6.0)) + 0.5)  # nearest: sigma 0 is exact
        own = np.clip(own, 1, MAX_DOC_TOKENS).astype(np.int64)
        idx = np.arange(count, count + n, dtype=np.int64)
        dup = (uniform(raw[:, 12]) < dup_rate) & (idx > 0)
        src = below(raw[:, 13], idx.astype(np.uint64)).astype(np.int64)
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
            stream(seed, 1, shard, 0), tokens, doc_tokens, doc_sigma, dup
        )
        self.documents = self.lengths.shape[0]
        self.doff = np.zeros(self.documents + 1, dtype=np.int64)
        np.cumsum(self.lengths, out=self.doff[1:])
        self.fresh = self.root == np.arange(self.documents)
        self.copies = self.documents - int(np.count_nonzero(self.fresh))
        self.ranks = np.empty(tokens, dtype=np.int32)
        self._bg = stream(seed, 1, shard, 1)
        self._table = table

    def fill(self, d: int, e: int) -> np.ndarray:
        """Ranks of documents ``d .. e-1`` (a view of the shard's ranks); in increasing order."""
        a, b = int(self.doff[d]), int(self.doff[e])
        out = self.ranks[a:b]
        fresh = self.fresh[d:e]
        if fresh.all():
            out[:] = sample(self._bg, b - a, *self._table)
            return out
        own = np.repeat(fresh, self.lengths[d:e])
        out[own] = sample(self._bg, int(np.count_nonzero(own)), *self._table)
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


def _check_model(kind: str, vocab, zipf, doc_tokens, doc_sigma, dup_rate) -> tuple:
    """The model's arguments of :func:`generate`, checked: ``(vocab, zipf, doc_tokens,
    doc_sigma, dup_rate)``."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    vocab = _check_int("vocab", vocab, 1, MAX_VOCAB)
    zipf = _check_float("zipf", zipf, 0.0, 10.0)
    doc_tokens = _check_float("doc_tokens", doc_tokens, 1.0, MAX_MEAN_DOC_TOKENS)
    doc_sigma = _check_float("doc_sigma", doc_sigma, 0.0, 4.0)
    dup_rate = _check_float("dup_rate", dup_rate, 0.0, 1.0)
    return vocab, zipf, doc_tokens, doc_sigma, dup_rate


def _clear(out: Path) -> Path:
    """Create ``out`` if missing and delete the shards (and temporary shards) already there."""
    out.mkdir(parents=True, exist_ok=True)
    for old in sorted(out.iterdir()):
        if _SHARD_RE.match(old.name) and old.is_file():
            old.unlink()
    return out


def _check_codec(compression: str | None, level: int | None) -> tuple[str, int | None]:
    """The Parquet codec name (``none`` for ``None``) and level, checked."""
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
    if level is not None:
        level = _check_int("compression_level", level, -(2**31), 2**31)
    return compression, level


def _columns(shard: _ShardTokens, row_group_tokens: int, vocab) -> Iterator[pa.Array]:
    """The shard's row groups of about ``row_group_tokens`` tokens of whole documents, as
    columns: text if ``vocab`` is the :class:`_Words`, else ids through the permutation."""
    doff = shard.doff
    d = 0
    while d < shard.documents:
        e = int(np.searchsorted(doff, doff[d] + row_group_tokens, side="left"))
        e = min(max(e, d + 1), shard.documents)
        ranks = shard.fill(d, e)
        if isinstance(vocab, _Words):
            yield _text_array(ranks, doff[d : e + 1], vocab)
        else:
            yield _ids_array(vocab[ranks], doff[d : e + 1])
        d = e


def _write_shard(path: Path, schema: pa.Schema, pool, columns, compression, level) -> None:
    """Write the row groups ``columns`` to ``path`` through a hidden temporary file, encoding in
    ``pool``'s thread (at most two row groups wait); nothing is left behind on an error."""
    tmp = path.parent / f".{path.name}.tmp"
    kind_ids = schema.field(0).name == IDS_COLUMN
    writer = pq.ParquetWriter(
        tmp,
        schema,
        compression=compression,
        compression_level=level,
        use_dictionary=kind_ids,  # ids: smaller; text: never pays off
        write_statistics=False,
    )
    pending: deque[Future] = deque()
    try:
        for col in columns:
            while len(pending) >= 2:
                pending.popleft().result()
            rg = pa.Table.from_arrays([col], schema=schema)
            pending.append(pool.submit(writer.write_table, rg))
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
    vocab, zipf, doc_tokens, doc_sigma, dup_rate = _check_model(
        kind, vocab, zipf, doc_tokens, doc_sigma, dup_rate
    )
    row_group_tokens = _check_int("row_group_tokens", row_group_tokens, 1, MAX_ROW_GROUP_TOKENS)
    compression, compression_level = _check_codec(compression, compression_level)

    t0 = time.perf_counter()
    out = _clear(Path(out_dir))
    table = alias_table(zipf_weights(vocab, zipf))
    words = perm = None
    if kind == "text":
        words = _Words.build(vocab, seed)
        field = pa.field(TEXT_COLUMN, pa.string())
    else:
        perm = _id_permutation(vocab, seed)
        field = pa.field(IDS_COLUMN, pa.list_(pa.int32()))
    # generator: the name of the generator's first home, kept so that the same arguments still
    # give the same bytes as files written before it moved into the package
    params = dict(
        generator="benchmarks.synth", version=GENERATOR_VERSION, kind=kind, tokens=tokens,
        shards=len(counts), seed=seed, vocab=vocab, zipf=zipf, doc_tokens=doc_tokens,
        doc_sigma=doc_sigma, dup_rate=dup_rate,
    )  # fmt: skip
    width = max(5, len(str(len(counts) - 1)))
    paths: list[Path] = []
    done_tokens = done_docs = done_bytes = 0
    # one background thread writes (pyarrow releases the GIL while encoding and compressing)
    # while this one makes the next row group; writes stay in order, so the bytes do not depend
    # on timing, and at most two row groups wait (bounded memory)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="synth-writer") as pool:
        for k, count in enumerate(counts):
            shard = _ShardTokens(seed, k, count, table, doc_tokens, doc_sigma, dup_rate)
            ndocs = shard.documents
            meta = dict(params, shard=k, shard_tokens=count, documents=ndocs, copies=shard.copies)
            schema = pa.schema([field], metadata={METADATA_KEY: json.dumps(meta, sort_keys=True)})
            path = out / f"part-{k:0{width}d}.parquet"
            columns = _columns(shard, row_group_tokens, words if kind == "text" else perm)
            _write_shard(path, schema, pool, columns, compression, compression_level)
            del shard, columns  # the shard's ranks: memory is one shard at a time
            paths.append(path)
            done_tokens += count
            done_docs += ndocs
            done_bytes += path.stat().st_size
            if progress is not None:
                seconds = time.perf_counter() - t0
                done = (done_tokens, tokens, done_docs, done_bytes, seconds)
                progress(Progress(k + 1, len(counts), *done))
    return sorted(paths)


# --------------------------------------------------------------------------- command line
