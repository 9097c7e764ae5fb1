"""Throughput of ``seqcount contamination`` against ``count --n 13 --overlap none`` (same data).

Run from the project root::

    python -m benchmarks.bench_contamination            # 24 copies of data/austen (21M tokens)
    python -m benchmarks.bench_contamination --quick    # 4 copies, 2 repeats

Everything is measured in one run, interleaved (count, then each contamination variant, per
repeat), on one training corpus: ``scale`` copies of the bundled ``data/austen`` Parquet shards
(873,710 ``words`` tokens each). Evaluation sets, written as JSON Lines under
``benchmarks/_work/``:

* ``small``: 60 documents of about 500 tokens, half cut from the corpus, half its words shuffled
  (about 3e4 windows: the table fits in cache);
* ``large``: every corpus document with every other paragraph's words shuffled (about 9e5
  windows, a table of 2**21 slots: lookups miss the cache; half the training windows are
  found, in runs);
* ``unseen``: the same with every paragraph's words shuffled (as many windows, almost none in
  the training corpus: every training window goes through the filter, and the ones that pass
  it by chance read the table).

Per repeat: :func:`seqcount.api.count` with the options ``seqcount count CORPUS --n 13
--overlap none`` gives it (the count without an overlap sketch, as users would run it, writing
nothing) and :func:`seqcount.api.contamination` with ``n=13`` on each set, and on the large
set with ``verify``. The goal (issue 20): the contamination run, evaluation set
included, within 1.5x of the count. Reported: median seconds, tokens/s, the median of the
per-repeat ratios, and the ratio of the process CPU seconds (less disturbed by other jobs on
a shared machine than the wall clock). Writes ``<out>/contamination.json`` and ``.md``.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from benchmarks.common import (
    Recorder,
    build_scaled_corpus,
    corpus_texts,
    finish_run,
    fmt,
    hardware_and_versions,
    log,
    median,
    quick_main,
    source_digest,
)

MODES = {"full": dict(scale=24, repeats=5), "quick": dict(scale=4, repeats=2)}
GOAL = 1.5
BASE = "count --n 13 --overlap none"


def _shuffled(text: str, rng: random.Random) -> str:
    w = text.split()
    rng.shuffle(w)
    return " ".join(w)


def eval_sets(work: Path) -> dict[str, Path]:
    """The ``small``, ``large`` and ``unseen`` evaluation sets (JSON Lines), seeded."""
    rng = random.Random(20)
    texts = corpus_texts()
    small, large = [], []
    for i in range(60):
        words = rng.choice(texts).split()
        a = rng.randint(0, max(len(words) - 500, 0))
        piece = " ".join(words[a : a + 500])
        small.append(piece if i % 2 == 0 else _shuffled(piece, rng))
    for t in texts:
        paras = t.split("\n\n")
        large.append("\n\n".join(p if k % 2 else _shuffled(p, rng) for k, p in enumerate(paras)))
    rng = random.Random(21)  # its own draws: the other sets stay as they were
    unseen = ["\n\n".join(_shuffled(p, rng) for p in t.split("\n\n")) for t in texts]
    out = {}
    for name, docs in (("small", small), ("large", large), ("unseen", unseen)):
        path = work / f"contamination_eval_{name}.jsonl"
        path.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs))
        out[name] = path
    return out


def run(mode: str, out: Path, work: Path) -> int:
    import seqcount.api as api
    from seqcount.config import CountConfig

    t_start = time.perf_counter()
    digest = source_digest()
    cfg = MODES[mode]
    work.mkdir(parents=True, exist_ok=True)
    corpus = str(build_scaled_corpus(work, cfg["scale"]))
    evals = eval_sets(work)
    config = CountConfig(ns=(13,), tokenizer="words", overlap="none")  # as the CLI makes it
    # warm-up: compile or load every kernel, read the files once
    api.count(str(evals["small"]), config=config)
    api.contamination(str(evals["small"]), str(evals["large"]), n=13, verify=True)
    variants = {
        "contamination small": dict(eval=str(evals["small"])),
        "contamination large": dict(eval=str(evals["large"])),
        "contamination large --verify": dict(eval=str(evals["large"]), verify=True),
        "contamination unseen": dict(eval=str(evals["unseen"])),
    }
    times: dict[str, list[float]] = {BASE: []} | {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in times}
    info = {}
    tokens = 0
    for r in range(cfg["repeats"]):
        t0, c0 = time.perf_counter(), time.process_time()
        res = api.count(corpus, config=config)
        times[BASE].append(time.perf_counter() - t0)
        cpu[BASE].append(time.process_time() - c0)
        tokens = res.tokens
        for name, kw in variants.items():
            t0, c0 = time.perf_counter(), time.process_time()
            c = api.contamination(corpus, kw["eval"], n=13, verify=kw.get("verify", False))
            times[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            info[name] = (c.distinct_windows, int(c.windows.sum()), int(c.hits.sum()),
                          c.memory_bytes)  # fmt: skip
            assert c.train["tokens"] == tokens
        log(f"repeat {r + 1}/{cfg['repeats']}: " + ", ".join(f"{k} {v[-1]:.2f} s"
                                                           for k, v in times.items()))  # fmt: skip
    rec = Recorder()
    base, base_cpu = times[BASE], cpu[BASE]
    for name, ts in times.items():
        extra = {}
        if name in info:
            distinct, windows, hits, mem = info[name]
            extra = dict(eval_distinct_windows=distinct, eval_windows=windows, eval_hits=hits,
                         memory_bytes=mem)  # fmt: skip
        rec.add(name, f"austen x{cfg['scale']}", "seconds", median(ts), "s", "scan",
                samples=ts, **extra)  # fmt: skip
        rec.add(name, f"austen x{cfg['scale']}", "throughput", tokens / median(ts), "tokens/s",
                "scan")  # fmt: skip
        if name in info:
            ratios = [t / b for t, b in zip(ts, base)]
            rec.add(name, f"austen x{cfg['scale']}", "ratio to count", median(ratios), "x",
                    "scan", samples=ratios, goal=GOAL)  # fmt: skip
            ratios = [t / b for t, b in zip(cpu[name], base_cpu)]
            rec.add(name, f"austen x{cfg['scale']}", "cpu ratio to count", median(ratios), "x",
                    "scan", samples=ratios)  # fmt: skip
    meta = hardware_and_versions(mode, [])
    meta |= {"tokens": tokens, "scale": cfg["scale"], "repeats": cfg["repeats"]}
    return finish_run(rec, meta, digest, t_start, out, "contamination", render)


def render(doc: dict) -> str:
    meta = doc["meta"]
    lines = [
        "# seqcount contamination: scan throughput",
        "",
        f"Training corpus: data/austen x{meta['scale']} ({meta['tokens']:,} words tokens), "
        f"n = 13, {meta['repeats']} interleaved repeats, medians. Goal: contamination within "
        f"{GOAL}x of `{BASE}` on the same data. Ratios: median (and range) of the per-repeat "
        "ratios, wall clock; then the same of the process's CPU seconds, less disturbed by other "
        "jobs on a shared machine.",
        "",
        "| run | seconds | tokens/s | ratio to count | CPU ratio | eval windows (distinct) "
        "| eval hits | memory |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by = {}
    for r in doc["results"]:
        by.setdefault(r["system"], {})[r["metric"]] = r
    for name, m in by.items():
        s = m["seconds"]
        ratio = m.get("ratio to count")
        win = f"{s['eval_windows']:,} ({s['eval_distinct_windows']:,})" if ratio else ""
        hits = f"{s['eval_hits']:,}" if ratio else ""
        mem = f"{s['memory_bytes'] / 2**20:.1f} MiB" if ratio else ""
        c = m.get("cpu ratio to count")
        lines.append(
            f"| {name} | {fmt(s['value'])} | {fmt(m['throughput']['value'], 'tokens/s')} | "
            f"{_ratio(ratio)} | {_ratio(c)} | {win} | {hits} | {mem} |"
        )
    hw = meta.get("hardware", {})
    lines += ["", f"Machine: {hw.get('cpu_model', '?')}, {hw.get('cpu_count', '?')} cores.", ""]
    return "\n".join(lines)


def _ratio(rec: dict | None) -> str:
    """``1.21x (1.10-1.40)``: the median and the range of the per-repeat ratios."""
    if rec is None:
        return "1"
    lo, hi = min(rec["samples"]), max(rec["samples"])
    return f"{fmt(rec['value'])}x ({fmt(lo)}-{fmt(hi)})"


def main(argv=None) -> int:
    return quick_main(__doc__.splitlines()[0], run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
