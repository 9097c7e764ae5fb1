"""Every input format gives the same curve for the same documents; streaming edge cases."""

from __future__ import annotations

import gzip
import json
import random
import re

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from conftest import DATA

from seqcount.api import count_corpus, find_inputs
from seqcount.config import CountConfig
from seqcount.errors import InputError, SchemaError

DOCS = [
    "It is a truth universally acknowledged, that a single man",
    "",
    "naïve café — 猫は「かわいい」！ 🙂👍🏽 x_1 42",
    "one two three one two three one two three",
    "Ünïcödé\tand\u00a0spaces\u2028and more",
    "a",
]
NS = (1, 2, 3, 5)


def _zstd_bytes(data: bytes) -> bytes:
    buf = pa.BufferOutputStream()
    with pa.CompressedOutputStream(buf, "zstd") as f:
        f.write(data)
    return buf.getvalue().to_pybytes()


def write_all_formats(root, docs, column="text"):
    """The same documents as Parquet, Arrow file/stream, Feather, JSONL (.gz, .zst) and txt."""
    table = pa.table({column: pa.array(docs, type=pa.string()), "id": list(range(len(docs)))})
    out = {}
    out["parquet"] = root / "c.parquet"
    pq.write_table(table, out["parquet"], row_group_size=2)
    out["arrow-file"] = root / "c.arrow"
    with pa.ipc.new_file(out["arrow-file"], table.schema) as w:
        for batch in table.to_batches(max_chunksize=3):
            w.write_batch(batch)
    out["arrow-stream"] = root / "c.ipc"
    with pa.ipc.new_stream(out["arrow-stream"], table.schema) as w:
        w.write_table(table, max_chunksize=2)
    out["feather"] = root / "c.feather"
    feather.write_feather(table, out["feather"], compression="zstd")
    lines = "".join(json.dumps({"id": i, column: d}) + "\n" for i, d in enumerate(docs)).encode()
    out["jsonl"] = root / "c.jsonl"
    out["jsonl"].write_bytes(lines)
    out["jsonl.gz"] = root / "c.jsonl.gz"
    out["jsonl.gz"].write_bytes(gzip.compress(lines))
    out["jsonl.zst"] = root / "c.jsonl.zst"
    out["jsonl.zst"].write_bytes(_zstd_bytes(lines))
    txt = root / "txt"
    txt.mkdir()
    for i, d in enumerate(docs):
        (txt / f"{i:04d}.txt").write_text(d, encoding="utf-8")
    out["txt"] = txt
    if not any("\n" in d or "\r" in d for d in docs):
        out["txt-lines"] = root / "lines.txt"
        out["txt-lines"].write_bytes(("\n".join(docs) + "\n").encode())
        out["txt-lines.gz"] = root / "lines.txt.gz"
        out["txt-lines.gz"].write_bytes(gzip.compress(("\r\n".join(docs)).encode()))
    return out


def _curve(path, **kw):
    cfg = dict(ns=NS, exact=True, checkpoints_per_decade=4)
    cfg.update(kw)
    if "lines" in str(path):
        cfg["txt_documents"] = "lines"
    r = count_corpus([str(path)], CountConfig(**cfg))
    return r.rows, [h.reg.tobytes() for h in r.sketches.hll], r.documents


@pytest.mark.parametrize("tokenizer", ["words", "bytes"])
def test_every_format_gives_the_same_curve(tmp_path, tokenizer):
    paths = write_all_formats(tmp_path, DOCS)
    assert len(paths) == 10
    expected = _curve(paths["parquet"], tokenizer=tokenizer)
    assert expected[2] == len(DOCS)
    for name, path in paths.items():
        assert _curve(path, tokenizer=tokenizer) == expected, name


