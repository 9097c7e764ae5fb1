"""What a notebook or a script calls: every command of the CLI as one function.

The CLI (:mod:`seqcount.cli`) turns options into one call here and prints what it returns;
whatever it can do, a library caller can do with these functions:

>>> import seqcount
>>> result = seqcount.count("data/", n=(1, 4), out="seqcount-out")  # doctest: +SKIP
>>> result.curve.to_pandas()  # doctest: +SKIP
>>> run = seqcount.open_run("seqcount-out")  # doctest: +SKIP

:mod:`.counting` counts (``count``), :mod:`.overlap` compares (``compare``), :mod:`.runs` works
on saved outputs (``merge``, ``report``, ``bounds``), :mod:`.contamination` scans for
evaluation data (``contamination``).
"""

from ..analysis.overlap import INHERITED
from ..hashing import kernels_compiled
from ..run.contamination import ContaminationResult
from ..run.saved import Run, open_run
from .contamination import contamination
from .counting import count, count_batch, count_corpus, counts_by_shard, find_inputs
from .overlap import compare
from .runs import bounds, merge, report

__all__ = [
    "INHERITED",
    "ContaminationResult",
    "Run",
    "bounds",
    "compare",
    "contamination",
    "count",
    "count_batch",
    "count_corpus",
    "counts_by_shard",
    "find_inputs",
    "kernels_compiled",
    "merge",
    "open_run",
    "report",
]
