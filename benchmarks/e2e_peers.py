"""seqcount against Polars, DuckDB and the datasketch loop, end to end, as whole processes.

One section of the suite (``python -m benchmarks``, section ``e2e_peers``) and a benchmark of
its own (``python -m benchmarks.e2e_peers [--quick]``, which writes
``benchmarks/results/e2e_peers.{json,md}``). The input is the seeded multilingual corpus of
:mod:`benchmarks.multilingual` (Latin with accents, Cyrillic, Greek, CJK, Arabic; 32 M tokens in
4 Parquet shards in full mode, kept under ``benchmarks/_work``). Every system is a separate
process (``subprocess``; wall time from outside; peak RSS from the child's ``ru_maxrss``, via
:func:`benchmarks.common.peak_rss`), run in interleaved rounds whose order rotates, after a
warm-up of each seqcount command on a small corpus (numba's cache loaded, not compiled, in the
timed runs):

- ``seqcount count --n 1 --overlap none``, ``--n 8 --overlap none``, the default 7 n with the
  default overlap sketch, with ``--overlap theta`` and with ``--overlap minhash``;
- the Polars and DuckDB queries and the datasketch loop of :mod:`benchmarks.peer_queries`
  (the loop on a prefix of the corpus: its tokens/s is its tokens over the loop's time).

Goals (issue 21): ``--n 1`` in at most 0.6x the Polars exact query's time; ``--n 8`` in at
most 0.35x the Polars 8-gram query's and 0.15x DuckDB's; the default 7 n at least 300x the
datasketch loop's tokens/s. Before timing, one untimed ``seqcount count --n 1,8 --exact``
gives exact counts: at n = 1 they must equal Polars' exact ``n_unique`` (the same words: the
peers' regex ``[\\p{L}\\p{N}_]+|[^\\p{L}\\p{N}_\\s]`` and seqcount's ``\\w+|[^\\w\\s]`` agree on
every character assigned in Python's Unicode database, except ``\\x1c``-``\\x1f``, which
Python calls whitespace; the corpus has none) and at n = 8 DuckDB's exact count; every
estimate's error is against them.
"""

from __future__ import annotations

import csv
import json
import shutil
import statistics
import sys
import time
from importlib import metadata
from pathlib import Path

from benchmarks import multilingual
from benchmarks.common import (
    Recorder,
    esc,
    finish_run,
    fmt,
    hardware_and_versions,
    log,
    peak_rss,
    quick_main,
    source_digest,
    stamp_lines,
)

SECTION = "e2e_peers"
MODES = {
    "full": dict(tokens=32_000_000, repeats=3, loop_tokens=200_000),
    "quick": dict(tokens=4_000_000, repeats=1, loop_tokens=50_000),
}
#: Goals of issue 21: seqcount's time over the peer's (at most), tokens/s over the loop's.
GOALS = {"n1_polars": 0.6, "n8_polars": 0.35, "n8_duckdb": 0.15, "loop": 300.0}
#: The overlap sketch the overlap issue makes the default (``--overlap`` default changes to it).
INTENDED_DEFAULT = "theta"
#: Tokens of the warm-up corpus; the default command on it is also timed (its fixed cost).
SMALL = 200_000


