"""The running state of one pass: registers, signatures, exact sets, totals, checkpoints."""

from __future__ import annotations

import numpy as np

from .. import hashing
from ..config import CountConfig
from ..hashing import (
    MINHASH_EMPTY,
    Piece,
    WindowParams,
    hash_params,
    hip_state,
    minhash_cache,
    prefix_into,
)
from ..sketches import (
    BlockBuilder,
    BlockRun,
    ExactSet,
    ThetaSketch,
    ThetaTables,
    hll_estimates,
    minhash_permutations,
    unbias,
)
from ..tokenize import TokenChunk
from .neardup import NearDupIndex
from .results import CurveRow, curve_rows
from .schedule import Schedule


class Counter:
    """Running state of one pass: registers, exact sets, totals, checkpoints."""

    #: Keep the whole pass's theta sketches beside each shard's (:meth:`whole_thetas`). Each
    #: shard's are then of ``shard_k`` values: a sketch starts exact and takes most windows
    #: until it is full, so small ones per shard and one large one per pass cost far less than
    #: large ones per shard. A pass whose shards' results are kept to be combined later
    #: (``ShardRecorder``) keeps each shard's at ``theta_k`` instead, which the whole input's
    #: and the small ones are then made from: the same sketches either way.
    WHOLE_THETA = True

    def __init__(self, config: CountConfig):
        self.config = config
        self.params = hash_params(config.seed)
        self.win = WindowParams.of(self.params, config.ns, config.precision, config.stride)
        self.wins = [self.win.one(j) for j in range(len(config.ns))]  # one per size
        self.regs = np.zeros((len(config.ns), 1 << config.precision), dtype=np.int8)
        # the running HIP estimate of every window size
        self.hipst = hip_state(self.regs, config.precision)
        self.hip = np.zeros(len(config.ns), dtype=np.float64)
        self.exact = [ExactSet() for _ in config.ns] if config.exact else None
        self.schedule = Schedule(config.checkpoints_per_decade)
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
        self.k = config.minhash_perm
        if self.k:
            import numba

            # one run of documents per thread (see kernels.minhash_update_windows); the
            # signatures, the minimum over the runs, do not depend on it
            self.parts = numba.get_num_threads()
            self.perm = minhash_permutations(self.k, config.seed)
            shape = (self.parts, len(config.ns), self.k)
            self.sigs = np.full(shape, MINHASH_EMPTY, dtype=np.int64)
            self.cache = minhash_cache(self.parts, len(config.ns))
            self.shard_sigs: list[np.ndarray] = []
        # theta sketches per window size: set 0 the current shard's (of shard_k values; of
        # theta_k without a whole set, see WHOLE_THETA), set 1 the whole pass's (theta_k);
        # then every finished shard's
        self.thetas = None
        if config.theta:
            ks = (config.shard_k, config.theta_k) if self.WHOLE_THETA else config.theta_k
            self.thetas = ThetaTables(len(config.ns), ks, config.seed)
        self.shard_thetas: list[list[ThetaSketch]] = []
        self.shard = 0  # index of the shard being read
        self.row = 0  # closed documents of this shard so far
        # block sketches: the current shard's blocks, and the run's (see sketches.blocks)
        self.blocks = self.block_run = None
        if config.blocks:
            self.blocks = BlockBuilder(config.ns, config.block_precision)
            self.block_run = BlockRun(config.ns, config.block_precision)
        self.near = None
        if config.near_dup is not None:
            self._init_near_dup()

    def _init_near_dup(self) -> None:
        c = self.config
        # per-document MinHash of num_perm permutations, whatever the overlap sketch
        self.nd_k = c.num_perm
        self.nd_perm = minhash_permutations(self.nd_k, c.seed)
        self.near = NearDupIndex(c.near_dup, self.nd_k, c.seed, c.near_dup_max_docs)
        self.nd_win = WindowParams.of(self.params, (c.near_dup_n,), c.precision, False)
        shape = self.regs.shape
        self.dedup_regs = np.zeros(shape, dtype=np.int8)  # kept documents
        self.open_regs = np.zeros(shape, dtype=np.int8)  # the unfinished document, undecided
        self.open_sig = np.full(self.nd_k, MINHASH_EMPTY, dtype=np.int64)
        self.short = 0  # documents shorter than near_dup_n tokens (not checked, kept)
        self.kept_tokens = 0
        self.kept_documents = 0
        self.kept_windows = np.zeros(len(c.ns), dtype=np.int64)
        self.dedup_points: list[tuple[int, int, np.ndarray, np.ndarray]] = []

    def end_shard(self) -> None:
        """Close the current shard's overlap and block sketches and start the next shard's."""
        if self.blocks is not None:
            self.block_run.add(self.blocks.finish(self.shard, packed=True))
        if self.thetas is not None:
            self.shard_thetas.append(self.thetas.sketches())
            self.thetas.reset()
        if self.k:
            self.shard_sigs.append(unbias(self.sigs.min(axis=0)))
            self.sigs.fill(MINHASH_EMPTY)
            self.cache = minhash_cache(self.parts, len(self.config.ns))
        self.shard += 1
        self.row = 0

    def whole_thetas(self) -> list[ThetaSketch] | None:
        """The whole pass's theta sketch per window size (``None`` without them)."""
        if self.thetas is None or not self.WHOLE_THETA:
            return None
        return self.thetas.sketches(1)

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
        prefix = prefix_into(
            tokens, np.uint64(self.params.base), self._buffer("prefix_buf", tokens.shape[0] + 1)
        )
        self._chunk_started(lengths[:closed])
        keep = None
        if self.near is not None:
            keep = self._near_dup(chunk, Piece(prefix, doc, skip, before), lengths)
        base = self.tokens
        if self.blocks is not None:  # for the block ends (see _update_hll)
            self._ends = new_ends, closed
            self._bdoc = np.zeros(ndocs, dtype=np.int64)
        d0 = 0
        while d0 < ndocs:
            d = int(np.searchsorted(new_ends[:closed], self.schedule.target - base, side="left"))
            d1 = max(min(d + 1, ndocs), d0 + 1)
            # the carried tokens and their document position belong to document 0 only
            piece = Piece(prefix, doc, skip, before) if d0 == 0 else Piece(prefix, doc)
            self._update(piece, prior, lengths, d0, d1, keep)
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

    def _chunk_started(self, lengths: np.ndarray) -> None:
        """Hook: a chunk whose closed documents have ``lengths`` tokens is about to be added."""

    def _near_dup(self, chunk: TokenChunk, piece: Piece, lengths: np.ndarray) -> np.ndarray:
        """Decide which documents of the chunk a deduplication pass keeps; return the flags.

        The unfinished last document (``tail_open``) is flagged 0: its windows go into
        ``open_regs`` until it ends and is decided. A document that began in earlier chunks and
        ends here brings its ``open_regs`` along if it is kept.
        """
        ndocs, closed = chunk.documents, chunk.closed
        sigs = np.full((ndocs, self.nd_k), MINHASH_EMPTY, dtype=np.int64)
        if chunk.head_continues:
            sigs[0] = self.open_sig
        n = self.config.near_dup_n
        hashing.doc_minhash(piece, 0, ndocs, self.nd_win, self.nd_perm, sigs)
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
            if last:  # the carried-over tokens belong to the first document only
                piece = Piece(piece.prefix, piece.doc)
            hashing.hll_update_windows(piece, last, ndocs, self.win, self.open_regs)
        return keep

    def _update(self, piece: Piece, prior, lengths, d0: int, d1: int, keep=None) -> None:
        """Count the windows of documents ``d0 .. d1-1`` into every sketch and total."""
        stride = self.config.stride
        self._update_hll(piece, d0, d1)
        if self.k:
            hashing.minhash_update_windows(
                piece, d0, d1, self.win, self.perm, self.sigs, self.cache
            )
        if keep is not None:
            hashing.hll_update_windows(piece, d0, d1, self.win, self.dedup_regs, keep=keep)
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
            for j in range(len(self.config.ns)):
                self.exact[j].update_batch(hashing.window_hashes(piece, d0, d1, self.wins[j]))

    def _update_hll(self, piece: Piece, d0: int, d1: int) -> None:
        """The HyperLogLog update of :meth:`_update`, with the block and theta sketches."""
        blocks = self.blocks
        if blocks is None:
            self._hll_call(piece, d0, d1)
            return
        ends, closed = self._ends  # new tokens of the chunk after each document
        a = d0
        while a < d1:  # one call unless a shard's blocks take their last slot in between
            b = blocks.assign(ends, closed, a, d1, self._bdoc)
            piece_a = piece if a == d0 else Piece(piece.prefix, piece.doc)
            self._hll_call(piece_a, a, b, (blocks.regs, self._bdoc))
            blocks.settle()
            a = b

    def _hll_call(self, piece: Piece, d0: int, d1: int, blocks=None) -> None:
        """One HyperLogLog kernel call, carrying the HIP estimates along (``blocks``: the
        block registers and the block of each document, or ``None``)."""
        blk, bdoc = blocks or (None, None)
        hip = (self.hipst, self.hip)
        theta = self._theta_args()
        hashing.hll_update_windows(
            piece, d0, d1, self.win, self.regs, hip=hip, blk=blk, bdoc=bdoc, theta=theta
        )

    def _theta_args(self):
        """The theta sketches the HyperLogLog kernel feeds from the same hashes, or ``None``."""
        return None if self.thetas is None else self.thetas.kernel_args()

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


