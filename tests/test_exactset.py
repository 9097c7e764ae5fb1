"""The exact hash set: the open-addressing kernels and :class:`~seqcount.sketches.ExactSet`."""

from __future__ import annotations

import numpy as np
import reference as ref
from conftest import hyp_settings
from hypothesis import given
from hypothesis import strategies as st

from seqcount import _kernels as kernels
from seqcount.sketches import ExactSet

MASK64 = ref.MASK64
HYP = hyp_settings(60)


# --------------------------------------------------------------------------- exact sets


def _probe_invariant(table: np.ndarray) -> None:
    """Every key is reachable by linear probing from its home slot without crossing a 0."""
    mask = table.shape[0] - 1
    tl = table.tolist()
    for slot, h in enumerate(tl):
        if h == 0:
            continue
        s = h & mask
        while s != slot:
            assert tl[s] != 0, (h, slot)
            s = (s + 1) & mask


def _exact_hashes(rng, size: int) -> np.ndarray:
    distinct = rng.integers(0, 2**64, size=size, dtype=np.uint64)
    # keys sharing low bits (long probe chains) and keys with all low bits set (wrap-around)
    distinct[: size // 10] = (distinct[: size // 10] << np.uint64(20)) | np.uint64(5)
    distinct[size // 10 : size // 5] |= np.uint64(0xFFFFF)
    smalls = np.arange(0, 40, dtype=np.uint64)
    extremes = np.array([0, MASK64, 1 << 63, (1 << 63) - 1], dtype=np.uint64)
    pool = np.concatenate([distinct, smalls, extremes])
    picks = rng.integers(0, pool.shape[0], size=size * 2)
    return np.concatenate([pool, pool[picks]])[rng.permutation(pool.shape[0] + size * 2)]


def test_exact_set_counts_distinct():
    rng = np.random.default_rng(2024)
    hashes = _exact_hashes(rng, 20000)
    s = ExactSet(capacity=1)
    seen: set[int] = set()
    sizes = [s.table.shape[0]]
    pos = 0
    cuts = [0, 1, 1, 17, 500, 3001]
    for i, c in enumerate(cuts):
        batch = hashes[pos : pos + c] if i < len(cuts) - 1 else hashes[pos:]
        pos += c
        s.update_batch(batch)
        seen |= set(batch.tolist())
        assert len(s) == len(seen)
        sizes.append(s.table.shape[0])
    assert pos < len(hashes)
    # several doublings happened, and the table holds exactly the non-zero keys
    assert sizes[-1] >= sizes[0] * 2**8
    assert s.table.shape[0] & (s.table.shape[0] - 1) == 0
    nz = s.table[s.table != 0]
    assert len(nz) == len(set(nz.tolist())) == len(seen - {0})
    assert set(nz.tolist()) == seen - {0}
    assert len(s) - len(nz) == (1 if 0 in seen else 0)
    _probe_invariant(s.table)
    # load stays at most one half
    assert len(nz) <= s.table.shape[0] // 2


def test_exact_set_zero_only_and_duplicates():
    s = ExactSet(capacity=4)
    s.update_batch(np.zeros(10, dtype=np.uint64))
    assert len(s) == 1
    s.update_batch(np.array([], dtype=np.uint64))
    assert len(s) == 1
    s.update_batch(np.array([7, 7, 7, 0, MASK64, MASK64], dtype=np.uint64))
    assert len(s) == len({0, 7, MASK64})
    t = ExactSet(capacity=4)
    t.update_batch(np.array([3, 3, 19, 35], dtype=np.uint64))  # same home slot for small tables
    assert len(t) == 3


@HYP
@given(st.lists(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 70), max_size=80), max_size=5))
def test_exact_set_hypothesis(batches):
    s = ExactSet(capacity=1)
    seen: set[int] = set()
    for b in batches:
        s.update_batch(np.array(b, dtype=np.uint64))
        seen |= set(b)
        assert len(s) == len(seen)
    assert set(s.table[s.table != 0].tolist()) == seen - {0}


def test_set_insert_limit_and_rehash():
    rng = np.random.default_rng(77)
    hashes = rng.integers(0, 64, size=300, dtype=np.uint64)  # many duplicates, some zeros
    hashes = np.concatenate([hashes, rng.integers(1, 2**64, size=100, dtype=np.uint64)])
    table = np.zeros(256, dtype=np.uint64)
    count, k = 0, 0
    steps = 0
    while k < hashes.shape[0]:
        limit = count + 10
        new_count, new_k = kernels.set_insert(table, hashes, k, count, limit)
        assert new_k > k and new_count <= limit
        exp = {int(h) for h in hashes[:new_k].tolist() if h != 0}
        assert new_count == len(exp)
        assert set(table[table != 0].tolist()) == exp
        if new_k < hashes.shape[0]:
            assert new_count == limit
            # the hash at new_k - 1 was the one that filled the table to the limit
            assert int(hashes[new_k - 1]) not in {int(h) for h in hashes[: new_k - 1].tolist()}
        count, k = new_count, new_k
        steps += 1
    assert steps > 5
    _probe_invariant(table)
    big = np.zeros(1024, dtype=np.uint64)
    kernels.set_rehash(table, big)
    assert sorted(big[big != 0].tolist()) == sorted(table[table != 0].tolist())
    _probe_invariant(big)
    # re-inserting everything into the rehashed table adds nothing
    again, _ = kernels.set_insert(big, hashes, 0, count, 10**9)
    assert again == count


def test_exact_set_update_and_count():
    """``update`` of one hash is ``update_batch`` of one; ``count`` is ``len``."""
    a, b = ExactSet(), ExactSet()
    for h in [0, 5, 2**64 - 1, 5, 0]:
        a.update(h)
    b.update_batch(np.array([0, 5, 2**64 - 1], dtype=np.uint64))
    assert a.count() == len(a) == len(b) == 3
