"""The numba kernels of :mod:`seqcount.kernels` against the pure-Python oracles of ``reference``."""

from __future__ import annotations

import numba
import numpy as np
import pytest
import reference as ref
from conftest import hyp_settings
from hypothesis import given
from hypothesis import strategies as st

from seqcount import _kernels as kernels
from seqcount._kernels.mix import mulmod61_parts
from seqcount.hashing import hash_params

P = ref.P
MASK64 = ref.MASK64
NOJIT = bool(numba.config.DISABLE_JIT)
SEEDS = [0, 1, 12345, 2**63, 2**63 + 0x1234_5678_9ABC, 2**64 - 1]

HYP = hyp_settings(60)


@numba.njit
def _mulmod_many(a, b):
    out = np.empty(a.shape[0], dtype=np.uint64)
    for i in range(a.shape[0]):
        out[i] = kernels.mulmod61(a[i], b[i])
    return out


@numba.njit
def _mulmod_parts_many(a, b):
    """``mulmod61_parts`` over arrays, in a loop over consecutive values (the vectorised form)."""
    out = np.empty(a.shape[0], dtype=np.uint64)
    for i in range(a.shape[0]):
        out[i] = mulmod61_parts(a[i], b[i] >> np.uint64(32), b[i] & np.uint64(0xFFFFFFFF))
    return out


@numba.njit
def _fmix_many(a):
    out = np.empty(a.shape[0], dtype=np.uint64)
    for i in range(a.shape[0]):
        out[i] = kernels.fmix64(a[i])
    return out


