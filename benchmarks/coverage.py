"""Is the growth exponent's interval calibrated? Pitman-Yor corpora, whose exponent is known.

Run from the project root::

    python -m benchmarks.coverage            # 5 d x 3 theta x {2e5, 2e6} tokens, 20 corpora each
    python -m benchmarks.coverage --quick    # 3 d x 2 theta x 2e5 tokens, 8 corpora each
    python -m benchmarks.coverage --sketch-error   # the block sketches' part of the error

For every cell (discount ``d``, concentration ``theta``, corpus size ``D``) it generates
``--corpora`` seeded corpora with :func:`seqcount.synth.pitman_yor_table` (documents of mean
``--doc-tokens`` tokens), counts each with ``seqcount.count(table, n=(1,),
tokens_column="ids", seed=...)`` (default options, block sketches on; a hash seed of its own
per corpus, so that sketch errors are independent across corpora) and reports it with
``seqcount.report`` (default fit range, the upper two decades; 200 block orders). It records:

* ``coverage``: the share of corpora whose ``gamma_ci95`` holds the *target*: the exponent over
  the interval's range (``gamma_ci95_range``) of the process's expected curve, i.e. the
  least-squares slope of ``log E[K_D]`` (closed form) at the same grid of D. This is what the
  interval claims to cover. ``coverage_d``: the share that holds ``d`` itself, the process's
  exponent as D grows without end; for ``theta > 0`` the expected curve is still bending
  towards it at these D (``model_bias``, target minus d), and no curve-based interval over a
  finite range should cover it.
* ``median_width``: the median full width of ``gamma_ci95``; ``sd_error``: the spread of the
  estimate minus the target across corpora (what an honest interval's half width / 1.96 must
  match); ``se``: the median reported standard error, with its parts.
* ``local_coverage``, ``local_width``: the same for the half-decade exponents (``slopes``
  intervals) inside the fit range, against the expected curve's slope over each half decade.
* ``old_coverage``, ``old_width``: the least-squares interval ``gamma +- 1.96 gamma_err`` of
  one curve, against ``d`` (what the report said before resampling).

``--sketch-error`` counts a few corpora with 8 hash seeds each: the spread of the resampled
estimate across seeds is the block sketches' error, set beside the bound for independent errors
at the two ends of the range (see ``BLOCK_SKETCH_FACTOR`` in :mod:`seqcount.analysis.resample`).

Writes ``<out>/coverage.json`` and ``<out>/coverage.md`` (``--sketch-error``:
``sketch_error.json``/``.md``); default ``<out>`` = ``benchmarks/results``; docs/accuracy.md
links the table.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

import seqcount
from seqcount.analysis.resample import BLOCK_SKETCH_FACTOR, PER_DECADE
from seqcount.synth import expected_distinct, pitman_yor_table

from .common import hardware_and_versions, log

ROOT = Path(__file__).resolve().parent.parent
DISCOUNTS = (0.3, 0.45, 0.6, 0.72, 0.85)
CONCENTRATIONS = (0.0, 10.0, 100.0)
SIZES = (200_000, 2_000_000)
Z = 1.96


def expected_slope(lo: float, hi: float, top: float, d: float, theta: float) -> float:
    """Least-squares slope of ``log E[K_D]`` on the resampling grid points in ``[lo, hi]``
    (``top * 10**(-k/8)``, as :mod:`seqcount.analysis.resample` lays them out)."""
    k = np.arange(0, int(math.log10(top / lo) * PER_DECADE + 1e-6) + 1)
    g = top * 10.0 ** (-k / PER_DECADE)
    g = g[(g >= lo * (1 - 1e-9)) & (g <= hi * (1 + 1e-9))]
    x = np.log(g)
    y = np.log([expected_distinct(v, d, theta) for v in g])
    xc = x - x.mean()
    return float(xc @ (y - y.mean()) / (xc @ xc))


def one_corpus(d: float, theta: float, size: int, seed: int, args, hash_seed: int = 0) -> dict:
    """Generate, count and report one corpus."""
    t0 = time.perf_counter()
    table = pitman_yor_table(size, d, theta, seed=seed, doc_tokens=args.doc_tokens)
    t1 = time.perf_counter()
    result = seqcount.count(table, n=(1,), tokens_column="ids", seed=hash_seed)
    t2 = time.perf_counter()
    rep = seqcount.report(result)
    f = rep.fits[0]
    a = f.assessment
    out = {"seed": seed, "gamma": f.growth.gamma, "gamma_err": f.growth.gamma_err,
           "blocks": rep.resampling.get("blocks")}  # fmt: skip
    if a is not None:
        o = a.overall
        lo, hi, top = o.d_lo, o.d_hi, float(result.rows[-1].tokens)
        local = []
        for e in a.local:
            mid = math.sqrt(e.d_lo * e.d_hi)
            if lo * (1 - 1e-9) <= mid <= hi * (1 + 1e-9):
                up, down = (math.log(expected_distinct(x, d, theta)) for x in (e.d_hi, e.d_lo))
                t = (up - down) / math.log(e.d_hi / e.d_lo)
                local.append([e.value, e.se, t])
        out.update(value=o.value, se=o.se, se_order=o.se_order, se_count=o.se_count,
                   se_sketch=o.se_sketch, d_lo=lo, d_hi=hi,
                   target=expected_slope(lo, hi, top, d, theta), local=local,
                   verdict=a.verdict)  # fmt: skip
    out["seconds"] = {"generate": t1 - t0, "count": t2 - t1, "report": time.perf_counter() - t2}
    return out


def summarize(d: float, theta: float, size: int, runs: list[dict]) -> dict:
    """The cell's row."""
    ok = [r for r in runs if "value" in r]
    v = np.array([r["value"] for r in ok])
    se = np.array([r["se"] for r in ok])
    tgt = np.array([r["target"] for r in ok])
    gam = np.array([r["gamma"] for r in runs])
    err = np.array([r["gamma_err"] for r in runs])
    loc = np.array([x for r in ok for x in r["local"]]).reshape(-1, 3)

    def med(key):
        return float(np.median([r[key] for r in ok]))

    return {
        "d": d, "theta": theta, "tokens": size, "corpora": len(runs), "with_interval": len(ok),
        "coverage": float(np.mean(np.abs(v - tgt) <= Z * se)),
        "coverage_d": float(np.mean(np.abs(v - d) <= Z * se)),
        "median_width": float(np.median(2 * Z * se)),
        "sd_error": float(np.std(v - tgt, ddof=1)) if len(ok) > 1 else None,
        "mean_error": float(np.mean(v - tgt)),
        "model_bias": float(np.mean(tgt) - d),
        "se": med("se"), "se_order": med("se_order"), "se_count": med("se_count"),
        "se_sketch": med("se_sketch"),
        "local_coverage": float(np.mean(np.abs(loc[:, 0] - loc[:, 2]) <= Z * loc[:, 1])),
        "local_width": float(np.median(2 * Z * loc[:, 1])),
        "local_n": int(loc.shape[0]),
        "old_coverage": float(np.mean(np.abs(gam - d) <= Z * err)),
        "old_width": float(np.median(2 * Z * err)),
        "blocks": int(np.median([r["blocks"] or 0 for r in runs])),
        "corpora_detail": runs,
    }  # fmt: skip


