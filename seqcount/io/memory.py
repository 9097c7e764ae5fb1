"""Documents held in memory: a pyarrow Table (a text column or a list-of-ids column) or an
iterable of Python strings, read like a shard of the ``table`` format.

A source becomes one :class:`~seqcount.io.shards.Shard` whose ``path`` is a display name
(``<table>`` or ``<strings>``) and whose ``data`` holds the source. :class:`TableReader` streams
it in batches of about ``batch_bytes`` as :class:`~seqcount.io.arrow.ParquetReader` does, and
checks the column as the file readers do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa

from ..errors import InputError
from .shards import Column, Inputs, ReadRequest, Shard, check_schema, converter, text_column

#: the format name of in-memory shards in :data:`seqcount.io.registry.READERS`
MEMORY_FORMAT = "table"
TABLE_NAME = "<table>"
STRINGS_NAME = "<strings>"


@dataclass
class MemorySource:
    """What an in-memory shard holds.

    Attributes:
        obj: a ``pyarrow.Table``, or an iterable of ``str`` (``None`` items are empty documents).
        column: the column name the documents go under (for strings: the name they are given).
        once: ``obj`` is an iterator, which can be read only once.
        read: it has been read (an iterator read again would silently give no documents).
    """

    obj: object
    column: str
    once: bool = False
    read: bool = False


def inputs_from_memory(obj, column: str = "text") -> Inputs:
    """:class:`~seqcount.io.shards.Inputs` of one in-memory shard.

    Args:
        obj: a ``pyarrow.Table`` or ``RecordBatch`` (documents in column ``column``: strings,
            or lists of integer token ids), or an iterable of ``str`` (one document each;
            an iterator is read once, lazily, a batch at a time).
        column: the column holding documents; strings are read as a column of this name.

    Raises:
        TypeError: ``obj`` is a single string or bytes (a path or one document), or not iterable.
    """
    if isinstance(obj, pa.RecordBatch):
        obj = pa.Table.from_batches([obj])
    if isinstance(obj, pa.Table):
        source, name, size = MemorySource(obj, column), TABLE_NAME, obj.nbytes
    elif isinstance(obj, (str, bytes, bytearray, memoryview)):
        raise TypeError(
            "a single string is not a corpus: pass a path to count files, or a list of texts"
        )
    elif isinstance(obj, Iterable):
        once = iter(obj) is obj  # a generator or iterator, not a list
        source, name, size = MemorySource(obj, column, once=once), STRINGS_NAME, 0
    else:
        raise TypeError(f"cannot count a {type(obj).__name__}: give a pyarrow Table or texts")
    shard = Shard(name, size, MEMORY_FORMAT, data=source)
    return Inputs([name], [shard])


class TableReader:
    """Documents held in memory (see :func:`inputs_from_memory`)."""

    name = MEMORY_FORMAT

    def num_rows(self, shard: Shard) -> int | None:
        obj = shard.data.obj
        if isinstance(obj, pa.Table):
            return obj.num_rows
        return len(obj) if hasattr(obj, "__len__") else None

    def iter_batches(self, shard: Shard, request: ReadRequest) -> Iterator[Column]:
        source: MemorySource = shard.data
        if source.once and source.read:
            raise InputError(f"{shard.path}: an iterator of texts can be read only once")
        source.read = True
        if isinstance(source.obj, pa.Table):
            yield from self._table(shard.path, source.obj, request)
        else:
            yield from self._strings(shard.path, source, request)

    @staticmethod
    def _table(path: str, table: pa.Table, request: ReadRequest) -> Iterator[Column]:
        index = check_schema(path, table.schema, request)
        col = table.column(index)
        convert = converter(path, request, "table")
        per_row = max(1, col.nbytes // max(1, len(col)))
        step = int(max(1, min(request.batch_rows, request.batch_bytes // per_row)))
        for start in range(0, len(col), step):
            part = col.slice(start, step)
            for chunk in part.chunks:  # a slice of a chunked array may span chunks
                if len(chunk):
                    yield convert(chunk)

    @staticmethod
    def _strings(path: str, source: MemorySource, request: ReadRequest) -> Iterator[Column]:
        check_schema(path, pa.schema([(source.column, pa.large_string())]), request)
        docs: list = []
        held = 0
        for row, doc in enumerate(source.obj, 1):
            if doc is not None and not isinstance(doc, str):
                request.reject(path, row, f"expected a string, got {type(doc).__name__}")
                continue
            docs.append(doc)
            held += len(doc) if doc else 0
            if len(docs) >= request.batch_rows or held >= request.batch_bytes:
                yield text_column(pa.array(docs, pa.large_string()))
                docs, held = [], 0
        if docs:
            yield text_column(pa.array(docs, pa.large_string()))
