"""The report's plots, as PNG bytes: growth.png, slopes.png, shard_similarity.png. matplotlib is
imported only to draw, so that --help and counting do not load it.

What each shows, and the rules they keep (so that a figure can go into a paper as drawn):

- ``growth.png``: two panels. Left, U_n(D) in log-log over the measured range (widened only to
  reach requested extrapolations, drawn as ×-marks with their 95% intervals); right, U_n(D)/D,
  distinct windows per token, where curves that overlap on the left come apart. The paper's
  band is drawn only where its constants mean something (D >= D*); elsewhere the plot says so.
  Curves after near-duplicate removal are dashed. The legend sits outside the axes.
- ``slopes.png``: one panel per n (shared axes): the local exponent d log U / d log D per step,
  and with resampled curves the exponent per half decade with its 95% interval; the power law's
  fitted exponent over its range; the paper's band and its midpoint. A value beyond the y-axis
  is drawn as a triangle on the edge, never dropped.
- ``shard_similarity.png``: one heatmap per n, on one colour scale set by the largest
  off-diagonal value (the diagonal, always 1, is greyed out); each cell prints its value up to
  :data:`MAX_CELL_TEXT` shards.
"""

from __future__ import annotations

import io
import math
import os

import numpy as np

from ..analysis import bounds
from ..analysis.fit import curve_points
from .model import Report
from .options import OptionError

#: Line colours and markers by the n's rank (Tableau 10: distinguishable, also in grey).
COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
#: The y-range of slopes.png at least covers this; it widens to the data up to SLOPE_LIMITS.
SLOPE_RANGE = (-0.05, 1.1)
SLOPE_LIMITS = (-0.3, 1.5)
#: growth.png's y-range widens to show the paper's band by at most this factor each way.
BAND_REACH = 100.0
#: Heatmap cells print their value up to this many shards.
MAX_CELL_TEXT = 20


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


