"""Columnar readers: Apache Parquet and Arrow IPC files."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from ..errors import InputError
from .shards import (
    ARROW_ERRORS,
    Column,
    ReadRequest,
    Shard,
    check_schema,
    converter,
    short_error,
)


class ParquetReader:
    """Apache Parquet, streamed a record batch at a time with column projection."""

    name = "parquet"

    def _open(self, path: str):
        import pyarrow.parquet as pq

        try:
            # no pre-buffering: pyarrow would otherwise read far ahead of the batch in hand
            return pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
        except ARROW_ERRORS as e:
            raise InputError(f"{path}: not a readable Parquet file ({short_error(e)})") from None

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
        check_schema(path, pf.schema_arrow, request)
        convert = converter(path, request, "Parquet")
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
        except ARROW_ERRORS as e:
            raise InputError(
                f"{path}: corrupt or truncated Parquet data after row {rows} ({short_error(e)})"
            ) from None


# --------------------------------------------------------------------------- Arrow IPC


class ArrowReader:
    """Arrow IPC, file format (Feather v2) or stream format, memory-mapped, batch by batch."""

    name = "arrow"

    def _open(self, path: str):
        try:
            source = pa.memory_map(path, "r")
        except ARROW_ERRORS as e:
            raise InputError(f"{path}: cannot read ({short_error(e)})") from None
        try:
            return pa.ipc.open_file(source)
        except ARROW_ERRORS:
            pass
        try:
            source.seek(0)
            return pa.ipc.open_stream(source)
        except ARROW_ERRORS as e:
            raise InputError(
                f"{path}: not a readable Arrow IPC file or stream ({short_error(e)})"
            ) from None

    def num_rows(self, shard: Shard) -> int | None:
        return None

    def iter_batches(self, shard: Shard, request: ReadRequest) -> Iterator[Column]:
        path = shard.path
        reader = self._open(path)
        index = check_schema(path, reader.schema, request)
        convert = converter(path, request, "Arrow")
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
                        page_in(column.values)
                    yield column
        except ARROW_ERRORS as e:
            raise InputError(
                f"{path}: corrupt or truncated Arrow data after row {rows} ({short_error(e)})"
            ) from None


def page_in(values: np.ndarray) -> None:
    """Read one value per page of a memory-mapped array here, in the reading thread: token ids
    are first read when the counting thread mixes them, and a page read from disk there would
    hold up the counting."""
    if values.shape[0]:
        values[:: max(1, 4096 // values.itemsize)].sum()
