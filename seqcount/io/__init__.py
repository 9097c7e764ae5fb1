"""Find shards and stream one column of them in batches of documents, as numpy views.

Readers are pluggable: :data:`READERS` maps a format name to a :class:`ShardReader` and
:data:`EXTENSIONS` maps file extensions to format names. Formats: Parquet, Arrow IPC (file and
stream; also the folders of Hugging Face ``datasets``), JSON Lines and plain text (both may be
gzip- or zstd-compressed), token files (Megatron-Core ``.bin``/``.idx``, llm.c ``.bin``
shards), and documents held in memory (:func:`inputs_from_memory`). Every reader streams (a
shard is never loaded whole) and reports failures as :class:`~seqcount.errors.InputError`
naming the file (and the row or line where known).

Modules: :mod:`.shards` (shards, inputs, batches, column checks), :mod:`.arrow` (Parquet,
Arrow IPC), :mod:`.decoded` (decompressed byte streams), :mod:`.streams` (JSON Lines, text),
:mod:`.tokenfiles` (Megatron and llm.c token files), :mod:`.memory` (in-memory sources),
:mod:`.registry` (the formats registry), :mod:`.discover`, :mod:`.prefetch`.
"""

from ..config import FORMATS
from .arrow import ArrowReader, ParquetReader
from .discover import COMPRESSIONS, EXTENSIONS, METADATA_NAMES, STREAM_FORMATS, discover, format_of
from .memory import TableReader, inputs_from_memory
from .prefetch import prefetch
from .registry import READERS, TOKEN_FILES_COLUMN, reader_for, token_config
from .shards import Column, Inputs, ReadRequest, Shard, ShardReader, ids_column, text_column
from .streams import JsonlReader, TextReader
from .tokenfiles import LlmcReader, MegatronReader, index_path

__all__ = [
    "COMPRESSIONS",
    "EXTENSIONS",
    "FORMATS",
    "METADATA_NAMES",
    "READERS",
    "STREAM_FORMATS",
    "TOKEN_FILES_COLUMN",
    "ArrowReader",
    "Column",
    "Inputs",
    "JsonlReader",
    "LlmcReader",
    "MegatronReader",
    "ParquetReader",
    "index_path",
    "ReadRequest",
    "Shard",
    "ShardReader",
    "TableReader",
    "TextReader",
    "discover",
    "format_of",
    "ids_column",
    "inputs_from_memory",
    "prefetch",
    "reader_for",
    "text_column",
    "token_config",
]
