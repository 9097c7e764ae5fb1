"""Block sketches: HyperLogLog registers per run of whole documents, for resampled curves.

A *block* is a run of consecutive whole documents of one shard. Every window the counter adds to
the main registers also goes, with the same rank, into the registers of its block at precision
``pb = min(BLOCK_PRECISION, p)`` (register ``idx & (2**pb - 1)``): a genuine precision-``pb``
HyperLogLog++ of the block's windows. Unions of blocks in any order are register maxima, so the
growth curve of a random permutation of the blocks needs no second read of the corpus.

How blocks are cut (a function of one shard's documents alone, so one pass, ``--jobs``,
``--state`` and Dask give the same blocks, bit for bit):

* a block closes at the first end of a document at which it holds at least ``B`` tokens, ``B``
  starting at ``BLOCK_TOKENS`` (a document is never split between blocks);
* when a shard reaches ``2 * C`` blocks (``C = BLOCKS_PER_SHARD``) adjacent pairs merge
  (registers by maximum, tokens and documents by sum) into ``C`` blocks and ``B`` doubles;
* at the end of a shard the open block closes; if it holds no tokens its documents (all empty)
  join the shard's last block, or are in no block if the shard has no tokens at all.

A run's blocks are all shards' blocks in input order, then coarsened (:meth:`coarsen`) to at
most ``MAX_BLOCKS``: while there are more, every shard with two blocks or more merges its
adjacent pairs (an odd last block stays). Blocks never straddle shards, so a run of more than
``MAX_BLOCKS`` shards keeps one block per shard (with tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _kernels as kernels
from ..config import BLOCK_TOKENS, BLOCKS_PER_SHARD, MAX_BLOCKS, MAX_PRECISION, MIN_PRECISION
from ..errors import FormatError

#: The ``.npz`` arrays of block sketches (:meth:`BlockSketches.arrays`).
BLOCK_ARRAYS = ("block_tokens", "block_documents", "block_shard", "block_regs")
#: The optional ``.npz`` array of each block's shard's block count before coarsening.
RAW_ARRAY = "block_raw"


@dataclass(frozen=True, eq=False)
class BlockSketches:
    """The block sketches of a run (or of one shard), in input order.

    Attributes:
        ns: window sizes.
        precision: ``pb``, the blocks' HyperLogLog precision.
        tokens: int64 ``(nb,)`` tokens per block.
        documents: int64 ``(nb,)`` documents per block (empty ones included).
        shard: int32 ``(nb,)`` the index of each block's shard in the run's shard list
            (``summary.json``'s ``inputs.shards``, ``SketchSet.shard_paths``); non-decreasing.
        regs: int8 ``(len(ns), nb, 2**precision)`` registers, datasketch's layout.
        raw: int64 ``(nb,)``, for each block the blocks its shard had before any coarsening,
            or ``None`` (older files). With it, ``merge`` coarsens the union exactly as a count
            of the union would (:func:`merge_coarsened`).
    """

    ns: tuple[int, ...]
    precision: int
    tokens: np.ndarray
    documents: np.ndarray
    shard: np.ndarray
    regs: np.ndarray
    raw: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ns", tuple(int(n) for n in self.ns))
        if not MIN_PRECISION <= self.precision <= MAX_PRECISION:
            raise ValueError(f"block precision {self.precision} outside [4, 16]")
        nb = self.tokens.shape[0] if self.tokens.ndim == 1 else -1
        want = {
            "tokens": (self.tokens, np.int64, (nb,)),
            "documents": (self.documents, np.int64, (nb,)),
            "shard": (self.shard, np.int32, (nb,)),
            "regs": (self.regs, np.int8, (len(self.ns), nb, 1 << self.precision)),
        }
        if self.raw is not None:
            want["raw"] = (self.raw, np.int64, (nb,))
        for name, (arr, dtype, shape) in want.items():
            if not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.shape != shape:
                got = (getattr(arr, "dtype", type(arr)), getattr(arr, "shape", None))
                raise ValueError(f"block {name} must be {np.dtype(dtype)} {shape}, got {got}")

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BlockSketches) and (
            self.ns == other.ns
            and self.precision == other.precision
            and all(
                np.array_equal(getattr(self, a), getattr(other, a))
                for a in ("tokens", "documents", "shard", "regs")
            )  # fmt: skip
        )

    __hash__ = None  # mutable arrays inside

    def __repr__(self) -> str:
        return (f"BlockSketches({len(self)} blocks, ns={self.ns}, p={self.precision}, "
                f"{self.nbytes / 2**20:.1f} MiB)")  # fmt: skip

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays."""
        return sum(a.nbytes for a in (self.tokens, self.documents, self.shard, self.regs))

    @classmethod
    def empty(cls, ns, precision: int) -> BlockSketches:
        """No blocks."""
        m = 1 << precision
        z = np.zeros(0, dtype=np.int64)
        regs = np.zeros((len(ns), 0, m), dtype=np.int8)
        return cls(tuple(ns), precision, z, z.copy(), np.zeros(0, dtype=np.int32), regs)

    @staticmethod
    def concat(parts: list[BlockSketches], offsets=None) -> BlockSketches:
        """The blocks of ``parts`` one after another; ``offsets[i]`` (if given) is added to
        the shard indices of ``parts[i]`` (the number of shards before that part).

        Raises:
            ValueError: no parts, or parts of other window sizes or precisions.
        """
        if not parts:
            raise ValueError("concat needs at least one part")
        first = parts[0]
        for b in parts[1:]:
            if b.ns != first.ns or b.precision != first.precision:
                raise ValueError(
                    f"blocks of ns={b.ns}, p={b.precision} and ns={first.ns}, "
                    f"p={first.precision} do not concatenate"
                )
        offsets = [0] * len(parts) if offsets is None else list(offsets)
        if len(offsets) != len(parts):
            raise ValueError(f"{len(offsets)} offsets for {len(parts)} parts")
        shard = [(b.shard.astype(np.int64) + int(o)).astype(np.int32)
                 for b, o in zip(parts, offsets)]  # fmt: skip
        return BlockSketches(
            first.ns,
            first.precision,
            np.concatenate([b.tokens for b in parts]),
            np.concatenate([b.documents for b in parts]),
            np.concatenate(shard),
            np.concatenate([b.regs for b in parts], axis=1),
            None if any(b.raw is None for b in parts) else np.concatenate([b.raw for b in parts]),
        )

    def rounds(self, max_blocks: int | None = None) -> int:
        """The rounds of pair merging :meth:`coarsen` makes to come to ``max_blocks``."""
        return _rounds(_per_shard(self.shard), _max_blocks(max_blocks))

    def coarsen(self, max_blocks: int | None = None) -> BlockSketches:
        """At most ``max_blocks`` blocks (default ``MAX_BLOCKS``): while there are more, every
        shard with two blocks or more merges its adjacent pairs (an odd last block stays).
        Stops at one block per shard.
        """
        max_blocks = _max_blocks(max_blocks)
        if max_blocks < 1:
            raise ValueError(f"max_blocks must be at least 1, got {max_blocks}")
        return self.merged(self.rounds(max_blocks))

    def merged(self, rounds: int) -> BlockSketches:
        """``rounds`` rounds of pair merging within every shard: blocks ``k`` of a shard with
        the same ``k >> rounds`` become one."""
        if rounds <= 0 or len(self) == 0:
            return self
        starts = _group_starts(self.shard, rounds)
        return BlockSketches(
            self.ns,
            self.precision,
            np.add.reduceat(self.tokens, starts),
            np.add.reduceat(self.documents, starts),
            self.shard[starts],
            _max_groups(self.regs, self.shard, rounds),
            None if self.raw is None else self.raw[starts],
        )

    def union(self) -> np.ndarray:
        """int8 ``(len(ns), 2**precision)``: the registers of all blocks together."""
        if len(self) == 0:
            return np.zeros((len(self.ns), 1 << self.precision), dtype=np.int8)
        return self.regs.max(axis=1)

    # ----------------------------------------------------------------- files

    def arrays(self) -> dict[str, np.ndarray]:
        """The ``.npz`` arrays (:data:`BLOCK_ARRAYS`, and ``block_raw`` when known)."""
        out = dict(zip(BLOCK_ARRAYS, (self.tokens, self.documents, self.shard, self.regs)))
        if self.raw is not None:
            out[RAW_ARRAY] = self.raw
        return out

    @classmethod
    def from_arrays(cls, arrays: dict, ns, precision: int, where: str = "") -> BlockSketches:
        """The block sketches of :meth:`arrays`.

        Raises:
            FormatError: arrays missing or of the wrong type or shape (``where`` names the file).
        """
        try:
            values = [arrays[name] for name in BLOCK_ARRAYS]
            return cls(tuple(ns), int(precision), *values, arrays.get(RAW_ARRAY))
        except (KeyError, ValueError, TypeError) as e:
            raise FormatError(f"{where}: unreadable block sketches ({e})") from None


def applied_rounds(blocks: BlockSketches) -> int | None:
    """The rounds of pair merging that made ``blocks`` from its shards' raw blocks (``raw``), or
    ``None`` when that is not known or no number of rounds fits."""
    if blocks.raw is None or len(blocks) == 0:
        return None if blocks.raw is None else 0
    now = _per_shard(blocks.shard)
    starts = np.flatnonzero(np.diff(blocks.shard, prepend=blocks.shard[0] - 1))
    raw = blocks.raw[starts]
    for r in range(64):
        if np.array_equal(raw, now):
            return r
        if (raw < now).any():
            break
        raw = (raw + 1) // 2
    return None


def merge_coarsened(parts: list[BlockSketches], max_blocks: int | None = None):
    """Each part (the blocks of one saved output) merged further so that together they are what
    coarsening all their shards' raw blocks at once gives (:meth:`BlockSketches.coarsen` of a
    count of the union): the union needs ``R`` rounds, a part has had ``r``, it gets ``R - r``
    more. ``None`` when a part's raw counts are not known."""
    done = [applied_rounds(p) for p in parts]
    if any(r is None for r in done):
        return None
    raw = [p.raw[np.flatnonzero(np.diff(p.shard, prepend=p.shard[0] - 1))]
           for p in parts if len(p)]  # fmt: skip
    total = _rounds(np.concatenate(raw) if raw else np.zeros(0), _max_blocks(max_blocks))
    return [p.merged(total - r) for p, r in zip(parts, done)]


def _max_blocks(max_blocks: int | None) -> int:
    """``max_blocks``, or the module's ``MAX_BLOCKS`` (read at each call: tests lower it)."""
    return MAX_BLOCKS if max_blocks is None else int(max_blocks)


def _per_shard(shard: np.ndarray) -> np.ndarray:
    """Blocks per shard (shards with blocks only), from the non-decreasing shard indices."""
    if shard.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.diff(shard, prepend=shard[0] - 1))
    return np.diff(np.append(starts, shard.shape[0]))


