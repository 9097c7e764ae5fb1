"""The markdown of the accuracy study (:mod:`benchmarks.accuracy`), from its records."""

from __future__ import annotations

import collections
import math

from benchmarks.common import esc

SECTION = "accuracy"


def fmt_n(n: int) -> str:
    """``n`` as ``1eK`` if a power of ten, else with thousands separators."""
    return f"1e{round(math.log10(n))}" if n >= 10 and 10 ** round(math.log10(n)) == n else f"{n:,}"


def pct(v) -> str:
    """A percentage with about three significant digits (blank for ``None``)."""
    if v is None:
        return ""
    a = abs(v)
    if a >= 10:
        return f"{v:.1f}"
    if a >= 0.1:
        return f"{v:.2f}"
    return f"{v:.2g}" if a >= 0.001 else ("0" if v == 0 else f"{v:.1e}")


def grid(rows: list[dict], cell, extra_col=None) -> list[str]:
    """A p x N table of ``cell(record)``; ``extra_col`` = (title, fn(p) -> str)."""
    ps = sorted({r["p"] for r in rows})
    ns = sorted({r["cardinality"] for r in rows})
    by = {(r["p"], r["cardinality"]): r for r in rows}
    head = ["p (m)"] + [fmt_n(n) for n in ns] + ([extra_col[0]] if extra_col else [])
    out = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    trials = [str(by[(ps[0], n)]["trials"]) if (ps[0], n) in by else "" for n in ns]
    out.append("| trials | " + " | ".join(trials) + (" | |" if extra_col else " |"))
    for p in ps:
        cells = [cell(by[(p, n)]) if (p, n) in by else "" for n in ns]
        if extra_col:
            cells.append(extra_col[1](p))
        out.append(f"| {p} ({1 << p:,}) | " + " | ".join(cells) + " |")
    return out


def markdown(results: list[dict], meta: dict) -> str:
    """The accuracy part of the report, from the records of section ``accuracy``."""
    rs = [r for r in results if r.get("section") == SECTION]
    if not rs:
        return ""
    part = collections.defaultdict(list)
    for r in rs:
        part[r.get("part")].append(r)
    lines = ["## Accuracy", ""]
    settings = (meta.get("settings") or {}).get(SECTION)
    rt = meta.get("accuracy_part_runtime_s") or {}
    if rt:
        lines += [
            "Run time: " + ", ".join(f"{k} {v} s" for k, v in rt.items()) + ".",
            "",
        ]
    lines += _estimators(part, settings) + _peers(part) + _goal_and_checks(part) + _gamma(part)
    return "\n".join(lines) + "\n"


def _estimators(part, settings) -> list[str]:
    """The standard and HIP estimates against exact counts, and HIP pooled."""
    lines: list[str] = []
    std, hip = part["standard"], part["hip"]
    if std:
        theory = {r["p"]: r["theory"] for r in std}
        lines += [
            "Synthetic streams of distinct 64-bit hashes (splitmix64 of a counter, so the exact "
            "count of the first N items is N), one stream per trial read at every N; every "
            "precision is fed the same streams. Relative error = estimate / N − 1, in %."
            + (f" Seed {settings['seed']}." if settings else ""),
            "",
            "### Standard HyperLogLog++ estimate (seqcount, = datasketch): RMS relative error, %",
            "",
        ]
        lines += grid(std, lambda r: pct(r["value"]), ("1.04/√m", lambda p: pct(theory[p])))
        lines += ["", "Mean relative error (bias), %:", ""]
        lines += grid(std, lambda r: pct(r["mean"]))
    if hip:
        htheory = {r["p"]: r["theory"] for r in hip}
        lines += [
            "",
            "### HIP estimate on the same streams: RMS relative error, % (ratio to the standard "
            "estimate's)",
            "",
        ]
        lines += grid(
            hip,
            lambda r: (
                f"{pct(r['value'])} ({r['hip_over_standard']:.2f})"
                if r.get("hip_over_standard") is not None
                else pct(r["value"])
            ),
            ("0.833/√m", lambda p: pct(htheory[p])),
        )
    summ = part["hip_summary"]
    if summ:
        lines += [
            "",
            "### HIP against the standard estimate where both are scale-free (N ≥ "
            f"{settings['pool_factor'] if settings else 32}·m), pooled",
            "",
            "RMS·√m is the constant in RMS = c/√m (theory: 1.04 standard, √ln 2 = 0.833 HIP, "
            "ratio 0.80). The interval is a 95% bootstrap over trials.",
            "",
            "| p | workload | standard RMS·√m | HIP RMS·√m | HIP / standard | 95% interval |",
            "|---:|---|---:|---:|---:|---|",
        ]
        for r in summ:
            lines.append(
                f"| {r['p']} | {esc(r['workload'])} | {r['std_rms_sqrt_m']:.3f} | "
                f"{r['hip_rms_sqrt_m']:.3f} | {r['value']:.3f} | "
                f"{r['ci_lo']:.3f}–{r['ci_hi']:.3f} |"
            )
        lines.append(
            f"| theory | | {summ[0]['std_theory']:.3f} | {summ[0]['hip_theory']:.3f} | "
            f"{summ[0]['ratio_theory']:.3f} | |"
        )
    return lines


