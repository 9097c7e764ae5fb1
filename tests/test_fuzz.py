"""Fuzz ``seqcount count`` with random bytes and mutated shards of every format.

The command must never end in a traceback (an unexpected exception) and never hang: it either
succeeds, fails with a one-line ``Error:`` naming the file, or (``--on-error skip``) finishes
with exit status 3 and the skipped input listed.
"""

from __future__ import annotations

import faulthandler
import gzip
import io
import json

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqcount.cli import cli

DOCS = ["first document, with words", "", "second: ünïcode 猫 🙂", None, "x y z " * 30]


def _zstd(data: bytes) -> bytes:
    buf = pa.BufferOutputStream()
    with pa.CompressedOutputStream(buf, "zstd") as f:
        f.write(data)
    return buf.getvalue().to_pybytes()


def _valid_shards() -> dict[str, bytes]:
    table = pa.table({"text": pa.array(DOCS, pa.string()), "n": list(range(len(DOCS)))})
    out = {}
    b = io.BytesIO()
    pq.write_table(table, b, row_group_size=2)
    out[".parquet"] = b.getvalue()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table, max_chunksize=2)
    out[".arrow"] = sink.getvalue().to_pybytes()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table, max_chunksize=2)
    out[".ipc"] = sink.getvalue().to_pybytes()
    sink = pa.BufferOutputStream()
    feather.write_feather(table, sink, compression="lz4")
    out[".feather"] = sink.getvalue().to_pybytes()
    lines = "".join(json.dumps({"text": d}) + "\n" for d in DOCS).encode()
    out[".jsonl"] = lines
    out[".jsonl.gz"] = gzip.compress(lines)
    out[".jsonl.zst"] = _zstd(lines)
    out[".txt"] = "\n".join(d or "" for d in DOCS).encode()
    return out


VALID = _valid_shards()

mutation = st.tuples(
    st.sampled_from(["flip", "set", "truncate", "insert", "delete"]),
    st.floats(0, 1),
    st.binary(min_size=1, max_size=16),
)


def mutate(data: bytes, ops) -> bytes:
    buf = bytearray(data)
    for op, where, payload in ops:
        i = int(where * len(buf)) if buf else 0
        if op == "flip" and buf:
            i = min(i, len(buf) - 1)
            buf[i] ^= payload[0] or 1
        elif op == "set" and buf:
            buf[i : i + len(payload)] = payload
        elif op == "truncate":
            del buf[i:]
        elif op == "insert":
            buf[i:i] = payload
        elif op == "delete":
            del buf[i : i + payload[0]]
    return bytes(buf)


@pytest.fixture(autouse=True)
def no_hang():
    """Abort the test run with a stack dump if one run of the command hangs."""
    faulthandler.dump_traceback_later(600, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def run_and_check(tmp_path, ext: str, data: bytes, args=()):
    path = tmp_path / f"shard{ext}"
    path.write_bytes(data)
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["count", str(path), "-q", "--n", "1,3", "--out", str(out), *args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise AssertionError(f"unexpected exception for {ext}: {r.exception!r}") from r.exception
    assert "Traceback" not in r.output
    assert r.exit_code in (0, 1, 3), (r.exit_code, r.output)
    if r.exit_code == 1:
        err = r.stderr.strip()
        assert err.startswith("Error: ") and "\n" not in err, err
        assert str(path) in err or "--" in err, err
    if r.exit_code == 3:
        summary = json.loads((out / "summary.json").read_text())
        assert summary["skipped"]["items"], summary["skipped"]
    return r.exit_code


SETTINGS = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(
    ext=st.sampled_from(sorted(VALID)),
    ops=st.lists(mutation, min_size=1, max_size=4),
    skip=st.booleans(),
)
def test_mutated_shards_never_crash(tmp_path_factory, ext, ops, skip):
    tmp = tmp_path_factory.mktemp("fuzz")
    args = ("--on-error", "skip") if skip else ()
    run_and_check(tmp, ext, mutate(VALID[ext], ops), args)


@SETTINGS
@given(ext=st.sampled_from(sorted(VALID)), data=st.binary(max_size=2000))
def test_random_bytes_never_crash(tmp_path_factory, ext, data):
    run_and_check(tmp_path_factory.mktemp("fuzz"), ext, data, ("--on-error", "skip"))


@pytest.mark.parametrize("ext", sorted(VALID))
def test_valid_shards_succeed(tmp_path, ext):
    assert run_and_check(tmp_path, ext, VALID[ext]) == 0
