"""Exact overlap of small evaluation sets with a training corpus: which of each evaluation
document's n-token windows occur anywhere in the training corpus.

Two passes, both through the reading loop of ``count`` (:func:`~seqcount.engine.single.run_shards`,
every reader and tokenizer, documents cut across chunks included): the evaluation documents are
read into an :class:`EvalWindows` (the hash of every window, by document, in a
:class:`~seqcount.sketches.WindowTable` that numbers the distinct ones), then the training
corpus is streamed once and every one of its windows is looked up in the table
(:class:`TrainScanner`, a :class:`~seqcount.engine.counter.Counter` whose register update is
the lookup). With ``jobs`` above 1 the training shards are scanned in worker processes and
their hit flags ORed, which gives the same flags as one pass.

Definitions: a document's ``windows`` are its sliding n-token windows, counted with repeats (a
window that occurs twice in a document counts twice); ``hits`` are those of its windows whose
token sequence occurs in the training corpus (again with repeats). Windows never cross
documents, on either side.

False hits: a window is looked up by its 64-bit hash (``poly61-v1``). Two different windows get
the same hash with probability at most ``(n - 1) / (2**61 - 1)`` over the seed (at most
``1 / 2**64`` for a random 64-bit hash), so the expected number of false hits is below
``K * W * n / 2**61`` for ``K`` distinct evaluation windows and ``W`` training windows
(``K * W / 2**64`` if the hash behaved as a random function). ``verify`` removes them: every
window whose hash matches is compared token value by token value with the evaluation window.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from ..config import CountConfig
from ..errors import ConfigError, InputError
from ..hashing import Piece, window_hashes
from ..io import Inputs, Shard
from ..sketches import TABLE_BYTES_PER_KEY, WindowTable, same_windows, verify_windows
from ..tokenize import TokenChunk
from .counter import Counter
from .executors import Executor
from .results import ShardStats, Skipped
from .single import run_shards

#: Memory per evaluation window while the lookup table is built: its hash as read (8), the
#: hashes put together (8, kept by the table), its key number (4), and the table and its filter
#: (at most 52 per distinct hash), with room to spare.
BYTES_PER_WINDOW = 24 + TABLE_BYTES_PER_KEY
#: More per window with ``verify``: its token value, its first token's position, and the
#: reference window of its key.
VERIFY_BYTES_PER_WINDOW = 24
#: The default memory budget of the evaluation windows: 4 GiB.
DEFAULT_MAX_MEMORY = 4 << 30


def window_memory(windows: int, verify: bool) -> int:
    """Bytes the lookup of ``windows`` evaluation windows needs (at most)."""
    return windows * (BYTES_PER_WINDOW + (VERIFY_BYTES_PER_WINDOW if verify else 0))


def size_text(nbytes: float) -> str:
    """``nbytes`` in the largest binary unit that keeps it at 1 or more (``1.50 GiB``)."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(nbytes) >= scale:
            return f"{nbytes / scale:.2f} {unit}"
    return f"{int(nbytes)} bytes"


def chunk_tokens(carry: np.ndarray, chunk: TokenChunk) -> np.ndarray:
    """The token values a :class:`Counter` hashes for ``chunk`` (``carry``, its carried tokens
    before it, first when the chunk continues a document), in a new array."""
    values = chunk.values(np.empty(chunk.tokens.shape[0], dtype=np.uint64))
    return np.concatenate([carry, values]) if chunk.head_continues else values


class _OneSize(Counter):
    """A :class:`Counter` of one window size that takes no checkpoint and keeps the chunk being
    added (and the tokens carried before it) for its window hook."""

    def __init__(self, config: CountConfig):
        super().__init__(config)
        self.hipst = self.hip = None
        self.schedule.target = 1 << 62  # never reached: one update per chunk
        self.n = config.ns[0]
        self.chunk: TokenChunk | None = None
        self.carry_before = self.carry

    def add(self, chunk: TokenChunk) -> None:
        self.chunk, self.carry_before = chunk, self.carry
        super().add(chunk)
        self.chunk = None

    def tokens_now(self) -> np.ndarray:
        """The token values behind the prefix values of the chunk being added."""
        return chunk_tokens(self.carry_before, self.chunk)


