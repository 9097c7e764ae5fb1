"""The one formats registry: format name → :class:`~seqcount.io.shards.ShardReader`.

The file formats are those of :data:`seqcount.config.FORMATS` (the ``--format`` choices), in
the same order: the registry is built from the readers' names and checked against that tuple
at import, so a format cannot be added to one and forgotten in the other. ``table`` reads
documents held in memory (:func:`seqcount.io.memory.inputs_from_memory`); it is not a file format.
"""

from __future__ import annotations

import dataclasses

from ..config import FORMATS, TOKEN_FORMATS, CountConfig
from ..errors import ConfigError, InputError
from .arrow import ArrowReader, ParquetReader
from .memory import TableReader
from .shards import Shard, ShardReader
from .streams import JsonlReader, TextReader
from .tokenfiles import LlmcReader, MegatronReader

_FILE_READERS: tuple[ShardReader, ...] = (
    ParquetReader(),
    ArrowReader(),
    JsonlReader(),
    TextReader(),
    MegatronReader(),
    LlmcReader(),
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


#: The column name recorded for token files (``megatron``, ``llmc``) when no tokens_column is given.
TOKEN_FILES_COLUMN = "tokens"


def token_config(config: CountConfig, shards: list[Shard]) -> CountConfig:
    """``config`` for counting ``shards``: token files (``megatron``, ``llmc``) hold token ids,
    so the default tokenizer becomes ``ids`` (column ``tokens`` in the results, or the given
    ``tokens_column``).

    Raises:
        ConfigError: a tokenizer other than ``words`` (the default) or ``ids`` for token files.
        InputError: token files mixed with text files (under a text tokenizer).
    """
    token = [s for s in shards if s.format in TOKEN_FORMATS]
    if not token or config.tokenizer == "ids":
        return config
    if config.tokenizer != "words":
        raise ConfigError(
            f"tokenizer {config.tokenizer}: {token[0].path} holds token ids already "
            f"({token[0].format}); leave out tokenizer",
            "tokenizer",
        )
    text = [s for s in shards if s.format not in TOKEN_FORMATS]
    if text:
        raise InputError(
            f"{token[0].path} holds token ids ({token[0].format}) and {text[0].path} text: "
            "count them in separate runs"
        )
    return dataclasses.replace(config, tokenizer="ids", tokens_column=TOKEN_FILES_COLUMN)
