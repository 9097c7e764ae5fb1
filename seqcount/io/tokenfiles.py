"""Token files: Megatron-Core IndexedDataset (``PREFIX.bin`` + ``PREFIX.idx``) and llm.c token
shards (also headerless nanoGPT-style ``.bin`` files), memory-mapped.

Both hand on token ids as views of the mapped file, in the file's own integer type:
:func:`seqcount.kernels.id_values_into` reads them in the counting thread, so a Megatron
dataset is counted with no copy of its tokens. An llm.c shard's document separators are taken
out of each batch of documents (one copy; a batch of one document is a view).

Megatron's index (little-endian): ``b"MMIDIDX\\x00\\x00"``, u64 version (1), u8 dtype code,
u64 sequence count S, u64 document count D, int32 sequence lengths [S], int64 byte pointers into
the .bin [S], int64 document indices [D] (the sequence each document starts at, ending with S;
so D - 1 documents), and, for multimodal datasets, an int8 mode per sequence (ignored). A
document is the concatenation of its sequences.

llm.c: a header of 256 int32 (magic, version, token count), then the tokens; every document
starts with the end-of-text token, which separates documents and is not counted.
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator

import numpy as np

from ..errors import ConfigError, InputError
from .arrow import page_in
from .shards import Column, ReadRequest, Shard

MEGATRON_MAGIC = b"MMIDIDX\x00\x00"
MEGATRON_VERSION = 1
#: Megatron dtype code → numpy type (float types are refused: token ids are integers).
MEGATRON_DTYPES = {
    1: "uint8", 2: "int8", 3: "int16", 4: "int32", 5: "int64", 6: "float64", 7: "float32",
    8: "uint16",
}  # fmt: skip
_INDEX_HEAD = struct.Struct("<9sQBQQ")  # magic, version, dtype code, sequences, documents

LLMC_HEADER_INTS = 256
LLMC_HEADER_BYTES = 4 * LLMC_HEADER_INTS
#: llm.c magic → (version, token type, end-of-text token): GPT-2 and Llama-3 shards.
LLMC_MAGICS = {20240520: (1, "uint16", 50256), 20240801: (7, "uint32", 128000)}
#: tokens compared with the separator at a time (bounds the temporary boolean array)
SCAN_BLOCK = 1 << 24


def index_path(bin_path: str) -> str:
    """The Megatron index that goes with a ``.bin`` file: ``PREFIX.bin`` → ``PREFIX.idx``."""
    stem = bin_path[:-4] if bin_path.lower().endswith(".bin") else bin_path
    return stem + ".idx"


def is_megatron(bin_path: str) -> bool:
    """Whether ``bin_path`` has a sibling ``.idx`` that starts with Megatron's magic."""
    try:
        with open(index_path(bin_path), "rb") as f:
            return f.read(len(MEGATRON_MAGIC)) == MEGATRON_MAGIC
    except OSError:
        return False


def map_file(path: str):
    """The bytes of a file, memory-mapped read-only (``b""`` for an empty file)."""
    try:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                return b""
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None


def doc_batches(bounds: np.ndarray, max_rows: int, max_tokens: int) -> Iterator[tuple[int, int]]:
    """Ranges ``[a, b)`` of documents, at most ``max_rows`` of them and about ``max_tokens``
    tokens (at least one document); ``bounds[d]`` is where document ``d`` starts, and
    ``bounds[-1]`` the end."""
    docs = bounds.shape[0] - 1
    a = 0
    while a < docs:
        b = int(np.searchsorted(bounds, bounds[a] + max_tokens, side="right")) - 1
        b = min(max(b, a + 1), a + max_rows, docs)
        yield a, b
        a = b


