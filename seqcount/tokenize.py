"""Text (or token ids) to flat token-value arrays with document offsets; no per-token Python.

A :class:`TokenChunk` covers consecutive documents: ``tokens[doc[d]:doc[d+1]]`` are the token
values of its document ``d``. Token values are defined in :mod:`seqcount.kernels`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import kernels
from .hashing import HashParams

WORD_PATTERN = r"\w+|[^\w\s]"


@dataclass
class TokenChunk:
    """Token values of consecutive documents.

    Attributes:
        tokens: uint64 token values.
        doc: int64 token offsets, one more than the number of documents.
        invalid_utf8: invalid UTF-8 sequences replaced by U+FFFD in these documents.
    """

    tokens: np.ndarray
    doc: np.ndarray
    invalid_utf8: int = 0

    @property
    def documents(self) -> int:
        return self.doc.shape[0] - 1


@lru_cache(maxsize=1)
def word_classes() -> np.ndarray:
    """Class of every code point under Python's own ``re``: word (``\\w``), space (``\\s``), other.

    Built from the running interpreter's ``re`` module so that the ``words`` tokenizer agrees with
    ``re.findall(r"\\w+|[^\\w\\s]", text)`` on this Python's Unicode tables.
    """
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


def words_chunk(data: np.ndarray, offsets: np.ndarray, params: HashParams) -> TokenChunk:
    """``words`` token values of the documents ``data[offsets[d]:offsets[d+1]]``."""
    nbytes = int(offsets[-1] - offsets[0])
    out = np.empty(nbytes, dtype=np.uint64)
    doc = np.empty(offsets.shape[0], dtype=np.int64)
    empty = np.empty(0, dtype=np.int64)
    ntok, invalid = kernels.tokenize_words(
        data, offsets, word_classes(), np.uint64(params.token_base), out, doc, empty, empty
    )
    return TokenChunk(out[:ntok], doc, int(invalid))


def bytes_chunk(data: np.ndarray, offsets: np.ndarray) -> TokenChunk:
    """``bytes`` token values (byte + 1) of the documents ``data[offsets[d]:offsets[d+1]]``."""
    lo, hi = int(offsets[0]), int(offsets[-1])
    return TokenChunk(kernels.byte_values(data, lo, hi), offsets - lo, 0)


def ids_chunk(values: np.ndarray, offsets: np.ndarray, params: HashParams) -> TokenChunk:
    """``ids`` token values of the lists ``values[offsets[d]:offsets[d+1]]``."""
    lo, hi = int(offsets[0]), int(offsets[-1])
    tokens = kernels.id_values(values[lo:hi], np.uint64(params.id_seed))
    return TokenChunk(tokens, offsets - lo, 0)


def iter_chunks(
    kind: str, values: np.ndarray, offsets: np.ndarray, params: HashParams, chunk_size: int
) -> Iterator[TokenChunk]:
    """Token chunks of one batch of documents, each about ``chunk_size`` bytes (or ids) of input.

    Args:
        kind: tokenizer name, ``words``, ``bytes`` or ``ids``.
        values: uint8 text bytes, or the token ids, of the whole batch.
        offsets: int64 per-document offsets into ``values`` (one more than the documents).
    """
    for a, b in _row_chunks(offsets, chunk_size):
        off = offsets[a : b + 1]
        if kind == "words":
            yield words_chunk(values, off, params)
        elif kind == "bytes":
            yield bytes_chunk(values, off)
        else:
            yield ids_chunk(values, off, params)


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
    ntok, _ = kernels.tokenize_words(
        buf, offsets, word_classes(), np.uint64(1 << 40), out, doc, starts, ends
    )
    return [data[s:e].decode("utf-8", "replace") for s, e in zip(starts[:ntok], ends[:ntok])]
