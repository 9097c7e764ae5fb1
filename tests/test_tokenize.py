"""The tokenizers of :mod:`seqcount.tokenize` against ``re.findall`` and ``reference``."""

from __future__ import annotations

import re
import string

import numpy as np
import pytest
import reference as ref
from conftest import hyp_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from seqcount import tokenize as tk
from seqcount.hashing import hash_params

PATTERN = r"\w+|[^\w\s]"
FFFD_BYTES = "\ufffd".encode()
SEEDS = [0, 2**63 + 17]

HYP = hyp_settings(150)
HYP_FEW = settings(HYP, max_examples=60)


# --------------------------------------------------------------------------- strategies

WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u205f\u3000"
)
NOT_SPACE = "\u200b\u200c\u200d\u2060\ufeff\x00\x7f\ufffd"  # look like spaces, are not \s
EMOJI = [
    "\U0001f600",
    "\U0001f44d\U0001f3fd",  # thumbs up + skin tone
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",  # family ZWJ sequence
    "\U0001f3f3\ufe0f\u200d\U0001f308",  # rainbow flag
    "\U0001f469\U0001f3ff\u200d\U0001f4bb",
    "\u2764\ufe0f",
    "\U0001f1eb\U0001f1f7",  # regional indicators
    "#\ufe0f\u20e3",  # keycap
]

ascii_piece = st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=8)
PUNCT = string.punctuation + "\u00ab\u00bb\u2014\u2026\u00bf\u3002\u060c"
punct_piece = st.text(PUNCT, min_size=1, max_size=3)
space_piece = st.text(WHITESPACE, min_size=1, max_size=3)
emoji_piece = st.sampled_from(EMOJI) | st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)
skin_tone = st.characters(min_codepoint=0x1F3FB, max_codepoint=0x1F3FF)
combining = st.characters(min_codepoint=0x300, max_codepoint=0x36F)


def _script(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=lo, max_codepoint=hi), min_size=1, max_size=5)


script_piece = st.one_of(
    _script(0x4E00, 0x9FFF),  # CJK
    _script(0x20000, 0x2A6DF),  # CJK extension B (4-byte UTF-8)
    _script(0x3040, 0x30FF),  # kana
    _script(0x0600, 0x06FF),  # Arabic
    _script(0x0900, 0x097F),  # Devanagari
    _script(0x0E00, 0x0E7F),  # Thai
    _script(0xAC00, 0xD7A3),  # Hangul syllables
    _script(0x1100, 0x11FF),  # Hangul jamo
    _script(0x0370, 0x03FF),  # Greek
    _script(0x0400, 0x04FF),  # Cyrillic
    _script(0x00C0, 0x024F),  # Latin-1 / extended
    _script(0x0660, 0x0669),  # Arabic-Indic digits
    _script(0xFF10, 0xFF5A),  # full-width forms
)
any_char = st.characters(exclude_categories=("Cs",))
random_piece = st.text(any_char, min_size=1, max_size=4)

piece = st.one_of(
    ascii_piece,
    punct_piece,
    space_piece,
    st.text(NOT_SPACE, min_size=1, max_size=2),
    emoji_piece,
    skin_tone,
    combining,
    st.tuples(ascii_piece | script_piece, combining).map("".join),  # letter + combining mark
    script_piece,
    random_piece,
)
mixed_text = st.lists(piece, max_size=40).map("".join)
random_text = st.text(any_char, max_size=200)

