"""How well does the growth exponent's quoted error cover the truth? Pitman-Yor corpora, known d.

Run from the project root::

    python -m benchmarks.coverage            # full grid: 5 d x 3 theta x {2e5, 2e6} tokens, 20 each
    python -m benchmarks.coverage --quick    # 3 d x 2 theta x 2e5 tokens, 8 each: about a minute

For every cell (discount ``d``, concentration ``theta``, corpus size ``D``) it generates
``--corpora`` seeded corpora with :func:`seqcount.synth.pitman_yor_table` (documents of mean
``--doc-tokens`` tokens), counts each with ``seqcount.count(table, n=(1,),
tokens_column="ids")`` (default sketch precision), fits it with ``seqcount.report`` (the default
fit range, the upper two decades) and records:

* ``coverage``: the share of corpora where ``gamma +- 1.96 gamma_err`` holds ``d``, the exponent
  of the process (today's interval), and ``median_width``, its median full width;
* ``mean_bias``: mean ``gamma - d``; ``sd_gamma``: the spread of gamma across corpora (the error
  scale an honest interval must reach); ``model_bias``: the least-squares slope of
  ``log E[K_D]`` (closed form) over the same checkpoints, minus ``d`` (what a perfect fit of
  the expected curve would still be off by at this D; > 0 for theta > 0);
* resampling candidates, on exact distinct counts of the same corpus cut into ``--blocks``
  blocks of whole documents (curves of any block order from first-occurrence ranks, no second
  count): ``perm_sd``, the SD of the fitted slope over ``--perms`` random block orders
  (block-permutation bootstrap), and ``jack_sd``, the delete-one-group jackknife SD
  (16 groups of consecutive blocks, order kept); ``perm_coverage`` and ``jack_coverage``:
  coverage of ``gamma +- 1.96 sd`` with each (no bias correction), and their median widths.

Writes ``<out>/coverage.json`` (``{"meta": ..., "cells": [...]}``, every corpus's numbers under
``corpora``) and ``<out>/coverage.md``; default ``<out>`` = ``benchmarks/results``.
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
from seqcount.synth import distinct_counts, expected_distinct, pitman_yor_table

from .common import hardware_and_versions, log

ROOT = Path(__file__).resolve().parent.parent
DISCOUNTS = (0.3, 0.45, 0.6, 0.72, 0.85)
CONCENTRATIONS = (0.0, 10.0, 100.0)
SIZES = (200_000, 2_000_000)
Z = 1.96
JACK_GROUPS = 16


def ls_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of y on x."""
    xc = x - x.mean()
    return float(xc @ (y - y.mean()) / (xc @ xc))


