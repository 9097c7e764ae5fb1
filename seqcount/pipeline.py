"""One streaming pass: shards → tokens → window hashes → sketches → growth curve.

:func:`count_corpus` is the library entry point of ``seqcount count``; :func:`write_outputs`
writes what it found to an output directory.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import kernels
from .config import CountConfig
from .curve import CurveRow, Schedule, curve_bytes
from .errors import InputError, OutputError
from .hashing import hash_params
from .io import ReadRequest, Shard, discover, prefetch, reader_for
from .neardup import MAX_LISTED_CLUSTERS, MAX_LISTED_MEMBERS, NearDupIndex
from .sketch import (
    HLL,
    ExactSet,
    MinHash,
    SketchSet,
    atomic_write,
    hll_estimates,
    minhash_permutations,
    unbias,
)
from .tokenize import BufferPool, HFTokenizer, StreamTokenizer, TokenChunk

HASH_DESCRIPTION = (
    "poly61-v1: polynomial of token values modulo 2**61-1 with a seeded base, "
    "XOR a seeded per-n salt, then the MurmurHash3 fmix64 finaliser; "
    "expected colliding pairs below U**2 * n / 2**62"
)


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
    near_dup: NearDupResult | None = None
    merged_from: list[str] | None = None

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.elapsed if self.elapsed > 0 else 0.0

    def unique(self, n: int) -> float:
        """Estimated distinct windows of size ``n`` in the whole input."""
        return self.final[n].unique


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


def sketch_set(config: CountConfig, regs, shard_sigs, shard_paths, documents, tokens):
    """The :class:`SketchSet` of a count: final registers, and with MinHash the per-shard
    signatures (uint64 ``(shards, len(ns), K)``) and their union."""
    ns = config.ns
    minhash = None
    if config.num_perm:
        whole = (
            shard_sigs.min(axis=0)
            if len(shard_sigs)
            else np.full((len(ns), config.num_perm), 2**64 - 1, dtype=np.uint64)
        )
        minhash = [MinHash(seed=config.seed, hashvalues=whole[j].copy()) for j in range(len(ns))]
    return SketchSet(
        ns=ns,
        hll=[HLL(reg=regs[j].copy()) for j in range(len(ns))],
        options=config.result_options(),
        meta={"documents": documents, "tokens": tokens},
        minhash=minhash,
        shard_minhash=shard_sigs if config.num_perm else None,
        shard_paths=list(shard_paths),
    )


class _Counter:
    """Running state of one pass: registers, exact sets, totals, checkpoints."""

    def __init__(self, config: CountConfig, record: bool = False):
        self.config = config
        # record: count one shard for a later ordered merge (seqcount.batch): no checkpoints;
        # keep each closed document's length and a log of register growth per document
        self.record = record
        self.lengths: list[np.ndarray] = []
        self.log: list[tuple[np.ndarray, np.ndarray]] = []
        self.params = hash_params(config.seed)
        self.ns, self.bases, self.salts = self.params.window_arrays(config.ns)
        self.p = np.int64(config.precision)
        self.regs = np.zeros((len(config.ns), 1 << config.precision), dtype=np.int8)
        # the running HIP estimate of every window size (not in record mode: a shard counted
        # on its own gets its estimates when the shards are put together in order)
        self.hipst = None if record else kernels.hip_state(self.regs, self.p)
        self.hip = None if record else np.zeros(len(config.ns), dtype=np.float64)
        self.exact = [ExactSet() for _ in config.ns] if config.exact else None
        self.schedule = Schedule(config.checkpoints_per_decade)
        if record:
            self.schedule.target = 1 << 62  # never reached
        self.tokens = 0
        self.documents = 0
        self.empty = 0
        self.windows = np.zeros(len(config.ns), dtype=np.int64)
        # the longest window: its last max_n - 1 tokens are carried across a cut in a document
        self.max_n = max(config.ns)
        if config.near_dup is not None:
            self.max_n = max(self.max_n, config.near_dup_n)
        self.carry = np.zeros(0, dtype=np.uint64)  # last tokens of an unfinished document
        # arrays that live only inside add(), reused by every chunk: fresh ones would cost
        # page faults (up to a third of the time of an ids pass)
        self.token_buf = np.zeros(0, dtype=np.uint64)
        self.prefix_buf = np.zeros(0, dtype=np.uint64)
        self.open_len = 0  # tokens of the unfinished document so far
        # (tokens, documents, windows, estimates, exact, HIP estimates) per checkpoint
        self.points: list[tuple] = []
        # MinHash per window size: the current shard's signatures (biased, see kernels), a
        # cache of recent window hashes (reset per shard) and every finished shard's signatures.
        self.k = config.num_perm
        if self.k:
            import numba

            # one run of documents per thread (see kernels.minhash_update_windows); the
            # signatures, the minimum over the runs, do not depend on it
            self.parts = numba.get_num_threads()
            self.perm = minhash_permutations(self.k, config.seed)
            shape = (self.parts, len(config.ns), self.k)
            self.sigs = np.full(shape, kernels.MINHASH_EMPTY, dtype=np.int64)
            self.cache = kernels.minhash_cache(self.parts, len(config.ns))
            self.shard_sigs: list[np.ndarray] = []
        self.shard = 0  # index of the shard being read
        self.row = 0  # closed documents of this shard so far
        self.near = None
        if config.near_dup is not None:
            self._init_near_dup()

    def _init_near_dup(self) -> None:
        c = self.config
        self.near = NearDupIndex(c.near_dup, self.k, c.seed, c.near_dup_max_docs)
        _, nb, ns_ = self.params.window_arrays((c.near_dup_n,))
        self.nd_base, self.nd_salt = nb[0], ns_[0]
        shape = self.regs.shape
        self.dedup_regs = np.zeros(shape, dtype=np.int8)  # kept documents
        self.open_regs = np.zeros(shape, dtype=np.int8)  # the unfinished document, undecided
        self.open_sig = np.full(self.k, kernels.MINHASH_EMPTY, dtype=np.int64)
        self.short = 0  # documents shorter than near_dup_n tokens (not checked, kept)
        self.kept_tokens = 0
        self.kept_documents = 0
        self.kept_windows = np.zeros(len(c.ns), dtype=np.int64)
        self.dedup_points: list[tuple[int, int, np.ndarray, np.ndarray]] = []

    def end_shard(self) -> None:
        """Close the current shard's MinHash signatures and start the next shard's."""
        if self.k:
            self.shard_sigs.append(unbias(self.sigs.min(axis=0)))
            self.sigs.fill(kernels.MINHASH_EMPTY)
            self.cache = kernels.minhash_cache(self.parts, len(self.config.ns))
        self.shard += 1
        self.row = 0

    def _buffer(self, name: str, size: int) -> np.ndarray:
        """The first ``size`` elements of the reused uint64 buffer ``name`` (grown if short)."""
        buf = getattr(self, name)
        if buf.shape[0] < size:  # with room: chunk sizes vary a little
            buf = np.empty(size + size // 8, dtype=np.uint64)
            setattr(self, name, buf)
        return buf[:size]

    def add(self, chunk: TokenChunk) -> None:
        """Add a chunk of documents, taking every checkpoint that falls inside it.

        A chunk may start with the continuation of a long document (``head_continues``): the
        last ``max(n) - 1`` tokens of its earlier pieces are put in front so that windows across
        the cut are counted, and windows inside them are skipped. A chunk whose last document
        goes on (``tail_open``) takes no checkpoint at that document.
        """
        ndocs = chunk.documents
        if ndocs == 0:
            return
        doc, skip, before = chunk.doc, 0, 0
        prior = np.zeros(ndocs, dtype=np.int64)  # tokens of each document in earlier chunks
        if chunk.head_continues:
            prior[0] = self.open_len
            skip = self.carry.shape[0]
            before = self.open_len - skip  # document position of the first carried token
            if skip:
                doc = doc + skip
                doc[0] = 0
        if skip or chunk.is_raw:
            # the carried tokens, then the chunk's values (ids and bytes are made into values
            # only now, see TokenChunk.values), in one buffer reused by every chunk
            tokens = self._buffer("token_buf", skip + chunk.tokens.shape[0])
            tokens[:skip] = self.carry
            chunk.values(tokens[skip:])
        else:
            tokens = chunk.tokens
        new_ends = chunk.doc[1:]  # new tokens of this chunk after each document
        lengths = prior + np.diff(chunk.doc)  # tokens of each document so far
        closed = chunk.closed
        self.empty += int(np.count_nonzero(lengths[:closed] == 0))
        prefix = kernels.prefix_into(
            tokens, np.uint64(self.params.base), self._buffer("prefix_buf", tokens.shape[0] + 1)
        )
        if self.record:
            self.lengths.append(lengths[:closed].copy())
            self.doc_base = self.documents  # the shard's number of this chunk's first document
        keep = None
        if self.near is not None:
            keep = self._near_dup(chunk, prefix, doc, lengths, skip, before)
        base = self.tokens
        d0 = 0
        while d0 < ndocs:
            d = int(np.searchsorted(new_ends[:closed], self.schedule.target - base, side="left"))
            d1 = max(min(d + 1, ndocs), d0 + 1)
            first = d0 == 0
            self._update(prefix, doc, prior, lengths, d0, d1, skip if first else 0, before, keep)
            self.tokens = base + int(new_ends[d1 - 1])
            self.documents += min(d1, closed) - min(d0, closed)
            if d1 <= closed and self.tokens >= self.schedule.target:
                self._checkpoint()
                self.schedule.advance_past(self.tokens)
            d0 = d1
        self.row += closed
        if chunk.tail_open:
            last = tokens[doc[-2] : doc[-1]]
            keep = min(self.max_n - 1, last.shape[0])
            self.carry = last[last.shape[0] - keep :].copy()
            self.open_len = int(lengths[-1])
        else:
            self.carry = self.carry[:0]
            self.open_len = 0

    def _near_dup(self, chunk: TokenChunk, prefix, doc, lengths, skip: int, before: int):
        """Decide which documents of the chunk a deduplication pass keeps; return the flags.

        The unfinished last document (``tail_open``) is flagged 0: its windows go into
        ``open_regs`` until it ends and is decided. A document that began in earlier chunks and
        ends here brings its ``open_regs`` along if it is kept.
        """
        ndocs, closed = chunk.documents, chunk.closed
        sigs = np.full((ndocs, self.k), kernels.MINHASH_EMPTY, dtype=np.int64)
        if chunk.head_continues:
            sigs[0] = self.open_sig
        a, b = self.perm
        n = np.int64(self.config.near_dup_n)
        kernels.doc_minhash(
            prefix, doc, 0, ndocs, n, self.nd_base, self.nd_salt, a, b, sigs, skip, before
        )
        keep = np.ones(ndocs, dtype=np.uint8)
        values = unbias(sigs[:closed])
        for i in range(closed):
            if lengths[i] < n:
                self.short += int(lengths[i] > 0)
                continue
            if self.near.add(values[i], self.shard, self.row + i):
                keep[i] = 0
        if chunk.head_continues and closed > 0:  # an unfinished document ended here
            if keep[0]:
                np.maximum(self.dedup_regs, self.open_regs, out=self.dedup_regs)
            self.open_regs.fill(0)
        if chunk.tail_open:
            last = ndocs - 1
            self.open_sig = sigs[last].copy()
            keep[last] = 0
            kernels.hll_update_windows(
                prefix, doc, last, ndocs, self.ns, self.bases, self.salts, self.p,
                self.open_regs, skip if last == 0 else 0, self.config.stride,
                before if last == 0 else 0,
            )  # fmt: skip
        return keep

    def _update(self, prefix, doc, prior, lengths, d0, d1, skip, before, keep=None) -> None:
        stride = self.config.stride
        if self.record:
            self._logged_update(prefix, doc, d0, d1, skip, before)
        else:
            kernels.hll_update_windows(
                prefix, doc, d0, d1, self.ns, self.bases, self.salts, self.p, self.regs,
                skip, stride, before, None, self.hipst, self.hip,
            )  # fmt: skip
        if self.k:
            a, b = self.perm
            kernels.minhash_update_windows(
                prefix, doc, d0, d1, self.ns, self.bases, self.salts, a, b, self.sigs,
                self.cache, skip, stride, before,
            )  # fmt: skip
        if keep is not None:
            kernels.hll_update_windows(
                prefix, doc, d0, d1, self.ns, self.bases, self.salts, self.p, self.dedup_regs,
                skip, stride, before, keep,
            )  # fmt: skip
            kept = keep[d0:d1].astype(bool)
            full = lengths[d0:d1][kept]  # whole kept documents (the open one is never kept)
            self.kept_tokens += int(full.sum())
            self.kept_documents += int(kept.sum())
            for j, n in enumerate(self.config.ns):
                w = full // n if stride else np.maximum(full - (n - 1), 0)
                self.kept_windows[j] += int(w.sum())
        now, then = lengths[d0:d1], prior[d0:d1]
        for j, n in enumerate(self.config.ns):
            if stride:
                added = now // n - then // n
            else:
                added = np.maximum(now - (n - 1), 0) - np.maximum(then - (n - 1), 0)
            self.windows[j] += int(added.sum())
        if self.exact is not None:
            for j, n in enumerate(self.config.ns):
                hashes = kernels.window_hashes(
                    prefix, doc, d0, d1, self.ns[j], self.bases[j], self.salts[j],
                    skip, n if stride else 1, before,
                )  # fmt: skip
                self.exact[j].update_batch(hashes)

    def _logged_update(self, prefix, doc, d0, d1, skip, before) -> None:
        """The HyperLogLog update of :meth:`_update`, logging every register that grows."""
        nn = len(self.config.ns)
        room = int(doc[d1] - doc[d0]) + 1  # at most one growth per window
        log_doc = np.empty((nn, room), dtype=np.int64)
        log_key = np.empty((nn, room), dtype=np.int64)
        counts = np.zeros(nn, dtype=np.int64)
        kernels.hll_log_windows(
            prefix, doc, d0, d1, self.ns, self.bases, self.salts, self.p, self.regs, skip,
            self.config.stride, before, np.int64(self.doc_base), log_doc, log_key, counts,
        )  # fmt: skip
        m = np.int64(self.regs.shape[1])
        for j in range(nn):
            c = int(counts[j])
            if c:
                key = log_key[j, :c]
                flat = np.int64(j) * m + (key >> 8)  # register index in the (n, m) array
                self.log.append((log_doc[j, :c].copy(), flat * 256 + (key & 255)))

    def take_log(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The register-growth log in document order: ``(doc, flat register index, rank)``."""
        if not self.log:
            empty = np.zeros(0, dtype=np.int32)
            return empty, empty, np.zeros(0, dtype=np.int8)
        docs = np.concatenate([d for d, _ in self.log])
        packed = np.concatenate([k for _, k in self.log])
        order = np.argsort(docs, kind="stable")
        docs, packed = docs[order], packed[order]
        # compact types: a shard has fewer than 2**31 documents and registers (n * 2**16)
        return docs.astype(np.int32), (packed >> 8).astype(np.int32), (packed & 255).astype(np.int8)

    def _checkpoint(self) -> None:
        exact = [len(s) for s in self.exact] if self.exact is not None else None
        hip = None if self.hip is None else self.hip.copy()
        est = hll_estimates(self.regs)
        point = (self.tokens, self.documents, self.windows.copy(), est, exact, hip)
        self.points.append(point)
        if self.near is not None:
            est = hll_estimates(self.dedup_regs)
            kept = (self.kept_tokens, self.kept_documents, self.kept_windows.copy(), est)
            self.dedup_points.append(kept)

    def finish(self) -> list[CurveRow]:
        """Close the curve with the whole input and return its rows, by ``n`` then ``tokens``."""
        if self.points and self.points[-1][0] == self.tokens:
            self.points.pop()  # folded into the whole-input row
            if self.near is not None:
                self.dedup_points.pop()
        self._checkpoint()
        return curve_rows(self.config.ns, self.points)

    def dedup_rows(self) -> list[CurveRow]:
        """The growth curve of the kept documents (after :meth:`finish`), by ``n`` then tokens.

        Rows are taken at the same checkpoints as the raw curve; ``tokens`` and ``documents``
        count kept documents only.
        """
        return curve_rows(self.config.ns, [p + (None, None) for p in self.dedup_points])


