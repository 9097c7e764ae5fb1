"""Find shards and stream one column of them in batches of documents, as numpy views.

Readers are pluggable: :data:`READERS` maps a format name to a :class:`ShardReader` and
:data:`EXTENSIONS` maps file extensions to format names. Formats: Parquet, Arrow IPC (file and
stream), JSON Lines and plain text; JSON Lines and text may be gzip- or zstd-compressed. Every
reader streams (a shard is never loaded whole) and reports failures as
:class:`~seqcount.errors.InputError` naming the file (and the row or line where known).
"""

from __future__ import annotations

import glob
import io
import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError, SchemaError

#: File extension → format name.
EXTENSIONS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".arrows": "arrow",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".txt": "txt",
}
#: Compression suffix → codec (for formats read as a byte stream).
COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
STREAM_FORMATS = ("jsonl", "txt")
FORMATS = ("parquet", "arrow", "jsonl", "txt")


@dataclass(frozen=True)
class Shard:
    """One input file.

    Attributes:
        path: as found (normalised).
        size: bytes on disk.
        format: ``parquet``, ``arrow``, ``jsonl`` or ``txt``.
        compression: ``gzip``, ``zstd`` or ``None``.
    """

    path: str
    size: int
    format: str
    compression: str | None = None


@dataclass
class Inputs:
    """What a run reads: the paths as given, the shards found in them in reading order, and
    the files inside them that were left out (unknown formats, seqcount's own directories)."""

    paths: list[str]
    shards: list[Shard]
    ignored: list[str] = field(default_factory=list)


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
    """

    column: str = "text"
    kind: str = "text"
    batch_rows: int = 1024
    batch_bytes: int = 4 << 20
    block_bytes: int = 4 << 20
    txt_documents: str = "file"
    bad_row: Callable[[str, int, str], None] | None = field(default=None, repr=False)

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


def _check_type(path: str, column: str, typ: pa.DataType, kind: str) -> None:
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


def _is_view(typ: pa.DataType) -> bool:
    return getattr(pa.types, "is_string_view", lambda t: False)(typ) or getattr(
        pa.types, "is_binary_view", lambda t: False
    )(typ)


def text_column(arr: pa.Array) -> Column:
    """UTF-8 bytes and int64 offsets of a string or binary array (null rows become empty)."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_null(arr.type):
        return Column(np.empty(0, np.uint8), np.zeros(len(arr) + 1, np.int64), len(arr))
    if _is_view(arr.type):
        arr = arr.cast(pa.large_binary())
    nulls = arr.null_count
    if nulls:
        fill = "" if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else b""
        arr = pc.fill_null(arr, fill)
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
    of a list-of-integers array. :func:`seqcount.kernels.id_values` takes any integer type."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if pa.types.is_null(arr.type):
        return Column(np.empty(0, np.uint64), np.zeros(len(arr) + 1, np.int64), len(arr))
    nulls = arr.null_count
    if pa.types.is_fixed_size_list(arr.type):
        arr = arr.cast(pa.large_list(arr.type.value_type))
    if nulls:
        arr = pc.fill_null(arr, pa.scalar([], type=arr.type))
    off = arr.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    child = arr.values
    lo, hi = int(off[0]), int(off[-1])
    part = child.slice(lo, hi - lo)
    if part.null_count:
        raise SchemaError(f"{path}: column {column!r} holds null token ids inside a list")
    values = part.to_numpy(zero_copy_only=False)
    return Column(values, off - lo, nulls)


# --------------------------------------------------------------------------- Parquet

_ARROW_ERRORS = (pa.ArrowException, OSError, ValueError, EOFError, MemoryError)


def _short(e: BaseException) -> str:
    msg = " ".join(str(e).split())
    return msg if len(msg) <= 200 else msg[:197] + "..."


def _check_schema(path: str, schema: pa.Schema, request: ReadRequest) -> int:
    """Index of the requested column in ``schema``; raise SchemaError if missing or mistyped."""
    column = request.column
    if column not in schema.names:
        names = ", ".join(schema.names) or "none"
        raise SchemaError(f"{path}: no column {column!r} (columns: {names})")
    _check_type(path, column, schema.field(column).type, request.kind)
    return schema.get_field_index(column)