def test_formats_agree_on_the_sample_with_small_pieces(tmp_path):
    docs = pq.read_table(DATA / "austen" / "04-northangerabbey.parquet")["text"].to_pylist()
    paths = write_all_formats(tmp_path, docs)
    expected = _curve(paths["parquet"], ns=(1, 4, 16))
    for name in ("arrow-file", "jsonl.zst", "txt"):
        # small chunks: long documents and text files are streamed in pieces
        got = _curve(paths[name], ns=(1, 4, 16), chunk_bytes=1000)
        assert got == expected, name


def test_ids_formats_agree(tmp_path):
    ids = [[1, 2, 3, 1, 2], [], [2**64 - 1, 5, 2**64 - 1, 5], [-3, 7, -3, 7]]
    as_u64 = [[x % 2**64 for x in d] for d in ids]
    pq.write_table(pa.table({"ids": pa.array(as_u64, pa.list_(pa.uint64()))}), tmp_path / "a.pq")
    with pa.ipc.new_file(
        tmp_path / "a.arrow", pa.schema([("ids", pa.large_list(pa.uint64()))])
    ) as w:
        w.write_table(pa.table({"ids": pa.array(as_u64, pa.large_list(pa.uint64()))}))
    (tmp_path / "a.jsonl").write_text("".join(json.dumps({"ids": d}) + "\n" for d in ids))
    cfg = dict(tokenizer="ids", tokens_column="ids")
    runs = [_curve(tmp_path / f, **cfg) for f in ("a.pq", "a.arrow", "a.jsonl")]
    assert runs[0] == runs[1] == runs[2]


def test_long_text_file_streamed_in_blocks(tmp_path):
    text = ("Alpha beta, gamma! 猫 " * 5000 + "tail") * 3
    f = tmp_path / "big.txt"
    f.write_text(text, encoding="utf-8")
    whole = count_corpus([str(f)], CountConfig(ns=(1, 2, 8), exact=True))
    streamed = count_corpus([str(f)], CountConfig(ns=(1, 2, 8), exact=True, chunk_bytes=4096))
    assert streamed.rows == whole.rows
    assert whole.documents == 1
    assert whole.tokens == len(re.findall(r"\w+|[^\w\s]", text))


def test_text_lines_with_long_lines_and_crlf(tmp_path):
    lines = ["short", "", "x " * 10000, "last line no newline"]
    f = tmp_path / "l.txt"
    f.write_bytes("\r\n".join(lines).encode())
    cfg = dict(ns=(1, 2), exact=True, txt_documents="lines", tokenizer="bytes")
    got = count_corpus([str(f)], CountConfig(chunk_bytes=1000, **cfg))
    pq.write_table(pa.table({"text": lines}), tmp_path / "l.parquet")
    ref = count_corpus([str(tmp_path / "l.parquet")], CountConfig(**cfg))
    assert got.documents == 4
    assert got.rows == ref.rows


def test_jsonl_nulls_blank_lines_and_invalid_utf8(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_bytes(b'{"text": "a b"}\n\n{"text": null}\n{"text": "caf\xc3 \xff ok"}\n')
    r = count_corpus([str(f)], CountConfig(ns=(1,), exact=True))
    assert (r.documents, r.null_documents, r.invalid_utf8) == (3, 1, 2)
    assert r.tokens == 2 + len(
        re.findall(r"\w+|[^\w\s]", b"caf\xc3 \xff ok".decode("utf-8", "replace"))
    )


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"text": "ok"}\n{"text": oops}\n', "line 2: malformed JSON"),
        (b'{"text": "ok"}\n[1, 2]\n', "line 2: expected a JSON object, got a list"),
        (b'{"text": "ok"}\n{"text": 5}\n', "line 2: field 'text' is a number, expected a string"),
        (b'{"text": "ok"}\n{"body": "x"}\n', "line 2: no field 'text'"),
        (b'{"body": "x"}\n', "line 1: no field 'text' (fields: body)"),
    ],
)
def test_jsonl_bad_rows_fail_or_skip(tmp_path, content, message):
    f = tmp_path / "bad.jsonl"
    f.write_bytes(content)
    with pytest.raises(InputError, match=re.escape(message)) as e:
        count_corpus([str(f)], CountConfig(ns=(1,)))
    assert str(f) in str(e.value)
    if "line 1" in message:  # a missing column is a schema error: the shard is skipped
        assert isinstance(e.value, SchemaError)
    r = count_corpus([str(f)], CountConfig(ns=(1,), on_error="skip"))
    assert r.skipped
    item = r.skipped.items[0]
    assert item["path"] == str(f) and message.split(": ", 1)[1].split(" (")[0] in item["error"]


