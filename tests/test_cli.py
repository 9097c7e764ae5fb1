"""The command line: output files, the table, help, and one-line errors for user mistakes."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow as pa
import pytest
from click.testing import CliRunner
from conftest import DATA, ROOT

from seqcount.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def no_crash(result) -> bool:
    """The command ended by exiting, not by an unexpected exception (a traceback)."""
    return result.exception is None or isinstance(result.exception, SystemExit)


def assert_one_line_error(result, *fragments, code=1):
    assert no_crash(result), repr(result.exception)
    assert result.exit_code == code, result.output
    err = result.stderr.strip()
    assert err.startswith("Error: "), err
    assert "\n" not in err, err
    assert "Traceback" not in result.output
    for f in fragments:
        assert f in err, (f, err)


def test_count_writes_files_and_prints_table(tmp_path):
    out = tmp_path / "out"
    r = run("count", DATA, "--n", "1,2,4", "--out", out, "--exact")
    assert r.exit_code == 0, r.output
    assert {p.name for p in out.iterdir()} == {"curve.csv", "summary.json", "sketches.npz"}
    header = (out / "curve.csv").read_text().splitlines()[0]
    assert header == "n,tokens,documents,windows,unique,unique_exact,unique_hip"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"]["documents"] == 269
    table = r.stdout.splitlines()
    assert table[0].startswith("6 shard(s), 269 documents, 873,710 tokens")
    assert table[1].split() == ["n", "windows", "unique", "unique/windows", "exact", "error"]
    assert [line.split()[0] for line in table[2:5]] == ["1", "2", "4"]
    assert "counting" not in r.output  # no progress bar when not on a terminal


def test_quiet_prints_nothing(tmp_path):
    r = run("count", DATA / "austen" / "04-northangerabbey.parquet", "-q", "--out", tmp_path)
    assert r.exit_code == 0
    assert r.output == ""
    assert (tmp_path / "curve.csv").exists()


def test_two_cli_runs_give_identical_files(tmp_path):
    for name in ("a", "b"):
        assert run("count", DATA, "--n", "2,8", "-q", "--out", tmp_path / name).exit_code == 0
    for f in ("curve.csv", "sketches.npz"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_glob_input(tmp_path):
    r = run("count", str(DATA / "austen" / "0[45]-*.parquet"), "--n", "1", "--out", tmp_path)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("2 shard(s), 55 documents")


def test_tokens_column_implies_ids(parquet, tmp_path):
    path = parquet([[1, 2, 3], [3, 2, 1]], column="input_ids", type=pa.list_(pa.int32()))
    r = run("count", path, "--tokens-column", "input_ids", "--n", "1,2", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    assert "(ids)" in r.stdout


# --------------------------------------------------------------------------- errors


def test_missing_path(tmp_path):
    missing = tmp_path / "nope"
    assert_one_line_error(run("count", missing), str(missing), "no such file or directory")


def test_empty_directory(tmp_path):
    (tmp_path / "notes.md").write_text("x")
    assert_one_line_error(run("count", tmp_path), "no input shards found")


def test_missing_column(parquet):
    path = parquet(["a b"], column="body")
    r = run("count", path, "--out", path.parent / "o")
    assert_one_line_error(r, str(path), "no column 'text'", "columns: body")


def test_wrong_column_type(parquet):
    path = parquet([1, 2, 3], column="text", type=pa.int64())
    assert_one_line_error(run("count", path), str(path), "'text'", "int64", "expected a string")


def test_text_column_given_to_tokens_column(parquet):
    path = parquet(["a b"], column="text")
    r = run("count", path, "--tokens-column", "text")
    assert_one_line_error(r, str(path), "expected a list of integers", "--text-column")


def test_list_column_given_as_text(parquet):
    path = parquet([[1, 2]], column="text", type=pa.list_(pa.int64()))
    assert_one_line_error(run("count", path), str(path), "--tokens-column")


def test_corrupt_parquet(tmp_path):
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"PAR1 this is not really parquet")
    assert_one_line_error(run("count", bad), str(bad), "not a readable Parquet file")


def test_truncated_parquet(tmp_path):
    good = (DATA / "austen" / "04-northangerabbey.parquet").read_bytes()
    bad = tmp_path / "cut.parquet"
    bad.write_bytes(good[: len(good) // 2])
    assert_one_line_error(run("count", bad), str(bad))


def test_unknown_format_named_explicitly(tmp_path):
    f = tmp_path / "corpus.csv"
    f.write_text("text\nhello\n")
    assert_one_line_error(run("count", f), str(f), "unknown file format")


def test_output_path_is_a_file(tmp_path):
    f = tmp_path / "out"
    f.write_text("")
    r = run("count", DATA / "austen" / "05-persuasion.parquet", "--out", f, "-q")
    assert r.exit_code != 0
    assert no_crash(r)
    assert str(f) in r.output


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--precision", "3"], "--precision must be in [4, 16]"),
        (["--precision", "17"], "--precision must be in [4, 16]"),
        (["--n", "0,2"], "--n: window sizes must be between 1"),
        (["--n", "1,x"], "--n: 'x' is not an integer"),
        (["--n", ","], "--n needs at least one window size"),
        (["--checkpoints-per-decade", "0"], "--checkpoints-per-decade"),
        (["--seed", "-1"], "--seed"),
        (["--batch-rows", "0"], "--batch-rows"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--threads", "0", "--jobs", "2"], "--threads must be at least 1"),
        (["--near-dup", "0.99"], "--near-dup 0.99 with --num-perm 128: the LSH index cannot"),
        (["--near-dup", "0.99"], "use 512 or more permutations or a lower threshold"),
        (["--near-dup", "0.9", "--num-perm", "8"], "the LSH index cannot be banded"),
        (
            ["--shard-similarity", "--overlap", "minhash", "--num-perm", "0"],
            "--shard-similarity needs MinHash",
        ),
        (["--shard-similarity", "--overlap", "none"], "--overlap must be theta or minhash"),
        (["--overlap", "hll"], "--overlap"),
        (["--theta-k", "1000"], "--theta-k must be a power of two"),
        (["--content-hash"], "--content-hash is an option of --state,"),
        (["--repair"], "--repair is an option of --state,"),
        (["--near-dup-n", "0"], "--near-dup-n is an option of --near-dup THRESHOLD"),
        (["--near-dup-n", "5"], "--near-dup-n is an option of --near-dup THRESHOLD"),
        (["--near-dup-max-docs", "9"], "--near-dup-max-docs is an option of --near-dup"),
        (["--tokenizer", "ids"], "--tokenizer ids needs --tokens-column"),
        (["--tokenizer", "bytes", "--tokens-column", "ids"], "--tokens-column is for"),
    ],
)
def test_invalid_options(args, fragment, tmp_path):
    """Malformed or conflicting options: one line naming the flags, exit status 2."""
    r = run("count", DATA / "austen" / "05-persuasion.parquet", "--out", tmp_path, *args)
    assert_one_line_error(r, fragment, code=2)


def test_usage_errors_exit_2():
    r = run("count", DATA, "--precision", "abc")
    assert r.exit_code == 2
    assert no_crash(r)
    assert "'abc' is not a valid integer" in r.output


# --------------------------------------------------------------------------- help and entry points


def test_every_command_has_help_with_an_example():
    for name in cli.commands:
        r = run(name, "--help")
        assert r.exit_code == 0
        assert "Example" in r.stdout, name
        readme = (ROOT / "README.md").read_text()
        assert f"seqcount {name}" in readme, f"{name} is not documented in README.md"


def test_python_dash_m_and_no_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "seqcount", "count", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert "Traceback" not in proc.stderr
    assert "no such file or directory" in proc.stderr


def test_unwritable_output_fails_before_counting(tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    r = run("count", DATA, "--out", f / "sub", "-q")
    assert_one_line_error(r, str(f / "sub"), "cannot write output")


def test_a_failed_run_creates_no_output_directory(tmp_path):
    out = tmp_path / "deep" / "out"
    r = run("count", tmp_path / "missing", "--out", out, "-q")
    assert_one_line_error(r, "missing")
    assert not (tmp_path / "deep").exists()


def test_every_shard_unreadable_fails_and_keeps_the_last_outputs(tmp_path):
    """Under --on-error skip a run that read nothing because every shard was unreadable (a
    dead mount, say) fails (exit 1) instead of passing as partial success (exit 3), and the
    outputs of the last good run stay as they were."""
    out = tmp_path / "out"
    assert run("count", DATA, "--n", "1,2", "--out", out, "-q").exit_code == 0
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.parquet").write_bytes(b"garbage")
    (bad / "b.parquet").write_bytes(b"PAR1 not really PAR1")
    r = run("count", bad, "--n", "1,2", "--out", out, "-q", "--on-error", "skip")
    assert_one_line_error(r, "every shard (2) was unreadable", "a.parquet")
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before
    (bad / "c.parquet").write_bytes((DATA / "austen" / "05-persuasion.parquet").read_bytes())
    r = run("count", bad, "--n", "1,2", "--out", out, "-q", "--on-error", "skip")
    assert r.exit_code == 3  # one shard read: partial success


@pytest.mark.parametrize("dest", ["file/sub", "/proc/seqcount-nope"])
def test_report_to_an_unwritable_destination_is_a_one_line_error(tmp_path, dest):
    out = tmp_path / "out"
    assert run("count", DATA, "--n", "1,2", "--out", out, "-q").exit_code == 0
    (tmp_path / "file").write_text("")
    dest = dest if dest.startswith("/") else tmp_path / dest
    r = run("report", out, "--dest", dest, "--no-plots")
    assert_one_line_error(r, str(dest), "cannot write output")


def test_a_rerun_into_the_same_out_leaves_no_stale_optional_files(tmp_path):
    two = DATA / "austen" / "0[45]-*.parquet"
    r = run("count", two, "--n", "1,2", "--out", tmp_path, "--shard-similarity", "-q")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "shard_similarity.csv").exists()
    assert (tmp_path / "shard_similarity.png").exists()
    r = run("count", two, "--n", "1,2", "--out", tmp_path, "-q")
    assert r.exit_code == 0, r.output
    assert {p.name for p in tmp_path.iterdir()} == {"curve.csv", "summary.json", "sketches.npz"}


def test_shard_similarity_of_one_shard_is_a_note_not_an_empty_matrix(tmp_path):
    one = DATA / "austen" / "05-persuasion.parquet"
    r = run("count", one, "--n", "1", "--out", tmp_path, "--shard-similarity")
    assert r.exit_code == 0, r.output
    assert "needs two shards or more" in r.stderr
    assert not list(tmp_path.glob("shard_similarity*"))


def test_table_counts_one_document_in_the_singular(tmp_path):
    f = tmp_path / "one.txt"
    f.write_text("just one document")
    r = run("count", f, "--n", "1", "--out", tmp_path / "o")
    assert r.exit_code == 0, r.output
    assert "1 shard(s), 1 document, 3 tokens (words)" in r.stdout
