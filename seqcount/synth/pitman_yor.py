"""Token-id corpora from a Pitman-Yor process, whose distinct count grows as D**discount.

The growth exponent a report fits is only worth trusting if it can be checked against corpora
whose exponent is known. A Pitman-Yor process with discount ``d`` in [0, 1) and concentration
``theta > -d`` is such a source: its number of distinct ids after ``D`` tokens, ``K_D``, grows
like ``S * D**d`` (``S`` a random scale fixed by the first tokens; logarithmically for ``d = 0``),
and ``E[K_D]`` has a closed form (:func:`expected_distinct`), so the finite-D departure from
``D**d`` is known too: for ``theta > 0`` the local slope of ``log E[K_D]`` starts above ``d`` and
falls to it.

Sampler
-------
The Chinese-restaurant scheme: token ``i + 1`` (``i`` tokens seen, ``K`` distinct) is a new id
with probability ``(theta + d*K) / (theta + i)``, else an existing id ``j`` with probability
``(n_j - d) / (theta + i)`` (``n_j`` its count so far). It is sequential, but only through
``K``, and it is sampled exactly without a per-token Python loop:

1. *New ids.* Token ``i + 1`` is new iff ``u_i * (theta + i) - theta < d * K_i`` for a uniform
   ``u_i``; ``K`` is the only state. The decisions are made a segment at a time (about
   ``sqrt(K)`` new ids per segment): within a segment, ``K`` at each token is at least ``K`` at
   its start plus the new ids decided before it, and iterating that bound from below reaches the
   sequential answer (a monotone fixed point; typically 2-3 passes).
2. *Which existing id.* ``n_j - d = (1 - d) + (n_j - 1)``: with probability
   ``(1 - d) K / (i - d K)`` the token takes a uniformly chosen existing id, else it copies the
   id of a uniformly chosen earlier token that was not the first of its id. These choices do not
   depend on the ids themselves, only on ``K`` and ``i``, so they are drawn for all tokens at
   once; the copies form pointer chains to earlier tokens, resolved by pointer doubling (about
   ``log2(log D)`` passes).

:func:`sequential_ids` is the slow oracle: the same uniforms consumed by a plain loop, which must
give the same ids. Ids are numbered in order of first appearance (id ``k`` first occurs after id
``k - 1``), so the exact distinct count of any prefix is its running maximum plus one
(:func:`distinct_counts`). About 0.3 s per 2 M tokens (numpy only).

Documents: the stream is cut into documents of geometric length with mean ``doc_tokens`` (the
tokens are exchangeable, so documents are contiguous pieces with no burstiness of their own).
:func:`pitman_yor_table` returns an Arrow table with a ``list<int64>`` column that
``seqcount.count(table, n=(1,), tokens_column="ids")`` reads directly;
:func:`write_pitman_yor` writes it as one Parquet file.

Determinism: the same arguments give the same ids (raw PCG64 outputs, streams derived with
``SeedSequence(seed, spawn_key=(0x5059, k))``).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .sampling import stream, uniform

#: The spawn-key prefix of this generator's random streams ("PY").
STREAM_KEY = 0x5059
#: Most tokens of one corpus (int64 ids; memory is about 60 bytes per token while sampling).
MAX_TOKENS = 2**31 - 1


def check_parameters(discount: float, concentration: float) -> tuple[float, float]:
    """``(discount, concentration)`` as floats, or ValueError: 0 <= d < 1 and theta > -d."""
    d, theta = float(discount), float(concentration)
    if not (math.isfinite(d) and 0.0 <= d < 1.0):
        raise ValueError(f"discount must be in [0, 1), got {discount!r}")
    if not (math.isfinite(theta) and theta > -d):
        raise ValueError(f"concentration must be > -discount ({-d:g}), got {concentration!r}")
    return d, theta


def _uniforms(seed: int, key: int, n: int) -> np.ndarray:
    return uniform(stream(seed, STREAM_KEY, key).random_raw(n))


def _draws(tokens: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three uniforms of every token after the first: new?, pick or copy?, which."""
    m = tokens - 1
    return _uniforms(seed, 0, m), _uniforms(seed, 1, m), _uniforms(seed, 2, m)


