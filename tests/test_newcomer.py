"""What a new user tripped on (issue 18): one test per item, each failing on the old code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import DATA, ROOT

import seqcount.api
import seqcount.api.counting
import seqcount.api.overlap
from seqcount.cli import cli
from seqcount.cli.common import ProgressBar
from seqcount.engine.results import Progress

SHARD = DATA / "austen" / "05-persuasion.parquet"


def run(*args, **kw):
    return CliRunner().invoke(cli, [str(a) for a in args], **kw)


def one_line_error(r, code: int) -> str:
    assert r.exit_code == code, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    err = r.stderr.strip()
    assert err.startswith("Error: ") and "\n" not in err, err
    return err


# 1. the README's install gives a working report with plots
def test_matplotlib_is_installed_with_seqcount_itself():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("matplotlib") for d in project["dependencies"])


# 2. a run that fails writes nothing, and what it needs is checked before counting
def test_a_run_failing_while_writing_leaves_no_output(tmp_path, monkeypatch):
    def broken(sketches, directory):
        (tmp_path / "half").mkdir()  # proves the failure came after the core files
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(seqcount.api.counting, "write_shard_similarity", broken)
    out = tmp_path / "out"
    r = run("count", DATA / "austen", "--n", "1,2", "--shard-similarity", "--out", out)
    one_line_error(r, 1)
    assert (tmp_path / "half").exists() and not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["half"]  # no temporary directory left


def test_a_failed_rerun_keeps_the_last_good_outputs(tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert run("count", DATA / "austen", "--n", "1", "--out", out, "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(sketches, directory):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(seqcount.api.counting, "write_shard_similarity", broken)
    r = run("count", DATA / "austen", "--n", "1,2", "--shard-similarity", "--out", out)
    one_line_error(r, 1)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_missing_plotting_library_is_refused_before_counting(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name)
    )
    counted = []
    monkeypatch.setattr(seqcount.api.counting, "count_pass", lambda *a, **k: counted.append(a))
    r = run("count", DATA / "austen", "--shard-similarity", "--out", tmp_path / "o")
    err = one_line_error(r, 1)
    assert "matplotlib" in err and "--no-plots" not in err
    assert counted == [] and not (tmp_path / "o").exists()


# 4. --out inside an input directory
def test_out_inside_an_input_directory_is_refused_unless_forced(tmp_path):
    corpus = tmp_path / "dcopy"
    (corpus / "austen").mkdir(parents=True)
    shard = corpus / "austen" / SHARD.name
    shard.write_bytes(SHARD.read_bytes())
    err = one_line_error(run("count", shard, "--out", corpus / "austen"), 2)
    assert "--out" in err and "--force" in err and "inside the input" in err
    err = one_line_error(run("count", corpus, "--out", corpus / "run"), 2)
    assert "--force" in err
    assert run("count", corpus, "--out", corpus / "run", "--force", "-q").exit_code == 0
    r = run("count", corpus / "run")  # an output named as a corpus: refused, says what it is
    assert "written by seqcount" in one_line_error(r, 1)


# 5. malformed or conflicting options exit 2 and name the options
@pytest.mark.parametrize(
    "args, names",
    [
        (["--n", "abc"], ["--n"]),
        (["--precision", "abc"], ["--precision"]),
        (["--engine", "local", "--scheduler", "tcp://127.0.0.1:1"], ["--engine", "--scheduler"]),
        (
            ["--overlap", "minhash", "--num-perm", "0", "--shard-similarity"],
            ["--shard-similarity", "--num-perm"],
        ),
        (["--overlap", "none", "--shard-similarity"], ["--shard-similarity", "--overlap"]),
        (["--repair"], ["--repair", "--state"]),
    ],
)
def test_malformed_and_conflicting_options_exit_2_naming_them(args, names, tmp_path):
    r = run("count", SHARD, "--out", tmp_path / "o", *args)
    assert r.exit_code == 2, r.output
    for name in names:
        assert name in r.stderr, (name, r.stderr)
    assert not (tmp_path / "o").exists()


# 6. compare X X, -q with JSON logs, an implicit config file, the progress bar, bounds -D 1e400
def test_compare_counts_the_same_corpus_once(monkeypatch):
    calls = []
    real = seqcount.api.count_corpus
    monkeypatch.setattr(
        seqcount.api.overlap, "count_corpus", lambda *a, **k: calls.append(a) or real(*a, **k)
    )
    r = run("compare", SHARD, SHARD, "--n", "4", "--json")
    assert r.exit_code == 0, r.output
    assert len(calls) == 1
    assert json.loads(r.stdout)["results"][0]["jaccard"] == 1.0


def test_quiet_json_log_prints_only_errors(tmp_path):
    r = run("count", SHARD, "--n", "1", "--log-format", "json", "-q", "--out", tmp_path / "o")
    assert r.exit_code == 0 and r.stdout == "", r.stdout
    r = run("count", SHARD, "--n", "1", "--log-format", "json", "--out", tmp_path / "o")
    assert [json.loads(line)["event"] for line in r.stdout.splitlines()][-1] == "summary"
    r = run("count", tmp_path / "missing", "--log-format", "json", "-q", "--out", tmp_path / "p")
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert r.exit_code == 1 and [e["event"] for e in events] == ["error"]


def test_an_implicit_config_file_is_announced(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seqcount.toml").write_text("[count]\nn = [1, 2]\n")
    r = run("count", SHARD, "--out", tmp_path / "o", "-q")
    assert r.exit_code == 0, r.output
    assert "using config ./seqcount.toml" in r.stderr
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["options"]["ns"] == [1, 2]


def test_progress_bar_ends_at_the_whole_input():
    bar = ProgressBar()
    bar(Progress(0, 1, 10, 1_000, 20, 0.5))
    bar(Progress(0, 1, 11, 1_100, 20, 0.6))  # within 0.1 s: not drawn
    assert "1,000 tokens" in bar.bar.current_item
    bar.close(32_697_127)
    assert "32,697,127 tokens" in bar.bar.current_item and bar.bar.pos == bar.bar.length
    bar.close()  # a second close does nothing


def test_bounds_of_a_number_too_large_says_out_of_range():
    err = one_line_error(run("bounds", "-D", "1e400"), 2)
    assert "out of range" in err and "positive" not in err


# 8. the Dask engine cleans up its scratch space
def test_dask_leaves_no_scratch_space(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
    r = run("count", SHARD, "--n", "1", "--engine", "dask", "--jobs", "1", "--out",
            tmp_path / "o", "-q")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert list(scratch.iterdir()) == []


# 11. the first run says why it is slow
def test_first_run_says_it_compiles(tmp_path, monkeypatch):
    monkeypatch.setattr(seqcount.api, "kernels_compiled", lambda: False)
    r = run("count", SHARD, "--n", "1", "--out", tmp_path / "o")
    assert r.exit_code == 0 and "compiling kernels (first run only)..." in r.stderr
    r = run("count", SHARD, "--n", "1", "--out", tmp_path / "o", "-q")
    assert r.stderr == ""


def test_a_usage_or_input_error_comes_before_the_compile_notice(tmp_path, monkeypatch):
    """With a cold kernel cache a run that cannot start says only why: the notice that the
    first run compiles comes once the options and inputs are checked."""
    monkeypatch.setattr(seqcount.api, "kernels_compiled", lambda: False)
    r = run("count", SHARD, "--shard-similarity", "--overlap", "none", "--out", tmp_path / "o")
    assert r.exit_code != 0 and r.stderr.startswith("Error: --shard-similarity"), r.stderr
    r = run("count", tmp_path / "missing", "--out", tmp_path / "o")
    assert r.exit_code == 1 and r.stderr.startswith("Error: "), r.stderr
    assert "compiling" not in r.stderr


def test_an_empty_numba_cache_is_seen_as_cold(tmp_path):
    code = "import seqcount.hashing as h; print(h.kernels_compiled())"
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=ROOT, check=True)  # fmt: skip
    assert out.stdout.strip() == "False"


# 12. the bounds' constants have names that say what they are
def test_bound_constants_have_plain_names_and_keep_the_old_ones():
    new = run("bounds", "-D", "1e12", "--upper-bound-constant", "2", "--json")
    old = run("bounds", "-D", "1e12", "--c-lo", "2", "--json")
    base = run("bounds", "-D", "1e12", "--json")
    assert new.exit_code == old.exit_code == 0, new.output + old.output
    assert json.loads(new.stdout) == json.loads(old.stdout) != json.loads(base.stdout)
    low = run("bounds", "-D", "1e12", "--lower-bound-constant", "3", "--json")
    assert json.loads(low.stdout) == json.loads(run("bounds", "-D", "1e12", "--c-hi", "3",
                                                     "--json").stdout)  # fmt: skip
    helptext = run("bounds", "--help").output
    assert "--upper-bound-constant" in helptext and "--c-lo" not in helptext


# 10. (the io side is tests/test_io_sources.py) the README's first run prints no note
def test_the_bundled_data_counts_without_a_note(tmp_path):
    r = run("count", DATA, "--n", "1", "--out", tmp_path / "o")
    assert r.exit_code == 0 and "note:" not in r.output, r.output


def test_a_table_and_a_generator_of_strings_count_like_a_file(tmp_path):
    """``seqcount.count`` takes what a notebook holds, not only paths."""
    docs = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"]
    pq.write_table(pa.table({"text": docs}), tmp_path / "c.parquet")
    ref = seqcount.api.count(tmp_path / "c.parquet", n=(1, 2))
    table = seqcount.api.count(pa.table({"text": docs}), n=(1, 2))
    gen = seqcount.api.count((d for d in docs), n=(1, 2))
    assert ref.rows == table.rows == gen.rows
    assert ref.curve.num_rows == len(ref.rows)


def test_memory_sources_are_refused_by_the_sharded_engine(tmp_path):
    from seqcount.errors import ConfigError

    with pytest.raises(ConfigError, match="counted in one pass") as e:
        seqcount.api.count(pa.table({"text": ["a b"]}), n=1, state=tmp_path / "st")
    assert "state" in e.value.params and not (tmp_path / "st").exists()


def test_nothing_found_names_the_output_directory_it_left_out(tmp_path):
    """Writing into the only folder that holds data (--force) leaves nothing to read: the
    error says that folder was left out as this run's output."""
    (tmp_path / "dd" / "austen").mkdir(parents=True)
    (tmp_path / "dd" / "austen" / SHARD.name).write_bytes(SHARD.read_bytes())
    out = tmp_path / "dd" / "austen"
    err = one_line_error(run("count", tmp_path / "dd", "--force", "--out", out), 1)
    assert "no input shards found" in err and "output or state directory" in err
    assert str(out) in err


