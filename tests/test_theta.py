"""The theta sketch: its kernels against the pure-Python oracle, order and batch independence,
merges, and the DataSketches compact format (read by the ``datasketches`` package)."""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
from conftest import hyp_settings
from hypothesis import given
from hypothesis import strategies as st

from seqcount import _kernels as kernels
from seqcount.errors import ConfigError, FormatError, SketchMismatchError
from seqcount.sketches import THETA_MAX, ThetaSketch, compute_seed_hash

HYP = hyp_settings(60)
MAX64 = 2**64 - 1
# the values h >> 1 of 0, 1 (0: never kept) and 2**64 - 2, 2**64 - 1 (2**63 - 1: never kept)
EXTREMES = [0, 1, 2, 3, MAX64, MAX64 - 1, MAX64 - 2, 2**63, 2**63 - 1]


def _hashes(rng, distinct: int, total: int) -> np.ndarray:
    pool = np.concatenate(
        [rng.integers(0, 2**64, distinct, dtype=np.uint64), np.array(EXTREMES, np.uint64)]
    )
    return pool[rng.integers(0, pool.shape[0], total)]


def _sketch(hashes, k=64, seed=0, cuts=()) -> ThetaSketch:
    s = ThetaSketch(k, seed)
    pos = 0
    for c in [*cuts, len(hashes)]:
        s.update_batch(np.asarray(hashes[pos:c], dtype=np.uint64))
        pos = max(pos, c)
    return s


def _state(s: ThetaSketch) -> tuple[list[int], int]:
    return s.entries.tolist(), s.theta64


# --------------------------------------------------------------------------- kernels


@pytest.mark.parametrize("k,limit", [(16, 24), (16, 31), (64, 96), (64, 65)])
def test_kernel_steps_match_oracle(k, limit):
    """theta_insert + theta_rebuild, driven as ThetaSketch drives them, hold the oracle's
    untrimmed state after every batch (same limit)."""
    rng = np.random.default_rng(k * 1000 + limit)
    hashes = _hashes(rng, 3000, 8000)
    table = np.zeros(2 * k, dtype=np.uint64)
    count, theta = 0, THETA_MAX
    kept, otheta = set(), int(THETA_MAX)
    for lo in range(0, hashes.shape[0], 777):
        batch = hashes[lo : lo + 777]
        start = 0
        while start < batch.shape[0]:
            if count >= limit:
                theta, count = kernels.theta_rebuild(table, count, k), k
            count, start = kernels.theta_insert(table, batch, start, count, theta, limit)
        kept, otheta = ref.theta_stream(batch.tolist(), k, limit, otheta, kept)
        if count >= limit:  # the oracle rebuilds on reaching the limit, the driver before more
            theta, count = kernels.theta_rebuild(table, count, k), k
        assert int(theta) == otheta
        assert sorted(kernels.theta_values(table, count).tolist()) == sorted(kept)
        assert np.count_nonzero(table) == count


def test_oracles_agree():
    rng = np.random.default_rng(5)
    for k, distinct in [(16, 10), (16, 500), (64, 5000)]:
        hashes = _hashes(rng, distinct, 3 * distinct).tolist()
        assert ref.theta_sketch(hashes, k) == ref.theta_bottom_k(hashes, k)
        assert ref.theta_sketch(hashes, k, limit=k + 1) == ref.theta_bottom_k(hashes, k)


@pytest.mark.parametrize("k", [16, 64, 1024])
def test_sketch_matches_oracle(k):
    rng = np.random.default_rng(k)
    for distinct in [0, 5, k - 1, k, k + 1, 3 * k, 50 * k]:
        hashes = _hashes(rng, distinct, 2 * distinct + 3)
        cuts = sorted(rng.integers(0, hashes.shape[0] + 1, 4).tolist())
        s = _sketch(hashes, k, cuts=cuts)
        assert _state(s) == ref.theta_sketch(hashes.tolist(), k)
        assert s.num_retained <= k
        vals = {int(h) >> 1 for h in hashes.tolist()} - {0, ref.THETA_MAX}
        if len(vals) <= k:
            assert not s.is_estimation_mode() and s.count() == len(vals)
        else:
            assert s.is_estimation_mode() and s.num_retained == k


@HYP
@given(
    st.lists(st.integers(0, 300), min_size=0, max_size=400),
    st.lists(st.integers(0, 400), max_size=6),
    st.randoms(use_true_random=False),
    st.sampled_from([16, 32]),
)
def test_state_depends_on_the_set_only(idx, cuts, rnd, k):
    """Any order, any batch boundaries, any split into merged parts (threads): one state, the
    bottom-k of the distinct values."""
    pool = np.random.default_rng(7).integers(0, 2**64, 301, dtype=np.uint64)
    pool[:9] = EXTREMES
    hashes = pool[idx] if idx else np.zeros(0, np.uint64)
    expected = ref.theta_bottom_k(hashes.tolist(), k)
    one = _sketch(hashes, k, cuts=sorted(cuts))
    assert _state(one) == expected
    shuffled = hashes.copy()
    rnd.shuffle(shuffled)
    assert _sketch(shuffled, k) == one
    parts = [ThetaSketch(k) for _ in range(3)]
    for i, h in enumerate(hashes.tolist()):
        if i % 5:
            parts[rnd.randrange(3)].update(h)
        else:
            parts[i % 3].update_batch(hashes[i : i + 2])
    assert ThetaSketch.union(*parts) == one
    assert ThetaSketch.union(*parts[::-1]) == one


