"""The cost of the overlap sketch in ``count``: ``--overlap theta`` against
``--overlap none`` and ``--overlap minhash`` on the same data, in the same run.

Run from the project root::

    python -m benchmarks.bench_overlap            # 36 copies of data/austen (31M tokens), 7 n
    python -m benchmarks.bench_overlap --quick    # 4 copies, 2 repeats

Per repeat, interleaved: :func:`seqcount.api.count_corpus` of ``scale`` copies of the bundled
``data/austen`` shards (873,710 ``words`` tokens each) with the default window sizes
(1, 2, 4, 8, 16, 32, 64) and each overlap sketch, on two layouts of the same tokens: ``small
shards`` (the 6 shards copied ``scale`` times: 6 * scale shards of about 145,000 tokens) and
``large shards`` (6 shards, each one novel's rows repeated ``scale`` times); and on the
``multilingual`` corpus of :mod:`benchmarks.multilingual` (32M tokens in 4 shards, the corpus
of ``e2e_peers``: text that seldom repeats, 1.4M distinct words). Theta and MinHash
keep a sketch per shard, so their cost has a part per shard (a theta sketch starts exact and
takes most windows until it is full) and a part per window; theta runs with each shard's
sketch at its default 2**8 values and at 2**10 and 2**14, and with the whole input's at 2**12
and 2**4 instead of 2**14 (see ``SKETCHES``). Reported:
median seconds, tokens/s and the median of the per-repeat ratios to ``--overlap none``, in
wall time and in CPU time of the process (all threads: steadier on a shared machine). The goal
(issue 20): the default run within 1.10x of ``--overlap none``. Writes ``<out>/overlap.json``
and ``.md``, and (a full run into the default ``--out``) the cost table of
``docs/overlap.md``, between :data:`BEGIN` and :data:`END`; ``python -m
benchmarks.performance`` rewrites that table from the results file too.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from benchmarks import multilingual
from benchmarks.common import (
    DEFAULT_OUT,
    ROOT,
    Recorder,
    build_scaled_corpus,
    corpus_shards,
    finish_run,
    fmt,
    hardware_and_versions,
    log,
    median,
    quick_main,
    source_digest,
    write_between,
)

MODES = {
    "full": dict(scale=36, repeats=7, multilingual=32_000_000),
    "quick": dict(scale=4, repeats=2, multilingual=2_000_000),
}
GOAL = 1.10
#: The page whose cost table this benchmark writes, and the lines around the table.
DOC = ROOT / "docs" / "overlap.md"
BEGIN = "<!-- the table below is written by benchmarks/bench_overlap.py from its results -->"
END = "<!-- end of the table written by benchmarks/bench_overlap.py -->"
#: The runs compared, by name: ``CountConfig`` options. ``theta`` is the default (each shard's
#: sketch of 2**8 values, the whole input's of 2**14); the larger shard sketches show what
#: their size costs (``shard k = 2**14`` is what each shard pays where shards are counted
#: apart, ``--jobs`` or ``--state``).
SKETCHES = {
    "none": dict(overlap="none"),
    "theta": dict(overlap="theta"),
    "theta, shard k = 2**10": dict(overlap="theta", shard_theta_k=1 << 10),
    "theta, shard k = 2**14": dict(overlap="theta", shard_theta_k=1 << 14),
    # the whole input's sketch smaller: what its size costs (2**4: what any theta run costs)
    "theta, whole k = 2**12": dict(overlap="theta", theta_k=1 << 12),
    "theta, whole k = 2**4": dict(overlap="theta", theta_k=1 << 4),
    "minhash": dict(overlap="minhash"),
}


def run(mode: str, out: Path, work: Path) -> int:
    import seqcount.api as api
    from seqcount.config import CountConfig

    t_start = time.perf_counter()
    digest = source_digest()
    cfg = MODES[mode]
    work.mkdir(parents=True, exist_ok=True)
    corpora = {
        "small shards": str(build_scaled_corpus(work, cfg["scale"])),
        "large shards": str(large_shards(work, cfg["scale"])),
        "multilingual": str(multilingual.corpus(work, cfg["multilingual"])[0]),
    }
    configs = {name: CountConfig(**options) for name, options in SKETCHES.items()}
    one = str(build_scaled_corpus(work, 1))
    for c in configs.values():  # warm-up: compile or load every kernel
        api.count_corpus(one, c)
    times = {(lay, name): [] for lay in corpora for name in SKETCHES}
    cpu = {key: [] for key in times}  # CPU seconds of the process (all threads)
    tokens = {}  # per layout
    for r in range(cfg["repeats"]):
        for (lay, name), ts in times.items():
            t0, c0 = time.perf_counter(), time.process_time()
            res = api.count_corpus(corpora[lay], configs[name])
            ts.append(time.perf_counter() - t0)
            cpu[(lay, name)].append(time.process_time() - c0)
            tokens[lay] = res.tokens
        log(f"repeat {r + 1}/{cfg['repeats']}: "
            + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))  # fmt: skip
    rec = Recorder()
    for (lay, name), ts in times.items():
        base = times[(lay, "none")]
        what = f"austen x{cfg['scale']}" if lay != "multilingual" else "multilingual"
        system, work_name = f"count --overlap {name}", f"{what}, {tokens[lay]:,} tokens, 7 n, {lay}"
        system = system.replace(", shard k = 2**", " --shard-theta-k 2**")
        system = system.replace(", whole k = 2**", " --theta-k 2**")
        rec.add(system, work_name, "seconds", median(ts), "s", lay, samples=ts)
        rec.add(system, work_name, "throughput", tokens[lay] / median(ts), "tokens/s", lay)
        ratios = [t / b for t, b in zip(ts, base)]
        goal = GOAL if name == "theta" else None
        rec.add(system, work_name, "ratio to none", median(ratios), "x", lay,
                samples=ratios, goal=goal)  # fmt: skip
        cs, cb = cpu[(lay, name)], cpu[(lay, "none")]
        rec.add(system, work_name, "cpu seconds", median(cs), "s", lay, samples=cs)
        cratios = [t / b for t, b in zip(cs, cb)]
        rec.add(system, work_name, "cpu ratio to none", median(cratios), "x", lay,
                samples=cratios, goal=goal)  # fmt: skip
    meta = hardware_and_versions(mode, [])
    meta |= {"tokens": tokens["small shards"], "multilingual_tokens": tokens["multilingual"],
             "scale": cfg["scale"], "repeats": cfg["repeats"]}  # fmt: skip
    meta["benchmark"] = "benchmarks/bench_overlap.py"
    meta["command"] = f"python -m benchmarks.bench_overlap{' --quick' if mode == 'quick' else ''}"
    rc = finish_run(rec, meta, digest, t_start, out, "overlap", render)
    if mode == "full" and Path(out).resolve() == DEFAULT_OUT.resolve():
        write_doc(json.loads((Path(out) / "overlap.json").read_text()))
        log(f"wrote the cost table of {DOC}")
    return rc


def large_shards(work: Path, scale: int) -> Path:
    """6 shards, each a novel's rows repeated ``scale`` times (kept for reuse)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dest = work / f"corpus_{scale}x_large"
    dest.mkdir(parents=True, exist_ok=True)
    for s in corpus_shards():
        target = dest / s.name
        if not target.exists():
            t = pq.read_table(s)
            pq.write_table(pa.concat_tables([t] * scale), target)
    return dest


