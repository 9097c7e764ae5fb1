"""The benchmark suite: seqcount against its peers on speed, accuracy and memory, in one run.

Run from the project root (with ``pip install -e ".[bench]"``)::

    python -m benchmarks --quick              # under 5 minutes on 2 cores
    python -m benchmarks                      # full mode (see benchmarks/README.md for its time)
    python -m benchmarks --out DIR            # default: benchmarks/results/suite
    python -m benchmarks --only peers,scale   # some sections only
    python -m benchmarks --docs PATH          # default: docs/performance.md

Sections, each a module of this package: ``peers`` (window-update speed of seqcount's kernels
and of datasketch, Apache DataSketches, numpy, a Python set and DuckDB on the same hashes; end to
end against the I/O floor and the pure-Python alternative), ``accuracy`` (relative error against
exact counts from 10 to 10**9 distinct, per precision, the HIP estimator, peers at equal memory,
the error of the growth exponent), ``scale`` (peak memory at 1x/4x/16x, time against corpus
size and against the number of window sizes) and ``stages`` (where one counting pass spends its
time: discover, decode, tokenize, window hashes + register updates, MinHash, finish; see
:mod:`benchmarks.stages`) and ``e2e_peers`` (``seqcount count`` against Polars and DuckDB
queries and the datasketch loop, whole processes on a 32 M-token multilingual corpus; see
:mod:`benchmarks.e2e_peers`; a peer that is not installed is skipped).

Writes ``DIR/results.json`` (a JSON list of records: ``system``, ``workload``, ``metric``,
``value``, ``unit``, ``section``, ``run`` and optional extras such as ``seqcount_over_peer``,
``target``, ``target_met``, ``samples``), ``DIR/meta.json`` (hardware, versions, date, settings,
run time) and ``DIR/results.md`` (rendered from those two files, never by hand), prints the
markdown and writes the page ``docs/performance.md`` (:mod:`benchmarks.performance`: this run's
tables and those of the focused benchmarks). Scratch files (synthetic corpora, CLI outputs) go
to ``benchmarks/_work/``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks import e2e_peers, performance, stages
from benchmarks.common import (
    DEFAULT_WORK,
    ROOT,
    Recorder,
    esc,
    fmt,
    git_state,
    hardware_and_versions,
    log,
    source_digest,
    stamp_lines,
)

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "suite"
SECTIONS = ("peers", "accuracy", "scale", "stages", "e2e_peers")


def _module(name: str):
    import importlib

    return importlib.import_module(f"benchmarks.{name}")


def _ratio(r: dict) -> str:
    for key in ("seqcount_over_peer", "time_over_io_floor"):
        if key in r:
            return f"{r[key]:.3g}x"
    return ""


def _target(r: dict) -> str:
    if "target" not in r:
        return ""
    return f"{esc(r['target'])}: {'met' if r.get('target_met') else '**not met**'}"


def table(results: list[dict], sections: tuple[str, ...], extra: dict[str, str] | None = None):
    """A markdown table of the records of ``sections``; ``extra`` maps optional record keys
    (or ``ratio``) to column titles."""
    extra = extra or {}
    rows = [r for r in results if r["section"] in sections]
    if not rows:
        return []
    head = ["System", "Workload", "Metric", "Value", *extra.values(), "Target"]
    out = ["| " + " | ".join(head) + " |", "|---|---|---|---:|" + "---:|" * len(extra) + "---|"]
    for r in rows:
        cells = [esc(r["system"]), esc(r["workload"]), esc(r["metric"])]
        cells.append(f"{fmt(r['value'])} {r['unit']}".strip())
        for key in extra:
            if key == "ratio":
                cells.append(_ratio(r))
            elif key in r:
                cells.append(fmt(r[key]))
            else:
                cells.append("")
        cells.append(_target(r))
        out.append("| " + " | ".join(cells) + " |")
    return out


def goals(results: list[dict]) -> list[str]:
    """The suite's goals with the measured values, from the records that carry a target."""
    rows = [r for r in results if "target" in r]
    if not rows:
        return []
    out = ["| Goal | Measured | System | Met |", "|---|---:|---|---|"]
    for r in rows:
        value = f"{fmt(r['value'])} {r['unit']}".strip()
        if "ns_per_item" in r:
            value = f"{fmt(r['ns_per_item'])} ns per update"
        elif "time_over_io_floor" in r:
            value = f"{r['time_over_io_floor']:.2f}x the I/O floor"
        elif "seqcount_over_peer" in r:
            value = f"{r['seqcount_over_peer']:.0f}x"
        out.append(
            f"| {esc(r['target'])} | {value} | {esc(r['system'])}: {esc(r['workload'])} | "
            f"{'yes' if r.get('target_met') else '**no**'} |"
        )
    return out


