"""Process-wide settings for seqcount's own processes (the CLI and its worker processes)."""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import gc
import importlib
import os
import signal
import sys

#: Blocks of this size or more are mapped from the OS and returned to it when freed.
MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def bound_heap_retention() -> bool:
    """Make glibc return freed large blocks to the OS; ``True`` if the setting took.

    By default glibc raises its mmap threshold as large blocks are freed, so later token
    arrays (a few MiB per piece) come from the heap and stay there after they are freed, and
    peak RSS grew with the corpus. A fixed threshold keeps it flat at the same speed (the
    suite's memory section, benchmarks/scale.py). Not glibc (macOS, musl): nothing changes.
    """
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def use_system_arrow_pool() -> None:
    """Have pyarrow allocate with the C library's ``malloc`` (set before pyarrow makes its
    default memory pool; a user's ``ARROW_DEFAULT_MEMORY_POOL`` wins).

    pyarrow's default pool, mimalloc, keeps the pages of freed record batches: a Parquet pass
    held 30 MB more at its peak than with ``malloc``, which with :func:`bound_heap_retention`
    gives batches back when freed, at the same speed (benchmarks/results/startup.md).
    """
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def skip_numba_cffi() -> None:
    """Load numba's CFFI support (which its first kernel loads anyway) without ``cffi``:
    ``cffi.FFI()`` builds a C parser, 0.09 s and a few MB of every run's start-up, and no
    seqcount kernel calls a CFFI function. Numba in this process then cannot compile calls of
    CFFI functions, so only seqcount's own processes (the CLI) do this; nothing changes if
    numba's CFFI support or ``cffi`` is loaded already."""
    name = "numba.core.typing.cffi_utils"
    if name in sys.modules or "cffi" in sys.modules:
        return
    sys.modules["cffi"] = None  # makes ``import cffi`` fail at once
    try:
        importlib.import_module(name)
    finally:
        del sys.modules["cffi"]


_frozen = False


def freeze_imports() -> None:
    """Take every object alive now out of the cyclic garbage collector's sight
    (``gc.freeze``), once per process, and again at exit.

    Called once the library is imported: its modules, numba's and pyarrow's are some 10**5
    long-lived objects that every full collection walks again, and the one at exit too, about
    0.3 s of CPU of a one-document run (benchmarks/results/startup.md). Frozen objects are
    never collected, so this is for processes whose long-lived objects are the imports: the
    CLI, and worker processes forked from it (whose collections then also leave the parent's
    pages unwritten).
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()
        atexit.register(gc.freeze)  # runs before the interpreter's last collection


def init_worker() -> None:
    """Set up a worker process of ``jobs``: the settings of the parent, and Ctrl-C left
    to the parent (which stops the pool and says "Interrupted."), so a worker does not print
    a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    bound_heap_retention()
    use_system_arrow_pool()
    skip_numba_cffi()
