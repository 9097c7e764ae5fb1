"""Near-duplicate documents: per-document MinHash signatures in a banded LSH index.

Documents arrive in corpus order. Each one is looked up in ``datasketch.MinHashLSH`` among the
documents indexed before it; a candidate counts as a near-duplicate when the two signatures'
estimated Jaccard similarity reaches the threshold (LSH candidates are verified, so band
collisions alone never make a pair). Verified pairs are joined into clusters with a union-find.
A document with at least one near-duplicate earlier in the corpus is one a deduplication pass
keeping the first document of each cluster would drop.

Memory grows with the number of indexed documents: this module keeps each signature (8 bytes
per permutation) and the document's id for the verification, and datasketch's index keeps the
band keys in Python dicts; at 128 permutations that is about 5 KB per document (RSS, measured by
``benchmarks/bench_minhash.py``), 1 KB of it here. ``max_docs`` caps it: after that many
documents, later ones are still checked against the indexed ones but not indexed themselves,
and the summary says how many.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..sketches import MINHASH_SCHEME, minhash_permutations
from .results import CurveRow

#: Clusters listed in full in the summary, largest first.
MAX_LISTED_CLUSTERS = 10
#: Members listed per cluster.
MAX_LISTED_MEMBERS = 20


@dataclass
class DocId:
    """Where a document is: the index of its shard in reading order and its row in the shard."""

    shard: int
    row: int


def _enough_permutations(threshold: float, num_perm: int) -> str:
    """``K or more permutations`` for the smallest power-of-two multiple ``K`` of ``num_perm``
    (up to 8 times: each try is a parameter search of datasketch's, about 0.2 s) with which
    datasketch can band an LSH index at ``threshold``."""
    from datasketch import MinHashLSH

    k = num_perm
    while k < 8 * num_perm:
        k *= 2
        try:
            MinHashLSH(threshold=threshold, num_perm=k)
        except ValueError:
            continue
        return f"{k} or more permutations"
    return "more permutations"


class NearDupIndex:
    """Streaming near-duplicate search over document signatures.

    Args:
        threshold: Jaccard similarity in (0, 1) from which two documents are near-duplicates.
        num_perm, seed: the MinHash signatures' shape (``affine64`` scheme).
        max_docs: index at most this many documents (``None``: all).
    """

    def __init__(self, threshold: float, num_perm: int, seed: int, max_docs: int | None = None):
        from datasketch import MinHashLSH

        self.threshold = float(threshold)
        self.num_perm = int(num_perm)
        self.seed = int(seed)
        self.max_docs = max_docs
        self._perm = minhash_permutations(num_perm, seed)
        try:
            self.lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm)
        except ValueError as e:  # too few permutations to band at this threshold
            raise ConfigError(
                f"near_dup {threshold} with num_perm {num_perm}: the LSH index cannot be "
                f"banded ({e}); use {_enough_permutations(self.threshold, num_perm)} or a "
                "lower threshold",
                "near_dup",
                "num_perm",
            ) from None
        self._sigs = np.zeros((1024, num_perm), dtype=np.uint64)
        self._shard = np.zeros(1024, dtype=np.int64)
        self._row = np.zeros(1024, dtype=np.int64)
        self._parent = np.zeros(1024, dtype=np.int64)
        self.indexed = 0  # documents in the index (their keys are 0 .. indexed-1)
        self.checked = 0  # documents looked up
        self.duplicates = 0  # documents with a near-duplicate earlier in the corpus
        self.unindexed = 0  # documents checked but not indexed (max_docs reached)
        self.pairs = 0  # verified (document, earlier document) pairs

    @property
    def bands(self) -> int:
        return int(self.lsh.b)

    @property
    def rows(self) -> int:
        return int(self.lsh.r)

    def _grow(self) -> None:
        size = self._sigs.shape[0] * 2
        for name in ("_sigs", "_shard", "_row", "_parent"):
            old = getattr(self, name)
            new = np.zeros((size,) + old.shape[1:], dtype=old.dtype)
            new[: old.shape[0]] = old
            setattr(self, name, new)

    def _find(self, i: int) -> int:
        parent = self._parent
        root = i
        while parent[root] != root:
            root = int(parent[root])
        while parent[i] != root:  # path compression
            parent[i], i = root, int(parent[i])
        return root

    def _union(self, i: int, j: int) -> None:
        ri, rj = self._find(i), self._find(j)
        if ri != rj:  # the smaller key becomes the root: independent of the order of unions
            lo, hi = (ri, rj) if ri < rj else (rj, ri)
            self._parent[hi] = lo

    def add(self, signature: np.ndarray, shard: int, row: int) -> bool:
        """Look up one document (uint64 signature) and index it; return whether it has a
        near-duplicate among the documents indexed before it."""
        from datasketch import MinHash as DMinHash

        m = DMinHash(
            num_perm=self.num_perm,
            seed=self.seed,
            hashvalues=signature,
            permutations=self._perm,
            scheme=MINHASH_SCHEME,
        )
        self.checked += 1
        matches = []
        for key in self.lsh.query(m):
            j = float(np.count_nonzero(self._sigs[key] == signature)) / self.num_perm
            if j >= self.threshold:
                matches.append(key)
        self.pairs += len(matches)
        duplicate = bool(matches)
        self.duplicates += duplicate
        if self.max_docs is not None and self.indexed >= self.max_docs:
            self.unindexed += 1
            return duplicate
        key = self.indexed
        if key == self._sigs.shape[0]:
            self._grow()
        self._sigs[key] = signature
        self._shard[key] = shard
        self._row[key] = row
        self._parent[key] = key
        self.indexed += 1
        self.lsh.insert(key, m, check_duplication=False)
        for other in matches:
            self._union(key, other)
        return duplicate

    def clusters(self) -> list[list[DocId]]:
        """Clusters of more than one indexed document, largest first (ties: earliest first);
        members in corpus order."""
        n = self.indexed
        if n == 0:
            return []
        roots = np.array([self._find(i) for i in range(n)], dtype=np.int64)
        order = np.argsort(roots, kind="stable")
        sorted_roots = roots[order]
        starts = np.flatnonzero(np.r_[True, sorted_roots[1:] != sorted_roots[:-1]])
        ends = np.r_[starts[1:], n]
        groups = [order[s:e] for s, e in zip(starts, ends) if e - s > 1]
        groups.sort(key=lambda g: (-len(g), int(g[0])))
        return [[DocId(int(self._shard[k]), int(self._row[k])) for k in g] for g in groups]

    @property
    def nbytes(self) -> int:
        """Bytes held by this module's arrays (datasketch's index comes on top)."""
        return sum(getattr(self, a).nbytes for a in ("_sigs", "_shard", "_row", "_parent"))


@dataclass
class NearDupResult:
    """What ``--near-dup`` found.

    Attributes:
        threshold, n, num_perm, bands, rows: the search's settings (LSH bands x rows).
        checked: documents looked up (those with at least ``n`` tokens).
        short: non-empty documents shorter than ``n`` tokens, not checked (and kept).
        duplicates: documents with a near-duplicate earlier in the corpus (dropped by a
            deduplication that keeps the first of each cluster).
        unindexed: documents checked but not indexed because of ``max_docs``.
        pairs: verified (document, earlier document) pairs.
        clusters: number of clusters of two or more indexed documents.
        largest: the largest clusters, each a list of ``{"path", "row"}``.
        cluster_sizes: the sizes of those clusters (members beyond the listed ones included).
        rows: the growth curve after dropping the duplicates.
        index_bytes: bytes of signatures and ids held for the search (datasketch's LSH on top).
    """

    threshold: float
    n: int
    num_perm: int
    bands: int
    rows_per_band: int
    checked: int
    short: int
    duplicates: int
    unindexed: int
    pairs: int
    clusters: int
    largest: list[list[dict]]
    cluster_sizes: list[int]
    rows: list[CurveRow]
    index_bytes: int

    @property
    def rate(self) -> float:
        """Share of checked documents that are near-duplicates of an earlier one."""
        return self.duplicates / self.checked if self.checked else 0.0

    def to_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "n": self.n,
            "num_perm": self.num_perm,
            "lsh_bands": self.bands,
            "lsh_rows": self.rows_per_band,
            "documents_checked": self.checked,
            "short_documents": self.short,
            "near_duplicate_documents": self.duplicates,
            "near_duplicate_rate": round(self.rate, 6),
            "unindexed_documents": self.unindexed,
            "verified_pairs": self.pairs,
            "clusters": self.clusters,
            "largest_clusters": [
                {"size": size, "documents": docs}
                for size, docs in zip(self.cluster_sizes, self.largest)
            ],
        }


def near_dup_result(counter, stats: list) -> NearDupResult:
    """The :class:`NearDupResult` of a finished pass (``counter``: its :class:`Counter`)."""
    near = counter.near
    clusters = near.clusters()
    largest = [
        [{"path": stats[d.shard].path, "row": d.row} for d in c[:MAX_LISTED_MEMBERS]]
        for c in clusters[:MAX_LISTED_CLUSTERS]
    ]
    return NearDupResult(
        threshold=near.threshold,
        n=counter.config.near_dup_n,
        num_perm=near.num_perm,
        bands=near.bands,
        rows_per_band=near.rows,
        checked=near.checked,
        short=counter.short,
        duplicates=near.duplicates,
        unindexed=near.unindexed,
        pairs=near.pairs,
        clusters=len(clusters),
        largest=largest,
        cluster_sizes=[len(c) for c in clusters[:MAX_LISTED_CLUSTERS]],
        rows=counter.dedup_rows(),
        index_bytes=near.nbytes,
    )