INVALID_UTF8 = [
    b"\x80",
    b"\xbf",
    b"\xc0\xaf",  # overlong
    b"\xc1\xbf",
    b"\xc2",  # truncated 2-byte
    b"\xe0\x80\x80",  # overlong 3-byte
    b"\xe0\xa0",  # truncated 3-byte
    b"\xed\xa0\x80",  # surrogate
    b"\xed\xbf\xbf",
    b"\xef\xbf",  # truncated U+FFFD
    b"\xf0\x80\x80\x80",  # overlong 4-byte
    b"\xf0\x90\x80",  # truncated 4-byte
    b"\xf4\x90\x80\x80",  # above U+10FFFF
    b"\xf5\x80\x80\x80",
    b"\xf8\x88\x80\x80\x80",
    b"\xfe",
    b"\xff",
]
byte_piece = st.one_of(
    st.binary(min_size=1, max_size=6),
    st.sampled_from(INVALID_UTF8),
    piece.map(lambda s: s.encode("utf-8")),
    # a valid multi-byte character cut short
    st.tuples(st.characters(min_codepoint=0x80, exclude_categories=("Cs",)), st.integers(1, 3)).map(
        lambda t: t[0].encode("utf-8")[: t[1]]
    ),
    st.just(FFFD_BYTES),  # a literal, valid U+FFFD
)
mixed_bytes = st.lists(byte_piece, max_size=30).map(b"".join)
docs_strategy = st.lists(st.one_of(st.just(b""), mixed_bytes), max_size=8)


def _expected_invalid(data: bytes) -> int:
    """U+FFFD produced by ``decode('utf-8', 'replace')`` minus the literal ones.

    A literal EF BF BD always decodes as itself: EF is never a continuation byte, so no earlier
    byte can swallow it, and BF BD are exactly the continuation bytes EF needs.
    """
    return data.decode("utf-8", "replace").count("\ufffd") - data.count(FFFD_BYTES)


def _flat(docs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    data = np.frombuffer(b"".join(docs), dtype=np.uint8)
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(d) for d in docs])
    return data, offsets


def _doc_offsets(values: list[list[int]]) -> list[int]:
    out = [0]
    for v in values:
        out.append(out[-1] + len(v))
    return out


# --------------------------------------------------------------------------- words(text)


def test_reference_tokens():
    assert ref.word_tokens("Hi, you_2! ") == ["Hi", ",", "you_2", "!"]


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "a",
        "Hello, world!  It's 3.14 -- ok?",
        "tab\there\nnew\x0bline\x0cff\rcr\x1cfs\x1dgs\x1ers\x1fus\x85nel\xa0nbsp\u2028ls\u3000ideo",
        "caf\u00e9 cafe\u0301 \u0301x",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f44d\U0001f3fd!",
        "\u4e2d\u6587\u5b57\u3002\u65e5\u672c\u8a9e\u3001\ud55c\uad6d\uc5b4",
        "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u0939\u093f\u0928\u094d\u0926\u0940"
        " \u0e44\u0e17\u0e22",
        "\x00\x01\x7f\ufeff\u200b\ufffd\U0010ffff\U000e0001",
        "___ __a__ 1_2_3",
    ],
)
def test_words_examples(text):
    assert tk.words(text) == re.findall(PATTERN, text)


@HYP
@given(mixed_text)
def test_words_mixed_unicode(text):
    assert tk.words(text) == re.findall(PATTERN, text)


@HYP
@given(random_text)
def test_words_random_code_points(text):
    assert tk.words(text) == re.findall(PATTERN, text)


