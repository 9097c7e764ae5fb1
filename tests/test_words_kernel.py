"""The ``words`` kernel's blocks, 8-byte loads, buffer ends and class tables against oracles.

:func:`seqcount._kernels.tokenize_words` takes each document ``WORDS_BLOCK`` bytes at a time
and loads eight bytes at a time; here the block is as small as one byte, so every place where a
word, a multi-byte character, an invalid sequence or a document meets a block boundary is
reached by small random inputs, and the documents sit inside a buffer with random bytes before
and after them (a kernel that read past a document's end, or past the buffer's, would differ).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import reference as ref
from conftest import hyp_settings
from hypothesis import given
from hypothesis import strategies as st
from test_tokenize import FFFD_BYTES, INVALID_UTF8, docs_strategy

from seqcount._kernels import words as kernels
from seqcount.hashing import hash_params
from seqcount.tokenize import word_classes

PATTERN = re.compile(r"\w+|[^\w\s]")
HYP = hyp_settings(300)

# long runs, so that blocks cut words, characters and invalid sequences in every way
long_piece = st.one_of(
    st.text("ab_9\u00e9\u0436\u4e2d\U00020000", min_size=8, max_size=40),  # one long word
    st.text(" \u3000.,\u2014\U0001f600", min_size=8, max_size=20),  # spaces and others
    st.lists(st.sampled_from(INVALID_UTF8), min_size=2, max_size=6).map(b"".join),
)
long_docs = st.lists(
    st.lists(
        st.one_of(long_piece.map(lambda p: p if isinstance(p, bytes) else p.encode())),
        max_size=5,
    ).map(b"".join),
    max_size=4,
)
blocks = st.one_of(st.integers(1, 9), st.integers(10, 80), st.just(kernels.WORDS_BLOCK))


def _expected(docs: list[bytes], bt: int):
    """Tokens (as text), values, token offsets and invalid sequences of ``docs`` by the
    oracle: ``re`` on the decoded text, ``reference.bytes_value`` on each token's bytes."""
    texts, values, doc, invalid = [], [], [0], 0
    for raw in docs:
        text = raw.decode("utf-8", "replace")
        toks = PATTERN.findall(text)
        texts += toks
        values += [ref.bytes_value(t.encode(), bt) for t in toks]
        doc.append(len(texts))
        invalid += text.count("\ufffd") - raw.count(FFFD_BYTES)
    return texts, values, doc, invalid


def _run(docs: list[bytes], before: bytes, after: bytes, block: int, bt: int):
    """The kernel on ``docs`` laid out between ``before`` and ``after`` in one buffer."""
    buf = before + b"".join(docs) + after
    data = np.frombuffer(buf, dtype=np.uint8)
    offsets = np.cumsum([len(before)] + [len(d) for d in docs]).astype(np.int64)
    n = max(int(offsets[-1] - offsets[0]), 1)
    out = np.full(n, 7, dtype=np.uint64)
    starts, ends = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    doc = np.empty(len(offsets), dtype=np.int64)
    ntok, invalid = kernels.tokenize_words(
        data, offsets, word_classes(), np.uint64(bt), out, doc, starts, ends, block
    )
    texts = [buf[s:e].decode("utf-8", "replace") for s, e in zip(starts[:ntok], ends[:ntok])]
    return texts, out[:ntok].tolist(), doc.tolist(), invalid


@HYP
@given(
    docs=st.one_of(docs_strategy, long_docs),
    before=st.binary(max_size=9),
    after=st.binary(max_size=9),
    block=blocks,
    seed=st.sampled_from([0, 3, 2**64 - 1]),
)
def test_blocks_equal_the_oracle(docs, before, after, block, seed):
    bt = hash_params(seed).token_base
    got = _run(docs, before, after, block, bt)
    assert got == _expected(docs, bt)
    if block != kernels.WORDS_BLOCK:  # and the default block gives the same
        assert got == _run(docs, before, after, kernels.WORDS_BLOCK, bt)


