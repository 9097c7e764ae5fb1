"""Write examples/tokens/austen.bin + austen.idx: the bundled Austen sample (data/austen) as a
Megatron-Core IndexedDataset of token ids.

    python examples/make_tokens.py

Tokens are seqcount's ``words`` tokens of each chapter (one document per Parquet row, in
sorted shard order), numbered by first occurrence (the first token seen is 0, the next new
one 1, ...), stored as uint16 with one sequence per document. The numbering is one-to-one, so
``seqcount count examples/tokens --exact`` gives the same exact distinct counts as
``seqcount count data/austen --tokenizer words --exact`` (tests/test_tokenfiles.py checks it).
The output is byte-for-byte the same on every run.

It lives outside data/ because ``seqcount count data/`` (the README's quick start) reads every
shard under data/, and token files cannot be counted together with text.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from seqcount.tokenize import words

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "tokens" / "austen"


def main() -> int:
    vocab: dict[str, int] = {}
    docs: list[np.ndarray] = []
    for shard in sorted((ROOT / "data" / "austen").glob("*.parquet")):
        for text in pq.read_table(shard, columns=["text"])["text"].to_pylist():
            ids = [vocab.setdefault(t, len(vocab)) for t in words(text or "")]
            docs.append(np.array(ids, dtype="<u2"))
    if len(vocab) > 1 << 16:
        raise SystemExit(f"{len(vocab)} distinct tokens do not fit uint16")
    lengths = np.array([d.shape[0] for d in docs], dtype="<i4")
    pointers = np.zeros(len(docs), dtype="<i8")
    pointers[1:] = np.cumsum(lengths[:-1].astype(np.int64) * 2)
    doc_index = np.arange(len(docs) + 1, dtype="<i8")  # one sequence per document
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.with_suffix(".bin").write_bytes(b"".join(d.tobytes() for d in docs))
    with open(OUT.with_suffix(".idx"), "wb") as f:
        # magic, version 1, dtype code 8 (uint16), sequences, document indices
        f.write(b"MMIDIDX\x00\x00" + struct.pack("<QBQQ", 1, 8, len(docs), len(doc_index)))
        f.write(lengths.tobytes() + pointers.tobytes() + doc_index.tobytes())
    print(f"wrote {OUT}.bin/.idx: {int(lengths.sum()):,} tokens, {len(docs)} documents, "
          f"{len(vocab):,} distinct tokens")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