def _edge_residues() -> list[int]:
    """Values in [0, 2**61) where carries and folds of mulmod61 are most likely to go wrong."""
    vals = {0, 1, 2, 3, P - 1, P - 2, P, (P - 1) // 2, 2**60, 2**60 - 1, 2**60 + 1}
    for k in (29, 31, 32, 33, 58, 59, 60):
        vals |= {2**k - 1, 2**k, 2**k + 1}
    vals |= {(2**32 - 1) << 29, 2**61 - 2**32, 2**61 - 2**29, 0x1FFFFFFF_FFFFFFFE}
    return sorted(v for v in vals if 0 <= v < 2**61)


def _random_residues(rng, size: int) -> np.ndarray:
    """Random values in [0, 2**61) mixing uniform, near-top, near-powers-of-two and small ones."""
    u = rng.integers(0, 2**61, size=size, dtype=np.uint64)
    kind = rng.integers(0, 4, size=size)
    top = np.uint64(2**61 - 1) - rng.integers(0, 1 << 20, size=size, dtype=np.uint64)
    small = rng.integers(0, 1 << 33, size=size, dtype=np.uint64)
    shifts = rng.integers(0, 61, size=size).astype(np.uint64)
    pw = (np.uint64(1) << shifts) + rng.integers(0, 3, size=size, dtype=np.uint64) - np.uint64(1)
    out = np.where(kind == 0, u, np.where(kind == 1, top, np.where(kind == 2, small, pw)))
    return out.astype(np.uint64)


def _token_values(rng, size: int) -> np.ndarray:
    """Random token values in [0, P), many of them >= 2**60."""
    out = rng.integers(0, P, size=size, dtype=np.uint64)
    big = rng.random(size) < 0.4
    out[big] = rng.integers(2**60, P, size=int(big.sum()), dtype=np.uint64)
    edge = rng.random(size) < 0.05
    out[edge] = rng.choice(np.array([0, 1, P - 1, 2**60, P - 2], dtype=np.uint64), int(edge.sum()))
    return out


def _random_docs(rng, ndocs: int, maxlen: int) -> list[list[int]]:
    docs = []
    for _ in range(ndocs):
        r = rng.random()
        if r < 0.15:
            length = 0
        elif r < 0.35:
            length = int(rng.integers(1, 4))
        else:
            length = int(rng.integers(1, maxlen + 1))
        docs.append([int(x) for x in _token_values(rng, length)])
    return docs


def _flatten(docs: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    tokens = np.array([t for d in docs for t in d], dtype=np.uint64)
    doc = np.zeros(len(docs) + 1, dtype=np.int64)
    doc[1:] = np.cumsum([len(d) for d in docs])
    return tokens, doc


# --------------------------------------------------------------------------- oracle sanity


def test_reference_hll_matches_datasketch():
    """The register oracle itself agrees with datasketch's HyperLogLogPlusPlus."""
    datasketch = pytest.importorskip("datasketch")
    rng = np.random.default_rng(1)
    hashes = [int(h) for h in rng.integers(0, 2**64, size=2000, dtype=np.uint64)]
    for p in (4, 10, 16):
        hashes_p = hashes + [0, 1 << p, (1 << p) - 1, MASK64, 1 << 63, 1 << (p + 1)]
        h = datasketch.HyperLogLogPlusPlus(p=p, hashfunc=lambda x: x)
        for x in hashes_p:
            h.update(x)
        assert [int(r) for r in h.reg] == ref.hll_registers(hashes_p, p)


def test_reference_window_hash_is_polynomial():
    params = hash_params(7)
    vals = [3, 5, 7]
    v = (3 * params.base**2 + 5 * params.base + 7) % P
    assert ref.window_hash(vals, params, 3) == ref.fmix64(v ^ params.salt(3))


# --------------------------------------------------------------------------- scalar helpers


def test_mulmod61_edge_pairs():
    edges = _edge_residues()
    a = np.array([x for x in edges for _ in edges], dtype=np.uint64)
    b = np.array([y for _ in edges for y in edges], dtype=np.uint64)
    got = _mulmod_many(a, b)
    for x, y, g in zip(a.tolist(), b.tolist(), got.tolist()):
        assert g == (x * y) % P, (x, y)


def test_mulmod61_parts_edge_pairs_and_random():
    """The 32-bit-halves product of the vectorised window hash against exact integers."""
    edges = _edge_residues()
    a = np.array([x for x in edges for _ in edges], dtype=np.uint64)
    b = np.array([y for _ in edges for y in edges], dtype=np.uint64)
    rng = np.random.default_rng(32)
    a = np.concatenate([a, _random_residues(rng, 20000)])
    b = np.concatenate([b, _random_residues(rng, 20000)])
    got = _mulmod_parts_many(a, b)
    assert got.tolist() == [(x * y) % P for x, y in zip(a.tolist(), b.tolist())]


def test_mulmod61_random():
    rng = np.random.default_rng(61)
    size = 20000
    a = _random_residues(rng, size)
    b = _random_residues(rng, size)
    got = _mulmod_many(a, b)
    exp = [(x * y) % P for x, y in zip(a.tolist(), b.tolist())]
    assert got.tolist() == exp


@HYP
@given(st.integers(0, 2**61 - 1), st.integers(0, 2**61 - 1))
def test_mulmod61_hypothesis(a, b):
    assert int(kernels.mulmod61(np.uint64(a), np.uint64(b))) == (a * b) % P


def test_fmix64():
    rng = np.random.default_rng(64)
    x = rng.integers(0, 2**64, size=5000, dtype=np.uint64)
    x[:4] = [0, 1, MASK64, 1 << 63]
    assert _fmix_many(x).tolist() == [ref.fmix64(v) for v in x.tolist()]


def test_fmix64_is_murmurhash3_finaliser():
    """Both the kernel and the oracle equal an independent implementation (datasketch's)."""
    from datasketch.minhash import _fmix

    x = np.random.default_rng(3).integers(0, 2**64, size=1000, dtype=np.uint64)
    assert _fmix_many(x).tolist() == _fmix(x.copy(), 64).tolist()


# --------------------------------------------------------------------------- token values


def test_byte_values():
    rng = np.random.default_rng(8)
    data = rng.integers(0, 256, size=3000, dtype=np.uint8)
    data[:2] = [0, 255]
    for start, end in [(0, len(data)), (0, 0), (5, 5), (3, 17), (len(data) - 1, len(data))]:
        got = kernels.byte_values(data, start, end)
        assert got.dtype == np.uint64
        assert got.tolist() == ref.token_values("bytes", [data[start:end].tobytes()], None)[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_id_values_uint64(seed):
    params = hash_params(seed)
    rng = np.random.default_rng(seed % 1000)
    ids = rng.integers(0, 2**64, size=3000, dtype=np.uint64)
    ids[:6] = [0, 1, 2**63, 2**63 + 1, MASK64, params.id_seed]
    ids[6:20] = rng.integers(2**63, 2**64, size=14, dtype=np.uint64)
    got = kernels.id_values(ids, np.uint64(params.id_seed))
    assert got.dtype == np.uint64
    exp = ref.token_values("ids", [ids.tolist()], params)[0]
    assert got.tolist() == exp
    assert all(v < P for v in got.tolist())


def test_id_values_int64_wraps_like_uint64():
    """Signed ids are taken modulo 2**64 (``np.uint64(id)``)."""
    params = hash_params(3)
    ids = np.array([-1, -(2**63), 0, 5, 2**63 - 1, -12345], dtype=np.int64)
    got = kernels.id_values(ids, np.uint64(params.id_seed))
    exp = ref.token_values("ids", [[int(i) & MASK64 for i in ids.tolist()]], params)[0]
    assert got.tolist() == exp


def test_id_values_narrow_ids_widen_like_numpy():
    """An int32 or uint32 column goes to the kernel as it is; a negative id counts as
    ``np.uint64(id)``, as if the column had been widened first."""
    params = hash_params(5)
    seed = np.uint64(params.id_seed)
    ids = np.array([-1, -(2**31), 0, 7, 2**31 - 1, -77], dtype=np.int32)
    exp = kernels.id_values(ids.astype(np.int64).view(np.uint64), seed).tolist()
    assert kernels.id_values(ids, seed).tolist() == exp
    assert exp == ref.token_values("ids", [[int(i) & MASK64 for i in ids.tolist()]], params)[0]
    u = np.array([0, 1, 2**32 - 1, 2**31], dtype=np.uint32)
    exp = ref.token_values("ids", [u.tolist()], params)[0]
    assert kernels.id_values(u, seed).tolist() == exp


def test_byte_values_into_a_reused_buffer():
    data = np.frombuffer(bytes(range(256)) * 3, dtype=np.uint8)
    buf = np.full(1000, 7, dtype=np.uint64)
    for lo, hi in ((0, 768), (5, 9), (3, 3), (100, 700)):
        got = kernels.byte_values_into(data[lo:hi], buf)
        assert got.tolist() == kernels.byte_values(data, lo, hi).tolist()
        assert got.tolist() == [b + 1 for b in data[lo:hi].tolist()]
    with pytest.raises(ValueError, match="shorter"):
        kernels.byte_values_into(data, buf[:10])


def test_into_kernels_reuse_a_buffer():
    """``id_values_into`` and ``prefix_into`` give the allocating kernels' values in a longer
    buffer that holds old values, leave the rest alone, and refuse a short buffer."""
    params = hash_params(11)
    rng = np.random.default_rng(11)
    ids = rng.integers(0, 2**32, size=1000, dtype=np.uint32)
    seed, base = np.uint64(params.id_seed), np.uint64(params.base)
    buf = np.full(1500, 7, dtype=np.uint64)
    for n in (700, 3, 0, 517):  # shrinking and growing again over the same buffer
        got = kernels.id_values_into(ids[:n], seed, buf)
        assert got.tolist() == kernels.id_values(ids[:n], seed).tolist()
        pre = kernels.prefix_into(got, base, buf[n:])  # right behind the values it reads
        assert pre.tolist() == kernels.prefix_values(got.copy(), base).tolist()
        assert buf[2 * n + 1 :].tolist() == [7] * (1500 - 2 * n - 1)
        buf[:] = 7
    with pytest.raises(ValueError, match="shorter"):
        kernels.id_values_into(ids, seed, buf[:999])
    with pytest.raises(ValueError, match="shorter"):
        kernels.prefix_into(kernels.id_values(ids, seed), base, buf[:1000])


# --------------------------------------------------------------------------- windows


@pytest.mark.parametrize("seed", SEEDS)
def test_prefix_values(seed):
    params = hash_params(seed)
    rng = np.random.default_rng(seed % 997)
    tokens = _token_values(rng, 2000)
    got = kernels.prefix_values(tokens, np.uint64(params.base))
    assert got.dtype == np.uint64 and got.shape == (len(tokens) + 1,)
    assert got.tolist() == ref.prefix_values(tokens.tolist(), params.base)
    assert kernels.prefix_values(np.empty(0, np.uint64), np.uint64(params.base)).tolist() == [0]


def test_prefix_values_every_cut_into_runs():
    """prefix_values computes eight runs side by side and joins them, block by block of
    positions: every length up to 80 (each remainder, and lengths too short for runs, n < 8),
    and runs just short of, at and past one and two blocks of 64 (n = 8 * 64 +- 1, 8 * 128 +-
    1, the last run longer by up to 7)."""
    params = hash_params(7)
    rng = np.random.default_rng(7)
    tokens = _token_values(rng, 1100)
    tokens[:3] = [0, P - 1, P - 1]
    for n in [*range(0, 81), 299, 300, 511, 512, 513, 519, 520, 1023, 1024, 1025, 1031, 1100]:
        got = kernels.prefix_values(tokens[:n], np.uint64(params.base))
        assert got.tolist() == ref.prefix_values(tokens[:n].tolist(), params.base), n


@pytest.mark.parametrize("n", [32768, 40007, 1 << 17])
def test_prefix_values_long_runs(n):
    """Runs of 4096 tokens or more are shortened to 72 (mod 512) tokens and the last run takes
    the rest (up to 4095 more): the values are still the plain recurrence's."""
    params = hash_params(5)
    tokens = _token_values(np.random.default_rng(n), n)
    got = kernels.prefix_values(tokens, np.uint64(params.base))
    assert got.tolist() == ref.prefix_values(tokens.tolist(), params.base)


def _check_window_hashes(docs, params, ns, d0=0, d1=None):
    tokens, doc = _flatten(docs)
    d1 = len(docs) if d1 is None else d1
    prefix = kernels.prefix_values(tokens, np.uint64(params.base))
    for n in ns:
        got = kernels.window_hashes(
            prefix, doc, d0, d1, n, np.uint64(params.base_pow(n)), np.uint64(params.salt(n))
        )
        assert got.dtype == np.uint64
        assert got.tolist() == ref.all_window_hashes(docs[d0:d1], params, n), n


@pytest.mark.parametrize("skip", [0, 1, 3, 9, 40])
def test_window_hashes_skip_windows_inside_carried_tokens(skip):
    """With ``skip`` carried tokens in front of document d0, only windows reaching past them."""
    params = hash_params(7)
    rng = np.random.default_rng(skip)
    docs = _random_docs(rng, 6, 30)
    docs[0] = [int(x) for x in _token_values(rng, 25)]
    tokens, doc = _flatten(docs)
    prefix = kernels.prefix_values(tokens, np.uint64(params.base))
    for n in (1, 2, 4, 10):
        base_n, salt = np.uint64(params.base_pow(n)), np.uint64(params.salt(n))
        got = kernels.window_hashes(prefix, doc, 0, len(docs), n, base_n, salt, skip)
        first = docs[0]
        kept = [
            ref.window_hash(first[i : i + n], params, n)
            for i in range(len(first) - n + 1)
            if i + n > skip
        ]
        assert got.tolist() == kept + ref.all_window_hashes(docs[1:], params, n), n
        regs = np.zeros((1, 1 << 8), dtype=np.int8)
        ns, bases, salts = params.window_arrays([n])
        kernels.hll_update_windows(prefix, doc, 0, len(docs), ns, bases, salts, 8, regs, skip)
        assert regs[0].tolist() == ref.hll_registers(got.tolist(), 8)


@pytest.mark.parametrize("seed", SEEDS)
def test_window_hashes_random_docs(seed):
    params = hash_params(seed)
    rng = np.random.default_rng(seed % 991)
    docs = _random_docs(rng, 40, 60)
    docs.insert(0, [])
    docs.append([])
    longest = max(len(d) for d in docs)
    ns = [1, 2, 3, 4, 7, 16, longest, longest + 1, longest + 50]
    _check_window_hashes(docs, params, ns)
    # a sub-range of the documents (prefix values still cover the whole chunk)
    _check_window_hashes(docs, params, [1, 3, 5], d0=3, d1=len(docs) - 2)
    _check_window_hashes(docs, params, [2], d0=4, d1=4)


def test_window_hashes_degenerate_docs():
    params = hash_params(2**63 + 11)
    for docs in ([], [[]], [[], [], []], [[P - 1]], [[P - 1] * 5, [], [0] * 5]):
        ns = [1, 2, 5, 6]
        if not docs:
            tokens, doc = _flatten(docs)
            prefix = kernels.prefix_values(tokens, np.uint64(params.base))
            for n in ns:
                got = kernels.window_hashes(
                    prefix, doc, 0, 0, n, np.uint64(params.base_pow(n)), np.uint64(params.salt(n))
                )
                assert got.shape == (0,)
            continue
        _check_window_hashes(docs, params, ns)


residue = st.one_of(
    st.integers(0, P - 1),
    st.integers(2**60, P - 1),
    st.sampled_from([0, 1, P - 1, 2**60, 2**32, 2**32 - 1]),
)


@HYP
@given(
    docs=st.lists(st.lists(residue, max_size=12), max_size=6),
    n=st.integers(1, 14),
    seed=st.one_of(st.integers(0, 2**64 - 1), st.integers(2**63, 2**64 - 1)),
)
def test_window_hashes_hypothesis(docs, n, seed):
    _check_window_hashes(docs, hash_params(seed), [n])


# --------------------------------------------------------------------------- HyperLogLog


def _run_hll_windows(docs, params, ns, p, init, d0=0, d1=None):
    tokens, doc = _flatten(docs)
    d1 = len(docs) if d1 is None else d1
    prefix = kernels.prefix_values(tokens, np.uint64(params.base))
    ns_a, bases, salts = params.window_arrays(ns)
    regs = init.copy()
    kernels.hll_update_windows(prefix, doc, d0, d1, ns_a, bases, salts, np.int64(p), regs)
    return regs


@pytest.mark.parametrize("p", [4, 10, 16])
@pytest.mark.parametrize("seed", [5, 2**63 + 99])
def test_hll_update_windows(p, seed):
    params = hash_params(seed)
    rng = np.random.default_rng(p * 31 + seed % 101)
    docs = _random_docs(rng, 60, 120)
    docs.append([])
    longest = max(len(d) for d in docs)
    ns = [1, 2, 3, 8, 25, longest, longest + 1]
    m = 1 << p
    zero = np.zeros((len(ns), m), dtype=np.int8)
    # non-zero starting registers: the kernel must keep the max, never overwrite downwards
    start = rng.integers(0, 4, size=(len(ns), m)).astype(np.int8)
    d0, d1 = 1, len(docs)
    expected = {}
    for n in ns:
        expected[n] = ref.hll_registers(ref.all_window_hashes(docs[d0:d1], params, n), p)
    old = numba.get_num_threads()
    results = {}
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            results[threads] = (
                _run_hll_windows(docs, params, ns, p, zero, d0, d1),
                _run_hll_windows(docs, params, ns, p, start, d0, d1),
            )
    finally:
        numba.set_num_threads(old)
    assert numba.get_num_threads() == old
    for threads, (from_zero, from_start) in results.items():
        assert from_zero.dtype == np.int8 and from_zero.shape == (len(ns), m)
        for j, n in enumerate(ns):
            assert from_zero[j].tolist() == expected[n], (threads, n)
            exp_start = [max(int(a), b) for a, b in zip(start[j], expected[n])]
            assert from_start[j].tolist() == exp_start, (threads, n)
    first = results[1]
    for other in results.values():
        assert np.array_equal(first[0], other[0]) and np.array_equal(first[1], other[1])
    # every row with windows got at least one update (the test would be vacuous otherwise)
    assert any(v > 0 for v in expected[1])


@pytest.mark.parametrize("p", [4, 8, 12])
def test_hll_update_windows_hip_matches_oracle(p):
    """The running HIP estimates equal the slow oracle bit for bit, from empty and from
    non-empty registers, on 1 and N threads, and in two calls as in one."""
    params = hash_params(11)
    rng = np.random.default_rng(700 + p)
    docs = _random_docs(rng, 40, 100)
    ns = [1, 2, 5]
    tokens, doc = _flatten(docs)
    prefix = kernels.prefix_values(tokens, np.uint64(params.base))
    ns_a, bases, salts = params.window_arrays(ns)
    m = 1 << p
    start = rng.integers(0, 3, size=(len(ns), m)).astype(np.int8)
    expected = []
    for j, n in enumerate(ns):
        hashes = ref.all_window_hashes(docs, params, n)
        expected.append(ref.hll_hip(hashes, p, start[j].tolist(), 5.0))
    old = numba.get_num_threads()
    try:
        for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
            numba.set_num_threads(threads)
            for cut in (len(docs), len(docs) // 2):
                regs = start.copy()
                hist = kernels.hip_state(regs, np.int64(p))
                hip = np.full(len(ns), 5.0)
                for d0, d1 in ((0, cut), (cut, len(docs))):
                    if d1 > d0:
                        kernels.hll_update_windows(
                            prefix, doc, d0, d1, ns_a, bases, salts, np.int64(p), regs, 0,
                            False, 0, None, hist, hip,
                        )  # fmt: skip
                for j in range(len(ns)):
                    assert regs[j].tolist() == expected[j][0]
                    assert hip[j] == expected[j][1], (threads, cut, ns[j])
                assert np.array_equal(hist, kernels.hip_state(regs, np.int64(p)))
    finally:
        numba.set_num_threads(old)
    assert all(e[1] > 5.0 + 100 for e in expected)  # the streams did grow the estimates


def test_hip_replay_equals_a_single_pass():
    """Replaying a shard's growth log against earlier registers gives the HIP estimates of
    one pass over both, bit for bit."""
    p, n_a, n_b = 8, 3000, 5000
    rng = np.random.default_rng(3)
    first = rng.integers(0, 2**63, size=n_a, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    second = rng.integers(0, 2**63, size=n_b, dtype=np.uint64) * np.uint64(2)
    second[::7] = first[: second[::7].shape[0]]  # repeats of the first part
    reg_a, hip_a = ref.hll_hip(first, p)
    want_reg, want_hip = ref.hll_hip(second, p, reg_a, hip_a)
    # the shard alone: its own growth log (register, rank), in order
    local = [0] * (1 << p)
    log_reg, log_rank = [], []
    for h in second.tolist():
        idx, rank = h & ((1 << p) - 1), (64 - p) - (h >> p).bit_length() + 1
        if rank > local[idx]:
            local[idx] = rank
            log_reg.append(idx)
            log_rank.append(rank)
    regs = np.array(reg_a, dtype=np.int8)
    hist = kernels.hip_state(regs.reshape(1, -1), np.int64(p))
    hip = np.array([hip_a])
    lr, lk = np.array(log_reg, dtype=np.int32), np.array(log_rank, dtype=np.int8)
    kernels.hip_replay(regs, np.int64(1 << p), np.int64(p), hist, hip, lr, lk, 0, len(lr) // 3)
    kernels.hip_replay(regs, np.int64(1 << p), np.int64(p), hist, hip, lr, lk, len(lr) // 3,
                       len(lr))  # fmt: skip
    assert regs.tolist() == want_reg
    assert hip[0] == want_hip
    assert len(log_reg) > sum(1 for a, b in zip(reg_a, want_reg) if b > a)  # some were no-ops


def test_hip_error_is_below_the_standard_estimator():
    """A loose accuracy check (the study is benchmarks/accuracy.py): over 48 streams of
    20,000 distinct hashes at p=8, HIP's RMS relative error is near 0.83/sqrt(m) and below
    the standard estimator's."""
    from seqcount.sketches import hll_estimate

    p, n, trials = 8, 20_000, 48
    m = 1 << p
    hip_err, std_err = [], []
    for t in range(trials):
        x = np.arange(t * n, (t + 1) * n, dtype=np.uint64)
        hashes = _mix(x)
        regs = np.zeros((1, m), dtype=np.int8)
        hist = kernels.hip_state(regs, np.int64(p))
        hip = np.zeros(1)
        for h in np.array_split(hashes, 4):
            _hip_hashes(regs, hist, hip, h, p)
        hip_err.append(hip[0] / n - 1)
        std_err.append(hll_estimate(regs[0]) / n - 1)
    rms_hip = float(np.sqrt(np.mean(np.square(hip_err))))
    rms_std = float(np.sqrt(np.mean(np.square(std_err))))
    assert 0.5 * 0.833 / np.sqrt(m) < rms_hip < 1.3 * 0.833 / np.sqrt(m)
    assert rms_hip < rms_std


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: distinct inputs give distinct, well-mixed 64-bit hashes."""
    z = x * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _hip_hashes(regs, hist, hip, hashes, p):
    """Feed precomputed hashes through :func:`kernels.hip_replay` (a log of every item)."""
    m = 1 << p
    idx = (hashes & np.uint64(m - 1)).astype(np.int32)
    rest = hashes >> np.uint64(p)
    bits = np.zeros(rest.shape[0], dtype=np.int64)
    r = rest.copy()
    while np.any(r):
        nz = r > 0
        bits[nz] += 1
        r[nz] >>= np.uint64(1)
    rank = ((64 - p) - bits + 1).astype(np.int8)
    kernels.hip_replay(regs.reshape(-1), np.int64(m), np.int64(p), hist, hip, idx, rank, 0,
                       idx.shape[0])  # fmt: skip


@pytest.mark.parametrize("p", [4, 10, 16])
def test_hll_update_hashes(p):
    rng = np.random.default_rng(100 + p)
    hashes = rng.integers(0, 2**64, size=20000, dtype=np.uint64)
    # hashes with many leading zeros above the index bits, and the extremes
    shifts = rng.integers(p, 64, size=200).astype(np.uint64)
    low = hashes[:200] & np.uint64((1 << p) - 1)
    hashes[:200] = ((hashes[:200] >> shifts) << np.uint64(p)) | low
    special = [0, 1, (1 << p) - 1, 1 << p, (1 << (p + 1)) - 1, MASK64, 1 << 63, (1 << 63) - 1]
    hashes = np.concatenate([hashes, np.array(special, dtype=np.uint64)])
    reg = np.zeros(1 << p, dtype=np.int8)
    kernels.hll_update_hashes(reg, hashes, np.int64(p))
    exp = ref.hll_registers(hashes.tolist(), p)
    assert reg.tolist() == exp
    assert max(exp) == 65 - p  # the all-zero high bits reached the maximum rank
    # updating in two batches, on top of existing registers, gives the same registers
    reg2 = np.zeros(1 << p, dtype=np.int8)
    kernels.hll_update_hashes(reg2, hashes[::2].copy(), np.int64(p))
    kernels.hll_update_hashes(reg2, hashes[1::2].copy(), np.int64(p))
    assert reg2.tolist() == exp


@HYP
@given(st.lists(st.integers(0, 2**64 - 1), max_size=50), st.sampled_from([4, 5, 10, 16]))
def test_hll_update_hashes_hypothesis(hashes, p):
    reg = np.zeros(1 << p, dtype=np.int8)
    kernels.hll_update_hashes(reg, np.array(hashes, dtype=np.uint64), np.int64(p))
    assert reg.tolist() == ref.hll_registers(hashes, p)


def test_reg_histograms_matches_bincount():
    """Counted in four partial histograms: row lengths that are not a multiple of four, all
    values from 0 to 64, and rows of one repeated value."""
    rng = np.random.default_rng(65)
    for m in (1, 3, 4, 7, 64, 1001):
        regs = rng.integers(0, 65, size=(3, m)).astype(np.int8)
        regs[1] = 0
        got = kernels.reg_histograms(regs)
        exp = np.stack([np.bincount(r.astype(np.int64), minlength=65) for r in regs])
        assert got.tolist() == exp.tolist(), m