def _validate(arr: pa.Array, path: str, fmt: str) -> pa.Array:
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
    except _ARROW_ERRORS as e:
        raise InputError(f"{path}: corrupt {fmt} data ({_short(e)})") from None
    return arr


def _converter(path: str, request: ReadRequest, fmt: str) -> Callable[[pa.Array], Column]:
    if request.kind == "text":
        return lambda a: text_column(_validate(a, path, fmt))
    return lambda a: ids_column(_validate(a, path, fmt), path, request.column)


class ParquetReader:
    """Apache Parquet, streamed a record batch at a time with column projection."""

    name = "parquet"

    def _open(self, path: str):
        import pyarrow.parquet as pq

        try:
            # no pre-buffering: pyarrow would otherwise read far ahead of the batch in hand
            return pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
        except _ARROW_ERRORS as e:
            raise InputError(f"{path}: not a readable Parquet file ({_short(e)})") from None

    def num_rows(self, shard: Shard) -> int | None:
        return self._open(shard.path).metadata.num_rows

    @staticmethod
    def _batch_rows(pf, request: ReadRequest) -> int:
        """``batch_rows``, lowered so that a batch holds about ``batch_bytes`` of the column."""
        md = pf.metadata
        size = rows = 0
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            rows += rg.num_rows
            for c in range(rg.num_columns):
                col = rg.column(c)
                if col.path_in_schema.split(".")[0] == request.column:
                    size += col.total_uncompressed_size
        per_row = max(1, size // max(1, rows))
        return int(max(1, min(request.batch_rows, request.batch_bytes // per_row)))

    def iter_batches(self, shard: Shard, request: ReadRequest) -> Iterator[Column]:
        path = shard.path
        pf = self._open(path)
        _check_schema(path, pf.schema_arrow, request)
        convert = _converter(path, request, "Parquet")
        rows = 0
        try:
            batches = pf.iter_batches(
                batch_size=self._batch_rows(pf, request),
                columns=[request.column],
                use_threads=False,
            )
            for batch in batches:
                rows += batch.num_rows
                yield convert(batch.column(0))
        except _ARROW_ERRORS as e:
            raise InputError(
                f"{path}: corrupt or truncated Parquet data after row {rows} ({_short(e)})"
            ) from None


# --------------------------------------------------------------------------- Arrow IPC


class ArrowReader:
    """Arrow IPC, file format (Feather v2) or stream format, memory-mapped, batch by batch."""

    name = "arrow"

    def _open(self, path: str):
        try:
            source = pa.memory_map(path, "r")
        except _ARROW_ERRORS as e:
            raise InputError(f"{path}: cannot read ({_short(e)})") from None
        try:
            return pa.ipc.open_file(source)
        except _ARROW_ERRORS:
            pass
        try:
            source.seek(0)
            return pa.ipc.open_stream(source)
        except _ARROW_ERRORS as e:
            raise InputError(
                f"{path}: not a readable Arrow IPC file or stream ({_short(e)})"
            ) from None

    def num_rows(self, shard: Shard) -> int | None:
        return None

    def iter_batches(self, shard: Shard, request: ReadRequest) -> Iterator[Column]:
        path = shard.path
        reader = self._open(path)
        index = _check_schema(path, reader.schema, request)
        convert = _converter(path, request, "Arrow")
        if isinstance(reader, pa.ipc.RecordBatchFileReader):
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
        else:
            batches = iter(reader)
        rows = 0
        try:
            for batch in batches:
                col = batch.column(index)
                per_row = max(1, col.nbytes // max(1, len(col)))
                step = int(max(1, min(request.batch_rows, request.batch_bytes // per_row)))
                for start in range(0, len(col), step):
                    part = col.slice(start, step)
                    rows += len(part)
                    column = convert(part)
                    if request.kind == "ids":
                        _page_in(column.values)
                    yield column
        except _ARROW_ERRORS as e:
            raise InputError(
                f"{path}: corrupt or truncated Arrow data after row {rows} ({_short(e)})"
            ) from None


def _page_in(values: np.ndarray) -> None:
    """Read one value per page of a memory-mapped array here, in the reading thread: token ids
    are first read when the counting thread mixes them, and a page read from disk there would
    hold up the counting."""
    if values.shape[0]:
        values[:: max(1, 4096 // values.itemsize)].sum()


# --------------------------------------------------------------------------- byte streams


#: bytes per read from pyarrow's stream; a read that fails loses what it had decoded (see
#: :class:`_Decoded`), which is then decoded again a byte at a time: at most this many calls
_PIECE = 64 << 10


class _Decoded(io.RawIOBase):
    """The bytes of a shard, decompressed if it is .gz or .zst, as a raw stream that hands on
    everything decoded before a read error.

    A read from pyarrow's stream returns all the bytes asked for (fewer only at the end) or
    raises and drops the bytes it had decoded, so a truncated gzip file read a MiB at a time
    would lose up to a MiB before the cut. Here :meth:`readinto` reads in pieces of
    :data:`_PIECE` bytes; when a piece fails it decodes the bytes of that piece that are still
    readable (:meth:`_salvage`), returns them with the pieces before, and the next call raises
    the error. A caller sees every byte before the error and then the error.
    """

    def __init__(self, shard: Shard):
        super().__init__()
        self._shard = shard
        self._src = self._open()
        self._pos = 0  # bytes handed on
        self._error: BaseException | None = None  # raised by the next read

    def _open(self):
        try:
            return pa.input_stream(self._shard.path, compression=self._shard.compression)
        except _ARROW_ERRORS as e:
            raise InputError(f"{self._shard.path}: cannot read ({_short(e)})") from None

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._error is not None:
            raise self._error
        view = memoryview(b).cast("B")
        n = 0
        while n < len(view):
            piece = view[n : n + _PIECE]
            try:
                got = self._src.readinto(piece)
            except _ARROW_ERRORS as e:
                got = self._salvage(piece)
                self._error = e
            n += got
            self._pos += got
            if self._error is not None:
                if n == 0:
                    raise self._error
                break
            if got == 0:
                break
        return n

    def _salvage(self, piece: memoryview) -> int:
        """The bytes after the first ``_pos`` that can still be decoded, read into ``piece``
        (fewer than fit: a read of ``len(piece)`` bytes failed): the file is opened again, the
        bytes handed on are skipped (decoded again: this costs as much time as reading them
        did) and the rest are read a byte at a time up to the error."""
        n = 0
        try:
            src = self._open()
        except InputError:
            return 0
        try:
            if src.seekable():
                src.seek(self._pos)
            else:
                skip = self._pos
                scratch = memoryview(bytearray(min(skip, 1 << 20)))
                while skip:
                    got = src.readinto(scratch[: min(skip, len(scratch))])
                    if not got:
                        return 0  # the file changed
                    skip -= got
            while n < len(piece):
                byte = src.read(1)
                if not byte:
                    break
                piece[n] = byte[0]
                n += 1
        except _ARROW_ERRORS:
            pass
        finally:
            src.close()
        return n

    def close(self) -> None:
        src = getattr(self, "_src", None)  # None if opening failed
        if src is not None and not self.closed:
            src.close()
        super().close()


def _open_stream(shard: Shard) -> _Decoded:
    """A raw binary stream of the file, decompressed if it is .gz or .zst, that hands on every
    byte read before an error, then raises it (see :class:`_Decoded`)."""
    return _Decoded(shard)


def _stream_error(shard: Shard, where: str, e: BaseException) -> InputError:
    what = f"corrupt or truncated {shard.compression} data" if shard.compression else "read error"
    return InputError(f"{shard.path}: {what} {where} ({_short(e)})")


def _utf8(text: str) -> bytes:
    """UTF-8 bytes of a decoded JSON string; bytes that were invalid come back as they were."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate written as a JSON escape
            return text.encode("utf-8", "surrogatepass")


def _text_batch(docs: list[bytes], nulls: int) -> Column:
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in docs], out=offsets[1:])
    return Column(np.frombuffer(b"".join(docs), dtype=np.uint8), offsets, nulls)


_MASK64 = (1 << 64) - 1


def _ids_batch(docs: list[list[int]], nulls: int) -> Column:
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(d) for d in docs], out=offsets[1:])
    flat = [x for d in docs for x in d]
    try:
        values = np.array(flat, dtype=np.int64).view(np.uint64)
    except OverflowError:
        values = np.array([x & _MASK64 for x in flat], dtype=np.uint64)
    return Column(values, offsets, nulls)


def _json_hint(path: str, line_no: int) -> str:
    """For a bad first line of a ``.json`` file: it may be one JSON document, not JSON Lines."""
    if line_no == 1 and path.endswith(".json"):
        return "; .json files are read as JSON Lines, one object per line"
    return ""


def _json_type(v) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(v), "a number"
    )


class JsonlReader:
    """JSON Lines (one JSON object per line; .gz / .zst streamed), parsed a line at a time."""

    name = "jsonl"

    def num_rows(self, shard: Shard) -> int | None:
        return None

    def iter_batches(self, shard: Shard, request: ReadRequest) -> Iterator[Column]:
        path, column, text = shard.path, request.column, request.kind == "text"
        docs: list = []
        nulls = 0
        line_no = 0
        seen = False
        held = 0  # bytes in docs
        error = None
        # buffered for readline; a read error loses only the line it cuts (see _Decoded)
        with io.BufferedReader(_open_stream(shard), buffer_size=1 << 20) as f:
            while True:
                try:
                    line = f.readline()
                except _ARROW_ERRORS as e:
                    error = _stream_error(shard, f"near line {line_no + 1}", e)
                    break
                if not line:
                    break
                line_no += 1
                if line_no == 1 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]  # a UTF-8 byte-order mark
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line.decode("utf-8", "surrogateescape"))
                except ValueError as e:
                    hint = _json_hint(path, line_no)
                    request.reject(path, line_no, f"malformed JSON ({_short(e)}){hint}")
                    continue
                if not isinstance(obj, dict):
                    hint = _json_hint(path, line_no)
                    request.reject(
                        path, line_no, f"expected a JSON object, got {_json_type(obj)}{hint}"
                    )
                    continue
                if column not in obj:
                    if not seen:
                        fields = ", ".join(list(obj)[:20]) or "none"
                        raise SchemaError(
                            f"{path}: line {line_no}: no field {column!r} (fields: {fields})"
                        )
                    request.reject(path, line_no, f"no field {column!r}")
                    continue
                seen = True
                value = obj[column]
                if value is None:
                    nulls += 1
                    docs.append(b"" if text else [])
                elif text:
                    if not isinstance(value, str):
                        request.reject(
                            path,
                            line_no,
                            f"field {column!r} is {_json_type(value)}, expected a string",
                        )
                        continue
                    docs.append(_utf8(value))
                    held += len(docs[-1])
                else:
                    if not isinstance(value, list) or not all(
                        type(x) is int and -(1 << 63) <= x < (1 << 64) for x in value
                    ):
                        request.reject(
                            path,
                            line_no,
                            f"field {column!r} is not a list of 64-bit integers",
                        )
                        continue
                    docs.append(value)
                    held += 8 * len(value)
                if len(docs) >= request.batch_rows or held >= request.batch_bytes:
                    yield _text_batch(docs, nulls) if text else _ids_batch(docs, nulls)
                    docs, nulls, held = [], 0, 0
        if docs:  # also the rows read before an error: they stay counted
            yield _text_batch(docs, nulls) if text else _ids_batch(docs, nulls)
        if error is not None:
            raise error


class TextReader:
    """Plain text: one document per file (streamed in blocks), or one per line."""

    name = "txt"

    def num_rows(self, shard: Shard) -> int | None:
        return None

    def iter_batches(self, shard: Shard, request: ReadRequest) -> Iterator[Column]:
        if request.kind != "text":
            raise SchemaError(
                f"{shard.path}: a text file has no token-id column; --tokens-column needs "
                "Parquet, Arrow or JSON Lines"
            )
        errors: list[InputError] = []
        with _open_stream(shard) as f:
            # the blocks end at a read error, the documents read up to it are passed on (a cut
            # line or file as the last one), then the error is raised
            blocks = self._blocks(shard, f, request.block_bytes, errors)
            if request.txt_documents == "lines":
                yield from self._lines(blocks, request.block_bytes)
            else:
                yield from self._whole(blocks, errors)
        if errors:
            raise errors[0]

    @staticmethod
    def _blocks(shard: Shard, f: _Decoded, size: int, errors: list) -> Iterator[np.ndarray]:
        """Blocks of ``size`` bytes (the last one shorter); a read error ends them and is
        appended to ``errors``."""
        read = 0
        while True:
            block = np.empty(size, np.uint8)
            try:
                n = f.readinto(block)  # fills the block, but at the end or before an error
            except _ARROW_ERRORS as e:
                errors.append(_stream_error(shard, f"after byte {read}", e))
                return
            if not n:
                return
            read += n
            yield block if n == size else block[:n].copy()

    @staticmethod
    def _whole(blocks: Iterator[np.ndarray], errors: list) -> Iterator[Column]:
        """The file is one document; each block but the last leaves it open."""
        prev = next(blocks, None)
        if prev is None:
            if not errors:  # an empty file; an unreadable one holds no document
                yield Column(np.empty(0, np.uint8), np.zeros(2, np.int64))
            return
        for block in blocks:
            yield Column(prev, np.array([0, prev.shape[0]], np.int64), open_tail=True)
            prev = block
        yield Column(prev, np.array([0, prev.shape[0]], np.int64))

    @staticmethod
    def _lines(blocks: Iterator[np.ndarray], block_bytes: int) -> Iterator[Column]:
        """Each line is a document (without its "\n" or "\r\n"); a long line is streamed."""
        carry = np.empty(0, np.uint8)
        open_line = False  # part of the current line was already passed on
        for block in blocks:
            buf = np.concatenate([carry, block]) if carry.shape[0] else block
            nl = np.flatnonzero(buf == 10)
            if nl.shape[0] == 0:
                if buf.shape[0] > block_bytes:
                    yield Column(buf, np.array([0, buf.shape[0]], np.int64), open_tail=True)
                    carry, open_line = np.empty(0, np.uint8), True
                else:
                    carry = buf
                continue
            starts = np.concatenate([[0], nl[:-1] + 1])
            ends = nl.copy()
            cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
            ends[cr] -= 1
            whole = nl[-1] + 1  # the complete lines, less their "\n" and "\r\n"
            keep = np.ones(whole, dtype=bool)
            keep[nl] = False
            keep[ends[cr]] = False
            offsets = np.zeros(starts.shape[0] + 1, dtype=np.int64)
            np.cumsum(ends - starts, out=offsets[1:])
            yield Column(buf[:whole][keep], offsets)
            carry, open_line = buf[nl[-1] + 1 :], False
        if carry.shape[0] or open_line:
            yield Column(carry, np.array([0, carry.shape[0]], np.int64))


READERS: dict[str, ShardReader] = {
    "parquet": ParquetReader(),
    "arrow": ArrowReader(),
    "jsonl": JsonlReader(),
    "txt": TextReader(),
}


# --------------------------------------------------------------------------- discovery


def format_of(path: str, forced: str | None = None) -> tuple[str, str | None] | None:
    """``(format, compression)`` of a file from its name (or ``forced``), or ``None``."""
    name = os.path.basename(path).lower()
    compression = None
    for suffix, codec in COMPRESSIONS.items():
        if name.endswith(suffix):
            compression, name = codec, name[: -len(suffix)]
            break
    fmt = forced or EXTENSIONS.get(os.path.splitext(name)[1])
    if fmt is None or (compression and fmt not in STREAM_FORMATS):
        return None
    return fmt, compression


def _known() -> str:
    return ", ".join(sorted(EXTENSIONS)) + " (.jsonl/.json/.txt also as .gz or .zst)"


def discover(
    paths: list[str] | tuple[str, ...],
    format: str | None = None,
    exclude: list[str] | tuple[str, ...] = (),
    foreign: Callable[[str, list[str]], bool] | None = None,
) -> tuple[list[Shard], list[str]]:
    """Expand directories (recursively), files and globs into shards in sorted path order.

    Args:
        paths: directories, files or globs. Directories (also those a glob matches) are
            searched recursively, following symbolic links (each directory once); hidden files
            and directories are skipped. A file reached twice (named twice, under two
            spellings, or through a link) is read once, under the path it was reached by first.
        format: read files named explicitly or matched by a glob as this format instead of
            choosing by extension (files found inside directories still go by extension).
        exclude: directories to leave out (the output directory of the run).
        foreign: ``foreign(root, files)`` tells a directory that is not corpus data (an
            output or state directory of seqcount): such directories found inside ``paths``
            are left out (listed in ``ignored`` with a trailing slash), and one named in
            ``paths`` is refused.

    Returns:
        (shards, ignored): readable shards sorted by path, and files found inside directories
        or globs whose extension no reader knows (and seqcount's own directories).

    Raises:
        InputError: a path does not exist, a named file has an unknown format, or nothing
            readable was found.
    """
    if not paths:
        raise InputError("no input paths given")
    found: dict[str, Shard] = {}
    found_real: dict[str, str] = {}  # real path -> the path it was found under first
    ignored: set[str] = set()
    skip_dirs = {os.path.realpath(d) for d in exclude}
    walked: set[str] = set()

    def add(path: str, explicit: bool, forced: str | None) -> None:
        kind = format_of(path, forced)
        if kind is None:
            if explicit:
                raise InputError(f"{path}: unknown file format (known: {_known()})")
            ignored.add(os.path.normpath(path))
            return
        try:
            st = os.stat(path)
        except OSError as e:
            if explicit:
                raise InputError(f"{path}: cannot read ({e.strerror})") from None
            ignored.add(os.path.normpath(path))  # e.g. a broken symbolic link: listed, skipped
            return
        if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
            if explicit:
                raise InputError(f"{path}: not a regular file")
            ignored.add(os.path.normpath(path))
            return
        norm = os.path.normpath(path)
        real = os.path.realpath(path)
        if found_real.setdefault(real, norm) != norm:
            return  # the same file again (another spelling or a link): read it once
        found[norm] = Shard(norm, st.st_size, *kind)

    def walk(top: str, named: bool) -> None:
        for root, dirs, files in os.walk(top, followlinks=True):
            real = os.path.realpath(root)
            if real in walked or real in skip_dirs:
                dirs[:] = []
                continue
            walked.add(real)
            if foreign is not None and foreign(root, files):
                if root == top and named:
                    raise InputError(
                        f"{top}: a directory written by seqcount (an output or state), not a "
                        "corpus; 'seqcount compare' and 'seqcount report' read outputs"
                    )
                ignored.add(os.path.join(os.path.normpath(root), ""))  # listed with a slash
                dirs[:] = []
                continue
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for f in files:
                if not f.startswith("."):
                    add(os.path.join(root, f), explicit=False, forced=None)

    for raw in paths:
        p = str(raw)
        if os.path.isdir(p):
            walk(p, named=True)
        elif os.path.isfile(p):
            add(p, explicit=True, forced=format)
        elif glob.has_magic(p):
            matches = sorted(glob.glob(p, recursive=True))
            if not matches:
                raise InputError(f"{p}: no files match this pattern")
            for m in matches:
                if os.path.isdir(m):
                    walk(m, named=False)
                elif os.path.isfile(m) and not os.path.basename(m).startswith("."):
                    add(m, explicit=False, forced=format)
        elif os.path.lexists(p):
            raise InputError(f"{p}: not a regular file or directory")
        else:
            raise InputError(f"{p}: no such file or directory")
    if not found:
        where = ", ".join(str(p) for p in paths)
        raise InputError(f"{where}: no input shards found (known: {_known()})")
    shards = [found[k] for k in sorted(found, key=lambda s: Path(s).as_posix())]
    return shards, sorted(ignored)


def reader_for(shard: Shard) -> ShardReader:
    """The reader of a shard's format."""
    return READERS[shard.format]


def prefetch(items: Iterable, depth: int = 1) -> Iterator:
    """Iterate ``items`` in a background thread, at most ``depth`` items ahead of the consumer.

    Reading and decompressing a shard (pyarrow releases the GIL) then overlaps with the
    counting kernels (numba, GIL released) on another core. The order of the items is
    unchanged, and an exception raised by ``items`` is raised here at the same place in the
    sequence, after the items before it. Stopping early (``close``, an exception in the
    consumer) stops the thread and closes ``items``.
    """
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()
    items = iter(items)

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for x in items:
                if not put((x, None)):
                    return
            put((end, None))
        except BaseException as e:  # handed to the consumer, raised there
            put((end, e))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=work, name="seqcount-reader", daemon=True)
    thread.start()
    try:
        while True:
            x, err = q.get()
            if x is end:
                if err is not None:
                    raise err
                return
            yield x
    finally:
        stop.set()
        thread.join()
