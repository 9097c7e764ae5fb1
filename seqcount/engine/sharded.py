"""Counting shard by shard: resumable, incremental, in parallel processes or on a Dask cluster.

Every shard is counted on its own (:func:`count_shard`, possibly in another process or on
another machine) into a :class:`ShardResult`: its final HyperLogLog registers and MinHash
signatures, the length of each of its documents, and a log of every register that grew, with
the document it grew in. The coordinator then walks the shards in path order: it knows each
shard's token offset from the lengths before it, so it knows which documents of the shard end at
the growth curve's checkpoints, and it rebuilds the registers there as the running union of the
shards before plus the shard's log up to that document. The curve is therefore the one a single
sequential pass gives, bit for bit, whatever the number of processes, and a shard counted once
never has to be counted again while it is unchanged.

With a state directory (:mod:`seqcount.engine.state`) each shard's result is kept on disk as
soon as it is counted, keyed by a fingerprint of the shard and the options, so a job that is
stopped or killed resumes where it was and a nightly job over a growing corpus counts only the
new shards.
The same replay carries the running HIP estimates (``unique_hip``) through every shard, so they
too equal a single pass's.

The log is large (a few bytes per register growth, about 10 MB per shard of 1M tokens and 7
window sizes) and is only needed where a checkpoint falls; it is kept for those shards only. The
others keep their ``hip_after`` (the HIP estimates after them), which is valid while the shards
before them stay the same (``prefix``, a digest of their keys). If shards before a shard change
later, checkpoints move and HIP estimates change, and a shard that then needs a log it does not
have is counted again, with a message. Appending shards never needs that.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..config import CountConfig
from ..errors import ConfigError
from ..hashing import hip_replay, hip_state
from ..io import Inputs, Shard, token_config
from ..sketches import BlockRun, hll_estimates, pack_thetas
from .counter import ShardRecorder
from .executors import Event, Executor
from .results import CountResult, ShardResult, ShardStats, Skipped, build_result, curve_rows
from .schedule import Schedule
from .single import run_shards, shard_event
from .state import StateDir

#: Text or token ids handed to the kernels at a time while logging (bounds the log buffer; a
#: long ``hf:PATH`` document still comes in pieces of ``tokenize.MODEL_PIECE_BYTES``).
RECORD_CHUNK = 1 << 20


def check_batch_config(config: CountConfig) -> None:
    """Options a shard-by-shard count cannot honour.

    Raises:
        ConfigError: ``exact`` or ``near_dup`` (both need the documents in one pass).
    """
    if config.exact:
        raise ConfigError(
            "exact needs one sequential pass: not with state, jobs or engine dask", "exact"
        )
    if config.near_dup is not None:
        raise ConfigError(
            "near_dup compares every document with all before it in one pass: "
            "not with state, jobs or engine dask",
            "near_dup",
        )


def count_shard(shard: Shard, config: CountConfig, threads: int | None = None) -> ShardResult:
    """Count one shard on its own, logging register growth (runs in workers).

    Raises:
        InputError, SchemaError: as :func:`~seqcount.engine.single.count_corpus` (with
            ``on_error="fail"``; with ``"skip"`` a bad shard gives an empty result).
    """
    import numba

    t0 = time.perf_counter()
    config = token_config(config, [shard])
    config = dataclasses.replace(config, chunk_bytes=min(config.chunk_bytes, RECORD_CHUNK))
    old = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    try:
        counter = ShardRecorder(config)
        counter, stats, skipped = run_shards([shard], config, None, t0, counter=counter)
    finally:
        numba.set_num_threads(old)
    log_doc, log_reg, log_rank = counter.take_log()
    lengths = np.concatenate(counter.lengths) if counter.lengths else np.zeros(0, np.int64)
    st = os.stat(shard.path)
    packed = pack_thetas(counter.shard_thetas[0]) if config.theta else (None, None, None)
    blocks = counter.block_run.result() if config.blocks else None
    return ShardResult(
        path=shard.path,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        format=shard.format,
        stats=stats[0].to_dict(),
        skipped_rows=skipped.rows,
        skipped_items=list(skipped.items),
        regs=counter.regs,
        sigs=counter.shard_sigs[0] if counter.k else None,
        lengths=lengths.astype(np.int64),
        windows=counter.windows.copy(),
        empty=counter.empty,
        null=stats[0].null_documents,
        invalid_utf8=stats[0].invalid_utf8,
        log_doc=log_doc,
        log_reg=log_reg,
        log_rank=log_rank,
        seconds=time.perf_counter() - t0,
        theta_entries=packed[0],
        theta_offsets=packed[1],
        theta64=packed[2],
        block_tokens=None if blocks is None else blocks.tokens,
        block_documents=None if blocks is None else blocks.documents,
        block_regs=None if blocks is None else blocks.regs,
    )


@dataclass
class Assembled:
    """The whole input, put together from shard results in order."""

    # (tokens, documents, windows, estimates, None, HIP estimates) per checkpoint
    points: list = field(default_factory=list)
    regs: np.ndarray | None = None
    sigs: np.ndarray | None = None  # (shards, len(ns), K)
    thetas: list = field(default_factory=list)  # per shard, one theta sketch per n
    tokens: int = 0
    documents: int = 0
    windows: np.ndarray | None = None
    empty: int = 0
    blocks: object | None = None  # BlockSketches, or None without them


class Assembler:
    """Puts shard results together in path order, one at a time, into :class:`Assembled`.

    A shard with a log is replayed against the running registers: that rebuilds the registers
    at every checkpoint inside it and carries the running HIP estimates through it exactly as a
    single pass would. A shard without a log can only be added whole, and only with its
    ``hip_after`` from an earlier run in which the same shards came before it.
    """

    def __init__(self, config: CountConfig):
        self.config = config
        nn = len(config.ns)
        self.ns = np.asarray(config.ns, dtype=np.int64)
        self.m = 1 << config.precision
        self.out = Assembled(
            windows=np.zeros(nn, dtype=np.int64),
            regs=np.zeros((nn, self.m), dtype=np.int8),
        )
        self.hipst = hip_state(self.out.regs, config.precision)
        self.hip = np.zeros(nn, dtype=np.float64)
        self.schedule = Schedule(config.checkpoints_per_decade)
        self.sigs: list[np.ndarray] = []
        self.shards = 0  # shards added
        self.block_run = None
        if config.blocks:
            self.block_run = BlockRun(config.ns, config.block_precision)

    def holds_checkpoint(self, r: ShardResult) -> bool:
        """Whether a checkpoint falls inside ``r`` (the next shard to be added)."""
        return _holds_checkpoint(r, self.schedule, self.out.tokens)

    def add(self, r: ShardResult) -> None:
        """Add the next shard; sets its ``hip_after``.

        Raises:
            ValueError: ``r`` has no log but holds a checkpoint or has no ``hip_after`` (the
                caller counts it again).
        """
        out, regs, config = self.out, self.out.regs, self.config
        p = config.precision
        lens = r.lengths
        if not r.has_log:
            if self.holds_checkpoint(r) or r.hip_after is None:
                raise ValueError(f"{r.path}: needs its log, which was dropped")
            np.maximum(regs, r.regs, out=regs)
            self.hipst = hip_state(regs, p)
            self.hip = r.hip_after.copy()
        else:
            done = 0
            if self.holds_checkpoint(r):
                ns = self.ns
                cum = out.tokens + np.cumsum(lens)
                per_doc = lens[:, None] // ns[None, :] if config.stride else np.maximum(
                    lens[:, None] - (ns[None, :] - 1), 0
                )  # fmt: skip
                cum_windows = np.cumsum(per_doc, axis=0)
                while self.schedule.target <= int(cum[-1]):
                    d = int(np.searchsorted(cum, self.schedule.target, side="left"))
                    k = int(np.searchsorted(r.log_doc, d, side="right"))
                    hip_replay(regs, p, self.hipst, self.hip, r.log_reg, r.log_rank, done, k)
                    done = k
                    tokens = int(cum[d])
                    windows = out.windows + cum_windows[d]
                    est = hll_estimates(regs)
                    point = (tokens, out.documents + d + 1, windows, est, None, self.hip.copy())
                    out.points.append(point)
                    self.schedule.advance_past(tokens)
            stop = r.log_reg.shape[0]
            hip_replay(regs, p, self.hipst, self.hip, r.log_reg, r.log_rank, done, stop)
            r.hip_after = self.hip.copy()
        out.tokens += int(lens.sum())
        out.documents += int(lens.shape[0])
        out.windows = out.windows + r.windows
        out.empty += r.empty
        if config.minhash_perm:
            self.sigs.append(r.sigs)
        if config.theta:
            out.thetas.append(r.thetas(config))
        if self.block_run is not None:
            blocks = r.blocks(config, self.shards)
            if blocks is None:
                raise ValueError(f"{r.path}: a result without block sketches")
            self.block_run.add(blocks)
        self.shards += 1

    def finish(self) -> Assembled:
        """Close the curve with the whole-input row."""
        out, config = self.out, self.config
        if out.points and out.points[-1][0] == out.tokens:
            out.points.pop()  # folded into the whole-input row
        est = hll_estimates(out.regs)
        out.points.append((out.tokens, out.documents, out.windows.copy(), est, None, self.hip))
        if self.block_run is not None:
            out.blocks = self.block_run.result()
        if config.minhash_perm:
            nn = len(config.ns)
            out.sigs = (
                np.stack(self.sigs)
                if self.sigs
                else np.zeros((0, nn, config.minhash_perm), dtype=np.uint64)
            )
        return out


def assemble(results: list[ShardResult], config: CountConfig) -> Assembled:
    """Walk the shard results in order and rebuild the checkpoints of one sequential pass.

    Raises:
        ValueError: a shard needs its log and has none (see :meth:`Assembler.add`).
    """
    asm = Assembler(config)
    for r in results:
        asm.add(r)
    return asm.finish()


def count_sharded(
    inputs: Inputs,
    config: CountConfig,
    *,
    state=None,
    jobs: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    threads: int | None = None,
    content_hash: bool = False,
    repair: bool = False,
    on_event: Event | None = None,
) -> CountResult:
    """Count discovered shards one by one, then put them together in order.

    Gives the same curve, sketches and totals as :func:`~seqcount.engine.single.count_corpus`.

    Args:
        inputs: the shards (:func:`seqcount.io.discover`; leave the state directory out).
        state: a state directory (see :mod:`seqcount.engine.state`), or ``None``.
        jobs: worker processes (or Dask workers of a local cluster).
        engine: ``local`` or ``dask``; ``scheduler``: address of a running Dask scheduler.
        threads: numba threads per worker [default: cores // jobs].
        content_hash, repair: see :class:`~seqcount.engine.state.StateDir`.
        on_event: called with one dict per event (``event`` = ``start``, ``message``,
            ``shard_started``, ``shard_finished``, ``shard_reused``).

    Raises:
        InputError, SchemaError, ConfigError, StateError: see the modules raising them.
        WorkerError: a worker process died while counting a shard.
    """
    check_batch_config(config)
    config = token_config(config, inputs.shards)
    shards = inputs.shards
    emit = on_event or (lambda e: None)
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    store = StateDir(state, config, content_hash, repair) if state is not None else None
    engine_ = None
    try:
        if store is not None:
            store.open()
        engine_ = Executor(jobs, scheduler, engine, threads, shards)
        emit({"event": "start", "shards": len(shards), "jobs": engine_.jobs,
              "engine": "dask" if engine_.kind == "dask" else "local"})  # fmt: skip
        results, keys, whole = _count_in_order(shards, config, store, engine_, emit)
        if store is not None:
            _flush_messages(store, emit)
            store.finish(list(zip([os.path.abspath(s.path) for s in shards], keys)))
    finally:
        if engine_ is not None:
            engine_.close()
        if store is not None:
            store.close()
    return _result(results, whole, inputs, config, started=started,
                   elapsed=time.perf_counter() - t0, threads=engine_.threads)  # fmt: skip


def _flush_messages(store, emit) -> None:
    for m in store.messages:
        emit({"event": "message", "message": m})
    store.messages.clear()


def _count_in_order(shards, config, store, engine, emit):
    """Count (or reuse) every shard, keeping at most ``engine.in_flight`` ahead of the merge,
    and put them together in order; a shard's log is kept only if a checkpoint falls in it.

    Stored results are read when their turn comes, and only what the summary needs is kept of
    a shard once it is added, so memory does not grow with the number of shards (beyond its
    MinHash signatures).

    Returns the shard results (without registers, lengths or log), their state keys and the
    :class:`Assembled` whole.
    """
    keys = [store.key(s) if store is not None else None for s in shards]
    have = [store is not None and store.has(k) for k in keys]
    if store is not None:
        known = {}
        for s, k in zip(shards, keys):
            known[os.path.abspath(s.path)] = k
            old = store.previous.get(os.path.abspath(s.path))
            if old is not None and old != k:
                store.messages.append(f"{s.path}: changed since the last run; counting it again")
        for p in store.previous:
            if p not in known:
                store.messages.append(f"{p}: removed since the last run; left out")
        _flush_messages(store, emit)  # before counting, so a log reads in order
    futures: dict[int, object] = {}
    nxt = 0

    def submit(i: int) -> None:
        emit({"event": "shard_started", "shard": i, "shards": len(shards),
              "path": shards[i].path})  # fmt: skip
        futures[i] = engine.submit(count_shard, shards[i], config)

    def top_up(upto: int) -> None:
        nonlocal nxt
        while nxt < len(shards) and len(futures) < engine.in_flight and nxt <= upto:
            if not have[nxt]:
                submit(nxt)
            nxt += 1

    asm = Assembler(config)
    prefix = ""  # digest of the keys of the shards so far
    results = []
    for i, shard in enumerate(shards):
        top_up(i + engine.in_flight)
        r = None
        if have[i]:
            r = store.load(keys[i])  # None if it was corrupt and --repair is on
            _flush_messages(store, emit)
            why = None
            if r is None:
                why = "its state file was unreadable"
            elif not r.has_log and asm.holds_checkpoint(r):
                why = "a checkpoint moved into this shard"
            elif not r.has_log and (r.prefix != prefix or r.hip_after is None):
                why = "the shards before it changed"
            if why is not None:
                if r is not None:
                    emit({"event": "message", "message": f"{shard.path}: {why}; counting it "
                          "again for its log"})  # fmt: skip
                r = None
                submit(i)
        reused = r is not None
        if r is None:
            r = engine.result(futures.pop(i), shard)
        _respell(r, shard.path)
        holds = asm.holds_checkpoint(r)
        before = (r.prefix, None if r.hip_after is None else r.hip_after.tobytes())
        asm.add(r)
        r.prefix = prefix if store is not None else None
        if not holds:
            r.drop_log()
        error = r.stats.get("error")
        if store is not None:
            # a shard skipped as unreadable is not kept: the next run tries it again
            if error is None and (not reused or (r.prefix, r.hip_after.tobytes()) != before):
                store.save(keys[i], r)
            link = keys[i] if error is None else f"{keys[i]}/{error}/{r.documents}/{r.tokens}"
            prefix = _chain(prefix, link)
        kind = "shard_reused" if reused else "shard_finished"
        emit(shard_event(kind, i, len(shards), shard.path, r.documents, r.tokens,
                         0.0 if reused else r.seconds, error))  # fmt: skip
        r.slim()
        results.append(r)
    return results, keys, asm.finish()


def _respell(r: ShardResult, path: str) -> None:
    """Give a result the path of its shard as this run names it, and its absolute path as
    this process resolves it (a stored result may come from a run that named the shard another
    way, the key being the same; a Dask worker may run in another directory)."""
    old = r.path
    r.stats = {**r.stats, "abspath": os.path.abspath(path)}
    if old == path:
        return
    r.path = path
    r.stats["path"] = path
    if "error" in r.stats:
        r.stats["error"] = r.stats["error"].replace(old, path)
    r.skipped_items = [
        {**it, "path": path if it["path"] == old else it["path"],
         "error": it["error"].replace(old, path)}
        for it in r.skipped_items
    ]  # fmt: skip


def _chain(prefix: str, key: str) -> str:
    return hashlib.sha256(f"{prefix}/{key}".encode()).hexdigest()[:32]


def _holds_checkpoint(r: ShardResult, schedule: Schedule, tokens: int) -> bool:
    return bool(r.lengths.shape[0]) and schedule.target <= tokens + r.tokens


def _result(results, a: Assembled, inputs: Inputs, config: CountConfig, **run) -> CountResult:
    """The :class:`CountResult` of the shard results, put together."""
    stats = []
    skipped = Skipped()
    for r in results:
        st = ShardStats(**r.stats)
        stats.append(st)
        skipped.rows += r.skipped_rows
        if st.error is not None:
            skipped.shards += 1
        for item in r.skipped_items:
            skipped.list(item["path"], item["row"], item["error"])
    return build_result(
        config, inputs, stats, skipped, curve_rows(config.ns, a.points), regs=a.regs,
        sigs=a.sigs, thetas=a.thetas, documents=a.documents, tokens=a.tokens, empty=a.empty,
        windows=a.windows, blocks=a.blocks, **run,
    )  # fmt: skip