def count_corpus(
    paths: list[str] | tuple[str, ...] | str,
    config: CountConfig | None = None,
    *,
    progress: Callable[[Progress], None] | None = None,
    threads: int | None = None,
    exclude: list[str] | tuple[str, ...] = (),
    on_event: Callable[[dict], None] | None = None,
) -> CountResult:
    """Count distinct n-token windows of a corpus in one streaming pass.

    Args:
        paths: directories (searched recursively), files or globs.
        config: counting options; defaults to :class:`CountConfig()`.
        progress: called with a :class:`Progress` after every chunk of documents.
        on_event: called with one dict per event, as by
            :func:`~seqcount.batch.count_batch`: ``start``, then ``shard_started`` and
            ``shard_finished`` per shard (with ``error`` when it was skipped as unreadable).
        threads: numba threads for the sketch updates (default: numba's setting). Results do
            not depend on it.
        exclude: directories not to read (the run's output directory).

    Returns:
        The growth curve, final sketches and totals.

    Raises:
        InputError: missing, unreadable or corrupt input, or no shards.
        SchemaError: missing column or a column of the wrong type.
        ConfigError: ``threads`` out of range.
    """
    import numba

    from .errors import ConfigError

    config = config or CountConfig()
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    paths = [os.fspath(p) for p in paths]
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    shards, ignored = discover(paths, config.format, exclude)

    old_threads = numba.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise ConfigError(f"--threads must be at least 1, got {threads}")
        # more threads than numba has (the cores) is capped, so scripts move between machines
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    if on_event is not None:
        on_event({"event": "start", "shards": len(shards), "jobs": 1, "engine": "local"})
    try:
        counter, stats, skipped = _run(shards, config, progress, t0, on_event=on_event)
        used_threads = numba.get_num_threads()
    finally:
        numba.set_num_threads(old_threads)

    rows = counter.finish()
    ns = config.ns
    final = {r.n: r for r in rows if r.tokens == counter.tokens}
    sigs = None
    if config.num_perm:
        shape = (0, len(ns), config.num_perm)
        sigs = np.stack(counter.shard_sigs) if counter.shard_sigs else np.zeros(shape, np.uint64)
    paths_ = [s.path for s in stats]
    sketches = sketch_set(config, counter.regs, sigs, paths_, counter.documents, counter.tokens)
    near_dup = _near_dup_result(counter, stats) if counter.near is not None else None
    return CountResult(
        config=config,
        paths=paths,
        shards=stats,
        ignored=ignored,
        rows=rows,
        sketches=sketches,
        documents=counter.documents,
        tokens=counter.tokens,
        empty_documents=counter.empty,
        null_documents=sum(s.null_documents for s in stats),
        invalid_utf8=sum(s.invalid_utf8 for s in stats),
        windows={n: int(counter.windows[j]) for j, n in enumerate(ns)},
        exact_bytes=sum(s.nbytes for s in counter.exact) if counter.exact else 0,
        elapsed=time.perf_counter() - t0,
        started=started,
        threads=used_threads,
        final=final,
        skipped=skipped,
        near_dup=near_dup,
    )


