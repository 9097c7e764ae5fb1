"""One streaming pass: shards → tokens → window hashes → sketches → growth curve."""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable

import numpy as np

from ..config import CountConfig
from ..errors import ConfigError, InputError
from ..io import Inputs, ReadRequest, Shard, prefetch, reader_for, token_config
from ..tokenize import BufferPool, StreamTokenizer, make_tokenizer
from .counter import Counter
from .neardup import near_dup_result
from .results import CountResult, Progress, ShardStats, Skipped, build_result


def count_corpus(
    inputs: Inputs,
    config: CountConfig,
    *,
    progress: Callable[[Progress], None] | None = None,
    threads: int | None = None,
    on_event: Callable[[dict], None] | None = None,
) -> CountResult:
    """Count distinct n-token windows of discovered shards in one streaming pass.

    Args:
        inputs: the shards to read, in order (:func:`seqcount.io.discover`).
        config: counting options.
        progress: called with a :class:`Progress` after every chunk of documents.
        on_event: called with one dict per event, as by
            :func:`~seqcount.engine.sharded.count_sharded`: ``start``, then ``shard_started``
            and ``shard_finished`` per shard (with ``error`` when it was skipped as unreadable).
        threads: numba threads for the sketch updates (default: numba's setting). Results do
            not depend on it.

    Returns:
        The growth curve, final sketches and totals.

    Raises:
        InputError: unreadable or corrupt input.
        SchemaError: missing column or a column of the wrong type.
        ConfigError: ``threads`` out of range.
    """
    import numba

    config = token_config(config, inputs.shards)
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    shards = inputs.shards
    old_threads = numba.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise ConfigError(f"threads must be at least 1, got {threads}", "threads")
        # more threads than numba has (the cores) is capped, so scripts move between machines
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    if on_event is not None:
        on_event({"event": "start", "shards": len(shards), "jobs": 1, "engine": "local"})
    try:
        counter, stats, skipped = run_shards(shards, config, progress, t0, on_event=on_event)
        used_threads = numba.get_num_threads()
    finally:
        numba.set_num_threads(old_threads)

    rows = counter.finish()
    sigs = None
    if config.minhash_perm:
        shape = (0, len(config.ns), config.minhash_perm)
        sigs = np.stack(counter.shard_sigs) if counter.shard_sigs else np.zeros(shape, np.uint64)
    return build_result(
        config, inputs, stats, skipped, rows,
        regs=counter.regs, sigs=sigs, thetas=counter.shard_thetas,
        whole_theta=counter.whole_thetas(), documents=counter.documents,
        tokens=counter.tokens, blocks=counter.block_run and counter.block_run.result(),
        empty=counter.empty, windows=counter.windows, started=started,
        elapsed=time.perf_counter() - t0, threads=used_threads,
        exact_bytes=sum(s.nbytes for s in counter.exact) if counter.exact else 0,
        near_dup=near_dup_result(counter, stats) if counter.near is not None else None,
    )  # fmt: skip


def _num_rows(shard: Shard) -> int | None:
    """Rows of a shard from its metadata, for progress only (``None`` if unknown or unreadable:
    reading it properly reports the problem, or skips it under ``--on-error skip``)."""
    try:
        return reader_for(shard).num_rows(shard)
    except InputError:
        return None


#: Batches of a shard decoded ahead of the tokenizer (each at most ``--batch-rows`` documents
#: and about ``chunk_bytes`` of text).
DECODE_AHEAD = 2


def _tokenized(shard: Shard, request: ReadRequest, stream: StreamTokenizer):
    """The chunks of one shard, as ``(null documents, chunk or None)`` pairs.

    The shard's batches are read and decoded in a thread of their own (pyarrow and the
    tokenizer kernels release the GIL), :data:`DECODE_AHEAD` batches ahead of the tokenizer:
    with one window size a pass was bound by the one thread that did both (measured: ``count
    --n 1`` on 32 M tokens took 1.72 s instead of 1.95, benchmarks/e2e_peers.py).
    """
    batches = reader_for(shard).iter_batches(shard, request)
    for column in prefetch(batches, depth=DECODE_AHEAD, name="seqcount-decode"):
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
    the last chunks of this one: no stall at shard boundaries. Decoding runs in one more
    thread (:func:`_tokenized`).
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


def run_shards(
    shards: list[Shard], config: CountConfig, progress, t0: float, counter=None, on_event=None
):
    counter = counter or Counter(config)
    params = counter.params
    tokenizer = make_tokenizer(config.tokenizer)
    skipped = Skipped()
    request = ReadRequest(
        column=config.column,
        kind="ids" if config.tokenizer == "ids" else "text",
        batch_rows=config.batch_rows,
        block_bytes=config.chunk_bytes,
        txt_documents=config.txt_documents,
        bad_row=skipped.row if config.on_error == "skip" else None,
        doc_separator=config.doc_separator,
        token_dtype=config.token_dtype,
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
    for i, nulls, item in prefetch(items, depth=2, name="seqcount-tokenize"):
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
