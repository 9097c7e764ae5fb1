"""Where seqcount's time goes: the named stages of one counting pass, each timed around the
public call the pipeline makes for it.

One section of the suite (``python -m benchmarks``, section ``stages``) and of
``python -m benchmarks.bench_count``. :func:`staged_pass` drives the stages exactly as
:func:`seqcount.engine.single.run_shards` calls them, but one after another in this thread
(``run_shards`` decodes, tokenizes and counts in three threads at once), so the
stage times add up to the pass:

- **discover**: :func:`seqcount.api.find_inputs`;
- **decode**: the format's reader (:func:`seqcount.io.reader_for`) ``iter_batches``: read,
  decompress, to numpy;
- **tokenize**: :class:`seqcount.tokenize.StreamTokenizer` ``feed``: token values per chunk
  (for ``bytes`` and ``ids`` the values are made later, inside ``Counter.add``, as in the
  pipeline);
- **window hashes + register updates**: :meth:`seqcount.engine.counter.Counter.add` of a
  counter without MinHash (prefix values, HyperLogLog and HIP registers, checkpoints);
- **MinHash**: the extra time of ``Counter.add`` of a counter with MinHash on the same chunk
  (the HyperLogLog-only counter runs beside it, so the two are measured on the same data);
- **finish**: :meth:`~seqcount.engine.counter.Counter.finish` (the last checkpoint, curve rows).

Nothing is patched: a stage that the pipeline stops calling fails here instead of silently
dropping out of the table. The pass is checked against :func:`seqcount.api.count_corpus` (the
same tokens and the same registers).
"""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.common import CORPUS, NS, Recorder, esc, log
from seqcount.api import count_corpus, find_inputs
from seqcount.config import CountConfig
from seqcount.engine.counter import Counter
from seqcount.io import ReadRequest, reader_for
from seqcount.tokenize import BufferPool, StreamTokenizer

SECTION = "stages"
NUM_PERM = 128  # seqcount.config's default MinHash permutations
#: The stages in pipeline order: (key, row title).
STAGES = (
    ("discover", "discover shards (seqcount.api.find_inputs)"),
    ("decode", "decode: read + decompress to numpy (io reader iter_batches)"),
    ("tokenize", "tokenize (seqcount.tokenize.StreamTokenizer.feed)"),
    ("update", "window hashes + register updates (Counter.add, HLL only)"),
    ("minhash", f"MinHash, {NUM_PERM} permutations (extra time of Counter.add)"),
    ("finish", "checkpoint estimates + curve (Counter.finish)"),
)
OTHER = "other (loop, buffer pool, statistics)"
TOTAL = "total (staged pass with MinHash)"
MODES = {"quick": dict(repeats=1), "full": dict(repeats=3)}


class _Clock:
    """Seconds and calls per stage."""

    def __init__(self) -> None:
        self.t = {key: 0.0 for key, _ in STAGES}
        self.calls = {key: 0 for key, _ in STAGES}

    def add(self, key: str, t0: float, call: bool = True) -> float:
        """Charge the time since ``t0`` to ``key`` (a call if ``call``); return the time now."""
        now = time.perf_counter()
        self.t[key] += now - t0
        self.calls[key] += call
        return now


def _timed(items, key: str, clock: _Clock):
    """The items of the iterable ``items``, the time to produce each charged to ``key``."""
    items = iter(items)
    while True:
        t0 = time.perf_counter()
        item = next(items, None)
        clock.add(key, t0, item is not None)
        if item is None:
            return
        yield item


def staged_pass(path: Path, tokenizer: str) -> tuple[_Clock, float, dict]:
    """Count ``path`` once, stage by stage; returns the clock, the wall time of the pass with
    MinHash (the HyperLogLog-only counter's time left out) and the HLL-only counter's totals."""
    clock = _Clock()
    wall0 = time.perf_counter()
    hll_config = CountConfig(ns=NS, num_perm=0, overlap="none", tokenizer=tokenizer)
    inputs = find_inputs(str(path), hll_config.format)
    clock.add("discover", wall0)
    hll, both = (
        Counter(hll_config),
        Counter(CountConfig(ns=NS, num_perm=NUM_PERM, overlap="minhash", tokenizer=tokenizer)),
    )
    request = ReadRequest(
        column=hll_config.column, kind="ids" if tokenizer == "ids" else "text",
        batch_rows=hll_config.batch_rows, block_bytes=hll_config.chunk_bytes,
        txt_documents=hll_config.txt_documents,
    )  # fmt: skip
    pool = BufferPool(least=hll_config.chunk_bytes)
    for shard in inputs.shards:
        stream = StreamTokenizer(tokenizer, hll.params, hll_config.chunk_bytes, pool)
        for column in _timed(reader_for(shard).iter_batches(shard, request), "decode", clock):
            batch = stream.feed(column.values, column.offsets, column.open_tail)
            for chunk in _timed(batch, "tokenize", clock):
                t0 = time.perf_counter()
                hll.add(chunk)
                t1 = clock.add("update", t0)
                both.add(chunk)
                clock.add("minhash", t1)
                pool.give_back(chunk)
        hll.end_shard()
        both.end_shard()
    t0 = time.perf_counter()
    both.finish()
    clock.add("finish", t0)
    wall = time.perf_counter() - wall0 - clock.t["update"]
    rows = hll.finish()
    # the MinHash counter's add did the HyperLogLog work too: keep only its extra time
    clock.t["minhash"] -= clock.t["update"]
    return clock, wall, {"tokens": hll.tokens, "rows": rows}


