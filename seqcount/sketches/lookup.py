"""A fixed set of window hashes, each with a key number, looked up window by window.

Built once from the window hashes of a small set (an evaluation set's n-token windows, in
reading order), it answers, for every window of a large corpus streamed past it, "is this one
of mine, and which?" (:meth:`WindowTable.probe`), at the cost of hashing the window and, for
most windows that are not, one word of a filter; a run of windows copied from the small set
costs one lookup and then a comparison per window with the next hash of the set.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _kernels as kernels
from ..hashing import Piece, WindowParams

#: Bytes of the table per distinct hash: 2 to 4 slots of a uint64 hash and an int32 position,
#: and 8 to 16 bits of the filter in front of it (counted as 4 bytes: room to spare).
TABLE_BYTES_PER_KEY = 4 * 12 + 4
#: Filter bits per distinct hash, at least (a power of two in all), two of them set in one
#: 64-bit word per key: a window that is not a key passes the filter with probability 1/20 to
#: 1/70 and only then reads the table. More bits pass fewer windows but spill the filter out
#: of the core's cache: on the benchmark's large set (870K keys, one window in two a key), the
#: lookups took 20% less time with 8 bits per key (1 MiB) than with 16, 40% less than with 32,
#: as long as with 4.
FILTER_BITS_PER_KEY = 8


class WindowTable:
    """The window hashes ``stream`` of a small set, in reading order with repeats; their
    distinct hashes are the keys, numbered in order of first appearance (``inverse[w]`` is the
    key of window ``w``). They are held in an open-addressing table (linear probing, load at
    most 1/2) behind a filter of 8 to 16 bits per key, two set per key in one 64-bit word
    (indexed by the top bits of the hash; the table by the bottom ones): 25 to 50 bytes per
    key and 12 per window.

    Raises:
        ValueError: ``stream`` is not a 1-d array of uint64 hashes, or has 2**31 or more.
    """

    def __init__(self, stream: np.ndarray):
        stream = np.ascontiguousarray(stream, dtype=np.uint64)
        if stream.ndim != 1:
            raise ValueError(f"stream must be 1-d, got shape {stream.shape}")
        if stream.shape[0] >= 1 << 31:
            raise ValueError(f"at most 2**31 - 1 window hashes, got {stream.shape[0]}")
        size = 1 << max(4, math.ceil(math.log2(max(stream.shape[0], 1) * 2)))
        table = np.zeros(size, dtype=np.uint64)
        pos = np.full(size, -1, dtype=np.int32)
        self.inverse = np.empty(stream.shape[0], dtype=np.int32)
        zero_pos, keys = kernels.table_build(stream, table, pos, self.inverse)
        self.zero_pos, self.keys, self.stream = int(zero_pos), int(keys), stream
        # at most 1/2 full for the keys, not the windows: a table of repeats is made again
        size = 1 << max(4, math.ceil(math.log2(max(self.keys, 1) * 2)))
        if size < table.shape[0]:
            table, pos = np.zeros(size, dtype=np.uint64), np.full(size, -1, dtype=np.int32)
            kernels.table_build(stream, table, pos, self.inverse)
        self.table, self.pos = table, pos
        fbits = max(6, math.ceil(math.log2(max(self.keys, 1) * FILTER_BITS_PER_KEY)))
        self.filter = np.zeros(1 << (fbits - 6), dtype=np.uint64)
        self.shift = 64 - (fbits - 6)
        kernels.filter_build(stream, self.filter, np.int64(self.shift))

    def __len__(self) -> int:
        return self.keys

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.table, self.pos, self.filter, self.stream,
                                      self.inverse))  # fmt: skip

    def first(self) -> np.ndarray:
        """int64 stream position where each key first appears, by key."""
        seen = np.maximum.accumulate(self.inverse)
        new = np.ones(self.inverse.shape[0], dtype=bool)
        new[1:] = self.inverse[1:] > seen[:-1]
        return np.flatnonzero(new)

    def find(self, hashes: np.ndarray) -> np.ndarray:
        """int64 key number of each of the uint64 ``hashes``, -1 for those not in the table."""
        hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
        out = np.empty(hashes.shape[0], dtype=np.int64)
        kernels.table_lookup(self.table, self.pos, np.int64(self.zero_pos), self.inverse,
                             hashes, out)  # fmt: skip
        return out

    def _probe(self, piece: Piece, d0: int, d1: int, win: WindowParams, hit, record, pos, key):
        d0, d1 = piece.check(d0, d1)
        if len(win) != 1 or win.stride:
            raise ValueError("win must hold one window size of sliding windows")
        if (
            hit.dtype != np.uint8
            or hit.ndim != 1
            or hit.shape[0] != (self.keys if record else self.stream.shape[0])
        ):
            size = self.keys if record else self.stream.shape[0]
            raise ValueError(f"hit must be a uint8 array of {size} flags")
        return int(kernels.probe_windows(
            piece.prefix, piece.doc, d0, d1, win.ns[0], win.bases[0], win.salts[0],
            np.int64(piece.skip), np.int64(piece.before), self.table, self.pos,
            np.int64(self.zero_pos), self.filter, np.int64(self.shift), self.stream, hit,
            record, self.inverse, pos, key,
        ))  # fmt: skip

    def probe(self, piece: Piece, d0: int, d1: int, win: WindowParams, hit: np.ndarray) -> None:
        """Mark in ``hit``, uint8 flags per stream position, every key that is the hash of a
        sliding window of the one size of ``win`` in documents ``d0 .. d1-1`` of ``piece``: at
        one of the key's positions (:meth:`key_hits` gathers them by key)."""
        empty = np.zeros(0, dtype=np.int64)
        self._probe(piece, d0, d1, win, hit, False, empty, empty)

    def key_hits(self, hit: np.ndarray) -> np.ndarray:
        """uint8 flags per key from the flags per stream position of :meth:`probe`: key ``k``
        is flagged if ``hit`` is set at any position of ``k``."""
        out = np.zeros(self.keys, dtype=np.uint8)
        out[self.inverse[hit.view(bool)]] = 1
        return out

    def candidates(
        self, piece: Piece, d0: int, d1: int, win: WindowParams, done: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The windows of :meth:`probe` whose hash is a key, except keys flagged in ``done``
        (uint8 per key): int64 ``(first token, key)``."""
        room = max(int(piece.doc[d1] - piece.doc[d0]), 0)
        pos = np.empty(room, dtype=np.int64)
        key = np.empty(room, dtype=np.int64)
        if done is None:
            done = np.zeros(self.keys, dtype=np.uint8)
        c = self._probe(piece, d0, d1, win, done, True, pos, key)
        return pos[:c], key[:c]

    ARRAYS = ("table", "pos", "filter", "stream", "inverse")
    SCALARS = ("zero_pos", "keys", "shift")

    def to_arrays(self) -> dict:
        """Everything the table holds, for :meth:`from_arrays` (e.g. through ``np.savez``)."""
        return {a: getattr(self, a) for a in self.ARRAYS + self.SCALARS}

    @classmethod
    def from_arrays(cls, arrays) -> WindowTable:
        """The table :meth:`to_arrays` gave (a mapping of names to arrays)."""
        t = cls.__new__(cls)
        for a in cls.ARRAYS:
            setattr(t, a, arrays[a])
        for a in cls.SCALARS:
            setattr(t, a, int(arrays[a]))
        return t


def verify_windows(
    tokens: np.ndarray,
    pos: np.ndarray,
    key: np.ndarray,
    n: int,
    ref: tuple[np.ndarray, np.ndarray],
    hit: np.ndarray,
) -> int:
    """Confirm candidate windows against their key's reference tokens, marking ``hit``.

    Args:
        tokens: uint64 token values; window ``c`` is ``tokens[pos[c]:pos[c]+n]``.
        pos, key: int64 candidates (:meth:`WindowTable.candidates`).
        ref: ``(ref_tokens, ref_start)``: the uint64 token values of key ``k``'s window are
            ``ref_tokens[ref_start[k]:ref_start[k]+n]``.
        hit: uint8 flags per key, set where the tokens agree.

    Returns:
        Candidates whose hash matched and whose tokens did not.
    """
    ref_tokens, ref_start = ref
    if pos.shape[0] and (pos.min() < 0 or pos.max() + n > tokens.shape[0]):
        raise ValueError("a candidate window runs outside tokens")
    if ref_start.shape[0] != hit.shape[0] or (
        ref_start.shape[0] and ref_start.max() + n > ref_tokens.shape[0]
    ):
        raise ValueError("ref_start must give one window inside ref_tokens per key")
    if key.shape[0] and (key.min() < 0 or key.max() >= hit.shape[0]):
        raise ValueError("a candidate's key is out of range")
    return int(kernels.verify_windows(
        np.ascontiguousarray(tokens, dtype=np.uint64), pos, key, np.int64(pos.shape[0]),
        np.int64(n), ref_tokens, ref_start, hit,
    ))  # fmt: skip


def same_windows(tokens: np.ndarray, starts: np.ndarray, refs: np.ndarray, n: int) -> np.ndarray:
    """uint8 per window ``w``: 1 where the ``n`` uint64 token values from ``starts[w]`` equal
    those from ``refs[w]`` (int64 positions in ``tokens``)."""
    tokens = np.ascontiguousarray(tokens, dtype=np.uint64)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    refs = np.ascontiguousarray(refs, dtype=np.int64)
    if starts.shape != refs.shape:
        raise ValueError("starts and refs must have one position per window")
    for a in (starts, refs):
        if a.shape[0] and (a.min() < 0 or a.max() + n > tokens.shape[0]):
            raise ValueError("a window runs outside tokens")
    out = np.empty(starts.shape[0], dtype=np.uint8)
    kernels.same_windows(tokens, starts, refs, np.int64(n), out)
    return out