def _png(fig, **savefig) -> bytes:
    """The figure as PNG bytes; closes it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", **savefig)
    pyplot().close(fig)
    return buf.getvalue()


def _style(i: int) -> dict:
    """Colour and marker of the ``i``-th window size."""
    return dict(color=COLORS[i % len(COLORS)], marker=MARKERS[i % len(MARKERS)])


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def growth_png(rep: Report) -> bytes:
    """``growth.png``: :func:`growth_figure` as PNG bytes."""
    return _png(growth_figure(rep))


def growth_figure(rep: Report):
    """The figure of ``growth.png``: U_n(D) for every n (left) and U_n(D)/D (right), with the
    paper's band where it means something, extrapolations, and near-duplicate-free curves
    dashed; the caller closes it."""
    plt = pyplot()
    from matplotlib.lines import Line2D

    fig, (ax, per) = plt.subplots(1, 2, figsize=(13, 5.6), dpi=110, layout="constrained")
    ns = sorted({r.n for r in rep.curve})
    style = {n: _style(i) for i, n in enumerate(ns)}
    handles, ys, xs = [], [], []
    for n in ns:
        d, u = curve_points(rep.curve, n, exact=rep.exact)
        if d.shape[0] == 0:
            continue
        kw = dict(ms=3.5, lw=1.3, color=style[n]["color"], marker=style[n]["marker"])
        ax.loglog(d, u, **kw)
        per.loglog(d, u / d, **kw)
        handles.append(Line2D([], [], **kw, label=f"n = {n}"))
        xs += [d.min(), d.max()]
        ys += [u.min(), u.max()]
        if rep.dedup_curve:
            dd, du = curve_points(rep.dedup_curve, n)
            if dd.shape[0]:
                ax.loglog(dd, du, "--", lw=1.1, color=style[n]["color"])
                per.loglog(dd, du / dd, "--", lw=1.1, color=style[n]["color"])
    if rep.dedup_curve:
        handles.append(Line2D([], [], ls="--", color="0.3", label="near-duplicates removed"))
    d0, d1 = (min(xs), max(xs)) if xs else (1.0, max(rep.corpus.tokens, 10))
    x1 = max([d1] + [x.at.tokens for f in rep.fits for x in f.extrapolation])
    ys += _draw_extrapolations(ax, per, rep, style)
    if any(f.extrapolation for f in rep.fits):
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="x",
                color="0.3",
                label="extrapolated power law,\n95% prediction interval",
            )
        )
    ax.set_xlim(d0 / 1.15, x1 * 1.15)
    per.set_xlim(d0 / 1.15, d1 * 1.15)
    y0, y1 = (min(ys), max(ys)) if ys else (1.0, 10.0)
    band = _band_curves(rep, d0, x1)
    if band is not None:  # show the band, but at most BAND_REACH beyond the data
        y0 = max(min(y0, float(band[1].min())), y0 / BAND_REACH)
        y1 = min(max(y1, float(band[2].max())), y1 * BAND_REACH)
    ax.set_ylim(y0 / 1.6, y1 * 1.6)
    ax.loglog([d0, x1], [d0, x1], color="0.55", lw=0.8)
    handles.append(Line2D([], [], color="0.55", lw=0.8, label="U = D (every window new)"))
    handles += _draw_band(ax, rep, d0, x1, band)
    ax.set_xlabel("tokens read, D")
    ax.set_ylabel("distinct n-token sequences, U_n(D)")
    ax.set_title("Distinct sequences U_n(D)")
    per.set_xlabel("tokens read, D")
    per.set_ylabel("distinct sequences per token, U_n(D) / D")
    per.set_title("U_n(D) / D: where curves part")
    for a in (ax, per):
        a.grid(True, which="major", alpha=0.3)
    fig.suptitle("Growth of distinct n-token sequences vs the bounds of 'Scaling Efficient LLMs'")
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    return fig


def _draw_extrapolations(ax, per, rep: Report, style: dict) -> list[float]:
    """The extrapolated U_n as ×-marks with their intervals, each joined to its fitted range's
    top by the power law, dotted; returns the U values drawn."""
    drawn = []
    for f in rep.fits:
        if not f.extrapolation:
            continue
        g, color = f.growth, style[f.n]["color"]
        for x in f.extrapolation:
            e = x.at
            ax.errorbar(
                [e.tokens],
                [e.unique],
                yerr=[[e.unique - e.low], [e.high - e.unique]],
                fmt="x",
                color=color,
                ms=7,
                lw=1.0,
                capsize=3,
            )
            drawn += [e.low, e.high]
            if e.tokens > g.d_hi:
                t = np.logspace(math.log10(g.d_hi), math.log10(e.tokens), 30)
                ax.loglog(t, np.minimum(g.predict(t), t), ":", color=color, lw=0.9)
    return [v for v in drawn if v > 0]


def _band_curves(rep: Report, x0: float, x1: float) -> tuple | None:
    """``(D, lower edge, upper edge, U_mid)`` of the paper's band over ``[max(x0, D*), x1]``,
    or ``None`` when D* lies beyond ``x1``."""
    if rep.d_star > x1:
        return None
    grid = np.logspace(math.log10(max(x0, rep.d_star)), math.log10(x1), 200)
    fit, c_lo, c_hi = rep.loss_fit, rep.paper["c_lo"], rep.paper["c_hi"]
    lo = bounds.u_lower(grid, fit, c_hi=c_hi)
    hi = bounds.u_upper(grid, fit, c_lo=c_lo)
    mid = bounds.u_mid(grid, fit, c_lo=c_lo, c_hi=c_hi)
    return grid, np.minimum(lo, hi), np.maximum(lo, hi), mid


def _draw_band(ax, rep: Report, x0: float, x1: float, band: tuple | None) -> list:
    """The paper's band (:func:`_band_curves`) and its midpoint on ``ax`` where D >= D*, and
    where it is not drawn or leaves the plot, why; returns the legend handles."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    d_star = rep.d_star
    g_lo, g_hi = rep.gamma_band
    notes = []
    if band is None:
        notes.append(
            f"paper's band not drawn: its constants mean something only above\n"
            f"D* = {_fmt(d_star)} tokens, beyond this plot ({rep.loss_fit} loss fit)"
        )
    elif d_star > x0:
        notes.append(f"band not drawn below D* = {_fmt(d_star)}")
        ax.axvline(d_star, color="tab:red", lw=0.8, ls="-.")
    handles = []
    if band is not None:
        grid, lo, hi, mid = band
        ax.fill_between(grid, lo, hi, color="tab:orange", alpha=0.18)
        ax.loglog(grid, mid, "-", color="tab:red", lw=1)
        handles = [
            Patch(
                color="tab:orange",
                alpha=0.3,
                label=f"paper's band ({rep.loss_fit}), D ≥ D*:\nU ∝ D^{g_lo:.2f} to D^{g_hi:.2f}",
            ),
            Line2D([], [], color="tab:red", lw=1, label="U_mid"),
        ]
        y0, y1 = ax.get_ylim()
        if hi.max() > y1 or lo.min() < y0:
            where = "above" if hi.max() > y1 else "below"
            notes.append(
                f"the band reaches {where} this plot (U_mid = {_fmt(mid[-1])} "
                f"at D = {_fmt(grid[-1])})"
            )
    if notes:
        ax.text(
            0.98,
            0.03,
            "\n".join(notes),
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
            bbox=dict(boxstyle="round", fc="white", ec="0.7", alpha=0.9),
        )
    return handles


