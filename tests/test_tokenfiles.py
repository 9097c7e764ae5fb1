"""Token files and Hugging Face folders: each written here by an independent writer (from the
published layouts, not seqcount's readers), counted with ``exact=True`` and compared with Python
sets of the windows inside documents."""

from __future__ import annotations

import json
import re
import struct

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

from seqcount.api import count_corpus, find_inputs
from seqcount.cli import cli
from seqcount.config import CountConfig
from seqcount.errors import ConfigError, InputError

NS = (1, 2, 3, 8)
LONG = 5000  # tokens of the longest document: many chunks of CHUNK ids
CHUNK = 1000


def make_docs(seed: int, vocab: int = 40, count: int = 40) -> list[list[int]]:
    """Random documents over a small vocabulary (so windows repeat): empty ones, short ones,
    and one longer than a chunk; first and last non-empty."""
    rng = np.random.default_rng(seed)
    docs = [list(map(int, rng.integers(0, vocab, int(rng.integers(1, 30))))) for _ in range(count)]
    docs[3] = []
    docs[4] = []
    docs[10] = list(map(int, rng.integers(0, vocab, LONG)))
    docs[20] = docs[21][:]  # a repeated document
    return docs


def truth(docs: list[list[int]]) -> dict:
    """Per n: (distinct windows, windows) by Python sets; and tokens, documents."""
    out = {}
    for n in NS:
        windows = [tuple(d[i : i + n]) for d in docs for i in range(len(d) - n + 1)]
        out[n] = (len(set(windows)), len(windows))
    return out


def counted(path, **options) -> dict:
    cfg = dict(ns=NS, exact=True, chunk_bytes=CHUNK, batch_rows=3, num_perm=0)
    cfg.update(options)
    r = count_corpus([str(path)], CountConfig(**cfg))
    return r, {n: (r.final[n].unique_exact, r.final[n].windows) for n in NS}


def check(path, docs, **options):
    r, got = counted(path, **options)
    assert got == truth(docs)
    assert r.tokens == sum(len(d) for d in docs)
    assert r.documents == len(docs)
    assert r.config.tokenizer == "ids"
    return r


# --------------------------------------------------------------------------- writers


def write_megatron(prefix, docs, dtype="int32", pieces=3, reverse=False, seed=0):
    """PREFIX.bin and PREFIX.idx in Megatron-Core's layout; each document cut into up to
    ``pieces`` sequences (some empty); ``reverse`` stores the sequences in reverse order."""
    codes = {"uint8": 1, "int8": 2, "int16": 3, "int32": 4, "int64": 5, "float64": 6,
             "float32": 7, "uint16": 8}  # fmt: skip
    rng = np.random.default_rng(seed)
    seqs, doc_index = [], [0]
    for d in docs:
        cuts = sorted(rng.integers(0, len(d) + 1, int(rng.integers(0, pieces))))
        bounds = [0, *cuts, len(d)]
        if not d and len(doc_index) % 2:
            bounds = [0]  # an empty document of no sequence at all
        seqs += [d[a:b] for a, b in zip(bounds, bounds[1:])]
        doc_index.append(len(seqs))
    item = np.dtype(dtype).itemsize
    order = list(range(len(seqs)))[::-1] if reverse else list(range(len(seqs)))
    pointers = [0] * len(seqs)
    blob = b""
    for s in order:
        pointers[s] = len(blob)
        blob += np.array(seqs[s], dtype="<" + np.dtype(dtype).str[1:]).tobytes()
    with open(f"{prefix}.bin", "wb") as f:
        f.write(blob)
    with open(f"{prefix}.idx", "wb") as f:
        f.write(b"MMIDIDX\x00\x00")
        f.write(struct.pack("<Q", 1))
        f.write(struct.pack("<B", codes[dtype]))
        f.write(struct.pack("<Q", len(seqs)))
        f.write(struct.pack("<Q", len(doc_index)))
        f.write(struct.pack(f"<{len(seqs)}i", *[len(s) for s in seqs]))
        f.write(struct.pack(f"<{len(seqs)}q", *pointers))
        f.write(struct.pack(f"<{len(doc_index)}q", *doc_index))
    assert item  # the .bin holds whole items
    return f"{prefix}.bin"


def write_llmc(path, docs, kind="gpt2"):
    """An llm.c shard: 256 int32 (magic, version, token count), then every document preceded
    by the end-of-text token."""
    magic, version, dtype, eot = {
        "gpt2": (20240520, 1, "<u2", 50256),
        "llama3": (20240801, 7, "<u4", 128000),
    }[kind]
    tokens = [t for d in docs for t in (eot, *d)]
    header = [0] * 256
    header[:3] = [magic, version, len(tokens)]
    with open(path, "wb") as f:
        f.write(struct.pack("<256i", *header))
        f.write(np.array(tokens, dtype=dtype).tobytes())
    return path


