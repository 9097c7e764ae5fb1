"""Text (or token ids) to flat token-value arrays with document offsets; no per-token Python.

A :class:`TokenChunk` covers consecutive documents: ``tokens[doc[d]:doc[d+1]]`` are the token
values of its document ``d``. Token values are defined in :mod:`seqcount._kernels`.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import _kernels as kernels
from . import hashing, tiktoken_files
from .errors import ConfigError
from .hashing import HashParams

WORD_PATTERN = r"\w+|[^\w\s]"

#: Bytes at which ``hf:PATH`` cuts a long document into pieces, whatever the chunk size. Its cuts
#: (after a line break, else between words) are not exact: the tokens near a cut can differ from
#: the whole document's, so the cut places must not depend on the chunk size, which differs
#: between a single pass and a shard counted on its own (``engine.sharded.RECORD_CHUNK``). 4 MiB:
#: the default ``chunk_bytes``, so a single pass with it cuts where it always did.
MODEL_PIECE_BYTES = 4 << 20


@dataclass
class TokenChunk:
    """Token values of consecutive documents (or pieces of one long document).

    Attributes:
        tokens: uint64 token values, or the raw token ids (``id_seed`` set) or text bytes
            (``raw_bytes``) they are made from; read the values with :meth:`values`.
        doc: int64 token offsets, one more than the number of documents.
        invalid_utf8: invalid UTF-8 sequences replaced by U+FFFD in these documents.
        head_continues: the first document continues the last one of the previous chunk.
        tail_open: the last document continues in the next chunk.
        id_seed: ``tokens`` are ids of the ``ids`` tokenizer, not yet mixed into values.
        raw_bytes: ``tokens`` are the text bytes of the ``bytes`` tokenizer (values: byte + 1).
        buffer: the :class:`BufferPool` array ``tokens`` lies in, if any.
    """

    tokens: np.ndarray
    doc: np.ndarray
    invalid_utf8: int = 0
    head_continues: bool = False
    tail_open: bool = False
    id_seed: int | None = None
    raw_bytes: bool = False
    buffer: np.ndarray | None = None

    def values(self, out: np.ndarray | None = None) -> np.ndarray:
        """The uint64 token values; written to ``out[:len(tokens)]`` when ``out`` is given.

        Ids and bytes are made into values here, not when the chunk is made: the counting
        thread does it into one reused buffer, which spares the reading thread the work and
        fresh pages.
        """
        if self.is_raw:
            if out is None:
                out = np.empty(self.tokens.shape[0], dtype=np.uint64)
            if self.raw_bytes:
                return kernels.byte_values_into(self.tokens, out)
            return kernels.id_values_into(self.tokens, np.uint64(self.id_seed), out)
        if out is None:
            return self.tokens
        out = out[: self.tokens.shape[0]]
        out[:] = self.tokens
        return out

    @property
    def is_raw(self) -> bool:
        """``tokens`` still need making into values (see :meth:`values`)."""
        return self.raw_bytes or self.id_seed is not None

    @property
    def documents(self) -> int:
        """Documents (or document pieces) in this chunk."""
        return self.doc.shape[0] - 1

    @property
    def closed(self) -> int:
        """Documents that end in this chunk."""
        return self.documents - int(self.tail_open)


class BufferPool:
    """uint64 arrays passed from the reading thread to the counting thread and back, so that
    the token arrays of every chunk reuse the same pages: fresh pages for each chunk cost
    page faults, up to a tenth of a text pass.

    :meth:`take` gives an array of at least ``size`` (a free one, else a new one of at least
    ``least``); :meth:`give_back` returns a chunk's array once the chunk is counted. At most
    ``keep`` free arrays are held.
    """

    def __init__(self, least: int = 0, keep: int = 4):
        import threading

        self._free: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._least = least
        self._keep = keep

    def take(self, size: int) -> np.ndarray:
        with self._lock:
            for k, buf in enumerate(self._free):
                if buf.shape[0] >= size:
                    return self._free.pop(k)
        return np.empty(max(size, self._least), dtype=np.uint64)

    def give_back(self, chunk: TokenChunk) -> None:
        """Take back ``chunk``'s array; the chunk's tokens are gone after this."""
        buf, chunk.buffer = chunk.buffer, None
        if buf is None:
            return
        chunk.tokens = buf[:0]
        with self._lock:
            if len(self._free) < self._keep:
                self._free.append(buf)


@lru_cache(maxsize=1)
def word_classes() -> np.ndarray:
    """Class of every code point under Python's own ``re``: word (``\\w``), space (``\\s``), other.

    Built from the running interpreter's ``re`` module so that the ``words`` tokenizer agrees with
    ``re.findall(r"\\w+|[^\\w\\s]", text)`` on this Python's Unicode tables. Building it takes
    0.15 s, a fifth of a one-document run's start-up, so it is kept in a file beside numba's
    cache of this package's kernels, named after the interpreter's exact version and Unicode
    version (so another Python builds its own); if that cannot be read or written it is built.
    """
    path = _classes_file()
    try:
        classes = np.load(path, allow_pickle=False)
        if classes.dtype == np.uint8 and classes.shape == (0x110000,):
            return classes
    except (OSError, ValueError):
        pass
    classes = _build_word_classes()
    try:  # written whole, then renamed: a reader never sees half a file
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            np.save(f, classes, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:
        pass
    return classes


def _classes_file():
    """Where :func:`word_classes` keeps its table."""
    tag = f"{sys.implementation.cache_tag}-{sys.version.split()[0]}-{unicodedata.unidata_version}"
    return Path(kernels.__file__).parent / "__pycache__" / f"word_classes-{tag}.npy"


def _build_word_classes() -> np.ndarray:
    """The table of :func:`word_classes`, from ``re`` on every code point."""
    classes = np.full(0x110000, kernels.CLASS_OTHER, dtype=np.uint8)
    for lo, hi in ((0, 0xD800), (0xE000, 0x110000)):
        text = np.arange(lo, hi, dtype="<u4").tobytes().decode("utf-32-le")
        for pattern, cls in ((r"\w+", kernels.CLASS_WORD), (r"\s+", kernels.CLASS_SPACE)):
            for m in re.finditer(pattern, text):
                classes[lo + m.start() : lo + m.end()] = cls
    return classes


def _row_chunks(offsets: np.ndarray, chunk_size: int) -> Iterator[tuple[int, int]]:
    """Split rows into ranges of about ``chunk_size`` units (bytes or ids), at least one row
    each."""
    rows = offsets.shape[0] - 1
    start = 0
    while start < rows:
        limit = offsets[start] + chunk_size
        stop = int(np.searchsorted(offsets, limit, side="right")) - 1
        stop = min(max(stop, start + 1), rows)
        yield start, stop
        start = stop


def words_chunk(
    data: np.ndarray, offsets: np.ndarray, params: HashParams, pool: BufferPool | None = None
) -> TokenChunk:
    """``words`` token values of the documents ``data[offsets[d]:offsets[d+1]]`` (in an array
    of ``pool`` if given)."""
    nbytes = int(offsets[-1] - offsets[0])
    out = pool.take(nbytes) if pool is not None else np.empty(nbytes, dtype=np.uint64)
    doc = np.empty(offsets.shape[0], dtype=np.int64)
    ntok, invalid = hashing.tokenize_words(
        data, offsets, word_classes(), params.token_base, out, doc
    )
    return TokenChunk(out[:ntok], doc, int(invalid), buffer=out if pool is not None else None)


def bytes_chunk(data: np.ndarray, offsets: np.ndarray) -> TokenChunk:
    """``bytes`` tokens of the documents ``data[offsets[d]:offsets[d+1]]``, made into values
    (byte + 1) by :meth:`TokenChunk.values`."""
    lo, hi = int(offsets[0]), int(offsets[-1])
    return TokenChunk(data[lo:hi], offsets - lo, 0, raw_bytes=True)


def ids_chunk(values: np.ndarray, offsets: np.ndarray, params: HashParams) -> TokenChunk:
    """``ids`` tokens of the lists ``values[offsets[d]:offsets[d+1]]``, mixed into values by
    :meth:`TokenChunk.values`."""
    lo, hi = int(offsets[0]), int(offsets[-1])
    return TokenChunk(values[lo:hi], offsets - lo, 0, id_seed=params.id_seed)


class HFTokenizer:
    """A Hugging Face ``tokenizers`` tokenizer.json, batch-encoding documents to token ids.

    Special tokens are not added: only the text's own tokens are counted.

    Raises:
        ConfigError: ``tokenizers`` is not installed, or the file cannot be loaded.
    """

    def __init__(self, path: str):
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise ConfigError(
                "tokenizer hf:PATH needs the tokenizers package: pip install 'seqcount[hf]'"
            ) from None
        if not os.path.isfile(path):
            raise ConfigError(f"{path}: no such tokenizer file (hf:PATH)")
        try:
            self.tokenizer = Tokenizer.from_file(path)
        except Exception as e:  # tokenizers raises plain Exception on bad files
            msg = " ".join(str(e).split())[:200]
            raise ConfigError(f"{path}: not a loadable tokenizer.json ({msg})") from None
        self.path = path

    def chunk(self, data: np.ndarray, offsets: np.ndarray, params: HashParams) -> TokenChunk:
        """Token values of the documents ``data[offsets[d]:offsets[d+1]]``."""
        texts, invalid = decode_documents(data, offsets)
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=False)
        return id_lists_chunk([e.ids for e in encodings], params, invalid)


def decode_documents(data: np.ndarray, offsets: np.ndarray) -> tuple[list[str], int]:
    """The documents ``data[offsets[d]:offsets[d+1]]`` as strings (invalid UTF-8 replaced by
    U+FFFD), and the number of invalid sequences replaced."""
    texts, invalid = [], 0
    base = int(offsets[0])
    raw = data[base : int(offsets[-1])].tobytes()
    for d in range(offsets.shape[0] - 1):
        b = raw[int(offsets[d]) - base : int(offsets[d + 1]) - base]
        try:
            texts.append(b.decode("utf-8"))
        except UnicodeDecodeError:
            t = b.decode("utf-8", "replace")
            invalid += t.count("\ufffd") - b.count(b"\xef\xbf\xbd")
            texts.append(t)
    return texts, invalid


def id_lists_chunk(ids: list[list[int]], params: HashParams, invalid: int = 0) -> TokenChunk:
    """A chunk of one list of token ids per document, mixed into values like the ``ids``
    tokenizer's by :meth:`TokenChunk.values`."""
    doc = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum([len(x) for x in ids], out=doc[1:])
    flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.uint32, count=int(doc[-1]))
    return TokenChunk(flat, doc, invalid, id_seed=params.id_seed)