def slopes_png(rep: Report) -> bytes:
    """``slopes.png``: :func:`slopes_figure` as PNG bytes."""
    return _png(slopes_figure(rep))


def slopes_figure(rep: Report):
    """The figure of ``slopes.png`` (the caller closes it): the local exponent per n, one
    panel each (shared axes), with the paper's band and midpoint, the fitted exponent over its
    range, and, with resampled curves, the exponent per half decade with its 95% interval."""
    plt = pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    keys = sorted(rep.slopes)
    cols = min(max(len(keys), 1), 4)
    rows = max(1, math.ceil((len(keys) + 1) / cols)) if len(keys) > 1 else 1
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(3.3 * cols + 0.6, 2.7 * rows + 0.9),
        dpi=110,
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    ylim = _slope_limits(rep)
    fits = {f.n: f for f in rep.fits}
    lo, hi = rep.gamma_band
    clipped = False
    for i, (ax, n) in enumerate(zip(axes.flat, keys)):
        ax.axhspan(lo, hi, color="tab:orange", alpha=0.18, lw=0)
        ax.axhline(rep.paper["gamma_mid"], color="tab:red", lw=0.8, ls="--")
        fit = fits.get(n)
        clipped |= _draw_slopes(ax, rep.slopes[n], fit, _style(i)["color"], ylim)
        ax.set_title(f"n = {n}" + _fit_words(fit), fontsize=9.5)
        if i + cols >= len(keys):  # nothing below it: it carries the D axis's labels
            ax.tick_params(labelbottom=True)
            ax.set_xlabel("tokens read, D")
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("local exponent γ(D)")
    handles = [
        Patch(color="tab:orange", alpha=0.3, label=f"paper's band [{lo:.2f}, {hi:.2f}]"),
        Line2D(
            [],
            [],
            color="tab:red",
            lw=0.8,
            ls="--",
            label=f"band midpoint {rep.paper['gamma_mid']:.2f}",
        ),
        Line2D([], [], color="0.35", marker=".", lw=0.7, label="step slope d log U / d log D"),
    ]
    if any(s.intervals for s in rep.slopes.values()):
        handles.append(
            Line2D(
                [],
                [],
                color="0.1",
                marker="o",
                ms=4,
                lw=1.2,
                label="γ per half decade, 95% interval",
            )
        )
    if rep.fits:
        ci = any(f.verdict.gamma_ci95 is not None for f in rep.fits)
        label = (
            "γ over the fit range (resampled),\ngrey: its 95% interval"
            if ci
            else "power-law fit γ over its range"
        )
        handles.append(Line2D([], [], color="k", lw=2.2, alpha=0.6, label=label))
    if clipped:
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="^",
                color="0.2",
                label="beyond the axis, at its edge\n(open: an interval's end)",
            )
        )
    spare = list(axes.flat)[len(keys) :]
    for ax in spare:
        ax.axis("off")
    if spare:
        spare[0].legend(handles=handles, loc="center", fontsize=8, frameon=False)
    else:
        fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle("Local growth exponent of distinct n-token sequences, by n")
    return fig


def _fit_words(fit) -> str:
    """The fitted exponent for a panel's title: with its calibrated 95% interval when the
    report has one, else ± its standard error."""
    if fit is None:
        return ""
    g, ci = fit.growth, fit.verdict.gamma_ci95
    if ci is not None:
        return f": γ = {fit.gamma:.3f}, 95% [{ci[0]:.3f}, {ci[1]:.3f}]\n{fit.verdict.verdict}"
    return f": fit γ = {g.gamma:.3f} ± {g.gamma_err:.3f}"