@dataclass
class NearDupResult:
    """What ``--near-dup`` found.

    Attributes:
        threshold, n, num_perm, bands, rows: the search's settings (LSH bands x rows).
        checked: documents looked up (those with at least ``n`` tokens).
        short: non-empty documents shorter than ``n`` tokens, not checked (and kept).
        duplicates: documents with a near-duplicate earlier in the corpus (dropped by a
            deduplication that keeps the first of each cluster).
        unindexed: documents checked but not indexed because of ``max_docs``.
        pairs: verified (document, earlier document) pairs.
        clusters: number of clusters of two or more indexed documents.
        largest: the largest clusters, each a list of ``{"path", "row"}``.
        cluster_sizes: the sizes of those clusters (members beyond the listed ones included).
        rows: the growth curve after dropping the duplicates.
        index_bytes: bytes of signatures and ids held for the search (datasketch's LSH on top).
    """

    threshold: float
    n: int
    num_perm: int
    bands: int
    rows_per_band: int
    checked: int
    short: int
    duplicates: int
    unindexed: int
    pairs: int
    clusters: int
    largest: list[list[dict]]
    cluster_sizes: list[int]
    rows: list[CurveRow]
    index_bytes: int

    @property
    def rate(self) -> float:
        """Share of checked documents that are near-duplicates of an earlier one."""
        return self.duplicates / self.checked if self.checked else 0.0

    def to_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "n": self.n,
            "num_perm": self.num_perm,
            "lsh_bands": self.bands,
            "lsh_rows": self.rows_per_band,
            "documents_checked": self.checked,
            "short_documents": self.short,
            "near_duplicate_documents": self.duplicates,
            "near_duplicate_rate": round(self.rate, 6),
            "unindexed_documents": self.unindexed,
            "verified_pairs": self.pairs,
            "clusters": self.clusters,
            "largest_clusters": [
                {"size": size, "documents": docs}
                for size, docs in zip(self.cluster_sizes, self.largest)
            ],
        }