def test_truncated_compressed_and_arrow_files(tmp_path):
    lines = "".join(json.dumps({"text": f"doc {i} " * 50}) + "\n" for i in range(200)).encode()
    gz = gzip.compress(lines)
    zst = _zstd_bytes(lines)
    table = pa.table({"text": [f"doc {i} " * 50 for i in range(200)]})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table, max_chunksize=20)
    arrow = sink.getvalue().to_pybytes()
    for name, data in (("t.jsonl.gz", gz), ("t.jsonl.zst", zst), ("t.arrow", arrow)):
        f = tmp_path / name
        f.write_bytes(data[: len(data) // 2])
        with pytest.raises(InputError) as e:
            count_corpus([str(f)], CountConfig(ns=(1,)))
        assert str(e.value).startswith(str(f)), e.value
        r = count_corpus([str(f)], CountConfig(ns=(1,), on_error="skip"))
        assert r.skipped.shards == 1
        assert r.shards[0].error


def _random_lines(n=2000, seed=3):
    rng = random.Random(seed)
    vocab = [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(3000)
    ]
    return [" ".join(rng.choices(vocab, k=rng.randint(20, 60))) for _ in range(n)]


def _gzip_members(data: bytes, parts: int = 4) -> list[bytes]:
    """``data`` gzipped as ``parts`` members, cut at arbitrary bytes (not at line ends)."""
    step = len(data) // parts + 1
    return [gzip.compress(data[i : i + step]) for i in range(0, len(data), step)]


def _cut_gzip(path, data: bytes) -> bytes:
    """Write ``data`` gzipped as four members to ``path``, cut in the middle of the third;
    return the bytes of the two complete members before the cut (all that is counted: the bytes
    of a member are kept only once its checksum passed)."""
    members = _gzip_members(data)
    cut = members[2][: len(members[2]) // 2]
    path.write_bytes(members[0] + members[1] + cut)
    readable = gzip.decompress(members[0] + members[1])
    assert 0 < len(readable) < len(data) and data.startswith(readable)
    return readable


def _cut_counts_as(cut, message: str, ref, readable: bytes, cfg: dict):
    """A cut shard fails with ``message``; under skip it is listed as skipped and counts
    exactly as the uncompressed ``readable`` bytes written to ``ref``. Returns that count."""
    with pytest.raises(InputError) as e:
        count_corpus([str(cut)], CountConfig(**cfg))
    assert str(e.value).startswith(message), e.value
    r = count_corpus([str(cut)], CountConfig(on_error="skip", **cfg))
    assert r.skipped.shards == 1 and r.skipped.items[0]["error"].startswith(message)
    ref.write_bytes(readable)
    want = count_corpus([str(ref)], CountConfig(**cfg))
    assert (r.documents, r.tokens, r.rows) == (want.documents, want.tokens, want.rows)
    return r


@pytest.mark.parametrize("batch_rows", [1024, 100])
def test_truncated_jsonl_gz_keeps_the_rows_before_the_cut(tmp_path, batch_rows):
    """Every complete line of the complete gzip members before the cut is counted, as if the
    file had ended there, and the error names the line that was cut."""
    data = "".join(json.dumps({"text": t}) + "\n" for t in _random_lines()).encode()
    f = tmp_path / "cut.jsonl.gz"
    readable = _cut_gzip(f, data)
    complete = readable[: readable.rfind(b"\n") + 1]
    rows = complete.count(b"\n")
    assert rows > 900  # about half of the 2,000 lines
    message = f"{f}: corrupt or truncated gzip data near line {rows + 1} ("
    cfg = dict(ns=(1, 3), exact=True, batch_rows=batch_rows)
    r = _cut_counts_as(f, message, tmp_path / "ref.jsonl", complete, cfg)
    assert r.documents == rows


@pytest.mark.parametrize("documents", ["lines", "file"])
def test_truncated_txt_gz_keeps_the_text_before_the_cut(tmp_path, documents):
    """Every byte of the complete gzip members before the cut is counted: the complete lines,
    and the line (or file) cut at the member's end, as the last document."""
    data = "\n".join(_random_lines()).encode()
    f = tmp_path / "cut.txt.gz"
    readable = _cut_gzip(f, data)
    message = f"{f}: corrupt or truncated gzip data after byte {len(readable)} ("
    # small blocks: the text before the cut spans several, a line may span two
    cfg = dict(ns=(1, 3), exact=True, txt_documents=documents, chunk_bytes=50_000)
    r = _cut_counts_as(f, message, tmp_path / "ref.txt", readable, cfg)
    lines = readable.count(b"\n") + 1  # the last one cut
    assert r.documents == (lines if documents == "lines" else 1)


def test_mixed_directory_and_unknown_files(tmp_path):
    paths = write_all_formats(tmp_path, DOCS[:2])
    (tmp_path / "notes.md").write_text("not a shard")
    (tmp_path / "data.csv").write_text("text\nx\n")
    r = count_corpus([str(tmp_path)], CountConfig(ns=(1,)))
    # notes.md is known not to be data: left out quietly, not listed as an unknown format
    assert r.ignored == [str(tmp_path / "data.csv")]
    assert find_inputs([str(tmp_path)]).metadata == [str(tmp_path / "notes.md")]
    assert len(r.shards) == len(paths) - 1 + 2  # the txt directory holds two files


def test_format_override_and_compressed_parquet_rejected(tmp_path):
    f = tmp_path / "docs.data"
    f.write_text(json.dumps({"text": "a b c"}) + "\n")
    r = count_corpus([str(f)], CountConfig(ns=(1,), format="jsonl", exact=True))
    assert r.tokens == 3
    g = tmp_path / "x.parquet.gz"
    g.write_bytes(b"whatever")
    with pytest.raises(InputError, match="unknown file format"):
        count_corpus([str(g)], CountConfig(ns=(1,)))


def test_rerun_in_place_skips_own_output(tmp_path, monkeypatch):
    """Counting '.' twice (--force: the output sits inside the input) must not read the
    first run's seqcount-out/ as input."""
    from click.testing import CliRunner

    from seqcount.cli import cli

    pq.write_table(pa.table({"text": DOCS}), tmp_path / "c.parquet")
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        r = CliRunner().invoke(cli, ["count", ".", "-q", "--force"])
        assert r.exit_code == 0, r.output
    assert (
        json.loads((tmp_path / "seqcount-out" / "summary.json").read_text())["totals"]["shards"]
        == 1
    )


def test_symlinked_directories_and_globbed_directories_are_searched(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    pq.write_table(pa.table({"text": ["a b"]}), real / "a.parquet")
    top = tmp_path / "top"
    top.mkdir()
    pq.write_table(pa.table({"text": ["c"]}), top / "b.parquet")
    (top / "link").symlink_to(real, target_is_directory=True)
    (real / "loop").symlink_to(top, target_is_directory=True)  # a cycle is walked once
    r = count_corpus([str(top)], CountConfig(ns=(1,)))
    assert sorted(s.path for s in r.shards) == [
        str(top / "b.parquet"),
        str(top / "link" / "a.parquet"),
    ]
    g = count_corpus([str(tmp_path / "re*")], CountConfig(ns=(1,)))
    assert [s.path for s in g.shards][0] == str(real / "a.parquet")


def test_a_file_reached_twice_is_read_once(tmp_path, monkeypatch):
    pq.write_table(pa.table({"text": ["a b"]}), tmp_path / "a.parquet")
    (tmp_path / "b.parquet").symlink_to(tmp_path / "a.parquet")
    monkeypatch.chdir(tmp_path)
    paths = ["a.parquet", str(tmp_path / "a.parquet"), "./a.parquet", str(tmp_path)]
    r = count_corpus(paths, CountConfig(ns=(1,)))
    assert [s.path for s in r.shards] == ["a.parquet"] and r.tokens == 2


@pytest.mark.parametrize("typ", [pa.string_view(), pa.binary_view(), pa.large_string()])
def test_view_and_large_types_with_nulls(tmp_path, typ):
    docs = ["a b", None, "c d a"]
    pq.write_table(
        pa.table({"text": pa.array(docs, pa.string()).cast(typ)}), tmp_path / "v.parquet"
    )
    with pa.ipc.new_file(tmp_path / "v.arrow", pa.schema([("text", typ)])) as w:
        w.write_table(pa.table({"text": pa.array(docs, pa.string()).cast(typ)}))
    pq.write_table(pa.table({"text": docs}), tmp_path / "ref.parquet")
    ref = _curve(tmp_path / "ref.parquet")
    assert _curve(tmp_path / "v.parquet") == ref
    assert _curve(tmp_path / "v.arrow") == ref


def test_all_null_column_is_empty_documents(tmp_path):
    pq.write_table(pa.table({"text": pa.array([None, None], pa.null())}), tmp_path / "n.parquet")
    r = count_corpus([str(tmp_path / "n.parquet")], CountConfig(ns=(1,)))
    assert (r.documents, r.null_documents, r.tokens) == (2, 2, 0)


def test_batches_are_capped_by_bytes(tmp_path):
    from seqcount.io import ParquetReader, ReadRequest, Shard

    big = [f"{i} " + "x " * 50_000 for i in range(40)]  # 100 kB documents
    pq.write_table(pa.table({"text": big}), tmp_path / "b.parquet", row_group_size=40)
    shard = Shard(str(tmp_path / "b.parquet"), 0, "parquet")
    req = ReadRequest(batch_rows=1024, batch_bytes=350_000)
    sizes = [c.rows for c in ParquetReader().iter_batches(shard, req)]
    assert max(sizes) <= 4 and sum(sizes) == 40


def test_fifo_broken_link_and_bom(tmp_path):
    import os

    d = tmp_path / "d"
    d.mkdir()
    (d / "a.jsonl").write_bytes(b'\xef\xbb\xbf{"text": "a b"}\n')
    os.mkfifo(d / "pipe.jsonl")  # reading it would block forever
    (d / "dead.jsonl").symlink_to(tmp_path / "missing")
    r = count_corpus([str(d)], CountConfig(ns=(1,), exact=True))
    assert [s.path for s in r.shards] == [str(d / "a.jsonl")]
    assert sorted(r.ignored) == [str(d / "dead.jsonl"), str(d / "pipe.jsonl")]
    assert r.tokens == 2


def test_prefetch_keeps_order_raises_in_place_and_stops_early():
    import threading

    from seqcount.io import prefetch

    assert list(prefetch(iter(range(100)), depth=3)) == list(range(100))

    def failing():
        yield 1
        yield 2
        raise InputError("shard.parquet: corrupt page")

    got = []
    with pytest.raises(InputError, match="corrupt page"):
        for x in prefetch(failing()):
            got.append(x)
    assert got == [1, 2]

    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    it = prefetch(endless(), depth=2)
    assert [next(it) for _ in range(5)] == [0, 1, 2, 3, 4]
    it.close()
    assert closed.is_set()
    assert not any(t.name == "seqcount-reader" for t in threading.enumerate())


def test_decoding_tokenizing_and_counting_run_in_three_threads(monkeypatch):
    """A pass decodes a shard's batches in one thread, tokenizes them in another and counts in
    the caller's: with one n the pass is no longer bound by one thread doing both."""
    import threading

    from seqcount.engine import single

    seen = {"decode": set(), "tokenize": set(), "count": set()}

    def texts():
        for i in range(40):
            seen["decode"].add(threading.current_thread().name)
            yield f"document {i} of the stream, word {i % 7}"

    feed, add = single.StreamTokenizer.feed, single.Counter.add

    def spy_feed(self, *args):
        seen["tokenize"].add(threading.current_thread().name)
        return feed(self, *args)

    def spy_add(self, chunk):
        seen["count"].add(threading.current_thread().name)
        return add(self, chunk)

    monkeypatch.setattr(single.StreamTokenizer, "feed", spy_feed)
    monkeypatch.setattr(single.Counter, "add", spy_add)
    r = count_corpus(texts(), CountConfig(ns=(1, 2), batch_rows=4, exact=True))
    assert r.documents == 40
    assert seen == {
        "decode": {"seqcount-decode"},
        "tokenize": {"seqcount-tokenize"},
        "count": {threading.current_thread().name},
    }


def test_seqcount_outputs_inside_a_corpus_are_not_read_as_data(tmp_path):
    """Outputs and state directories of other runs kept inside the corpus directory are left
    out and listed (their summary.json and state.json would otherwise be read as JSON
    Lines); one given as the corpus itself is refused with a pointer to compare and report."""
    from seqcount.api import count_batch, find_inputs
    from seqcount.run.files import write_outputs

    corpus = tmp_path / "corp"
    corpus.mkdir()
    (corpus / "a.parquet").write_bytes((DATA / "austen" / "05-persuasion.parquet").read_bytes())
    cfg = CountConfig(ns=(1, 2))
    first = count_corpus(corpus, cfg)
    write_outputs(first, corpus / "run1")
    count_batch(corpus, cfg, state=corpus / "st", exclude=[corpus / "run1"])
    (corpus / "notes").mkdir()
    (corpus / "notes" / "summary.json").write_text('{"text": "a"}\n')  # not an output: read
    inputs = find_inputs([str(corpus)])
    shards, ignored = inputs.shards, inputs.ignored
    assert [s.path for s in shards] == [
        str(corpus / "a.parquet"),
        str(corpus / "notes" / "summary.json"),
    ]
    assert ignored == [str(corpus / "run1") + "/", str(corpus / "st") + "/"]
    (corpus / "notes" / "summary.json").unlink()
    again = count_corpus(corpus, cfg)
    assert again.rows == first.rows and again.ignored == ignored
    with pytest.raises(InputError, match="a directory written by seqcount .* not a corpus"):
        count_corpus(corpus / "run1", cfg)
    g = find_inputs([str(corpus / "*")])  # matched by a glob: skipped, not refused
    shards, globbed = g.shards, g.ignored
    assert [s.path for s in shards] == [str(corpus / "a.parquet")]
    assert globbed == ignored


def test_type_hints_point_the_right_way(tmp_path):
    """A list<string> text column is not called pre-tokenized; a .json array file is told
    that .json is read as JSON Lines."""
    f = tmp_path / "lists.parquet"
    pq.write_table(pa.table({"text": [["a", "b"], ["c"]]}), f)
    with pytest.raises(SchemaError) as e:
        count_corpus(f, CountConfig(ns=(1,)))
    assert "--tokens-column" not in str(e.value) and "one text" in str(e.value)
    f = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"text": [[1, 2], [3]]}), f)
    with pytest.raises(SchemaError, match="pre-tokenized. use --tokens-column"):
        count_corpus(f, CountConfig(ns=(1,)))
    for i, text in enumerate(('[\n  {"text": "a b"}\n]\n', '[{"text": "a b"}]\n')):
        f = tmp_path / f"array{i}.json"
        f.write_text(text)
        with pytest.raises(InputError, match="read as JSON Lines, one object per line"):
            count_corpus(f, CountConfig(ns=(1,)))