def _ratio_cell(m: dict, key: str) -> str:
    """``1.18x (1.05-1.30)``: the median of the per-repeat ratios and their range."""
    r = m[key]
    samples = r.get("samples") or [r["value"]]
    return f"{fmt(r['value'])}x ({fmt(min(samples))}-{fmt(max(samples))})"


def _by_run(doc: dict) -> dict:
    """``{(layout, system): {metric: result}}`` in the results' order."""
    by = {}
    for r in doc["results"]:
        by.setdefault((r["section"], r["system"]), {})[r["metric"]] = r
    return by


def doc_table(doc: dict) -> str:
    """The cost table of docs/overlap.md: a row per run, a column per layout; ``--overlap
    none`` in seconds, the others as the median ratio to it, the range over the repeats in
    brackets, and the CPU time's median ratio."""
    by = _by_run(doc)
    layouts = list(dict.fromkeys(lay for lay, _ in by))
    systems = list(dict.fromkeys(name for _, name in by))
    meta = doc["meta"]
    lines = [
        f"At {meta.get('seqcount_commit', '?')}, {meta.get('repeats', '?')} interleaved repeats;"
        " ratio to `--overlap none`: median (range over the repeats), then the CPU time's "
        "median ratio.",
        "",
        "| run | " + " | ".join(layouts) + " |",
        "|---|" + "---:|" * len(layouts),
    ]
    for name in systems:
        label = "`" + name.replace("count ", "", 1) + "`"
        if name == "count --overlap theta":
            label += " (the default: 2^14 whole, 2^8 per shard)"
        cells = []
        for lay in layouts:
            m = by[(lay, name)]
            if name.endswith("--overlap none"):
                cells.append(f"{fmt(m['seconds']['value'])} s")
            else:
                cells.append(f"{_ratio_cell(m, 'ratio to none')}, CPU "
                             f"{fmt(m['cpu ratio to none']['value'])}x")  # fmt: skip
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_doc(doc: dict, path: Path = DOC) -> None:
    """Put :func:`doc_table` between :data:`BEGIN` and :data:`END` of ``path``."""
    write_between(path, BEGIN, END, doc_table(doc))


def render(doc: dict) -> str:
    meta = doc["meta"]
    lines = [
        "# count: the cost of the overlap sketch",
        "",
        f"data/austen x{meta['scale']} ({meta['tokens']:,} words tokens) in two layouts, and the "
        f"multilingual corpus ({meta.get('multilingual_tokens', 0):,} words tokens, "
        f"`benchmarks/multilingual.py`); n = 1, 2, 4, 8, 16, "
        f"32, 64, {meta['repeats']} interleaved repeats, medians. Goal (issue 20): the default "
        f"(`--overlap theta`, each shard's sketch of 2**8 values, the whole input's of 2**14) "
        f"within {GOAL}x of `--overlap none`.",
        "",
        "| layout | run | seconds | tokens/s | ratio to none (range) | CPU seconds "
        "| CPU ratio to none (range) |",
        "|---|---|---|---|---|---|---|",
    ]
    for (lay, name), m in _by_run(doc).items():
        lines.append(
            f"| {lay} | {name} | {fmt(m['seconds']['value'])} | "
            f"{fmt(m['throughput']['value'], 'tokens/s')} | {_ratio_cell(m, 'ratio to none')} | "
            f"{fmt(m['cpu seconds']['value'])} | {_ratio_cell(m, 'cpu ratio to none')} |"
        )
    hw = meta.get("hardware", {})
    lines += [
        "",
        "Ratios: the median of the per-repeat ratios, and in brackets their range over the "
        "repeats. CPU: process time of all threads, less disturbed than wall time when other "
        "work shares the machine.",
    ]
    lines += ["", f"Machine: {hw.get('cpu_model', '?')}, {hw.get('cpu_count', '?')} cores.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    return quick_main(__doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
