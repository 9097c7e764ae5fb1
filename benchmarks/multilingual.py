"""A seeded multilingual text corpus for the end-to-end peers benchmark (``bench_e2e_peers``).

:func:`corpus` writes (once; kept under ``benchmarks/_work``) Parquet shards with a ``text``
column: documents in Latin with accents, Cyrillic, Greek, CJK and Arabic script, each document
in one script with a few Latin loanwords, numbers and punctuation. Words of each script are
drawn from a vocabulary of :data:`VOCAB` words with Zipf-like frequencies (exponent
:data:`ZIPF`); a share of every document is overwritten by stock phrases (Zipf-popular runs of
6-24 tokens, so longer n-grams repeat as in real text) and a share of documents are exact
copies of earlier ones. CJK words are mostly written without spaces between them, so a run of
them is one token of the regex ``[\\p{L}\\p{N}_]+|[^\\p{L}\\p{N}_\\s]`` (and of seqcount's
``words`` tokenizer, Python's ``\\w+|[^\\w\\s]``), as in real unsegmented text. Only ASCII
spaces separate tokens: RE2 (DuckDB) reads ``\\s`` as ASCII whitespace only, Python and the
Rust regex crate (Polars) as Unicode whitespace, so other spaces would split differently.

The token count of the regex is computed while generating (glued CJK runs merge) and stored in
``DIR.manifest.json`` beside the shards' directory, with the seed and the generator version.

    python -m benchmarks.multilingual --tokens 32000000 --out DIR
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

#: Bumped whenever the same arguments would give different text.
VERSION = 1
#: Script -> (code point ranges, each range's share of letters, word length range, share of
#: documents).
SCRIPTS = {
    "latin": (((0x61, 0x7A), (0xE0, 0xF6), (0xF8, 0xFF), (0x101, 0x17E)), (0.88, 0.07, 0.02, 0.03),
              (1, 12), 0.40),
    "cyrillic": (((0x430, 0x44F), (0x451, 0x451), (0x456, 0x457)), (0.96, 0.02, 0.02), (1, 12),
                 0.17),
    "greek": (((0x3B1, 0x3C9), (0x3AC, 0x3AF), (0x3CC, 0x3CE)), (0.9, 0.06, 0.04), (1, 11), 0.10),
    "cjk": (((0x4E00, 0x9FFF), (0x3041, 0x3093)), (0.85, 0.15), (1, 3), 0.18),
    "arabic": (((0x627, 0x63A), (0x641, 0x64A)), (0.6, 0.4), (2, 9), 0.15),
}  # fmt: skip
PUNCT = [".", ",", ".", ",", "!", "?", ";", ":", "-", "(", ")", '"', "\u2014", "\u00ab",
         "\u00bb", "\u3002", "\uff0c", "\u060c", "\u061f", "%", "/", "'"]  # fmt: skip
VOCAB = 80_000  # words per script
ZIPF = 1.07
NUMBERS = 20_000  # distinct numbers
P_PUNCT, P_NUMBER, P_LOAN = 0.10, 0.02, 0.04  # per token of a document
P_PHRASE_TOKENS = 0.12  # share of tokens overwritten by stock phrases
PHRASES = 30_000  # stock phrases per script
P_DUP_DOC = 0.03  # documents that repeat an earlier one
CJK_SPACE = 0.35  # chance of a space before a CJK word
DOC_TOKENS = 450.0  # mean tokens per document (log-normal, sigma 1)
SHARDS = 4


def _zipf_cdf(size: int, s: float = ZIPF) -> np.ndarray:
    w = 1.0 / np.arange(1, size + 1, dtype=np.float64) ** s
    c = np.cumsum(w)
    return c / c[-1]


def _draw(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(n)), cdf.shape[0] - 1)


def _vocabulary(rng: np.random.Generator, ranges, shares, lengths) -> list[str]:
    """:data:`VOCAB` words, frequent ones short: length about lo + 0.6 ln(rank) +- 1."""
    lo, hi = lengths
    alphabet = np.concatenate([np.arange(a, b + 1) for a, b in ranges])
    weights = np.concatenate([np.full(b - a + 1, s / (b - a + 1)) for (a, b), s in
                              zip(ranges, shares)])  # fmt: skip
    weights /= weights.sum()
    rank = np.arange(1, VOCAB + 1, dtype=np.float64)
    base = lo + 0.6 * np.log(rank) if hi > 4 else lo + 0.25 * np.log(rank)
    lens = np.clip(np.floor(base).astype(np.int64) + rng.integers(-1, 2, VOCAB), lo, hi)
    letters = rng.choice(alphabet, size=int(lens.sum()), p=weights)
    chars = np.array([chr(c) for c in range(alphabet.max() + 1)], dtype=object)
    flat = chars[letters].tolist()
    out, i = [], 0
    for k in lens.tolist():
        out.append("".join(flat[i : i + k]))
        i += k
    return out


class _Model:
    """Vocabularies, phrase pools and the token-id layout: ids ``[0, len(PUNCT))`` are
    punctuation, then numbers, then each script's words."""

    def __init__(self, seed: int):
        rng = np.random.default_rng([seed, 0])
        self.cdf = _zipf_cdf(VOCAB)
        numbers = [str(x) for x in rng.integers(0, 10 ** rng.integers(1, 6, NUMBERS))]
        strings: list[str] = list(PUNCT) + numbers
        self.num0 = len(PUNCT)
        self.script0 = {}
        for name, (ranges, shares, lengths, _) in SCRIPTS.items():
            self.script0[name] = len(strings)
            strings += _vocabulary(rng, ranges, shares, lengths)
        self.names = list(SCRIPTS)
        self.doc_share = np.array([SCRIPTS[n][3] for n in self.names])
        self.doc_share /= self.doc_share.sum()
        self.cjk = (self.script0["cjk"], self.script0["cjk"] + VOCAB)
        # prefixed strings: words and numbers after a space, punctuation glued to the left
        self.spaced = np.array([" " + s for s in strings], dtype=object)
        self.glued = np.array(strings, dtype=object)
        self.spaced[: len(PUNCT)] = self.glued[: len(PUNCT)]
        self.phrases = {}
        for name in self.names:
            lens = rng.integers(6, 25, PHRASES)
            toks = self.tokens(rng, name, int(lens.sum()))
            self.phrases[name] = (np.concatenate([[0], np.cumsum(lens)]), toks)
        self.phrase_cdf = _zipf_cdf(PHRASES, 1.0)

    def tokens(self, rng: np.random.Generator, script: str, n: int) -> np.ndarray:
        """``n`` token ids of a document in ``script``."""
        ids = self.script0[script] + _draw(rng, self.cdf, n)
        u = rng.random(n)
        punct = u < P_PUNCT
        ids[punct] = rng.integers(0, len(PUNCT), int(punct.sum()))
        num = (u >= P_PUNCT) & (u < P_PUNCT + P_NUMBER)
        ids[num] = self.num0 + _draw(rng, _zipf_cdf(NUMBERS), int(num.sum()))
        loan = (u >= P_PUNCT + P_NUMBER) & (u < P_PUNCT + P_NUMBER + P_LOAN)
        if script != "latin":
            ids[loan] = self.script0["latin"] + _draw(rng, self.cdf[:5000] / self.cdf[4999],
                                                      int(loan.sum()))  # fmt: skip
        return ids

    def document(self, rng: np.random.Generator, n: int) -> tuple[str, int]:
        """A document of ``n`` token ids and its regex token count."""
        script = self.names[int(rng.choice(len(self.names), p=self.doc_share))]
        ids = self.tokens(rng, script, n)
        starts, pool = self.phrases[script]
        k = rng.binomial(n, P_PHRASE_TOKENS / 15.0)
        for p, at in zip(_draw(rng, self.phrase_cdf, k).tolist(), rng.integers(0, n, k).tolist()):
            piece = pool[starts[p] : starts[p + 1]][: n - at]
            ids[at : at + piece.shape[0]] = piece
        pieces = self.spaced[ids]
        merges = 0
        if script == "cjk":
            is_cjk = (ids >= self.cjk[0]) & (ids < self.cjk[1])
            glue = is_cjk & (rng.random(n) >= CJK_SPACE)
            glue[0] = False
            pieces[glue] = self.glued[ids[glue]]
            word = ids >= self.num0
            merges = int(np.count_nonzero(glue[1:] & word[:-1]))
        text = "".join(pieces.tolist()).lstrip(" ")
        return text, n - merges


