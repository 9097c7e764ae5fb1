"""``--tokenizer hf:PATH``: counts in a Hugging Face tokenizer's own tokens."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from conftest import DATA

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