class BlockCurves:
    """Exact distinct-count curves of a corpus read in any order of its document blocks."""

    def __init__(self, ids: np.ndarray, doc_offsets: np.ndarray, blocks: int) -> None:
        docs = doc_offsets.shape[0] - 1
        self.blocks = min(blocks, docs)
        doc_block = (np.arange(docs) * self.blocks) // docs
        ends = np.searchsorted(doc_block, np.arange(self.blocks), side="right")
        self.block_tokens = np.diff(np.concatenate([[0], doc_offsets[ends]]))
        tok_block = np.repeat(np.arange(self.blocks), self.block_tokens)
        pairs = np.unique(ids * self.blocks + tok_block)  # (id, block) pairs, sorted by id
        pid = pairs // self.blocks
        self.pair_block = pairs % self.blocks
        self.starts = np.flatnonzero(np.concatenate([[True], pid[1:] != pid[:-1]]))

    def curve(self, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(tokens, distinct) at the end of each block of ``order`` (a subset allowed)."""
        rank = np.full(self.blocks, self.blocks, dtype=np.int64)
        rank[order] = np.arange(order.shape[0])
        first = np.minimum.reduceat(rank[self.pair_block], self.starts)
        first = first[first < order.shape[0]]
        k = np.cumsum(np.bincount(first, minlength=order.shape[0]))
        return np.cumsum(self.block_tokens[order]).astype(np.float64), k.astype(np.float64)


def slope_at(tokens, unique, checkpoints: np.ndarray) -> float:
    """The fitted exponent of a block curve: log U interpolated at the report's checkpoints
    (those inside the curve's span), least squares on log D."""
    x, y = np.log(tokens), np.log(unique)
    cx = np.log(checkpoints)
    cx = cx[(cx >= x[0]) & (cx <= x[-1])]
    return ls_slope(cx, np.interp(cx, x, y))


def resampled_sds(bc: BlockCurves, checkpoints, perms: int, seed: int) -> tuple[float, float]:
    """(block-permutation bootstrap SD, delete-one-group jackknife SD) of the fitted slope."""
    rng = np.random.default_rng(seed)
    boot = [slope_at(*bc.curve(rng.permutation(bc.blocks)), checkpoints) for _ in range(perms)]
    groups = np.arange(bc.blocks) * JACK_GROUPS // bc.blocks
    jack = np.array(
        [slope_at(*bc.curve(np.flatnonzero(groups != g)), checkpoints) for g in range(JACK_GROUPS)]
    )
    jack_sd = math.sqrt((JACK_GROUPS - 1) / JACK_GROUPS * float(((jack - jack.mean()) ** 2).sum()))
    return float(np.std(boot, ddof=1)), jack_sd


def one_corpus(d: float, theta: float, size: int, seed: int, args) -> dict:
    """Generate, count, fit and resample one corpus."""
    t0 = time.perf_counter()
    table = pitman_yor_table(size, d, theta, seed=seed, doc_tokens=args.doc_tokens)
    col = table.column("ids").combine_chunks()
    ids, offsets = col.flatten().to_numpy(), col.offsets.to_numpy().astype(np.int64)
    t1 = time.perf_counter()
    result = seqcount.count(table, n=(1,), tokens_column="ids")
    g = seqcount.report(result).fits[0].growth
    t2 = time.perf_counter()
    pts = np.array([r.tokens for r in result.rows if r.n == 1], dtype=np.float64)
    inside = pts[(pts >= g.d_lo) & (pts <= g.d_hi)]
    exact = distinct_counts(ids, inside.astype(np.int64)).astype(np.float64)
    expect = np.array([expected_distinct(x, d, theta) for x in inside])
    bc = BlockCurves(ids, offsets, args.blocks)
    perm_sd, jack_sd = resampled_sds(bc, inside, args.perms, seed)
    return {
        "seed": seed,
        "gamma": g.gamma,
        "gamma_err": g.gamma_err,
        "gamma_exact": ls_slope(np.log(inside), np.log(exact)),
        "slope_expected": ls_slope(np.log(inside), np.log(expect)),
        "d_lo": g.d_lo,
        "d_hi": g.d_hi,
        "points": g.points,
        "perm_sd": perm_sd,
        "jack_sd": jack_sd,
        "seconds": {
            "generate": t1 - t0,
            "count_fit": t2 - t1,
            "resample": time.perf_counter() - t2,
        },
    }


def summarize(d: float, theta: float, size: int, runs: list[dict]) -> dict:
    """The cell's row: coverage, widths, bias and spreads."""
    gam = np.array([r["gamma"] for r in runs])

    def cover(sd_key: str) -> tuple[float, float]:
        sd = np.array([r[sd_key] for r in runs])
        return float(np.mean(np.abs(gam - d) <= Z * sd)), float(np.median(2 * Z * sd))

    cov, width = cover("gamma_err")
    pcov, pwidth = cover("perm_sd")
    jcov, jwidth = cover("jack_sd")
    return {
        "d": d,
        "theta": theta,
        "tokens": size,
        "corpora": len(runs),
        "coverage": cov,
        "median_width": width,
        "mean_bias": float(gam.mean() - d),
        "sd_gamma": float(gam.std(ddof=1)) if len(runs) > 1 else None,
        "model_bias": float(np.mean([r["slope_expected"] for r in runs]) - d),
        "sd_sketch": float(np.std([r["gamma"] - r["gamma_exact"] for r in runs], ddof=1)),
        "median_gamma_err": float(np.median([r["gamma_err"] for r in runs])),
        "perm_sd": float(np.median([r["perm_sd"] for r in runs])),
        "perm_coverage": pcov,
        "perm_width": pwidth,
        "jack_sd": float(np.median([r["jack_sd"] for r in runs])),
        "jack_coverage": jcov,
        "jack_width": jwidth,
        "corpora_detail": runs,
    }


def _f(v, nd: int = 3) -> str:
    return "" if v is None else f"{v:.{nd}f}"


def render(doc: dict) -> str:
    """coverage.md from coverage.json."""
    m = doc["meta"]
    out = [
        "# Coverage of the growth exponent's interval on Pitman-Yor corpora",
        "",
        f"`{m['command']}` ({m['mode']}), {m['date_utc']}, seqcount {m['seqcount_commit']}, "
        f"{m['hardware']['cpus_usable']} CPUs, {m['total_runtime_s']} s. Documents of mean "
        f"{m['settings']['doc_tokens']:g} tokens; n = 1; default sketch precision and fit range "
        f"(upper two decades); resampling on exact counts, {m['settings']['blocks']} blocks, "
        f"{m['settings']['perms']} block orders, {JACK_GROUPS}-group jackknife.",
        "",
        "Today: `gamma +- 1.96 gamma_err` (target: >= 0.90 coverage, median width <= 0.08 at "
        "2M tokens). `sd γ` is the spread of γ across corpora, the error an honest interval must "
        "reach; `model bias` is the slope of log E[K_D] over the fit range minus d.",
        "",
        "| d | θ | D | corpora | coverage | median width | mean γ − d | sd γ | model bias "
        "| median γ_err | perm sd | perm cov | jack sd | jack cov |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in doc["cells"]:
        out.append(
            f"| {c['d']:g} | {c['theta']:g} | {c['tokens']:.0e} | {c['corpora']} "
            f"| {c['coverage']:.2f} | {_f(c['median_width'])} | {c['mean_bias']:+.3f} "
            f"| {_f(c['sd_gamma'])} | {c['model_bias']:+.3f} | {_f(c['median_gamma_err'], 4)} "
            f"| {_f(c['perm_sd'], 4)} | {c['perm_coverage']:.2f} | {_f(c['jack_sd'], 4)} "
            f"| {c['jack_coverage']:.2f} |"
        )
    total = sum(round(c["coverage"] * c["corpora"]) for c in doc["cells"])
    n = sum(c["corpora"] for c in doc["cells"])
    out += ["", f"Overall: today's interval covers d in {total} of {n} corpora.", ""]
    return "\n".join(out)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.coverage", description=__doc__)
    p.add_argument("--quick", action="store_true", help="3 d x 2 theta x 2e5 tokens, 8 corpora")
    p.add_argument("--corpora", type=int, default=None, help="corpora per cell [20; quick 8]")
    p.add_argument("--sizes", default=None, help="corpus sizes, comma-separated [2e5,2e6]")
    p.add_argument("--doc-tokens", type=float, default=1000.0, help="mean document length")
    p.add_argument("--blocks", type=int, default=256, help="resampling blocks [256]")
    p.add_argument("--perms", type=int, default=50, help="block orders per corpus [50]")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    quick = args.quick
    ds = (0.3, 0.6, 0.85) if quick else DISCOUNTS
    thetas = (0.0, 100.0) if quick else CONCENTRATIONS
    sizes = SIZES[:1] if quick else SIZES
    if args.sizes:
        sizes = tuple(int(float(s)) for s in args.sizes.split(","))
    corpora = args.corpora or (8 if quick else 20)
    t_start = time.perf_counter()
    meta = hardware_and_versions("quick" if quick else "full", argv)
    meta.update(benchmark="benchmarks/coverage.py", command="python -m benchmarks.coverage "
                + " ".join(argv))  # fmt: skip
    meta["settings"] = {"doc_tokens": args.doc_tokens, "blocks": args.blocks,
                        "perms": args.perms, "corpora": corpora}  # fmt: skip
    cells = []
    for si, size in enumerate(sizes):
        for di, d in enumerate(ds):
            for ti, theta in enumerate(thetas):
                base = 1_000_000 * si + 10_000 * (5 * di + ti)
                runs = [one_corpus(d, theta, size, base + k, args) for k in range(corpora)]
                cells.append(summarize(d, theta, size, runs))
                c = cells[-1]
                log(f"d={d} theta={theta:g} D={size:.0e}: coverage {c['coverage']:.2f}, "
                    f"width {c['median_width']:.3f}, bias {c['mean_bias']:+.3f}, "
                    f"sd {c['sd_gamma']:.3f}, perm sd {c['perm_sd']:.3f}")  # fmt: skip
    meta["total_runtime_s"] = round(time.perf_counter() - t_start, 1)
    doc = {"meta": meta, "cells": cells}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "coverage.json").write_text(json.dumps(doc, indent=1) + "\n")
    md = render(doc)
    (args.out / "coverage.md").write_text(md)
    print(md)
    log(f"wrote {args.out / 'coverage.json'} and coverage.md in {meta['total_runtime_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