def _available(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _default_overlap() -> str:
    """The ``--overlap`` default of the seqcount under test."""
    from seqcount.config import CountConfig

    return str(CountConfig().overlap)


def _runs(corpus: Path, shards: list[Path], work: Path, loop_tokens: int, small: Path) -> dict:
    """name -> ``cmd`` (the command), ``system``, ``what``, ``kind`` (seqcount or peer) and
    ``whole`` (False for the runs on a prefix or on the ``small`` corpus)."""
    py = sys.executable
    out = work / "e2e_peers_out"
    default = _default_overlap()

    def seq(name, *opts):
        return [py, "-m", "seqcount", "count", str(corpus), *opts, "--quiet", "--out",
                str(out / name)]  # fmt: skip

    def peer(query, *extra):
        return [py, "-m", "benchmarks.peer_queries", query, str(out / f"{query}.json"),
                *map(str, shards), *extra]  # fmt: skip

    runs = {
        "seq-1": dict(cmd=seq("seq-1", "--n", "1", "--overlap", "none"), n="1",
                      what="count --n 1 --overlap none"),
        "seq-8": dict(cmd=seq("seq-8", "--n", "8", "--overlap", "none"), n="8",
                      what="count --n 8 --overlap none"),
        "seq-7": dict(cmd=seq("seq-7"), n="7", what=f"count (7 n, default --overlap {default})"),
        "seq-7-theta": dict(cmd=seq("seq-7-theta", "--overlap", "theta"), n="7",
                            what="count --overlap theta (7 n)"),
        "seq-7-minhash": dict(cmd=seq("seq-7-minhash", "--overlap", "minhash"), n="7",
                              what="count --overlap minhash (7 n)"),
        "seq-7-none": dict(cmd=seq("seq-7-none", "--overlap", "none"), n="7",
                           what="count --overlap none (7 n)"),
        "seq-7-small": dict(cmd=seq("seq-7-small"), n="7", whole=False,
                            what=f"count (7 n, default) on the {SMALL:,}-token warm-up corpus"),
    }  # fmt: skip
    runs["seq-7-small"]["cmd"][4] = str(small)
    for r in runs.values():
        r.update(system="seqcount", kind="seqcount")
        r.setdefault("whole", True)
    peers = {
        "polars-exact-1": ("polars", "Polars", "n=1: str.extract_all, explode, n_unique (exact)"),
        "polars-approx-1": ("polars", "Polars", "n=1: str.extract_all, explode, approx_n_unique"),
        "polars-approx-8": ("polars", "Polars",
                            "n=8: shift(-k).over(doc), struct hash, approx_n_unique"),
        "duckdb-exact-1": ("duckdb", "DuckDB", "n=1: unnest(regexp_extract_all), count DISTINCT"),
        "duckdb-exact-8": ("duckdb", "DuckDB", "n=8: unnest, 7 lead() over doc, count DISTINCT"),
        "datasketch-loop": ("datasketch", "pyarrow + regex + datasketch HLL++",
                            f"7 n, one update per n-gram, first {loop_tokens:,} tokens"),
    }  # fmt: skip
    for name, (module, system, what) in peers.items():
        if not _available(module):
            log(f"{module} not installed: {name} skipped")
            continue
        extra = ("--max-tokens", str(loop_tokens)) if name == "datasketch-loop" else ()
        n = "7" if name == "datasketch-loop" else name[-1]
        runs[name] = dict(cmd=peer(name, *extra), system=system, what=what, kind="peer", n=n,
                          whole=name != "datasketch-loop")  # fmt: skip
    return runs


def _curve_final(out: Path) -> dict[int, dict]:
    """The last curve row of each n of a seqcount output directory."""
    final: dict[int, dict] = {}
    with open(out / "curve.csv", newline="") as f:
        for row in csv.DictReader(f):
            final[int(row["n"])] = row
    return final


def _answer(name: str, run: dict, out: Path) -> dict:
    """What the run found: ``{n: distinct}`` and its tokens (seqcount: from its outputs)."""
    if run["kind"] == "seqcount":
        final = _curve_final(out / name)
        ans = {n: float(row["unique"]) for n, row in final.items()}
        return {"answer": ans, "tokens": int(next(iter(final.values()))["tokens"])}
    doc = json.loads((out / f"{name}.json").read_text())
    ans = doc["answer"]
    if isinstance(ans, dict):
        return {"answer": {int(k): v for k, v in ans.items()}, "tokens": doc["tokens"],
                "loop_s": doc["seconds_in_query"]}  # fmt: skip
    return {"answer": {int(run["n"]): ans}, "tokens": doc.get("tokens")}


def _exact(corpus: Path, work: Path) -> dict[int, int]:
    """Exact distinct counts at n = 1 and 8 (seqcount ``--exact``: a set of window hashes)."""
    out = work / "e2e_peers_out" / "exact"
    cmd = [sys.executable, "-m", "seqcount", "count", str(corpus), "--n", "1,8", "--exact",
           "--overlap", "none", "--quiet", "--out", str(out)]  # fmt: skip
    peak_rss(cmd, work / "e2e_exact.stderr")
    return {n: int(row["unique_exact"]) for n, row in _curve_final(out).items()}


def _measure(runs: dict, repeats: int, work: Path) -> dict[str, dict]:
    """Interleaved rounds (the order rotates each round); per run every wall time and peak
    RSS, and the answer of its last run."""
    got = {name: {"wall": [], "rss": []} for name in runs}
    names = list(runs)
    out = work / "e2e_peers_out"
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            res = peak_rss(runs[name]["cmd"], work / f"e2e_{name}.stderr")
            got[name]["wall"].append(res["wall_s"])
            got[name]["rss"].append(res["maxrss_kib"] / 1024)
            got[name].update(_answer(name, runs[name], out))
            if "loop_s" in got[name]:  # the loop's own time, every round
                got[name].setdefault("loop_samples", []).append(got[name]["loop_s"])
            log(f"round {r + 1}/{repeats} {name}: {res['wall_s']:.2f} s, "
                f"{res['maxrss_kib'] / 1024:.0f} MiB")  # fmt: skip
    return got


def _warm_up(runs: dict, work: Path, small: Path) -> None:
    """Each seqcount command once on the ``small`` corpus: numba's cache is loaded (or
    written) before the timed runs."""
    for name, run in runs.items():
        if run["kind"] == "seqcount":
            cmd = list(run["cmd"])
            cmd[4] = str(small)
            peak_rss(cmd, work / f"e2e_warm_{name}.stderr")


def bench(rec: Recorder, mode: str, work: Path, meta: dict) -> None:
    cfg = MODES[mode]
    corpus, manifest = multilingual.corpus(work, cfg["tokens"])
    shards = sorted(corpus.glob("*.parquet"))
    mb = sum(s.stat().st_size for s in shards) / 1e6
    out = work / "e2e_peers_out"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    small, _ = multilingual.corpus(work, SMALL)
    runs = _runs(corpus, shards, work, cfg["loop_tokens"], small)
    versions = meta.setdefault("versions", {})
    for name in ("polars", "duckdb", "regex"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    meta.setdefault("settings", {})[SECTION] = dict(
        cfg, default_overlap=_default_overlap(), corpus=str(corpus.name), shards=len(shards),
        parquet_mb=round(mb, 1), documents=manifest["documents"], tokens=manifest["tokens"],
        runs={k: " ".join(Path(c).name if "/" in c else c for c in v["cmd"][1:])
              for k, v in runs.items()},
    )  # fmt: skip
    meta["settings"][SECTION]["about"] = (
        f"multilingual synthetic (benchmarks/multilingual.py, seed 0): {manifest['tokens']:,} "
        f"tokens, {manifest['documents']:,} documents, {len(shards)} Parquet shards, {mb:.0f} MB"
    )
    log(f"e2e_peers: {meta['settings'][SECTION]['about']}")
    log("e2e_peers: warm-up")
    _warm_up(runs, work, small)
    log("e2e_peers: exact counts (seqcount --exact, n = 1, 8)")
    exact = _exact(corpus, work)
    got = _measure(runs, cfg["repeats"], work)
    _record(rec, runs, got, exact, manifest, meta)


def _record(rec: Recorder, runs: dict, got: dict, exact: dict, manifest: dict, meta) -> None:
    tokens = manifest["tokens"]
    med = {k: statistics.median(v["wall"]) for k, v in got.items()}
    for name, run in runs.items():
        g = got[name]
        ans = g["answer"]
        errs = {n: ans[n] / exact[n] - 1 for n in ans if n in exact and run["whole"]}
        extra = dict(
            samples=g["wall"], spread=(max(g["wall"]) - min(g["wall"])) / med[name],
            peak_rss_mib=max(g["rss"]), answer={str(n): v for n, v in ans.items()},
            relative_error={str(n): e for n, e in errs.items()}, n=run["n"], run_id=name,
        )  # fmt: skip
        if name == "datasketch-loop":
            loop_s = statistics.median(g["loop_samples"])
            extra.update(tokens=g["tokens"], loop_s=loop_s, loop_samples=g["loop_samples"],
                         loop_tokens_per_s=g["tokens"] / loop_s)  # fmt: skip
        else:
            extra["tokens"] = g.get("tokens") or tokens
        rec.add(run["system"], run["what"], "wall time (median)", med[name], "s", SECTION,
                **extra)  # fmt: skip
    rec.add("exact (seqcount --exact)", "count --n 1,8 --exact --overlap none (untimed)",
            "distinct", exact[1], "", SECTION, answer={str(n): v for n, v in exact.items()},
            run_id="exact", n="1,8")  # fmt: skip
    _goals(rec, runs, got, med, tokens, meta)


def _ratio_rec(rec, what, ours, peer, got, med, goal, at_most=True):
    per_round = [a / b for a, b in zip(got[ours]["wall"], got[peer]["wall"])]
    ratio = med[ours] / med[peer]
    met = ratio <= goal if at_most else ratio >= goal
    rec.add("seqcount / peer", what, "time ratio (median over median)", ratio, "x", SECTION,
            per_round=per_round, target=f"{'<=' if at_most else '>='} {goal:g}x",
            target_met=bool(met), run_id=f"{ours}/{peer}")  # fmt: skip


def _goals(rec: Recorder, runs, got, med, tokens: int, meta) -> None:
    have = set(runs)
    if "polars-exact-1" in have:
        _ratio_rec(rec, "count --n 1 vs Polars exact n_unique", "seq-1", "polars-exact-1", got,
                   med, GOALS["n1_polars"])  # fmt: skip
    if "polars-approx-8" in have:
        _ratio_rec(rec, "count --n 8 vs Polars 8-gram approx_n_unique", "seq-8",
                   "polars-approx-8", got, med, GOALS["n8_polars"])  # fmt: skip
    if "duckdb-exact-8" in have:
        _ratio_rec(rec, "count --n 8 vs DuckDB 8-gram count DISTINCT", "seq-8", "duckdb-exact-8",
                   got, med, GOALS["n8_duckdb"])  # fmt: skip
    if "datasketch-loop" not in have:
        return
    loop = got["datasketch-loop"]
    loop_rate = loop["tokens"] / statistics.median(loop["loop_samples"])
    default = meta["settings"][SECTION]["default_overlap"]
    for name in ("seq-7", "seq-7-theta", "seq-7-minhash", "seq-7-none"):
        if name not in med:
            continue
        rate = tokens / med[name]
        ratio = rate / loop_rate
        goal = name == "seq-7" or name == f"seq-7-{INTENDED_DEFAULT}"
        extra = {}
        if goal:
            extra = dict(target=f">= {GOALS['loop']:g}x", target_met=bool(ratio >= GOALS["loop"]))
        rec.add("seqcount / datasketch loop", runs[name]["what"] + " vs the datasketch loop",
                "tokens/s ratio", ratio, "x", SECTION, seqcount_tokens_per_s=rate, tokens=tokens,
                loop_tokens_per_s=loop_rate, run_id=f"{name}/datasketch-loop",
                note=(f"the current default ({default})" if name == "seq-7" else None),
                **extra)  # fmt: skip


# --------------------------------------------------------------------------- markdown

DESCRIPTION = (
    "Whole processes on the same Parquet shards: wall time from outside, peak RSS of the "
    "process (`ru_maxrss`), the median of interleaved rounds (the order rotates each round) "
    "after a warm-up of each seqcount command; *spread*: (slowest - fastest) / median. Every "
    "system counts the words of the regex `[\\p{L}\\p{N}_]+|[^\\p{L}\\p{N}_\\s]` "
    "(seqcount's `words` tokenizer); *exact* is `seqcount count --n 1,8 --exact` (a set of "
    "64-bit window hashes), checked against the exact peers. Source: `benchmarks/e2e_peers.py` "
    "(queries: `benchmarks/peer_queries.py`, corpus: `benchmarks/multilingual.py`)."
)


def _fmt_answer(r: dict, n: str) -> str:
    v = r.get("answer", {}).get(n)
    if v is None:
        return ""
    e = r.get("relative_error", {}).get(n)
    s = f"{v:,.0f}"
    return s + (f" ({100 * e:+.2f}%)" if e is not None else "")


def _fixed_cost(runs: list[dict]) -> str:
    small = next((r for r in runs if r.get("run_id") == "seq-7-small"), None)
    if small is None:
        return ""
    return (
        f" The default command on the {small['tokens']:,}-token warm-up corpus (`seq-7-small`) "
        f"takes {small['value']:.2f} s: about the fixed cost of a run (interpreter, imports, "
        "numba's cache, outputs)."
    )


def markdown(results: list[dict], level: int = 2) -> list[str]:
    """The goals, the runs (time, RSS, answers) and the datasketch ratios of the section, under
    headings of ``level``."""
    rows = [r for r in results if r["section"] == SECTION]
    if not rows:
        return []
    h = "#" * level
    goals = [r for r in rows if "target" in r]
    lines = [f"{h} Goals", "", "| Goal | seqcount | peer | ratio | per round | met |",
             "|---|---|---|---:|---|---|"]  # fmt: skip
    for r in goals:
        ours, peer = r["run_id"].split("/")
        if "per_round" in r:
            per = ", ".join(f"{x:.3f}" for x in r["per_round"])
        else:
            per = (f"{fmt(r['seqcount_tokens_per_s'] / 1e6)} M vs "
                   f"{fmt(r['loop_tokens_per_s'] / 1e3)} k tokens/s")  # fmt: skip
        lines.append(
            f"| {esc(r['target'])}: {esc(r['workload'])} | {ours} | {peer} | "
            f"{r['value']:.3g}x | {per} | {'yes' if r['target_met'] else '**no**'} |"
        )
    runs = [r for r in rows if r["metric"] == "wall time (median)"]
    exact = next((r for r in rows if r.get("run_id") == "exact"), None)
    lines += ["", f"{h} Runs", "", DESCRIPTION, "",
              "| Run | System | What | s (median) | spread | peak RSS MiB | U_1 (error) | "
              "U_8 (error) |", "|---|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in runs:
        lines.append(
            f"| {r['run_id']} | {esc(r['system'])} | {esc(r['workload'])} | {r['value']:.2f} | "
            f"{100 * r['spread']:.0f}% | {r['peak_rss_mib']:,.0f} | {_fmt_answer(r, '1')} | "
            f"{_fmt_answer(r, '8')} |"
        )
    if exact:
        lines.append(f"| exact | {esc(exact['system'])} | {esc(exact['workload'])} | | | | "
                     f"{exact['answer']['1']:,} | {exact['answer']['8']:,} |")  # fmt: skip
    loop = [r for r in rows if r["system"] == "seqcount / datasketch loop"]
    if loop:
        lines += ["", f"{h} Against the datasketch loop", "",
                  "seqcount's tokens/s on the whole corpus (tokens over the median wall time of "
                  "the process) over the loop's (its tokens over the loop's own time, without "
                  "the interpreter's start, median of the rounds, on a prefix: its rate does not "
                  "depend on the size).",
                  "*s for the goal*: the wall time at which the ratio would reach the goal."
                  + _fixed_cost(runs),
                  "", "| seqcount run | s (median) | s for the goal | seqcount tokens/s | "
                  "loop tokens/s | ratio | goal |",
                  "|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
        for r in loop:
            goal = (f"{esc(r['target'])}: {'met' if r['target_met'] else '**not met**'}"
                    if "target" in r else "")  # fmt: skip
            note = f" ({esc(r['note'])})" if r.get("note") else ""
            need = r["tokens"] / (GOALS["loop"] * r["loop_tokens_per_s"])
            took = r["tokens"] / r["seqcount_tokens_per_s"]
            lines.append(
                f"| {r['run_id'].split('/')[0]}{note} | {took:.2f} | {need:.2f} | "
                f"{fmt(r['seqcount_tokens_per_s'] / 1e6)} M | "
                f"{fmt(r['loop_tokens_per_s'] / 1e3)} k | {r['value']:.0f}x | {goal} |"
            )
    return lines


def render(doc: dict) -> str:
    lines = ["# seqcount against Polars, DuckDB and the datasketch loop, end to end", ""]
    lines += stamp_lines(doc["meta"]) + [""] + markdown(doc["results"])
    return "\n".join(lines) + "\n"


def run(rec: Recorder, quick: bool, work: Path, meta: dict) -> None:
    """The suite's ``e2e_peers`` section."""
    bench(rec, "quick" if quick else "full", work, meta)


def _main(mode: str, out: Path, work: Path) -> int:
    t0 = time.perf_counter()
    argv = sys.argv[1:]
    meta = hardware_and_versions(mode, argv)
    meta["benchmark"] = "benchmarks/e2e_peers.py"
    meta["command"] = "python -m benchmarks.e2e_peers " + " ".join(argv)
    digest = source_digest()
    rec = Recorder()
    work.mkdir(parents=True, exist_ok=True)
    bench(rec, mode, work, meta)
    meta["corpus"] = meta["settings"][SECTION]["about"]  # the stamp's corpus line
    return finish_run(rec, meta, digest, t0, out, "e2e_peers", render)


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.e2e_peers [--quick] [--repeats R] [--out DIR] [--work DIR]``."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--repeats" in argv:  # more rounds than the mode's, for a noisy machine
        i = argv.index("--repeats")
        repeats = int(argv[i + 1])
        del argv[i : i + 2]
        for cfg in MODES.values():
            cfg["repeats"] = repeats
    return quick_main(__doc__.split("\n\n")[0], _main, argv)


if __name__ == "__main__":
    sys.exit(main())
