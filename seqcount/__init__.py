"""seqcount: count distinct n-token sequences U_n(D) of a corpus in one streaming pass.

Example:
    >>> import seqcount
    >>> result = seqcount.count_corpus("data/", seqcount.CountConfig(ns=(1, 2, 4)))  # doctest: +SKIP
    >>> result.unique(4)  # doctest: +SKIP

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
)

__version__ = package_version()

#: public name -> the module that defines it (imported on first use)
_LAZY = {
    "compare": "seqcount.api",
    "count_corpus": "seqcount.api",
    "count_batch": "seqcount.api",
    "CountResult": "seqcount.engine.results",
    "CurveRow": "seqcount.engine.results",
    "read_curve": "seqcount.run.curve",
    "write_outputs": "seqcount.run.files",
    "compare_sketches": "seqcount.analysis.overlap",
    "shard_jaccard": "seqcount.analysis.overlap",
    "HLL": "seqcount.sketches",
    "MinHash": "seqcount.sketches",
    "SketchSet": "seqcount.sketches",
    "load_sketches": "seqcount.sketches",
}

__all__ = sorted(
    [
        "ConfigError",
        "CountConfig",
        "FormatError",
        "InputError",
        "OutputError",
        "SchemaError",
        "SeqcountError",
        "SketchMismatchError",
        "__version__",
        *_LAZY,
    ]
)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'seqcount' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
