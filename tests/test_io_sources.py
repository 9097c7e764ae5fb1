"""seqcount.io: in-memory sources, the formats registry, files that are not data, forced
formats, damaged gzip members, and what an empty discovery says."""

from __future__ import annotations

import gzip
import json
import random
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import DATA

import seqcount.io.decoded as decoded
from seqcount.api import count_corpus as count_paths
from seqcount.api import find_inputs
from seqcount.cli import cli
from seqcount.config import FORMATS, CountConfig
from seqcount.engine.single import count_corpus
from seqcount.errors import InputError, SchemaError
from seqcount.io import READERS, inputs_from_memory

TEXTS = [f"the cat {i % 7} sat on the mat {i % 3} and the dog {i}" for i in range(300)]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


# --------------------------------------------------------------------------- in memory


def test_table_counts_like_the_same_table_in_parquet(tmp_path):
    table = pa.table({"text": [*TEXTS, None, ""]})
    pq.write_table(table, tmp_path / "t.parquet")
    config = CountConfig(ns=(1, 2, 4), exact=True, batch_rows=50)
    from_memory = count_corpus(inputs_from_memory(table), config)
    from_file = count_paths([str(tmp_path / "t.parquet")], config)
    assert from_memory.rows == from_file.rows
    assert (from_memory.documents, from_memory.tokens) == (from_file.documents, from_file.tokens)
    assert from_memory.documents == len(TEXTS) + 2


def test_ids_table_counts_like_parquet(tmp_path):
    ids = [[i % 11, i % 5, i, 7] for i in range(400)] + [None]
    table = pa.table({"tokens": pa.array(ids, pa.list_(pa.int32()))})
    pq.write_table(table, tmp_path / "t.parquet")
    config = CountConfig(ns=(1, 3), exact=True, tokenizer="ids", tokens_column="tokens")
    from_memory = count_corpus(inputs_from_memory(table, column="tokens"), config)
    from_file = count_paths([str(tmp_path / "t.parquet")], config)
    assert from_memory.rows == from_file.rows and from_memory.tokens == 4 * 400


def test_strings_count_like_a_table(tmp_path):
    config = CountConfig(ns=(1, 3), exact=True, batch_rows=64)
    want = count_corpus(inputs_from_memory(pa.table({"text": TEXTS})), config)
    for source in (TEXTS, (t for t in TEXTS)):
        got = count_corpus(inputs_from_memory(source), config)
        assert got.rows == want.rows and got.documents == len(TEXTS)
        assert [s.path for s in got.shards] == ["<strings>"]


def test_memory_sources_go_through_the_column_checks():
    with pytest.raises(SchemaError, match="no column 'text'"):
        count_corpus(inputs_from_memory(pa.table({"body": TEXTS})), CountConfig(ns=(1,)))
    with pytest.raises(SchemaError, match="pre-tokenized"):
        table = pa.table({"text": pa.array([[1, 2]], pa.list_(pa.int64()))})
        count_corpus(inputs_from_memory(table), CountConfig(ns=(1,)))
    with pytest.raises(InputError, match="<strings>: line 2: expected a string, got int"):
        count_corpus(inputs_from_memory(["a b", 3]), CountConfig(ns=(1,)))
    skipped = count_corpus(inputs_from_memory(["a b", 3]), CountConfig(ns=(1,), on_error="skip"))
    assert skipped.documents == 1 and skipped.skipped.rows == 1
    with pytest.raises(TypeError, match="single string"):
        inputs_from_memory("data/austen")


def test_an_iterator_is_read_once():
    inputs = inputs_from_memory(iter(TEXTS))
    count_corpus(inputs, CountConfig(ns=(1,)))
    with pytest.raises(InputError, match="read only once"):
        count_corpus(inputs, CountConfig(ns=(1,)))


def test_registry_names_the_config_formats_and_table():
    assert list(READERS) == [*FORMATS, "table"]
    assert all(reader.name == name for name, reader in READERS.items())


# --------------------------------------------------------------------------- discovery


def test_known_metadata_files_are_left_out_quietly(tmp_path):
    pq.write_table(pa.table({"text": TEXTS}), tmp_path / "data-00000-of-00001.parquet")
    quiet = ["README.md", "LICENSE", "COPYING.txt", "dataset_info.json", "state.json"]
    quiet += ["notes.md", "SHA256SUMS", "x.parquet.sha256", "x.md5", "train.idx"]
    for name in quiet:
        (tmp_path / name).write_text("{}\n")
    (tmp_path / "data.csv").write_text("text\nx\n")
    (tmp_path / "other.json").write_text(json.dumps({"text": "a b"}) + "\n")
    inputs = find_inputs([str(tmp_path)])
    assert inputs.metadata == sorted(str(tmp_path / n) for n in quiet)
    assert inputs.ignored == [str(tmp_path / "data.csv")]
    assert [s.path for s in inputs.shards] == [
        str(tmp_path / "data-00000-of-00001.parquet"),
        str(tmp_path / "other.json"),  # a .json file other than those two is JSON Lines
    ]
    r = run("count", tmp_path, "--out", tmp_path.parent / (tmp_path.name + "-out"))
    assert r.exit_code == 0, r.output
    assert "README" not in r.output and "note: 1 file(s) of unknown format skipped" in r.output
    summary = json.loads((tmp_path.parent / (tmp_path.name + "-out") / "summary.json").read_text())
    assert summary["inputs"]["metadata"] == inputs.metadata  # counted, not lost


