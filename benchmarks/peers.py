"""seqcount against the tools people already use: sketch update speed, exact counting, end to end.

One section of the suite (``python -m benchmarks``). Everything is measured in this process, in
one run, on the same input:

* **Window updates** (section ``peers``). The window hashes of the bundled ``data/austen`` corpus
  (``words`` tokens, n = 1, 2, 4, 8, 16, 32, 64: about 6.1 M 64-bit values) are computed once.
  seqcount's kernels and every peer then count them on one thread (one core):

  - seqcount ``hll_update_windows`` (hashes every window from prefix values and updates the
    registers: what ``count`` runs) and ``hll_update_hashes`` (the same register update on the
    precomputed hashes, like for like with the peers); ``minhash_update_hashes`` for MinHash;
  - datasketch ``HyperLogLogPlusPlus`` and ``HyperLogLog`` ``.update()`` per item (with an
    identity hash function, so they do no hashing of their own), ``MinHash.update_batch``;
  - Apache DataSketches ``hll_sketch`` (HLL_8 and HLL_4) and ``cpc_sketch`` ``.update()`` per item
    (their Python API has no batch update);
  - exact: ``numpy.unique``, ``numpy.sort`` plus a count of changes, a Python ``set``;
  - DuckDB ``approx_count_distinct`` and ``count(DISTINCT ...)`` over the same values as an Arrow
    table, with ``threads=1``.

  Per-item Python peers run on a prefix of the values (``peer_items``) to keep the run short;
  their rate does not depend on the count. Each line reports items per second and the ratio of
  seqcount's kernel rate to the peer's.

* **End to end** (section ``e2e``). ``count_corpus`` on the austen text (HLL only, and with the
  default 128-permutation MinHash), and on a synthetic pre-tokenized corpus (a ``list<int32>``
  column, :mod:`seqcount.synth`) against the **I/O floor**: pyarrow reading and decompressing
  the same column of the same shards and doing nothing else. Also the pure-Python alternative
  (pyarrow, ``re.findall``, datasketch per n-gram) on a prefix of austen.
"""

from __future__ import annotations

import collections
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.common import CORPUS, NS, PRECISION, Recorder, corpus_texts, log, utf8_docs
from seqcount import synth

SECTION = "peers"
E2E = "e2e"

MODES = {
    "quick": dict(repeats=3, peer_items=300_000, ids_tokens=20_000_000, alt_tokens=50_000),
    # full: the alternative runs on the whole corpus (about 25 s), the same input as seqcount
    "full": dict(repeats=5, peer_items=2_000_000, ids_tokens=100_000_000, alt_tokens=10**12),
}

#: Targets from the suite's goals: ns per window update on one core, end-to-end speed-up over
#: datasketch, end-to-end time over the I/O floor for pre-tokenized input.
TARGETS = {"ns_per_update": 10.0, "vs_datasketch": 100.0, "io_floor_ratio": 2.0}


def _timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def corpus_window_hashes() -> tuple[np.ndarray, dict]:
    """The window hashes of ``data/austen`` for every n in :data:`NS`, concatenated, plus the
    pieces the seqcount kernel needs to recompute them (prefix values, document offsets)."""
    from seqcount import _kernels as kernels
    from seqcount.hashing import hash_params
    from seqcount.tokenize import words_chunk

    params = hash_params(0)
    data, offsets = utf8_docs(corpus_texts())
    chunk = words_chunk(data, offsets, params)
    prefix = kernels.prefix_values(chunk.tokens, np.uint64(params.base))
    ns, bases, salts = params.window_arrays(NS)
    ndocs = chunk.doc.shape[0] - 1
    parts = [
        kernels.window_hashes(prefix, chunk.doc, 0, ndocs, int(n), b, s)
        for n, b, s in zip(ns, bases, salts)
    ]
    kern = dict(
        prefix=prefix, doc=chunk.doc, ndocs=ndocs, ns=ns, bases=bases, salts=salts,
        tokens=int(chunk.tokens.shape[0]),
    )  # fmt: skip
    return np.concatenate(parts), kern


