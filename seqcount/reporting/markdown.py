"""``report.md``: a :class:`~.model.Report` as tables and short verdicts."""

from __future__ import annotations

import math

from .model import Report


def fmt_g(x: float | None, digits: int = 3) -> str:
    """Compact number: 1.23e+09 style for large/small, plain otherwise; ``-`` for None."""
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


def fmt_bytes(n: float) -> str:
    """A byte count in binary units: ``1.1 MiB``."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


_g = fmt_g


def report_markdown(rep: Report, images: bool = True) -> str:
    """``report.md``: the numbers of ``rep`` as tables and short verdicts; with ``images``,
    links to the plots (growth.png, slopes.png, and shard_similarity.png when there is one)."""
    lines = _head(rep) + _fits(rep) + _drift(rep)
    if any(f.extrapolation for f in rep.fits):
        lines += _extrapolations(rep)
    if rep.model_params is not None:
        lines += _regimes(rep)
    if rep.near_dup is not None:
        lines += _near_dup(rep)
    if rep.shard_similarity is not None:
        lines += _shards(rep)
    if images:
        lines += ["", "## Plots", "", "![growth](growth.png)", "", "![slopes](slopes.png)"]
        if rep.shard_similarity is not None:
            lines += ["", "![shard similarity](shard_similarity.png)"]
    return "\n".join(lines) + "\n"


def _head(rep: Report) -> list[str]:
    c = rep.corpus
    lo, hi = rep.gamma_band
    p = rep.paper
    where = "below" if rep.corpus_over_d_star < 1 else "above"
    return [
        "# seqcount report",
        "",
        *_sentences(rep),
        f"Corpus: {c.tokens:,} tokens, {c.documents:,} documents, {c.shards} shard(s); "
        f"tokenizer `{c.options.get('tokenizer')}`"
        f"{', non-overlapping chunks (--stride)' if c.options.get('stride') else ''}; "
        f"counts from the {c.counts} "
        f"(relative standard error {100 * c.standard_error:.2f}%).",
        "",
        f"Paper's band ({rep.loss_fit} loss fit): U(D) grows as D^γ with γ in "
        f"[{lo:.3f}, {hi:.3f}] (midpoint {p['gamma_mid']:.3f}); doubling the distinct sequences "
        f"takes {p['doubling_band'][0]:.2f}x to {p['doubling_band'][1]:.2f}x more data. The "
        f"band's constants are meaningful only above D* = {_g(rep.d_star)} tokens; this corpus "
        f"is {where} it ({_g(rep.corpus_over_d_star)} x D*)"
        + (", so compare exponents, not absolute counts." if where == "below" else "."),
        "",
        f"At D = {_g(c.tokens)}: U_lower = {_g(p['u_lower'])}, U_mid = {_g(p['u_mid'])}, "
        f"U_upper = {_g(p['u_upper'])}.",
    ]


def _sentences(rep: Report) -> list[str]:
    """One quotable sentence per n (with resampled curves), or why there are none."""
    said = [f.assessment.sentence for f in rep.fits if f.assessment is not None]
    if said:
        return [f"- {x}" for x in said] + [""]
    why = (rep.resampling or {}).get("skipped")
    return [f"No calibrated interval for the exponents: {why}.", ""] if why else []


def _ci(f) -> str:
    v = f.verdict
    if v.gamma_ci95 is None:
        return ""
    return f"{f.gamma:.3f} [{v.gamma_ci95[0]:.3f}, {v.gamma_ci95[1]:.3f}]"


def _fits(rep: Report) -> list[str]:
    lines = [
        "",
        "## Fitted growth exponents",
        "",
        "| n | γ [95% interval] | verdict | γ ± error (one curve) | in band | doubling factor "
        "| U at corpus | fit range (D) | points | preferred model |",
        "|---:|---|---|---|:---:|---:|---:|---|---:|---|",
    ]
    for f in rep.fits:
        g, v = f.growth, f.verdict
        inb = "yes" if v.in_band else ("overlaps" if v.band_overlap else "no")
        model = g.preferred
        if g.preferred == "cutoff" and g.cutoff_d and g.cutoff_ceiling:
            model += f" (saturating: D_c = {_g(g.cutoff_d)}, ceiling {_g(g.cutoff_ceiling)})"
        lines.append(
            f"| {g.n} | {_ci(f)} | {v.verdict or ''} | {g.gamma:.4f} ± {g.gamma_err:.4f} "
            f"| {inb} | {v.doubling_factor:.2f}x | {_g(f.u_corpus)} "
            f"| {_g(g.d_lo)} – {_g(g.d_hi)} | {g.points} | {model} |"
        )
    for s in rep.not_fitted:
        lines.append(f"| {s.n} | not fitted: {s.reason} | | | | | | | | |")
    return lines + [
        "",
        "*γ [95% interval]*: the exponent over the fit range from "
        f"{_resampled_words(rep)}, with a 95% interval checked on Pitman–Yor corpora "
        "(docs/accuracy.md); it holds the order of the documents, the scatter of distinct "
        "counts and the block sketches' error. *verdict*: *in band* only when that interval "
        "lies inside the paper's band; *crosses band* when the local exponent is confidently on "
        "both sides of a band edge within the fit range; *undecided* when the interval "
        "straddles an edge. *γ ± error (one curve)*: the least-squares fit of the curve as "
        "read, whose error (regression and sketch) ignores document order and drift and is "
        "several times too small; *in band* follows the verdict when there is one. "
        "*doubling factor*: 2^(1/γ), the growth in data that doubles U_n. "
        "*U at corpus*: the curve's estimate at the whole corpus (the HIP estimate where the "
        "curve has one; the table of `count` shows the standard estimate of the final sketch). "
        "*preferred model*: power law, or (*cutoff*) the saturating alternative "
        "U = c·(D/(1 + D/D_c))^g, which only rises, towards its ceiling c·D_c^g; it is "
        "preferred only when, refitted without the top third of the fit range, it predicts "
        "those checkpoints better than the power law by more than three sketch errors and by "
        "half, and bends inside the data (docs/paper.md).",
    ]


def _resampled_words(rep: Report) -> str:
    r = rep.resampling or {}
    if "blocks" in r:
        return f"{r['orders']} random orders of {r['blocks']} blocks of documents"
    return "random orders of blocks of documents (not available for this run)"


def _drift(rep: Report) -> list[str]:
    """The local exponent per half decade, with intervals."""
    rows = [(n, s.intervals) for n, s in sorted(rep.slopes.items()) if s.intervals]
    if not rows:
        return []
    lines = [
        "",
        "## Drift: the local exponent per half decade",
        "",
        "| n | " + " | ".join(f"D = {_g(e.tokens)}" for e in rows[0][1]) + " |",
        "|---:|" + "---|" * len(rows[0][1]),
    ]
    for n, loc in rows:
        cells = [f"{e.gamma:.2f} [{e.low:.2f}, {e.high:.2f}]" for e in loc]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return lines + [
        "",
        "Each cell: the slope of log U over one half decade of D (centred at the D shown) "
        "on the mean resampled curve, with its 95% interval.",
    ]


def _extrapolations(rep: Report) -> list[str]:
    lines = ["", "## Extrapolated U_n (95% prediction interval)", ""]
    bloom = rep.bloom_fpr is not None
    head = "| n | tokens | U_n | interval |" + (
        f" Bloom filter at FPR {rep.bloom_fpr:g} (for the interval's top) |" if bloom else ""
    )
    lines += [head, "|---:|---:|---:|---|" + ("---|" if bloom else "")]
    for f in rep.fits:
        for x in f.extrapolation:
            e = x.at
            row = f"| {f.n} | {_g(e.tokens)} | {_g(e.unique)} | {_g(e.low)} – {_g(e.high)} |"
            if bloom:
                b = x.bloom
                row += f" {_g(b['bits'])} bits ({fmt_bytes(b['bytes'])}), {b['hashes']} hashes |"
            lines.append(row)
    return lines + [
        "",
        "Extrapolation assumes the power law holds beyond the corpus (capped at U = D: there "
        "are never more distinct windows than tokens); for curves whose preferred model is "
        "the saturating alternative (`cutoff`), it is an upper estimate.",
    ]


def _regimes(rep: Report) -> list[str]:
    lines = [
        "",
        f"## Emergent-skills regime for N = {_g(rep.model_params)} parameters",
        "",
        "| n | D | paper's band says | measured U says |",
        "|---:|---:|---|---|",
    ]
    for f in rep.fits:
        pts = [(rep.corpus.tokens, f.regime)] + [(r["tokens"], r) for r in f.regime_at]
        for d, r in pts:
            meaningless = " (D < D*: not meaningful)" if r.get("below_d_star") else ""
            band = r.get("band", "-") + meaningless
            lines.append(f"| {f.n} | {_g(d)} | {band} | {r.get('measured', '-')} |")
    return lines + [
        "",
        "*emergent*: N is below the distinct sequences, so scaling N can still uncover "
        "skills; *saturated*: N is above them, so more diverse data is needed; "
        "*undetermined*: inside the band.",
    ]


def _near_dup(rep: Report) -> list[str]:
    nd = rep.near_dup.found
    lines = [
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
    for r in rep.near_dup.per_n:
        lines.append(f"| {r.n} | {_g(r.unique)} | {_g(r.unique_dedup)} | {r.ratio:.4f} |")
    if nd["largest_clusters"]:
        lines += ["", "Largest clusters (shard path # row):", ""]
        for c in nd["largest_clusters"][:5]:
            docs = ", ".join(f"`{d['path']}#{d['row']}`" for d in c["documents"][:6])
            more = " …" if c["size"] > 6 else ""
            lines.append(f"- {c['size']} documents: {docs}{more}")
    return lines


def _sketch_words(sim) -> str:
    if sim.sketch == "theta":
        return f"theta sketches of k = {sim.theta_k}, exact below {sim.theta_k:,} distinct windows"
    return f"MinHash, {sim.num_perm} permutations, resolution {1 / sim.num_perm:.4f}"


def _jaccard_cell(pair, n: int) -> str:
    """A shard pair's Jaccard similarity at ``n`` with its standard error (``-``: no windows)."""
    j = pair.jaccard[n]
    if j is None:
        return "-"
    err = (pair.jaccard_err or {}).get(n)
    return f"{j:.3f}" if err is None else f"{j:.3f} ± {err:.3f}"


def _shards(rep: Report) -> list[str]:
    sim = rep.shard_similarity
    lines = [
        "",
        "## Most similar shards",
        "",
        f"Estimated Jaccard similarity of the shards' n-token window sets ({_sketch_words(sim)}; "
        f"± is one standard error), most similar at n = {sim.ranked_by_n} first (ties: at the "
        "next smaller n): shards sharing many long windows share text.",
        "",
    ]
    ns = list(sim.top_pairs[0].jaccard) if sim.top_pairs else []
    lines.append("| shard A | shard B | " + " | ".join(f"n={n}" for n in ns) + " |")
    lines.append("|---|---|" + "---:|" * len(ns))
    for p in sim.top_pairs:
        js = " | ".join(_jaccard_cell(p, n) for n in ns)
        lines.append(f"| `{p.a}` | `{p.b}` | {js} |")
    return lines