def _slope_limits(rep: Report) -> tuple[float, float]:
    """The shared y-range of slopes.png: :data:`SLOPE_RANGE` widened to the point estimates,
    within :data:`SLOPE_LIMITS`."""
    vals = [v for s in rep.slopes.values() for v in s.slope]
    vals += [e.gamma for s in rep.slopes.values() for e in (s.intervals or [])]
    vals = [v for v in vals if math.isfinite(v)]
    lo = min([SLOPE_RANGE[0]] + [v - 0.05 for v in vals])
    hi = max([SLOPE_RANGE[1]] + [v + 0.05 for v in vals])
    return max(lo, SLOPE_LIMITS[0]), min(hi, SLOPE_LIMITS[1])


def _draw_slopes(ax, s, fit, color: str, ylim: tuple[float, float]) -> bool:
    """One n's panel of slopes.png; returns whether anything was drawn at the edge."""
    y0, y1 = ylim
    ax.set_ylim(y0, y1)
    ax.set_xscale("log")
    edge = []
    if s.tokens:
        t, v = np.asarray(s.tokens, float), np.asarray(s.slope, float)
        inside = (v >= y0) & (v <= y1)
        ax.plot(t, np.where(inside, v, np.nan), ".-", color="0.35", lw=0.7, ms=3, alpha=0.8)
        edge += [(x, y, True) for x, y, ok in zip(t, v, inside) if not ok]
    if s.intervals:
        t = np.array([e.tokens for e in s.intervals])
        g = np.array([e.gamma for e in s.intervals])
        low = np.array([e.low for e in s.intervals])
        high = np.array([e.high for e in s.intervals])
        ok = (g >= y0) & (g <= y1)  # estimates beyond the axis: only a mark at the edge
        lo_c = np.where(ok, np.clip(low, y0, y1), np.nan)
        hi_c = np.where(ok, np.clip(high, y0, y1), np.nan)
        ax.fill_between(t, lo_c, hi_c, color=color, alpha=0.2, lw=0)
        ax.plot(t, np.where(ok, g, np.nan), "o-", color=color, ms=4, lw=1.2)
        ax.vlines(t[ok], lo_c[ok], hi_c[ok], color=color, lw=1.6)
        edge += [(x, y, True) for x, y, k in zip(t, g, ok) if not k]
        ends = np.r_[np.where(ok, low, y0), np.where(ok, high, y1)]
        edge += [(x, y, False) for x, y in zip(np.r_[t, t], ends) if not y0 <= y <= y1]
    if fit is not None:
        gf, ci = fit.growth, fit.verdict.gamma_ci95
        d_lo, d_hi, gam = gf.d_lo, gf.d_hi, gf.gamma
        if ci is not None and fit.assessment is not None:  # the resampled exponent, its range
            o = fit.assessment.overall
            d_lo, d_hi, gam = o.d_lo, o.d_hi, o.value
        if ci is not None:
            ax.fill_between(
                [d_lo, d_hi],
                [max(ci[0], y0)] * 2,
                [min(ci[1], y1)] * 2,
                color="k",
                alpha=0.12,
                lw=0,
            )
        ax.plot(
            [d_lo, d_hi],
            [min(max(gam, y0), y1)] * 2,
            color="k",
            lw=2.2,
            alpha=0.6,
            solid_capstyle="butt",
        )
        edge += [(math.sqrt(d_lo * d_hi), gam, True)] * (not y0 <= gam <= y1)
    _edge_marks(ax, edge, ylim)
    return bool(edge)


def _edge_marks(ax, edge: list, ylim: tuple[float, float]) -> None:
    """Triangles on the y-axis edge for values beyond it: filled for estimates, open for
    interval ends, pointing the way the value lies."""
    y0, y1 = ylim
    pad = 0.015 * (y1 - y0)
    for x, y, filled in edge:
        up = y > y1
        at = y1 - pad if up else y0 + pad
        ax.plot(
            [x],
            [at],
            ls="none",
            marker="^" if up else "v",
            ms=6,
            color="0.15",
            mfc="0.15" if filled else "white",
            clip_on=False,
            zorder=5,
        )
        if filled:
            ax.annotate(
                f"{y:.2f}",
                (x, at),
                xytext=(5, 0),
                textcoords="offset points",
                fontsize=7,
                va="top" if up else "bottom",
            )


