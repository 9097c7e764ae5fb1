"""Human-readable results: the ``count`` table, and the analysis report (markdown, HTML, JSON,
plots) of ``seqcount report``. matplotlib is imported only to draw."""

from __future__ import annotations

import json
import math
import os
import re

import numpy as np

from ..analysis import bounds
from ..analysis.fit import curve_points, fit_growth, local_slopes
from ..analysis.overlap import shard_jaccard
from ..engine.results import CountResult
from ..errors import ConfigError, FormatError, OutputError
from ..run.curve import read_curve
from ..run.files import (
    GROWTH_PNG,
    REPORT_HTML,
    REPORT_JSON,
    REPORT_MD,
    SIMILARITY_CSV,
    SIMILARITY_PNG,
    SKETCH_FILE,
    SLOPES_PNG,
    check_output_dir,
    load_run,
)
from ..sketches import atomic_write, load_sketches


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.1f} {unit}"
    return f"{x:.0f} "


def _plural(count: int, noun: str) -> str:
    """``1 document``, ``2 documents``, with thousands separators."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def count_table(result: CountResult) -> str:
    """The table ``seqcount count`` prints: one line per window size at the whole input.

    Columns: ``n``; ``windows`` (n-token windows read, with repeats); ``unique`` (estimated
    distinct windows U_n(D)); ``unique/windows`` (the share that is new); with ``--exact`` also
    ``exact`` and the relative ``error`` of the estimate.
    """
    exact = any(r.unique_exact is not None for r in result.final.values())
    head = f"{'n':>5} {'windows':>14} {'unique':>14} {'unique/windows':>15}"
    if exact:
        head += f" {'exact':>14} {'error':>8}"
    lines = [
        f"{len(result.shards)} shard(s), {_plural(result.documents, 'document')}, "
        f"{_plural(result.tokens, 'token')} "
        f"({result.config.tokenizer}) "
        + (
            f"merged from {len(result.merged_from)} output(s)"
            if result.merged_from is not None
            else f"in {result.elapsed:.2f} s ({_si(result.tokens_per_s)}tokens/s)"
        )
        + f"; sketch error ±{100 * result.config.standard_error:.2f}%",
        head,
    ]
    for n in result.config.ns:
        row = result.final[n]
        w = result.windows[n]
        share = row.unique / w if w else 0.0
        line = f"{n:>5} {w:>14,} {round(row.unique):>14,} {share:>15.4f}"
        if exact:
            ex = row.unique_exact
            err = (row.unique - ex) / ex if ex else 0.0
            line += f" {ex:>14,} {100 * err:>+7.2f}%"
        lines.append(line)
    notes = []
    if result.empty_documents:
        empty = _plural(result.empty_documents, "empty document")
        notes.append(f"{empty} ({result.null_documents:,} null)")
    if result.invalid_utf8:
        notes.append(f"{result.invalid_utf8:,} invalid UTF-8 sequences replaced by U+FFFD")
    if result.ignored:
        shown = ", ".join(result.ignored[:3]) + (" ..." if len(result.ignored) > 3 else "")
        outputs = sum(p.endswith(("/", os.sep)) for p in result.ignored)
        files = len(result.ignored) - outputs
        what = [f"{files} file(s) of unknown format"] if files else []
        what += [f"{outputs} seqcount output or state dir(s)"] if outputs else []
        notes.append(f"{' and '.join(what)} skipped: {shown}")
    lines += ["note: " + n for n in notes]
    if result.near_dup is not None:
        lines.append(near_dup_table(result))
    return "\n".join(lines)


def near_dup_table(result: CountResult) -> str:
    """What ``--near-dup`` found: the rate, the largest clusters, U_n before and after."""
    nd = result.near_dup
    lines = [
        f"near-duplicates (n={nd.n} windows, Jaccard >= {nd.threshold:g}, "
        f"LSH {nd.bands} bands x {nd.rows_per_band} rows): {nd.duplicates:,} of "
        f"{nd.checked:,} documents ({100 * nd.rate:.2f}%) have one earlier in the corpus; "
        f"{nd.clusters:,} cluster(s)"
    ]
    if nd.short:
        lines.append(f"  {nd.short:,} document(s) shorter than {nd.n} tokens not checked")
    if nd.unindexed:
        lines.append(
            f"  {nd.unindexed:,} document(s) checked but not indexed (--near-dup-max-docs)"
        )
    for size, docs in zip(nd.cluster_sizes, nd.largest[:5]):
        shown = ", ".join(f"{d['path']}#{d['row']}" for d in docs[:4])
        more = " ..." if size > 4 else ""
        lines.append(f"  cluster of {size}: {shown}{more}")
    last = max((r.tokens for r in nd.rows), default=0)
    dedup = {r.n: r for r in nd.rows if r.tokens == last}
    kept_docs = max((r.documents for r in nd.rows), default=0)
    lines.append(
        f"after dropping them: {kept_docs:,} of {result.documents:,} documents, "
        f"{last:,} of {result.tokens:,} tokens (curve_dedup.csv)"
    )
    lines.append(f"{'n':>5} {'unique':>14} {'unique_dedup':>14} {'dedup/raw':>10}")
    for n in result.config.ns:
        raw = result.final[n].unique
        kept = dedup[n].unique if n in dedup else 0.0
        ratio = kept / raw if raw else 0.0
        lines.append(f"{n:>5} {round(raw):>14,} {round(kept):>14,} {ratio:>10.4f}")
    return "\n".join(lines)


def write_shard_similarity(sketches, out: str | os.PathLike, plot: bool = True) -> dict:
    """Write ``shard_similarity.csv`` (``n, shard_a, shard_b, path_a, path_b, jaccard`` for
    every pair of shards ``a < b`` and every ``n``) and the heatmaps ``shard_similarity.png``.

    Returns:
        The paths written, by kind.
    """
    import csv
    import io


    paths = list(sketches.shard_paths)
    mats = {n: shard_jaccard(sketches, n) for n in sketches.ns}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["n", "shard_a", "shard_b", "path_a", "path_b", "jaccard"])
    for n, m in mats.items():
        for a in range(len(paths)):
            for b in range(a + 1, len(paths)):
                j = m[a, b]
                w.writerow([n, a, b, paths[a], paths[b], "" if j != j else f"{j:.6g}"])
    written = {"csv": os.path.join(out, SIMILARITY_CSV)}
    data = buf.getvalue().encode("utf-8")
    atomic_write(written["csv"], lambda f: f.write(data))
    if plot:
        written["png"] = os.path.join(out, SIMILARITY_PNG)
        plot_shard_similarity(mats, paths, written["png"])
    return written


def plot_shard_similarity(mats: dict, paths: list[str], path: str) -> None:
    """One heatmap of the shard-by-shard Jaccard matrix per window size."""
    plt = _pyplot()
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
    fig.suptitle("Shard-by-shard overlap of n-token window sets (MinHash)")
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------- analysis report


def _parse_floats(text: str | None, name: str) -> list[float]:

    if not text:
        return []
    out = []
    for item in str(text).split(","):
        try:
            v = float(item.strip())
        except ValueError:
            raise ConfigError(f"{name}: {item.strip()!r} is not a number (e.g. 1e9,1e12)") from None
        if not (v > 0 and math.isfinite(v)):
            raise ConfigError(f"{name}: values must be positive, got {item.strip()}")
        out.append(v)
    return out


def analyze(
    rows: list,
    summary: dict,
    *,
    at: list[float] | tuple = (),
    fit: str = "chinchilla",
    model_params: float | None = None,
    d_range: tuple[float, float] | None = None,
    bloom_fpr: float | None = None,
    c_lo: float = 1.0,
    c_hi: float = 1.0,
    exact: bool = False,
) -> dict:
    """Fit every window size's growth curve and set it against the paper's bounds.

    Args:
        rows, summary: what ``count`` wrote (see :func:`load_run`).
        at: corpus sizes (tokens) at which to extrapolate U_n.
        fit: the loss fit behind the paper's bounds (see :mod:`seqcount.bounds`).
        model_params: a model size N, for the emergent-skills regime.
        d_range: ``(lo, hi)`` range of D to fit; default the upper two decades.
        bloom_fpr: a false-positive rate; adds Bloom filter sizes for the extrapolated U_n.
        c_lo, c_hi: the constants of the paper's learning-rate bounds (assumptions, default 1).
        exact: fit ``unique_exact`` instead of the sketch estimates.

    Returns:
        The content of ``report.json`` (plain JSON types).
    """

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
        slopes[n] = {"tokens": mid.tolist(), "slope": sl.tolist()}
        try:
            g = fit_growth(d, u, n, rel_err=rel_err, d_range=d_range)
        except ValueError as e:
            skipped.append({"n": n, "reason": str(e)})
            continue
        item = g.to_dict()
        err2 = 2 * g.gamma_err
        item.update(
            in_band=bool(band[0] <= g.gamma <= band[1]),
            band_overlap=bool(g.gamma + err2 >= band[0] and g.gamma - err2 <= band[1]),
            doubling_factor=float(bounds.doubling_factor(g.gamma)),
            doubling_interval=sorted(
                float(bounds.doubling_factor(x)) for x in (g.gamma - err2, g.gamma + err2)
            ),
            u_corpus=float(u[-1]),
        )
        extra = []
        for target in at:
            # U_n can never exceed the windows read, and so never D itself
            lo, hi = (min(float(v), target) for v in g.interval(target))
            e = {
                "tokens": float(target),
                "unique": min(float(g.predict(target)), target),
                "low": lo,
                "high": hi,
            }
            if bloom_fpr is not None:
                e["bloom"] = bounds.bloom_filter(float(hi), bloom_fpr)
            extra.append(e)
        item["extrapolation"] = extra
        if model_params is not None:
            cs = dict(c_lo=c_lo, c_hi=c_hi)
            item["regime"] = bounds.regime(model_params, tokens, fit, float(u[-1]), **cs)
            item["regime_at"] = [
                {"tokens": e["tokens"], **bounds.regime(model_params, e["tokens"], fit,
                                                        e["unique"], **cs)}
                for e in extra
            ]  # fmt: skip
        fits.append(item)
    if not fits:

        reasons = "; ".join(s["reason"] for s in skipped)
        if "merged_from" in summary.get("run", {}):
            raise ConfigError(
                "a merged output has one point per n, at the whole union, and no curve to fit; "
                "count the corpora together (--state keeps it incremental) for a curve"
            )
        raise ConfigError(f"no window size could be fitted ({reasons})")
    return _jsonable(
        {
            "corpus": {
                "tokens": tokens,
                "documents": summary["totals"].get("documents"),
                "shards": summary["totals"].get("shards"),
                "options": summary.get("sketch_options", {}),
                "standard_error": rel_err,
                "counts": "exact" if exact else "sketch",
            },
            "loss_fit": fit if isinstance(fit, str) else getattr(fit, "name", str(fit)),
            "gamma_band": list(band),
            "d_star": d_star,
            "corpus_over_d_star": tokens / d_star,
            "paper": paper,
            "model_params": model_params,
            "bloom_fpr": bloom_fpr,
            "fits": fits,
            "not_fitted": skipped,
            "slopes": {str(k): v for k, v in slopes.items()},
        }
    )


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        return x.item()
    if hasattr(x, "__dataclass_fields__"):
        return _jsonable(dict(x.__dict__))
    return x


def _g(x: float, digits: int = 3) -> str:
    """Compact number: 1.23e+09 style for large/small, plain otherwise."""
    if x is None:
        return "-"
    x = float(x)
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return "inf"
    if 1e-3 <= abs(x) < 1e6:
        return f"{x:,.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _bytes(n: float) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


def report_markdown(rep: dict, images: bool = True) -> str:
    """``report.md``: the numbers of :func:`analyze` as tables and short verdicts."""
    c = rep["corpus"]
    lo, hi = rep["gamma_band"]
    p = rep["paper"]
    where = "below" if rep["corpus_over_d_star"] < 1 else "above"
    lines = [
        "# seqcount report",
        "",
        f"Corpus: {c['tokens']:,} tokens, {c['documents']:,} documents, {c['shards']} shard(s); "
        f"tokenizer `{c['options'].get('tokenizer')}`"
        f"{', non-overlapping chunks (--stride)' if c['options'].get('stride') else ''}; "
        f"counts from the {c['counts']} "
        f"(relative standard error {100 * c['standard_error']:.2f}%).",
        "",
        f"Paper's band ({rep['loss_fit']} loss fit): U(D) grows as D^γ with γ in "
        f"[{lo:.3f}, {hi:.3f}] (midpoint {p['gamma_mid']:.3f}); doubling the distinct sequences "
        f"takes {p['doubling_band'][0]:.2f}x to {p['doubling_band'][1]:.2f}x more data. The "
        f"band's constants are meaningful only above D* = {_g(rep['d_star'])} tokens; this corpus "
        f"is {where} it ({_g(rep['corpus_over_d_star'])} x D*)"
        + (", so compare exponents, not absolute counts." if where == "below" else "."),
        "",
        f"At D = {_g(c['tokens'])}: U_lower = {_g(p['u_lower'])}, U_mid = {_g(p['u_mid'])}, "
        f"U_upper = {_g(p['u_upper'])}.",
        "",
        "## Fitted growth exponents",
        "",
        "| n | γ ± error | in band | doubling factor | U at corpus | fit range (D) | points "
        "| preferred model |",
        "|---:|---|:---:|---:|---:|---|---:|---|",
    ]
    for f in rep["fits"]:
        verdict = "yes" if f["in_band"] else ("overlaps" if f["band_overlap"] else "no")
        model = f["preferred"]
        if f.get("cutoff_d"):
            model += f" (cut-off D={_g(f['cutoff_d'])}, γ={f['cutoff_gamma']:.3f})"
        lines.append(
            f"| {f['n']} | {f['gamma']:.4f} ± {f['gamma_err']:.4f} | {verdict} "
            f"| {f['doubling_factor']:.2f}x | {_g(f['u_corpus'])} "
            f"| {_g(f['d_lo'])} – {_g(f['d_hi'])} | {f['points']} | {model} |"
        )
    for s in rep["not_fitted"]:
        lines.append(f"| {s['n']} | not fitted: {s['reason']} | | | | | | |")
    lines += [
        "",
        "γ error: least-squares standard error combined with the sketch error "
        "(√2·σ/ln(D_hi/D_lo)); *in band*: γ inside the paper's band; *overlaps*: γ ± 2 errors "
        "reaches it. *doubling factor*: 2^(1/γ), the growth in data that doubles U_n. "
        "*U at corpus*: the curve's estimate at the whole corpus (the HIP estimate where the "
        "curve has one; the table of `count` shows the standard estimate of the final sketch). "
        "*preferred model*: power law, or a power law with an exponential cut-off when its "
        "AIC is lower by more than 2 and its bend exceeds three sketch errors (the curve bends "
        "below a power law; the cut-off form itself would eventually fall, so read D_c as the "
        "scale of the bend, not a peak).",
    ]
    if any(f["extrapolation"] for f in rep["fits"]):
        lines += ["", "## Extrapolated U_n (95% prediction interval)", ""]
        bloom = rep["bloom_fpr"] is not None
        head = "| n | tokens | U_n | interval |" + (
            f" Bloom filter at FPR {rep['bloom_fpr']:g} (for the interval's top) |" if bloom else ""
        )
        lines += [head, "|---:|---:|---:|---|" + ("---|" if bloom else "")]
        for f in rep["fits"]:
            for e in f["extrapolation"]:
                row = (
                    f"| {f['n']} | {_g(e['tokens'])} | {_g(e['unique'])} "
                    f"| {_g(e['low'])} – {_g(e['high'])} |"
                )
                if bloom:
                    b = e["bloom"]
                    row += f" {_g(b['bits'])} bits ({_bytes(b['bytes'])}), {b['hashes']} hashes |"
                lines.append(row)
        lines += [
            "",
            "Extrapolation assumes the power law holds beyond the corpus (capped at U = D: there "
            "are never more distinct windows than tokens); for curves whose preferred model is "
            "the cut-off, it is an upper estimate.",
        ]
    if rep["model_params"] is not None:
        lines += [
            "",
            f"## Emergent-skills regime for N = {_g(rep['model_params'])} parameters",
            "",
            "| n | D | paper's band says | measured U says |",
            "|---:|---:|---|---|",
        ]
        for f in rep["fits"]:
            pts = [(c["tokens"], f["regime"])] + [(r["tokens"], r) for r in f["regime_at"]]
            for d, r in pts:
                band = r.get("band", "-") + (" (D < D*: not meaningful)" if r.get("below_d_star")
                                             else "")  # fmt: skip
                lines.append(f"| {f['n']} | {_g(d)} | {band} | {r.get('measured', '-')} |")
        lines += [
            "",
            "*emergent*: N is below the distinct sequences, so scaling N can still uncover "
            "skills; *saturated*: N is above them, so more diverse data is needed; "
            "*undetermined*: inside the band.",
        ]
    nd = rep.get("near_dup")
    if nd is not None:
        lines += [
            "",
            "## Near-duplicate documents",
            "",
            f"Documents whose {nd['n']}-token windows have estimated Jaccard similarity "
            f"≥ {nd['threshold']:g} with an earlier document (MinHash, {nd['num_perm']} "
            f"permutations, LSH {nd['lsh_bands']} bands × {nd['lsh_rows']} rows, candidates "
            f"verified): **{nd['near_duplicate_documents']:,}** of "
            f"{nd['documents_checked']:,} checked documents "
            f"({100 * nd['near_duplicate_rate']:.2f}%), in {nd['clusters']:,} cluster(s).",
        ]
        if nd.get("short_documents"):
            lines.append(f"{nd['short_documents']:,} shorter documents were not checked.")
        if nd.get("unindexed_documents"):
            lines.append(
                f"{nd['unindexed_documents']:,} documents were checked but not indexed "
                "(--near-dup-max-docs): near-duplicates among them are missed."
            )
        lines += ["", "| n | U_n raw | U_n after dedup | ratio |", "|---:|---:|---:|---:|"]
        for r in nd["per_n"]:
            lines.append(
                f"| {r['n']} | {_g(r['unique'])} | {_g(r['unique_dedup'])} | {r['ratio']:.4f} |"
            )
        if nd["largest_clusters"]:
            lines += ["", "Largest clusters (shard path # row):", ""]
            for c in nd["largest_clusters"][:5]:
                docs = ", ".join(f"`{d['path']}#{d['row']}`" for d in c["documents"][:6])
                more = " …" if c["size"] > 6 else ""
                lines.append(f"- {c['size']} documents: {docs}{more}")
    sim = rep.get("shard_similarity")
    if sim is not None:
        lines += [
            "",
            "## Most similar shards",
            "",
            f"Estimated Jaccard similarity of the shards' n-token window sets (MinHash, "
            f"{sim['num_perm']} permutations, resolution {1 / sim['num_perm']:.4f}), "
            f"most similar at n = {sim['ranked_by_n']} first (ties: at the next smaller n): "
            "shards sharing many long windows share text.",
            "",
        ]
        ns = list(sim["top_pairs"][0]["jaccard"]) if sim["top_pairs"] else []
        lines.append("| shard A | shard B | " + " | ".join(f"n={n}" for n in ns) + " |")
        lines.append("|---|---|" + "---:|" * len(ns))
        for p in sim["top_pairs"]:
            js = " | ".join("-" if p["jaccard"][n] is None else f"{p['jaccard'][n]:.3f}"
                            for n in ns)  # fmt: skip
            lines.append(f"| `{p['a']}` | `{p['b']}` | {js} |")
    if images:
        lines += ["", "## Plots", "", "![growth](growth.png)", "", "![slopes](slopes.png)"]
        if sim is not None:
            lines += ["", "![shard similarity](shard_similarity.png)"]
    return "\n".join(lines) + "\n"


def plot_growth(
    rows: list, rep: dict, path: str, exact: bool = False, dedup: list | None = None
) -> None:
    """``growth.png``: log-log U_n(D) for every n, with the paper's band overlaid, and the
    curve after near-duplicate removal dashed beside each when ``dedup`` is given."""
    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(9, 6), dpi=110)
    dmax = max([rep["corpus"]["tokens"]] + [e["tokens"] for f in rep["fits"]
                                             for e in f["extrapolation"]])  # fmt: skip
    ns = sorted({r.n for r in rows})
    cmap = plt.get_cmap("viridis")
    dmin = None
    for i, n in enumerate(ns):
        d, u = curve_points(rows, n, exact=exact)
        if d.shape[0] == 0:
            continue
        dmin = d.min() if dmin is None else min(dmin, d.min())
        ax.loglog(d, u, "o-", ms=3, lw=1.4, color=cmap(i / max(1, len(ns) - 1)), label=f"n = {n}")
        if dedup:
            dd, du = curve_points(dedup, n)
            ax.loglog(dd, du, "--", lw=1.1, color=cmap(i / max(1, len(ns) - 1)),
                      label=f"n = {n}, near-duplicates removed")  # fmt: skip
    dmin = dmin or 1.0
    grid = np.logspace(np.log10(dmin), np.log10(dmax), 200)
    fit = rep["loss_fit"]
    c_lo, c_hi = rep["paper"]["c_lo"], rep["paper"]["c_hi"]
    lo = bounds.u_lower(grid, fit, c_hi=c_hi)
    mid = bounds.u_mid(grid, fit, c_lo=c_lo, c_hi=c_hi)
    hi = bounds.u_upper(grid, fit, c_lo=c_lo)
    ax.fill_between(grid, np.minimum(lo, hi), np.maximum(lo, hi), color="tab:orange", alpha=0.15,
                    label=f"paper's band ({fit})")  # fmt: skip
    g_lo, g_hi = rep["gamma_band"]
    ax.loglog(grid, lo, "--", color="tab:orange", lw=1, label=f"U_lower ∝ D^{g_lo:.2f}")
    ax.loglog(grid, mid, "-", color="tab:red", lw=1, label="U_mid")
    ax.loglog(grid, hi, ":", color="tab:orange", lw=1.3, label=f"U_upper ∝ D^{g_hi:.2f}")
    ax.loglog(grid, grid, color="0.5", lw=0.8, label="U = D (every window new)")
    d_star = rep["d_star"]
    if dmin < d_star:
        ax.axvspan(dmin, min(d_star, dmax), color="0.85", alpha=0.5, zorder=0,
                   label=f"D < D* = {d_star:.3g}: band not meaningful")  # fmt: skip
    colors = {n: cmap(i / max(1, len(ns) - 1)) for i, n in enumerate(ns)}
    for f in rep["fits"]:
        for e in f["extrapolation"]:
            ax.errorbar([e["tokens"]], [e["unique"]], yerr=[[e["unique"] - e["low"]],
                        [e["high"] - e["unique"]]], fmt="x", color=colors[f["n"]], ms=6,
                        lw=0.9, capsize=3)  # fmt: skip
    ax.set_xlabel("tokens read, D")
    ax.set_ylabel("distinct n-token sequences, U_n(D)")
    ax.set_title("Growth of distinct sequences vs the bounds of 'Scaling Efficient LLMs'")
    ax.set_ylim(bottom=0.5, top=max(dmax, 10) * 10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_slopes(rep: dict, path: str) -> None:
    """``slopes.png``: local slope d log U / d log D per n, with the paper's band shaded."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 5), dpi=110)
    lo, hi = rep["gamma_band"]
    ax.axhspan(lo, hi, color="tab:orange", alpha=0.18, label=f"paper's band [{lo:.2f}, {hi:.2f}]")
    ax.axhline(rep["paper"]["gamma_mid"], color="tab:red", lw=0.8, ls="--", label="midpoint")
    keys = sorted(rep["slopes"], key=int)
    cmap = plt.get_cmap("viridis")
    for i, k in enumerate(keys):
        s = rep["slopes"][k]
        if s["tokens"]:
            ax.semilogx(s["tokens"], s["slope"], "o-", ms=3, lw=1.2,
                        color=cmap(i / max(1, len(keys) - 1)), label=f"n = {k}")  # fmt: skip
    ax.set_ylim(-0.05, 1.1)
    ax.set_xlabel("tokens read, D")
    ax.set_ylabel("local slope  d log U / d log D")
    ax.set_title("Local growth exponent of distinct n-token sequences")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left", ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:

        raise ConfigError(
            "plots need matplotlib: pip install 'seqcount[plot]' (or use --no-plots)"
        ) from None
    return plt