class ShardRecorder(Counter):
    """A :class:`Counter` of one shard for a later ordered merge (``engine.sharded``).

    It takes no checkpoints and keeps no HIP estimates (a shard counted on its own gets them
    when the shards are put together in order); it keeps each closed document's length and a
    log of every register growth, by document. Its theta sketches are the shard's at
    ``theta_k`` (see :attr:`Counter.WHOLE_THETA`).
    """

    WHOLE_THETA = False

    def __init__(self, config: CountConfig):
        super().__init__(config)
        self.hipst = None
        self.hip = None
        self.schedule.target = 1 << 62  # never reached
        self.lengths: list[np.ndarray] = []
        self.log: list[tuple[np.ndarray, np.ndarray]] = []
        self.doc_base = 0  # the shard's number of the current chunk's first document

    def _chunk_started(self, lengths: np.ndarray) -> None:
        self.lengths.append(lengths.copy())
        self.doc_base = self.documents

    def _hll_call(self, piece: Piece, d0: int, d1: int, blocks=None) -> None:
        """One HyperLogLog kernel call, logging every register that grows."""
        blk, bdoc = blocks or (None, None)
        log_doc, log_key, counts = hashing.hll_log_windows(
            piece, d0, d1, self.win, self.regs, self.doc_base, blk, bdoc, self._theta_args()
        )
        m = np.int64(self.regs.shape[1])
        for j in range(len(self.win)):
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
