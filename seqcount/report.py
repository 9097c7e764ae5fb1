"""Human-readable summaries of results (plain text here; plots live with the analysis)."""

from __future__ import annotations

from .pipeline import CountResult


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.1f} {unit}"
    return f"{x:.0f} "


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
        f"{len(result.shards)} shard(s), {result.documents:,} documents, {result.tokens:,} tokens "
        f"({result.config.tokenizer}) in {result.elapsed:.2f} s "
        f"({_si(result.tokens_per_s)}tokens/s); "
        f"sketch error ±{100 * result.config.standard_error:.2f}%",
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
        notes.append(f"{result.empty_documents:,} empty documents ({result.null_documents:,} null)")
    if result.invalid_utf8:
        notes.append(f"{result.invalid_utf8:,} invalid UTF-8 sequences replaced by U+FFFD")
    if result.ignored:
        shown = ", ".join(result.ignored[:3]) + (" ..." if len(result.ignored) > 3 else "")
        notes.append(f"{len(result.ignored)} file(s) of unknown format skipped: {shown}")
    lines += ["note: " + n for n in notes]
    return "\n".join(lines)