def report_html(markdown: str, images: dict[str, bytes]) -> str:
    """A self-contained HTML page of the markdown report (tables, paragraphs, inline PNGs)."""
    import base64
    import html

    out = [
        "<!doctype html><html><head><meta charset='utf-8'><title>seqcount report</title>",
        "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;line-height:1.45}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}th{background:#f3f3f3}img{max-width:100%}code{background:#f3f3f3}</style>",
        "</head><body>",
    ]
    table: list[list[str]] = []

    def inline(t: str) -> str:
        t = html.escape(t)
        t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
        return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", t)

    def flush() -> None:
        if table:
            out.append("<table>")
            for i, cells in enumerate(table):
                tag = "th" if i == 0 else "td"
                out.append("<tr>" + "".join(f"<{tag}>{inline(c)}</{tag}>" for c in cells) + "</tr>")
            out.append("</table>")
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-:") for c in cells):
                table.append(cells)
            continue
        flush()
        m = re.match(r"!\[(.*)\]\((.*)\)", line)
        if m and m.group(2) in images:
            data = base64.b64encode(images[m.group(2)]).decode()
            out.append(f"<p><img alt='{m.group(1)}' src='data:image/png;base64,{data}'></p>")
        elif line.startswith("## "):
            out.append(f"<h2>{inline(line[3:])}</h2>")
        elif line.startswith("# "):
            out.append(f"<h1>{inline(line[2:])}</h1>")
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    flush()
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _near_dup_section(out_dir, summary: dict, rows: list, rep: dict) -> list | None:
    """Add ``near_dup`` to the report when the run used ``--near-dup``; return its curve."""

    nd = summary.get("near_dup")
    path = os.path.join(os.fspath(out_dir), summary.get("outputs", {}).get("curve_dedup", ""))
    if nd is None or not os.path.isfile(path):
        return None
    dedup = read_curve(path)
    last_raw = max(r.tokens for r in rows)
    last = max((r.tokens for r in dedup), default=0)
    raw = {r.n: r.unique for r in rows if r.tokens == last_raw}
    kept = {r.n: r.unique for r in dedup if r.tokens == last}
    rep["near_dup"] = dict(nd) | {
        "per_n": [
            {"n": n, "unique": raw[n], "unique_dedup": kept.get(n, 0.0),
             "ratio": kept.get(n, 0.0) / raw[n] if raw[n] else 0.0}
            for n in sorted(raw)
        ]
    }  # fmt: skip
    return dedup


