"""Typed errors raised by the library.

Library code raises these; only :mod:`seqcount.cli` turns them into one-line messages and exit
codes. Every message names the file (where there is one) and the problem, so that it reads well
on its own after ``Error:``.
"""

from __future__ import annotations


class SeqcountError(Exception):
    """Base class for every error seqcount raises on purpose.

    Attributes:
        params: the Python names of the parameters the message speaks of (``("repair",)``),
            spelled as the message spells them; the CLI puts its flags in their place.
    """

    def __init__(self, message: str, *params: str):
        super().__init__(message)
        self.params = params


class ConfigError(SeqcountError, ValueError):
    """An option is out of range or options contradict each other.

    ``params`` names the parameters at fault (``("precision",)``); the CLI exits with status 2
    for those. It is empty when no single parameter is at fault (e.g. a tokenizer file that
    will not load).
    """


class InputError(SeqcountError):
    """A path is missing, unreadable, corrupt, or holds no shards."""


class SchemaError(InputError):
    """A shard lacks the requested column, or the column has the wrong type."""


class SketchMismatchError(SeqcountError, ValueError):
    """Two sketches cannot be combined (different precision, seed or window size)."""


class FormatError(SeqcountError):
    """A saved seqcount file is not in a format or version this release can read."""


class OutputError(SeqcountError):
    """An output directory or file cannot be written."""


class StateError(SeqcountError):
    """A state directory is locked by another job, or holds a corrupt or foreign file."""


class WorkerError(SeqcountError):
    """A worker process (``--jobs``) or Dask worker died while counting a shard."""
