"""seqcount: count distinct n-token sequences U_n(D) of a corpus in one streaming pass.

Example:
    >>> from seqcount import CountConfig, count_corpus
    >>> result = count_corpus("data/", CountConfig(ns=(1, 2, 4)))  # doctest: +SKIP
    >>> result.unique(4)  # doctest: +SKIP
"""

from importlib import metadata as _metadata

from .compare import compare, compare_sketches, shard_jaccard
from .config import CountConfig
from .curve import CurveRow, read_curve
from .errors import (
    ConfigError,
    FormatError,
    InputError,
    OutputError,
    SchemaError,
    SeqcountError,
    SketchMismatchError,
)
from .pipeline import CountResult, count_corpus, write_outputs
from .sketch import HLL, MinHash, SketchSet, load_sketches

try:
    __version__ = _metadata.version("seqcount")
except _metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

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
    "SchemaError",
    "SeqcountError",
    "SketchMismatchError",
    "SketchSet",
    "__version__",
    "compare",
    "compare_sketches",
    "count_corpus",
    "load_sketches",
    "read_curve",
    "shard_jaccard",
    "write_outputs",
]