def write_nanogpt(path, docs, eot, dtype="<u2"):
    """A headerless token file: every document followed by the end-of-text token."""
    tokens = [t for d in docs for t in (*d, eot)]
    with open(path, "wb") as f:
        f.write(np.array(tokens, dtype=dtype).tobytes())
    return path


def write_arrow_stream(path, table):
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
        for batch in table.to_batches(max_chunksize=7):
            w.write_batch(batch)


def write_saved_dataset(folder, table, files=2):
    """A folder as written by ``datasets``' ``save_to_disk``: data-XXXXX-of-YYYYY.arrow
    (Arrow IPC streams), dataset_info.json and state.json."""
    folder.mkdir(parents=True)
    step = -(-table.num_rows // files)
    names = []
    for k in range(files):
        name = f"data-{k:05d}-of-{files:05d}.arrow"
        write_arrow_stream(folder / name, table.slice(k * step, step))
        names.append({"filename": name})
    (folder / "dataset_info.json").write_text(json.dumps({"citation": "", "features": {}}))
    state = {"_data_files": names, "_fingerprint": "0", "_split": None}
    (folder / "state.json").write_text(json.dumps(state))


# --------------------------------------------------------------------------- Megatron


@pytest.mark.parametrize("dtype", ["uint16", "int32", "uint8", "int64"])
def test_megatron_counts_windows_within_documents(tmp_path, dtype):
    vocab = 200 if dtype == "uint8" else 3000
    docs = make_docs(1, vocab=vocab)
    path = write_megatron(tmp_path / "corpus", docs, dtype=dtype)
    assert [s.format for s in find_inputs(str(tmp_path)).shards] == ["megatron"]
    r = check(tmp_path, docs)
    assert r.config.tokens_column == "tokens"
    check(path, docs)  # the .bin named explicitly


def test_megatron_sequences_stored_apart(tmp_path):
    docs = make_docs(2)
    write_megatron(tmp_path / "c", docs, pieces=4, reverse=True, seed=5)
    check(tmp_path, docs)


def test_megatron_ids_equal_the_same_ids_from_parquet(tmp_path):
    import pyarrow.parquet as pq

    docs = make_docs(3)
    (tmp_path / "m").mkdir()
    write_megatron(tmp_path / "m" / "c", docs, dtype="uint16")
    pq.write_table(pa.table({"tokens": pa.array(docs, pa.list_(pa.int32()))}), tmp_path / "c.pq")
    a, _ = counted(tmp_path / "m", num_perm=16)
    b, _ = counted(tmp_path / "c.pq", tokenizer="ids", tokens_column="tokens", num_perm=16)
    assert a.rows == b.rows
    assert [h.reg.tobytes() for h in a.sketches.hll] == [h.reg.tobytes() for h in b.sketches.hll]


def _idx_bytes(prefix) -> bytearray:
    return bytearray(open(f"{prefix}.idx", "rb").read())


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b.__setitem__(slice(0, 3), b"XYZ"), "not a Megatron index"),
        (lambda b: b.__setitem__(slice(9, 17), struct.pack("<Q", 2)), "version 2, expected 1"),
        (lambda b: b.__setitem__(17, 7), "float32 .*must be integers"),
        (lambda b: b.__setitem__(17, 99), "unknown Megatron dtype code 99"),
        (lambda b: b.__delitem__(slice(len(b) - 4, len(b))), "truncated index"),
    ],
)
def test_megatron_bad_index(tmp_path, damage, message):
    write_megatron(tmp_path / "c", make_docs(4))
    data = _idx_bytes(tmp_path / "c")
    damage(data)
    (tmp_path / "c.idx").write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"c\.idx: .*" + message):
        count_corpus([str(tmp_path / "c.bin")], CountConfig(format="megatron"))


def test_megatron_truncated_bin(tmp_path):
    write_megatron(tmp_path / "c", make_docs(5))
    data = (tmp_path / "c.bin").read_bytes()
    (tmp_path / "c.bin").write_bytes(data[:-10])
    with pytest.raises(InputError, match=r"c\.idx: sequence \d+ ends at byte .*past the end of"):
        count_corpus([str(tmp_path)], CountConfig())


# --------------------------------------------------------------------------- llm.c


