"""Read ahead: iterate in a background thread, a bounded number of items ahead."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator


def prefetch(items: Iterable, depth: int = 1, name: str = "seqcount-reader") -> Iterator:
    """Iterate ``items`` in a background thread (named ``name``), at most ``depth`` items ahead
    of the consumer.

    Reading and decompressing a shard (pyarrow releases the GIL) then overlaps with the
    counting kernels (numba, GIL released) on another core. The order of the items is
    unchanged, and an exception raised by ``items`` is raised here at the same place in the
    sequence, after the items before it. Stopping early (``close``, an exception in the
    consumer) stops the thread and closes ``items``.
    """

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()
    items = iter(items)

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for x in items:
                if not put((x, None)):
                    return
            put((end, None))
        except BaseException as e:  # handed to the consumer, raised there
            put((end, e))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while True:
            x, err = q.get()
            if x is end:
                if err is not None:
                    raise err
                return
            yield x
    finally:
        stop.set()
        thread.join()