def _rounds(counts: np.ndarray, max_blocks: int) -> int:
    """Rounds of pair merging (a shard of ``b`` blocks keeps ``ceil(b / 2)``) until the total
    is at most ``max_blocks`` or every shard has one block."""
    counts = np.asarray(counts, dtype=np.int64)
    r = 0
    while counts.sum() > max_blocks and (counts > 1).any():
        counts = (counts + 1) // 2
        r += 1
    return r


def _max_groups(regs: np.ndarray, shard: np.ndarray, rounds: int) -> np.ndarray:
    """``np.maximum.reduceat(regs, _group_starts(shard, rounds), axis=1)``, a round of pairs at a
    time: gathering both halves of each pair and taking their maximum runs at memory speed,
    where ``reduceat`` on int8 along an axis is 20-50x slower."""
    for _ in range(rounds):
        starts = _group_starts(shard, 1)
        nb = shard.shape[0]
        ends = np.append(starts[1:], nb)
        partner = np.where(ends - starts > 1, starts + 1, starts)
        regs = np.maximum(regs[:, starts], regs[:, partner])
        shard = shard[starts]
        if starts.shape[0] == nb:  # nothing left to pair
            break
    return regs


def _group_starts(shard: np.ndarray, rounds: int) -> np.ndarray:
    """First block of each group of ``2**rounds`` consecutive blocks of a shard."""
    nb = shard.shape[0]
    first = np.flatnonzero(np.diff(shard, prepend=shard[0] - 1))  # each shard's first block
    pos = np.arange(nb) - np.repeat(first, np.diff(np.append(first, nb)))  # position in shard
    group = pos >> rounds
    new = np.ones(nb, dtype=bool)
    new[1:] = (shard[1:] != shard[:-1]) | (group[1:] != group[:-1])
    return np.flatnonzero(new)