def _near_dup_result(counter: _Counter, stats: list[ShardStats]) -> NearDupResult:
    near = counter.near
    clusters = near.clusters()
    largest = [
        [{"path": stats[d.shard].path, "row": d.row} for d in c[:MAX_LISTED_MEMBERS]]
        for c in clusters[:MAX_LISTED_CLUSTERS]
    ]
    return NearDupResult(
        threshold=near.threshold,
        n=counter.config.near_dup_n,
        num_perm=near.num_perm,
        bands=near.bands,
        rows_per_band=near.rows,
        checked=near.checked,
        short=counter.short,
        duplicates=near.duplicates,
        unindexed=near.unindexed,
        pairs=near.pairs,
        clusters=len(clusters),
        largest=largest,
        cluster_sizes=[len(c) for c in clusters[:MAX_LISTED_CLUSTERS]],
        rows=counter.dedup_rows(),
        index_bytes=near.nbytes,
    )


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
        self._list(path, row, message)

    def shard(self, path: str, message: str) -> None:
        self.shards += 1
        self._list(path, None, message)

    def _list(self, path: str, row: int | None, message: str) -> None:
        if len(self.items) < MAX_LISTED_SKIPS:
            self.items.append({"path": path, "row": row, "error": message})

    def to_dict(self) -> dict:
        return {"rows": self.rows, "shards": self.shards, "items": self.items}