class EvalCollector(_OneSize):
    """Reads evaluation documents: the hash of every window, in document order, the windows of
    each document, and (for ``verify``) every window's tokens.

    Raises:
        InputError: the windows would need more than ``max_memory`` bytes (said as they come).
    """

    def __init__(self, config: CountConfig, verify: bool, max_memory: int, label: str):
        super().__init__(config)
        self.verify, self.max_memory, self.label = verify, max_memory, label
        self.hashes: list[np.ndarray] = []
        self.starts: list[np.ndarray] = []  # first token of each window in all_tokens
        self.token_parts: list[np.ndarray] = []
        self.token_total = 0
        self.doc_ids: list[np.ndarray] = []
        self.doc_counts: list[np.ndarray] = []
        self.doc_shard: list[np.ndarray] = []
        self.doc_row: list[np.ndarray] = []
        self.window_total = 0
        self.longest = 0  # tokens of the longest document

    def _chunk_started(self, lengths: np.ndarray) -> None:
        self.doc_shard.append(np.full(lengths.shape[0], self.shard, dtype=np.int32))
        self.doc_row.append(self.row + np.arange(lengths.shape[0], dtype=np.int64))
        if lengths.shape[0]:
            self.longest = max(self.longest, int(lengths.max()))

    def _update_hll(self, piece: Piece, d0: int, d1: int) -> None:
        """No registers: :meth:`_update` keeps the windows."""

    def _update(self, piece: Piece, prior, lengths, d0: int, d1: int, keep=None) -> None:
        super()._update(piece, prior, lengths, d0, d1, keep)
        n = self.n
        h = window_hashes(piece, d0, d1, self.wins[0])
        now, then = lengths[d0:d1], prior[d0:d1]
        added = np.maximum(now - (n - 1), 0) - np.maximum(then - (n - 1), 0)
        self.doc_ids.append(self.documents + np.arange(d1 - d0, dtype=np.int64))
        self.doc_counts.append(added)
        self.hashes.append(h)
        self.window_total += h.shape[0]
        need = window_memory(self.window_total, self.verify)
        if need > self.max_memory:
            raise InputError(
                f"{self.label}: the evaluation windows need more than {size_text(need)} "
                f"({self.window_total:,} windows so far at "
                f"{window_memory(1, self.verify)} bytes each), above the memory budget "
                f"{size_text(self.max_memory)}; raise max_memory or split the evaluation set"
            )
        if self.verify:
            doc = piece.doc
            first = doc[d0:d1].copy()
            if piece.skip:
                first[0] += max(0, piece.skip - n + 1)
            counts = np.maximum(doc[d0 + 1 : d1 + 1] - n + 1 - first, 0)
            base = np.repeat(first - np.cumsum(counts) + counts, counts)
            self.starts.append(base + np.arange(base.shape[0]) + self.token_total)
            tokens = self.tokens_now()
            self.token_parts.append(tokens)
            self.token_total += tokens.shape[0]


@dataclass
class EvalWindows:
    """The windows of the evaluation documents, ready to be looked up.

    Attributes:
        n: the window size.
        table: the hash of every window, documents one after another, and the distinct ones
            (keys, numbered by first appearance).
        inverse: int32 key of every window (``table.inverse``).
        doc_windows: int64 windows per document.
        doc_file: int32 index into ``files`` of each document; doc_row: its row in that file.
        files: the evaluation shards' paths; file_eval: the ``evals`` entry each came from.
        evals: the evaluation inputs as given.
        valid: with ``verify``, uint8 per window: 0 for the (astronomically rare) window whose
            tokens differ from its key's reference window (a collision inside the evaluation
            set), never counted as a hit; else ``None``.
        ref: with ``verify``, ``(tokens, start)``: the reference window of each key.
        stats: per evaluation shard, what was read.
    """

    n: int
    table: WindowTable
    inverse: np.ndarray
    doc_windows: np.ndarray
    doc_file: np.ndarray
    doc_row: np.ndarray
    files: list[str]
    file_eval: list[int]
    evals: list[str]
    valid: np.ndarray | None = None
    ref: tuple[np.ndarray, np.ndarray] | None = None
    stats: list[ShardStats] = field(default_factory=list)

    @property
    def collisions(self) -> int:
        """Windows whose hash another, different window of the evaluation set has."""
        return 0 if self.valid is None else int(self.valid.shape[0] - self.valid.sum())

    @property
    def nbytes(self) -> int:
        extra = 0 if self.ref is None else self.ref[0].nbytes + self.ref[1].nbytes
        return self.table.nbytes + extra  # the table holds inverse


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