class BlockBuilder:
    """The blocks of the shard being read (see the module docstring for the rules).

    For each run of documents the counter asks :meth:`assign` which block each document goes
    into (a slot of :attr:`regs`), has the kernels add every window to the registers of its
    document's block, then calls :meth:`settle`. Memory: ``regs``, ``2 * per_shard * len(ns) *
    2**precision`` bytes.
    """

    def __init__(self, ns, precision: int, block_tokens: int | None = None,
                 per_shard: int | None = None):  # fmt: skip
        self.ns = tuple(ns)
        self.precision = int(precision)
        # the module's constants, read here (not as default values): tests lower them
        self.block_tokens = int(BLOCK_TOKENS if block_tokens is None else block_tokens)
        self.per_shard = int(BLOCKS_PER_SHARD if per_shard is None else per_shard)
        cap = 2 * self.per_shard
        self.regs = np.zeros((cap, len(self.ns), 1 << self.precision), dtype=np.int8)
        self.tokens = np.zeros(cap, dtype=np.int64)
        self.documents = np.zeros(cap, dtype=np.int64)
        self.k = 0  # the open block
        self.size = self.block_tokens  # B: a block closes at a document end from B tokens on

    def cut(self, ends: np.ndarray, d0: int) -> int:
        """The first document ``d >= d0`` at whose end the open block closes, given the open
        block's tokens at the start of document ``d0`` and ``ends``, the tokens after each
        closed document counted from the same origin as ``ends[d0 - 1]`` (0 before ``d0 = 0``);
        ``len(ends)`` if none."""
        start = int(ends[d0 - 1]) if d0 > 0 else 0
        need = self.size - int(self.tokens[self.k]) + start
        return max(d0, int(np.searchsorted(ends, need, side="left")))

    def assign(self, ends: np.ndarray, closed: int, d0: int, d1: int, bdoc: np.ndarray) -> int:
        """Put documents ``d0, d0 + 1, ...`` into blocks: ``bdoc[d]`` gets document ``d``'s
        slot of :attr:`regs`, and the blocks its tokens and (if closed) the document.

        Args:
            ends: int64 tokens after each document counted from one origin (the new tokens
                of a chunk; the first ``closed`` documents end in it, the next one goes on).
            d1: the end of the run of documents.

        Returns:
            Where it stopped: ``d1``, or earlier right after a block that takes the last slot
            (:meth:`settle` then merges pairs, once the registers are written).
        """
        a = d0
        while a < d1:
            b = min(self.cut(ends[:closed], a) + 1, d1)
            k = self.k
            bdoc[a:b] = k
            self.tokens[k] += int(ends[b - 1]) - (int(ends[a - 1]) if a > 0 else 0)
            self.documents[k] += min(b, closed) - min(a, closed)
            a = b
            if b <= closed and self.tokens[k] >= self.size:
                self.k += 1
                if self.k == 2 * self.per_shard:
                    break
        return a

    def settle(self) -> None:
        """Once every slot holds a closed block, merge adjacent pairs into the first half and
        double the block size."""
        if self.k < 2 * self.per_shard:
            return
        c = self.per_shard
        regs = self.regs
        # pairs into slots [a, 2a) from slots [2a, 4a): never an overlap, which would make
        # numpy copy the inputs first (a transient of half the registers)
        np.maximum(regs[0], regs[1], out=regs[0])
        a = 1
        while a < c:
            b = min(2 * a, c)
            np.maximum(regs[2 * a : 2 * b : 2], regs[2 * a + 1 : 2 * b : 2], out=regs[a:b])
            a = b
        regs[c:] = 0
        for a in (self.tokens, self.documents):
            a[:c] = a[0::2] + a[1::2]
            a[c:] = 0
        self.k = c
        self.size *= 2

    def finish(self, shard: int, packed: bool = False):
        """The shard's blocks (shard index ``shard``), and a fresh start for the next shard.

        ``packed``: as a :class:`PackedBlocks` made straight from the registers (what
        :class:`BlockRun` keeps), without a full-size copy; else a :class:`BlockSketches`.
        """
        k = self.k
        if self.tokens[k] > 0:
            k += 1
        elif k > 0:  # empty documents after the last block join it
            self.documents[k - 1] += self.documents[k]
        head = (self.tokens[:k].copy(), self.documents[:k].copy(), np.full(k, shard, np.int32))
        regs = self.regs[:k].transpose(1, 0, 2)
        if packed:
            out = PackedBlocks(*head, PackedRegisters(regs))
        else:  # a copy even for one block
            out = BlockSketches(self.ns, self.precision, *head, regs.copy())
        self.regs[: self.k + 1] = 0
        self.tokens[:] = 0
        self.documents[:] = 0
        self.k = 0
        self.size = self.block_tokens
        return out