def test_update_one_equals_batch_and_copy_is_independent():
    rng = np.random.default_rng(11)
    hashes = _hashes(rng, 200, 400)
    a = _sketch(hashes, 16)
    b = ThetaSketch(16)
    for h in hashes.tolist():
        b.update(h)
    assert a == b
    c = a.copy()
    c.update_batch(_hashes(rng, 100, 100))
    assert c != a and a == b


def test_merge_is_the_union():
    rng = np.random.default_rng(12)
    x, y = _hashes(rng, 3000, 4000), _hashes(rng, 500, 600)
    for ka, kb in [(64, 64), (64, 16), (16, 1024)]:
        a, b = _sketch(x, ka), _sketch(y, kb)
        a.merge(b)
        assert _state(a) == ref.theta_bottom_k(x.tolist() + y.tolist(), ka)
    small = _sketch(y[:10], 64)
    small.merge(_sketch(y[10:20], 64))
    assert small.count() == len({int(h) >> 1 for h in y[:20].tolist()} - {0, ref.THETA_MAX})


def test_checks():
    for k in [0, 8, 15, 24, 2**27]:
        with pytest.raises(ConfigError) as e:
            ThetaSketch(k)
        assert e.value.params == ("k",)
    with pytest.raises(ConfigError):
        ThetaSketch(16, seed=-1)
    with pytest.raises(SketchMismatchError):
        ThetaSketch(16, 1).merge(ThetaSketch(16, 2))
    with pytest.raises(TypeError):
        ThetaSketch(16).merge(object())


def test_memory_is_bounded():
    s = _sketch(np.random.default_rng(1).integers(0, 2**64, 10**5, dtype=np.uint64), 1024)
    assert s.nbytes == 8 * 2 * 1024
    assert len(s.to_bytes()) == 24 + 8 * 1024
    assert ThetaSketch(1024).nbytes == 8 * 32


# --------------------------------------------------------------------------- DataSketches format


def test_seed_hash_matches_datasketches():
    ds = pytest.importorskip("datasketches")
    for seed in [0, 1, 9001, 2**31 - 1, 2**32 + 5, 2**62 + 12345]:
        assert compute_seed_hash(seed) == ds.update_theta_sketch(seed=seed).get_seed_hash()


@pytest.mark.parametrize("distinct", [0, 1, 2, 100, 1023, 1024, 1025, 50000])
@pytest.mark.parametrize("seed", [0, 9001, 2**40 + 3])
def test_compact_form_read_by_datasketches(distinct, seed):
    """Empty, exact (one and many values) and estimation mode: the package reads our bytes,
    its numbers equal ours, and its own serialization of what it read is our bytes."""
    ds = pytest.importorskip("datasketches")
    rng = np.random.default_rng(distinct)
    s = _sketch(rng.integers(0, 2**64, distinct, dtype=np.uint64), 1024, seed)
    buf = s.to_bytes()
    c = ds.compact_theta_sketch.deserialize(buf, seed)
    assert c.get_estimate() == s.count()
    assert c.num_retained == s.num_retained
    assert c.theta64 == s.theta64
    assert c.is_empty() == s.is_empty() == (distinct == 0)
    assert c.is_estimation_mode() == s.is_estimation_mode() == (distinct > 1024)
    assert sorted(c) == s.entries.tolist()
    assert c.serialize() == buf
    assert ThetaSketch.from_bytes(buf, seed, k=1024) == s
    if distinct:  # an empty sketch's seed hash is not checked
        with pytest.raises(ValueError, match="seed hash"):
            ds.compact_theta_sketch.deserialize(buf, seed + 1)


def test_reads_datasketches_bytes():
    ds = pytest.importorskip("datasketches")
    u = ds.update_theta_sketch(lg_k=5, seed=17)
    for i in range(500):
        u.update(i)
    for sk in (u.compact(), u.compact(False)):
        t = ThetaSketch.from_bytes(sk.serialize(), seed=17)
        assert t.entries.tolist() == sorted(sk)
        assert t.theta64 == sk.theta64 and t.k == 64  # up to 15/16 of 2k values kept
        assert t.count() == sk.get_estimate()
    trimmed = ThetaSketch.from_bytes(u.compact().serialize(), seed=17, k=32)
    assert trimmed.num_retained == 32 and trimmed.entries.tolist() == sorted(u.compact())[:32]
    with pytest.raises(FormatError, match="seed hash"):
        ThetaSketch.from_bytes(u.compact().serialize(), seed=18)
    with pytest.raises(FormatError, match="version"):
        ThetaSketch.from_bytes(u.compact().serialize(compress=True), seed=17)


