"""Platform-exact random primitives of the synthetic corpora: raw PCG64 streams, an ln/exp
built from + - * / only, Zipf weights and an alias-table sampler with integer probabilities.

Every function gives the same bits on every machine (see :mod:`seqcount.synth`).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

__all__ = [
    "alias_table", "below", "exp", "ln", "sample", "stream", "uniform", "zipf_weights",
]  # fmt: skip

_SAMPLE_BLOCK = 1 << 14
_C = 1 << 32  # capacity of one alias-table column (integer probabilities)
_LN2 = 0.6931471805599453  # float64 nearest to ln 2
_SQRT_HALF = 0.7071067811865476
_U53 = 2.0**-53

# --------------------------------------------------------------------------- exact-ish math


def ln(x: np.ndarray) -> np.ndarray:
    """Natural log of positive finite float64s with + - * / only (same bits on every machine).

    Error about 1e-16 relative; frexp/ldexp are exact, and IEEE + - * / are correctly rounded.
    """
    x = np.asarray(x, dtype=np.float64)
    m, e = np.frexp(x)  # x = m * 2**e, m in [0.5, 1)
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)  # m in [sqrt(1/2), sqrt(2))
    e = e.astype(np.float64) - low
    z = (m - 1.0) / (m + 1.0)  # |z| < 0.1716
    z2 = z * z
    acc = np.full_like(z, 1.0 / 29.0)
    for k in range(13, -1, -1):  # sum z2**k / (2k + 1): z2**14 < 4e-22
        acc = acc * z2 + 1.0 / (2 * k + 1)
    return e * _LN2 + 2.0 * z * acc


def exp(x: np.ndarray) -> np.ndarray:
    """exp of float64s in about [-700, 700] with + - * / only (same bits on every machine)."""
    x = np.asarray(x, dtype=np.float64)
    k = np.rint(x / _LN2)
    f = x - k * _LN2  # |f| <= 0.35
    acc = np.full_like(f, 1.0 / math.factorial(22))
    for j in range(21, -1, -1):  # Taylor series; 0.35**23 / 23! < 1e-32
        acc = acc * f + 1.0 / math.factorial(j)
    return np.ldexp(acc, k.astype(np.int32))


def uniform(raw: np.ndarray) -> np.ndarray:
    """Doubles in [0, 1) from raw 64-bit outputs (top 53 bits; exact)."""
    return (raw >> np.uint64(11)).astype(np.float64) * _U53


def below(raw: np.ndarray, n) -> np.ndarray:
    """Integers in [0, n) from the top 32 bits of raw outputs (multiply-shift; n < 2**32)."""
    return ((raw >> np.uint64(32)) * np.asarray(n, dtype=np.uint64)) >> np.uint64(32)


def stream(seed: int, *key: int) -> np.random.PCG64:
    """The raw bit generator of stream ``key`` of ``seed`` (independent of every other key)."""
    return np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key))


# --------------------------------------------------------------------------- Zipf sampling


def zipf_weights(vocab: int, zipf: float) -> np.ndarray:
    """int64 weights of ranks 1..vocab, proportional to r**-zipf, summing to exactly vocab*2**32."""
    if zipf == 0:
        w = np.ones(vocab, dtype=np.float64)
    else:
        w = exp(-zipf * ln(np.arange(1, vocab + 1, dtype=np.float64)))
    step = 1 << 20
    total = math.fsum(
        itertools.chain.from_iterable(w[i : i + step].tolist() for i in range(0, vocab, step))
    )  # correctly rounded, so platform independent
    q = np.floor(w * (vocab * float(_C) / total)).astype(np.int64)
    q[0] += vocab * _C - int(q.sum())  # rounding remainder to the most frequent rank
    if q[0] <= 0:  # pragma: no cover - impossible for the validated ranges
        raise ValueError("Zipf weights underflow")
    return q


def alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table for int64 ``weights`` summing to ``len(weights) * 2**32``.

    Column ``i`` keeps itself with probability ``prob[i] / 2**32``, else gives ``alias[i]``;
    item ``x`` then has probability exactly ``weights[x] / sum(weights)``. Built with the
    "sweep" order (light items filled by heavy items in index order), which prefix sums compute
    without a loop: light item q is paid by the first heavy item whose cumulative excess exceeds
    the cumulative deficit of the light items before q.
    """
    w = np.asarray(weights, dtype=np.int64)
    v = w.shape[0]
    prob = np.full(v, _C, dtype=np.int64)
    alias = np.arange(v, dtype=np.int64)
    light = np.flatnonzero(w < _C)
    heavy = np.flatnonzero(w >= _C)
    if light.shape[0]:
        deficit = np.cumsum(_C - w[light])
        excess = np.cumsum(w[heavy] - _C)
        if deficit[-1] != excess[-1]:
            raise ValueError("alias table: weights must sum to len(weights) * 2**32")
        before = deficit - (_C - w[light])
        payer = np.searchsorted(excess, before, side="right")
        prob[light] = w[light]
        alias[light] = heavy[payer]
        # heavy j turns light once the lights paid so far owe at least its cumulative excess
        paid = np.concatenate([[0], deficit])
        done = np.searchsorted(paid, excess, side="left")
        prob[heavy] = _C + excess - paid[done]
        nxt = np.minimum(np.arange(1, heavy.shape[0] + 1), heavy.shape[0] - 1)
        alias[heavy] = np.where(prob[heavy] < _C, heavy[nxt], heavy)
    return prob.astype(np.uint64), alias


def sample(bg: np.random.PCG64, n: int, prob: np.ndarray, alias: np.ndarray) -> np.ndarray:
    """``n`` int32 ranks (0-based) from the alias table; one raw 64-bit output per token: the top
    32 bits pick the column, the low 32 bits toss its coin."""
    out = np.empty(n, dtype=np.int32)
    alias32 = alias.astype(np.int32)
    v = np.uint64(prob.shape[0])
    s32, low = np.uint64(32), np.uint64(0xFFFFFFFF)
    col = np.empty(_SAMPLE_BLOCK, dtype=np.uint64)
    for s in range(0, n, _SAMPLE_BLOCK):  # in place, in cache: about 2x faster than temporaries
        m = min(_SAMPLE_BLOCK, n - s)
        raw = bg.random_raw(m)
        c = col[:m]
        np.right_shift(raw, s32, out=c)
        np.multiply(c, v, out=c)
        np.right_shift(c, s32, out=c)
        ci = c.view(np.int64)
        np.bitwise_and(raw, low, out=raw)
        own = raw < prob[ci]
        o = out[s : s + m]
        np.take(alias32, ci, out=o, mode="clip")  # indices are valid: clip only skips buffering
        np.copyto(o, ci, where=own, casting="unsafe")
    return out