def _check(path: Path, tokenizer: str, totals: dict) -> None:
    """The staged pass counted what :func:`seqcount.api.count_corpus` counts (the same
    growth curve, so the same registers at every checkpoint)."""
    r = count_corpus(str(path), CountConfig(ns=NS, num_perm=0, overlap="none", tokenizer=tokenizer))
    same = r.tokens == totals["tokens"] and r.rows == totals["rows"]
    if not same:
        raise RuntimeError(f"the staged pass of {path} ({tokenizer}) differs from count_corpus")


def measure(rec: Recorder, runs, repeats: int) -> None:
    """Record the stage times of each run ``(label, path, tokenizer, threads)``: the median
    of ``repeats`` staged passes by total time, after a warm-up pass."""
    import numba

    default = numba.get_num_threads()
    for label, path, tokenizer, threads in runs:
        numba.set_num_threads(threads or default)
        try:
            staged_pass(path, tokenizer)  # warm-up: numba cache load, first reads
            passes = sorted((staged_pass(path, tokenizer) for _ in range(repeats)),
                            key=lambda p: p[1])  # fmt: skip
        finally:
            numba.set_num_threads(default)
        clock, wall, totals = passes[len(passes) // 2]
        _check(path, tokenizer, totals)
        workload = f"{label}: {path.name}, {tokenizer}, {len(NS)} n, {totals['tokens']:,} tokens"
        for key, title in STAGES:
            share = 100 * clock.t[key] / wall
            rec.add("seqcount", workload, title, clock.t[key], "s", SECTION, share=share,
                    calls=clock.calls[key], setup=label)  # fmt: skip
        other = wall - sum(clock.t.values())
        rec.add(
            "seqcount", workload, OTHER, other, "s", SECTION, share=100 * other / wall, setup=label
        )
        rec.add("seqcount", workload, TOTAL, wall, "s", SECTION, share=100.0, setup=label)
        log(
            f"stages {label}: {wall:.3f} s, "
            + ", ".join(f"{k} {v:.3f}" for k, v in clock.t.items())
        )


def default_runs(threads: int) -> list[tuple[str, Path, str, int | None]]:
    """The bundled corpus with ``words`` and ``bytes`` on one thread, ``words`` on all."""
    return [
        ("words, 1 thr", CORPUS, "words", 1),
        ("bytes, 1 thr", CORPUS, "bytes", 1),
        (f"words, {threads} thr", CORPUS, "words", None),
    ]


def run(rec: Recorder, quick: bool, work: Path, meta: dict) -> None:
    """The suite's ``stages`` section."""
    import numba

    cfg = MODES["quick" if quick else "full"]
    meta.setdefault("settings", {})[SECTION] = dict(cfg, num_perm=NUM_PERM, ns=list(NS))
    measure(rec, default_runs(numba.get_num_threads()), cfg["repeats"])


def markdown(results: list[dict]) -> list[str]:
    """The stage table: one row per stage, two columns (seconds, share) per run."""
    rows = [r for r in results if r["section"] == SECTION]
    if not rows:
        return []
    lines = [
        "## Where seqcount's time goes",
        "",
        "Each stage timed around the public call the pipeline makes for it, run one after "
        "another in one thread (`count_corpus` decodes, tokenizes and counts in three threads "
        "at once) after a warm-up pass; the median pass by total time. `thr`: "
        "numba threads. MinHash: the extra time of `Counter.add` with MinHash over the same "
        "call without it, on the same chunks. For `bytes` (and `ids`) the token values are made "
        "inside `Counter.add` (`TokenChunk.values`), as in the pipeline, so their tokenize row "
        "is near zero. Shares are of the total. Source: `benchmarks/stages.py`.",
        "",
    ]
    runs = list(dict.fromkeys(r["setup"] for r in rows))
    lines.append("| Stage | " + " | ".join(f"{t}: s | {t}: share" for t in runs) + " |")
    lines.append("|---|" + "---:|---:|" * len(runs))
    for metric in dict.fromkeys(r["metric"] for r in rows):
        cells = []
        for t in runs:
            m = next((r for r in rows if r["metric"] == metric and r["setup"] == t), None)
            if m is None:
                cells += ["", ""]
                continue
            k = m.get("calls")
            calls = "" if k is None else f" ({k} call{'s' if k != 1 else ''})"
            cells += [f"{m['value']:.3f}{calls}", f"{m['share']:.0f}%"]
        lines.append(f"| {esc(metric)} | " + " | ".join(cells) + " |")
    return lines
