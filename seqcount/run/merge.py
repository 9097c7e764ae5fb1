"""``seqcount merge``: one output from the outputs of disjoint corpora.

HyperLogLog registers merge by maximum, MinHash signatures by minimum and theta sketches by
union, so the sketches of
the union are exact functions of the parts, whatever their order or grouping. The growth curve
is not: a checkpoint inside the union needs the documents in order, which separate outputs do
not keep. A merged output's ``curve.csv`` therefore holds one row per n, at the whole union
(count the union with ``--state`` and one state directory to get its full curve).

Block sketches (``sketches.npz``'s ``block_*`` arrays) are the inputs' blocks, put in the merged
shard order (path order) with their shard indices renumbered. Each input knows how many blocks
each of its shards had before it was coarsened (``block_raw``), so each is merged further by
exactly the rounds that coarsening the union's raw blocks needs beyond its own
(:func:`~seqcount.sketches.merge_coarsened`): the blocks are those of one count of the union,
bit for bit. Inputs written before ``block_raw`` existed are coarsened together again instead,
which matches a count of the union only where no input had to be coarsened. A merge of inputs
of which one has no block sketches has none.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import time

import numpy as np

from ..config import CountConfig
from ..engine.results import CurveRow, ShardStats, Skipped, build_result
from ..errors import FormatError, SketchMismatchError
from ..io import Inputs
from ..sketches import (
    HLL,
    BlockSketches,
    MinHash,
    SketchSet,
    load_sketches,
    merge_coarsened,
    union_thetas,
)
from .files import SKETCH_FILE, SUMMARY_FILE, read_summary


def _load(out_dir: str) -> tuple[dict, SketchSet]:
    summary_path = os.path.join(out_dir, SUMMARY_FILE)
    sketch_path = os.path.join(out_dir, SKETCH_FILE)
    for f in (summary_path, sketch_path):
        if not os.path.isfile(f):
            raise FormatError(f"{f}: missing; merge directories written by 'seqcount count'")
    return read_summary(summary_path), load_sketches(sketch_path)


def merge_outputs(out_dirs: list[str]):
    """Merge saved ``count`` outputs of disjoint corpora into one :class:`CountResult`.

    Shards are put in path order, so the result does not depend on the order or grouping of
    ``out_dirs`` (merge is associative and commutative).

    Raises:
        FormatError: an input is not a ``count`` output.
        SketchMismatchError: the inputs were counted with different options, or share a shard.
    """
    started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    if not out_dirs:
        raise SketchMismatchError("merge needs at least one output directory")
    parts = [_load(os.fspath(d)) for d in out_dirs]
    first = parts[0][1]
    for d, (_, sk) in zip(out_dirs, parts):
        if sk.options != first.options:
            diff = sorted(k for k in set(sk.options) | set(first.options)
                          if sk.options.get(k) != first.options.get(k))  # fmt: skip
            raise SketchMismatchError(
                f"{d}: counted with other options than {out_dirs[0]} ({', '.join(diff)})"
            )
        if (sk.minhash is None) != (first.minhash is None):
            raise SketchMismatchError(f"{d}: MinHash signatures in some inputs only")
        if (sk.theta is None) != (first.theta is None):
            raise SketchMismatchError(f"{d}: theta sketches in some inputs only")
    shards, sigs, seen = [], [], {}
    for d, (summary, sk) in zip(out_dirs, parts):
        for i, st in enumerate(summary["inputs"]["shards"]):
            where = st.get("abspath") or st["path"]  # outputs before 0.2 kept ``path`` only
            if where in seen:
                raise SketchMismatchError(
                    f"{st['path']}: counted in both {seen[where]} and {d}; "
                    "merge needs disjoint corpora"
                )
            seen[where] = d
            row = sk.shard_minhash[i] if sk.shard_minhash is not None else None
            theta = sk.shard_theta[i] if sk.shard_theta is not None else None
            shards.append((st["path"], st, row, theta))
    blocks = _merged_blocks(parts, shards)
    shards.sort(key=lambda t: t[0])
    ns = first.ns
    hll = [HLL.union(*(sk.hll[j] for _, sk in parts)) for j in range(len(ns))]
    minhash = None
    if first.minhash is not None:
        minhash = [MinHash.union(*(sk.minhash[j] for _, sk in parts)) for j in range(len(ns))]
        sigs = [row for _, _, row, _ in shards]
    theta = None
    if first.theta is not None:
        k, seed = first.theta[0].k, first.theta[0].seed
        theta = [union_thetas([sk.theta[j] for _, sk in parts], k, seed) for j in range(len(ns))]
    options = dict(parts[0][0]["options"])
    options["ns"] = tuple(options["ns"])
    options.setdefault("overlap", "minhash")  # outputs made before theta sketches
    try:
        config = CountConfig(**options)
    except TypeError as e:  # an option this release does not know
        raise FormatError(f"{out_dirs[0]}: options this release cannot read ({e})") from None
    total = lambda key: sum(s["totals"][key] for s, _ in parts)  # noqa: E731
    windows = {n: sum(next(x["windows"] for x in s["totals"]["per_n"] if x["n"] == n)
                      for s, _ in parts) for n in ns}  # fmt: skip
    tokens, documents = total("tokens"), total("documents")
    rows = [
        CurveRow(n, tokens, documents, windows[n], hll[j].count(), None) for j, n in enumerate(ns)
    ]
    skipped = Skipped()
    items = sorted(
        (it for s, _ in parts for it in s.get("skipped", {}).get("items", [])),
        key=lambda it: (it["path"], -1 if it["row"] is None else it["row"]),
    )
    for it in items:
        skipped.list(it["path"], it["row"], it["error"])
    skipped.rows = total("skipped_rows")
    skipped.shards = total("skipped_shards")
    sketches = SketchSet(
        ns=ns,
        hll=hll,
        options=first.options,
        meta={"documents": documents, "tokens": tokens},
        minhash=minhash,
        shard_minhash=np.stack(sigs) if minhash is not None and sigs else None,
        shard_paths=[p for p, _, _, _ in shards],
        theta=theta,
        shard_theta=[t for _, _, _, t in shards] if theta is not None else None,
        blocks=blocks,
    )
    inputs = Inputs(
        paths=sorted({p for s, _ in parts for p in s["inputs"]["paths"]}),
        shards=[],
        ignored=sorted({p for s, _ in parts for p in s["inputs"].get("ignored", [])}),
    )
    return build_result(
        config, inputs, [ShardStats(**st) for _, st, _, _ in shards], skipped, rows,
        sketches=sketches, documents=documents, tokens=tokens,
        empty=total("empty_documents"), windows=[windows[n] for n in ns], started=started,
        elapsed=time.perf_counter() - t0, merged_from=[os.fspath(d) for d in out_dirs],
    )  # fmt: skip


def _merged_blocks(parts: list, shards: list) -> BlockSketches | None:
    """The inputs' block sketches in the merged (path) order of ``shards`` (in input order
    here, as gathered), renumbered and coarsened (see the module docstring)."""
    if any(sk.blocks is None for _, sk in parts):
        return None
    blocks = [sk.blocks for _, sk in parts]
    exact = merge_coarsened(blocks)  # as a count of the union would coarsen them
    if exact is not None:
        blocks = exact
    order = sorted(range(len(shards)), key=lambda i: shards[i][0])
    new_index = np.empty(len(shards), dtype=np.int64)
    new_index[order] = np.arange(len(shards))
    renumbered, base = [], 0
    for (summary, _), b in zip(parts, blocks):
        count = len(summary["inputs"]["shards"])
        shard = new_index[base + b.shard.astype(np.int64)].astype(np.int32)
        renumbered.append(dataclasses.replace(b, shard=shard))
        base += count
    whole = BlockSketches.concat(renumbered)
    at = np.argsort(whole.shard, kind="stable")
    whole = BlockSketches(
        whole.ns, whole.precision, whole.tokens[at], whole.documents[at], whole.shard[at],
        whole.regs[:, at], None if whole.raw is None else whole.raw[at],
    )  # fmt: skip
    return whole if exact is not None else whole.coarsen()