def render(results: list[dict], meta: dict) -> str:
    lines = stamp_lines(meta)
    lines += ["", "## Goals", ""] + goals(results)
    if any(r["section"] == "peers" for r in results):
        lines += [
            "", "## Window updates on one core", "",
            "Every system counts the same 64-bit window hashes of `data/austen`. *ratio*: "
            "seqcount's rate over the peer's, like for like (seqcount's register update on "
            "precomputed hashes for the HyperLogLog and exact peers, seqcount's MinHash for "
            "MinHash); *vs window kernel*: the same against `hll_update_windows`, which also "
            "computes every window hash from the tokens.",
            "",
        ] + table(results, ("peers",), {
            "ns_per_item": "ns per item", "ratio": "ratio",
            "window_kernel_over_peer": "vs window kernel", "relative_error": "relative error",
        })  # fmt: skip
    if any(r["section"] == "e2e" for r in results):
        lines += [
            "", "## End to end", "",
            "Median of round-robin repeats in one process, after a warm-up call. *ratio*: "
            "seqcount's time over the I/O floor (pyarrow reading and decompressing the same "
            "column and nothing else), or seqcount's tokens/s over the alternative's.",
            "",
        ] + table(results, ("e2e",), {"ratio": "ratio"})  # fmt: skip
    if any(r["section"] == "accuracy" for r in results):
        lines += ["", _module("accuracy").markdown(results, meta).strip()]
    for section, title in (("memory", "Memory"), ("scaling", "Scaling")):
        if any(r["section"] == section for r in results):
            lines += ["", f"## {title}", ""] + table(results, (section,))
    peer_lines = e2e_peers.markdown(results, level=3)
    if peer_lines:
        lines += ["", "## End to end against Polars, DuckDB and the datasketch loop", ""]
        lines += peer_lines
    stage_lines = stages.markdown(results)
    if stage_lines:
        lines += [""] + stage_lines
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="seqcount against its peers: speed, accuracy, memory. Writes "
        "results.json, meta.json and results.md.",
    )
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats (< 5 min)")
    ap.add_argument("--out", default=str(DEFAULT_OUT), help=f"output directory ({DEFAULT_OUT})")
    ap.add_argument("--work", default=str(DEFAULT_WORK), help="scratch directory")
    ap.add_argument(
        "--docs",
        default=str(performance.PAGE),
        help=f"the page written from the results ({performance.PAGE}); '' for none",
    )
    ap.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}"
    )
    args = ap.parse_args(argv)
    only = tuple(s.strip() for s in args.only.split(",") if s.strip())
    bad = [s for s in only if s not in SECTIONS]
    if bad or not only:
        ap.error(f"--only: unknown section(s) {bad}; choose from {', '.join(SECTIONS)}")
    out, work = Path(args.out), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    import seqcount._kernels  # noqa: F401  (seqcount picks numba's threading layer at import)

    mode = "quick" if args.quick else "full"
    meta = hardware_and_versions(mode, argv)
    meta["benchmark"] = "benchmarks/__main__.py"
    meta["command"] = "python -m benchmarks " + " ".join(argv)
    from importlib import metadata

    for name in ("datasketches", "duckdb", "polars"):
        try:
            meta["versions"][name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            meta["versions"][name] = None
    digest = source_digest()
    rec = Recorder()
    for name in only:
        t0 = time.perf_counter()
        log(f"section {name}")
        _module(name).run(rec, args.quick, work, meta)
        meta.setdefault("section_runtime_s", {})[name] = round(time.perf_counter() - t0, 1)
    meta["total_runtime_s"] = round(time.perf_counter() - t_start, 1)
    if source_digest() != digest or git_state()[0] != meta["seqcount_commit"]:
        meta["seqcount_changed_during_run"] = True
        log("WARNING: seqcount's sources changed during the run; the figures mix versions")
    for r in rec.results:
        r["run"] = meta["date_utc"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(rec.results, indent=1) + "\n")
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    md = render(json.loads((out / "results.json").read_text()), meta)
    (out / "results.md").write_text(md)
    print(md)
    log(f"wrote {out}/results.json, meta.json, results.md in {meta['total_runtime_s']} s")
    if args.docs:
        log(f"wrote {performance.write(out, Path(args.docs))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
