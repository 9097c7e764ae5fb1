"""Exact sets of 64-bit hashes, for exact distinct counts."""

from __future__ import annotations

import math

import numpy as np

from .. import _kernels as kernels


class ExactSet:
    """An exact set of 64-bit hashes (open addressing, linear probing, load at most 1/2).

    Memory: 8 bytes a slot, 2 to 4 slots per distinct hash, so 16-32 bytes per distinct hash,
    and up to 1.5x that for a moment while the table doubles.
    """

    def __init__(self, capacity: int = 1 << 12):
        size = 1 << max(4, math.ceil(math.log2(max(capacity, 1) * 2)))
        self.table = np.zeros(size, dtype=np.uint64)
        self._keys = 0  # non-zero keys in the table
        self._zero = False

    def __len__(self) -> int:
        return self._keys + int(self._zero)

    def count(self) -> int:
        """The number of distinct hashes added (``len(self)``)."""
        return len(self)

    def update(self, h: int) -> None:
        """Add one 64-bit hash value (an int in ``[0, 2**64)``)."""
        self.update_batch(np.array([h], dtype=np.uint64))

    def update_batch(self, hashes: np.ndarray) -> None:
        """Add uint64 hashes."""
        hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
        if not self._zero and hashes.shape[0] and not hashes.all():
            self._zero = True
        start = 0
        while start < hashes.shape[0]:
            limit = self.table.shape[0] // 2
            if self._keys >= limit:
                new = np.zeros(self.table.shape[0] * 2, dtype=np.uint64)
                kernels.set_rehash(self.table, new)
                self.table = new
                limit = new.shape[0] // 2
            self._keys, start = kernels.set_insert(self.table, hashes, start, self._keys, limit)

    @property
    def nbytes(self) -> int:
        return self.table.nbytes