def test_data_readme_is_metadata():
    inputs = find_inputs([str(DATA)])
    assert inputs.ignored == [] and inputs.metadata == [str(DATA / "README.md")]


@pytest.mark.parametrize("forced", ["txt", "jsonl"])
def test_forced_stream_format_refuses_columnar_files(tmp_path, forced):
    table = pa.table({"text": TEXTS})
    pq.write_table(table, tmp_path / "a.data")
    with pa.ipc.new_file(tmp_path / "b.data", table.schema) as w:
        w.write_table(table)
    want = "text" if forced == "txt" else "JSON Lines"
    for name, what in (("a.data", "Parquet (magic PAR1)"), ("b.data", "Arrow IPC (magic ARROW1)")):
        r = run("count", tmp_path / name, "--format", forced, "--out", tmp_path / "o")
        assert r.exit_code == 1, r.output
        err = r.stderr.strip()
        assert "\n" not in err and err.startswith("Error: ")
        assert f"{tmp_path / name}: looks like {what}, not {want}" in err


def test_empty_discovery_says_what_was_skipped(tmp_path):
    corpus = tmp_path / "dcopy"
    corpus.mkdir()
    shutil.copy(DATA / "austen" / "04-northangerabbey.parquet", tmp_path / "a.parquet")
    r = run("count", tmp_path / "a.parquet", "-q", "--out", corpus / "austen")
    assert r.exit_code == 0, r.output
    (corpus / "notes.csv").write_text("x")
    r = run("count", corpus, "--out", tmp_path / "o")
    assert r.exit_code == 1
    err = r.stderr.strip()
    assert "\n" not in err
    skipped = f"(skipped {corpus / 'austen'}/: a seqcount output directory; "
    assert f"{corpus}: no input shards found {skipped}" in err
    assert f"{corpus / 'notes.csv'}: unknown format" in err


# --------------------------------------------------------------------------- gzip members


def _big_texts(n: int = 30_000) -> list[str]:
    """Lines enough for members of over 0.5 MiB each (the old reader counted the bytes of such
    a member decoded before its checksum failed)."""
    rng = random.Random(1)
    return [" ".join(str(rng.randrange(10**6)) for _ in range(12)) for _ in range(n)]


def _members(data: bytes, parts: int = 4) -> list[bytes]:
    step = len(data) // parts + 1
    return [gzip.compress(data[i : i + step]) for i in range(0, len(data), step)]


def _bad_crc(member: bytes) -> bytes:
    """The member with its CRC-32 (the trailer's first 4 bytes) changed: it decodes to the
    end, then fails its checksum."""
    crc = bytearray(member[-8:-4])
    crc[0] ^= 0xFF
    return member[:-8] + bytes(crc) + member[-4:]


@pytest.mark.parametrize("hold", [decoded.HOLD_BYTES, 1000])
@pytest.mark.parametrize("kind", ["jsonl", "txt"])
def test_a_damaged_gzip_member_never_changes_the_counts(tmp_path, monkeypatch, hold, kind):
    """The members before a damaged one count as if the file ended there; the damaged one
    adds nothing (also when a member is too large to hold and is decoded twice)."""
    monkeypatch.setattr(decoded, "HOLD_BYTES", hold)
    texts = _big_texts()
    if kind == "jsonl":
        data = "".join(json.dumps({"text": t}) + "\n" for t in texts).encode()
    else:
        data = "\n".join(texts).encode()
    members = _members(data)
    good = tmp_path / f"good.{kind}.gz"
    good.write_bytes(b"".join(members))
    bad = tmp_path / f"bad.{kind}.gz"
    bad.write_bytes(members[0] + _bad_crc(members[1]) + members[2] + members[3])
    ref = tmp_path / f"ref.{kind}"
    before = gzip.decompress(members[0])
    ref.write_bytes(before[: before.rfind(b"\n") + 1] if kind == "jsonl" else before)
    cfg = dict(ns=(1, 3), exact=True, txt_documents="lines")
    plain = tmp_path / f"plain.{kind}"
    plain.write_bytes(data)
    whole = count_paths([str(good)], CountConfig(**cfg))
    assert whole.rows == count_paths([str(plain)], CountConfig(**cfg)).rows
    with pytest.raises(InputError, match="corrupt or truncated gzip data"):
        count_paths([str(bad)], CountConfig(**cfg))
    r = count_paths([str(bad)], CountConfig(on_error="skip", **cfg))
    assert r.skipped.shards == 1
    want = count_paths([str(ref)], CountConfig(**cfg))
    assert (r.rows, r.documents, r.tokens) == (want.rows, want.documents, want.tokens)


def test_zero_padding_after_the_last_member_is_allowed(tmp_path):
    data = "\n".join(TEXTS).encode()
    f = tmp_path / "padded.txt.gz"
    f.write_bytes(b"".join(_members(data)) + bytes(1000))
    plain = tmp_path / "plain.txt"
    plain.write_bytes(data)
    cfg = CountConfig(ns=(1, 3), exact=True)
    assert count_paths([str(f)], cfg).rows == count_paths([str(plain)], cfg).rows