def _peers(part) -> list[str]:
    """The peers at equal memory, one table per precision."""
    lines: list[str] = []
    peers = part["peers"]
    if peers:
        lines += [
            "",
            "### Peers at equal memory (same streams): RMS relative error, %",
            "",
            "DataSketches re-hashes every value and, like seqcount's HIP, its HLL and CPC "
            "sketches estimate by HIP while they have seen one ordered stream (no merges). "
            "Bytes: compact serialized size at the largest N (seqcount/datasketch: the int8 "
            "registers).",
            "",
        ]
        ns = sorted({r["cardinality"] for r in peers})
        for p in sorted({r["p"] for r in peers}):
            rows = [r for r in peers if r["p"] == p]
            systems = list(dict.fromkeys(r["system"] for r in rows))
            t = rows[0]["trials"]
            lines += [
                f"p = {p} ({t} trials, {rows[0]['cap']}):",
                "",
                "| system | lg_k | bytes | " + " | ".join(fmt_n(n) for n in ns) + " |",
                "|---|---:|---:|" + "---:|" * len(ns),
            ]
            for s in systems:
                cell = {r["cardinality"]: r for r in rows if r["system"] == s}
                r0 = next(iter(cell.values()))
                lines.append(
                    f"| {esc(s)} | {r0.get('lg_k', '')} | {r0.get('bytes', ''):,} | "
                    + " | ".join(pct(cell[n]["value"]) if n in cell else "" for n in ns)
                    + " |"
                )
            lines.append("")
    return lines


def _goal_and_checks(part) -> list[str]:
    """The goal against DataSketches HLL_8, and the checks."""
    lines: list[str] = []
    goal = part["goal"]
    if goal:
        lines += [
            "### seqcount's curve estimate (HIP) against DataSketches HLL_8 at equal memory",
            "",
            "RMS error ratio pooled over the cardinalities where both are HyperLogLogs (N ≥ 8m); "
            "95% bootstrap interval over trials. Below N ≈ m/4 DataSketches stores the values "
            "exactly (its list and set modes) and is near exact; seqcount is not (see the "
            "table above).",
            "",
            "| p | workload | ratio | 95% interval | no worse? |",
            "|---:|---|---:|---|---|",
        ]
        for r in goal:
            lo, hi = r["interval"]
            lines.append(
                f"| {r['p']} | {esc(r['workload'])} | {r['value']:.3f} | {lo:.3f}–{hi:.3f} | "
                f"{'yes' if r['target_met'] else '**no**'} |"
            )
        lines.append("")
    checks = part["check"] + part["cpc_sizes"]
    if checks:
        lines += ["### Checks", "", "| system | workload | metric | value |", "|---|---|---|---:|"]
        for r in checks:
            v = f"{r['value']} {r['unit']}".strip()
            if r.get("max_rel_diff") is not None:
                v += f" (max rel. diff {r['max_rel_diff']:.1g})"
            if r.get("sizes"):
                v += " (lg_k:bytes " + ", ".join(r["sizes"]) + ")"
            lines.append(
                f"| {esc(r['system'])} | {esc(r['workload'])} | {esc(r['metric'])} | {v} |"
            )
    return lines


def _gamma(part) -> list[str]:
    """The error of the fitted growth exponent."""
    lines: list[str] = []
    gam = part["gamma"]
    if gam:
        lines += [
            "",
            "### Growth exponent γ of U(D) = D^γ",
            "",
            "Streams whose exact distinct count is floor(D^γ) (a new hash when it rises, else a "
            "uniformly drawn earlier one); checkpoints on seqcount's schedule (8 per decade); γ "
            "fitted by `seqcount.analysis.fit.fit_growth` over its default range (top two "
            "decades). "
            "Error = γ fitted to the estimates − γ fitted to the exact counts of the same "
            "stream. *fit's claim*: the sketch part of `gamma_err` the fit reports.",
            "",
            "| γ | p | D range | U at end | γ_exact | estimator | mean error | SD | fit's claim |",
            "|---:|---:|---|---:|---:|---|---:|---:|---:|",
        ]
        for r in gam:
            drange = f"{fmt_n(int(r['d_lo']))}..{fmt_n(int(r['d_hi']))} ({r['points']} pts)"
            lines.append(
                f"| {r['gamma']} | {r['p']} | {drange} | {r['u_end']:,.0f} | "
                f"{r['gamma_exact']:.4f} | {r['estimator']} | {r['value']:+.5f} | {r['sd']:.5f} | "
                f"{r['claimed_sketch_err']:.5f} |"
            )
    return lines


def render(doc: dict) -> str:
    """The accuracy study's own results file: stamp and :func:`markdown`."""
    meta = doc["meta"]
    hw, ver = meta["hardware"], meta["versions"]
    head = [
        "# seqcount accuracy study",
        "",
        f"Generated by `{meta['command'].strip()}` on {meta['date_utc']} ({meta['mode']} mode, "
        f"{meta['total_runtime_s']:.0f} s total). Do not edit: rerun the script.",
        "",
    ]
    if meta.get("seqcount_changed_during_run"):
        head += [
            "**Warning: seqcount's sources changed while this ran; figures mix versions.**",
            "",
        ]
    head += [
        f"- CPU: {hw['cpu_model']} ({hw['machine']}), {hw['cpus_usable']} usable CPUs; numba "
        f"threads {meta['numba_threads']}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in ver.items() if v),
        "",
    ]
    return "\n".join(head) + markdown(doc["results"], meta)