def _budget(request: ReadRequest, itemsize: int) -> int:
    return max(1, request.batch_bytes // itemsize)


# --------------------------------------------------------------------------- Megatron


def read_index(idx: str, bin_path: str, bin_size: int):
    """``(dtype, lengths, pointers, doc_idx)`` of a Megatron index, checked against its .bin.

    Raises:
        InputError: missing or truncated index, bad magic or version, float or unknown token
            type, document indices out of order, or a sequence past the end of the .bin.
    """
    data = map_file(idx)
    if len(data) < _INDEX_HEAD.size or data[: len(MEGATRON_MAGIC)] != MEGATRON_MAGIC:
        raise InputError(f"{idx}: not a Megatron index (no {MEGATRON_MAGIC!r} magic)")
    _, version, code, seqs, docs = _INDEX_HEAD.unpack_from(data, 0)
    if version != MEGATRON_VERSION:
        raise InputError(f"{idx}: Megatron index version {version}, expected {MEGATRON_VERSION}")
    if code not in MEGATRON_DTYPES:
        raise InputError(f"{idx}: unknown Megatron dtype code {code}")
    dtype = np.dtype(MEGATRON_DTYPES[code]).newbyteorder("<")
    if dtype.kind == "f":
        raise InputError(
            f"{idx}: tokens of type {dtype.name} (dtype code {code}); token ids must be integers"
        )
    start = _INDEX_HEAD.size
    need = start + 12 * seqs + 8 * docs
    if len(data) < need:
        raise InputError(
            f"{idx}: truncated index ({len(data)} bytes; {need} needed for {seqs} sequences "
            f"and {docs} document indices)"
        )
    lengths = np.frombuffer(data, "<i4", seqs, start)
    pointers = np.frombuffer(data, "<i8", seqs, start + 4 * seqs)
    doc_idx = np.frombuffer(data, "<i8", docs, start + 12 * seqs)
    if docs < 1 or doc_idx[0] != 0 or doc_idx[-1] != seqs or np.any(np.diff(doc_idx) < 0):
        raise InputError(f"{idx}: document indices do not rise from 0 to the sequence count {seqs}")
    if seqs and (lengths.min() < 0 or pointers.min() < 0):
        raise InputError(f"{idx}: negative sequence lengths or pointers")
    ends = pointers + lengths.astype(np.int64) * dtype.itemsize
    if seqs and int(ends.max()) > bin_size:
        k = int(np.argmax(ends > bin_size))
        raise InputError(
            f"{idx}: sequence {k} ends at byte {int(ends[k])}, past the end of {bin_path} "
            f"({bin_size} bytes; truncated .bin?)"
        )
    return dtype, lengths, pointers, doc_idx


class MegatronReader:
    """Megatron-Core ``IndexedDataset``: ``PREFIX.bin`` (the shard) and ``PREFIX.idx``."""

    name = "megatron"

    def num_rows(self, shard: Shard) -> int | None:
        try:
            with open(index_path(shard.path), "rb") as f:
                head = f.read(_INDEX_HEAD.size)
        except OSError:
            return None
        if len(head) < _INDEX_HEAD.size or not head.startswith(MEGATRON_MAGIC):
            return None
        return max(0, _INDEX_HEAD.unpack(head)[4] - 1)

    def iter_batches(self, shard: Shard, request: ReadRequest) -> Iterator[Column]:
        path = shard.path
        data = map_file(path)
        dtype, lengths, pointers, doc_idx = read_index(index_path(path), path, len(data))
        size = dtype.itemsize
        seq_start = np.zeros(lengths.shape[0] + 1, dtype=np.int64)
        np.cumsum(lengths, out=seq_start[1:])
        bounds = seq_start[doc_idx]  # token offsets of the documents, sequences put together
        first = int(pointers[0]) if pointers.shape[0] else 0
        contiguous = first % size == 0 and np.array_equal(pointers - first, seq_start[:-1] * size)
        tokens = np.frombuffer(data, dtype, int(seq_start[-1]), first) if contiguous else None
        for a, b in doc_batches(bounds, request.batch_rows, _budget(request, size)):
            lo, hi = int(bounds[a]), int(bounds[b])
            if tokens is not None:
                values = tokens[lo:hi]
            else:  # sequences stored out of order or apart: gather this batch's
                parts = [
                    np.frombuffer(data, dtype, int(lengths[s]), int(pointers[s]))
                    for s in range(int(doc_idx[a]), int(doc_idx[b]))
                ]
                values = np.concatenate(parts) if parts else np.empty(0, dtype)
            page_in(values)
            yield Column(values, bounds[a : b + 1] - lo)


# --------------------------------------------------------------------------- llm.c


def _llmc_layout(path: str, data, request: ReadRequest) -> tuple[np.dtype, int, int, int | None]:
    """``(token type, first byte, token count, separator or None)`` of an llm.c shard, or of a
    headerless token file read as ``request.token_dtype``."""
    size = len(data)
    magic = int(np.frombuffer(data, "<i4", 1)[0]) if size >= LLMC_HEADER_BYTES else None
    if magic in LLMC_MAGICS:
        head = np.frombuffer(data, "<i4", LLMC_HEADER_INTS)
        version, name, separator = LLMC_MAGICS[magic]
        if int(head[1]) != version:
            raise InputError(
                f"{path}: llm.c token shard version {int(head[1])}, expected {version} "
                f"(magic {magic})"
            )
        dtype = np.dtype(name).newbyteorder("<")
        count = int(head[2])
        need = LLMC_HEADER_BYTES + count * dtype.itemsize
        if count < 0 or size < need:
            raise InputError(
                f"{path}: truncated llm.c token shard: its header announces {count} tokens "
                f"({need} bytes), the file has {size} bytes"
            )
        if size > need:
            raise InputError(
                f"{path}: {size - need} bytes after the {count} tokens its llm.c header announces"
            )
        if request.token_dtype is not None and request.token_dtype != name:
            raise ConfigError(
                f"{path}: an llm.c shard of {name} tokens (by its header), but token_dtype is "
                f"{request.token_dtype}",
                "token_dtype",
            )
        start = LLMC_HEADER_BYTES
    else:
        if request.token_dtype is None:
            raise ConfigError(
                f"{path}: not an llm.c token shard (no header with magic 20240520 or "
                "20240801); to read it as headerless token ids (nanoGPT's train.bin) give "
                "token_dtype uint16 or uint32",
                "token_dtype",
            )
        dtype = np.dtype(request.token_dtype).newbyteorder("<")
        if size % dtype.itemsize:
            raise InputError(
                f"{path}: {size} bytes is not a whole number of {dtype.name} tokens (truncated?)"
            )
        start, count, separator = 0, size // dtype.itemsize, None
    if request.doc_separator is not None:
        separator = request.doc_separator
    if separator is not None and separator > np.iinfo(dtype).max:
        raise ConfigError(
            f"doc_separator {separator} does not fit the {dtype.name} tokens of {path}",
            "doc_separator",
        )
    return dtype, start, count, separator


def separator_pieces(tokens: np.ndarray, separator: int | None) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, ends)`` of the documents of a token stream cut at ``separator`` (``None``:
    one document). The separators are not part of any document; an empty piece before the
    first separator or after the last one is not a document (llm.c puts the separator before
    each document, nanoGPT after), empty pieces between two separators are."""
    total = tokens.shape[0]
    if separator is None:
        return np.zeros(int(total > 0), np.int64), np.full(int(total > 0), total, np.int64)
    sep = tokens.dtype.type(separator)
    found = [
        np.flatnonzero(tokens[i : i + SCAN_BLOCK] == sep) + i for i in range(0, total, SCAN_BLOCK)
    ]
    pos = np.concatenate(found).astype(np.int64) if found else np.zeros(0, np.int64)
    starts = np.concatenate([[0], pos + 1]).astype(np.int64)
    ends = np.concatenate([pos, [total]]).astype(np.int64)
    keep = np.ones(starts.shape[0], dtype=bool)
    keep[0] = ends[0] > 0
    if pos.shape[0]:
        keep[-1] = starts[-1] < total
    return starts[keep], ends[keep]


class LlmcReader:
    """llm.c token shards (GPT-2 uint16 or Llama-3 uint32, by the header) and headerless token
    files (``token_dtype``), documents cut at the end-of-text token (``doc_separator``)."""

    name = "llmc"

    def num_rows(self, shard: Shard) -> int | None:
        return None

    def iter_batches(self, shard: Shard, request: ReadRequest) -> Iterator[Column]:
        path = shard.path
        data = map_file(path)
        dtype, start, count, separator = _llmc_layout(path, data, request)
        tokens = np.frombuffer(data, dtype, count, start)
        starts, ends = separator_pieces(tokens, separator)
        bounds = np.append(starts, ends[-1] if ends.shape[0] else 0)
        for a, b in doc_batches(bounds, request.batch_rows, _budget(request, dtype.itemsize)):
            lo, hi = int(starts[a]), int(ends[b - 1])
            offsets = np.zeros(b - a + 1, dtype=np.int64)
            np.cumsum(ends[a:b] - starts[a:b], out=offsets[1:])
            values = tokens[lo:hi]
            if b - a > 1:  # take out the separators between the documents
                values = np.delete(values, ends[a : b - 1] - lo)
            page_in(values)
            yield Column(values, offsets)