def _new_flags(u_new: np.ndarray, d: float, theta: float) -> np.ndarray:
    """Whether each token after the first is a new id (the segment-wise fixed point above)."""
    m = u_new.shape[0]
    seen = np.arange(1, m + 1, dtype=np.float64)  # tokens before each one
    lhs = u_new * (theta + seen) - theta  # new iff lhs < d * K
    if d == 0.0:
        return lhs < 0.0
    new = np.zeros(m, dtype=bool)
    k, s = 1, 0
    while s < m:
        p = (theta + d * k) / (theta + s + 1)
        length = int(min(m - s, max(1.0, math.ceil(max(4.0, math.sqrt(k)) / p)), 1 << 20))
        seg = lhs[s : s + length]
        e = seg < d * k
        while True:
            c = np.cumsum(e)
            e2 = seg < d * (k + c - e)
            if np.array_equal(e2, e):
                break
            e = e2
        new[s : s + length] = e
        k += int(np.count_nonzero(e))
        s += length
    return new


def _labels(isnew: np.ndarray, u_kind: np.ndarray, u_which: np.ndarray, d: float) -> np.ndarray:
    """Ids from the new-id flags (``isnew[0]`` true): uniform picks and copies, then doubling."""
    n = isnew.shape[0]
    k_before = np.cumsum(isnew) - isnew  # distinct ids before each token
    pos = np.arange(n, dtype=np.int64)
    m = pos - k_before  # earlier tokens that were not the first of their id
    kf = k_before[1:].astype(np.float64)
    pick = (u_kind * (pos[1:] - d * kf) < (1.0 - d) * kf) | (m[1:] == 0)
    label = k_before.astype(np.int64)  # right for new tokens
    which = np.minimum((u_which * kf).astype(np.int64), k_before[1:] - 1)
    old = ~isnew[1:]
    label[1:][old & pick] = which[old & pick]
    parent = np.arange(n, dtype=np.int32)  # int32 gathers: half the memory traffic
    copy = np.flatnonzero(old & ~pick) + 1
    if copy.size:
        nonfirst = np.flatnonzero(~isnew)
        r = np.minimum((u_which[copy - 1] * m[copy]).astype(np.int64), m[copy] - 1)
        parent[copy] = nonfirst[r].astype(np.int32)
        while True:
            up = parent[parent]
            if np.array_equal(up, parent):
                break
            parent = up
    return label[parent]


def pitman_yor_ids(tokens: int, discount: float, concentration: float = 0.0, seed: int = 0):
    """``tokens`` token ids from a Pitman-Yor process (ids in order of first appearance).

    Args:
        tokens: corpus length, 1 .. :data:`MAX_TOKENS`.
        discount: ``d`` in [0, 1); the distinct count grows as ``D**d`` (``log D`` at 0).
        concentration: ``theta > -d``; larger values delay the power law (more new ids early).
        seed: the random seed; the same arguments give the same ids.

    Returns:
        int64 array of ``tokens`` ids.

    Raises:
        ValueError: an argument out of range.
    """
    d, theta = check_parameters(discount, concentration)
    if not (isinstance(tokens, (int, np.integer)) and 1 <= tokens <= MAX_TOKENS):
        raise ValueError(f"tokens must be an integer in [1, {MAX_TOKENS}], got {tokens!r}")
    u_new, u_kind, u_which = _draws(int(tokens), seed)
    isnew = np.concatenate([[True], _new_flags(u_new, d, theta)])
    return _labels(isnew, u_kind, u_which, d)


def sequential_ids(tokens: int, discount: float, concentration: float = 0.0, seed: int = 0):
    """Slow oracle of :func:`pitman_yor_ids`: the same uniforms, one token at a time."""
    d, theta = check_parameters(discount, concentration)
    u_new, u_kind, u_which = _draws(int(tokens), seed)
    ids = [0]
    nonfirst: list[int] = []
    k = 1
    for i in range(1, int(tokens)):
        if u_new[i - 1] * (theta + i) - theta < d * k:
            ids.append(k)
            k += 1
            continue
        m = i - k
        if m == 0 or u_kind[i - 1] * (i - d * k) < (1.0 - d) * k:
            ids.append(min(int(u_which[i - 1] * k), k - 1))
        else:
            ids.append(ids[nonfirst[min(int(u_which[i - 1] * m), m - 1)]])
        nonfirst.append(i)
    return np.array(ids, dtype=np.int64)