def _num_rows(shard: Shard) -> int | None:
    """Rows of a shard from its metadata, for progress only (``None`` if unknown or unreadable:
    reading it properly reports the problem, or skips it under ``--on-error skip``)."""
    try:
        return reader_for(shard).num_rows(shard)
    except InputError:
        return None


def _tokenized(shard: Shard, request: ReadRequest, stream: StreamTokenizer):
    """The chunks of one shard, as ``(null documents, chunk or None)`` pairs."""
    for column in reader_for(shard).iter_batches(shard, request):
        yield column.nulls, None
        for chunk in stream.feed(column.values, column.offsets, column.open_tail):
            yield 0, chunk


_END = object()  # marks the end of a shard in the stream of :func:`_read_ahead`


def _read_ahead(
    shards: list[Shard], request: ReadRequest, tokenizer, params, config, skipped, pool=None
):
    """Read and tokenize every shard in turn: ``(i, nulls, chunk)`` items, where ``chunk`` is a
    :class:`TokenChunk` of shard ``i`` and ``nulls`` the null documents read since the last
    item, then ``(i, _END, (nulls, error))`` when shard ``i`` is done (``error`` is ``None`` or
    its :class:`InputError`). After an error the shard's open document is closed with what was read
    (under ``--on-error skip``, where the shard is listed in ``skipped`` here, in reading order
    with its bad rows) or the stream stops.

    It runs in :func:`prefetch`'s thread, so the next shard is read while the kernels count
    the last chunks of this one: no stall at shard boundaries.
    """
    for i, shard in enumerate(shards):
        stream = StreamTokenizer(tokenizer, params, config.chunk_bytes, pool)
        error = None
        nulls = 0
        try:
            for more, chunk in _tokenized(shard, request, stream):
                nulls += more
                if chunk is not None:
                    yield i, nulls, chunk
                    nulls = 0
            if stream.pending:
                raise InputError(f"{shard.path}: the last document is cut off (reader error)")
        except InputError as e:
            error = e
        if error is not None and config.on_error != "skip":
            yield i, _END, (nulls, error)
            return
        if error is not None:
            skipped.shard(shard.path, str(error))
            for chunk in stream.finish():
                yield i, 0, chunk
        yield i, _END, (nulls, error)