def _nan_none(x) -> float | None:
    x = float(x)
    return None if x != x else x


#: Shard pairs listed in the report, most similar first.
MAX_LISTED_PAIRS = 10


def _shard_section(out_dir, rep: dict):
    """Add the most similar shard pairs to the report; return the sketches for the heatmap
    (``None`` without per-shard MinHash or with fewer than two shards)."""

    path = os.path.join(os.fspath(out_dir), SKETCH_FILE)
    try:
        sketches = load_sketches(path)
    except FormatError:
        return None
    if sketches.shard_minhash is None or len(sketches.shard_paths) < 2:
        return None
    mats = {n: shard_jaccard(sketches, n) for n in sketches.ns}
    rank_n = max(sketches.ns)  # shared long windows are the sign of duplicated text
    a, b = np.triu_indices(len(sketches.shard_paths), 1)
    # by the largest n first, ties broken by the next smaller n, and so on
    scores = [np.nan_to_num(mats[n][a, b], nan=-1.0) for n in sorted(sketches.ns, reverse=True)]
    order = sorted(
        range(len(a)), key=lambda t: tuple(-sc[t] for sc in scores) + (int(a[t]), int(b[t]))
    )
    rep["shard_similarity"] = {
        "num_perm": sketches.minhash[0].num_perm,
        "ranked_by_n": rank_n,
        "top_pairs": [
            {
                "a": sketches.shard_paths[int(a[t])],
                "b": sketches.shard_paths[int(b[t])],
                "jaccard": {str(n): _nan_none(mats[n][a[t], b[t]]) for n in sketches.ns},
            }
            for t in order[:MAX_LISTED_PAIRS]
        ],
    }
    return sketches


