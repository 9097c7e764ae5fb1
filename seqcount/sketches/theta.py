"""Theta sketches (KMV, bottom-k with a threshold θ) over 64-bit window hashes, serialized as
Apache DataSketches compact theta sketches.

A window hash ``h`` enters the sketch as the 63-bit value ``h >> 1`` (DataSketches' hash
space); the sketch keeps the ``k`` smallest distinct values and ``theta64``, the ``(k+1)``-th
smallest (``2**63 - 1``, the fraction 1.0, while at most ``k`` are distinct: then the count is
exact). The estimate of the number of distinct hashes is ``retained / theta`` with
``theta = theta64 / (2**63 - 1)``. The 4 hashes whose value ``h >> 1`` is 0 or ``2**63 - 1`` are
never kept, as in DataSketches (a chance of ``2**-62`` per distinct window).

The state is a function of the *set* of hashes seen alone: not of their order, of how a stream
was cut into batches, or of the order in which sketches are merged. Every observation
(:meth:`ThetaSketch.count`, :attr:`~ThetaSketch.entries`, :meth:`~ThetaSketch.to_bytes`,
``==``, :meth:`~ThetaSketch.merge`) first trims the update table to exactly ``k`` values.

Memory: 8 bytes per retained value; at most ``8 k`` bytes (128 KiB at the default
``k = 2**14``) plus a 24-byte preamble in the compact (serialized) form, and a ``2 k``-slot
update table (256 KiB at ``k = 2**14``) while updating, grown from 32 slots as values arrive.
A compact sketch (:meth:`ThetaSketch.compacted`, every finished shard's sketch in ``count``)
holds its sorted values only, ``8`` bytes each, and gets a table again on its next update.

Hash and seed: the values are seqcount's ``poly61-v1`` window hashes (see :mod:`seqcount.hashing`),
not DataSketches' MurmurHash3 of items. The compact form stores the 16-bit DataSketches *seed
hash* of seqcount's hash ``seed`` (``--seed``), so ``datasketches.compact_theta_sketch.
deserialize(buf, seed)`` reads a sketch with that same ``seed``, and its estimates and set
operations with other seqcount sketches of the same ``seed`` and window size are meaningful;
mixed with sketches DataSketches built from raw items (a different hash), they are not.
"""

from __future__ import annotations

import struct

import numpy as np

from .. import _kernels as kernels
from .._kernels import THETA_MAX
from ..config import MAX_LG_THETA_K, MIN_LG_THETA_K, THETA_K
from ..errors import ConfigError, FormatError, SketchMismatchError
from .base import Mergeable

#: The default nominal size ``k``: standard error of a containment below 0.03 for ~3e5 distinct
#: windows in ~1e7 (docs/overlap.md).
DEFAULT_K = THETA_K
MIN_LG_K = MIN_LG_THETA_K
MAX_LG_K = MAX_LG_THETA_K
_MIN_SLOTS = 32
_MAX64 = (1 << 64) - 1

# DataSketches' compact theta sketch, serial version 3 (theta_sketch_impl.hpp: serialize):
# byte 0 preamble longs, 1 serial version, 2 family (3 = compact theta), 3-4 unused, 5 flags,
# 6-7 seed hash; with 2+ preamble longs: uint32 retained count, uint32 unused; with 3: uint64
# theta; then the retained values as uint64. All little-endian.
_SERIAL_VERSION = 3
_FAMILY = 3
_FLAG_READ_ONLY, _FLAG_EMPTY, _FLAG_COMPACT, _FLAG_ORDERED = 2, 4, 8, 16
_HEAD = struct.Struct("<BBBHBH")
_COUNT = struct.Struct("<II")
_THETA = struct.Struct("<Q")