class PackedRegisters:
    """Block registers in half their bytes: two registers of 0 to 15 a byte (low nibble first),
    and apart, the flat indices and values of the few others (a register of a block of ``w``
    windows is 16 or more with probability about ``w / 2**15`` per window size and block).

    ``PackedRegisters(regs).unpack()`` equals ``regs``: int8 ``(ns, nb, m)``, ``m`` even, any
    values; ``regs`` may be anything with that ``shape`` whose ``regs[j]`` is the int8
    ``(nb, m)`` row of window size ``j`` (rows are packed one at a time, so temporaries stay
    one row's size).
    """

    __slots__ = ("shape", "nibbles", "where", "values")

    def __init__(self, regs):
        ns, nb, m = (int(x) for x in regs.shape)
        if m % 2:
            raise ValueError(f"registers per block must be even, got {m}")
        self.shape = (ns, nb, m)
        self.nibbles = np.empty((ns, nb, m // 2), dtype=np.uint8)
        where, values = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int8)]
        flags = np.empty(nb, dtype=np.uint8)
        for j in range(ns):
            row = regs[j]
            if kernels.pack_nibbles(row, self.nibbles[j], flags):
                w, v = kernels.nibble_exceptions(row, flags)
                where.append(w + j * nb * m)
                values.append(v)
        self.where = np.concatenate(where)  # increasing
        self.values = np.concatenate(values)

    @property
    def nbytes(self) -> int:
        return self.nibbles.nbytes + self.where.nbytes + self.values.nbytes

    def row(self, j: int, out: np.ndarray | None = None) -> np.ndarray:
        """The int8 ``(nb, m)`` registers of window size ``j`` (into ``out`` if given)."""
        _, nb, m = self.shape
        if out is None:
            out = np.empty((nb, m), dtype=np.int8)
        lo, hi = np.searchsorted(self.where, [j * nb * m, (j + 1) * nb * m])
        at = self.where[lo:hi] - j * nb * m
        kernels.unpack_nibbles(self.nibbles[j], at, self.values[lo:hi], out)
        return out

    def unpack(self, out: np.ndarray | None = None) -> np.ndarray:
        """The int8 registers (written into ``out``, an array or view of :attr:`shape`, if
        given)."""
        if out is None:
            out = np.empty(self.shape, dtype=np.int8)
        for j in range(self.shape[0]):
            self.row(j, out[j])
        return out