def bench_updates(rec: Recorder, cfg: dict) -> float:
    """Items per second of seqcount's kernels and of each peer on one core; returns seqcount's
    window-kernel rate."""
    import numba

    from seqcount import _kernels as kernels
    from seqcount.sketches import MinHash, hll_estimate

    hashes, k = corpus_window_hashes()
    total = hashes.shape[0]
    reps = cfg["repeats"]
    p = np.int64(PRECISION)
    workload = f"austen words, {len(NS)} n, {total / 1e6:.2f}M window hashes"
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        regs = np.zeros((len(NS), 1 << PRECISION), dtype=np.int8)

        def windows():
            regs[:] = 0
            kernels.hll_update_windows(
                k["prefix"], k["doc"], 0, k["ndocs"], k["ns"], k["bases"], k["salts"], p, regs
            )

        windows()
        t = _timed(windows, reps)
        seq_rate = total / statistics.median(t)
        rec.add(
            "seqcount hll_update_windows", workload + ", hash + update, 1 thread",
            "window updates/s per core", seq_rate / 1e6, "M/s", SECTION,
            ns_per_item=1e9 / seq_rate, samples=[total / x / 1e6 for x in t],
            target=f"<= {TARGETS['ns_per_update']:g} ns per update",
            target_met=bool(1e9 / seq_rate <= TARGETS["ns_per_update"]),
        )  # fmt: skip
        log(f"seqcount window kernel: {seq_rate / 1e6:.0f} M/s ({1e9 / seq_rate:.2f} ns)")

        def windows_hip():  # what `count` runs: also the running HIP estimate of the curve
            regs[:] = 0
            hipst, hip = kernels.hip_state(regs, p), np.zeros(len(NS))
            kernels.hll_update_windows(
                k["prefix"], k["doc"], 0, k["ndocs"], k["ns"], k["bases"], k["salts"], p, regs,
                0, False, 0, None, hipst, hip,
            )  # fmt: skip

        windows_hip()
        t = _timed(windows_hip, reps)
        hip_rate = total / statistics.median(t)
        rec.add(
            "seqcount hll_update_windows + HIP", workload + ", hash + update + HIP, 1 thread",
            "window updates/s per core", hip_rate / 1e6, "M/s", SECTION,
            ns_per_item=1e9 / hip_rate, samples=[total / x / 1e6 for x in t],
        )  # fmt: skip
        reg = np.zeros(1 << PRECISION, dtype=np.int8)

        def upd_hashes():
            reg[:] = 0
            kernels.hll_update_hashes(reg, hashes, p)

        upd_hashes()
        t = _timed(upd_hashes, reps)
        hash_rate = total / statistics.median(t)
        ours = hll_estimate(reg)
        mh = MinHash(128, seed=1)
        sig0 = mh.hashvalues.copy()

        def mh_ours():
            mh.hashvalues[:] = sig0
            mh.update_batch(hashes)

        mh_ours()
        t = _timed(mh_ours, max(1, reps // 2))
        mh_rate = total / statistics.median(t)
        rec.add(
            "seqcount MinHash.update_batch", workload + ", K=128, 1 thread",
            "updates/s per core", mh_rate / 1e6, "M/s", SECTION, ns_per_item=1e9 / mh_rate,
        )  # fmt: skip
    finally:
        numba.set_num_threads(old)

    cap = min(cfg["peer_items"], total)
    sub = hashes[:cap]
    sub_list = sub.tolist()
    signed = sub.view(np.int64).tolist()
    sub_work = f"the first {cap / 1e6:.2f}M of the same hashes, per item, 1 thread"
    exact_of = {}

    def exact(items: int) -> int:
        if items not in exact_of:
            s = np.sort(hashes[:items])
            exact_of[items] = int(np.count_nonzero(s[1:] != s[:-1])) + 1
        return exact_of[items]

    def peer(system, fn, items, work, note=None, repeats=reps, ours=hash_rate):
        """Time ``fn`` (which returns its distinct-count estimate, or None) on ``items`` items;
        ``ours`` is seqcount's like-for-like rate (the register update on the same hashes)."""
        got = []

        def call():
            got.append(fn())

        t = _timed(call, repeats)
        rate = items / statistics.median(t)
        err = None if got[-1] is None else got[-1] / exact(items) - 1
        rec.add(
            system, work, "updates/s per core", rate / 1e6, "M/s", SECTION,
            ns_per_item=1e9 / rate, seqcount_over_peer=ours / rate,
            window_kernel_over_peer=seq_rate / rate, relative_error=err, note=note,
        )  # fmt: skip
        log(f"{system}: {rate / 1e6:.2f} M/s (seqcount {ours / rate:.1f}x)")
        return rate

    rec.add(
        "seqcount hll_update_hashes", workload + ", precomputed hashes, 1 thread",
        "updates/s per core", hash_rate / 1e6, "M/s", SECTION, ns_per_item=1e9 / hash_rate,
        relative_error=ours / exact(total) - 1,
        note="the like-for-like seqcount rate for peers fed precomputed hashes",
    )  # fmt: skip
    from datasketch import HyperLogLog, HyperLogLogPlusPlus
    from datasketch import MinHash as DSMinHash

    def ident(x):
        return x

    def ident32(x):
        return x & 0xFFFFFFFF

    def ds_hllpp():
        h = HyperLogLogPlusPlus(p=PRECISION, hashfunc=ident)
        collections.deque(map(h.update, sub_list), 0)
        return h.count()

    peer("datasketch HyperLogLogPlusPlus.update", ds_hllpp, cap, sub_work,
         note="identity hashfunc: no hashing inside datasketch", repeats=1)  # fmt: skip

    def ds_hll():
        h = HyperLogLog(p=PRECISION, hashfunc=ident32)
        collections.deque(map(h.update, sub_list), 0)
        return h.count()

    peer("datasketch HyperLogLog.update", ds_hll, cap, sub_work,
         note="32-bit hashes (the low half of ours)", repeats=1)  # fmt: skip
    dmh_items = min(total, 4 * cap)

    def ds_minhash():
        m = DSMinHash(num_perm=128, seed=1, scheme="affine64", hashfunc=ident)
        m.update_batch(hashes[:dmh_items])

    peer("datasketch MinHash.update_batch", ds_minhash, dmh_items,
         f"the first {dmh_items / 1e6:.2f}M of the same hashes, K=128 affine64",
         note="ratio against seqcount's MinHash.update_batch", repeats=1,
         ours=mh_rate)  # fmt: skip
    try:
        import datasketches as dsk
    except ImportError:  # pragma: no cover - optional peer
        dsk = None
        log("datasketches (Apache) not installed: skipped")
    if dsk is not None:
        for label, kind in (("HLL_8", dsk.tgt_hll_type.HLL_8), ("HLL_4", dsk.tgt_hll_type.HLL_4)):

            def run(kind=kind):
                s = dsk.hll_sketch(PRECISION, kind)
                collections.deque(map(s.update, signed), 0)
                return s.get_estimate()

            peer(f"Apache DataSketches hll_sketch {label}", run, cap,
                 sub_work + f", lg_k={PRECISION}", repeats=1)  # fmt: skip

        def cpc():
            s = dsk.cpc_sketch(PRECISION)
            collections.deque(map(s.update, signed), 0)
            return s.get_estimate()

        peer("Apache DataSketches cpc_sketch", cpc, cap, sub_work + f", lg_k={PRECISION}",
             repeats=1)  # fmt: skip

    full = f"all {total / 1e6:.2f}M hashes, 1 thread"
    peer("numpy.unique (exact)", lambda: np.unique(hashes).shape[0], total, full,
         note=f"numpy {np.__version__}", repeats=1)  # fmt: skip

    def sort_count():
        s = np.sort(hashes)
        return int(np.count_nonzero(s[1:] != s[:-1])) + 1

    peer("numpy.sort + count changes (exact)", sort_count, total, full)
    peer("Python set (exact)", lambda: len(set(hashes.tolist())), total,
         full + ", including .tolist()", repeats=1)  # fmt: skip
    try:
        import duckdb
        import pyarrow as pa
    except ImportError:  # pragma: no cover - optional peer
        log("duckdb not installed: skipped")
        return seq_rate
    con = duckdb.connect()
    con.execute("SET threads=1")
    con.register("t", pa.table({"h": pa.array(hashes, type=pa.uint64())}))
    duck = f"{full}, duckdb {duckdb.__version__}"

    def duck_approx():
        return con.execute("SELECT approx_count_distinct(h) FROM t").fetchone()[0]

    def duck_exact():
        return con.execute("SELECT count(DISTINCT h) FROM t").fetchone()[0]

    duck_approx()
    peer("DuckDB approx_count_distinct", duck_approx, total, duck,
         note="DuckDB hashes the values itself")  # fmt: skip
    peer("DuckDB count(DISTINCT) (exact)", duck_exact, total, duck, repeats=1)
    return seq_rate


def _ids_corpus(work: Path, tokens: int) -> tuple[Path, str]:
    """A synthetic pre-tokenized corpus of ``tokens`` tokens (kept in ``work`` for reuse) and
    the name of its token column."""
    import pyarrow.parquet as pq

    dest = work / f"synth_ids_{tokens}"
    done = dest / ".complete"
    if not done.exists():
        log(f"generating a {tokens / 1e6:.0f}M-token pre-tokenized corpus in {dest}")
        synth.generate(dest, tokens, kind="ids", seed=0)
        done.write_text("ok\n")
    shards = sorted(dest.glob("*.parquet"))
    schema = pq.read_schema(shards[0])
    col = next(f.name for f in schema if str(f.type).startswith(("list", "large_list")))
    return dest, col


def _read_floor(shards: list[Path], column: str) -> None:
    """Read and decompress one column of every shard, keep nothing: the I/O floor."""
    import pyarrow.parquet as pq

    for s in shards:
        pq.read_table(s, columns=[column], use_threads=True)


def bench_e2e(rec: Recorder, cfg: dict, work: Path) -> None:
    """End-to-end tokens/s of seqcount against the I/O floor and the pure-Python alternative."""
    from benchmarks import baselines
    from seqcount.api import count_corpus
    from seqcount.config import CountConfig

    reps = cfg["repeats"]
    ids_dir, col = _ids_corpus(work, cfg["ids_tokens"])
    ids_shards = sorted(ids_dir.glob("*.parquet"))
    text_shards = sorted(CORPUS.glob("*.parquet"))
    ids_mb = sum(s.stat().st_size for s in ids_shards) / 1e6
    runs = {
        "austen HLL": (CORPUS, CountConfig(num_perm=0, overlap="none")),
        "austen HLL+MinHash": (CORPUS, CountConfig(overlap="minhash")),
        "ids HLL": (
            ids_dir,
            CountConfig(tokenizer="ids", tokens_column=col, num_perm=0, overlap="none"),
        ),
        "ids HLL n=8": (
            ids_dir,
            CountConfig(ns=(8,), tokenizer="ids", tokens_column=col, num_perm=0, overlap="none"),
        ),  # fmt: skip
    }
    floors = {"austen floor": (text_shards, "text"), "ids floor": (ids_shards, col)}
    times: dict[str, list[float]] = {k: [] for k in (*runs, *floors)}
    tokens = {}
    for name, (path, conf) in runs.items():  # warm-up: JIT loading, page cache
        tokens[name] = count_corpus(str(path), conf).tokens
    for shards, column in floors.values():
        _read_floor(shards, column)
    for r in range(reps):  # round-robin, so a slow spell of the machine hits all alike
        for name, (path, conf) in runs.items():
            t0 = time.perf_counter()
            count_corpus(str(path), conf)
            times[name].append(time.perf_counter() - t0)
        for name, (shards, column) in floors.items():
            t0 = time.perf_counter()
            _read_floor(shards, column)
            times[name].append(time.perf_counter() - t0)
        log(f"e2e repeat {r + 1}/{reps}")
    tokens["austen floor"] = tokens["austen HLL"]
    tokens["ids floor"] = tokens["ids HLL"]
    med = {k: statistics.median(v) for k, v in times.items()}
    labels = {
        "austen HLL": ("seqcount count", "austen text (words), 7 n, HLL only"),
        "austen HLL+MinHash": ("seqcount count", "austen text (words), 7 n, HLL + MinHash K=128"),
        "austen floor": ("I/O floor (pyarrow read_table)", "austen text column"),
        "ids HLL": ("seqcount count", f"synthetic ids, {ids_mb:.0f} MB Parquet, 7 n, HLL only"),
        "ids HLL n=8": ("seqcount count", f"synthetic ids, {ids_mb:.0f} MB, n=8 only, HLL only"),
        "ids floor": ("I/O floor (pyarrow read_table)", f"synthetic ids column, {ids_mb:.0f} MB"),
    }  # fmt: skip
    for name, (system, workload) in labels.items():
        extra = {}
        floor = "ids floor" if name.startswith("ids") else "austen floor"
        if name != floor:
            ratio = med[name] / med[floor]
            extra["time_over_io_floor"] = ratio
            if name.startswith("ids"):
                extra["target"] = f"<= {TARGETS['io_floor_ratio']:g}x the I/O floor"
                extra["target_met"] = bool(ratio <= TARGETS["io_floor_ratio"])
        rec.add(
            system, workload + f", {tokens[name] / 1e6:.1f}M tokens", "tokens/s end to end",
            tokens[name] / med[name] / 1e6, "M tokens/s", E2E,
            seconds=med[name], samples=[tokens[name] / x / 1e6 for x in times[name]], **extra,
        )  # fmt: skip
        log(f"{name}: {tokens[name] / med[name] / 1e6:.1f} M tokens/s")

    texts = corpus_texts()
    n_docs, alt_tokens = baselines.alt_prefix_docs(texts, cfg["alt_tokens"])
    alt_tok, alt_s, _ = baselines.run_alternative(n_docs)
    alt_rate = alt_tok / alt_s
    ours = tokens["austen HLL"] / med["austen HLL"]
    ratio = ours / alt_rate
    rec.add(
        "pyarrow + re.findall + datasketch HyperLogLogPlusPlus.update",
        f"austen, first {n_docs} documents ({alt_tok:,} tokens), 7 n, SHA-1 per n-gram",
        "tokens/s end to end", alt_rate / 1e6, "M tokens/s", E2E,
        seqcount_over_peer=ratio, target=f">= {TARGETS['vs_datasketch']:g}x",
        target_met=bool(ratio >= TARGETS["vs_datasketch"]),
    )  # fmt: skip
    log(f"alternative: {alt_rate / 1e3:.0f} k tokens/s; seqcount {ratio:.0f}x")


def run(rec: Recorder, quick: bool, work: Path, meta: dict) -> None:
    cfg = MODES["quick" if quick else "full"]
    meta.setdefault("settings", {})["peers"] = dict(cfg, ns=list(NS), precision=PRECISION)
    log("peers: window updates on one core")
    bench_updates(rec, cfg)
    log("peers: end to end and the I/O floor")
    bench_e2e(rec, cfg, work)
