"""Process-wide settings for seqcount's own processes (the CLI and its worker processes)."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal

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


def init_worker() -> None:
    """Set up a worker process of ``jobs``: heap retention as in the parent, and Ctrl-C left
    to the parent (which stops the pool and says "Interrupted."), so a worker does not print
    a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    bound_heap_retention()