class TiktokenTokenizer:
    """A tiktoken encoding (``tiktoken:NAME`` or ``tiktoken:PATH.tiktoken``), loaded from files
    on this machine only (:mod:`seqcount.tiktoken_files`).

    Each document's ids are ``encoding.encode_ordinary(text)``: special-token text such as
    ``<|endoftext|>`` is ordinary text. A chunk's documents are encoded by ``threads`` threads
    (``encode_ordinary_batch``); the ids do not depend on them.

    Raises:
        ConfigError: tiktoken is not installed, or the encoding cannot be found or loaded.
    """

    def __init__(self, spec: str, threads: int | None = None):
        self.spec = spec
        self.encoding = tiktoken_files.load_encoding(spec)
        self.threads = max(1, threads or min(os.cpu_count() or 1, 8))

    def chunk(self, data: np.ndarray, offsets: np.ndarray, params: HashParams) -> TokenChunk:
        """Token values of the documents ``data[offsets[d]:offsets[d+1]]``."""
        texts, invalid = decode_documents(data, offsets)
        if len(texts) == 1:  # no thread pool for a single document (a long one's piece)
            ids = [self.encoding.encode_ordinary(texts[0])]
        else:
            ids = self.encoding.encode_ordinary_batch(texts, num_threads=self.threads)
        return id_lists_chunk(ids, params, invalid)

    @staticmethod
    def safe_cut(buf: np.ndarray, lo: int, hi: int) -> int:
        """A place in ``(lo, len(buf))`` where the encoding's split pattern always splits (the
        tokens of the two sides are the tokens of the whole): the last one up to ``hi``, else
        the first one after it, else -1.

        Such a place is ASCII: a space between two letters (``a| b``: the space goes with the
        word after it) or a letter after a line break that follows a visible character
        (``.\\n|T``). This holds for the split patterns of tiktoken's OpenAI encodings (r50k,
        p50k, cl100k, o200k); the tests check it against whole documents.
        """
        last = buf.shape[0] - 2  # a candidate p needs buf[p + 1]
        ok = _cuts(buf, max(lo + 1, 2), min(hi, last))
        if ok.shape[0]:
            return int(ok[-1])
        step = max(hi - lo, 1 << 20)
        for a in range(max(hi + 1, 2), last + 1, step):
            ok = _cuts(buf, a, min(a + step - 1, last))
            if ok.shape[0]:
                return int(ok[0])
        return -1