def _f(v, nd: int = 3) -> str:
    return "" if v is None else f"{v:.{nd}f}"


def render(doc: dict) -> str:
    """coverage.md from coverage.json."""
    m, cells = doc["meta"], doc["cells"]
    out = [
        "# Coverage of the growth exponent's interval on Pitman-Yor corpora",
        "",
        f"`{m['command']}` ({m['mode']}), {m['date_utc']}, seqcount {m['seqcount_commit']}, "
        f"{m['hardware']['cpus_usable']} CPUs, {m['total_runtime_s']} s. n = 1, documents of "
        f"mean {m['settings']['doc_tokens']:g} tokens, default options (block sketches, 200 "
        "block orders, fit range the upper two decades).",
        "",
        "`coverage`: share of corpora whose `gamma_ci95` holds the exponent of the process's "
        "expected curve over the interval's range (the target); `cov d`: share holding d "
        "itself; `model bias`: target − d (the expected curve still bends towards d at these "
        "D when θ > 0). `sd err`: spread of estimate − target across corpora; `se`: median "
        "reported standard error (order / count / sketch parts). Goal: coverage ≥ 0.90, "
        "median width ≤ 0.08 at 2M tokens.",
        "",
        "| d | θ | D | corpora | blocks | coverage | median width | sd err | se (o/c/s) "
        "| cov d | model bias | local cov | local width | old cov of d | old width |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        parts = f"{c['se']:.4f} ({c['se_order']:.4f}/{c['se_count']:.4f}/{c['se_sketch']:.4f})"
        out.append(
            f"| {c['d']:g} | {c['theta']:g} | {c['tokens']:.0e} | {c['with_interval']}"
            f"/{c['corpora']} | {c['blocks']} | {c['coverage']:.2f} | {c['median_width']:.3f} "
            f"| {_f(c['sd_error'], 4)} | {parts} | {c['coverage_d']:.2f} "
            f"| {c['model_bias']:+.3f} | {c['local_coverage']:.2f} ({c['local_n']}) "
            f"| {c['local_width']:.3f} | {c['old_coverage']:.2f} | {c['old_width']:.3f} |"
        )
    hit = sum(round(c["coverage"] * c["with_interval"]) for c in cells)
    tot = sum(c["with_interval"] for c in cells)
    lhit = sum(round(c["local_coverage"] * c["local_n"]) for c in cells)
    ltot = sum(c["local_n"] for c in cells)
    old = sum(round(c["old_coverage"] * c["corpora"]) for c in cells)
    big = [c for c in cells if c["tokens"] == max(x["tokens"] for x in cells)]
    wide = [f"d={c['d']:g}, θ={c['theta']:g}" for c in big if c["median_width"] > 0.08]
    out += [
        "",
        f"Overall: `gamma_ci95` holds the target in {hit} of {tot} corpora; the half-decade "
        f"intervals in {lhit} of {ltot}; the old interval held d in {old} of "
        f"{sum(c['corpora'] for c in cells)}.",
        f"Cells at {big[0]['tokens']:.0e} tokens wider than 0.08: {', '.join(wide) or 'none'}.",
        "",
    ]
    return "\n".join(out)


def sketch_error(args) -> dict:
    """The spread of the resampled estimate across hash seeds, per corpus, beside the
    two-ends bound the interval's sketch part is a fraction of."""
    rows = []
    for d, theta in ((0.45, 10.0), (0.6, 0.0), (0.72, 10.0), (0.85, 100.0)):
        for size in SIZES:
            vals = [one_corpus(d, theta, size, 777, args, hash_seed=h) for h in range(8)]
            v = np.array([r["value"] for r in vals])
            bound = np.median([r["se_sketch"] for r in vals]) / BLOCK_SKETCH_FACTOR
            loc = np.array([[x[0] for x in r["local"]] for r in vals])
            rows.append({"d": d, "theta": theta, "tokens": size, "sd_seeds": float(v.std(ddof=1)),
                         "bound": float(bound), "ratio": float(v.std(ddof=1) / bound),
                         "local_sd_seeds": loc.std(axis=0, ddof=1).tolist()})  # fmt: skip
            log(f"sketch error d={d} theta={theta:g} D={size:.0e}: {rows[-1]['ratio']:.2f}")
    return {"rows": rows}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.coverage", description=__doc__)
    p.add_argument("--quick", action="store_true", help="3 d x 2 theta x 2e5 tokens, 8 corpora")
    p.add_argument("--corpora", type=int, default=None, help="corpora per cell [20; quick 8]")
    p.add_argument("--sizes", default=None, help="corpus sizes, comma-separated [2e5,2e6]")
    p.add_argument("--doc-tokens", type=float, default=1000.0, help="mean document length")
    p.add_argument("--sketch-error", action="store_true", help="measure the sketch part only")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    t_start = time.perf_counter()
    meta = hardware_and_versions("quick" if args.quick else "full", argv)
    meta.update(benchmark="benchmarks/coverage.py", command="python -m benchmarks.coverage "
                + " ".join(argv))  # fmt: skip
    meta["settings"] = {"doc_tokens": args.doc_tokens}
    args.out.mkdir(parents=True, exist_ok=True)
    if args.sketch_error:
        doc = {"meta": meta, **sketch_error(args)}
        (args.out / "sketch_error.json").write_text(json.dumps(doc, indent=1) + "\n")
        return 0
    ds = (0.3, 0.6, 0.85) if args.quick else DISCOUNTS
    thetas = (0.0, 100.0) if args.quick else CONCENTRATIONS
    sizes = SIZES[:1] if args.quick else SIZES
    if args.sizes:
        sizes = tuple(int(float(s)) for s in args.sizes.split(","))
    corpora = args.corpora or (8 if args.quick else 20)
    meta["settings"]["corpora"] = corpora
    cells = []
    for si, size in enumerate(sizes):
        for di, d in enumerate(ds):
            for ti, theta in enumerate(thetas):
                base = 1_000_000 * si + 10_000 * (5 * di + ti)
                # each corpus its own hash seed: ids are numbered by first appearance, so with
                # one seed every corpus would hash nearly the same id set and share one sketch
                # error
                runs = [one_corpus(d, theta, size, base + k, args, hash_seed=base + k)
                        for k in range(corpora)]  # fmt: skip
                c = summarize(d, theta, size, runs)
                cells.append(c)
                log(f"d={d} theta={theta:g} D={size:.0e}: coverage {c['coverage']:.2f}, "
                    f"width {c['median_width']:.3f}, sd err {_f(c['sd_error'], 4)}, "
                    f"local {c['local_coverage']:.2f}")  # fmt: skip
    meta["total_runtime_s"] = round(time.perf_counter() - t_start, 1)
    doc = {"meta": meta, "cells": cells}
    (args.out / "coverage.json").write_text(json.dumps(doc, indent=1) + "\n")
    md = render(doc)
    (args.out / "coverage.md").write_text(md)
    print(md)
    log(f"wrote {args.out / 'coverage.json'} and coverage.md in {meta['total_runtime_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
