"""The report's plots, as PNG bytes: growth.png, slopes.png, shard_similarity.png. matplotlib is
imported only to draw, so that --help and counting do not load it."""

from __future__ import annotations

import io
import os

import numpy as np

from ..analysis import bounds
from ..analysis.fit import curve_points
from .model import Report
from .options import OptionError


def pyplot():
    """``matplotlib.pyplot`` with the Agg backend.

    Raises:
        OptionError: matplotlib is not installed (``param`` is ``"plots"``: the report can be
            made without them).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise OptionError(
            "plots", "plots need matplotlib: pip install 'seqcount[plot]' (or pass plots=False)"
        ) from None
    return plt


def _png(plt, fig, **savefig) -> bytes:
    """The figure as PNG bytes; closes it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", **savefig)
    plt.close(fig)
    return buf.getvalue()


def growth_png(rep: Report) -> bytes:
    """``growth.png``: log-log U_n(D) for every n, with the paper's band overlaid, and the
    curve after near-duplicate removal dashed beside each when the report has one."""
    plt = pyplot()
    rows, dedup = rep.curve, rep.dedup_curve
    fig, ax = plt.subplots(figsize=(9, 6), dpi=110)
    dmax = max([rep.corpus.tokens] + [e.at.tokens for f in rep.fits for e in f.extrapolation])
    ns = sorted({r.n for r in rows})
    cmap = plt.get_cmap("viridis")
    colors = {n: cmap(i / max(1, len(ns) - 1)) for i, n in enumerate(ns)}
    dmin = None
    for n in ns:
        d, u = curve_points(rows, n, exact=rep.exact)
        if d.shape[0] == 0:
            continue
        dmin = d.min() if dmin is None else min(dmin, d.min())
        ax.loglog(d, u, "o-", ms=3, lw=1.4, color=colors[n], label=f"n = {n}")
        if dedup:
            dd, du = curve_points(dedup, n)
            ax.loglog(dd, du, "--", lw=1.1, color=colors[n],
                      label=f"n = {n}, near-duplicates removed")  # fmt: skip
    dmin = dmin or 1.0
    _draw_band(ax, rep, dmin, dmax)
    for f in rep.fits:
        for x in f.extrapolation:
            e = x.at
            ax.errorbar([e.tokens], [e.unique], yerr=[[e.unique - e.low], [e.high - e.unique]],
                        fmt="x", color=colors[f.n], ms=6, lw=0.9, capsize=3)  # fmt: skip
    ax.set_xlabel("tokens read, D")
    ax.set_ylabel("distinct n-token sequences, U_n(D)")
    ax.set_title("Growth of distinct sequences vs the bounds of 'Scaling Efficient LLMs'")
    ax.set_ylim(bottom=0.5, top=max(dmax, 10) * 10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    fig.tight_layout()
    return _png(plt, fig)


def _draw_band(ax, rep: Report, dmin: float, dmax: float) -> None:
    """The paper's band, its bounds, U = D and the region below D* on ``ax``."""
    grid = np.logspace(np.log10(dmin), np.log10(dmax), 200)
    fit = rep.loss_fit
    c_lo, c_hi = rep.paper["c_lo"], rep.paper["c_hi"]
    lo = bounds.u_lower(grid, fit, c_hi=c_hi)
    mid = bounds.u_mid(grid, fit, c_lo=c_lo, c_hi=c_hi)
    hi = bounds.u_upper(grid, fit, c_lo=c_lo)
    ax.fill_between(grid, np.minimum(lo, hi), np.maximum(lo, hi), color="tab:orange", alpha=0.15,
                    label=f"paper's band ({fit})")  # fmt: skip
    g_lo, g_hi = rep.gamma_band
    ax.loglog(grid, lo, "--", color="tab:orange", lw=1, label=f"U_lower ∝ D^{g_lo:.2f}")
    ax.loglog(grid, mid, "-", color="tab:red", lw=1, label="U_mid")
    ax.loglog(grid, hi, ":", color="tab:orange", lw=1.3, label=f"U_upper ∝ D^{g_hi:.2f}")
    ax.loglog(grid, grid, color="0.5", lw=0.8, label="U = D (every window new)")
    d_star = rep.d_star
    if dmin < d_star:
        ax.axvspan(dmin, min(d_star, dmax), color="0.85", alpha=0.5, zorder=0,
                   label=f"D < D* = {d_star:.3g}: band not meaningful")  # fmt: skip


def slopes_png(rep: Report) -> bytes:
    """``slopes.png``: local slope d log U / d log D per n, with the paper's band shaded."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    lo, hi = rep.gamma_band
    ax.axhspan(lo, hi, color="tab:orange", alpha=0.18, label=f"paper's band [{lo:.2f}, {hi:.2f}]")
    ax.axhline(rep.paper["gamma_mid"], color="tab:red", lw=0.8, ls="--", label="midpoint")
    keys = sorted(rep.slopes)
    cmap = plt.get_cmap("viridis")
    for i, k in enumerate(keys):
        s = rep.slopes[k]
        if s.tokens:
            ax.semilogx(s.tokens, s.slope, "o-", ms=3, lw=1.2,
                        color=cmap(i / max(1, len(keys) - 1)), label=f"n = {k}")  # fmt: skip
    ax.set_ylim(-0.05, 1.1)
    ax.set_xlabel("tokens read, D")
    ax.set_ylabel("local slope  d log U / d log D")
    ax.set_title("Local growth exponent of distinct n-token sequences")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left", ncol=2)
    fig.tight_layout()
    return _png(plt, fig)


def shard_similarity_png(
    mats: dict[int, np.ndarray], paths: list[str], sketch: str = "MinHash"
) -> bytes:
    """One heatmap of the shard-by-shard Jaccard matrix per window size.

    Args:
        mats: by n, the ``(shards, shards)`` float64 matrix of
            :func:`~seqcount.analysis.overlap.shard_jaccard`.
        paths: the shards' paths, in the matrices' order.
    """
    plt = pyplot()
    ns = list(mats)
    cols = min(len(ns), 4)
    rows = (len(ns) + cols - 1) // cols
    named = len(paths) <= 30
    width = 3.2 * cols + (3.0 if named else 1.0)
    fig, axes = plt.subplots(
        rows, cols, figsize=(width, 3.0 * rows + 0.8), squeeze=False, layout="constrained"
    )
    labels = [f"{i}: {os.path.basename(p)}" for i, p in enumerate(paths)]
    image = None
    for k, (ax, n) in enumerate(zip(axes.flat, ns)):
        image = ax.imshow(mats[n], vmin=0.0, vmax=1.0, cmap="magma", interpolation="nearest")
        ax.set_title(f"n = {n}")
        if named:
            ax.set_xticks(range(len(paths)), [str(i) for i in range(len(paths))], fontsize=7)
            if k % cols == 0:
                ax.set_yticks(range(len(paths)), labels, fontsize=7)
            else:
                ax.set_yticks(range(len(paths)), [""] * len(paths))
        ax.set_xlabel("shard")
    for ax in list(axes.flat)[len(ns) :]:
        ax.axis("off")
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="estimated Jaccard similarity")
    fig.suptitle(f"Shard-by-shard overlap of n-token window sets ({sketch})")
    return _png(plt, fig, dpi=100)
