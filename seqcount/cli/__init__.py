"""The ``seqcount`` command line: options → one :mod:`seqcount.api` call → print."""

from . import contamination  # noqa: F401  (registers the command)
from .commands import cli

__all__ = ["cli"]
