"""Do verdicts flip when the fit range moves? Real text, sliding fit ranges, old and new verdicts.

Run from the project root::

    python -m benchmarks.verdicts                 # data/austen + the shared chapter sample
    python -m benchmarks.verdicts PATH ...        # any corpus paths seqcount count reads

Counts the corpus once (default options), then reports it with fit ranges of 1.5 decades that
slide down from the top in steps of half a decade, and the default range. For every n and range
it records the old verdict (the one-curve least-squares γ inside the band or not, the
``in_band`` the report used to give) and the new one (``verdict`` from the calibrated interval
and the half-decade exponents). A *flip* is two ranges of one n of which one says "in band" and
the other "below band" or "above band" (old: yes against no), while the ranges overlap. Writes
``<out>/verdicts.json`` and ``<out>/verdicts.md`` (default ``<out>``: benchmarks/results).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import seqcount

from .common import hardware_and_versions, log

ROOT = Path(__file__).resolve().parent.parent
#: The chapters of the same six novels: with data/austen, a corpus whose second half repeats its
#: first in other documents, as crawls repeat pages (CI and the project's machines have it).
SAMPLE = ROOT.parent / "shared" / "corpus-sample" / "austen_chapters.parquet"
WIDTH, STEP, SLIDES = 1.5, 0.5, 4


def _flips(rows: list[dict], key: str, yes, no) -> int:
    """Pairs of overlapping ranges of one n where one says ``yes`` and the other ``no``."""
    out = 0
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            overlap = a["d_lo"] < b["d_hi"] and b["d_lo"] < a["d_hi"]
            if overlap and ((a[key] in yes and b[key] in no) or (a[key] in no and b[key] in yes)):
                out += 1
    return out


def run(paths: list[str], out: Path) -> dict:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = seqcount.count(paths, out=Path(tmp) / "o")
    top = float(result.tokens)
    ranges = [None] + [
        (top / 10 ** (STEP * k + WIDTH), top / 10 ** (STEP * k)) for k in range(SLIDES)
    ]
    rows = []
    for rng in ranges:
        rep = seqcount.report(result, d_range=rng)
        lo, hi = rep.gamma_band
        for f in rep.fits:
            g, v = f.growth, f.verdict
            rows.append({
                "n": f.n, "range": "default" if rng is None else "slide",
                "d_lo": g.d_lo, "d_hi": g.d_hi, "gamma": g.gamma, "gamma_err": g.gamma_err,
                "old": "in band" if lo <= g.gamma <= hi else "out",
                "gamma_ci95": v.gamma_ci95, "verdict": v.verdict,
                "sentence": f.assessment.sentence if f.assessment else None,
            })  # fmt: skip
    by_n = {}
    for r in rows:
        by_n.setdefault(r["n"], []).append(r)
    flips = {
        n: {
            "old": _flips(rs, "old", {"in band"}, {"out"}),
            "new": _flips(rs, "verdict", {"in band"}, {"below band", "above band"}),
        }
        for n, rs in by_n.items()
    }
    meta = hardware_and_versions("full", paths)
    meta.update(corpus=paths, tokens=result.tokens, seconds=round(time.perf_counter() - t0, 1))
    doc = {"meta": meta, "rows": rows, "flips": flips}
    out.mkdir(parents=True, exist_ok=True)
    (out / "verdicts.json").write_text(json.dumps(doc, indent=1) + "\n")
    (out / "verdicts.md").write_text(render(doc))
    return doc


def render(doc: dict) -> str:
    m = doc["meta"]
    names = ", ".join(Path(p).name for p in m["corpus"])
    lines = [
        "# Verdicts under a moving fit range",
        "",
        f"`python -m benchmarks.verdicts`, {m['date_utc']}, seqcount {m['seqcount_commit']}. "
        f"Corpus: {names} ({m['tokens']:,} tokens). Fit ranges: the default (upper two decades) "
        f"and {SLIDES} ranges of {WIDTH:g} decades sliding down by {STEP:g}. *old*: the one-curve "
        "least-squares γ ± error and whether γ lies in the band; *new*: the 95% interval and the "
        'verdict. A flip: two overlapping ranges of one n, one "in band" and the other out '
        '(old) or "below/above band" (new).',
        "",
        "| n | fit range (D) | old γ ± error | old | new 95% interval | new verdict |",
        "|---:|---|---|---|---|---|",
    ]
    for r in doc["rows"]:
        ci = (
            "none: the blocks do not resolve the range"
            if r["gamma_ci95"] is None
            else ("[{:.3f}, {:.3f}]".format(*r["gamma_ci95"]))
        )
        lines.append(
            f"| {r['n']} | {r['d_lo']:.3g} – {r['d_hi']:.3g} ({r['range']}) "
            f"| {r['gamma']:.3f} ± {r['gamma_err']:.3f} | {r['old']} | {ci} "
            f"| {r['verdict'] or ''} |"
        )
    old = sum(f["old"] for f in doc["flips"].values())
    new = sum(f["new"] for f in doc["flips"].values())
    lines += ["", f"Flips: old {old}, new {new} (per n: "
              + ", ".join(f"n={n}: {f['old']}→{f['new']}" for n, f in doc["flips"].items())
              + ").", ""]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.verdicts", description=__doc__)
    p.add_argument("paths", nargs="*", help="corpus paths [data/austen + the shared sample]")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    a = p.parse_args(sys.argv[1:] if argv is None else argv)
    paths = a.paths or [str(ROOT / "data" / "austen")] + ([str(SAMPLE)] if SAMPLE.exists() else [])
    doc = run(paths, a.out)
    print(render(doc))
    log(f"wrote {a.out / 'verdicts.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
