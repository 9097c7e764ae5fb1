"""Human-readable results: the ``count`` table, and the analysis report (markdown, HTML, JSON,
plots) of ``seqcount report``.

:func:`build_report` analyses a run into a typed :class:`Report` (``to_dict()`` is report.json);
:func:`write_report` also writes its files. matplotlib is imported only to draw.
"""

from __future__ import annotations

from .build import MAX_LISTED_PAIRS, analyze, build_report
from .html import report_html
from .markdown import report_markdown
from .model import (
    CorpusInfo,
    DedupRow,
    Extrapolated,
    FitResult,
    NearDupSection,
    NotFitted,
    Report,
    ShardPair,
    ShardSimilarity,
    Slopes,
)
from .options import OptionError, check_options, parse_floats
from .tables import count_notes, count_table, near_dup_table
from .write import write_report, write_shard_similarity

__all__ = [
    "MAX_LISTED_PAIRS",
    "CorpusInfo",
    "DedupRow",
    "Extrapolated",
    "FitResult",
    "NearDupSection",
    "NotFitted",
    "OptionError",
    "Report",
    "ShardPair",
    "ShardSimilarity",
    "Slopes",
    "analyze",
    "build_report",
    "check_options",
    "count_notes",
    "count_table",
    "near_dup_table",
    "parse_floats",
    "report_html",
    "report_markdown",
    "write_report",
    "write_shard_similarity",
]