@pytest.mark.parametrize("kind", ["gpt2", "llama3"])
def test_llmc_shard(tmp_path, kind):
    docs = make_docs(6, vocab=50000)
    path = write_llmc(tmp_path / "train_000000.bin", docs, kind)
    assert [s.format for s in find_inputs(str(tmp_path)).shards] == ["llmc"]
    check(path, docs)


def test_llmc_doc_separator_override(tmp_path):
    docs = make_docs(7, vocab=30)
    # a shard whose documents are separated by token 7 instead: override the header's
    flat = [t for d in docs for t in d if t != 7]
    sep_docs = [[t for t in d if t != 7] for d in docs]
    tokens = [t for d in sep_docs for t in (7, *d)]
    header = [20240520, 1, len(tokens)] + [0] * 253
    (tmp_path / "s.bin").write_bytes(
        struct.pack("<256i", *header) + np.array(tokens, "<u2").tobytes()
    )
    assert len(flat) == sum(map(len, sep_docs))
    check(tmp_path / "s.bin", sep_docs, doc_separator=7)


def test_headerless_tokens(tmp_path):
    docs = make_docs(8, vocab=70000)
    path = write_nanogpt(tmp_path / "train.bin", docs, eot=99999, dtype="<u4")
    check(path, docs, token_dtype="uint32", doc_separator=99999)
    # no separator: the whole file is one document (the separators counted as tokens)
    flat = [t for d in docs for t in (*d, 99999)]
    check(path, [flat], token_dtype="uint32")


def test_llmc_errors(tmp_path):
    path = write_llmc(tmp_path / "a.bin", make_docs(9))
    data = path.read_bytes()
    path.write_bytes(data[:-6])
    with pytest.raises(InputError, match=r"a\.bin: truncated llm.c token shard"):
        count_corpus([str(path)], CountConfig())
    path.write_bytes(data + b"\0\0")
    with pytest.raises(InputError, match=r"a\.bin: 2 bytes after the"):
        count_corpus([str(path)], CountConfig())
    path.write_bytes(data[:4] + struct.pack("<i", 3) + data[8:])
    with pytest.raises(InputError, match=r"a\.bin: llm.c token shard version 3, expected 1"):
        count_corpus([str(path)], CountConfig())
    path.write_bytes(data)
    with pytest.raises(ConfigError, match="doc_separator 70000 does not fit the uint16") as e:
        count_corpus([str(path)], CountConfig(doc_separator=70000))
    assert e.value.params == ("doc_separator",)
    with pytest.raises(ConfigError, match="token_dtype is uint32"):
        count_corpus([str(path)], CountConfig(token_dtype="uint32"))
    (tmp_path / "a.bin").write_bytes(b"\1\2\3")
    with pytest.raises(ConfigError, match=r"a\.bin: not an llm.c token shard .* token_dtype"):
        count_corpus([str(path)], CountConfig())
    with pytest.raises(InputError, match=r"a\.bin: 3 bytes is not a whole number of uint16"):
        count_corpus([str(path)], CountConfig(token_dtype="uint16"))


def test_token_files_refuse_a_text_tokenizer_and_text_files(tmp_path):
    write_llmc(tmp_path / "a.bin", make_docs(10))
    with pytest.raises(ConfigError, match="tokenizer bytes: .*a.bin holds token ids") as e:
        count_corpus([str(tmp_path)], CountConfig(tokenizer="bytes"))
    assert e.value.params == ("tokenizer",)
    (tmp_path / "b.txt").write_text("some text")
    with pytest.raises(InputError, match=r"a\.bin holds token ids \(llmc\) and .*b\.txt text"):
        count_corpus([str(tmp_path)], CountConfig())


def test_config_checks():
    for kw, name in [
        (dict(doc_separator=-1), "doc_separator"),
        (dict(token_dtype="int8"), "token_dtype"),
        (dict(split=""), "split"),
    ]:
        with pytest.raises(ConfigError) as e:
            CountConfig(**kw)
        assert e.value.params == (name,)
    assert "doc_separator" not in CountConfig().to_dict()  # outputs of other runs unchanged
    assert CountConfig(split="train").to_dict()["split"] == "train"


# --------------------------------------------------------------------------- Hugging Face


def test_saved_dataset_folder_of_token_ids(tmp_path):
    docs = make_docs(11)
    table = pa.table({"input_ids": pa.array(docs, pa.list_(pa.int32())), "x": range(len(docs))})
    write_saved_dataset(tmp_path / "ds", table, files=3)
    inputs = find_inputs(str(tmp_path / "ds"))
    assert [s.format for s in inputs.shards] == ["arrow"] * 3
    assert {p.rsplit("/", 1)[1] for p in inputs.metadata} == {"dataset_info.json", "state.json"}
    check(tmp_path / "ds", docs, tokenizer="ids", tokens_column="input_ids")