def _rotl64(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _MAX64


def _fmix64(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & _MAX64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & _MAX64
    return k ^ (k >> 33)


def compute_seed_hash(seed: int) -> int:
    """DataSketches' 16-bit seed hash: the low 16 bits of ``h1`` of MurmurHash3_x64_128 of the
    8 little-endian bytes of ``seed``, hash seed 0 (``compute_seed_hash`` in MurmurHash3.h)."""
    k1 = (int(seed) & _MAX64) * 0x87C37B91114253D5 & _MAX64
    k1 = _rotl64(k1, 31) * 0x4CF5AD432745937F & _MAX64
    h1, h2 = k1 ^ 8, 8  # the 8-byte tail goes to k1; then h ^= len
    h1 = (h1 + h2) & _MAX64
    h2 = (h2 + h1) & _MAX64
    h1, h2 = _fmix64(h1), _fmix64(h2)
    return (h1 + h2) & 0xFFFF


def _check_k(k: int) -> int:
    k = int(k)
    if k < (1 << MIN_LG_K) or k > (1 << MAX_LG_K) or k & (k - 1):
        raise ConfigError(
            f"k must be a power of two from 2**{MIN_LG_K} to 2**{MAX_LG_K}, got {k}", "k"
        )
    return k


class ThetaSketch(Mergeable):
    """A theta sketch of 64-bit window hashes (see the module docstring).

    Args:
        k: nominal size, a power of two from 2**4 to 2**26: the sketch keeps at most ``k``
            values; a count's relative standard error is about ``1 / sqrt(k)``.
        seed: seqcount's hash seed (``--seed``) of the hashes, stored as its seed hash in
            :meth:`to_bytes`; sketches merge only under the same seed.
    """

    __slots__ = ("k", "seed", "_table", "_count", "_theta", "_sorted")

    def __init__(self, k: int = DEFAULT_K, seed: int = 0):
        self.k = _check_k(k)
        if not 0 <= int(seed) <= _MAX64:
            raise ConfigError(f"seed must be in [0, 2**64), got {seed}", "seed")
        self.seed = int(seed)
        self._table = np.zeros(min(_MIN_SLOTS, 2 * self.k), dtype=np.uint64)
        self._count = 0
        self._theta = THETA_MAX
        self._sorted = None  # the entries, sorted, while nothing changed

    # ------------------------------------------------------------------ updates

    def _ensure_table(self) -> None:
        """Give a compact sketch (values in ``_sorted`` only, see :meth:`compacted`) its
        update table again."""
        if self._table is not None:
            return
        vals = self._sorted
        slots = _MIN_SLOTS if 2 * self.k > _MIN_SLOTS else 2 * self.k
        while slots < 2 * self.k and vals.shape[0] >= slots * 3 // 4:
            slots *= 2
        self._table = np.zeros(slots, dtype=np.uint64)
        kernels.set_rehash(vals, self._table)

    def _limit(self) -> int:
        slots = self._table.shape[0]
        return slots * 3 // 4 if slots < 2 * self.k else self.k + self.k // 2

    def _make_room(self) -> None:
        if self._table.shape[0] < 2 * self.k:
            new = np.zeros(self._table.shape[0] * 2, dtype=np.uint64)
            kernels.set_rehash(self._table, new)
            self._table = new
        else:
            self._theta = kernels.theta_rebuild(self._table, self._count, self.k)
            self._count = self.k

    def update_batch(self, hashes: np.ndarray) -> None:
        """Add 64-bit window hashes (any integer array, taken as uint64)."""
        h = np.ascontiguousarray(hashes).astype(np.uint64, copy=False)
        self._ensure_table()
        self._sorted = None
        start = 0
        while start < h.shape[0]:
            limit = self._limit()
            if self._count >= limit:
                self._make_room()
                continue
            self._count, start = kernels.theta_insert(
                self._table, h, start, self._count, self._theta, limit
            )

    def update(self, h: int) -> None:
        """Add one 64-bit hash value (an int in ``[0, 2**64)``)."""
        self.update_batch(np.array([h], dtype=np.uint64))

    def _settle(self) -> None:
        """Trim the table to exactly ``k`` values (the canonical state)."""
        if self._count > self.k:
            self._theta = kernels.theta_rebuild(self._table, self._count, self.k)
            self._count = self.k

    # ------------------------------------------------------------------ state

    @property
    def theta64(self) -> int:
        """θ as DataSketches' 63-bit integer (``2**63 - 1`` = 1.0)."""
        self._settle()
        return int(self._theta)

    @property
    def theta(self) -> float:
        """θ as a fraction (DataSketches' ``get_theta``): the share of hash space sampled."""
        return float(self.theta64) / float(THETA_MAX)

    @property
    def num_retained(self) -> int:
        self._settle()
        return self._count

    @property
    def entries(self) -> np.ndarray:
        """The retained 63-bit values ``h >> 1``, sorted (a new uint64 array)."""
        self._settle()
        if self._sorted is None:
            self._sorted = np.sort(kernels.theta_values(self._table, self._count))
        return self._sorted.copy()

    @property
    def nbytes(self) -> int:
        """Bytes held: the update table, or the sorted values of a compact sketch."""
        return self._sorted.nbytes if self._table is None else self._table.nbytes

    def compacted(self) -> ThetaSketch:
        """This sketch without its update table: its sorted values only, ``8`` bytes per
        retained value (at most ``8 k``), given a table again on the next update. Returns
        ``self``."""
        self._settle()
        if self._sorted is None:
            self._sorted = np.sort(kernels.theta_values(self._table, self._count))
        self._table = None
        return self

    def _values(self) -> np.ndarray:
        """The retained values in any order (no copy when compact)."""
        self._settle()
        if self._table is None:
            return self._sorted
        return kernels.theta_values(self._table, self._count)

    def is_empty(self) -> bool:
        """No value retained and nothing dropped (θ = 1)."""
        return self.num_retained == 0 and self._theta == THETA_MAX

    def is_estimation_mode(self) -> bool:
        """Whether values were dropped (θ < 1): the count is then an estimate."""
        return self.theta64 < int(THETA_MAX) and not self.is_empty()

    def count(self) -> float:
        """The estimated number of distinct hashes, ``retained / theta`` (exact while θ = 1);
        DataSketches' ``get_estimate``."""
        return self.num_retained / self.theta

    # ------------------------------------------------------------------ set operations

    @classmethod
    def from_entries(
        cls, entries: np.ndarray, theta64: int = int(THETA_MAX), k: int = DEFAULT_K, seed: int = 0
    ) -> ThetaSketch:
        """A sketch holding the distinct 63-bit ``entries`` below ``theta64`` (values of 0 are
        dropped), trimmed to ``k`` (θ lowered to the ``(k+1)``-th smallest if more)."""
        out = cls(k, seed)
        if not 0 < int(theta64) <= int(THETA_MAX):
            raise ConfigError(f"theta64 must be in (0, 2**63 - 1], got {theta64}", "theta64")
        theta = np.uint64(theta64)
        vals = np.asarray(entries, dtype=np.uint64)
        vals = np.sort(vals[(vals > 0) & (vals < theta)])
        if vals.shape[0] > 1:  # distinct values (np.unique hashes: slower on uint64)
            vals = vals[np.concatenate(([True], vals[1:] != vals[:-1]))]
        if vals.shape[0] > out.k:
            theta = vals[out.k]
            vals = vals[: out.k]
        return _compact(vals.copy(), theta, out.k, out.seed)

    def _check(self, other: ThetaSketch) -> None:
        if not isinstance(other, ThetaSketch):
            raise TypeError(f"expected a ThetaSketch, got {type(other).__name__}")
        if other.seed != self.seed:
            raise SketchMismatchError(
                f"ThetaSketch seed {other.seed} does not match seed {self.seed}"
            )

    def merge(self, other: ThetaSketch) -> None:
        """Make this the sketch of the union of both sets (DataSketches' union with this
        sketch's ``k``): θ = the smaller θ, values below it from both, trimmed to ``k``."""
        self._check(other)
        theta = min(self.theta64, other.theta64)
        both = np.concatenate([self.entries, other.entries])
        merged = ThetaSketch.from_entries(both, theta, self.k, self.seed)
        self._table, self._count, self._theta = merged._table, merged._count, merged._theta
        self._sorted = merged._sorted

    def copy(self) -> ThetaSketch:
        out = ThetaSketch(self.k, self.seed)
        out._table = None if self._table is None else self._table.copy()
        out._count = self._count
        out._theta = self._theta
        out._sorted = self._sorted
        return out

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ThetaSketch)
            and (self.k, self.seed, self.theta64) == (other.k, other.seed, other.theta64)
            and np.array_equal(self.entries, other.entries)
        )

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        return (
            f"ThetaSketch(k={self.k}, seed={self.seed}, retained={self.num_retained}, "
            f"theta={self.theta:.6g})"
        )

    # ------------------------------------------------------------------ byte form

    def to_bytes(self) -> bytes:
        """The DataSketches compact theta sketch, serial version 3, ordered: readable by
        ``datasketches.compact_theta_sketch.deserialize(buf, seed)`` with this sketch's
        ``seed``, and byte-identical to that sketch's own ``serialize()``."""
        entries = self.entries
        empty, estimating = self.is_empty(), self.is_estimation_mode()
        pre = 3 if estimating else 1 if empty or entries.shape[0] == 1 else 2
        flags = _FLAG_READ_ONLY | _FLAG_COMPACT | _FLAG_ORDERED | (_FLAG_EMPTY if empty else 0)
        seed_hash = compute_seed_hash(self.seed)
        out = [_HEAD.pack(pre, _SERIAL_VERSION, _FAMILY, 0, flags, seed_hash)]
        if pre > 1:
            out.append(_COUNT.pack(entries.shape[0], 0))
        if estimating:
            out.append(_THETA.pack(self.theta64))
        out.append(entries.astype("<u8", copy=False).tobytes())
        return b"".join(out)

    @classmethod
    def from_bytes(cls, buf: bytes, seed: int = 0, k: int | None = None) -> ThetaSketch:
        """Read an uncompressed compact theta sketch (serial version 3) made with ``seed``.

        Args:
            buf: the bytes of :meth:`to_bytes` or of DataSketches' ``serialize()``.
            seed: the hash seed; its seed hash must match the one stored (unless empty).
            k: the nominal size of the result; default the smallest power of two (at least
                2**4) that holds every retained value. More values than ``k`` are trimmed.

        Raises:
            FormatError: not a compact theta sketch of version 3, truncated, or another seed.
        """
        buf = bytes(buf)
        if len(buf) < 8:
            raise FormatError(f"not a compact theta sketch: {len(buf)} bytes")
        pre, version, family, _, flags, seed_hash = _HEAD.unpack_from(buf)
        if family != _FAMILY or version != _SERIAL_VERSION or pre not in (1, 2, 3):
            raise FormatError(
                f"not an uncompressed compact theta sketch (family {family}, serial version "
                f"{version}, {pre} preamble longs; expected family 3, version 3)"
            )
        empty = bool(flags & _FLAG_EMPTY)
        if not empty and seed_hash != compute_seed_hash(seed):
            raise FormatError(
                f"theta sketch seed hash {seed_hash} does not match seed {seed} "
                f"(seed hash {compute_seed_hash(seed)})"
            )
        count, theta64 = (0 if empty else 1), int(THETA_MAX)
        if pre > 1 and not empty:
            count = _COUNT.unpack_from(buf, 8)[0]
            if pre == 3:
                theta64 = _THETA.unpack_from(buf, 16)[0]
        if not 0 < theta64 <= int(THETA_MAX):
            raise FormatError(f"theta sketch theta {theta64} outside (0, 2**63 - 1]")
        start = 8 * pre
        if len(buf) < start + 8 * count:
            raise FormatError(
                f"truncated theta sketch: {len(buf)} bytes, expected {start + 8 * count}"
            )
        entries = np.frombuffer(buf, dtype="<u8", count=count, offset=start).astype(np.uint64)
        if k is None:
            k = 1 << max(MIN_LG_K, (max(count, 1) - 1).bit_length())
        return cls.from_entries(entries, theta64, k, seed)