@pytest.mark.parametrize("flag", ["--at", "--fit-range"])
def test_malformed_report_numbers_are_usage_errors(flag, tmp_path):
    assert run("count", SHARD, "--n", "1", "--out", tmp_path / "o", "-q").exit_code == 0
    err = one_line_error(run("report", tmp_path / "o", flag, "abc"), 2)
    assert flag in err and "'abc' is not a number" in err


def test_flags_are_respelled_in_the_message_but_not_in_paths(tmp_path):
    """An output directory named like a parameter ('out') keeps its name in the message."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / SHARD.name).write_bytes(SHARD.read_bytes())
    err = one_line_error(run("count", corpus, "--out", corpus / "out"), 2)
    assert err.startswith(f"Error: --out {corpus / 'out'} is inside the input"), err
    assert "--force" in err


# from a QA pass as a new user, after the items above
@pytest.mark.parametrize(
    "args",
    [["count", SHARD, "--nn", "2"], ["count", SHARD, "--precision", "abc"], ["bounds"],
     ["count"], ["nope"], ["count", SHARD, "--engine", "spark"]],
)  # fmt: skip
def test_click_usage_errors_are_one_line_too(args):
    err = one_line_error(run(*args), 2)
    assert "Usage:" not in err and "--help" in err


def test_ctrl_c_is_interrupted_with_status_130(monkeypatch, tmp_path):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(seqcount.api, "count", interrupted)
    r = run("count", SHARD, "--out", tmp_path / "o")
    assert r.exit_code == 130 and r.stderr.strip() == "Interrupted."


def test_notes_go_to_stderr_and_the_table_to_stdout(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / SHARD.name).write_bytes(SHARD.read_bytes())
    (corpus / "notes.csv").write_text("a,b\n")
    r = run("count", corpus, "--n", "1", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    assert "note: 1 file(s) of unknown format skipped" in r.stderr
    assert "note:" not in r.stdout and "unique/windows" in r.stdout


@pytest.mark.parametrize(
    "kw, param",
    [({"n": 1.5}, "n"), ({"precision": "x"}, "precision"), ({"bogus": 1}, "bogus"),
     ({"config": "CONFIG", "n": 2}, "config"), ({"n": "1,,2"}, "ns")],
)  # fmt: skip
def test_python_callers_get_typed_errors_naming_the_parameter(kw, param):
    from seqcount.config import CountConfig
    from seqcount.errors import ConfigError

    kw = {k: (CountConfig(ns=(1,)) if v == "CONFIG" else v) for k, v in kw.items()}
    with pytest.raises(ConfigError) as e:
        seqcount.api.count(SHARD, **kw)
    assert param in e.value.params and "--" not in str(e.value)


def test_report_bounds_and_open_run_errors_name_the_parameter(tmp_path):
    from seqcount.errors import ConfigError, InputError

    with pytest.raises(ConfigError) as e:
        seqcount.api.bounds(-5)
    assert e.value.params == ("tokens",)
    with pytest.raises(ConfigError) as e:
        seqcount.api.report(DATA, foo=1)
    assert e.value.params == ("foo",) and "at" in str(e.value)
    with pytest.raises(InputError, match="no such directory"):
        seqcount.api.open_run(tmp_path / "nope")
    result = seqcount.api.count(SHARD, n=1)
    with pytest.raises(KeyError, match="n=5 was not counted"):
        result.unique(5)


def test_out_may_not_be_an_input_itself(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / SHARD.name).write_bytes(SHARD.read_bytes())
    err = one_line_error(run("count", corpus, "--out", corpus, "--force"), 2)
    assert "itself" in err
    for name in ("m1", "m2"):
        assert run("count", SHARD, "--n", "1", "--out", tmp_path / name, "-q").exit_code == 0
    before = (tmp_path / "m1" / "summary.json").read_bytes()
    err = one_line_error(
        run("merge", tmp_path / "m1", tmp_path / "m2", "--out", tmp_path / "m1"), 2
    )
    assert "one of the outputs merged" in err
    assert (tmp_path / "m1" / "summary.json").read_bytes() == before


def test_config_file_mistakes_are_usage_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seqcount.toml").write_text("[count]\nnn = [1, 2]\n")
    r = run("count", SHARD, "--out", tmp_path / "o")
    assert r.exit_code == 2 and r.stderr.splitlines() == [
        "using config ./seqcount.toml",
        "Error: seqcount.toml: unknown option 'nn' in [count]",
    ]
    err = one_line_error(run("count", SHARD, "--config", "nope.toml", "--out", tmp_path / "o"), 2)
    assert "nope.toml" in err
