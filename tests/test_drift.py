"""Verdicts and sentences (seqcount.analysis.drift), and the report's calibrated intervals on
generated and real corpora."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import seqcount
from seqcount.analysis import drift
from seqcount.analysis.resample import Estimate, Resampled, log_grid
from seqcount.synth import expected_distinct, pitman_yor_table

BAND = (0.44, 0.72)
DATA = Path(__file__).resolve().parent.parent / "data" / "austen"


def est(value, se, d_lo=1e5, d_hi=1e5 * 10**0.5):
    return Estimate(value, se, se, 0.0, 0.0, d_lo, d_hi)


@pytest.mark.parametrize(
    "value, se, label",
    [
        (0.60, 0.02, drift.IN),
        (0.30, 0.02, drift.BELOW),
        (0.90, 0.02, drift.ABOVE),
        (0.71, 0.02, drift.UNDECIDED),  # [0.67, 0.75] straddles 0.72
        (0.45, 0.01, drift.UNDECIDED),  # [0.43, 0.47] straddles 0.44
    ],
)
def test_verdict_from_the_interval(value, se, label):
    assert drift.verdict(est(value, se), [est(value, se)], BAND) == label


def test_crosses_band_needs_confidence_on_both_sides_of_one_edge():
    overall = est(0.70, 0.005)  # inside the band on its own
    local = [est(0.80, 0.01), est(0.74, 0.01), est(0.66, 0.01)]
    assert drift.verdict(overall, local, BAND) == drift.CROSSES
    assert drift.crossed_edges(local, BAND) == [0.72]
    # the same drift, but the last half decade's interval reaches the edge: not confident
    local[-1] = est(0.70, 0.02)
    assert drift.verdict(overall, local, BAND) == drift.IN


def test_sentence_says_where_the_exponent_enters_the_band():
    edges = [1e5 * 10 ** (k / 2) for k in range(5)]
    vals = [0.80, 0.76, 0.68, 0.64]
    local = [est(v, 0.01, a, b) for v, a, b in zip(vals, edges, edges[1:])]
    overall = Estimate(0.72, 0.01, 0.01, 0, 0, edges[0], edges[-1])
    s = drift.sentence(1, overall, local, BAND, drift.verdict(overall, local, BAND))
    assert s.startswith("n=1: γ falls from 0.80 ± 0.02 at D = 1.8e5 to 0.64 ± 0.02 at D = 5.6e6")
    at = drift.crossing_point(local, 0.72)
    # halfway (in log D) between the middles of the 2nd and 3rd half decades: 0.76 -> 0.68
    assert at == pytest.approx(1e6, rel=1e-9)
    assert f"enters the band at 0.72 near D = {drift.fmt_d(at)}" in s
    assert s.endswith("crosses band).")


def _drifting(lo, hi, noise, orders=200, seed=0):
    """Resampled curves whose local exponent falls linearly in log D from 0.80 to 0.60."""
    grid = log_grid(lo, hi)
    x = np.log(grid)
    mids = (x[1:] + x[:-1]) / 2
    slope = 0.80 - 0.20 * (mids - x[0]) / (x[-1] - x[0])
    mean = np.concatenate([[0.0], np.cumsum(slope * np.diff(x))]) + math.log(1e4)
    rng = np.random.default_rng(seed)
    log_u = mean + rng.normal(0, noise, size=(orders, 1)) * (x - x.mean()) / (x[-1] - x[0])
    return Resampled(1, grid, log_u, 0.0, 4096, 256, orders)


def test_no_flip_when_the_fit_range_slides_along_a_drifting_exponent():
    """Every range that holds the crossing of 0.72 with a half decade or more on each side of it
    (what half-decade exponents can resolve) says "crosses band" or "undecided"; a range wholly
    above the crossing says "above band" or "undecided"; never "in band" there."""
    res = _drifting(1e4, 1e8, noise=0.02)
    x0, x1 = math.log(1e4), math.log(1e8)
    cross = math.exp(x0 + (0.80 - 0.72) / 0.20 * (x1 - x0))  # where the local slope is 0.72
    seen = set()
    for k in range(0, 5):  # 2-decade ranges, half a decade apart
        lo, hi = 1e4 * 10 ** (k / 2), 1e4 * 10 ** (k / 2 + 2)
        a = drift.assess(res, lo, hi, BAND)
        seen.add(a.verdict)
        if lo * 10**0.5 <= cross <= hi / 10**0.5:
            assert a.verdict in (drift.CROSSES, drift.UNDECIDED), (lo, hi, a.sentence)
        elif hi <= cross:
            assert a.verdict in (drift.ABOVE, drift.UNDECIDED), (lo, hi, a.sentence)
    assert drift.CROSSES in seen


def test_calibrated_on_small_pitman_yor_corpora():
    """40 corpora of 2e5 tokens, 4 settings: the 95% interval holds the process's exponent over
    its range in at least 33 (the binomial 5% point for 95%), and is not far too wide: one
    standard error either side holds it in at most 38 (nominal 27; an interval twice too wide
    would hold it in 38 of 40 or more)."""
    hits95 = hits68 = 0
    cells = [(0.45, 10.0), (0.6, 0.0), (0.72, 10.0), (0.85, 100.0)]
    for c, (d, theta) in enumerate(cells):
        for k in range(10):
            seed = 9000 + 100 * c + k  # a hash seed per corpus too: independent sketch errors
            result = seqcount.count(
                pitman_yor_table(200_000, d, theta, seed=seed), n=(1,), tokens_column="ids",
                seed=seed,
            )  # fmt: skip
            o = seqcount.report(result).fits[0].assessment.overall
            grid = result.rows[-1].tokens * 10.0 ** (-np.arange(0, 40) / 8)
            g = grid[(grid >= o.d_lo * (1 - 1e-9)) & (grid <= o.d_hi * (1 + 1e-9))]
            y = np.log([expected_distinct(v, d, theta) for v in g])
            target = np.polyfit(np.log(g), y, 1)[0]
            hits95 += abs(o.value - target) <= 1.96 * o.se
            hits68 += abs(o.value - target) <= 1.0 * o.se
    assert hits95 >= 33, hits95
    assert hits68 <= 38, hits68


@pytest.fixture(scope="module")
def austen(tmp_path_factory):
    out = tmp_path_factory.mktemp("austen") / "out"
    return seqcount.count(DATA, n=(1, 2, 4), out=out)


def test_real_text_verdict_does_not_flip_with_the_fit_range(austen):
    """On real text, moving a 1.5-decade fit range along the curve: wherever
    the half-decade exponents inside it are confidently on both sides of a band edge the
    verdict is "crosses band", and "in band" is never said of a range whose local exponents
    are confidently outside the band."""
    top = float(austen.rows[-1].tokens)
    for n in (1, 2):
        for k in range(3):
            hi = top / 10 ** (k / 2)
            rep = seqcount.report(
                austen.outputs["dir"] if False else austen, d_range=(hi / 10**1.5, hi)
            )
            f = next(f for f in rep.fits if f.n == n)
            a = f.assessment
            inside = drift.in_range(a.local, a.overall.d_lo, a.overall.d_hi)
            if drift.crossed_edges(inside, BAND):
                assert f.verdict.verdict == drift.CROSSES
            if f.verdict.verdict == drift.IN:
                assert all(BAND[0] <= e.ci95[1] and e.ci95[0] <= BAND[1] for e in inside)
            assert f.verdict.in_band == (f.verdict.verdict == drift.IN)


def test_report_json_carries_interval_verdict_and_slopes(austen):
    rep = seqcount.report(austen)
    d = rep.to_dict()
    f = d["fits"][0]
    assert f["verdict"] in drift.__dict__.values()
    lo, hi = f["gamma_ci95"]
    assert lo < f["gamma_resampled"] < hi
    assert f["sentence"].startswith(f"n={f['n']}: ")
    s = d["slopes"][str(f["n"])]["intervals"]
    assert s and all(e["low"] < e["gamma"] < e["high"] for e in s)
    assert d["resampling"]["orders"] == 200


def test_too_few_blocks_give_a_report_without_intervals(tmp_path):
    import pyarrow as pa

    docs = [" ".join(f"w{(7 * i + k) % 997}" for i in range(1000)) for k in range(12)]
    rep = seqcount.report(seqcount.count(pa.table({"text": docs}), n=(1,)))
    assert rep.fits and all(f.assessment is None for f in rep.fits)
    assert (
        "block(s) of documents; a calibrated interval needs at least 16"
        in (rep.resampling["skipped"])
    )
    assert (
        "gamma_ci95" not in rep.to_dict()["fits"][0]
        or rep.to_dict()["fits"][0]["gamma_ci95"] is None
    )


def test_cli_report_of_a_tiny_run_says_why_in_one_line(tmp_path):
    import subprocess
    import sys

    doc = tmp_path / "tiny.txt"
    doc.write_text("a few words and no more\n")
    env_run = dict(capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    out = tmp_path / "o"
    r = subprocess.run([sys.executable, "-m", "seqcount", "count", str(doc), "--out", str(out),
                        "-q"], **env_run)  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "seqcount", "report", str(out), "--no-plots"],
                       **env_run)  # fmt: skip
    assert "Traceback" not in r.stderr and "numpy" not in r.stderr
    notes = [x for x in r.stderr.splitlines() if x.strip()]
    assert notes == [notes[0]] and notes[0].startswith("note: no calibrated interval: the run "
                                                       "has 1 block(s)")  # fmt: skip
    assert "not fitted: too few checkpoints" in r.stdout
