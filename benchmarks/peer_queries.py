"""The peers of ``bench_e2e_peers``, each run as a whole process: Polars and DuckDB queries and
the pure-Python datasketch loop, counting distinct n-grams of the words of the regex
:data:`PATTERN` in the ``text`` column of Parquet shards.

    python -m benchmarks.peer_queries QUERY ANSWER_JSON SHARD...

writes ``{"answer": ..., "tokens": ...}`` to ``ANSWER_JSON`` (``answer`` is the distinct count
the query found; for ``datasketch-loop`` a dict n -> estimate; ``tokens`` where the query
counts them). Queries (:data:`QUERIES`):

- ``polars-exact-1``: ``n_unique`` of the exploded ``str.extract_all`` words;
- ``polars-approx-1``: the same with ``approx_n_unique`` (HyperLogLog);
- ``polars-approx-8``: words with their document number, the next 7 words of the same document
  by ``shift(-k).over(doc)``, a struct of the 8 hashed (``hash``), ``approx_n_unique``;
- ``duckdb-exact-1``: ``count(DISTINCT w)`` over ``unnest(regexp_extract_all(text, ...))``;
- ``duckdb-exact-8``: the words with their position (``generate_subscripts``), 7 ``lead()``
  over the document, ``count(DISTINCT (w, w1, ..., w7))`` (exact);
- ``datasketch-loop``: pyarrow batches, ``regex.findall`` of the same pattern and one datasketch
  ``HyperLogLogPlusPlus`` (p = 16) ``update`` per n-gram for each of the 7 n, on the first
  ``--max-tokens`` tokens (whole documents).

Every query drops windows that would cross a document boundary, like seqcount.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

#: The word regex of the peers; seqcount's ``words`` tokenizer is ``\\w+|[^\\w\\s]`` in
#: Python's ``re`` (see ``bench_e2e_peers`` for the check that the two agree on the corpus).
PATTERN = r"[\p{L}\p{N}_]+|[^\p{L}\p{N}_\s]"
NS = (1, 2, 4, 8, 16, 32, 64)


def _polars_words(shards: list[str]):
    import polars as pl

    return (
        pl.scan_parquet(shards)
        .select(pl.col("text").str.extract_all(PATTERN).alias("w"))
        .with_row_index("doc")
        .explode("w")
        .drop_nulls("w")
    )


def polars_exact_1(shards: list[str]) -> tuple[int, int]:
    """Distinct words and words."""
    import polars as pl

    q = _polars_words(shards).select(pl.col("w").n_unique().alias("u"), pl.len().alias("k"))
    row = q.collect().row(0)
    return int(row[0]), int(row[1])


def polars_approx_1(shards: list[str]) -> int:
    import polars as pl

    return int(_polars_words(shards).select(pl.col("w").approx_n_unique()).collect().item())


def polars_approx_8(shards: list[str]) -> int:
    import polars as pl

    cols = [pl.col("w").shift(-k).over("doc").alias(f"w{k}") for k in range(1, 8)]
    q = (
        _polars_words(shards)
        .with_columns(cols)
        .drop_nulls("w7")
        .select(pl.struct(["w", *(f"w{k}" for k in range(1, 8))]).hash().approx_n_unique())
    )
    return int(q.collect().item())


def _duck_words(shards: list[str]) -> str:
    files = ", ".join("'" + s.replace("'", "''") + "'" for s in shards)
    return (
        f"SELECT doc, unnest(ws) AS w, unnest(generate_series(1, len(ws))) AS pos FROM ("
        f"SELECT row_number() OVER () AS doc, regexp_extract_all(text, '{PATTERN}') AS ws "
        f"FROM read_parquet([{files}]))"
    )


def duckdb_exact_1(shards: list[str]) -> int:
    import duckdb

    files = ", ".join("'" + s.replace("'", "''") + "'" for s in shards)
    sql = (
        f"SELECT count(DISTINCT w) FROM (SELECT unnest(regexp_extract_all(text, '{PATTERN}')) "
        f"AS w FROM read_parquet([{files}]))"
    )
    return int(duckdb.connect().execute(sql).fetchone()[0])


def duckdb_exact_8(shards: list[str]) -> int:
    import duckdb

    leads = ", ".join(
        f"lead(w, {k}) OVER (PARTITION BY doc ORDER BY pos) AS w{k}" for k in range(1, 8)
    )
    sql = (
        f"WITH words AS ({_duck_words(shards)}), grams AS (SELECT w, {leads} FROM words) "
        "SELECT count(DISTINCT (w, w1, w2, w3, w4, w5, w6, w7)) FROM grams WHERE w7 IS NOT NULL"
    )
    return int(duckdb.connect().execute(sql).fetchone()[0])


def datasketch_loop(shards: list[str], max_tokens: int) -> dict:
    import pyarrow.parquet as pq
    from datasketch import HyperLogLogPlusPlus

    try:
        import regex

        pat = regex.compile(PATTERN)
    except ImportError:  # Python's re: the same classes on Python's Unicode database
        import re

        pat = re.compile(r"\w+|[^\w\s]")
    hlls = {n: HyperLogLogPlusPlus(p=16) for n in NS}
    tokens = 0
    for path in shards:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=64, columns=["text"]):
            for text in batch.column(0).to_pylist():
                if tokens >= max_tokens:
                    break
                toks = pat.findall(text or "")
                tokens += len(toks)
                for n, h in hlls.items():
                    update = h.update
                    for i in range(len(toks) - n + 1):
                        update(" ".join(toks[i : i + n]).encode("utf-8"))
    return {"answer": {str(n): float(h.count()) for n, h in hlls.items()}, "tokens": tokens}


QUERIES = {
    "polars-exact-1": polars_exact_1,
    "polars-approx-1": polars_approx_1,
    "polars-approx-8": polars_approx_8,
    "duckdb-exact-1": duckdb_exact_1,
    "duckdb-exact-8": duckdb_exact_8,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.peer_queries", description=__doc__)
    ap.add_argument("query", choices=[*QUERIES, "datasketch-loop"])
    ap.add_argument("answer", help="JSON file written with the answer")
    ap.add_argument("shards", nargs="+")
    ap.add_argument("--max-tokens", type=int, default=200_000)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    if a.query == "datasketch-loop":
        out = datasketch_loop(a.shards, a.max_tokens)
    else:
        got = QUERIES[a.query](a.shards)
        out = {"answer": got[0], "tokens": got[1]} if isinstance(got, tuple) else {"answer": got}
    out["seconds_in_query"] = time.perf_counter() - t0
    with open(a.answer, "w") as f:
        json.dump(out, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