class _PairMaxima:
    """The registers of ``rounds`` rounds of pair merging (:meth:`BlockSketches.merged`) of
    packed blocks of shards ``shard``, made a window size at a time for
    :class:`PackedRegisters`."""

    def __init__(self, packed: PackedRegisters, shard: np.ndarray, rounds: int):
        ns, _, m = packed.shape
        self.packed, self.shard, self.rounds = packed, shard, rounds
        self.shape = (ns, _group_starts(shard, rounds).shape[0], m)

    def __getitem__(self, j: int) -> np.ndarray:
        return _max_groups(self.packed.row(j)[None], self.shard, self.rounds)[0]


@dataclass(frozen=True, eq=False)
class PackedBlocks:
    """One shard's blocks as :class:`BlockRun` keeps them: a :class:`BlockSketches` (without
    ``raw``) whose registers are :class:`PackedRegisters`."""

    tokens: np.ndarray
    documents: np.ndarray
    shard: np.ndarray
    regs: PackedRegisters

    @classmethod
    def of(cls, blocks: BlockSketches) -> PackedBlocks:
        return cls(blocks.tokens, blocks.documents, blocks.shard, PackedRegisters(blocks.regs))

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def merged(self, rounds: int) -> PackedBlocks:
        """:meth:`BlockSketches.merged` of these blocks, still packed."""
        if rounds <= 0 or len(self) == 0:
            return self
        starts = _group_starts(self.shard, rounds)
        return PackedBlocks(
            np.add.reduceat(self.tokens, starts),
            np.add.reduceat(self.documents, starts),
            self.shard[starts],
            PackedRegisters(_PairMaxima(self.regs, self.shard, rounds)),
        )