@pytest.mark.parametrize("block", [1, 2, 3, 7, 8, 9, 63, 64, 65])
def test_long_tokens_at_every_block_size(block):
    """Words of 1..70 bytes (7-byte chunks, 8-byte loads) of ASCII and of 2-, 3- and 4-byte
    characters, each at the end of its buffer too (where 8 bytes cannot be loaded)."""
    bt = hash_params(5).token_base
    for ch in ("a", "\u00e9", "\u4e2d", "\U00020000", "."):
        for k in range(1, 71 // len(ch.encode()) + 1):
            text = ch * k if ch != "." else "." * k
            for docs in ([text.encode()], [b"x " + text.encode() + b" y"]):
                assert _run(docs, b"", b"", block, bt) == _expected(docs, bt), (ch, k)


def test_words_block_is_the_default():
    """tokenize_words without a block takes WORDS_BLOCK bytes at a time."""
    docs = ["caf\u00e9 \u4e2d\u6587, ok".encode() * 3000, b"\xff tail"]
    bt = hash_params(1).token_base
    data = np.frombuffer(b"".join(docs), dtype=np.uint8)
    offsets = np.cumsum([0] + [len(d) for d in docs]).astype(np.int64)
    outs = []
    for extra in ((), (kernels.WORDS_BLOCK,)):
        out, doc = np.empty(len(data), dtype=np.uint64), np.empty(3, dtype=np.int64)
        none = np.empty(0, dtype=np.int64)
        ntok, invalid = kernels.tokenize_words(
            data, offsets, word_classes(), np.uint64(bt), out, doc, none, none, *extra
        )
        outs.append((out[:ntok].tolist(), doc.tolist(), invalid))
    assert outs[0] == outs[1]
    texts, values, doc, invalid = _expected(docs, bt)
    assert outs[0] == (values, doc, invalid)


#: Valid two- and three-byte text, so that its 64-byte groups take the branch-free path.
DENSE = ("\u0436\u0438\u4e2d\u6587 ab\u00e9, \u0915\u093f " * 12).encode()


@pytest.mark.parametrize("bad", [*INVALID_UTF8, b"\xbf\xbf", b"\xe4\xb8", b"\xf0\x9f\x98\x80"])
def test_invalid_sequences_inside_dense_groups(bad):
    """A stray, cut or invalid sequence (or a 4-byte character) at every place of a group of
    otherwise valid multi-byte text."""
    bt = hash_params(6).token_base
    for at in range(60, 140):
        docs = [DENSE[:at] + bad + DENSE[at:]]
        exp = _expected(docs, bt)
        for block in (64, kernels.WORDS_BLOCK):
            assert _run(docs, b"", b"", block, bt) == exp, (at, block)


def test_documents_end_inside_dense_groups():
    """A document boundary at every place of dense text, inside characters too."""
    bt = hash_params(7).token_base
    for cut in range(60, 140):
        docs = [DENSE[:cut], DENSE[cut:]]
        exp = _expected(docs, bt)
        for block in (64, kernels.WORDS_BLOCK):
            assert _run(docs, b"", b"", block, bt) == exp, (cut, block)


def _tokens_by_classes(text: str, classes: np.ndarray) -> list[str]:
    """The tokens of ``text`` under any class table: runs of word characters, single other
    characters; spaces separate (a slow oracle, independent of ``re``)."""
    out, run = [], ""
    for ch in text:
        c = classes[ord(ch)]
        if c == kernels.CLASS_WORD:
            run += ch
            continue
        if run:
            out.append(run)
            run = ""
        if c == kernels.CLASS_OTHER:
            out.append(ch)
    return out + ([run] if run else [])


@HYP
@given(
    text=st.text(st.characters(max_codepoint=0x3000, exclude_categories=("Cs",)), max_size=300),
    ascii_classes=st.lists(st.sampled_from([0, 1, 2]), min_size=128, max_size=128),
)
def test_other_ascii_classes_use_the_table(text, ascii_classes):
    """A class table whose ASCII part is not Python's (the kernel's vectorised ASCII classes
    would be wrong) is read as given."""
    classes = word_classes().copy()
    classes[:128] = ascii_classes
    raw = text.encode()
    data = np.frombuffer(raw + b"pad....!", dtype=np.uint8)
    n = max(len(raw), 1)
    out, starts, ends = (np.empty(n, dtype=t) for t in (np.uint64, np.int64, np.int64))
    doc = np.empty(2, dtype=np.int64)
    offsets = np.array([0, len(raw)], dtype=np.int64)
    ntok, _ = kernels.tokenize_words(data, offsets, classes, np.uint64(3), out, doc, starts, ends)
    got = [raw[s:e].decode() for s, e in zip(starts[:ntok], ends[:ntok])]
    assert got == _tokens_by_classes(text, classes)
    assert out[:ntok].tolist() == [ref.bytes_value(t.encode(), 3) for t in got]


def test_bytes_that_are_not_contiguous():
    """A strided byte array (the 8-byte loads need contiguous bytes) gives the same tokens."""
    raw = "h\u00e9llo w\u00f6rld, ok \u4e2d\u6587 \xff".encode("utf-8", "surrogateescape") * 9
    strided = np.repeat(np.frombuffer(raw, dtype=np.uint8), 2)[::2]
    assert not strided.flags.c_contiguous
    bt = hash_params(8).token_base
    offsets = np.array([0, 40, len(raw)], dtype=np.int64)
    outs = []
    for data in (strided, np.frombuffer(raw, dtype=np.uint8)):
        out, doc = np.empty(len(raw), dtype=np.uint64), np.empty(3, dtype=np.int64)
        none = np.empty(0, dtype=np.int64)
        ntok, invalid = kernels.tokenize_words(
            data, offsets, word_classes(), np.uint64(bt), out, doc, none, none
        )
        outs.append((out[:ntok].tolist(), doc.tolist(), invalid))
    assert outs[0] == outs[1] == _expected([raw[:40], raw[40:]], bt)[1:]