def shard_event(kind: str, i: int, shards: int, path: str, documents: int, tokens: int,
                seconds: float, error: str | None = None) -> dict:  # fmt: skip
    """A ``shard_finished`` or ``shard_reused`` event of shard ``i`` of ``shards``, with
    ``error`` if the shard was skipped as unreadable (``--on-error skip``)."""
    event = {
        "event": kind, "shard": i, "shards": shards, "path": path, "documents": documents,
        "tokens": tokens, "seconds": round(seconds, 3),
    }  # fmt: skip
    if error is not None:
        event["error"] = error
    return event


def _run(
    shards: list[Shard], config: CountConfig, progress, t0: float, counter=None, on_event=None
):
    counter = counter or _Counter(config)
    params = counter.params
    tokenizer = HFTokenizer(config.hf_path) if config.hf_path else config.tokenizer
    skipped = Skipped()
    request = ReadRequest(
        column=config.column,
        kind="ids" if config.tokenizer == "ids" else "text",
        batch_rows=config.batch_rows,
        block_bytes=config.chunk_bytes,
        txt_documents=config.txt_documents,
        bad_row=skipped.row if config.on_error == "skip" else None,
    )
    total_docs = None
    if progress is not None:
        counts = [_num_rows(s) for s in shards]
        total_docs = None if None in counts else sum(counts)
    stats = [ShardStats(s.path, s.format, s.size) for s in shards]
    pool = BufferPool(least=config.chunk_bytes)  # token arrays, back after each chunk
    items = _read_ahead(shards, request, tokenizer, params, config, skipped, pool)
    # depth 2: a shard's end marker does not hold the reader back from the next chunk
    emit = on_event or (lambda event: None)
    # a shard's seconds run from the end of the one before (its first read included)
    shard, started = -1, time.perf_counter()
    for i, nulls, item in prefetch(items, depth=2):
        st = stats[i]
        if i != shard:
            shard = i
            emit({"event": "shard_started", "shard": i, "shards": len(shards),
                  "path": st.path})  # fmt: skip
        if nulls is _END:
            nulls, error = item
            st.null_documents += nulls
            if error is not None:
                if config.on_error != "skip":
                    raise error
                st.error = str(error)
            counter.end_shard()
            seconds, started = time.perf_counter() - started, time.perf_counter()
            emit(shard_event("shard_finished", i, len(shards), st.path, st.documents, st.tokens,
                             seconds, st.error))  # fmt: skip
            continue
        st.null_documents += nulls
        counter.add(item)
        pool.give_back(item)
        st.documents += item.closed
        st.tokens += int(item.doc[-1])
        st.invalid_utf8 += item.invalid_utf8
        if progress is not None:
            elapsed = time.perf_counter() - t0
            progress(
                Progress(i, len(shards), counter.documents, counter.tokens, total_docs, elapsed)
            )
    return counter, stats, skipped


