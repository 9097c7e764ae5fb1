"""Growth curves U_n(D): the checkpoint schedule and the ``curve.csv`` file.

Checkpoints sit on a log-spaced grid of token counts: ``D_k = ceil(10**(k / per_decade))`` for
``k = 0, 1, 2, ...`` (duplicates removed), i.e. 1, 2, 3, 4, 5, 6, 8, 10, 14, 18, 24, 32, ... for 8
per decade. The checkpoint for ``D_k`` is taken right after the first document whose end brings
the running token count to ``D_k`` or more; one document may satisfy several targets and then
gives one row. The last row of each ``n`` is the whole input: a checkpoint row with the same
token count as the whole input is folded into it.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

from .errors import FormatError

#: Columns of ``curve.csv``, in order; ``unique_exact`` is present only with ``--exact``.
CURVE_COLUMNS = ("n", "tokens", "documents", "windows", "unique")


class Schedule:
    """The log-spaced checkpoint targets ``ceil(10**(k/per_decade))``, generated lazily."""

    def __init__(self, per_decade: int):
        if per_decade < 1:
            raise ValueError(f"per_decade must be at least 1, got {per_decade}")
        self.per_decade = per_decade
        self._k = 0
        self.target = 1  # the next target not yet reached

    @staticmethod
    def point(k: int, per_decade: int) -> int:
        """``ceil(10**(k/per_decade))`` in exact integer arithmetic: the least t with
        ``t**per_decade >= 10**k``."""
        goal = 10**k
        t = max(1, int(10 ** (k / per_decade)))
        while t**per_decade < goal:
            t += 1
        while t > 1 and (t - 1) ** per_decade >= goal:
            t -= 1
        return t

    def advance_past(self, tokens: int) -> None:
        """Move :attr:`target` to the first grid point above ``tokens``."""
        while self.target <= tokens:
            self._k += 1
            self.target = max(self.target, self.point(self._k, self.per_decade))


def targets(per_decade: int, up_to: int) -> list[int]:
    """All checkpoint targets ``<= up_to`` (for inspection and tests)."""
    s = Schedule(per_decade)
    out = []
    while s.target <= up_to:
        out.append(s.target)
        s.advance_past(s.target)
    return out


@dataclass(frozen=True)
class CurveRow:
    """One point of the growth curve of one window size.

    Attributes:
        n: window size.
        tokens: D, the tokens read up to this checkpoint.
        documents: documents read up to this checkpoint (including empty ones).
        windows: n-token windows among them (with repeats).
        unique: estimated distinct windows U_n(D) (HyperLogLog++).
        unique_exact: exact distinct window hashes, or ``None`` without ``--exact``.
    """

    n: int
    tokens: int
    documents: int
    windows: int
    unique: float
    unique_exact: int | None = None


def write_curve(rows: list[CurveRow], f) -> None:
    """Write rows as CSV text to the text file ``f`` (``unique`` rounded to an integer)."""
    exact = any(r.unique_exact is not None for r in rows)
    w = csv.writer(f, lineterminator="\n")
    w.writerow(CURVE_COLUMNS + (("unique_exact",) if exact else ()))
    for r in rows:
        row = [r.n, r.tokens, r.documents, r.windows, round(r.unique)]
        if exact:
            row.append(r.unique_exact)
        w.writerow(row)


def curve_bytes(rows: list[CurveRow]) -> bytes:
    """The ``curve.csv`` content of ``rows``."""
    buf = io.StringIO()
    write_curve(rows, buf)
    return buf.getvalue().encode("utf-8")


def read_curve(path: str | os.PathLike) -> list[CurveRow]:
    """Read a ``curve.csv`` written by seqcount.

    Raises:
        FormatError: the file is missing columns or holds non-numeric values.
    """
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in CURVE_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise FormatError(f"{path}: not a seqcount curve (missing columns {missing})")
            exact = "unique_exact" in reader.fieldnames
            rows = []
            for i, rec in enumerate(reader, start=2):
                try:
                    rows.append(
                        CurveRow(
                            n=int(rec["n"]),
                            tokens=int(rec["tokens"]),
                            documents=int(rec["documents"]),
                            windows=int(rec["windows"]),
                            unique=float(rec["unique"]),
                            unique_exact=int(rec["unique_exact"]) if exact else None,
                        )
                    )
                except (TypeError, ValueError):
                    raise FormatError(f"{path}: line {i}: not a valid curve row") from None
    except OSError as e:
        raise FormatError(f"{path}: cannot read ({e.strerror})") from None
    return rows
