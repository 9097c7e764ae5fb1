"""The numba options every kernel is compiled with, and numba's threading layer.

Every kernel module imports its options from here, so importing any kernel sets the threading
layer first.
"""

from __future__ import annotations

import importlib
import os
import sys

import numba

#: Options of every sequential kernel: no GIL, compiled code cached on disk. No fastmath: the
#: hashing arithmetic must be exact.
JIT = dict(nogil=True, cache=True)
#: Options of the kernels that run one window size (or one run of documents) per thread.
JIT_PARALLEL = dict(JIT, parallel=True)

# The OpenMP layer spin-waits between parallel regions, which more than halved throughput with
# 2 threads on a shared 2-core machine (benchmarks/results/count.md); the workqueue layer does
# not. A user's NUMBA_THREADING_LAYER still wins.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"


def _skip_scipy_blas_probe() -> None:
    """Load numba's ``arraymath`` (which the first cached kernel loads anyway) without its
    probe for scipy's BLAS: the probe imports all of ``scipy.linalg``, 0.15-0.25 s of every
    run's start-up. Its only use is the inner product of numba's ``np.cov``/``np.corrcoef`` on
    floats, which then runs as a loop in this process (no kernel here uses them); ``np.dot`` and
    ``np.linalg`` look for BLAS themselves when compiled. Left as numba has it if
    ``scipy.linalg`` is imported already or ``arraymath`` is loaded."""
    blas = "scipy.linalg.cython_blas"
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    sys.modules[blas] = None  # makes ``import scipy.linalg.cython_blas`` fail at once
    try:
        importlib.import_module("numba.np.arraymath")
    finally:
        del sys.modules[blas]


_skip_scipy_blas_probe()


def cache_is_warm(dispatchers) -> bool:
    """Whether numba's on-disk cache holds compiled code for every dispatcher (so a run will
    not spend seconds compiling). Reads numba's cache index, which is not public API: anything
    unexpected counts as a cold cache."""
    try:
        for d in dispatchers:
            if not d._cache._cache_file._load_index():
                return False
    except Exception:  # another numba release may lay its cache out differently
        return False
    return True
