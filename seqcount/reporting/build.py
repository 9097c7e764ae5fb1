"""Building a :class:`~.model.Report` from a ``count`` run: fits, slopes, bounds,
extrapolations, and the near-duplicate and shard-similarity sections."""

from __future__ import annotations

import os

from ..analysis import bounds
from ..analysis.band import against_band, extrapolate
from ..analysis.drift import Assessment, assess
from ..analysis.fit import GrowthFit, curve_points, fit_growth, local_slopes, too_few_points
from ..analysis.overlap import most_similar_pairs, shard_jaccard_errors
from ..analysis.resample import DEFAULT_ORDERS, MIN_BLOCKS, ORDER_SEED, resample
from ..config import BLOCK_TOKENS
from ..engine.results import CurveRow
from ..errors import ConfigError, FormatError
from ..run.curve import read_curve
from ..run.files import SKETCH_FILE, load_run
from ..sketches import SketchSet, load_sketches
from . import model as m
from .model import Report
from .options import check_options

#: Shard pairs listed in the report, most similar first.
MAX_LISTED_PAIRS = 10


def build_report(run: str | os.PathLike | tuple[list[CurveRow], dict], **options) -> Report:
    """Analyse a ``count`` run: fit every window size's curve and set it against the bounds.

    Args:
        run: an output directory written by ``count``, or its ``(rows, summary)`` as
            :func:`~seqcount.run.files.load_run` returns them (then without the near-duplicate
            and shard-similarity sections, which need the directory's other files).
        **options: as :func:`analyze`.

    Raises:
        FormatError: the directory is not a ``count`` output.
        ConfigError: invalid options (:class:`~.options.OptionError`), or nothing to fit.
    """
    if isinstance(run, tuple):
        rows, summary = run
        return analyze(rows, summary, **options)
    rows, summary = load_run(run)
    sketches = _sketches(run)
    blocks = getattr(sketches, "blocks", None)
    if blocks is None and "blocks" not in options:
        options["blocks"] = None
        options.setdefault("no_blocks_reason", _no_blocks_reason(sketches))
    else:
        options.setdefault("blocks", blocks)
    rep = analyze(rows, summary, **options)
    rep.near_dup, rep.dedup_curve = near_dup_section(run, summary, rows)
    rep.shard_similarity, rep.sketches = shard_section(sketches)
    return rep


def _sketches(out_dir) -> SketchSet | None:
    """The run's sketches.npz, or ``None`` when it has none that can be read."""
    try:
        return load_sketches(os.path.join(os.fspath(out_dir), SKETCH_FILE))
    except FormatError:
        return None


def _no_blocks_reason(sketches) -> str:
    if sketches is None:
        return f"the output has no readable {SKETCH_FILE}"
    return "the run has no block sketches (counted with --no-blocks, or by an older seqcount)"


