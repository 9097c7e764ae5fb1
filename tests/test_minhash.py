"""MinHash: kernels against the pure-Python oracle, state equal to datasketch, estimates."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import reference as ref
from conftest import hyp_settings
from datasketch import MinHash as DMinHash
from datasketch import MinHashLSH
from hypothesis import given
from hypothesis import strategies as st

from seqcount import _kernels as kernels
from seqcount.analysis.overlap import overlap
from seqcount.errors import SketchMismatchError
from seqcount.hashing import hash_params
from seqcount.sketches import EMPTY_HASHVALUE, HLL, MinHash, bias, minhash_permutations, unbias


def _identity(x):
    return x


def _random_hashes(seed: int, size: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**64 - 1, size, dtype=np.uint64, endpoint=True)


@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 - 1])
@pytest.mark.parametrize("k", [1, 7, 128])
def test_permutations_equal_datasketch_and_recipe(seed, k):
    ours = minhash_permutations(k, seed)
    theirs = DMinHash(num_perm=k, seed=seed, scheme="affine64").permutations
    assert ours.dtype == np.uint64 and np.array_equal(ours, theirs)
    a, b = ref.minhash_permutations(k, seed)
    assert [int(x) for x in ours[0]] == a and [int(x) for x in ours[1]] == b


@pytest.mark.parametrize("k", [1, 3, 64, 129])
def test_update_hashes_kernel_matches_oracle(k):
    hashes = np.concatenate(
        [_random_hashes(k, 700), np.array([0, 1, 2**63, 2**64 - 1, 2**63 - 1], np.uint64)]
    )
    a, b = minhash_permutations(k, 5)
    sig = np.full(k, kernels.MINHASH_EMPTY, dtype=np.int64)
    kernels.minhash_update_hashes(sig, a, b, hashes)
    want = ref.minhash_values(hashes, [int(x) for x in a], [int(x) for x in b])
    assert [int(v) for v in unbias(sig)] == want


@given(st.lists(st.integers(0, 2**64 - 1), max_size=300), st.integers(1, 40))
@hyp_settings(60)
def test_update_hashes_hypothesis(values, k):
    hashes = np.array(values, dtype=np.uint64)
    a, b = minhash_permutations(k, 3)
    sig = np.full(k, kernels.MINHASH_EMPTY, dtype=np.int64)
    kernels.minhash_update_hashes(sig, a, b, hashes)
    want = ref.minhash_values(values, [int(x) for x in a], [int(x) for x in b])
    assert [int(v) for v in unbias(sig)] == want


@pytest.mark.parametrize("k", [16, 128, 256])
def test_minhash_state_equals_datasketch(k):
    hashes = _random_hashes(k, 5000)
    ours = MinHash(num_perm=k, seed=7)
    ours.update_batch(hashes[:2000])
    ours.update_batch(hashes[2000:])
    theirs = DMinHash(num_perm=k, seed=7, scheme="affine64", hashfunc=_identity)
    theirs.update_batch(hashes)
    assert ours.hashvalues.dtype == theirs.hashvalues.dtype == np.uint64
    assert np.array_equal(ours.hashvalues, theirs.hashvalues)
    # and it works the other way round
    back = MinHash.from_datasketch(theirs)
    assert back == ours
    exported = ours.to_datasketch()
    assert exported.scheme == "affine64" and exported.jaccard(theirs) == 1.0


def test_signatures_go_into_datasketch_lsh():
    base = _random_hashes(1, 3000)
    near = base.copy()
    near[:150] = _random_hashes(2, 150)  # about 0.9 Jaccard
    other = _random_hashes(3, 3000)
    sigs = {}
    for name, h in (("base", base), ("near", near), ("other", other)):
        m = MinHash(num_perm=128, seed=1)
        m.update_batch(h)
        sigs[name] = m.to_datasketch()
    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    lsh.insert("base", sigs["base"])
    lsh.insert("other", sigs["other"])
    assert lsh.query(sigs["near"]) == ["base"]


def test_bias_round_trip_and_order():
    v = np.array([0, 1, 2**63 - 1, 2**63, 2**64 - 1], dtype=np.uint64)
    assert np.array_equal(unbias(bias(v)), v)
    assert list(np.argsort(bias(v), kind="stable")) == [0, 1, 2, 3, 4]
    assert bias(np.array([2**64 - 1], np.uint64))[0] == kernels.MINHASH_EMPTY


def test_empty_values_are_one_value_in_two_forms():
    """``EMPTY_HASHVALUE`` (datasketch's empty slot) is ``2**64 - 1``; ``MINHASH_EMPTY`` is its
    biased form, above every other biased value."""
    assert int(EMPTY_HASHVALUE) == 2**64 - 1 and EMPTY_HASHVALUE.dtype == np.uint64
    assert bias(np.array([EMPTY_HASHVALUE]))[0] == kernels.MINHASH_EMPTY
    assert unbias(np.array([kernels.MINHASH_EMPTY]))[0] == EMPTY_HASHVALUE
    assert MinHash(num_perm=4).hashvalues.tolist() == [2**64 - 1] * 4


def test_merge_is_union_and_order_free():
    sets = [_random_hashes(s, 500) for s in range(3)]
    parts = []
    for h in sets:
        m = MinHash(num_perm=64, seed=2)
        m.update_batch(h)
        parts.append(m)
    whole = MinHash(num_perm=64, seed=2)
    whole.update_batch(np.concatenate(sets))
    assert MinHash.union(*parts) == whole
    assert MinHash.union(*reversed(parts)) == whole
    assert parts[0].copy() == parts[0] and parts[0].copy() is not parts[0]
    assert MinHash(num_perm=64, seed=2).is_empty() and not whole.is_empty()


def test_mismatched_signatures_are_refused():
    a, b = MinHash(num_perm=64, seed=1), MinHash(num_perm=64, seed=2)
    with pytest.raises(SketchMismatchError, match="seed"):
        a.jaccard(b)
    with pytest.raises(SketchMismatchError, match="num_perm"):
        a.merge(MinHash(num_perm=32, seed=1))
    with pytest.raises(ValueError, match=r"2\*\*32"):
        MinHash(num_perm=8, seed=2**32)
    with pytest.raises(SketchMismatchError, match="affine64"):
        MinHash.from_datasketch(DMinHash(num_perm=8))


def _sets_with_jaccard(j: float, union: int, seed: int):
    """Two sets of random 64-bit values with |A ∪ B| = union and |A ∩ B| = j * union."""
    h = _random_hashes(seed, union)
    inter = round(j * union)
    rest = union - inter
    a = np.concatenate([h[:inter], h[inter : inter + rest // 2]])
    b = np.concatenate([h[:inter], h[inter + rest // 2 :]])
    return a, b


@pytest.mark.parametrize("j", [0.0, 0.1, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("seed", [11, 12])
def test_jaccard_and_containment_within_three_standard_errors(j, seed):
    k = 256
    a, b = _sets_with_jaccard(j, 40_000, seed)
    sk = {}
    for name, h in (("a", a), ("b", b)):
        m, hll = MinHash(num_perm=k, seed=seed), HLL(p=14)
        m.update_batch(h)
        hll.update_batch(h)
        sk[name] = (m, hll)
    est = sk["a"][0].jaccard(sk["b"][0])
    se = math.sqrt(j * (1 - j) / k)
    assert abs(est - j) <= 3 * se + 1e-12
    o = overlap(4, sk["a"][1], sk["b"][1], sk["a"][0], sk["b"][0])
    true_inter = round(j * 40_000)
    assert abs(o.intersection - true_inter) <= 3 * o.intersection_err + 1e-9
    ca = true_inter / len(a)
    cb = true_inter / len(b)
    assert abs(o.containment_a_in_b - ca) <= 3 * o.containment_a_in_b_err + 1e-9
    assert abs(o.containment_b_in_a - cb) <= 3 * o.containment_b_in_a_err + 1e-9
    assert abs(o.union - 40_000) <= 3 * o.union_err
    if j == 1.0:
        assert o.jaccard == 1.0 and o.containment_a_in_b == o.containment_b_in_a == 1.0


def test_containment_of_a_small_set_in_a_large_one():
    """Half of A lies in B, |A| = |B| / 10: containment 0.5 within its stated error."""
    big = _random_hashes(21, 50_000)
    small = np.concatenate([big[:2500], _random_hashes(22, 2500)])
    sk = []
    for h in (small, big):
        m, hll = MinHash(num_perm=256, seed=0), HLL(p=14)
        m.update_batch(h)
        hll.update_batch(h)
        sk.append((m, hll))
    o = overlap(8, sk[0][1], sk[1][1], sk[0][0], sk[1][0])
    assert abs(o.containment_a_in_b - 0.5) <= 3 * o.containment_a_in_b_err
    assert o.containment_a_in_b_err < 0.25  # resolvable at this size ratio


def _windows_setup(seed: int, docs: int = 12):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 40, docs)
    tokens = rng.integers(1, 30, int(lengths.sum())).astype(np.uint64)  # many repeats
    doc = np.zeros(docs + 1, dtype=np.int64)
    doc[1:] = np.cumsum(lengths)
    params = hash_params(seed)
    prefix = kernels.prefix_values(tokens, np.uint64(params.base))
    values = [[int(t) for t in tokens[doc[d] : doc[d + 1]]] for d in range(docs)]
    return params, prefix, doc, values


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("stride", [False, True])
@pytest.mark.parametrize("parts", [1, 3])
def test_update_windows_matches_oracle(seed, stride, parts):
    params, prefix, doc, values = _windows_setup(seed)
    ns = (1, 2, 3, 8)
    ns_arr, bases, salts = params.window_arrays(ns)
    k = 33
    a, b = minhash_permutations(k, seed)
    sigs = np.full((parts, len(ns), k), kernels.MINHASH_EMPTY, dtype=np.int64)
    cache = kernels.minhash_cache(parts, len(ns), size=16)  # tiny: evictions and hits happen
    ndocs = doc.shape[0] - 1
    kernels.minhash_update_windows(
        prefix, doc, 0, ndocs // 2, ns_arr, bases, salts, a, b, sigs, cache, 0, stride, 0
    )
    kernels.minhash_update_windows(
        prefix, doc, ndocs // 2, ndocs, ns_arr, bases, salts, a, b, sigs, cache, 0, stride, 0
    )
    sigs = sigs.min(axis=0)
    for j, n in enumerate(ns):
        step = n if stride else 1
        hashes = [
            ref.window_hash(v[i : i + n], params, n)
            for v in values
            for i in range(0, len(v) - n + 1, step)
        ]
        want = ref.minhash_values(hashes, [int(x) for x in a], [int(x) for x in b])
        assert [int(x) for x in unbias(sigs[j])] == want, n


def test_update_windows_threads_and_runs_give_identical_signatures():
    params, prefix, doc, _ = _windows_setup(9, docs=200)
    ns_arr, bases, salts = params.window_arrays((1, 2, 4, 8, 16))
    a, b = minhash_permutations(128, 0)
    out = []
    old = numba.get_num_threads()
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            for parts in (1, 2, 5):
                sigs = np.full((parts, 5, 128), kernels.MINHASH_EMPTY, dtype=np.int64)
                cache = kernels.minhash_cache(parts, 5)
                kernels.minhash_update_windows(
                    prefix, doc, 0, doc.shape[0] - 1, ns_arr, bases, salts, a, b, sigs, cache
                )
                out.append(sigs.min(axis=0))
    finally:
        numba.set_num_threads(old)
    assert all(np.array_equal(out[0], o) for o in out[1:])


def test_split_documents_balances_tokens():
    doc = np.array([0, 10, 20, 30, 40, 1000, 1010], dtype=np.int64)
    assert kernels.split_documents(doc, 0, 6, 1).tolist() == [0, 6]
    assert kernels.split_documents(doc, 0, 6, 2).tolist() == [0, 5, 6]
    b = kernels.split_documents(doc, 1, 4, 3)
    assert b[0] == 1 and b[-1] == 4 and list(b) == sorted(b)
    assert kernels.split_documents(doc, 2, 2, 2).tolist() == [2, 2, 2]


@pytest.mark.parametrize("parts, rows", [(1, 1), (1, 3), (2, 1)])
def test_cache_is_a_new_writable_array(parts, rows):
    cache = kernels.minhash_cache(parts, rows, size=8)
    assert cache.shape == (parts, rows, 8) and cache.flags.writeable and cache.flags.c_contiguous


def test_one_thread_one_window_size_counts(tmp_path):
    """--threads 1 with a single n once gave a read-only cache (a broadcast view)."""
    from conftest import DATA

    from seqcount.api import count_corpus
    from seqcount.config import CountConfig

    cfg = CountConfig(ns=(4,), overlap="minhash")
    r = count_corpus(DATA / "austen" / "05-persuasion.parquet", cfg, threads=1)
    assert not r.sketches.minhash[0].is_empty()


def test_cache_never_matches_an_unseen_hash():
    """Slot i starts with a value that cannot be a hash stored in slot i (0 included)."""
    cache = kernels.minhash_cache(2, 1, size=8)
    assert all((int(v) & 7) != i for i, v in enumerate(cache[1, 0]))


@pytest.mark.parametrize("seed", [3, 4])
def test_doc_minhash_matches_oracle_and_continues(seed):
    params, prefix, doc, values = _windows_setup(seed)
    n = 3
    _, bases, salts = params.window_arrays((n,))
    k = 17
    a, b = minhash_permutations(k, 1)
    ndocs = doc.shape[0] - 1
    out = np.full((ndocs, k), kernels.MINHASH_EMPTY, dtype=np.int64)
    kernels.doc_minhash(prefix, doc, 0, ndocs, np.int64(n), bases[0], salts[0], a, b, out)
    for d, v in enumerate(values):
        hashes = [ref.window_hash(v[i : i + n], params, n) for i in range(len(v) - n + 1)]
        want = ref.minhash_values(hashes, [int(x) for x in a], [int(x) for x in b])
        assert [int(x) for x in unbias(out[d])] == want
    # running again adds nothing new: the signatures are min-updated, not reset
    again = out.copy()
    kernels.doc_minhash(prefix, doc, 0, ndocs, np.int64(n), bases[0], salts[0], a, b, again)
    assert np.array_equal(again, out)