def test_words_every_code_point():
    """Every code point but surrogates: glued together, between spaces, inside a word."""
    cps = [c for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    chars = [chr(c) for c in cps]
    glued = "".join(chars)
    assert tk.words(glued) == re.findall(PATTERN, glued)
    spaced = " ".join(chars[::7])
    assert tk.words(spaced) == re.findall(PATTERN, spaced)
    after = " ".join("a" + c + "1" for c in chars[3::7])
    assert tk.words(after) == re.findall(PATTERN, after)


# --------------------------------------------------------------------------- bytes, invalid UTF-8


@HYP
@given(mixed_bytes)
def test_words_invalid_utf8(data):
    decoded = data.decode("utf-8", "replace")
    assert tk.words(data) == re.findall(PATTERN, decoded)
    params = hash_params(1)
    arr, offsets = _flat([data])
    chunk = tk.words_chunk(arr, offsets, params)
    assert chunk.invalid_utf8 == _expected_invalid(data)
    assert chunk.tokens.tolist() == ref.token_values("words", [data], params)[0]
    assert chunk.doc.tolist() == [0, chunk.tokens.shape[0]]


@HYP
@given(st.binary(max_size=300).filter(lambda b: FFFD_BYTES not in b))
def test_words_random_bytes(data):
    decoded = data.decode("utf-8", "replace")
    assert tk.words(data) == re.findall(PATTERN, decoded)
    arr, offsets = _flat([data])
    chunk = tk.words_chunk(arr, offsets, hash_params(0))
    assert chunk.invalid_utf8 == decoded.count("\ufffd")
    assert chunk.tokens.tolist() == ref.token_values("words", [data], hash_params(0))[0]


@pytest.mark.parametrize("bad", INVALID_UTF8)
def test_words_each_invalid_sequence(bad):
    for data in (bad, b"a" + bad, bad + b"b", b"x" + bad + bad + b"y z", bad + b"\xe2\x82\xac"):
        decoded = data.decode("utf-8", "replace")
        assert tk.words(data) == re.findall(PATTERN, decoded), data
        arr, offsets = _flat([data])
        chunk = tk.words_chunk(arr, offsets, hash_params(4))
        assert chunk.invalid_utf8 == decoded.count("\ufffd"), data
        assert chunk.tokens.tolist() == ref.token_values("words", [data], hash_params(4))[0]


# --------------------------------------------------------------------------- token values, chunks


@pytest.mark.parametrize("seed", SEEDS)
@HYP_FEW
@given(docs=docs_strategy)
def test_words_chunk_values(seed, docs):
    params = hash_params(seed)
    data, offsets = _flat(docs)
    chunk = tk.words_chunk(data, offsets, params)
    exp = ref.token_values("words", docs, params)
    assert chunk.tokens.dtype == np.uint64 and chunk.doc.dtype == np.int64
    assert chunk.tokens.tolist() == [t for v in exp for t in v]
    assert chunk.doc.tolist() == _doc_offsets(exp)
    assert chunk.documents == len(docs)
    assert chunk.invalid_utf8 == sum(_expected_invalid(d) for d in docs)


def _check_chunks(kind, values, offsets, params, exp, chunk_size, invalid=0):
    """Chunks of ``iter_chunks`` concatenate to the oracle's tokens and document offsets."""
    chunks = list(tk.iter_chunks(kind, values, offsets, params, chunk_size))
    ndocs = offsets.shape[0] - 1
    assert sum(c.documents for c in chunks) == ndocs
    if ndocs:
        assert all(c.documents >= 1 for c in chunks)
    tokens: list[int] = []
    doc = [0]
    for c in chunks:
        assert c.doc[0] == 0 and c.doc[-1] == c.tokens.shape[0]
        assert np.all(np.diff(c.doc) >= 0)
        doc.extend((c.doc[1:] + len(tokens)).tolist())
        tokens.extend(c.values().tolist())
        into = c.values(np.full(c.tokens.shape[0] + 2, 9, dtype=np.uint64))  # a reused buffer
        assert into.tolist() == c.values().tolist()
    assert tokens == [t for v in exp for t in v]
    assert doc == _doc_offsets(exp)
    assert sum(c.invalid_utf8 for c in chunks) == invalid
    return chunks


CHUNK_SIZES = [1, 7, 100, 10**9]


@HYP_FEW
@given(docs=docs_strategy, seed=st.sampled_from(SEEDS))
def test_iter_chunks_words(docs, seed):
    params = hash_params(seed)
    data, offsets = _flat(docs)
    exp = ref.token_values("words", docs, params)
    invalid = sum(_expected_invalid(d) for d in docs)
    for cs in CHUNK_SIZES:
        chunks = _check_chunks("words", data, offsets, params, exp, cs, invalid)
        if cs == 1:  # a chunk of about one byte holds at most one non-empty document
            assert len(chunks) >= sum(1 for d in docs if d)


def test_iter_chunks_words_corpus():
    """A larger multi-document corpus with empty documents, split at many sizes."""
    rng = np.random.default_rng(5)
    words = ["the", "caf\u00e9", "\u4e2d\u6587", "\U0001f44d\U0001f3fd", "x_1", "..."]
    words.append("\u0e44\u0e17\u0e22")
    seps = [" ", "\n", "\u3000", ", ", "\t\t", "!"]
    docs = []
    for _ in range(300):
        if rng.random() < 0.2:
            docs.append(b"")
            continue
        k = int(rng.integers(1, 30))
        picks = zip(rng.integers(len(words), size=k), rng.integers(len(seps), size=k))
        text = "".join(words[w] + seps[s] for w, s in picks)
        raw = text.encode()
        if rng.random() < 0.2:
            cut = int(rng.integers(0, len(raw) + 1))
            raw = raw[:cut] + b"\xff\xe0\xa0" + raw[cut:]
        docs.append(raw)
    params = hash_params(2**64 - 1)
    data, offsets = _flat(docs)
    exp = ref.token_values("words", docs, params)
    invalid = sum(_expected_invalid(d) for d in docs)
    assert invalid > 0
    whole = _check_chunks("words", data, offsets, params, exp, 10**12, invalid)
    assert len(whole) == 1
    for cs in (1, 7, 100, 1000):
        chunks = _check_chunks("words", data, offsets, params, exp, cs, invalid)
        assert len(chunks) > 1


@pytest.mark.parametrize("seed", SEEDS)
@HYP_FEW
@given(docs=docs_strategy)
def test_bytes_chunks(seed, docs):
    params = hash_params(seed)
    data, offsets = _flat(docs)
    exp = ref.token_values("bytes", docs, params)
    whole = tk.bytes_chunk(data, offsets)
    assert whole.values().tolist() == [t for v in exp for t in v]
    assert whole.doc.tolist() == _doc_offsets(exp)
    for cs in CHUNK_SIZES:
        _check_chunks("bytes", data, offsets, params, exp, cs)


id_value = st.one_of(
    st.integers(0, 2**64 - 1),
    st.integers(2**63, 2**64 - 1),
    st.integers(0, 1000),
    st.sampled_from([0, 2**63, 2**64 - 1]),
)


@pytest.mark.parametrize("seed", SEEDS)
@HYP_FEW
@given(lists=st.lists(st.lists(id_value, max_size=12), max_size=8))
def test_ids_chunks(seed, lists):
    params = hash_params(seed)
    values = np.array([i for lst in lists for i in lst], dtype=np.uint64)
    offsets = np.zeros(len(lists) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(lst) for lst in lists])
    exp = ref.token_values("ids", lists, params)
    whole = tk.ids_chunk(values, offsets, params)
    flat = [t for v in exp for t in v]
    assert whole.values().tolist() == flat
    # mixed into a reused buffer, longer than needed and holding old values
    buf = np.full(len(flat) + 5, 12345, dtype=np.uint64)
    assert whole.values(buf).tolist() == flat
    assert buf[len(flat) :].tolist() == [12345] * 5
    assert whole.doc.tolist() == _doc_offsets(exp)
    for cs in CHUNK_SIZES:
        _check_chunks("ids", values, offsets, params, exp, cs)


