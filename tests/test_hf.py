"""``--tokenizer hf:PATH``: counts in a Hugging Face tokenizer's own tokens."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from conftest import DATA, write_parquet

from seqcount.api import count_corpus
from seqcount.config import CountConfig
from seqcount.errors import ConfigError

tokenizers = pytest.importorskip("tokenizers")

SHARD = DATA / "austen" / "05-persuasion.parquet"


@pytest.fixture(scope="module")
def tokenizer_json(tmp_path_factory):
    """A small byte-level BPE tokenizer trained offline on the sample corpus."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=2000, special_tokens=["<s>", "</s>"])
    texts = pq.read_table(DATA / "austen" / "04-northangerabbey.parquet")["text"].to_pylist()
    tok.train_from_iterator(texts, trainer=trainer)
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(path))
    return path


def test_hf_counts_match_tokenizers_encode(tokenizer_json):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    texts = pq.read_table(SHARD)["text"].to_pylist()
    ids = [tok.encode(t, add_special_tokens=False).ids for t in texts]
    ns = (1, 2, 4)
    r = count_corpus([str(SHARD)], CountConfig(ns=ns, tokenizer=f"hf:{tokenizer_json}", exact=True))
    assert r.tokens == sum(len(x) for x in ids)
    for n in ns:
        distinct = {tuple(d[i : i + n]) for d in ids for i in range(len(d) - n + 1)}
        windows = sum(max(0, len(d) - n + 1) for d in ids)
        assert (r.final[n].unique_exact, r.final[n].windows) == (len(distinct), windows)


def test_hf_errors(tmp_path):
    with pytest.raises(ConfigError, match="no such tokenizer file"):
        count_corpus([str(SHARD)], CountConfig(tokenizer=f"hf:{tmp_path / 'nope.json'}"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not a loadable tokenizer.json"):
        count_corpus([str(SHARD)], CountConfig(tokenizer=f"hf:{bad}"))


def test_state_sees_a_changed_tokenizer_file(tokenizer_json, tmp_path):
    """The same hf:PATH with other contents is another tokenizer: nothing stored is reused."""
    from seqcount.api import count_batch

    tok = tmp_path / "tokenizer.json"
    tok.write_bytes(tokenizer_json.read_bytes())
    cfg = CountConfig(ns=(1, 2), tokenizer=f"hf:{tok}")
    count_batch([str(SHARD)], cfg, state=tmp_path / "st")
    text = tok.read_text()
    tok.write_text(text + "\n")  # any change of the file's bytes, same name
    events = []
    count_batch([str(SHARD)], cfg, state=tmp_path / "st", on_event=events.append)
    kinds = [e["event"] for e in events]
    assert "shard_reused" not in kinds and "shard_finished" in kinds
    assert any("the options changed" in e.get("message", "") for e in events)
    with pytest.raises(ConfigError, match="no such tokenizer file"):
        count_batch([str(SHARD)], CountConfig(tokenizer=f"hf:{tmp_path}/nope.json"),
                    state=tmp_path / "st")  # fmt: skip


def test_hf_chunk_of_documents_after_the_first(tokenizer_json):
    """Documents that do not start the batch are read from their own bytes (a chunk after the
    first of a batch, or a piece of a long document)."""
    import numpy as np
    from tokenizers import Tokenizer

    from seqcount.hashing import hash_params
    from seqcount.tokenize import HFTokenizer

    tok = Tokenizer.from_file(str(tokenizer_json))
    texts = pq.read_table(SHARD)["text"].to_pylist()[:4]
    data = np.frombuffer("".join(texts).encode(), dtype=np.uint8)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t.encode()) for t in texts], out=offsets[1:])
    chunk = HFTokenizer(str(tokenizer_json)).chunk(data, offsets[2:], hash_params(0))
    want = [i for t in texts[2:] for i in tok.encode(t, add_special_tokens=False).ids]
    assert chunk.tokens.tolist() == want