def collect_eval(evals: list[tuple[str, Inputs]], config: CountConfig, *, verify: bool = False,
                 max_memory: int = DEFAULT_MAX_MEMORY) -> EvalWindows:  # fmt: skip
    """Read every evaluation input (``(name, inputs)`` pairs) and build its lookup table.

    Raises:
        InputError: an input has no shards or no documents, no document has ``n`` tokens, or
            the windows would not fit in ``max_memory``.
    """
    config = dataclasses.replace(config, on_error="fail")  # an evaluation set is read whole
    hashes, starts, tokens, counts, doc_file, doc_row = [], [], [], [], [], []
    files, file_eval, stats, longest, total, token_base = [], [], [], 0, 0, 0
    for e, (name, inputs) in enumerate(evals):
        budget = max_memory - window_memory(total, verify)
        c = EvalCollector(config, verify, budget, name)
        _, st, _ = run_shards(inputs.shards, config, None, time.perf_counter(), counter=c)
        if c.documents == 0:
            raise InputError(f"{name}: no documents to look for (an empty evaluation set)")
        per_doc = np.zeros(c.documents, dtype=np.int64)
        np.add.at(per_doc, _cat(c.doc_ids, np.int64), _cat(c.doc_counts, np.int64))
        hashes.append(_cat(c.hashes, np.uint64))
        starts.append(_cat(c.starts, np.int64) + token_base)
        tokens.append(_cat(c.token_parts, np.uint64))
        token_base += c.token_total
        counts.append(per_doc)
        doc_file.append(_cat(c.doc_shard, np.int32) + len(files))
        doc_row.append(_cat(c.doc_row, np.int64))
        files += [s.path for s in inputs.shards]
        file_eval += [e] * len(inputs.shards)
        stats += st
        longest = max(longest, c.longest)
        total += c.window_total
    if total == 0:
        raise InputError(
            f"no evaluation document has n = {config.ns[0]} tokens or more (the longest has "
            f"{longest}): no windows to look for; give a smaller n"
        )
    table = WindowTable(np.concatenate(hashes))
    del hashes
    inverse = table.inverse
    out = EvalWindows(
        config.ns[0], table, inverse, np.concatenate(counts), np.concatenate(doc_file),
        np.concatenate(doc_row), files, file_eval, [name for name, _ in evals], stats=stats,
    )  # fmt: skip
    if verify:
        all_tokens, all_starts = np.concatenate(tokens), np.concatenate(starts)
        ref_start = all_starts[table.first()]
        out.valid = same_windows(all_tokens, all_starts, ref_start[inverse], out.n)
        out.ref = (all_tokens, ref_start)
    return out


class TrainScanner(_OneSize):
    """Streams training documents and flags every evaluation key one of their windows has.

    With ``ref`` (verify) a window flags its key only when its token values equal those of the
    key's reference window; ``collisions`` counts those that did not.
    """

    def __init__(self, config: CountConfig, table: WindowTable, ref=None):
        super().__init__(config)
        self.table, self.ref = table, ref
        self.hit = np.zeros(len(table), dtype=np.uint8)  # per key (verify)
        # without verify: per position of the table's stream (see WindowTable.probe)
        self.hit_at = None if ref is not None else np.zeros(table.stream.shape[0], np.uint8)
        self.collisions = 0

    def key_hits(self) -> np.ndarray:
        """uint8 flags per evaluation key: found in the windows scanned so far."""
        return self.hit if self.hit_at is None else self.table.key_hits(self.hit_at)

    def _update_hll(self, piece: Piece, d0: int, d1: int) -> None:
        """The window lookup instead of the register update."""
        if self.ref is None:
            self.table.probe(piece, d0, d1, self.wins[0], self.hit_at)
            return
        pos, key = self.table.candidates(piece, d0, d1, self.wins[0], self.hit)
        if pos.shape[0]:
            tokens = self.tokens_now()
            self.collisions += verify_windows(tokens, pos, key, self.n, self.ref, self.hit)