def _manifest(out: Path) -> Path:
    """The manifest of the corpus in ``out``: beside the directory, so that a reader of the
    directory sees only the shards."""
    return out.parent / (out.name + ".manifest.json")


def generate(out: Path, tokens: int, seed: int = 0, shards: int = SHARDS) -> dict:
    """Write ``shards`` Parquet shards of at least ``tokens`` regex tokens into ``out`` and
    its manifest; returns the manifest."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    model = _Model(seed)
    out.mkdir(parents=True, exist_ok=True)
    per_shard = math.ceil(tokens / shards)
    mu = math.log(DOC_TOKENS) - 0.5
    manifest = {"version": VERSION, "seed": seed, "shards": [], "tokens": 0, "documents": 0}
    for s in range(shards):
        rng = np.random.default_rng([seed, 1, s])
        texts: list[str] = []
        got = 0
        while got < per_shard:
            if texts and rng.random() < P_DUP_DOC:
                texts.append(texts[int(rng.integers(len(texts)))])
            else:
                n = int(min(max(2, rng.lognormal(mu, 1.0)), 20_000))
                texts.append(model.document(rng, n))
            got += texts[-1][1]
        path = out / f"part-{s:05d}.parquet"
        pq.write_table(pa.table({"text": [t for t, _ in texts]}), path, compression="zstd")
        count = sum(k for _, k in texts)
        manifest["shards"].append({"file": path.name, "documents": len(texts), "tokens": count})
        manifest["tokens"] += count
        manifest["documents"] += len(texts)
    _manifest(out).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def corpus(work: Path, tokens: int, seed: int = 0) -> tuple[Path, dict]:
    """The corpus of ``tokens`` tokens under ``work`` (generated once, then reused)."""
    dest = work / f"multilingual_{tokens}_s{seed}_v{VERSION}"
    manifest = _manifest(dest)
    if not manifest.is_file():
        generate(dest, tokens, seed)
    return dest, json.loads(manifest.read_text())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.multilingual", description=__doc__)
    ap.add_argument("--tokens", type=int, default=32_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    m = generate(a.out, a.tokens, a.seed)
    print(json.dumps({k: m[k] for k in ("tokens", "documents")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