def _cell_format(shards: int):
    """How a heatmap cell prints a similarity, or ``None`` (too many shards to print)."""
    if shards > MAX_CELL_TEXT:
        return None
    if shards > 10:
        return lambda v: "0" if v == 0 else (f"{v:.2f}".lstrip("0") if v < 1 else "1")
    return lambda v: "0" if v == 0 else f"{v:.2f}"


def shard_similarity_png(
    mats: dict[int, np.ndarray], paths: list[str], sketch: str = "MinHash"
) -> bytes:
    """``shard_similarity.png``: :func:`shard_similarity_figure` as PNG bytes."""
    return _png(shard_similarity_figure(mats, paths, sketch), dpi=100)


def shard_similarity_figure(mats: dict[int, np.ndarray], paths: list[str], sketch: str = "MinHash"):
    """The figure of ``shard_similarity.png`` (the caller closes it): one heatmap of the
    shard-by-shard Jaccard matrix per window size, on one colour scale from 0 to the largest
    off-diagonal value; the diagonal is greyed out.

    Args:
        mats: by n, the ``(shards, shards)`` float64 matrix of
            :func:`~seqcount.analysis.overlap.shard_jaccard`.
        paths: the shards' paths, in the matrices' order.
    """
    plt = pyplot()
    ns = list(mats)
    k = len(paths)
    fmt = _cell_format(k)
    panel = max(3.0, 0.27 * k) if fmt is not None else 3.0  # inches: room for the values
    cols = min(len(ns), max(1, int(13.0 // panel)))
    rows = (len(ns) + cols - 1) // cols
    named = k <= 30
    width = (panel + 0.2) * cols + (3.0 if named else 1.0)
    fig, axes = plt.subplots(
        rows, cols, figsize=(width, panel * rows + 0.8), squeeze=False, layout="constrained"
    )
    labels = [f"{i}: {os.path.basename(p)}" for i, p in enumerate(paths)]
    off = ~np.eye(k, dtype=bool)
    masked = {n: np.ma.masked_where(~off | ~np.isfinite(m), m) for n, m in mats.items()}
    top = max([float(m.max()) for m in masked.values() if m.count()] + [0.0])
    vmax = top if top > 0 else 1.0
    cmap = plt.get_cmap("magma").with_extremes(bad="0.85")
    image = None
    for j, (ax, n) in enumerate(zip(axes.flat, ns)):
        image = ax.imshow(masked[n], vmin=0.0, vmax=vmax, cmap=cmap, interpolation="nearest")
        ax.set_title(f"n = {n}")
        if fmt is not None:
            _cell_text(ax, masked[n], fmt, vmax, fontsize=8.0 if k <= 10 else 6.5)
        if named:
            ax.set_xticks(range(k), [str(i) for i in range(k)], fontsize=7)
            ax.set_yticks(range(k), labels if j % cols == 0 else [""] * k, fontsize=7)
        ax.set_xlabel("shard")
    for ax in list(axes.flat)[len(ns) :]:
        ax.axis("off")
    if image is not None:
        fig.colorbar(
            image,
            ax=axes,
            shrink=0.8,
            label="estimated Jaccard similarity\n(grey: the diagonal, or no windows)",
        )
    fig.suptitle(f"Shard-by-shard overlap of n-token window sets ({sketch})")
    return fig


def _cell_text(ax, m: np.ma.MaskedArray, fmt, vmax: float, fontsize: float) -> None:
    """Each cell's value printed on it (``-`` where a shard has no windows, nothing on the
    diagonal), dark on light cells and light on dark ones."""
    k = m.shape[0]
    data = m.data
    for a in range(k):
        for b in range(k):
            if a == b:
                continue
            v = data[a, b]
            text = "-" if not math.isfinite(v) else fmt(v)
            light = not math.isfinite(v) or v / vmax > 0.6  # grey (no windows) is light
            ax.text(
                b,
                a,
                text,
                ha="center",
                va="center",
                fontsize=fontsize,
                color="black" if light else "white",
            )