def analyze(
    rows: list[CurveRow],
    summary: dict,
    *,
    at: list[float] | tuple = (),
    fit: str | bounds.LossFit = "chinchilla",
    model_params: float | None = None,
    d_range: tuple[float, float] | None = None,
    bloom_fpr: float | None = None,
    c_lo: float = 1.0,
    c_hi: float = 1.0,
    exact: bool = False,
    blocks=None,
    orders: int = DEFAULT_ORDERS,
    no_blocks_reason: str = "no block sketches were given",
) -> Report:
    """Fit every window size's growth curve and set it against the paper's bounds.

    A window size whose curve has too few checkpoints is listed in ``not_fitted`` with the
    reason; the report is still made.

    Args:
        rows, summary: what ``count`` wrote (see :func:`~seqcount.run.files.load_run`).
        at: corpus sizes (tokens) at which to extrapolate U_n.
        fit: the loss fit behind the paper's bounds (see :mod:`seqcount.analysis.bounds`).
        model_params: a model size N, for the emergent-skills regime.
        d_range: ``(lo, hi)`` range of D to fit; default the upper two decades.
        bloom_fpr: a false-positive rate; adds Bloom filter sizes for the extrapolated U_n.
        c_lo, c_hi: the constants of the paper's learning-rate bounds (assumptions, default 1).
        exact: fit ``unique_exact`` instead of the sketch estimates.
        blocks: the run's block sketches (:class:`~seqcount.sketches.BlockSketches`); with
            them every fit gets a calibrated interval, its drift and a verdict
            (:mod:`seqcount.analysis.drift`), from ``orders`` random block orders.
        no_blocks_reason: what ``resampling`` says when there are no ``blocks``.

    Raises:
        OptionError: an invalid ``at``, ``d_range`` or ``bloom_fpr``.
        FormatError: the corpus has no tokens, or ``exact`` without exact counts.
        ConfigError: nothing could be fitted in ``d_range``, or the run is a merged output.
    """
    check_options(at, d_range, bloom_fpr)
    tokens = int(summary["totals"]["tokens"])
    if tokens <= 0:
        raise FormatError("the corpus has no tokens: nothing to fit")
    rel_err = 0.0 if exact else float(summary.get("standard_error", 0.0))
    if bloom_fpr is not None and not at:
        at = [float(tokens)]  # size the filter for the corpus itself
    band = bounds.gamma_band(fit)
    d_star = float(bounds.d_star(fit, c_lo, c_hi))
    paper = bounds.bounds_summary(tokens, fit=fit, model_params=model_params, c_lo=c_lo, c_hi=c_hi)
    fits, slopes, skipped = [], {}, []
    for n in sorted({r.n for r in rows}):
        d, u = curve_points(rows, n, exact=exact)
        mid, sl = local_slopes(d, u)
        slopes[n] = m.Slopes(tokens=mid.tolist(), slope=sl.tolist())
        g = _fit_or_reason(d, u, n, rel_err, d_range)
        if isinstance(g, m.NotFitted):
            skipped.append(g)
            continue
        fits.append(
            m.FitResult(g, against_band(g, band), float(u[-1]), _extrapolations(g, at, bloom_fpr))
        )
        if model_params is not None:
            fits[-1] = _with_regime(fits[-1], model_params, tokens, fit, c_lo, c_hi)
    if not fits:
        _no_fit(summary, d_range, skipped)
    if blocks is None:
        resampling = {"skipped": no_blocks_reason}
    else:
        fits, resampling = _assessed(fits, blocks, band, orders, slopes)
    return Report(
        corpus=m.CorpusInfo(
            tokens=tokens,
            documents=summary["totals"].get("documents"),
            shards=summary["totals"].get("shards"),
            options=summary.get("sketch_options", {}),
            standard_error=rel_err,
            counts="exact" if exact else "sketch",
        ),
        loss_fit=fit if isinstance(fit, str) else getattr(fit, "name", str(fit)),
        gamma_band=band,
        d_star=d_star,
        corpus_over_d_star=tokens / d_star,
        paper=paper,
        model_params=model_params,
        bloom_fpr=bloom_fpr,
        fits=fits,
        not_fitted=skipped,
        slopes=slopes,
        curve=rows,
        exact=exact,
        resampling=resampling,
    )


#: Blocks a report resamples at most (adjacent blocks of a shard merge down to it).
MAX_RESAMPLED_BLOCKS = 256


def _assessed(fits: list[m.FitResult], blocks, band, orders: int, slopes: dict):
    """``fits`` with their assessments (and ``slopes`` with their half-decade intervals,
    updated in place), and the ``resampling`` section; with fewer than ``MIN_BLOCKS`` blocks
    (blocks always hold tokens), ``fits`` unchanged and the reason."""
    blocks = blocks.coarsen(MAX_RESAMPLED_BLOCKS)
    if len(blocks) < MIN_BLOCKS:
        why = (
            f"the run has {len(blocks)} block(s) of documents; a calibrated interval needs "
            f"at least {MIN_BLOCKS} (a block closes at the first document end after "
            f"{BLOCK_TOKENS:,} tokens)"
        )
        return fits, {"skipped": why}
    out, unresolved = [], []
    for f in fits:
        res = resample(blocks.tokens, blocks.regs[blocks.ns.index(f.n)], f.n, orders)
        a = assess(res, f.growth.d_lo, f.growth.d_hi, band)
        if a is None:
            unresolved.append(f.n)
        else:
            slopes[f.n] = _with_intervals(slopes[f.n], a)
        out.append(_with_assessment(f, a, band))
    info = {
        "blocks": len(blocks),
        "orders": int(orders),
        "seed": ORDER_SEED,
        "block_precision": blocks.precision,
        "block_sketch_bytes": int(blocks.regs.nbytes),
    }
    if unresolved:
        info["unresolved"] = {
            "n": unresolved,
            "reason": "the blocks do not resolve 3 grid points of the fit range (a range that "
            "ends below the largest block)",
        }
    return out, info


def _with_assessment(f: m.FitResult, a: Assessment | None, band) -> m.FitResult:
    if a is None:
        return f
    v = against_band(f.growth, band, a)
    return m.FitResult(f.growth, v, f.u_corpus, f.extrapolation, f.regime, f.regime_at, a)


def _with_intervals(s: m.Slopes, a: Assessment) -> m.Slopes:
    loc = [
        m.LocalExponent(e.d_lo, e.d_hi, (e.d_lo * e.d_hi) ** 0.5, e.value, *e.ci95) for e in a.local
    ]
    return m.Slopes(s.tokens, s.slope, loc)