def test_chunks_of_a_sub_batch():
    """Offsets that do not start at 0 (a slice of a larger batch) tokenize the same documents."""
    docs = [b"skip me", b"", b"hello, w\xc3\xb6rld", b"\xff\xfe", b"", b"a b c d e f"]
    params = hash_params(9)
    data, offsets = _flat(docs)
    sub = offsets[2:]
    exp = ref.token_values("words", docs[2:], params)
    _check_chunks("words", data, sub, params, exp, 1, 2)
    _check_chunks("words", data, sub, params, exp, 10**6, 2)
    expb = ref.token_values("bytes", docs[2:], params)
    _check_chunks("bytes", data, sub, params, expb, 3)


def _check_words_chunk(docs, seed):
    """words_chunk of ``docs`` equals the oracle: token values, offsets, invalid count."""
    params = hash_params(seed)
    data, offsets = _flat(docs)
    chunk = tk.words_chunk(data, offsets, params)
    exp = ref.token_values("words", docs, params)
    assert chunk.tokens.tolist() == [t for v in exp for t in v]
    assert chunk.doc.tolist() == _doc_offsets(exp)
    assert chunk.invalid_utf8 == sum(_expected_invalid(d) for d in docs)


@HYP_FEW
@given(text=mixed_text, cuts=st.lists(st.integers(0, 400), max_size=6))
def test_documents_cut_inside_characters(text, cuts):
    """Documents are decoded independently, even when a boundary splits a UTF-8 sequence."""
    raw = text.encode("utf-8")
    bounds = sorted({min(c, len(raw)) for c in cuts} | {0, len(raw)})
    docs = [raw[a:b] for a, b in zip(bounds, bounds[1:])]
    _check_words_chunk(docs, seed=2)


