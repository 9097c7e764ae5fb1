"""What the readers share: shards, inputs, batches of one column, read requests, and the checks
and conversions that turn an Arrow column into flat numpy arrays."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pyarrow as pa

from ..errors import InputError, SchemaError


@dataclass(frozen=True)
class Shard:
    """One input file.

    Attributes:
        path: as found (normalised).
        size: bytes on disk.
        format: ``parquet``, ``arrow``, ``jsonl``, ``txt``, ``megatron`` or ``llmc`` (or
            ``table``: held in memory).
        compression: ``gzip``, ``zstd`` or ``None``.
        data: the documents of an in-memory shard (a
            :class:`~seqcount.io.memory.MemorySource`), whose ``path`` is a display name;
            ``None`` for a file.
    """

    path: str
    size: int
    format: str
    compression: str | None = None
    data: object = field(default=None, compare=False, repr=False)


@dataclass
class Inputs:
    """What a run reads.

    Attributes:
        paths: the paths as given.
        shards: the shards found in them, in reading order.
        ignored: files inside them that were left out: unknown formats, and seqcount's own
            directories (with a trailing slash).
        metadata: files inside them that are known not to be data (README, LICENSE,
            checksums, a Hugging Face dataset's ``dataset_info.json`` and ``state.json``...),
            left out quietly.
    """

    paths: list[str]
    shards: list[Shard]
    ignored: list[str] = field(default_factory=list)
    metadata: list[str] = field(default_factory=list)


@dataclass
class Column:
    """One batch of documents of one column, as flat numpy arrays.

    ``values[offsets[d]:offsets[d+1]]`` is document ``d``: UTF-8 bytes (uint8) for text columns,
    token ids for list columns. Null rows are empty documents. A reader streaming a document
    too large for one batch sets ``open_tail``: the last document goes on as the first document
    of the next batch.
    """

    values: np.ndarray
    offsets: np.ndarray
    nulls: int = 0
    open_tail: bool = False  # the last document goes on in the next batch

    @property
    def rows(self) -> int:
        return self.offsets.shape[0] - 1


@dataclass
class ReadRequest:
    """What to read from each shard.

    Attributes:
        column: the column (or JSON field) holding documents.
        kind: ``text`` (strings) or ``ids`` (lists of integers).
        batch_rows: documents per batch, at most.
        batch_bytes: text (or id) bytes per batch, about (a batch holds at least one document).
            About one chunk of ``CountConfig.chunk_bytes``: a few batches are held at once
            (read ahead, decoding, tokenizing), and with 32 MiB peak RSS still grew with the
            corpus (the suite's memory section, benchmarks/scale.py); the speed is the same.
        block_bytes: bytes per batch when streaming one long text (``txt``).
        txt_documents: ``file`` (one document per .txt file) or ``lines`` (one per line).
        bad_row: called as ``bad_row(path, row, message)`` for a bad row of a row-oriented
            format (a malformed JSON line, a value of the wrong type); it raises to stop, or
            returns to skip the row. Rows count from 1.
        doc_separator: token files (``llmc``): the id that separates documents, or ``None``
            (the header's end-of-text token).
        token_dtype: token files (``llmc``): ``uint16`` or ``uint32`` for a file without an
            llm.c header.
    """

    column: str = "text"
    kind: str = "text"
    batch_rows: int = 1024
    batch_bytes: int = 4 << 20
    block_bytes: int = 4 << 20
    txt_documents: str = "file"
    bad_row: Callable[[str, int, str], None] | None = field(default=None, repr=False)
    doc_separator: int | None = None
    token_dtype: str | None = None

    def reject(self, path: str, row: int, message: str) -> None:
        """Report a bad row: raise :class:`InputError`, or let ``bad_row`` decide."""
        if self.bad_row is None:
            raise InputError(f"{path}: line {row}: {message}")
        self.bad_row(path, row, message)


class ShardReader(Protocol):
    """What a format needs to provide."""

    name: str

    def num_rows(self, shard: Shard) -> int | None:
        """Documents in the shard if cheaply known (for progress), else ``None``."""
        ...

    def iter_batches(self, shard: Shard, request: ReadRequest) -> Iterator[Column]:
        """Stream the shard's documents in batches; raise :class:`InputError` naming the file."""
        ...


# --------------------------------------------------------------------------- column conversion


def check_type(path: str, column: str, typ: pa.DataType, kind: str) -> None:
    """Raise :class:`SchemaError` (with a hint) unless ``typ`` suits ``kind`` (``text`` or
    ``ids``)."""
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    if pa.types.is_null(typ):  # an all-null column (e.g. written by pandas): empty documents
        return
    if kind == "text":
        ok = (
            pa.types.is_string(typ)
            or pa.types.is_large_string(typ)
            or pa.types.is_binary(typ)
            or pa.types.is_large_binary(typ)
            or getattr(pa.types, "is_string_view", lambda t: False)(typ)
            or getattr(pa.types, "is_binary_view", lambda t: False)(typ)
        )
        want = "a string column"
    else:
        ok = (
            pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ)
        ) and pa.types.is_integer(typ.value_type)
        want = "a list of integers per row"
    if not ok:
        hint = ""
        is_list = pa.types.is_list(typ) or pa.types.is_large_list(typ)
        if kind == "text" and is_list and pa.types.is_integer(typ.value_type):
            hint = " (pre-tokenized? use --tokens-column)"
        elif kind == "text" and is_list:
            hint = " (a list per row: seqcount reads one text, or one list of token ids, per row)"
        elif kind == "ids" and (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
            hint = " (text? use --text-column and --tokenizer words or bytes)"
        raise SchemaError(f"{path}: column {column!r} has type {typ}, expected {want}{hint}")


def is_view(typ: pa.DataType) -> bool:
    """Whether ``typ`` is a string or binary view type (newer pyarrow only)."""
    return getattr(pa.types, "is_string_view", lambda t: False)(typ) or getattr(
        pa.types, "is_binary_view", lambda t: False
    )(typ)


def fill_null(arr: pa.Array, value) -> pa.Array:
    """``arr`` with its nulls replaced by ``value``. ``pyarrow.compute`` is imported here, on
    the first null: importing it costs every run 0.03 s of start-up."""
    import pyarrow.compute as pc

    return pc.fill_null(arr, value)


def text_column(arr: pa.Array) -> Column:
    """UTF-8 bytes and int64 offsets of a string or binary array (null rows become empty)."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_null(arr.type):
        return Column(np.empty(0, np.uint8), np.zeros(len(arr) + 1, np.int64), len(arr))
    if is_view(arr.type):
        arr = arr.cast(pa.large_binary())
    nulls = arr.null_count
    if nulls:
        fill = "" if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else b""
        arr = fill_null(arr, fill)
    if not (
        pa.types.is_string(arr.type)
        or pa.types.is_large_string(arr.type)
        or pa.types.is_binary(arr.type)
        or pa.types.is_large_binary(arr.type)
    ):
        arr = arr.cast(pa.large_binary())
    large = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    bufs = arr.buffers()
    off = np.frombuffer(bufs[1], dtype=np.int64 if large else np.int32)
    off = off[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.empty(0, np.uint8)
    return Column(data, off, nulls)


def ids_column(arr: pa.Array, path: str = "", column: str = "") -> Column:
    """Token ids (in the column's integer type, no copy where Arrow allows) and int64 offsets
    of a list-of-integers array. :func:`seqcount._kernels.id_values` takes any integer type."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_null(arr.type):
        return Column(np.empty(0, np.uint64), np.zeros(len(arr) + 1, np.int64), len(arr))
    nulls = arr.null_count
    if pa.types.is_fixed_size_list(arr.type):
        arr = arr.cast(pa.large_list(arr.type.value_type))
    if nulls:
        arr = fill_null(arr, pa.scalar([], type=arr.type))
    off = arr.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    child = arr.values
    lo, hi = int(off[0]), int(off[-1])
    part = child.slice(lo, hi - lo)
    if part.null_count:
        raise SchemaError(f"{path}: column {column!r} holds null token ids inside a list")
    values = part.to_numpy(zero_copy_only=False)
    return Column(values, off - lo, nulls)


# --------------------------------------------------------------------------- checks

#: what pyarrow (and reading a file) raises on bad data
ARROW_ERRORS = (pa.ArrowException, OSError, ValueError, EOFError, MemoryError)


def short_error(e: BaseException) -> str:
    """An error's message on one line, cut to 200 characters."""
    msg = " ".join(str(e).split())
    return msg if len(msg) <= 200 else msg[:197] + "..."


def check_schema(path: str, schema: pa.Schema, request: ReadRequest) -> int:
    """Index of the requested column in ``schema``; raise SchemaError if missing or mistyped."""
    column = request.column
    if column not in schema.names:
        names = ", ".join(schema.names) or "none"
        raise SchemaError(f"{path}: no column {column!r} (columns: {names})")
    check_type(path, column, schema.field(column).type, request.kind)
    return schema.get_field_index(column)


def validate_array(arr: pa.Array, path: str, fmt: str) -> pa.Array:
    """Check offsets and lengths of an array read from a file before numba kernels index it.

    Arrow IPC readers do not validate batches; a corrupt file could otherwise point offsets
    outside their buffers. Strings are checked as binary: invalid UTF-8 is not an error here
    (the tokenizer replaces and counts it).
    """
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    check = arr
    if pa.types.is_string(arr.type):
        check = arr.view(pa.binary())
    elif pa.types.is_large_string(arr.type):
        check = arr.view(pa.large_binary())
    try:
        check.validate(full=True)
    except ARROW_ERRORS as e:
        raise InputError(f"{path}: corrupt {fmt} data ({short_error(e)})") from None
    return arr


def converter(path: str, request: ReadRequest, fmt: str) -> Callable[[pa.Array], Column]:
    """A function turning an Arrow array of the requested kind into a checked :class:`Column`."""
    if request.kind == "text":
        return lambda a: text_column(validate_array(a, path, fmt))
    return lambda a: ids_column(validate_array(a, path, fmt), path, request.column)
