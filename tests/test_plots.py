"""The report's plots (reporting/plots.py): what a figure must show, checked on the figure's
objects (axes, legend boxes, colour limits, texts, edge marks), for reports built in memory."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from seqcount.engine.results import CurveRow
from seqcount.reporting import plots
from seqcount.reporting.build import analyze
from seqcount.reporting.model import FitResult, LocalExponent, Report, Slopes

pytest.importorskip("matplotlib")

NS = (1, 2, 4, 8, 16, 32, 64)


def curve_rows(tokens_max: float = 2e6, scale: float = 1.0) -> list[CurveRow]:
    """A 7-n growth curve: exponent falling with n from 1 to about 0.45, bending down at
    the top for small n; U <= D."""
    tokens = np.unique(np.round(np.logspace(3, math.log10(tokens_max), 28))).astype(int)
    rows = []
    for i, n in enumerate(NS):
        g = 0.45 + 0.55 * (1 - math.exp(-i / 1.5))
        u = np.minimum(tokens, 0.9 * tokens**g / (1 + tokens / (5e6 * (i + 1))) ** 0.2) * scale
        rows += [CurveRow(n, int(t), 1, int(t), float(v)) for t, v in zip(tokens, u)]
    return rows


def summary(tokens: int) -> dict:
    return {"totals": {"tokens": tokens, "documents": 100, "shards": 3},
            "standard_error": 0.004, "sketch_options": {"tokenizer": "words"}}  # fmt: skip


def make_report(*, intervals=False, near_dup=False, at=(), d_star=None, ci=False) -> Report:
    rows = curve_rows()
    rep = analyze(rows, summary(max(r.tokens for r in rows)), at=list(at))
    if intervals:
        rep.slopes = {n: with_intervals(s, k) for k, (n, s) in enumerate(rep.slopes.items())}
    if near_dup:
        rep.dedup_curve = [dataclasses.replace(r, unique=r.unique * 0.8) for r in rows]
    if d_star is not None:
        rep.d_star = d_star
    if ci:
        rep.fits = [
            FitResult(f.growth, dataclasses.replace(f.verdict, gamma_ci95=[f.growth.gamma - 0.03,
                      f.growth.gamma + 0.03], verdict="undecided"), f.u_corpus, f.extrapolation)
            for f in rep.fits
        ]  # fmt: skip
    return rep


def with_intervals(s: Slopes, k: int) -> Slopes:
    """``s`` with a local exponent per half decade (the mean step slope ± 0.05), one of them
    (for k == 2) far above the axis and one interval (k == 3) reaching below it."""
    t, v = np.array(s.tokens), np.array(s.slope)
    out = []
    for lo in 10 ** np.arange(3.0, 6.5, 0.5):
        sel = (t >= lo) & (t < lo * 10**0.5)
        if not sel.any():
            continue
        g = float(v[sel].mean())
        low, high = g - 0.05, g + 0.05
        if k == 2 and lo == 1e4:
            g, low, high = 2.5, 2.2, 2.8
        if k == 3 and lo == 1e4:
            low = -1.0
        out.append(LocalExponent(lo, lo * 10**0.5, lo * 10**0.25, g, low, high))
    return Slopes(s.tokens, s.slope, out)


def _boxes(fig):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    return r


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _close(fig):
    plots.pyplot().close(fig)


def _texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts + [ax.title]) + "\n".join(
        t.get_text() for t in fig.texts
    )


def _legend_labels(fig) -> list[str]:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return [t.get_text() for leg in legends for t in leg.get_texts()]


@pytest.mark.parametrize("near_dup", [False, True])
def test_growth_legend_is_outside_every_data_axes(near_dup):
    fig = plots.growth_figure(make_report(near_dup=near_dup, at=(1e8,)))
    try:
        r = _boxes(fig)
        data_axes = [ax for ax in fig.axes if ax.get_visible()]
        assert len(data_axes) == 2  # U_n(D) and U_n(D)/D
        assert len(fig.legends) == 1
        box = fig.legends[0].get_window_extent(r)
        for ax in data_axes:
            assert not _overlaps(box, ax.get_window_extent(r))
        labels = _legend_labels(fig)
        assert [lb for lb in labels if lb.startswith("n = ")] == [f"n = {n}" for n in NS]
        assert any("extrapolated" in lb for lb in labels)
        assert ("near-duplicates removed" in labels) == near_dup
        # the dashed deduplicated curves are drawn in both panels, one per n
        dashed = [ln for ax in data_axes for ln in ax.lines if ln.get_linestyle() == "--"]
        assert len(dashed) == (2 * len(NS) if near_dup else 0)
    finally:
        _close(fig)


def test_growth_fills_the_measured_range_without_extrapolations():
    rep = make_report()
    fig = plots.growth_figure(rep)
    try:
        d = [r.tokens for r in rep.curve]
        u = [r.unique for r in rep.curve]
        for ax in fig.axes:
            x0, x1 = ax.get_xlim()
            assert min(d) / 1.3 < x0 < min(d) and max(d) < x1 < max(d) * 1.3
        y0, y1 = fig.axes[0].get_ylim()
        assert min(u) / 2 < y0 < min(u) and max(u) < y1 < max(u) * 2
    finally:
        _close(fig)


def test_growth_draws_the_band_only_above_d_star_and_says_so():
    # D* inside the measured range: the band starts at D*, a line marks it, a note says why
    fig = plots.growth_figure(make_report(d_star=3e4))
    try:
        ax = fig.axes[0]
        fills = [c for c in ax.collections if c.get_paths()]
        assert fills, "no band drawn"
        xmin = min(p.vertices[:, 0].min() for c in fills for p in c.get_paths())
        assert xmin == pytest.approx(3e4, rel=1e-9)
        assert "band not drawn below D* = 3e+04" in _texts(fig)
        assert any("paper's band" in lb for lb in _legend_labels(fig))
    finally:
        _close(fig)
    # D* beyond the plot: no band at all, and the reason on the plot
    fig = plots.growth_figure(make_report(d_star=2.16e9))
    try:
        assert not [c for c in fig.axes[0].collections if c.get_paths()]
        assert "paper's band not drawn" in _texts(fig) and "D* = 2.16e+09" in _texts(fig)
        assert not any("paper's band" in lb for lb in _legend_labels(fig))
    finally:
        _close(fig)


@pytest.mark.parametrize("intervals", [False, True])
def test_slopes_has_one_panel_per_n_and_a_legend_off_the_data(intervals):
    rep = make_report(intervals=intervals, ci=intervals)
    fig = plots.slopes_figure(rep)
    try:
        panels = [ax for ax in fig.axes if ax.axison]
        assert len(panels) == len(NS)
        assert [ax.get_title().split(":")[0] for ax in panels] == [f"n = {n}" for n in NS]
        assert len({ax.get_ylim() for ax in panels}) == 1  # shared axes
        r = _boxes(fig)
        legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + list(fig.legends)
        assert len(legends) == 1
        box = legends[0].get_window_extent(r)
        for ax in panels:
            assert not _overlaps(box, ax.get_window_extent(r))
        labels = _legend_labels(fig)
        assert any("paper's band" in lb for lb in labels)
        assert any("midpoint" in lb for lb in labels)
        assert any("half decade" in lb for lb in labels) == intervals
        for ax in panels:  # the band and its midpoint in every panel
            lo, hi = rep.gamma_band
            spans = [p for p in ax.patches if p.get_alpha() and p.get_alpha() < 0.5]
            ys = [ln.get_ydata()[0] for ln in ax.lines if ln.get_linestyle() == "--"]
            assert spans and rep.paper["gamma_mid"] in ys
        if intervals:
            assert "95% [" in panels[0].get_title()
    finally:
        _close(fig)


def _edge_marks(ax):
    return [ln for ln in ax.lines if ln.get_marker() in ("^", "v") and not ln.get_clip_on()]


def test_slopes_marks_values_beyond_the_axis_at_its_edge():
    rep = make_report(intervals=True)
    fig = plots.slopes_figure(rep)
    try:
        panels = [ax for ax in fig.axes if ax.axison]
        y0, y1 = panels[0].get_ylim()
        # n = 4 has gamma 2.5 (and its interval) above the axis; n = 8 an interval end below
        up = _edge_marks(panels[2])
        assert up and all(ln.get_marker() == "^" for ln in up)
        assert all(y0 < ln.get_ydata()[0] <= y1 for ln in up)
        filled = [ln for ln in up if ln.get_markerfacecolor() != "white"]
        assert filled  # the estimate itself, not only its interval
        down = _edge_marks(panels[3])
        assert down and all(ln.get_marker() == "v" for ln in down)
        for k in (0, 1, 4, 5, 6):  # every other value lies inside the axis
            s = rep.slopes[NS[k]]
            vals = list(s.slope) + [v for e in s.intervals for v in (e.gamma, e.low, e.high)]
            outside = [v for v in vals if not y0 <= v <= y1]
            assert len(_edge_marks(panels[k])) == len(outside)
        assert any("beyond the axis" in lb for lb in _legend_labels(fig))
    finally:
        _close(fig)
    fig = plots.slopes_figure(make_report())
    try:
        assert not any(_edge_marks(ax) for ax in fig.axes)
        assert not any("beyond the axis" in lb for lb in _legend_labels(fig))
    finally:
        _close(fig)


def _similarity(k: int, seed: int = 0) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(seed)
    mats = {}
    for n in (1, 8):
        m = rng.uniform(0, 0.3 if n == 1 else 0.05, (k, k))
        m = (m + m.T) / 2
        np.fill_diagonal(m, 1.0)
        mats[n] = m
    mats[8][0, 1] = mats[8][1, 0] = np.nan  # a shard without windows
    return mats


@pytest.mark.parametrize("k", [7, 15, 40])
def test_heatmap_colour_scale_excludes_the_diagonal_and_cells_print_values(k):
    mats = _similarity(k)
    paths = [f"shard-{i}.parquet" for i in range(k)]
    fig = plots.shard_similarity_figure(mats, paths)
    try:
        off = ~np.eye(k, dtype=bool)
        top = max(np.nanmax(m[off]) for m in mats.values())
        images = [im for ax in fig.axes for im in ax.images]
        assert len(images) == 2
        for im in images:
            assert im.get_clim() == pytest.approx((0.0, top))
            assert top < 0.31  # well below the diagonal's 1
            assert np.ma.getmaskarray(im.get_array())[np.eye(k, dtype=bool)].all()
        for ax, m in zip([ax for ax in fig.axes if ax.images], mats.values()):
            texts = [t.get_text() for t in ax.texts]
            if k > plots.MAX_CELL_TEXT:
                assert texts == []
                continue
            assert len(texts) == k * (k - 1)  # every cell but the diagonal
            for t in ax.texts:
                a, b = round(t.get_position()[1]), round(t.get_position()[0])
                v = m[a, b]
                if math.isnan(v):
                    assert t.get_text() == "-"
                else:
                    assert float(t.get_text()) == pytest.approx(v, abs=0.005)
    finally:
        _close(fig)


def test_heatmap_of_all_zero_overlap_still_has_a_scale():
    m = np.eye(3)
    fig = plots.shard_similarity_figure({4: m}, ["a", "b", "c"])
    try:
        assert fig.axes[0].images[0].get_clim() == (0.0, 1.0)
        assert sorted(t.get_text() for t in fig.axes[0].texts) == ["0"] * 6
    finally:
        _close(fig)


def test_pngs_are_deterministic_and_written_for_every_variant():
    rep = make_report(intervals=True, ci=True, near_dup=True, at=(1e9, 1e12), d_star=1e5)
    for draw in (plots.growth_png, plots.slopes_png):
        a, b = draw(rep), draw(rep)
        assert a[:8] == b"\x89PNG\r\n\x1a\n" and a == b
    mats, paths = _similarity(7), [f"s{i}" for i in range(7)]
    assert plots.shard_similarity_png(mats, paths) == plots.shard_similarity_png(mats, paths)


def test_a_report_without_fits_or_slopes_still_draws():
    rep = make_report()
    empty = dataclasses.replace(rep, fits=[], slopes={n: Slopes([], []) for n in rep.slopes})
    for draw in (plots.growth_png, plots.slopes_png):
        assert draw(empty)[:4] == b"\x89PNG"
    one = dataclasses.replace(rep, slopes={1: rep.slopes[1]})
    assert plots.slopes_png(one)[:4] == b"\x89PNG"
