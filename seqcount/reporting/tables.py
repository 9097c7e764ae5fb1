"""The text tables the command line prints: ``count``'s per-n table and what ``near_dup``
found."""

from __future__ import annotations

import os

from ..engine.results import CountResult


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
    if result.near_dup is not None:
        lines.append(near_dup_table(result))
    return "\n".join(lines)


def count_notes(result: CountResult) -> list[str]:
    """What a user should know about a count beside its table (the CLI prints them on stderr
    as ``note: ...``): empty documents, replaced bytes, files left out."""
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
    return notes


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
