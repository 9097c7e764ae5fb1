"""Rebuild data/austen/ from the single-file sample (one shard per novel, book order).

    python tests/data/build_austen.py PATH/TO/austen_chapters.parquet

The source file has one row per chapter with columns ``text`` and ``novel`` in book order
(see data/README.md). Each novel becomes ``NN-<novel>.parquet`` with row groups of 16 rows,
zstd-compressed, so that sorted path order is the original row order.
"""

import sys
from pathlib import Path

import pyarrow.parquet as pq


def main(src: str) -> None:
    table = pq.read_table(src)
    novels = table.column("novel").to_pylist()
    order = list(dict.fromkeys(novels))
    out = Path(__file__).resolve().parents[2] / "data" / "austen"
    out.mkdir(exist_ok=True)
    start = 0
    for i, novel in enumerate(order):
        k = novels.count(novel)
        if novels[start : start + k] != [novel] * k:
            sys.exit(f"{src}: the chapters of {novel} are not contiguous")
        pq.write_table(
            table.slice(start, k), out / f"{i:02d}-{novel}.parquet",
            row_group_size=16, compression="zstd",
        )  # fmt: skip
        start += k
    print(f"wrote {len(order)} shards, {start} documents, to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
