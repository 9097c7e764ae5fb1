"""seqcount: count distinct n-token sequences U_n(D) of a corpus in one streaming pass.

Example:
    >>> import seqcount
    >>> result = seqcount.count("data/", n=(1, 4, 8), out="seqcount-out")  # doctest: +SKIP
    >>> result.unique(8), result.curve.to_pandas()  # doctest: +SKIP
    >>> rep = seqcount.report("seqcount-out")  # doctest: +SKIP

Names are imported on first use, so ``import seqcount`` (and ``seqcount --help``) stays fast.
"""

from __future__ import annotations

import importlib

from .config import CountConfig, package_version
from .errors import (
    ConfigError,
    FormatError,
    InputError,
    OutputError,
    SchemaError,
    SeqcountError,
    SketchMismatchError,
    StateError,
    WorkerError,
)

__version__ = package_version()

#: public name -> the module that defines it (imported on first use)
_LAZY = {
    "count": "seqcount.api",
    "open_run": "seqcount.api",
    "report": "seqcount.api",
    "compare": "seqcount.api",
    "merge": "seqcount.api",
    "bounds": "seqcount.api",
    "count_corpus": "seqcount.api",
    "count_batch": "seqcount.api",
    "Run": "seqcount.api",
    "CountResult": "seqcount.engine.results",
    "CurveRow": "seqcount.engine.results",
    "Report": "seqcount.reporting",
    "read_curve": "seqcount.run.curve",
    "write_outputs": "seqcount.run.files",
    "compare_sketches": "seqcount.analysis.overlap",
    "shard_jaccard": "seqcount.analysis.overlap",
    "HLL": "seqcount.sketches",
    "MinHash": "seqcount.sketches",
    "SketchSet": "seqcount.sketches",
    "load_sketches": "seqcount.sketches",
}

__all__ = [
    "HLL",
    "ConfigError",
    "CountConfig",
    "CountResult",
    "CurveRow",
    "FormatError",
    "InputError",
    "MinHash",
    "OutputError",
    "Report",
    "Run",
    "SchemaError",
    "SeqcountError",
    "SketchMismatchError",
    "SketchSet",
    "StateError",
    "WorkerError",
    "__version__",
    "bounds",
    "compare",
    "compare_sketches",
    "count",
    "count_batch",
    "count_corpus",
    "load_sketches",
    "merge",
    "open_run",
    "read_curve",
    "report",
    "shard_jaccard",
    "write_outputs",
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'seqcount' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