def _fit_or_reason(d, u, n: int, rel_err: float, d_range) -> GrowthFit | m.NotFitted:
    """The fit of one curve, or why there is none."""
    reason = too_few_points(d)
    if reason is not None:
        return m.NotFitted(n, reason)
    try:
        return fit_growth(d, u, n, rel_err=rel_err, d_range=d_range)
    except ValueError as e:
        return m.NotFitted(n, str(e))


def _extrapolations(g: GrowthFit, at, bloom_fpr: float | None) -> list[m.Extrapolated]:
    out = []
    for target in at:
        e = extrapolate(g, target)
        bloom = bounds.bloom_filter(float(e.high), bloom_fpr) if bloom_fpr is not None else None
        out.append(m.Extrapolated(e, bloom))
    return out


def _with_regime(f: m.FitResult, model_params, tokens, fit, c_lo, c_hi) -> m.FitResult:
    """``f`` with the regime of a model of ``model_params`` at the corpus and extrapolations."""
    cs = dict(c_lo=c_lo, c_hi=c_hi)
    regime = bounds.regime(model_params, tokens, fit, f.u_corpus, **cs)
    regime_at = [
        {"tokens": e.at.tokens, **bounds.regime(model_params, e.at.tokens, fit, e.at.unique, **cs)}
        for e in f.extrapolation
    ]
    return m.FitResult(f.growth, f.verdict, f.u_corpus, f.extrapolation, regime, regime_at)


def _no_fit(summary: dict, d_range, skipped: list[m.NotFitted]) -> None:
    """Raise when no curve could be fitted for a reason the caller can act on."""
    if "merged_from" in summary.get("run", {}):
        raise ConfigError(
            "a merged output has one point per n, at the whole union, and no curve to fit; "
            "count the corpora together (a state directory keeps it incremental) for a curve"
        )
    if d_range is not None:
        reasons = "; ".join(s.reason for s in skipped)
        raise ConfigError(f"no window size could be fitted ({reasons})")


def near_dup_section(
    out_dir, summary: dict, rows: list[CurveRow]
) -> tuple[m.NearDupSection | None, list[CurveRow] | None]:
    """The near-duplicate section and the curve after dropping them, when the run used
    ``near_dup`` and wrote that curve; else ``(None, None)``."""
    nd = summary.get("near_dup")
    path = os.path.join(os.fspath(out_dir), summary.get("outputs", {}).get("curve_dedup", ""))
    if nd is None or not os.path.isfile(path):
        return None, None
    dedup = read_curve(path)
    last_raw = max(r.tokens for r in rows)
    last = max((r.tokens for r in dedup), default=0)
    raw = {r.n: r.unique for r in rows if r.tokens == last_raw}
    kept = {r.n: r.unique for r in dedup if r.tokens == last}
    per_n = [
        m.DedupRow(n, raw[n], kept.get(n, 0.0), kept.get(n, 0.0) / raw[n] if raw[n] else 0.0)
        for n in sorted(raw)
    ]
    return m.NearDupSection(found=dict(nd), per_n=per_n), dedup


def _nan_none(x) -> float | None:
    x = float(x)
    return None if x != x else x


def shard_section(sketches: SketchSet | None) -> tuple[m.ShardSimilarity | None, SketchSet | None]:
    """The most similar shard pairs and the sketches for the heatmap; ``(None, None)`` without
    sketches, per-shard overlap sketches or with fewer than two shards."""
    if sketches is None:
        return None, None
    no_sketches = sketches.shard_minhash is None and sketches.shard_theta is None
    if no_sketches or len(sketches.shard_paths) < 2:
        return None, None
    both = {n: shard_jaccard_errors(sketches, n) for n in sketches.ns}
    mats = {n: est for n, (est, _) in both.items()}
    paths = sketches.shard_paths
    pairs = [
        m.ShardPair(
            paths[a],
            paths[b],
            {n: _nan_none(est[a, b]) for n, (est, _) in both.items()},
            {n: _nan_none(err[a, b]) for n, (_, err) in both.items()},
        )  # fmt: skip
        for a, b in most_similar_pairs(mats, MAX_LISTED_PAIRS)
    ]
    rank_n = max(sketches.ns)  # the order of most_similar_pairs
    if sketches.shard_theta is not None:
        k = sketches.shard_theta[0][0].k
        return m.ShardSimilarity(None, rank_n, pairs, "theta", k), sketches
    return m.ShardSimilarity(sketches.minhash[0].num_perm, rank_n, pairs), sketches