def distinct_counts(ids: np.ndarray, at) -> np.ndarray:
    """Exact distinct ids in the first ``at`` tokens (ids numbered in order of appearance)."""
    at = np.asarray(at, dtype=np.int64)
    return np.maximum.accumulate(ids)[at - 1] + 1


def expected_distinct(n: float, discount: float, concentration: float = 0.0) -> float:
    """``E[K_n]``, the expected distinct ids after ``n`` tokens (closed form).

    ``d > 0``: ``(Gamma(theta+1) Gamma(theta+d+n) / (Gamma(theta+d) Gamma(theta+n)) - theta)/d``
    (``= (theta/d) ((theta+d)_n / (theta)_n - 1)`` with rising factorials; ``Gamma(n+d) /
    (Gamma(1+d) Gamma(n))`` at ``theta = 0``); ``d = 0``: ``sum_{i<n} theta / (theta + i)``.
    """
    d, theta = check_parameters(discount, concentration)
    if d == 0.0:
        return float(np.sum(theta / (theta + np.arange(int(n), dtype=np.float64))))
    lg = math.lgamma
    log_ratio = lg(theta + 1) + lg(theta + d + n) - lg(theta + d) - lg(theta + n)
    return (math.exp(log_ratio) - theta) / d


def distinct_moments(n: int, discount: float, concentration: float = 0.0) -> tuple[float, float]:
    """``(E[K_n], Var[K_n])`` by the exact recursion of the first two moments (O(n) time).

    ``K_{i+1} = K_i + B`` with ``P(B = 1 | K_i) = (theta + d K_i) / (theta + i)``, from ``K_1 = 1``.
    """
    d, theta = check_parameters(discount, concentration)
    m1, m2 = 1.0, 1.0
    for i in range(1, int(n)):
        ep = (theta + d * m1) / (theta + i)  # E[p]
        ekp = (theta * m1 + d * m2) / (theta + i)  # E[K p]
        m1, m2 = m1 + ep, m2 + 2.0 * ekp + ep
    return m1, m2 - m1 * m1


def document_offsets(tokens: int, doc_tokens: float, seed: int = 0) -> np.ndarray:
    """int64 offsets ``[0, ..., tokens]`` of documents of geometric length, mean ``doc_tokens``
    (the last one cut to fit)."""
    if not (math.isfinite(doc_tokens) and doc_tokens >= 1.0):
        raise ValueError(f"doc_tokens must be >= 1, got {doc_tokens!r}")
    if doc_tokens == 1.0:
        return np.arange(tokens + 1, dtype=np.int64)
    log_q = math.log1p(-1.0 / doc_tokens)
    ends: list[np.ndarray] = []
    total, key = 0, 0
    while total < tokens:
        count = int((tokens - total) / doc_tokens * 1.1) + 16
        u = uniform(stream(seed, STREAM_KEY, 3, key).random_raw(count))
        lengths = 1 + np.floor(np.log1p(-u) / log_q).astype(np.int64)
        ends.append(total + np.cumsum(lengths))
        total = int(ends[-1][-1])
        key += 1
    cut = np.concatenate(ends)
    cut = cut[cut < tokens]
    return np.concatenate([[0], cut, [tokens]]).astype(np.int64)


def pitman_yor_table(
    tokens: int,
    discount: float,
    concentration: float = 0.0,
    seed: int = 0,
    doc_tokens: float = 1000.0,
    column: str = "ids",
) -> pa.Table:
    """A Pitman-Yor corpus as an Arrow table: one ``list<int64>`` row per document.

    Args: as :func:`pitman_yor_ids`, and ``doc_tokens`` (mean document length, >= 1) and
    ``column`` (the column's name; pass it as ``tokens_column`` to ``seqcount.count``).
    """
    ids = pitman_yor_ids(tokens, discount, concentration, seed)
    offsets = document_offsets(int(tokens), float(doc_tokens), seed)
    arr = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(ids))
    return pa.table({column: arr})


def write_pitman_yor(path: str | os.PathLike, tokens: int, discount: float, **options) -> str:
    """Write :func:`pitman_yor_table` (same ``options``) as one Parquet file; returns its path."""
    table = pitman_yor_table(tokens, discount, **options)
    pq.write_table(table, os.fspath(path))
    return os.fspath(path)
