"""Seeded synthetic corpora: Parquet shards of exactly N tokens, for benchmarks up to 1e9 tokens.

The benchmarks need corpora far larger than the bundled sample, without downloads, and the same
bytes on every run. :func:`generate` writes them; ``python -m seqcount.synth`` is its command
line. It is a leaf of the package: it imports numpy, pyarrow and the standard library only, so the
benchmarks and the tests share it without importing each other.

Model
-----
A corpus is a sequence of documents; a document is a sequence of tokens drawn independently from
a fixed vocabulary of ``vocab`` types:

* **Token frequencies are Zipfian.** The type of rank ``r`` (1 = most frequent) is drawn with
  probability proportional to ``1 / r**zipf`` over the finite vocabulary (``zipf = 0`` is
  uniform). Natural-language word frequencies follow this law with an exponent near 1, and it is
  what makes distinct n-gram counts grow sub-linearly with the corpus, as in real text: the head
  of the distribution repeats, the tail keeps bringing new types and new n-grams. With the
  defaults (``zipf = 1.1`` over 50,000 types) 10,000 tokens hold about 2,800 distinct unigrams,
  1e6 tokens 42,000, and 1e7 all 50,000; distinct bigrams are 76% of the windows at 1e4 tokens,
  45% at 1e6 and 30% at 1e7. Tokens are independent of their neighbours (no grammar), so long
  n-grams (n >= 4 or so) are almost all distinct unless documents are duplicated: U_n(D) ~ D
  there, the regime a streaming counter finds hardest.
* **Document lengths are log-normal** around ``doc_tokens``: ``exp(mu + doc_sigma * Z)``
  tokens, rounded, at least 1, with ``mu`` chosen so that the mean is ``doc_tokens`` and ``Z``
  the Irwin-Hall approximation of a standard normal (the sum of 12 uniforms minus 6; bounded at
  +-6, so no document is more than about 250x the mean at ``doc_sigma = 1``). Web and book
  corpora have about this shape: many short documents, a long tail of long ones.
* **Exact duplicates**: each document after the first of a shard is, with probability
  ``dup_rate``, an exact copy of an earlier document of the same shard (chosen uniformly; a copy
  of a copy is a copy of the original), so duplication can be studied; the rest are fresh draws.
  Duplicates never cross shards.
* **Exactly ``tokens`` tokens**: the shards hold ``tokens // shards`` tokens each (the first
  ``tokens % shards`` one more); the last document of a shard is cut to fit (if it was a
  duplicate and had to be cut, it becomes a fresh document instead).

Two kinds of shard, from the same token sequence (same seed: the same documents, token for
token, so both give the same distinct-window counts):

* ``kind="text"``: a ``text`` column (``string``): the words of a document separated by single
  spaces. The vocabulary is ``vocab`` distinct lowercase ASCII words (a..z, 1 to 20 letters;
  frequent words are short: 2-4 letters for the top ranks, 8-10 for the tail of a 50,000-word
  vocabulary, about 4.6 letters per token on average, so about 5.6 bytes of text per token),
  generated from the seed. seqcount's ``words`` tokenizer (``re.findall(r"\\w+|[^\\w\\s]")``)
  counts exactly one token per word.
* ``kind="ids"``: an ``ids`` column (``list<int32>``): token ids in ``[0, vocab)``; ids are a
  seeded permutation of the ranks, so id 0 is not the most frequent token.

Determinism
-----------
The same arguments give byte-identical files, on any machine: every random number is a raw
64-bit output of ``numpy.random.PCG64`` (whose stream numpy keeps stable across versions),
turned into tokens with integer arithmetic and IEEE-exact float operations only (no libm
``exp``/``log``/``pow``, whose last bit may differ between platforms or SIMD paths; the Zipf
weights and document lengths use the polynomial :func:`~seqcount.synth.sampling.exp` /
:func:`~seqcount.synth.sampling.ln`). Sampling uses
an alias table with integer probabilities. The streams are derived with
``SeedSequence(seed, spawn_key=...)``: one for the vocabulary, one for the id permutation, and
two per shard (document plan, tokens), so shard ``k`` depends only on the arguments, ``k`` and
its own token count. The *values* in the files (every string, every id) should therefore be the
same for any numpy and pyarrow version (tests/test_synth.py pins a few); the Parquet *bytes* also
need the same pyarrow version (the file records ``created_by``, and the encoder's or
compressor's output may change between releases).

Speed and memory: vectorised numpy in blocks of 16,384 tokens (no per-token Python); memory is
bounded by one shard (its token ranks, 4 bytes per token, 40 MB at the default 10M tokens) plus
two row groups in flight and the vocabulary. Shards are written one at a time, one row group
per about ``row_group_tokens`` tokens of whole documents (a background thread encodes and
compresses one row group while the next is generated; the writes stay in order, so this does
not change the bytes), to a hidden temporary name renamed when complete, so an
interrupted run leaves no truncated ``part-*.parquet``. Existing ``part-*.parquet`` files in
``out_dir`` are deleted first (other files are left alone), so a directory always holds one
corpus.

Use
---
::

    python -m seqcount.synth /tmp/c1e8 --tokens 1e8                 # 10 text shards
    seqcount count /tmp/c1e8
    python -m seqcount.synth /tmp/i1e8 --tokens 1e8 --kind ids --shards 4
    seqcount count /tmp/i1e8 --tokens-column ids                     # implies --tokenizer ids

Pitman-Yor corpora (:mod:`seqcount.synth.pitman_yor`): token ids whose distinct count grows as
``D**discount``, with a closed-form expectation, for checking fitted growth exponents::

    from seqcount.synth import pitman_yor_table
    table = pitman_yor_table(2_000_000, 0.6, concentration=10.0, seed=1)
    seqcount.count(table, n=(1,), tokens_column="ids")

From Python::

    from seqcount.synth import generate
    paths = generate("/tmp/c", 50_000, shards=3, seed=1, dup_rate=0.1)
"""

from __future__ import annotations

from .cli import main, parse_count
from .corpus import (
    GENERATOR_VERSION,
    IDS_COLUMN,
    KINDS,
    METADATA_KEY,
    TEXT_COLUMN,
    Progress,
    generate,
    vocabulary,
)
from .pitman_yor import (
    distinct_counts,
    distinct_moments,
    document_offsets,
    expected_distinct,
    pitman_yor_ids,
    pitman_yor_table,
    sequential_ids,
    write_pitman_yor,
)

__all__ = [
    "GENERATOR_VERSION",
    "IDS_COLUMN",
    "KINDS",
    "METADATA_KEY",
    "TEXT_COLUMN",
    "Progress",
    "distinct_counts",
    "distinct_moments",
    "document_offsets",
    "expected_distinct",
    "generate",
    "main",
    "parse_count",
    "pitman_yor_ids",
    "pitman_yor_table",
    "sequential_ids",
    "vocabulary",
    "write_pitman_yor",
]