def test_bad_bytes():
    good = _sketch(np.arange(1, 200, dtype=np.uint64) << np.uint64(40), 64).to_bytes()
    wrong_family, wrong_version = b"\x03\x03\x02" + good[3:], good[:1] + b"\x05" + good[2:]
    for bad in [b"", good[:7], good[:-8], wrong_family, wrong_version]:
        with pytest.raises(FormatError):
            ThetaSketch.from_bytes(bad)
    zero_theta = good[:16] + bytes(8) + good[24:]
    with pytest.raises(FormatError, match="theta"):
        ThetaSketch.from_bytes(zero_theta)


# --------------------------------------------------------------------------- fused with the HLL


def _piece(rng, docs: int, vocab: int):
    from seqcount.hashing import Piece, hash_params, prefix_into

    lengths = rng.integers(0, 400, docs)
    doc = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = rng.zipf(1.3, int(doc[-1])).astype(np.uint64) % np.uint64(vocab) + np.uint64(1)
    params = hash_params(3)
    prefix = prefix_into(tokens, np.uint64(params.base), np.empty(len(tokens) + 1, np.uint64))
    return params, Piece(prefix, doc)


@pytest.mark.parametrize("k,vocab", [(16, 50), (64, 30), (64, 5000), (256, 40000)])
def test_theta_fed_by_the_hll_kernel_matches_the_oracle(k, vocab):
    """ThetaTables filled by the HyperLogLog kernel (in several calls, so buffers fill and are
    trimmed mid-way) equal ThetaSketch fed every window hash (its own hash-table kernels),
    and the registers are bit for bit those of a call without theta; reset starts anew."""
    from seqcount import hashing
    from seqcount.hashing import WindowParams
    from seqcount.sketches import ThetaTables

    rng = np.random.default_rng(k + vocab)
    for stride in (False, True):
        params, piece = _piece(rng, 60, vocab)
        win = WindowParams.of(params, (1, 2, 5), 12, stride)
        tables = ThetaTables(3, k, 3)
        for _shard in range(2):
            regs = np.zeros((3, 1 << 12), np.int8)
            plain = np.zeros((3, 1 << 12), np.int8)
            cuts = [0, *sorted(rng.integers(0, 61, 3).tolist()), 60]
            for a, b in zip(cuts, cuts[1:]):
                hashing.hll_update_windows(piece, a, b, win, regs, theta=tables.kernel_args())
                hashing.hll_update_windows(piece, a, b, win, plain)
            assert np.array_equal(regs, plain)
            got = tables.sketches()
            for j in range(3):
                want = ThetaSketch(k, 3)
                want.update_batch(hashing.window_hashes(piece, 0, 60, win.one(j)))
                assert got[j] == want and got[j].num_retained <= k
                assert got[j].nbytes == 8 * got[j].num_retained  # compact: values only
            tables.reset()


@pytest.mark.parametrize("ks,vocab", [((16, 256), 40000), ((64, 64), 5000), ((256, 16), 300)])
def test_two_sets_of_theta_sketches_fed_at_once(ks, vocab):
    """Two sets of sketches of different k fed by one kernel call (a shard's, emptied after
    each shard, and a whole pass's): each equals ThetaSketch fed its windows."""
    from seqcount import hashing
    from seqcount.hashing import WindowParams
    from seqcount.sketches import ThetaTables

    rng = np.random.default_rng(sum(ks) + vocab)
    params, piece = _piece(rng, 90, vocab)
    win = WindowParams.of(params, (1, 3), 12, False)
    tables = ThetaTables(2, ks, 7)
    regs = np.zeros((2, 1 << 12), np.int8)
    shards = [(0, 30), (30, 75), (75, 90)]
    for a, b in shards:
        for c, d in ((a, (a + b) // 2), ((a + b) // 2, b)):
            hashing.hll_update_windows(piece, c, d, win, regs, theta=tables.kernel_args())
        got = tables.sketches(0)
        for j in range(2):
            want = ThetaSketch(ks[0], 7)
            want.update_batch(hashing.window_hashes(piece, a, b, win.one(j)))
            assert got[j] == want and got[j].k == ks[0]
        tables.reset(0)
    whole = tables.sketches(1)
    for j in range(2):
        want = ThetaSketch(ks[1], 7)
        want.update_batch(hashing.window_hashes(piece, 0, 90, win.one(j)))
        assert whole[j] == want and whole[j].k == ks[1]


def test_compact_trims_repeats_to_the_smallest_distinct():
    rng = np.random.default_rng(2)
    for count, pool, k in [(0, 5, 16), (1, 5, 16), (5000, 30, 16), (5000, 4000, 64),
                           (3000, 10**9, 1024), (70000, 20000, 16384)]:  # fmt: skip
        vals = rng.integers(1, pool + 1, count).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C1)
        vals = vals % np.uint64(2**62) + np.uint64(1)
        buf, tmp = vals.copy(), np.empty(count, np.uint64)
        r, theta = kernels.theta_compact(buf, count, k, THETA_MAX, tmp)
        u = np.unique(vals)
        assert r == min(k, len(u)) and np.array_equal(buf[:r], u[:r])
        assert theta == (u[k] if len(u) > k else THETA_MAX)