def write_report(
    out_dir: str | os.PathLike, dest: str | os.PathLike | None = None, plots: bool = True, **kw
) -> dict:
    """Analyse a ``count`` output directory and write the report files into ``dest``.

    Writes ``report.json``, ``report.md``, ``report.html`` and (with ``plots``) ``growth.png``
    and ``slopes.png``. ``kw`` goes to :func:`analyze`.

    Returns:
        The report (the content of ``report.json``), with ``files`` listing what was written.
    """

    rows, summary = load_run(out_dir)
    rep = analyze(rows, summary, **kw)
    dedup_rows = _near_dup_section(out_dir, summary, rows, rep)
    sketches = _shard_section(out_dir, rep)
    dest = os.fspath(dest or out_dir)
    check_output_dir(dest)
    try:
        os.makedirs(dest, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{dest}: cannot write output ({e.strerror or e})") from None
    files = {}
    images = {}
    if plots:
        files["growth"] = os.path.join(dest, GROWTH_PNG)
        plot_growth(rows, rep, files["growth"], exact=kw.get("exact", False), dedup=dedup_rows)
        files["slopes"] = os.path.join(dest, SLOPES_PNG)
        plot_slopes(rep, files["slopes"])
        if sketches is not None:
            sim = write_shard_similarity(sketches, dest)
            files.update({"shard_similarity": sim["png"], "shard_similarity_csv": sim["csv"]})
        for key in ("growth", "slopes", "shard_similarity"):
            if key in files:
                with open(files[key], "rb") as fh:
                    images[os.path.basename(files[key])] = fh.read()
    md = report_markdown(rep, images=plots)
    for name, text in (
        ("report.md", md),
        ("report.html", report_html(md, images)),
        ("report.json", json.dumps(rep, indent=2) + "\n"),
    ):
        path = os.path.join(dest, name)
        atomic_write(path, lambda f, t=text: f.write(t.encode("utf-8")))
        files[name.split(".")[1] if name != "report.md" else "markdown"] = path
    rep["files"] = files
    return rep
