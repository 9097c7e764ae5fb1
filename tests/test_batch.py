"""Shard-by-shard counting: equal to one sequential pass, resumable, incremental, parallel."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import DATA, write_parquet

from seqcount.api import count_batch, count_corpus
from seqcount.cli import cli
from seqcount.config import CountConfig
from seqcount.engine.state import StateDir
from seqcount.errors import ConfigError, StateError
from seqcount.run.curve import curve_bytes
from seqcount.run.files import summary_dict, write_outputs

AUSTEN = sorted((DATA / "austen").glob("*.parquet"))


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def same(a, b) -> None:
    """Two CountResults are the same count: curve, sketches and summary (outside 'run')."""
    assert curve_bytes(a.rows) == curve_bytes(b.rows)
    for x, y in zip(a.sketches.hll, b.sketches.hll):
        assert np.array_equal(x.reg, y.reg)
    assert a.sketches.minhash == b.sketches.minhash
    if a.sketches.shard_minhash is not None:
        assert np.array_equal(a.sketches.shard_minhash, b.sketches.shard_minhash)
    assert (a.sketches.theta is None) == (b.sketches.theta is None)
    if a.sketches.theta is not None:
        assert [t.to_bytes() for t in a.sketches.theta] == [t.to_bytes() for t in b.sketches.theta]
        shards_a = [[t.to_bytes() for t in s] for s in a.sketches.shard_theta]
        assert shards_a == [[t.to_bytes() for t in s] for s in b.sketches.shard_theta]
    sa, sb = summary_dict(a), summary_dict(b)
    sa.pop("run")
    sb.pop("run")
    assert sa == sb


def output_files(out) -> dict:
    s = json.loads((out / "summary.json").read_text())
    s.pop("run")
    return {
        "curve": (out / "curve.csv").read_bytes(),
        "sketches": (out / "sketches.npz").read_bytes(),
        "summary": s,
    }


@pytest.fixture
def corpus(tmp_path):
    """The six sample shards split into twelve smaller shards (two per novel)."""
    d = tmp_path / "corpus"
    d.mkdir()
    for i, f in enumerate(AUSTEN):
        t = pq.read_table(f)
        half = t.num_rows // 2
        pq.write_table(t.slice(0, half), d / f"{i:02d}a.parquet")
        pq.write_table(t.slice(half), d / f"{i:02d}b.parquet")
    return d


@pytest.mark.parametrize(
    "cfg",
    [
        CountConfig(),
        CountConfig(ns=(1, 3, 8), stride=True, checkpoints_per_decade=20, chunk_bytes=3000),
        CountConfig(ns=(2, 5), tokenizer="bytes", num_perm=0, precision=12),
    ],
)
def test_shard_by_shard_equals_one_pass(corpus, cfg):
    same(count_corpus(corpus, cfg), count_batch(corpus, cfg))


def test_ids_and_empty_shards_and_documents(tmp_path):
    rng = np.random.default_rng(0)
    docs = [list(rng.integers(0, 50, rng.integers(0, 30))) for _ in range(40)]
    ids = pa.list_(pa.int64())
    write_parquet(tmp_path / "a.parquet", docs[:20], column="ids", type=ids)
    write_parquet(tmp_path / "b.parquet", [[]], column="ids", type=ids)
    write_parquet(tmp_path / "c.parquet", docs[20:] + [None], column="ids", type=ids)
    cfg = CountConfig(ns=(1, 2, 4), tokenizer="ids", tokens_column="ids", checkpoints_per_decade=30)
    same(count_corpus(tmp_path, cfg), count_batch(tmp_path, cfg))


def test_skipped_shard_in_the_middle(corpus):
    (corpus / "03a.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    cfg = CountConfig(on_error="skip")
    a, b = count_corpus(corpus, cfg), count_batch(corpus, cfg)
    assert b.skipped.shards == 1
    same(a, b)


def test_a_shard_skipped_as_unreadable_is_tried_again_next_run(corpus, tmp_path, monkeypatch):
    """A read error may pass (a network file system, say): its shard is not kept in the state,
    and once it reads, the shards after it are recounted for their HIP estimates."""
    import seqcount.engine.single
    from seqcount.errors import InputError

    tokenized = seqcount.engine.single._tokenized

    def flaky(shard, *args):
        if shard.path.endswith("03a.parquet"):
            raise InputError(f"{shard.path}: Input/output error")
        return tokenized(shard, *args)

    cfg = CountConfig(ns=(1, 4), on_error="skip")
    monkeypatch.setattr(seqcount.engine.single, "_tokenized", flaky)
    first = count_batch(corpus, cfg, state=tmp_path / "st")
    assert first.skipped.shards == 1
    monkeypatch.setattr(seqcount.engine.single, "_tokenized", tokenized)
    events = []
    second = count_batch(corpus, cfg, state=tmp_path / "st", on_event=events.append)
    done = [e["path"] for e in events if e["event"] == "shard_finished"]
    assert done[0].endswith("03a.parquet") and second.skipped.shards == 0
    same(count_corpus(corpus, cfg), second)
    events.clear()
    count_batch(corpus, cfg, state=tmp_path / "st", on_event=events.append)
    assert [e["event"] for e in events].count("shard_reused") == 12


def test_a_new_seqcount_release_counts_anew(corpus, tmp_path, monkeypatch):
    import seqcount.engine.state

    cfg = CountConfig(ns=(1,))
    count_batch(corpus, cfg, state=tmp_path / "st")
    monkeypatch.setattr(seqcount.engine.state, "package_version", lambda: "99.0")
    events = []
    count_batch(corpus, cfg, state=tmp_path / "st", on_event=events.append)
    kinds = [e["event"] for e in events]
    assert kinds.count("shard_finished") == 12 and "shard_reused" not in kinds
    assert any("seqcount changed (" in e.get("message", "") and "-> 99.0)" in e["message"]
               for e in events)  # fmt: skip


def test_jobs_two_equals_jobs_one(corpus):
    cfg = CountConfig(ns=(1, 2, 8))
    same(count_batch(corpus, cfg, jobs=1), count_batch(corpus, cfg, jobs=2))


def test_exact_and_near_dup_are_refused(corpus):
    with pytest.raises(ConfigError, match="exact needs one sequential pass"):
        count_batch(corpus, CountConfig(exact=True))
    with pytest.raises(ConfigError, match="near_dup compares every document"):
        count_batch(corpus, CountConfig(near_dup=0.8), jobs=2)


def test_rerun_reuses_every_shard(corpus, tmp_path):
    cfg = CountConfig(ns=(1, 4))
    events = []
    first = count_batch(corpus, cfg, state=tmp_path / "st")
    again = count_batch(corpus, cfg, state=tmp_path / "st", on_event=events.append)
    same(first, again)
    kinds = [e["event"] for e in events]
    assert kinds.count("shard_reused") == 12 and "shard_finished" not in kinds


def test_a_rerun_under_another_spelling_of_the_paths(corpus, tmp_path, monkeypatch):
    cfg = CountConfig(ns=(1, 4))
    count_batch(corpus, cfg, state=tmp_path / "st")
    index = json.loads((tmp_path / "st" / "state.json").read_text())
    assert all(os.path.isabs(s["path"]) for s in index["shards"])
    monkeypatch.chdir(corpus.parent)
    events = []
    again = count_batch("corpus", cfg, state=tmp_path / "st", on_event=events.append)
    kinds = [e["event"] for e in events]
    assert kinds.count("shard_reused") == 12 and "message" not in kinds
    plain = count_corpus("corpus", cfg)
    same(plain, again)  # summary paths as this run names them
    assert [s.path for s in again.shards] == [os.path.join("corpus", p.name)
                                              for p in sorted(corpus.iterdir())]  # fmt: skip


def test_incremental_run_equals_a_fresh_run(corpus, tmp_path):
    cfg = CountConfig(ns=(1, 2, 8))
    later = tmp_path / "later"
    later.mkdir()
    for name in ("04a.parquet", "04b.parquet", "05a.parquet", "05b.parquet"):
        shutil.move(corpus / name, later / name)
    count_batch(corpus, cfg, state=tmp_path / "st")
    for f in later.iterdir():  # the corpus grows by four shards, appended in path order
        shutil.move(f, corpus / f.name)
    events = []
    grown = count_batch(corpus, cfg, state=tmp_path / "st", on_event=events.append)
    kinds = [e["event"] for e in events if e["event"] in ("shard_reused", "shard_finished")]
    assert kinds == ["shard_reused"] * 8 + ["shard_finished"] * 4
    same(count_corpus(corpus, cfg), grown)


def test_changed_removed_and_inserted_shards(corpus, tmp_path):
    cfg = CountConfig(ns=(1, 4), checkpoints_per_decade=16)
    count_batch(corpus, cfg, state=tmp_path / "st")
    t = pq.read_table(corpus / "02a.parquet")
    pq.write_table(t.slice(1), corpus / "02a.parquet")  # a document less
    (corpus / "05b.parquet").unlink()
    shutil.copy(AUSTEN[0], corpus / "00-first.parquet")  # shifts every checkpoint
    events = []
    r = count_batch(corpus, cfg, state=tmp_path / "st", on_event=events.append)
    messages = " | ".join(e["message"] for e in events if e["event"] == "message")
    assert "02a.parquet: changed since the last run" in messages
    assert "05b.parquet: removed since the last run" in messages
    assert "a checkpoint moved into this shard" in messages
    same(count_corpus(corpus, cfg), r)
    assert len(os.listdir(tmp_path / "st" / "shards")) == 12  # no stale files left


def test_a_change_before_later_shards_recounts_them_for_hip(corpus, tmp_path):
    """A shard edited in place (same token count, so no checkpoint moves) changes the running
    HIP estimates of every later shard: those without a log are counted again, and the result
    (unique_hip included) equals a fresh run."""
    cfg = CountConfig(ns=(1, 3), checkpoints_per_decade=1)
    count_batch(corpus, cfg, state=tmp_path / "st")
    t = pq.read_table(corpus / "03a.parquet")
    text = t.column("text").to_pylist()
    text[0] = text[0].replace(" the ", " thy ", 1)
    assert text[0] != t.column("text")[0].as_py()
    pq.write_table(t.set_column(t.schema.get_field_index("text"), "text", pa.array(text)),
                   corpus / "03a.parquet")  # fmt: skip
    events = []
    r = count_batch(corpus, cfg, state=tmp_path / "st", on_event=events.append)
    messages = [e["message"] for e in events if e["event"] == "message"]
    assert any("03a.parquet: changed since the last run" in m for m in messages)
    assert any("the shards before it changed" in m for m in messages)
    kinds = [e["event"] for e in events if e["event"] in ("shard_reused", "shard_finished")]
    assert kinds[:6] == ["shard_reused"] * 6 and kinds[6] == "shard_finished"
    assert all(r.unique_hip is not None for r in r.rows)
    same(count_corpus(corpus, cfg), r)
    again = []  # and the next run reuses everything
    count_batch(corpus, cfg, state=tmp_path / "st", on_event=again.append)
    assert [e["event"] for e in again].count("shard_reused") == 12


def test_content_hash_sees_a_change_that_keeps_size_and_mtime(tmp_path):
    f = write_parquet(tmp_path / "c" / "a.parquet", ["alpha beta gamma"])
    st = os.stat(f)
    cfg = CountConfig(ns=(1,))
    count_batch(f.parent, cfg, state=tmp_path / "st", content_hash=True)
    data = f.read_bytes().replace(b"alpha", b"omega")
    f.write_bytes(data)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    events = []
    r = count_batch(f.parent, cfg, state=tmp_path / "st", content_hash=True,
                    on_event=events.append)  # fmt: skip
    done = [e["event"] for e in events if e["event"] in ("shard_reused", "shard_finished")]
    assert done == ["shard_finished"]
    same(count_corpus(f.parent, cfg), r)


def _state_files(state):
    return sorted((state / "shards").glob("*.npz"))


def test_corrupt_state_file_is_detected_and_repaired(corpus, tmp_path):
    cfg = CountConfig(ns=(1, 2))
    state = tmp_path / "st"
    count_batch(corpus, cfg, state=state)
    victim = _state_files(state)[3]
    victim.write_bytes(victim.read_bytes()[:1000])  # truncated
    with pytest.raises(StateError, match="corrupt state file"):
        count_batch(corpus, cfg, state=state)
    r = run("count", corpus, "--n", "1,2", "--state", state, "--out", tmp_path / "o", "-q")
    assert r.exit_code == 1 and r.stderr.startswith("Error: ") and "--repair" not in r.stdout
    assert "corrupt state file" in r.stderr and r.stderr.strip().count("\n") == 0
    assert "--repair recounts its shard" in r.stderr
    events = []
    fixed = count_batch(corpus, cfg, state=state, repair=True, on_event=events.append)
    assert any("recounting (--repair)" in e.get("message", "") for e in events)
    same(count_corpus(corpus, cfg), fixed)


def test_tampered_state_file_fails_its_checksum(corpus, tmp_path):
    cfg = CountConfig(ns=(1,))
    state = tmp_path / "st"
    count_batch(corpus, cfg, state=state)
    victim = _state_files(state)[0]
    with np.load(victim) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["regs"] = arrays["regs"].copy()
    arrays["regs"][0, 0] += 1
    np.savez(victim, **arrays)  # a well-formed file whose registers were changed
    with pytest.raises(StateError, match="checksum"):
        count_batch(corpus, cfg, state=state)


def test_foreign_state_directory(tmp_path):
    state = tmp_path / "st"
    state.mkdir()
    (state / "state.json").write_text(json.dumps({"format": "something-else", "version": 1}))
    with pytest.raises(StateError, match="not a seqcount state"):
        count_batch(AUSTEN[0], CountConfig(ns=(1,)), state=state)


@pytest.mark.parametrize("make", ["shards file", "lock dir"])
def test_a_state_directory_of_the_wrong_shape(tmp_path, make):
    state = tmp_path / "st"
    state.mkdir()
    name, kind = make.split()
    (state / name).mkdir() if kind == "dir" else (state / name).write_text("")
    r = run("count", AUSTEN[0], "--n", "1", "--state", state, "--out", tmp_path / "o")
    assert r.exit_code == 1 and isinstance(r.exception, (SystemExit, type(None)))
    assert r.stderr.startswith("Error: ") and "not a seqcount state directory" in r.stderr


def test_a_first_run_killed_while_writing_its_index_resumes(tmp_path):
    state = tmp_path / "st"
    state.mkdir()
    (state / "lock").write_text("12345")
    (state / ".tmp-state.json-abc").write_text('{"form')  # the index being written
    r = count_batch(AUSTEN[0], CountConfig(ns=(1,)), state=state)
    assert r.documents > 0 and not list(state.glob(".tmp-*"))


def test_a_full_disk_is_a_one_line_error(tmp_path, monkeypatch):
    import seqcount.engine.state

    def full(path, write):
        raise OSError(28, "No space left on device")

    count_batch(AUSTEN[0], CountConfig(ns=(1,)), state=tmp_path / "st")
    monkeypatch.setattr(seqcount.engine.state, "atomic_write", full)
    r = run("count", AUSTEN[1], "--n", "1", "--state", tmp_path / "st", "--out", tmp_path / "o",
            "-q")  # fmt: skip
    assert r.exit_code == 1 and isinstance(r.exception, (SystemExit, type(None)))
    assert r.stderr.startswith("Error: ") and "No space left on device" in r.stderr
    assert str(tmp_path / "st") in r.stderr and r.stderr.count("\n") == 1


def test_a_state_directory_inside_the_corpus_is_left_out(corpus):
    cfg = CountConfig(ns=(1,))
    count_batch(corpus, cfg, state=corpus / "st")
    (corpus / "st" / "kept.parquet").write_bytes((corpus / "00a.parquet").read_bytes())
    r = count_batch(corpus, cfg, state=corpus / "st")
    assert len(r.shards) == 12 and not any("st" in s.path.split(os.sep) for s in r.shards)


def test_a_dead_worker_is_a_one_line_error():
    from seqcount.engine.executors import Executor as _Engine
    from seqcount.errors import WorkerError
    from seqcount.io import Shard

    engine = _Engine(jobs=2)
    try:
        future = engine.pool.submit(os._exit, 9)  # the worker process dies
        with pytest.raises(WorkerError, match=r"^x\.parquet: a worker died while counting"):
            engine.result(future, Shard("x.parquet", 1, "parquet", None))
    finally:
        engine.close()


def test_second_job_on_the_same_state_refuses(tmp_path):
    cfg = CountConfig(ns=(1,))
    with StateDir(tmp_path / "st", cfg):
        with pytest.raises(StateError, match="another seqcount job"):
            count_batch(AUSTEN[0], cfg, state=tmp_path / "st")
        r = run("count", AUSTEN[0], "--n", "1", "--state", tmp_path / "st", "--out",
                tmp_path / "o")  # fmt: skip
        assert r.exit_code == 1 and f"(pid {os.getpid()})" in r.stderr
    count_batch(AUSTEN[0], cfg, state=tmp_path / "st")  # released


def _cli(*args):
    return [sys.executable, "-m", "seqcount", *map(str, args)]


@pytest.mark.slow
def test_killed_job_resumes_to_identical_output(corpus, tmp_path):
    """kill -9 at several points (during the first shard, after some shards, near the end),
    then resume: the outputs equal those of an uninterrupted run, byte for byte."""
    args = ["count", corpus, "--n", "1,2,8", "-q"]
    ref = tmp_path / "ref"
    subprocess.run(_cli(*args, "--out", ref), check=True, timeout=600)
    want = output_files(ref)
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    for k, wait_files in enumerate([0, 3, 9, 12]):
        state, out = tmp_path / f"st{k}", tmp_path / f"out{k}"
        proc = subprocess.Popen(_cli(*args, "--state", state, "--out", out), env=env)
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None:
            shards = state / "shards"
            n = len(list(shards.glob("*.npz"))) if shards.exists() else 0
            if n >= wait_files and (wait_files or shards.exists()):
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        done = subprocess.run(_cli(*args, "--state", state, "--out", out), env=env, timeout=600)
        assert done.returncode == 0
        assert output_files(out) == want, f"kill point {k}"
        assert not list(state.rglob(".tmp-*"))


@pytest.mark.slow
def test_dask_local_cluster_equals_the_local_run(corpus):
    pytest.importorskip("distributed")
    cfg = CountConfig(ns=(1, 4))
    same(count_corpus(corpus, cfg), count_batch(corpus, cfg, engine="dask", jobs=2))


def test_cli_batch_outputs_equal_the_plain_run(corpus, tmp_path):
    assert run("count", corpus, "--n", "1,8", "--out", tmp_path / "a", "-q").exit_code == 0
    r = run("count", corpus, "--n", "1,8", "--out", tmp_path / "b", "--state", tmp_path / "st")
    assert r.exit_code == 0, r.output
    assert "[12/12] counted" in r.stderr
    assert output_files(tmp_path / "a") == output_files(tmp_path / "b")


def test_json_log_events(corpus, tmp_path):
    r = run("count", corpus, "--n", "1,4", "--state", tmp_path / "st", "--out", tmp_path / "o",
            "--log-format", "json")  # fmt: skip
    assert r.exit_code == 0
    events = [json.loads(line) for line in r.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "summary"
    assert kinds.count("shard_finished") == 12 and "checkpoint" in kinds
    assert kinds.count("shard_started") == 12
    assert events[-1]["exit_code"] == 0 and events[-1]["tokens"] == 873_710
    r = run("count", tmp_path / "missing", "--out", tmp_path / "o", "--log-format", "json")
    assert r.exit_code == 1
    assert json.loads(r.stdout.splitlines()[-1])["event"] == "error"


@pytest.mark.parametrize("batch", [[], ["--jobs", "2"]], ids=["plain", "jobs"])
def test_json_log_of_a_run_with_a_skipped_shard(corpus, tmp_path, batch):
    """A plain run logs the same events as a batch run (the README's schema), and the shard
    skipped as unreadable says so in its ``shard_finished``."""
    (corpus / "07.parquet").write_bytes(b"garbage")
    r = run("count", corpus, "--n", "2", "--out", tmp_path / "o", "--log-format", "json",
            "--on-error", "skip", *batch)  # fmt: skip
    assert r.exit_code == 3
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert events[0]["event"] == "start" and events[0]["shards"] == 13
    assert events[0]["engine"] == "local"  # the --engine value
    assert events[-1]["event"] == "summary" and events[-1]["skipped_shards"] == 1
    assert events[-1]["exit_code"] == 3
    started = [e for e in events if e["event"] == "shard_started"]
    finished = [e for e in events if e["event"] == "shard_finished"]
    assert [e["shard"] for e in finished] == list(range(13))
    assert {e["path"] for e in started} == {e["path"] for e in finished}
    assert sum(e["tokens"] for e in finished) == events[-1]["tokens"] == 873_710
    bad = [e for e in finished if "error" in e]
    assert len(bad) == 1 and bad[0]["path"].endswith("07.parquet")
    assert bad[0]["documents"] == 0 and "Parquet" in bad[0]["error"]
    if batch:  # the text log says it was skipped, not counted
        r = run("count", corpus, "--n", "2", "--out", tmp_path / "t", "--on-error", "skip",
                *batch)  # fmt: skip
        assert r.exit_code == 3
        assert "skipped " + str(corpus / "07.parquet") in r.stderr


@pytest.mark.parametrize("state", [False, True], ids=["plain", "state"])
@pytest.mark.parametrize("flag", ["--jobs", "--threads"])
def test_jobs_and_threads_below_one_are_refused(corpus, tmp_path, state, flag):
    extra = ["--state", tmp_path / "st"] if state else []
    r = run("count", corpus, flag, "0", "--out", tmp_path / "o", *extra)
    assert r.exit_code == 2 and f"{flag} must be at least 1, got 0" in r.output
    assert not (tmp_path / "o").exists()


def test_config_file_and_flags_override_it(corpus, tmp_path, monkeypatch):
    cfg = tmp_path / "job.toml"
    cfg.write_text(
        f'[count]\npaths = ["{corpus}"]\nn = [1, 2]\nout = "{tmp_path / "from-config"}"\n'
        f'state = "{tmp_path / "st"}"\nquiet = true\n'
    )
    r = run("count", "--config", cfg)
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "from-config" / "summary.json").read_text())
    assert s["options"]["ns"] == [1, 2]
    r = run("count", "--config", cfg, "--n", "4", "--out", tmp_path / "flag")
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "flag" / "summary.json").read_text())["options"]["ns"] == [4]
    monkeypatch.chdir(tmp_path)  # ./seqcount.toml is read without --config
    (tmp_path / "seqcount.toml").write_text(cfg.read_text().replace("[1, 2]", "[8]"))
    assert run("count").exit_code == 0
    s = json.loads((tmp_path / "from-config" / "summary.json").read_text())
    assert s["options"]["ns"] == [8]
    (tmp_path / "seqcount.toml").write_text("[count]\njobz = 3\n")
    r = run("count", corpus)
    assert r.exit_code == 2 and "unknown option 'jobz'" in r.stderr
    (tmp_path / "seqcount.toml").write_text("[count\n")
    r = run("count", corpus)
    assert r.exit_code == 2 and "not valid TOML" in r.stderr


# --------------------------------------------------------------------------- merge


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    """Four outputs of disjoint two-shard corpora, and the output of all eight shards."""
    root = tmp_path_factory.mktemp("parts")
    cfg = CountConfig(ns=(1, 4))
    outs = []
    shards = []
    for i, f in enumerate(AUSTEN[:4]):
        t = pq.read_table(f)
        d = root / f"c{i}"
        d.mkdir()
        pq.write_table(t.slice(0, 10), d / "x.parquet")
        pq.write_table(t.slice(10, 10), d / "y.parquet")
        shards += [d / "x.parquet", d / "y.parquet"]
        write_outputs(count_corpus(d, cfg), root / f"o{i}")
        outs.append(root / f"o{i}")
    return root, outs, count_corpus(shards, cfg)


def _merged(root, inputs, name):
    out = root / name
    r = run("merge", *inputs, "--out", out, "-q")
    assert r.exit_code == 0, r.output
    return out


def _sk(out):
    from seqcount.sketches import load_sketches

    return load_sketches(out / "sketches.npz")


def test_merge_equals_counting_the_union(parts):
    root, outs, whole = parts
    m = _sk(_merged(root, outs, "m-all"))
    assert all(x == y for x, y in zip(m.hll, whole.sketches.hll))
    assert m.minhash == whole.sketches.minhash
    assert m.shard_paths == sorted(whole.sketches.shard_paths)


def test_merge_is_associative_and_order_free(parts):
    from conftest import hyp_settings
    from hypothesis import given
    from hypothesis import strategies as st

    root, outs, _ = parts
    ref = output_files(_merged(root, outs, "ref"))
    counter = iter(range(10_000))

    @given(st.permutations(range(4)), st.integers(1, 3))
    @hyp_settings(8)
    def check(order, cut):
        k = next(counter)
        left = _merged(root, [outs[i] for i in order[:cut]], f"l{k}")
        right = [outs[i] for i in order[cut:]]
        both = _merged(root, [left, *right], f"b{k}")
        got = output_files(both)
        assert got["curve"] == ref["curve"] and got["sketches"] == ref["sketches"]
        for key in ("totals", "inputs", "skipped"):
            assert got["summary"][key] == ref["summary"][key]

    check()


def test_merge_says_what_it_merged(parts):
    """A merged output records its inputs and start time (under run), its table says it was
    merged (no meaningless speed), and report explains why it has no curve to fit."""
    root, outs, _ = parts
    out = root / "m-said"
    r = run("merge", *outs[:2], "--out", out)
    assert r.exit_code == 0, r.output
    assert "merged from 2 output(s)" in r.stdout and "tokens/s" not in r.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["merged_from"] == [str(o) for o in outs[:2]]
    assert summary["run"]["started"].startswith("20")
    r = run("report", out, "--no-plots")
    assert r.exit_code == 1 and "a merged output has one point per n" in r.stderr


def test_merge_refuses_overlap_and_other_options(parts, tmp_path):
    root, outs, _ = parts
    r = run("merge", outs[0], outs[0], "--out", tmp_path / "m")
    assert r.exit_code == 1 and "merge needs disjoint corpora" in r.stderr
    write_outputs(count_corpus(AUSTEN[5], CountConfig(ns=(1, 4), seed=3)), tmp_path / "s3")
    r = run("merge", outs[0], tmp_path / "s3", "--out", tmp_path / "m")
    assert r.exit_code == 1 and "seed" in r.stderr
    r = run("merge", outs[0], tmp_path / "nothing", "--out", tmp_path / "m")
    assert r.exit_code == 1 and "missing" in r.stderr


def test_merge_sees_overlap_under_another_spelling(parts, tmp_path, monkeypatch):
    root, outs, _ = parts
    monkeypatch.chdir(root)
    write_outputs(count_corpus("c1", CountConfig(ns=(1, 4))), tmp_path / "rel")
    r = run("merge", outs[1], tmp_path / "rel", "--out", tmp_path / "m")
    assert r.exit_code == 1 and "merge needs disjoint corpora" in r.stderr, r.output


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s.pop("inputs"),
        lambda s: s["inputs"]["shards"][0].pop("path"),
        lambda s: s["options"].update(colour="blue"),
    ],
)
def test_merge_of_a_damaged_summary_is_a_one_line_error(parts, tmp_path, edit):
    root, outs, _ = parts
    bad = tmp_path / "bad"
    shutil.copytree(outs[0], bad)
    s = json.loads((bad / "summary.json").read_text())
    edit(s)
    (bad / "summary.json").write_text(json.dumps(s))
    r = run("merge", bad, outs[1], "--out", tmp_path / "m")
    assert r.exit_code == 1 and isinstance(r.exception, (SystemExit, type(None)))
    assert r.stderr.startswith("Error: ") and str(bad) in r.stderr, r.output
