"""A saved ``count`` output, opened: its curve, summary and sketches."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..engine.results import CurveRow, curve_table
from ..errors import FormatError
from ..sketches import SketchSet, load_sketches
from .files import SKETCH_FILE, load_run


@dataclass
class Run:
    """An output directory of ``seqcount count`` (or ``merge``), read back.

    Attributes:
        path: the directory.
        rows: the growth curve, by ``n`` then ``tokens``.
        summary: the content of ``summary.json``.
    """

    path: str
    rows: list[CurveRow]
    summary: dict
    _sketches: SketchSet | None = field(default=None, repr=False)

    @property
    def curve(self):
        """The growth curve as a ``pyarrow.Table`` (``.to_pandas()`` for a DataFrame)."""
        return curve_table(self.rows)

    @property
    def ns(self) -> list[int]:
        """The window sizes counted."""
        return list(self.summary["options"]["ns"])

    @property
    def tokens(self) -> int:
        """Tokens in the whole input."""
        return int(self.summary["totals"]["tokens"])

    def unique(self, n: int) -> float:
        """Estimated distinct windows of size ``n`` in the whole input.

        Raises:
            KeyError: ``n`` was not counted.
        """
        last = max(r.tokens for r in self.rows if r.n == n) if n in self.ns else None
        if last is None:
            raise KeyError(f"n={n} was not counted (counted: {self.ns})")
        return next(r.unique for r in self.rows if r.n == n and r.tokens == last)

    @property
    def sketches(self) -> SketchSet:
        """The saved sketches (read on first use)."""
        if self._sketches is None:
            path = os.path.join(self.path, SKETCH_FILE)
            if not os.path.isfile(path):
                raise FormatError(f"{path}: missing")
            self._sketches = load_sketches(path)
        return self._sketches


def open_run(path: str | os.PathLike) -> Run:
    """Open an output directory of ``seqcount count``.

    Raises:
        FormatError: a file is missing or not seqcount's.
    """
    rows, summary = load_run(path)
    return Run(os.fspath(path), rows, summary)