# --------------------------------------------------------------------------- outputs

CURVE_FILE = "curve.csv"
SUMMARY_FILE = "summary.json"
SKETCH_FILE = "sketches.npz"
DEDUP_CURVE_FILE = "curve_dedup.csv"
#: written by ``count --shard-similarity`` (:func:`seqcount.report.write_shard_similarity`)
SIMILARITY_CSV = "shard_similarity.csv"
SIMILARITY_PNG = "shard_similarity.png"


def _versions() -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("seqcount", "numpy", "numba", "pyarrow", "datasketch", "click"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def summary_dict(result: CountResult) -> dict:
    """The content of ``summary.json``.

    Everything except the ``run`` object (timing, threads, start time) is a function of the
    input and the options alone.
    """
    c = result.config
    near = result.near_dup
    dedup_final = {}
    if near is not None:
        last = max((r.tokens for r in near.rows), default=0)
        dedup_final = {r.n: r for r in near.rows if r.tokens == last}
    per_n = []
    for n in c.ns:
        row = result.final[n]
        item = {"n": n, "windows": result.windows[n], "unique": round(row.unique)}
        if row.unique_exact is not None:
            item["unique_exact"] = row.unique_exact
        if row.unique_hip is not None:
            item["unique_hip"] = round(row.unique_hip)
        if n in dedup_final:
            item["unique_dedup"] = round(dedup_final[n].unique)
        per_n.append(item)
    outputs = {"curve": CURVE_FILE, "summary": SUMMARY_FILE, "sketches": SKETCH_FILE}
    extra = {}
    if near is not None:
        outputs["curve_dedup"] = DEDUP_CURVE_FILE
        extra = {
            "near_duplicate_documents": near.duplicates,
            "near_dup": near.to_dict()
            | {
                "kept_documents": max((r.documents for r in near.rows), default=0),
                "kept_tokens": max((r.tokens for r in near.rows), default=0),
            },
        }
    return extra | {
        "seqcount": _versions()["seqcount"],
        "inputs": {
            "paths": result.paths,
            "shards": [s.to_dict() for s in result.shards],
            "ignored": result.ignored,
        },
        "options": c.to_dict(),
        "sketch_options": c.result_options(),
        "hash": HASH_DESCRIPTION,
        "standard_error": c.standard_error,
        "totals": {
            "shards": len(result.shards),
            "documents": result.documents,
            "tokens": result.tokens,
            "empty_documents": result.empty_documents,
            "null_documents": result.null_documents,
            "invalid_utf8": result.invalid_utf8,
            "skipped_rows": result.skipped.rows,
            "skipped_shards": result.skipped.shards,
            "per_n": per_n,
        },
        "skipped": result.skipped.to_dict(),
        "outputs": outputs,
        "versions": _versions(),
        "run": {
            "started": result.started,
            "elapsed_s": round(result.elapsed, 3),
            "tokens_per_s": round(result.tokens_per_s, 1),
            "threads": result.threads,
            "exact_bytes": result.exact_bytes,
        }
        | ({"near_dup_index_bytes": near.index_bytes} if near is not None else {})
        # in run, not inputs: merging in another order or grouping gives the same rest
        | ({"merged_from": result.merged_from} if result.merged_from is not None else {}),
    }


def check_output_dir(out: str | os.PathLike) -> None:
    """Check that ``out`` is a directory that takes files, or can be made one; create nothing
    (a run that fails leaves no empty directory behind).

    Raises:
        OutputError: it is a file or an empty path, or it cannot be created or written.
    """
    import tempfile

    out = os.fspath(out)
    if not out:
        raise OutputError("the output directory is an empty path")
    if os.path.exists(out) and not os.path.isdir(out):
        raise OutputError(f"{out}: exists and is not a directory")
    probe = os.path.abspath(out)  # the directory itself, else its nearest existing ancestor
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise OutputError(f"{out}: cannot write output ({probe} is not a directory)")
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as e:
        raise OutputError(f"{out}: cannot write output ({e.strerror or e})") from None


def check_counted(result: CountResult) -> None:
    """Refuse a result in which nothing was read because every shard was unreadable (under
    ``--on-error skip``): a dead mount must not pass for an empty corpus, nor replace the
    outputs of the last good run.

    Raises:
        InputError: every shard was skipped and no document was read.
    """
    n = len(result.shards)
    if n and result.skipped.shards == n and result.documents == 0:
        errors = [it["error"] for it in result.skipped.items if it["row"] is None]
        first = errors[0] if errors else "?"
        raise InputError(
            f"every shard ({n}) was unreadable, nothing was counted and no output was written; "
            f"the first: {first}"
        )


def write_outputs(result: CountResult, out: str | os.PathLike) -> dict[str, str]:
    """Write ``curve.csv``, ``summary.json`` and ``sketches.npz`` into ``out`` (created).

    Each file is written atomically (temporary file, then rename).

    Returns:
        The path of each file written, by kind.

    Raises:
        OutputError: the directory cannot be created or written.
    """
    out = os.fspath(out)
    paths = {
        "curve": os.path.join(out, CURVE_FILE),
        "summary": os.path.join(out, SUMMARY_FILE),
        "sketches": os.path.join(out, SKETCH_FILE),
    }
    if result.near_dup is not None:
        paths["curve_dedup"] = os.path.join(out, DEDUP_CURVE_FILE)
    summary = json.dumps(summary_dict(result), indent=2, sort_keys=False) + "\n"
    curve = curve_bytes(result.rows)
    try:
        if os.path.exists(out) and not os.path.isdir(out):
            raise OutputError(f"{out}: exists and is not a directory")
        os.makedirs(out, exist_ok=True)
        atomic_write(paths["curve"], lambda f: f.write(curve))
        if result.near_dup is not None:
            dedup = curve_bytes(result.near_dup.rows)
            atomic_write(paths["curve_dedup"], lambda f: f.write(dedup))
        # optional files of an earlier run into the same directory do not describe this one
        stale = [SIMILARITY_CSV, SIMILARITY_PNG]
        if result.near_dup is None:
            stale.append(DEDUP_CURVE_FILE)
        for name in stale:
            if os.path.exists(os.path.join(out, name)):
                os.unlink(os.path.join(out, name))
        result.sketches.save(paths["sketches"])
        atomic_write(paths["summary"], lambda f: f.write(summary.encode("utf-8")))
    except OSError as e:
        raise OutputError(f"{out}: cannot write output ({e.strerror or e})") from None
    return paths