class BlockRun:
    """A run's blocks, shard after shard, coarsened as they come so that memory stays near
    ``max_blocks`` blocks, yet with the result of coarsening them all at the end.

    (Rounds of pair merging within shards commute, and the rounds the whole run needs are at
    least those any first shards need; each shard is kept merged by the rounds its prefix
    needs and brought to the final number at the end.) The shards' blocks are kept packed
    (:class:`PackedBlocks`, half the bytes) and merged a window size at a time, so a round of
    merging needs one row's registers unpacked, not a shard's.
    """

    def __init__(self, ns, precision: int, max_blocks: int | None = None):
        self.ns = tuple(ns)
        self.precision = int(precision)
        self.max_blocks = _max_blocks(max_blocks)
        self.parts: list[PackedBlocks] = []
        self.counts: list[int] = []  # each part's blocks before any merging
        self.done: list[int] = []  # rounds applied to each part
        self.round = 0

    def add(self, blocks: BlockSketches | PackedBlocks) -> None:
        """Add the next shard's blocks (their shard indices as they should stay); they are
        kept packed (:class:`PackedRegisters`, half the bytes)."""
        if len(blocks) == 0:
            return
        if isinstance(blocks, BlockSketches):
            blocks = PackedBlocks.of(blocks)
        self.parts.append(blocks)
        self.counts.append(len(blocks))
        self.done.append(0)
        self.round = _rounds(np.array(self.counts), self.max_blocks)
        for i, part in enumerate(self.parts):
            if self.done[i] < self.round:
                self.parts[i] = part.merged(self.round - self.done[i])
                self.done[i] = self.round

    def result(self) -> BlockSketches:
        """All blocks so far, coarsened to ``max_blocks`` (:meth:`BlockSketches.coarsen`)."""
        if not self.parts:
            return BlockSketches.empty(self.ns, self.precision)
        nb = sum(len(p) for p in self.parts)
        regs = np.empty((len(self.ns), nb, 1 << self.precision), dtype=np.int8)
        start = 0
        for p in self.parts:  # unpacked in place: no second full-size copy
            p.regs.unpack(regs[:, start : start + len(p)])
            start += len(p)
        raw = np.repeat(np.array(self.counts, dtype=np.int64), [len(p) for p in self.parts])
        heads = (np.concatenate([getattr(p, name) for p in self.parts])
                 for name in ("tokens", "documents", "shard"))  # fmt: skip
        return BlockSketches(self.ns, self.precision, *heads, regs, raw)


__all__ = [
    "BLOCK_ARRAYS",
    "RAW_ARRAY",
    "BlockBuilder",
    "BlockRun",
    "BlockSketches",
    "PackedBlocks",
    "PackedRegisters",
    "applied_rounds",
    "merge_coarsened",
]