@dataclass
class TrainScan:
    """What the training scan found: a flag per evaluation key, and what it read."""

    hit: np.ndarray
    stats: list[ShardStats]
    skipped: Skipped
    documents: int = 0
    tokens: int = 0
    windows: int = 0
    collisions: int = 0  # hash matches refused by verify


@functools.lru_cache(maxsize=1)
def _load_lookup(path: str):
    with np.load(path) as z:
        table = WindowTable.from_arrays(z)
        ref = (z["ref_tokens"], z["ref_start"]) if "ref_tokens" in z.files else None
    return table, ref


def scan_shard(lookup: str, shard: Shard, config: CountConfig, threads=None) -> dict:
    """Scan one training shard against the lookup file ``lookup`` (runs in workers)."""
    table, ref = _load_lookup(lookup)
    scanner = TrainScanner(config, table, ref)
    _, stats, skipped = run_shards([shard], config, None, time.perf_counter(), counter=scanner)
    return {"hit": np.flatnonzero(scanner.key_hits()), "stats": stats[0], "skipped": skipped,
            "documents": scanner.documents, "tokens": scanner.tokens,
            "windows": int(scanner.windows[0]), "collisions": scanner.collisions}  # fmt: skip


def scan_train(inputs: Inputs, config: CountConfig, ev: EvalWindows, *, jobs: int = 1,
               threads: int | None = None, progress=None, on_event=None) -> TrainScan:  # fmt: skip
    """Stream the training shards once and flag the evaluation keys that occur in them.

    Raises:
        InputError, SchemaError: unreadable training input (``on_error="fail"``).
        WorkerError: a worker process died.
    """
    if jobs < 1:
        raise ConfigError(f"jobs must be at least 1, got {jobs}", "jobs")
    if jobs == 1:
        scanner = TrainScanner(config, ev.table, ev.ref)
        t0 = time.perf_counter()
        _, stats, skipped = run_shards(inputs.shards, config, progress, t0, counter=scanner,
                                       on_event=on_event)  # fmt: skip
        return TrainScan(scanner.key_hits(), stats, skipped, scanner.documents, scanner.tokens,
                         int(scanner.windows[0]), scanner.collisions)  # fmt: skip
    scratch = tempfile.mkdtemp(prefix="seqcount-contamination-")
    executor = None
    try:
        path = os.path.join(scratch, "lookup.npz")
        arrays = ev.table.to_arrays()
        if ev.ref is not None:
            arrays |= {"ref_tokens": ev.ref[0], "ref_start": ev.ref[1]}
        np.savez(path, **arrays)
        executor = Executor(jobs, threads=threads)
        return _scan_in_workers(inputs.shards, config, executor, path, len(ev.table), on_event)
    finally:
        if executor is not None:
            executor.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _scan_in_workers(shards, config, executor, path, keys, on_event) -> TrainScan:
    """Scan every shard in a worker, at most ``executor.in_flight`` ahead, ORing the flags."""
    emit = on_event or (lambda event: None)
    fn = functools.partial(scan_shard, path)
    out = TrainScan(np.zeros(keys, dtype=np.uint8), [], Skipped())
    futures, nxt = {}, 0
    for i, shard in enumerate(shards):
        while nxt < len(shards) and nxt <= i + executor.in_flight:
            emit({"event": "shard_started", "shard": nxt, "shards": len(shards),
                  "path": shards[nxt].path})  # fmt: skip
            futures[nxt] = executor.submit(fn, shards[nxt], config)
            nxt += 1
        r = executor.result(futures.pop(i), shard)
        out.hit[r["hit"]] = 1
        out.stats.append(r["stats"])
        s = r["skipped"]
        out.skipped.rows += s.rows
        out.skipped.shards += s.shards
        for item in s.items:
            out.skipped.list(item["path"], item["row"], item["error"])
        out.documents += r["documents"]
        out.tokens += r["tokens"]
        out.windows += r["windows"]
        out.collisions += r["collisions"]
        emit({"event": "shard_finished", "shard": i, "shards": len(shards), "path": shard.path,
              "documents": r["documents"], "tokens": r["tokens"]})  # fmt: skip
    return out
