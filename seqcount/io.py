"""Find shards and stream one column of them in record batches, as numpy views.

Readers are pluggable: :data:`READERS` maps a file extension to a :class:`ShardReader`. This
release reads Parquet; every reader streams (a shard is never loaded whole) and reports failures
as :class:`~seqcount.errors.InputError` naming the file.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError, SchemaError


@dataclass(frozen=True)
class Shard:
    """One input file."""

    path: str
    size: int
    format: str


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


class ShardReader(Protocol):
    """What a format needs to provide."""

    name: str

    def num_rows(self, path: str) -> int | None: ...

    def iter_batches(
        self, path: str, column: str, kind: str, batch_rows: int
    ) -> Iterator[Column]: ...


# --------------------------------------------------------------------------- column conversion


def _check_type(path: str, column: str, typ: pa.DataType, kind: str) -> None:
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
        if kind == "text" and pa.types.is_list(typ):
            hint = " (pre-tokenized? use --tokens-column)"
        elif kind == "ids" and (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
            hint = " (text? use --text-column and --tokenizer words or bytes)"
        raise SchemaError(f"{path}: column {column!r} has type {typ}, expected {want}{hint}")


def text_column(arr: pa.Array) -> Column:
    """UTF-8 bytes and int64 offsets of a string or binary array (null rows become empty)."""
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
    """Token ids (as uint64) and int64 offsets of a list-of-integers array."""
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
    values = part.to_numpy(zero_copy_only=False).astype(np.uint64, copy=False)
    return Column(values, off - lo, nulls)


# --------------------------------------------------------------------------- Parquet


class ParquetReader:
    """Apache Parquet, streamed a record batch at a time with column projection."""

    name = "parquet"

    def _open(self, path: str):
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path)
        except (pa.ArrowException, OSError, ValueError) as e:
            raise InputError(f"{path}: not a readable Parquet file ({_short(e)})") from None

    def num_rows(self, path: str) -> int | None:
        return self._open(path).metadata.num_rows

    def iter_batches(self, path: str, column: str, kind: str, batch_rows: int) -> Iterator[Column]:
        pf = self._open(path)
        schema = pf.schema_arrow
        if column not in schema.names:
            names = ", ".join(schema.names) or "none"
            raise SchemaError(f"{path}: no column {column!r} (columns: {names})")
        _check_type(path, column, schema.field(column).type, kind)
        convert = text_column if kind == "text" else (lambda a: ids_column(a, path, column))
        batches = pf.iter_batches(batch_size=batch_rows, columns=[column], use_threads=False)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowException, OSError, ValueError) as e:
                raise InputError(
                    f"{path}: corrupt or truncated Parquet data ({_short(e)})"
                ) from None
            yield convert(batch.column(0))


READERS: dict[str, ShardReader] = {".parquet": ParquetReader(), ".pq": ParquetReader()}


def _short(e: BaseException) -> str:
    msg = " ".join(str(e).split())
    return msg if len(msg) <= 200 else msg[:197] + "..."


# --------------------------------------------------------------------------- discovery


def _format_of(path: str) -> str | None:
    ext = os.path.splitext(path)[1].lower()
    return READERS[ext].name if ext in READERS else None


def discover(paths: list[str] | tuple[str, ...]) -> tuple[list[Shard], list[str]]:
    """Expand directories (recursively), files and globs into shards in sorted path order.

    Returns:
        (shards, ignored): readable shards sorted by path, and files found inside directories
        or globs whose extension no reader knows (hidden files are not listed).

    Raises:
        InputError: a path does not exist, a named file has an unknown format, or nothing
            readable was found.
    """
    if not paths:
        raise InputError("no input paths given")
    found: dict[str, Shard] = {}
    ignored: set[str] = set()

    def add(path: str, explicit: bool) -> None:
        fmt = _format_of(path)
        if fmt is None:
            if explicit:
                known = ", ".join(sorted(READERS))
                raise InputError(f"{path}: unknown file format (known extensions: {known})")
            if not os.path.basename(path).startswith("."):
                ignored.add(os.path.normpath(path))
            return
        try:
            size = os.stat(path).st_size
        except OSError as e:
            raise InputError(f"{path}: cannot read ({e.strerror})") from None
        norm = os.path.normpath(path)
        found[norm] = Shard(norm, size, fmt)

    for raw in paths:
        p = str(raw)
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for f in files:
                    add(os.path.join(root, f), explicit=False)
        elif os.path.isfile(p):
            add(p, explicit=True)
        elif glob.has_magic(p):
            matches = [m for m in glob.glob(p, recursive=True) if os.path.isfile(m)]
            if not matches:
                raise InputError(f"{p}: no files match this pattern")
            for m in matches:
                add(m, explicit=False)
        elif os.path.lexists(p):
            raise InputError(f"{p}: not a regular file or directory")
        else:
            raise InputError(f"{p}: no such file or directory")
    if not found:
        where = ", ".join(str(p) for p in paths)
        raise InputError(
            f"{where}: no input shards found (known extensions: {', '.join(sorted(READERS))})"
        )
    shards = [found[k] for k in sorted(found, key=lambda s: Path(s).as_posix())]
    return shards, sorted(ignored)


def reader_for(shard: Shard) -> ShardReader:
    """The reader of a shard's format."""
    return READERS[os.path.splitext(shard.path)[1].lower()]
