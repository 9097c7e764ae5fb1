"""The one formats registry: format name → :class:`~seqcount.io.shards.ShardReader`.

The file formats are those of :data:`seqcount.config.FORMATS` (the ``--format`` choices), in
the same order: the registry is built from the readers' names and checked against that tuple
at import, so a format cannot be added to one and forgotten in the other. ``table`` reads
documents held in memory (:func:`seqcount.io.memory.inputs_from_memory`); it is not a file format.
"""

from __future__ import annotations

from ..config import FORMATS
from .arrow import ArrowReader, ParquetReader
from .memory import TableReader
from .shards import Shard, ShardReader
from .streams import JsonlReader, TextReader

_FILE_READERS: tuple[ShardReader, ...] = (
    ParquetReader(),
    ArrowReader(),
    JsonlReader(),
    TextReader(),
)
if tuple(r.name for r in _FILE_READERS) != FORMATS:  # fail loudly: the two lists must agree
    raise ImportError(
        f"seqcount.io readers {[r.name for r in _FILE_READERS]} differ from "
        f"seqcount.config.FORMATS {list(FORMATS)}"
    )

#: Format name → reader: the file formats of :data:`seqcount.config.FORMATS`, and ``table``.
READERS: dict[str, ShardReader] = {r.name: r for r in (*_FILE_READERS, TableReader())}


def reader_for(shard: Shard) -> ShardReader:
    """The reader of a shard's format."""
    return READERS[shard.format]
