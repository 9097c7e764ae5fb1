"""What a count pass produces: per-shard statistics, skipped input, progress, curve rows and
the :class:`CountResult` (built in one place, :func:`build_result`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..config import CountConfig
from ..sketches import (
    EMPTY_HASHVALUE,
    HLL,
    BlockSketches,
    MinHash,
    SketchSet,
    trimmed,
    union_thetas,
    unpack_thetas,
)


@dataclass(frozen=True)
class CurveRow:
    """One point of the growth curve of one window size.

    Attributes:
        n: window size.
        tokens: D, the tokens read up to this checkpoint.
        documents: documents read up to this checkpoint (including empty ones).
        windows: n-token windows among them (with repeats).
        unique: estimated distinct windows U_n(D): the HyperLogLog++ estimate of the registers
            at this checkpoint (what the sketches, ``compare`` and ``merge`` use).
        unique_exact: exact distinct window hashes, or ``None`` without ``--exact``.
        unique_hip: the HIP (historic inverse probability) estimate of the same count, kept
            while reading the input in order; about 20% lower error than ``unique`` at equal
            memory, and what the growth curve's fits use. ``None`` where the input was not
            read as one ordered stream.
    """

    n: int
    tokens: int
    documents: int
    windows: int
    unique: float
    unique_exact: int | None = None
    unique_hip: float | None = None

    @property
    def estimate(self) -> float:
        """The curve's best estimate: :attr:`unique_hip` where there is one, else
        :attr:`unique`."""
        return self.unique if self.unique_hip is None else self.unique_hip


@dataclass
class ShardStats:
    """What one shard contributed."""

    path: str
    format: str
    bytes: int
    documents: int = 0
    tokens: int = 0
    null_documents: int = 0
    invalid_utf8: int = 0
    error: str | None = None  # why the rest of the shard was skipped (--on-error skip)
    abspath: str = ""  # the absolute path (``path`` is as the run was given it)

    def __post_init__(self) -> None:
        if not self.abspath:
            self.abspath = os.path.abspath(self.path)

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        if d["error"] is None:
            del d["error"]
        return d


@dataclass
class Progress:
    """A progress report, sent after every chunk of documents.

    Attributes:
        shard: index of the shard being read (0-based); shards: number of shards.
        documents, tokens: read so far over all shards.
        total_documents: documents in all shards from their metadata, or ``None`` when a
            format does not say (JSON Lines, text, Arrow).
        elapsed: seconds since the start.
    """

    shard: int
    shards: int
    documents: int
    tokens: int
    total_documents: int | None
    elapsed: float


@dataclass
class CountResult:
    """Everything one ``count`` pass found.

    Attributes:
        config: the options used.
        paths: the input paths as given.
        shards: per-shard statistics, in reading order.
        ignored: files inside the inputs that no reader knows, skipped.
        metadata: files inside the inputs known not to be data (README, LICENSE,
            dataset_info.json, checksums, ...), skipped without a note.
        rows: the growth curve, ordered by ``n`` then ``tokens``.
        sketches: the final HyperLogLog of every window size.
        documents, tokens: totals; ``empty_documents`` had no tokens (``null_documents`` of them
            were null); ``invalid_utf8`` sequences were replaced by U+FFFD.
        windows: n-token windows per window size (with repeats).
        exact_bytes: memory held by the exact sets (``--exact``), else 0.
        skipped: rows and shards skipped under ``--on-error skip``.
        elapsed: seconds for the whole pass; started: UTC start time (ISO 8601).
        threads: numba threads used.
        merged_from: the ``count`` outputs this result merges (``seqcount merge``), else ``None``.
    """

    config: CountConfig
    paths: list[str]
    shards: list[ShardStats]
    ignored: list[str]
    rows: list[CurveRow]
    sketches: SketchSet
    documents: int
    tokens: int
    empty_documents: int
    null_documents: int
    invalid_utf8: int
    windows: dict[int, int]
    exact_bytes: int = 0
    elapsed: float = 0.0
    started: str = ""
    threads: int = 1
    final: dict[int, CurveRow] = field(default_factory=dict)
    skipped: Skipped = field(default_factory=lambda: Skipped())
    near_dup: object | None = None  # a NearDupResult (seqcount.engine.neardup)
    merged_from: list[str] | None = None
    outputs: dict[str, str] = field(default_factory=dict)  # files written, by kind
    metadata: list[str] = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.elapsed if self.elapsed > 0 else 0.0

    def unique(self, n: int) -> float:
        """Estimated distinct windows of size ``n`` in the whole input.

        Raises:
            KeyError: ``n`` was not counted.
        """
        if n not in self.final:
            raise KeyError(f"n={n} was not counted (counted: {list(self.config.ns)})")
        return self.final[n].unique

    @property
    def curve(self):
        """The growth curve as a ``pyarrow.Table`` (see :func:`curve_table`)."""
        return curve_table(self.rows)

    @property
    def blocks(self) -> BlockSketches | None:
        """The block sketches (``sketches.blocks``), or ``None`` without them."""
        return self.sketches.blocks


def curve_rows(ns, points) -> list[CurveRow]:
    """Curve rows, by ``n`` then tokens, from checkpoints ``(tokens, documents, windows per n,
    estimates per n, exact counts per n or None, HIP estimates per n or None)``."""
    return [
        CurveRow(
            n=n,
            tokens=tokens,
            documents=documents,
            windows=int(windows[j]),
            unique=float(est[j]),
            unique_exact=None if exact is None else int(exact[j]),
            unique_hip=None if hip is None else float(hip[j]),
        )
        for j, n in enumerate(ns)
        for tokens, documents, windows, est, exact, hip in points
    ]


def sketch_set(config: CountConfig, regs, shard_sigs, shard_paths, documents, tokens, thetas=None,
               blocks=None, whole_theta=None):  # fmt: skip
    """The :class:`SketchSet` of a count: final registers, with MinHash the per-shard
    signatures (uint64 ``(shards, len(ns), K)``) and their union, with theta sketches each
    shard's and the whole input's, and the block sketches (``blocks``, or ``None``).

    Theta sketches come either as each shard's at ``shard_k`` (``thetas``: per shard, one per
    window size) with the whole input's (``whole_theta``: one per window size), from a single
    pass; or as each shard's at ``theta_k`` alone (``whole_theta`` ``None``), from shards
    counted on their own: the whole input's is then their union, and each shard's is trimmed
    to ``shard_k`` (the ``shard_k`` smallest values of the larger sketch). Both give the same
    sketches.
    """
    ns = config.ns
    minhash = None
    perm = config.minhash_perm
    if perm:
        whole = (
            shard_sigs.min(axis=0)
            if len(shard_sigs)
            else np.full((len(ns), perm), EMPTY_HASHVALUE, dtype=np.uint64)
        )
        minhash = [MinHash(seed=config.seed, hashvalues=whole[j].copy()) for j in range(len(ns))]
    shard_theta = None
    if config.theta:
        if whole_theta is None:
            whole_theta = whole_thetas(config, thetas)
            thetas = [[trimmed(t, config.shard_k) for t in shard] for shard in thetas]
        shard_theta = [list(t) for t in thetas]
    return SketchSet(
        ns=ns,
        hll=[HLL(reg=regs[j].copy()) for j in range(len(ns))],
        options=config.result_options(),
        meta={"documents": documents, "tokens": tokens},
        minhash=minhash,
        shard_minhash=shard_sigs if perm else None,
        shard_paths=list(shard_paths),
        theta=whole_theta if config.theta else None,
        shard_theta=shard_theta,
        blocks=blocks,
    )


def whole_thetas(config: CountConfig, thetas) -> list:
    """The whole input's theta sketch per window size: the union of the shards' sketches."""
    k, seed = config.theta_k, config.seed
    return [union_thetas([t[j] for t in thetas], k, seed) for j in range(len(config.ns))]


MAX_LISTED_SKIPS = 1000


@dataclass
class Skipped:
    """Input skipped under ``--on-error skip``: bad rows and shards that could not be read.

    ``items`` lists the first :data:`MAX_LISTED_SKIPS` of them (``path``, ``row`` or ``None``,
    ``error``); ``rows`` and ``shards`` count all.
    """

    rows: int = 0
    shards: int = 0
    items: list[dict] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.rows or self.shards)

    def row(self, path: str, row: int, message: str) -> None:
        self.rows += 1
        self.list(path, row, message)

    def shard(self, path: str, message: str) -> None:
        self.shards += 1
        self.list(path, None, message)

    def list(self, path: str, row: int | None, message: str) -> None:
        """List an item without counting it (the counts are set by the caller)."""
        if len(self.items) < MAX_LISTED_SKIPS:
            self.items.append({"path": path, "row": row, "error": message})

    def to_dict(self) -> dict:
        return {"rows": self.rows, "shards": self.shards, "items": self.items}


def build_result(
    config: CountConfig,
    inputs,
    stats: list[ShardStats],
    skipped: Skipped,
    rows: list[CurveRow],
    *,
    documents: int,
    tokens: int,
    empty: int,
    windows,
    regs=None,
    sigs=None,
    thetas=None,
    blocks=None,
    whole_theta=None,
    sketches: SketchSet | None = None,
    **more,
) -> CountResult:
    """The one way a :class:`CountResult` is made (single pass, sharded pass, merge).

    ``regs``/``sigs``/``thetas``/``blocks``/``whole_theta`` (final registers, per-shard
    signatures and theta sketches, block sketches, the whole input's theta sketches: see
    :func:`sketch_set`) make the :class:`SketchSet`
    unless ``sketches`` is given; ``windows`` is per window size, in ``config.ns`` order;
    ``more`` sets the remaining fields (``elapsed``, ``started``, ``threads``, ...).
    """
    if sketches is None:
        paths = [s.path for s in stats]
        sketches = sketch_set(
            config, regs, sigs, paths, documents, tokens, thetas, blocks, whole_theta
        )
    return CountResult(
        config=config,
        paths=list(inputs.paths),
        shards=stats,
        ignored=list(inputs.ignored),
        metadata=list(inputs.metadata),
        rows=rows,
        sketches=sketches,
        documents=documents,
        tokens=tokens,
        empty_documents=empty,
        null_documents=sum(s.null_documents for s in stats),
        invalid_utf8=sum(s.invalid_utf8 for s in stats),
        windows={n: int(windows[j]) for j, n in enumerate(config.ns)},
        final={r.n: r for r in rows if r.tokens == tokens},
        skipped=skipped,
        **more,
    )


@dataclass
class ShardResult:
    """One shard counted on its own (see the module docstring).

    Attributes:
        path, size, mtime_ns, format: the shard.
        stats: :class:`ShardStats` as a dict.
        skipped_rows, skipped_items: what ``--on-error skip`` skipped in it.
        regs: int8 ``(len(ns), 2**p)`` registers of the shard alone.
        sigs: uint64 ``(len(ns), K)`` MinHash signatures, or ``None``.
        theta_entries, theta_offsets, theta64: the shard's theta sketches, one per window
            size (:func:`~seqcount.sketches.pack_thetas`), or ``None``.
        lengths: int64 token count of each document, in order.
        windows: int64 windows per window size.
        empty, null, invalid_utf8: document and byte counts for the totals.
        log_doc, log_reg, log_rank: register growth in document order (``None`` when dropped).
        block_tokens, block_documents, block_regs: the shard's block sketches (int64 ``(nb,)``
            twice, int8 ``(len(ns), nb, 2**pb)``), or ``None`` without them.
        hip_after: float64 running HIP estimates per window size after this shard, given the
            shards before it (set when the shards are put together in order).
        prefix: a digest of the state keys of the shards before it, when ``hip_after`` was set.
    """

    path: str
    size: int
    mtime_ns: int
    format: str
    stats: dict
    skipped_rows: int
    skipped_items: list
    regs: np.ndarray
    sigs: np.ndarray | None
    lengths: np.ndarray
    windows: np.ndarray
    empty: int
    null: int
    invalid_utf8: int
    log_doc: np.ndarray | None = None
    log_reg: np.ndarray | None = None
    log_rank: np.ndarray | None = None
    seconds: float = 0.0
    hip_after: np.ndarray | None = None
    prefix: str | None = None
    theta_entries: np.ndarray | None = None
    theta_offsets: np.ndarray | None = None
    theta64: np.ndarray | None = None
    block_tokens: np.ndarray | None = None
    block_documents: np.ndarray | None = None
    block_regs: np.ndarray | None = None

    def blocks(self, config: CountConfig, shard: int) -> BlockSketches | None:
        """The shard's block sketches as shard ``shard`` of a run (``None`` without them)."""
        if self.block_regs is None:
            return None
        nb = self.block_tokens.shape[0]
        shards = np.full(nb, shard, dtype=np.int32)
        args = (self.block_tokens, self.block_documents, shards, self.block_regs)
        return BlockSketches(config.ns, config.block_precision, *args)

    def thetas(self, config: CountConfig) -> list:
        """The shard's theta sketches, one per window size (``[]`` without them)."""
        if self.theta64 is None:
            return []
        args = (self.theta_entries, self.theta_offsets, self.theta64)
        return unpack_thetas(*args, config.theta_k, config.seed)

    @property
    def tokens(self) -> int:
        return int(self.lengths.sum()) if self.lengths is not None else self._counts[0]

    @property
    def documents(self) -> int:
        return int(self.lengths.shape[0]) if self.lengths is not None else self._counts[1]

    @property
    def has_log(self) -> bool:
        return self.log_doc is not None

    def drop_log(self) -> None:
        self.log_doc = self.log_reg = self.log_rank = None

    def slim(self) -> None:
        """Drop the registers, lengths and log (once the shard is added; the summary needs
        the counts only)."""
        self._counts = (self.tokens, self.documents)
        self.drop_log()
        self.regs = self.lengths = None
        self.block_tokens = self.block_documents = self.block_regs = None


def curve_table(rows: list[CurveRow]):
    """The growth curve as a ``pyarrow.Table`` (columns of :class:`CurveRow`; ``to_pandas()``
    gives a DataFrame)."""
    import pyarrow as pa

    def column(name: str):
        return [getattr(r, name) for r in rows]

    return pa.table(
        {
            "n": pa.array(column("n"), pa.int64()),
            "tokens": pa.array(column("tokens"), pa.int64()),
            "documents": pa.array(column("documents"), pa.int64()),
            "windows": pa.array(column("windows"), pa.int64()),
            "unique": pa.array(column("unique"), pa.float64()),
            "unique_exact": pa.array(column("unique_exact"), pa.int64()),
            "unique_hip": pa.array(column("unique_hip"), pa.float64()),
        }
    )