def test_dataset_dict_folder_and_split(tmp_path):
    texts = {"train": ["a b c a b", "", "x y z " * 400], "test": ["a b c d", "d c b a"]}
    root = tmp_path / "dd"
    for split, docs in texts.items():
        write_saved_dataset(root / split, pa.table({"text": docs}), files=1)
    (root / "dataset_dict.json").write_text(json.dumps({"splits": list(texts)}))
    with pytest.raises(ConfigError, match=r"several splits \(test, train\); choose one") as e:
        find_inputs(str(root))
    assert e.value.params == ("split",)
    with pytest.raises(ConfigError, match=r"has no 'valid' \(its splits: test, train\)"):
        find_inputs(str(root), split="valid")
    with pytest.raises(ConfigError, match="no Hugging Face DatasetDict"):
        find_inputs(str(root / "test"), split="test")
    for split, docs in texts.items():
        words = [re.findall(r"\w+|[^\w\s]", d) for d in docs]
        r, got = counted(root, split=split)
        assert got == truth(words)
        assert r.documents == len(docs)
        assert all(f"/{split}/" in s.path for s in r.shards)


def test_cli_flags_respelled(tmp_path):
    out = tmp_path / "result"
    tmp_path = tmp_path / "corpus"
    tmp_path.mkdir()
    (tmp_path / "x.bin").write_bytes(np.array([1, 2, 0, 3, 4, 1, 2], "<u2").tobytes())
    res = CliRunner().invoke(cli, ["count", str(tmp_path), "--out", str(out), "-q"])
    assert res.exit_code == 2, res.output
    assert "--token-dtype uint16 or uint32" in res.output
    res = CliRunner().invoke(
        cli, ["count", str(tmp_path), "--out", str(out), "-q", "--token-dtype", "uint16",
              "--doc-separator", "0", "--n", "1", "--exact"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["options"]["doc_separator"] == 0
    assert summary["options"]["tokenizer"] == "ids"
    assert (summary["totals"]["documents"], summary["totals"]["tokens"]) == (2, 6)


def test_bundled_token_sample_counts_as_the_text(tmp_path):
    """examples/tokens/austen.bin numbers the words tokens of data/austen one-to-one, so its
    exact counts are the text's (tests/data/austen_ground_truth.csv, made without seqcount)."""
    import csv
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    rows = list(csv.DictReader(open(root / "tests" / "data" / "austen_ground_truth.csv")))
    final = {}
    for row in rows:
        if row["tokenizer"] == "words":
            final[int(row["n"])] = max(final.get(int(row["n"]), (0, 0, 0)), (
                int(row["D"]), int(row["distinct"]), int(row["windows"])))  # fmt: skip
    r = count_corpus([str(root / "examples" / "tokens")], CountConfig(ns=NS, exact=True))
    assert r.tokens == final[1][0] == 873_710
    for n in (1, 2, 8):
        assert (r.final[n].unique_exact, r.final[n].windows) == final[n][1:]


def test_megatron_state_sees_a_changed_index(tmp_path):
    """A state directory keys a Megatron shard by its .idx too: the same .bin cut into other
    documents is counted anew, not taken from the state."""
    from seqcount.api import count_batch

    docs = make_docs(5)
    regrouped = [docs[i] + docs[i + 1] for i in range(0, len(docs) - 1, 2)]
    corpus, other = tmp_path / "c", tmp_path / "other"
    corpus.mkdir()
    other.mkdir()
    write_megatron(corpus / "ds", docs, pieces=1)
    write_megatron(other / "ds", regrouped, pieces=1)
    assert (corpus / "ds.bin").read_bytes() == (other / "ds.bin").read_bytes()
    cfg = CountConfig(ns=NS, exact=False, chunk_bytes=CHUNK, batch_rows=3, num_perm=0)
    first = count_batch(corpus, cfg, state=tmp_path / "st")
    assert first.documents == len(docs)
    (corpus / "ds.idx").write_bytes((other / "ds.idx").read_bytes())  # only the index changes
    events = []
    again = count_batch(corpus, cfg, state=tmp_path / "st", on_event=events.append)
    assert again.documents == len(regrouped)
    assert "shard_reused" not in [e["event"] for e in events]
    fresh = count_corpus([str(corpus)], cfg)
    assert again.rows == fresh.rows
