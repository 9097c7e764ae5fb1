"""Sketches: HyperLogLog++ and MinHash (datasketch-compatible state), exact hash sets, and the
sketch file.

* :mod:`.hll`: :class:`HLL` and datasketch's estimator (:func:`hll_estimate`);
* :mod:`.minhash`: :class:`MinHash` (``affine64``) and its permutations;
* :mod:`.exact`: :class:`ExactSet`;
* :mod:`.lookup`: :class:`WindowTable`, window hashes looked up (exact overlap);
* :mod:`.theta`: :class:`ThetaSketch` (KMV, DataSketches' compact theta format);
* :mod:`.blocks`: :class:`BlockSketches`, HyperLogLog registers per block of documents;
* :mod:`.sketchset`: :class:`SketchSet` and its ``.npz`` file (:func:`load_sketches`);
* :mod:`.files`: :func:`atomic_write`, :func:`write_npz`.
"""

from __future__ import annotations

from ..config import MINHASH_SCHEME
from .base import Mergeable
from .blocks import (
    BLOCK_ARRAYS,
    BlockBuilder,
    BlockRun,
    BlockSketches,
    merge_coarsened,
)
from .exact import ExactSet
from .files import atomic_write, write_npz
from .hll import HLL, hll_estimate, hll_estimates, prefix_union_estimates
from .lookup import TABLE_BYTES_PER_KEY, WindowTable, same_windows, verify_windows
from .minhash import EMPTY_HASHVALUE, MinHash, bias, minhash_permutations, unbias
from .sketchset import SKETCH_FORMAT, SKETCH_VERSION, SketchSet, load_sketches
from .theta import DEFAULT_K as THETA_K
from .theta import (
    THETA_MAX,
    ThetaSketch,
    ThetaTables,
    compute_seed_hash,
    pack_thetas,
    trimmed,
    union_thetas,
    unpack_thetas,
)

__all__ = [
    "BLOCK_ARRAYS",
    "merge_coarsened",
    "BlockBuilder",
    "BlockRun",
    "BlockSketches",
    "EMPTY_HASHVALUE",
    "HLL",
    "MINHASH_SCHEME",
    "SKETCH_FORMAT",
    "SKETCH_VERSION",
    "ExactSet",
    "Mergeable",
    "MinHash",
    "SketchSet",
    "TABLE_BYTES_PER_KEY",
    "WindowTable",
    "THETA_K",
    "THETA_MAX",
    "ThetaSketch",
    "ThetaTables",
    "trimmed",
    "atomic_write",
    "bias",
    "compute_seed_hash",
    "hll_estimate",
    "hll_estimates",
    "prefix_union_estimates",
    "load_sketches",
    "minhash_permutations",
    "pack_thetas",
    "union_thetas",
    "unpack_thetas",
    "unbias",
    "verify_windows",
    "same_windows",
    "write_npz",
]