def _cuts(buf: np.ndarray, a: int, b: int) -> np.ndarray:
    """The places ``p`` in ``[a, b]`` that :meth:`TiktokenTokenizer.safe_cut` may cut at."""
    if b < a:
        return np.zeros(0, dtype=np.int64)
    before2, before = buf[a - 2 : b - 1], buf[a - 1 : b]
    at, after = buf[a : b + 1], buf[a + 1 : b + 2]
    space = (at == 0x20) & _ascii_letter(before) & _ascii_letter(after)
    line = (before == 0x0A) & (before2 > 0x20) & (before2 < 0x7F) & _ascii_letter(at)
    return a + np.flatnonzero(space | line)


def _ascii_letter(x: np.ndarray) -> np.ndarray:
    y = x | 0x20
    return (y >= 0x61) & (y <= 0x7A)


def make_tokenizer(name: str, threads: int | None = None):
    """The tokenizer of a :class:`~seqcount.config.CountConfig` name: ``words``, ``bytes`` and
    ``ids`` stay names; ``hf:PATH`` and ``tiktoken:SPEC`` become their tokenizer objects.

    Raises:
        ConfigError: the tokenizer's package is missing or its file cannot be loaded.
    """
    if name.startswith("hf:"):
        return HFTokenizer(name[3:])
    if name.startswith("tiktoken:"):
        return TiktokenTokenizer(name[len("tiktoken:") :], threads)
    return name


