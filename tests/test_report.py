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
from seqcount.reporting import FitResult, OptionError, build_report, parse_floats, write_report
from seqcount.run.curve import read_curve
from seqcount.run.files import load_run
from seqcount.sketches import load_sketches

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
        # in_band follows the verdict of the calibrated interval (tests/test_drift.py)
        lo, hi = f["gamma_ci95"]
        assert f["in_band"] == (f["verdict"] == "in band")
        assert (f["verdict"] == "in band") <= (0.44 <= lo and hi <= 0.72)
        assert f["doubling_factor"] == pytest.approx(2 ** (1 / g.gamma))
        assert f["u_corpus"] == u[-1]
        line = next(ln for ln in md.splitlines() if ln.startswith(f"| {f['n']} | "))
        assert f"| {g.gamma:.4f} ± {g.gamma_err:.4f} |" in line  # the one-curve fit
        assert "[{:.3f}, {:.3f}]".format(*f["gamma_ci95"]) in line and f["verdict"] in line
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
    # n=1: its one-curve γ lies in the band, but its exponent falls through the band's lower
    # edge within the fit range: the verdict says so, and "in band" is no longer claimed
    n1 = r"\| 1 \| 0\.4\d{2} \[0\.\d{3}, 0\.\d{3}\] \| crosses band \| 0\.4\d{3} ± "
    assert re.search(n1, md)


def test_report_errors(tmp_path, counted):
    r = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert r.exit_code == 1 and "curve.csv: missing" in r.stderr
    r = CliRunner().invoke(cli, ["report", str(counted), "--at", "1e9,x", "--no-plots"])
    assert r.exit_code == 2 and "--at: 'x' is not a number" in r.stderr
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


def test_tiny_run_says_per_n_that_it_has_too_few_checkpoints(tmp_path):
    """Issue 18 item 3: a corpus of 4 tokens has one checkpoint per n; report says so per n,
    writes its files, and no numpy error text reaches the user."""
    (tmp_path / "c.txt").write_text("a b c d\n")
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["count", str(tmp_path / "c.txt"), "--n", "1,2,8", "--out",
                                 str(out), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["report", str(out)])
    assert r.exit_code == 0, r.output
    assert "zero-size" not in r.output and "Warning" not in r.output
    for n, k in ((1, 1), (2, 1), (8, 0)):  # 8 > 4 tokens: no window at all
        assert f"{n:>5} not fitted: too few checkpoints to fit ({k} < 3)" in r.stdout
    for name in ("report.md", "report.html", "report.json", "growth.png", "slopes.png"):
        assert (out / name).stat().st_size > 0, name
    rep = json.loads((out / "report.json").read_text())
    assert rep["fits"] == [] and [s["n"] for s in rep["not_fitted"]] == [1, 2, 8]
    md = (out / "report.md").read_text()
    assert "| 2 | not fitted: too few checkpoints to fit (1 < 3) |" in md


def test_report_is_typed_and_its_dict_is_report_json(counted, tmp_path):
    rep = write_report(counted, tmp_path, plots=False, at=[1e9], model_params=7e10)
    assert rep.to_dict() == json.loads((tmp_path / "report.json").read_text())
    assert set(rep.files) == {"markdown", "html", "json"}
    assert all(isinstance(f, FitResult) for f in rep.fits) and [f.n for f in rep.fits] == [1, 2, 8]
    f = rep.fits[0]
    assert f.extrapolation[0].at.low <= f.extrapolation[0].at.unique <= f.extrapolation[0].at.high
    assert f.verdict.doubling_factor == pytest.approx(2 ** (1 / f.growth.gamma))
    assert rep.shard_similarity is not None and len(rep.shard_similarity.top_pairs) == 10
    # from (rows, summary): the same fits, without the sections that need the directory
    blocks = load_sketches(counted / "sketches.npz").blocks
    bare = build_report(load_run(counted), at=[1e9], model_params=7e10, blocks=blocks).to_dict()
    assert "shard_similarity" not in bare
    assert bare["fits"] == rep.to_dict()["fits"]


@pytest.mark.parametrize(
    "kw, param",
    [({"d_range": (5.0, 1.0)}, "d_range"), ({"d_range": (1.0,)}, "d_range"),
     ({"bloom_fpr": 1.5}, "bloom_fpr"), ({"at": [1e9, -1.0]}, "at")],
)  # fmt: skip
def test_option_errors_name_the_python_parameter(counted, kw, param):
    with pytest.raises(OptionError) as e:
        build_report(counted, **kw)
    assert e.value.param == param
    assert str(e.value).startswith(param) and "--" not in str(e.value)


def test_parse_floats():
    assert parse_floats("1e9, 2.5", "--at") == [1e9, 2.5]
    assert parse_floats(None, "--at") == [] and parse_floats("", "--at") == []
    with pytest.raises(ValueError, match="--at: 'x' is not a number"):
        parse_floats("1,x", "--at")
    with pytest.raises(ValueError, match="values must be positive, got -1"):
        parse_floats("-1", "at")