@pytest.mark.parametrize(
    "docs",
    [
        [b"a\xe2\x82", b"\xac b"],
        [b"\xf0\x9f", b"\x98\x80", b"x"],
        [b"\xf0\x9f\x98", b"\x80"],
        [b"\xc3", b"\xa9t\xc3", b"\xa9"],
        [b"word", b"word", b"", b"\xe4\xb8", b"\xad"],
    ],
)
def test_documents_split_multibyte_examples(docs):
    _check_words_chunk(docs, seed=3)


def test_buffer_pool_reuses_arrays_of_counted_chunks():
    """Chunks made with a pool take their arrays from it; an array comes back only through
    ``give_back`` (after which the chunk holds no tokens), at most ``keep`` are held, and a
    chunk from a reused array has the same values as one from a fresh array."""
    params = hash_params(1)
    text = b"one two three, four five. six seven eight nine ten"
    data = np.frombuffer(text, dtype=np.uint8)
    offsets = np.array([0, 13, len(text)], dtype=np.int64)
    pool = tk.BufferPool(least=100, keep=1)
    a = tk.words_chunk(data, offsets, params, pool)
    b = tk.words_chunk(data, offsets, params, pool)
    assert a.buffer is not None and b.buffer is not None
    assert a.buffer is not b.buffer and a.buffer.shape[0] == 100  # none free yet: new ones
    expected = tk.words_chunk(data, offsets, params).tokens.tolist()
    first = a.buffer
    pool.give_back(a)
    pool.give_back(b)  # beyond keep=1: dropped
    assert a.buffer is None and a.tokens.shape[0] == 0
    first[:] = 12345  # stale values must not show through
    c = tk.words_chunk(data, offsets, params, pool)
    assert c.buffer is first  # the one held array is reused
    assert c.tokens.tolist() == expected
    d = tk.words_chunk(data, offsets, params, pool)
    assert d.buffer is not first
    big = np.frombuffer(b"x " * 200, dtype=np.uint8)
    pool.give_back(c)
    e = tk.words_chunk(big, np.array([0, 400], dtype=np.int64), params, pool)
    assert e.buffer.shape[0] >= 400 and e.buffer is not first  # too small: a new one


def test_word_classes_kept_in_a_file_are_the_ones_re_gives(tmp_path, monkeypatch):
    """The table read back from its file is the one built from ``re``; a missing, damaged or
    unwritable file means the table is built (and the answer is the same)."""
    path = tmp_path / "sub" / "classes.npy"
    monkeypatch.setattr(tk, "_classes_file", lambda: path)
    built = tk._build_word_classes()
    text = "".join(map(chr, range(0x3000))) + "\U0001f600\U000e0100"
    want = {c: 1 if re.fullmatch(r"\w", c) else 2 if c.isspace() else 0 for c in text}
    assert {c: {int(tk.kernels.CLASS_WORD): 1, int(tk.kernels.CLASS_SPACE): 2}.get(
        int(built[ord(c)]), 0) for c in text} == want  # fmt: skip
    for state in ("missing", "written", "damaged"):
        if state == "damaged":
            path.write_bytes(b"not an array")
        tk.word_classes.cache_clear()
        try:
            got = tk.word_classes()
        finally:
            tk.word_classes.cache_clear()
        assert np.array_equal(got, built), state
        assert path.exists()  # written (again) when missing or damaged
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")
    monkeypatch.setattr(tk, "_classes_file", lambda: blocked / "classes.npy")
    tk.word_classes.cache_clear()  # no directory can be made there: built, nothing written
    try:
        assert np.array_equal(tk.word_classes(), built)
    finally:
        tk.word_classes.cache_clear()
    assert blocked.read_bytes() == b""
