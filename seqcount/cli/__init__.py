"""The ``seqcount`` command line: options → one :mod:`seqcount.api` call → print."""

from .commands import cli

__all__ = ["cli"]
