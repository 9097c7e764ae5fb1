"""``seqcount report`` and ``seqcount bounds``: files, numbers, JSON contracts."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import DATA

from seqcount.analysis import bounds
from seqcount.analysis.fit import curve_points, fit_growth
from seqcount.cli import cli
from seqcount.run.curve import read_curve

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def counted(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    r = CliRunner().invoke(cli, ["count", str(DATA), "--n", "1,2,8", "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    return out


def test_report_writes_files_with_the_curve_numbers(counted):
    args = ["report", str(counted), "--at", "1e9,1e12", "--bloom-fpr", "0.01",
            "--model-params", "7e10"]  # fmt: skip
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    names = ("report.md", "report.html", "report.json", "growth.png", "slopes.png")
    for name in names + ("shard_similarity.png", "shard_similarity.csv"):
        assert (counted / name).stat().st_size > 0, name
        assert name in r.stdout  # listed as written
    for png in ("growth.png", "slopes.png", "shard_similarity.png"):
        data = (counted / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        import matplotlib.image

        img = matplotlib.image.imread(str(counted / png))
        assert img.shape[0] > 300 and img.shape[1] > 600
    rep = json.loads((counted / "report.json").read_text())
    md = (counted / "report.md").read_text()
    html = (counted / "report.html").read_text()
    rows = read_curve(counted / "curve.csv")
    summary = json.loads((counted / "summary.json").read_text())
    assert [f["n"] for f in rep["fits"]] == [1, 2, 8]
    for f in rep["fits"]:
        for key in ("n", "gamma", "gamma_err", "c", "in_band", "doubling_factor"):
            assert key in f
        # recompute the fit from curve.csv: with fit_growth, and with numpy's polyfit
        d, u = curve_points(rows, f["n"])
        g = fit_growth(d, u, f["n"], rel_err=summary["standard_error"])
        assert f["gamma"] == pytest.approx(g.gamma)
        sel = (d >= g.d_lo) & (d <= g.d_hi)
        slope = np.polyfit(np.log(d[sel]), np.log(u[sel]), 1)[0]  # an independent fit
        assert f["gamma"] == pytest.approx(slope, abs=1e-9)
        assert f["in_band"] == (0.44 - 1e-9 <= g.gamma <= 0.72 + 1e-9)
        assert f["doubling_factor"] == pytest.approx(2 ** (1 / g.gamma))
        assert f["u_corpus"] == u[-1]
        line = next(ln for ln in md.splitlines() if ln.startswith(f"| {f['n']} | {g.gamma:.4f}"))
        assert f"{g.gamma_err:.4f}" in line
        assert f"{round(u[-1]):,}" in line
        assert f"{2 ** (1 / g.gamma):.2f}x" in line
        assert [e["tokens"] for e in f["extrapolation"]] == [1e9, 1e12]
        for e in f["extrapolation"]:
            assert e["low"] <= e["unique"] <= e["high"] <= e["tokens"]
            assert e["bloom"] == bounds.bloom_filter(e["high"], 0.01)
        assert f["regime"]["band"] in ("emergent", "saturated", "undetermined")
    assert rep["d_star"] == pytest.approx(bounds.d_star("chinchilla"))
    assert "873,710 tokens" in md
    # growth, slopes and the shard heatmaps (six shards, each with MinHash signatures)
    assert html.count("data:image/png;base64,") == 3 and "<table>" in html
    assert re.search(r"\| 1 \| 0\.4\d{3} ± 0\.\d{4} \| yes \|", md)  # n=1 lies in the band


def test_report_errors(tmp_path, counted):
    r = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert r.exit_code == 1 and "curve.csv: missing" in r.stderr
    r = CliRunner().invoke(cli, ["report", str(counted), "--at", "1e9,x", "--no-plots"])
    assert r.exit_code == 1 and "--at: 'x' is not a number" in r.stderr
    r = CliRunner().invoke(cli, ["report", str(counted), "--fit", "nope", "--no-plots"])
    assert r.exit_code == 2 and "'nope' is not one of 'chinchilla', 'epoch'" in r.stderr


def test_bounds_says_when_the_band_means_nothing():
    """Below D* the lower bound is above the upper one: bounds says so (text and JSON)."""
    r = CliRunner().invoke(cli, ["bounds", "--tokens", "873710", "--json"])
    out = json.loads(r.stdout)
    assert out["below_d_star"] is True and out["u_lower"] > out["u_upper"]
    r = CliRunner().invoke(cli, ["bounds", "--tokens", "873710"])
    assert "note             D < D*" in r.stdout
    r = CliRunner().invoke(cli, ["bounds", "--tokens", "1e12", "--json"])
    out = json.loads(r.stdout)
    assert out["below_d_star"] is False and out["u_lower"] < out["u_upper"]
    assert "D < D*" not in CliRunner().invoke(cli, ["bounds", "--tokens", "1e12"]).stdout


def test_bounds_json_contract():
    r = CliRunner().invoke(
        cli, ["bounds", "--tokens", "1.4e12", "--model-params", "7e10", "--json"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    for key in ("tokens", "epsilon", "u_lower", "u_mid", "u_upper", "gamma_band", "gamma_mid",
                "d_star", "doubling_band", "doubling_mid", "regime"):  # fmt: skip
        assert key in out, key
    assert out["u_upper"] == pytest.approx(2.28e11, rel=0.01)
    assert out["u_lower"] == pytest.approx(3.73e10, rel=0.01)
    assert out["gamma_band"] == pytest.approx([0.44, 0.72])
    assert out["doubling_band"] == pytest.approx([2.62, 4.83], abs=0.005)
    assert out["regime"]["band"] == "undetermined"
    r = CliRunner().invoke(cli, ["bounds", "--tokens", "1e9"])
    assert r.exit_code == 0 and "D*" in r.stdout and "regime" not in r.stdout
    r = CliRunner().invoke(cli, ["bounds", "--tokens", "-5"])
    assert r.exit_code == 2 and r.stderr.startswith("Error: --tokens")


def test_interval_covers_the_measured_count_and_the_sketch_error(counted):
    rows = read_curve(counted / "curve.csv")
    summary = json.loads((counted / "summary.json").read_text())
    for n in (1, 2, 8):
        d, u = curve_points(rows, n)
        g = fit_growth(d, u, n, rel_err=summary["standard_error"])
        lo, hi = g.interval(d[-1])
        assert lo <= u[-1] <= hi
        assert hi / lo >= (1 + 1.96 * summary["standard_error"]) ** 2 * 0.999
        lo2, hi2 = g.interval(1e12)
        assert hi2 / lo2 > hi / lo  # wider away from the data


def test_bloom_without_at_and_fit_range_without_points(counted):
    r = CliRunner().invoke(cli, ["report", str(counted), "--bloom-fpr", "0.01", "--no-plots"])
    assert r.exit_code == 0, r.output
    rep = json.loads((counted / "report.json").read_text())
    assert rep["fits"][0]["extrapolation"][0]["bloom"]["hashes"] == 7
    r = CliRunner().invoke(cli, ["report", str(counted), "--fit-range", "1e7,1e8", "--no-plots"])
    assert r.exit_code == 1 and "no window size could be fitted" in r.stderr