def _chunk(kind, values: np.ndarray, offsets: np.ndarray, params: HashParams, pool=None):
    """Token values of documents ``values[offsets[d]:offsets[d+1]]``; ``kind`` is a tokenizer
    name or a tokenizer object (:func:`make_tokenizer`)."""
    if kind == "words":
        return words_chunk(values, offsets, params, pool)
    if kind == "bytes":
        return bytes_chunk(values, offsets)
    if kind == "ids":
        return ids_chunk(values, offsets, params)
    return kind.chunk(values, offsets, params)


def iter_chunks(
    kind: str, values: np.ndarray, offsets: np.ndarray, params: HashParams, chunk_size: int
) -> Iterator[TokenChunk]:
    """Token chunks of one batch of whole documents, each about ``chunk_size`` bytes (or ids).

    A document longer than ``chunk_size`` still makes one chunk; :class:`StreamTokenizer` splits
    long documents.

    Args:
        kind: tokenizer name, ``words``, ``bytes`` or ``ids``.
        values: uint8 text bytes, or the token ids, of the whole batch.
        offsets: int64 per-document offsets into ``values`` (one more than the documents).
    """
    for a, b in _row_chunks(offsets, chunk_size):
        yield _chunk(kind, values, offsets[a : b + 1], params)


class StreamTokenizer:
    """Tokenize batches of documents in pieces of bounded size, long documents included.

    A document longer than ``chunk_size`` bytes (or ids) is cut into pieces, for ``words`` and
    ``tiktoken:`` only where no token is split (:func:`seqcount._kernels.words_cut`,
    :meth:`TiktokenTokenizer.safe_cut`), so the pieces' tokens are exactly the document's.
    ``hf:PATH`` cuts are not exact, so its pieces are :data:`MODEL_PIECE_BYTES` long whatever
    ``chunk_size`` is: its tokens then do not depend on it. A batch whose last document goes on
    in the next batch (a reader streaming one huge document) is passed with ``open_tail=True``;
    the bytes after the last safe cut wait for the next batch. Memory is bounded by the piece
    size plus the longest run without a safe cut (for ``words``: the longest word).
    """

    def __init__(
        self,
        kind: str | HFTokenizer | TiktokenTokenizer,
        params: HashParams,
        chunk_size: int,
        pool: BufferPool | None = None,
    ):
        if isinstance(kind, str):
            kind = make_tokenizer(kind)
        self.pool = pool  # where words chunks get their arrays
        self.kind = kind
        self.params = params
        self.chunk_size = max(1, int(chunk_size))
        # the size long documents are cut at (see MODEL_PIECE_BYTES)
        self.piece_size = MODEL_PIECE_BYTES if isinstance(kind, HFTokenizer) else self.chunk_size
        self._pending: np.ndarray | None = None  # start of the open document, not yet emitted
        self._open = False  # an earlier piece of the open document was emitted

    @property
    def pending(self) -> bool:
        """A document is unfinished (its next part must come in the next batch)."""
        return self._open or self._pending is not None

    def feed(self, values: np.ndarray, offsets: np.ndarray, open_tail: bool = False):
        """Yield :class:`TokenChunk` of the documents ``values[offsets[d]:offsets[d+1]]``.

        If a document is pending from the previous call, the first document here continues it.
        """
        rows = offsets.shape[0] - 1
        if rows <= 0:
            return
        first = 0
        if self.pending:
            part = values[offsets[0] : offsets[1]]
            if self._pending is not None:
                part = np.concatenate([self._pending, part])
                self._pending = None
            yield from self._long(part, closes=not (rows == 1 and open_tail))
            first = 1
        last = rows - 1 if open_tail else rows  # rows [first, last) are whole documents
        a = first
        while a < last:
            # whole documents up to chunk_size; a single long one goes to _long, and so does an
            # hf one longer than its pieces (when chunk_size is larger than they are)
            if offsets[a + 1] - offsets[a] > min(self.chunk_size, self.piece_size):
                yield from self._long(values[offsets[a] : offsets[a + 1]], closes=True)
                a += 1
                continue
            limit = offsets[a] + self.chunk_size
            b = int(np.searchsorted(offsets, limit, side="right")) - 1
            b = min(max(b, a + 1), last)
            yield _chunk(self.kind, values, offsets[a : b + 1], self.params, self.pool)
            a = b
        if open_tail and last >= first:
            yield from self._long(values[offsets[last] : offsets[last + 1]], closes=False)

    def finish(self) -> Iterator[TokenChunk]:
        """Close a document left open by a shard that ended early (after a read error)."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            yield from self._long(pending, closes=True)
        elif self._open:
            empty = np.zeros(1, dtype=np.uint8 if self.kind != "ids" else np.uint64)
            yield self._emit(empty, 0, 0, tail_open=False)

    def _emit(self, buf: np.ndarray, lo: int, hi: int, tail_open: bool) -> TokenChunk:
        chunk = _chunk(self.kind, buf, np.array([lo, hi], dtype=np.int64), self.params, self.pool)
        chunk.head_continues = self._open
        chunk.tail_open = tail_open
        self._open = tail_open
        return chunk

    def _cut(self, buf: np.ndarray, lo: int, hi: int) -> int:
        """A safe cut in ``(lo, len(buf))``, as close to ``hi`` as allowed, or -1."""
        end = buf.shape[0]
        if self.kind in ("bytes", "ids"):
            return min(hi, end - 1) if end - 1 > lo else -1
        if hasattr(self.kind, "safe_cut"):
            return self.kind.safe_cut(buf, lo, hi)
        if self.kind != "words":
            # hf: cut after a line break when there is one (subword merges rarely span lines)
            nl = np.flatnonzero(buf[lo + 1 : hi] == 10)
            if nl.shape[0]:
                return lo + 2 + int(nl[-1])  # just after the line break, at most hi
        return int(kernels.words_cut(buf, lo, hi, end, word_classes()))

    def _long(self, buf: np.ndarray, closes: bool):
        lo, end = 0, buf.shape[0]
        while end - lo > self.piece_size:
            cut = self._cut(buf, lo, lo + self.piece_size)
            if cut < 0:
                break
            yield self._emit(buf, lo, cut, tail_open=True)
            lo = cut
        if closes:
            yield self._emit(buf, lo, end, tail_open=False)
        else:
            # keep the rest (from a safe cut on) until the document goes on
            self._pending = buf[lo:].copy()


def words(text: str | bytes) -> list[str]:
    """The ``words`` tokens of one text, as strings (for inspection and tests; slow-ish).

    Equals ``re.findall(r"\\w+|[^\\w\\s]", text)``; bytes are decoded as UTF-8 with invalid
    sequences replaced by U+FFFD.
    """
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else bytes(text)
    buf = np.frombuffer(data, dtype=np.uint8)
    offsets = np.array([0, len(data)], dtype=np.int64)
    out = np.empty(len(data), dtype=np.uint64)
    starts = np.empty(max(len(data), 1), dtype=np.int64)
    ends = np.empty(max(len(data), 1), dtype=np.int64)
    doc = np.empty(2, dtype=np.int64)
    ntok, _ = hashing.tokenize_words(
        buf, offsets, word_classes(), 1 << 40, out, doc, (starts, ends)
    )
    return [data[s:e].decode("utf-8", "replace") for s, e in zip(starts[:ntok], ends[:ntok])]
