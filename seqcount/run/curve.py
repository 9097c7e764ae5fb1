"""The ``curve.csv`` file: writing and reading growth-curve rows."""

from __future__ import annotations

import csv
import io
import os

from ..engine.results import CurveRow
from ..errors import FormatError

#: Columns of ``curve.csv``, in order; then ``unique_exact`` (only with ``--exact``) and
#: ``unique_hip`` (the running HIP estimate; absent where there is no single ordered stream,
#: e.g. in merged results and deduplicated curves).
CURVE_COLUMNS = ("n", "tokens", "documents", "windows", "unique")


def write_curve(rows: list[CurveRow], f) -> None:
    """Write rows as CSV text to the text file ``f`` (``unique`` rounded to an integer)."""
    exact = any(r.unique_exact is not None for r in rows)
    hip = any(r.unique_hip is not None for r in rows)
    w = csv.writer(f, lineterminator="\n")
    w.writerow(
        CURVE_COLUMNS + (("unique_exact",) if exact else ()) + (("unique_hip",) if hip else ())
    )
    for r in rows:
        row = [r.n, r.tokens, r.documents, r.windows, round(r.unique)]
        if exact:
            row.append(r.unique_exact)
        if hip:
            row.append("" if r.unique_hip is None else round(r.unique_hip))
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
            hip = "unique_hip" in reader.fieldnames
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
                            unique_hip=float(rec["unique_hip"])
                            if hip and rec["unique_hip"]
                            else None,
                        )
                    )
                except (TypeError, ValueError):
                    raise FormatError(f"{path}: line {i}: not a valid curve row") from None
    except OSError as e:
        raise FormatError(f"{path}: cannot read ({e.strerror})") from None
    return rows