def pack_thetas(sketches: list[ThetaSketch]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sketches as three arrays: every sketch's sorted ``entries`` one after another (uint64),
    ``offsets`` (int64, ``len + 1``: sketch ``i`` is ``entries[offsets[i]:offsets[i+1]]``) and
    ``theta64`` (uint64, one per sketch)."""
    parts = [t.entries for t in sketches]
    offsets = np.zeros(len(parts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([p.shape[0] for p in parts])
    entries = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    theta64 = np.array([t.theta64 for t in sketches], dtype=np.uint64)
    return entries.astype(np.uint64), offsets, theta64


def unpack_thetas(
    entries: np.ndarray, offsets: np.ndarray, theta64: np.ndarray, k: int, seed: int
) -> list[ThetaSketch]:
    """The sketches of :func:`pack_thetas`, of nominal size ``k`` and hash ``seed``.

    Raises:
        FormatError: the arrays do not fit together.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    theta64 = np.asarray(theta64, dtype=np.uint64)
    if (
        offsets.ndim != 1
        or offsets.shape[0] != theta64.shape[0] + 1
        or (offsets.shape[0] and (offsets[0] != 0 or offsets[-1] != len(entries)))
        or np.any(np.diff(offsets) < 0)
        or np.any(np.diff(offsets) > k)
    ):
        raise FormatError("theta sketch arrays do not fit together (entries, offsets, theta64)")
    return [
        ThetaSketch.from_entries(entries[offsets[i] : offsets[i + 1]], int(theta64[i]), k, seed)
        for i in range(theta64.shape[0])
    ]


def union_thetas(sketches: list[ThetaSketch], k: int, seed: int) -> ThetaSketch:
    """The union of ``sketches`` (an empty sketch if none): for sketches of parts of a set,
    exactly the sketch of the whole set."""
    for t in sketches:
        if t.seed != seed:
            raise SketchMismatchError(f"ThetaSketch seed {t.seed} does not match seed {seed}")
    if not sketches:
        return ThetaSketch(k, seed)
    # θ = the smallest θ, then every sketch's values inserted as updates (a value v is the
    # update 2 v): the k smallest distinct values below θ, what merging one sketch at a time
    # gives, in time linear in the values instead of a sort per sketch
    out = ThetaSketch(k, seed)
    out._theta = np.uint64(min(t.theta64 for t in sketches))
    for t in sketches:
        out.update_batch(t._values() << np.uint64(1))
    out._settle()
    return out


def trimmed(sketch: ThetaSketch, k: int) -> ThetaSketch:
    """The sketch of the same set of nominal size ``k <= sketch.k``: its ``k`` smallest values
    and θ the next one, as a sketch of size ``k`` fed the same hashes would hold."""
    if k > sketch.k:
        raise ConfigError(f"k must be at most the sketch's k ({sketch.k}), got {k}", "k")
    return ThetaSketch.from_entries(sketch._values(), sketch.theta64, k, sketch.seed)


def _compact(vals: np.ndarray, theta, k: int, seed: int) -> ThetaSketch:
    """A compact sketch (no update table) of at most ``k`` sorted distinct values below
    ``theta`` (taken as they are, not copied)."""
    out = ThetaSketch(k, seed)
    out._table = None
    out._sorted = vals
    out._count = int(vals.shape[0])
    out._theta = np.uint64(theta)
    return out


class ThetaTables:
    """Running theta sketches of every window size of a pass, fed by the HyperLogLog kernel
    from the same window hashes (``theta=`` of :func:`seqcount.hashing.hll_update_windows`);
    :meth:`sketches` gives them as compact :class:`ThetaSketch` objects, equal to sketches fed
    the same window hashes.

    ``ks`` holds one nominal size per *set* of sketches (one sketch per window size in each):
    ``count`` keeps a set for the current shard (small ``k``, emptied by :meth:`reset` at each
    shard's end) and one for the whole pass. Each window's value ``h >> 1`` is compared once
    with the largest θ of the sets; the few below it go on to each set's buffer of ``3 k``
    values: while a sketch is young (θ above 1/4) if they are not in it yet (one probe of the
    buffer's open-addressing set), later unless a filter of the last values appended holds
    them (:data:`seqcount._kernels.hll.FILTER_SLOTS`); a full buffer is trimmed to the ``k``
    smallest values and θ lowered (:func:`seqcount._kernels.theta_compact_set`, a counting
    pass and small sorts). Memory:
    per window size and set, ``24 k`` bytes of buffer and ``32 k`` of set
    (:func:`seqcount._kernels.theta_table_slots`), and scratch as long as the longest buffer
    (at ``k = 2**14`` and ``2**8``: about 1.3 MiB per window size);
    each finished sketch keeps at most ``8 k`` bytes.
    """

    def __init__(self, sizes: int, ks=DEFAULT_K, seed: int = 0):
        ks = (ks,) if isinstance(ks, (int, np.integer)) else tuple(ks)
        self.ks = np.array([_check_k(k) for k in ks], dtype=np.int64)
        self.seed = int(seed)
        cap = int(kernels.theta_room(self.ks.max()))
        # np.zeros: pages a smaller set's rows never reach are never touched
        self.bufs = np.zeros((len(ks), sizes, cap), dtype=np.uint64)
        self.scratch = np.zeros((sizes, cap), dtype=np.uint64)
        slots = int(kernels.theta_table_slots(self.ks.max()))
        # np.zeros: a smaller set's rows are touched only as far as its own slots
        self.tables = np.zeros((len(ks), sizes, slots), dtype=np.uint64)
        self.counts = np.zeros((len(ks), sizes), dtype=np.int64)
        self.thetas = np.full((len(ks), sizes), THETA_MAX, dtype=np.uint64)

    def kernel_args(self) -> tuple:
        """``(buffers, counts, thetas, ks, scratch, tables)``, the ``theta=`` of
        :func:`seqcount.hashing.hll_update_windows` and ``hll_log_windows``."""
        return self.bufs, self.counts, self.thetas, self.ks, self.scratch, self.tables

    def sketches(self, which: int = 0) -> list[ThetaSketch]:
        """The sketch of every window size of set ``which``, compact (sorted values of their
        own)."""
        out = []
        k = self.ks[which]
        for j in range(self.counts.shape[1]):
            r, theta = kernels.theta_compact_set(
                self.bufs[which, j], self.counts[which, j], k, self.thetas[which, j],
                self.scratch[j], self.tables[which, j, : kernels.theta_table_slots(k)],
            )  # fmt: skip
            self.counts[which, j], self.thetas[which, j] = r, theta
            vals = self.bufs[which, j, :r].copy()
            out.append(_compact(vals, theta, int(k), self.seed))
        return out

    def reset(self, which: int = 0) -> None:
        """Empty the sketches of set ``which`` (the next shard's)."""
        self.counts[which].fill(0)
        self.thetas[which].fill(THETA_MAX)
        self.tables[which, :, : kernels.theta_table_slots(self.ks[which])] = 0