@pytest.fixture(scope="module")
def indented_tokenizer_json(tmp_path_factory):
    """A byte-level BPE tokenizer trained on the sample with every line indented, as code is:
    like GPT-2-style tokenizers it merges a line break with the indentation after it
    (``ĊĠĠĠ``), so a cut just after a line break changes the tokens there."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=2000, special_tokens=["<s>", "</s>"])
    texts = pq.read_table(DATA / "austen" / "04-northangerabbey.parquet")["text"].to_pylist()
    tok.train_from_iterator([indent(t) for t in texts], trainer=trainer)
    assert any(k.startswith("ĊĠ") for k in tok.get_vocab())
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    tok.save(str(path))
    return path


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.split("\n"))


def long_indented_document(size: int) -> str:
    """The sample's text with its lines indented, repeated to ``size`` bytes (ASCII)."""
    text = indent("\n".join(pq.read_table(SHARD)["text"].to_pylist()))
    doc = text
    while len(doc) < size:
        doc += "\n" + text
    assert doc.isascii()
    return doc[:size]


def test_a_long_document_counts_the_same_shard_by_shard(indented_tokenizer_json, tmp_path):
    """A document longer than a shard's chunks (1 MiB) but shorter than a single pass's (4 MiB):
    the shard-by-shard count (--state, --jobs) must not cut it where a single pass does not.
    Its tokens are the whole document's, and the sketches and curve are a single pass's."""
    from tokenizers import Tokenizer

    from seqcount.api import count_batch
    from seqcount.engine.sharded import RECORD_CHUNK
    from seqcount.run.curve import curve_bytes

    doc = long_indented_document(3 << 19)  # 1.5 MiB
    assert RECORD_CHUNK < len(doc) < CountConfig().chunk_bytes
    docs = ["A short one.", doc, "    Another\n    short one."]
    path = write_parquet(tmp_path / "c" / "long.parquet", docs)
    tok = Tokenizer.from_file(str(indented_tokenizer_json))
    want = sum(len(e.ids) for e in tok.encode_batch(docs, add_special_tokens=False))
    cfg = CountConfig(ns=(1, 2, 4), tokenizer=f"hf:{indented_tokenizer_json}")
    one = count_corpus([str(path)], cfg)
    batch = count_batch([str(path)], cfg)
    assert one.tokens == batch.tokens == want
    for a, b in zip(one.sketches.hll, batch.sketches.hll):
        assert np.array_equal(a.reg, b.reg)
    assert curve_bytes(one.rows) == curve_bytes(batch.rows)


def test_hf_pieces_do_not_depend_on_chunk_size_or_batches(indented_tokenizer_json, monkeypatch):
    """A long document's pieces (made small here) are cut at the same places whatever the chunk
    size and however a reader streams the document in batches."""
    from seqcount import tokenize
    from seqcount.hashing import hash_params

    monkeypatch.setattr(tokenize, "MODEL_PIECE_BYTES", 6000)
    data = np.frombuffer(long_indented_document(40_000).encode(), dtype=np.uint8)
    kind = tokenize.HFTokenizer(str(indented_tokenizer_json))

    def pieces(chunk_size, block):
        stream = tokenize.StreamTokenizer(kind, hash_params(0), chunk_size)
        out = []
        for lo in range(0, data.shape[0], block):
            part = data[lo : lo + block]
            more = lo + block < data.shape[0]
            offsets = np.array([0, part.shape[0]], dtype=np.int64)
            out += [c.tokens.tolist() for c in stream.feed(part, offsets, open_tail=more)]
        assert not stream.pending
        return out

    want = pieces(1 << 22, data.shape[0])
    assert len(want) > 5
    for chunk_size in (700, 6000, 1 << 22):
        for block in (997, 5000, data.shape[0]):
            assert pieces(chunk_size, block) == want, (chunk_size, block)
