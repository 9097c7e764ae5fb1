"""HLL state and estimates against datasketch; merge algebra; the sketch file."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import HyperLogLogPlusPlus
from hypothesis import given, settings
from hypothesis import strategies as st

from seqcount.errors import FormatError, SketchMismatchError
from seqcount.sketches import HLL, MinHash, SketchSet, hll_estimate, load_sketches


def _hashes(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**64, size=count, dtype=np.uint64, endpoint=False)


def _datasketch(p: int, hashes: np.ndarray) -> HyperLogLogPlusPlus:
    h = HyperLogLogPlusPlus(p=p, hashfunc=lambda x: x)
    for v in hashes.tolist():
        h.update(v)
    return h


@pytest.mark.parametrize("p", [4, 8, 12, 16])
@pytest.mark.parametrize("count", [0, 1, 50, 3000, 40000])
def test_registers_and_count_equal_datasketch(p, count):
    hashes = _hashes(count, seed=p * 1000 + count)
    ours = HLL(p)
    ours.update_batch(hashes)
    theirs = _datasketch(p, hashes)
    assert np.array_equal(ours.reg, theirs.reg)
    assert ours.count() == pytest.approx(theirs.count(), rel=1e-12, abs=1e-9)
    # And our registers loaded into datasketch give the same count.
    loaded = HyperLogLogPlusPlus(reg=ours.reg.copy())
    assert loaded.count() == pytest.approx(ours.count(), rel=1e-12, abs=1e-9)


def test_high_bit_hashes_rank():
    """Hashes >= 2**63 and hashes whose high bits are all zero hit the extreme ranks."""
    hashes = np.array([2**64 - 1, 2**63, 5, 1 << 16, 0], dtype=np.uint64)
    ours = HLL(16)
    ours.update_batch(hashes)
    theirs = _datasketch(16, hashes)
    assert np.array_equal(ours.reg, theirs.reg)
    assert ours.reg.max() == 64 - 16 + 1  # h >> p == 0 has the maximal rank


def test_to_and_from_datasketch_round_trip():
    h = HLL(10)
    h.update_batch(_hashes(5000, 1))
    ds = h.to_datasketch()
    assert HLL.from_datasketch(ds) == h
    ds.update(12345)  # identity hashfunc: the value is the hash
    h.update_batch(np.array([12345], dtype=np.uint64))
    assert HLL.from_datasketch(ds) == h


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    st.lists(st.integers(0, 2**64 - 1), max_size=200),
    st.lists(st.integers(0, 2**64 - 1), max_size=200),
    st.lists(st.integers(0, 2**64 - 1), max_size=200),
)
def test_merge_is_union_and_order_free(a, b, c):
    sk = []
    for vals in (a, b, c):
        h = HLL(6)
        h.update_batch(np.array(vals, dtype=np.uint64))
        sk.append(h)
    whole = HLL(6)
    whole.update_batch(np.array(a + b + c, dtype=np.uint64))
    assert HLL.union(*sk) == whole
    assert HLL.union(sk[2], sk[0], sk[1]) == whole
    assert HLL.union(HLL.union(sk[0], sk[1]), sk[2]) == HLL.union(sk[0], HLL.union(sk[1], sk[2]))
    assert HLL.union(sk[0], sk[0]) == sk[0]


def test_merge_rejects_other_precision():
    with pytest.raises(SketchMismatchError):
        HLL(8).merge(HLL(9))


@pytest.mark.parametrize("bad", [3, 17])
def test_precision_out_of_range(bad):
    with pytest.raises(ValueError, match=r"range \[4, 16\]"):
        HLL(bad)


@pytest.mark.parametrize("p", [10, 14])
def test_estimate_error_is_near_theory(p):
    """A loose accuracy check (the accuracy study lives in benchmarks/)."""
    m = 1 << p
    for true in (m // 4, 3 * m, 40 * m):
        h = HLL(p)
        h.update_batch(_hashes(true, seed=true))
        assert abs(h.count() / true - 1) < 4 * 1.04 / np.sqrt(m)


def test_hll_estimate_empty_is_zero():
    assert hll_estimate(np.zeros(1 << 12, dtype=np.int8)) == 0.0


def test_sketch_file_round_trip_and_deterministic_bytes(tmp_path):
    regs = []
    for seed in range(3):
        h = HLL(12)
        h.update_batch(_hashes(10000, seed))
        regs.append(h)
    s = SketchSet((1, 2, 4), regs, {"seed": 0, "precision": 12}, {"tokens": 10})
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    s.save(a)
    s.save(b)
    assert a.read_bytes() == b.read_bytes()
    back = load_sketches(a)
    assert back.ns == (1, 2, 4)
    assert back.options == s.options and back.meta == s.meta
    assert all(x == y for x, y in zip(back.hll, regs))
    assert back[4] == regs[2]


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("big", [False, True])
def test_npz_is_stored_byte_stable_and_reads_back(monkeypatch, big):
    """write_npz stores each array as np.save writes it (C order, whatever the array's), CRCs
    that zipfile checks, the same bytes every time; an archive past zip's 32-bit limit goes to
    zipfile's own writer (here with the limit made small); object arrays are refused."""
    import io
    import zipfile

    from seqcount.sketches import files

    if big:
        monkeypatch.setattr(files, "_ZIP_LIMIT", 1000)
    rng = np.random.default_rng(5)
    regs = rng.integers(0, 20, size=(3, 7, 1000)).astype(np.int8)
    arrays = {
        "header": np.array('{"format": "x"}'),
        "regs": regs,
        "strided": regs[:, ::2, 1:],  # not contiguous: written in C order
        "empty": np.zeros(0, dtype=np.uint64),
        "vals": rng.integers(0, 2**63, size=999, dtype=np.uint64),
        "matrix": np.matrix([[1, 2], [3, 4]]),  # a subclass: stored as a plain array
    }
    out = []
    for _ in range(2):
        buf = io.BytesIO()
        files.write_npz(buf, arrays)
        out.append(buf.getvalue())
    assert out[0] == out[1]
    with zipfile.ZipFile(io.BytesIO(out[0])) as z:
        assert z.testzip() is None
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
        for k, v in arrays.items():
            want = io.BytesIO()
            np.lib.format.write_array(want, np.asarray(v))
            assert z.read(k + ".npy") == want.getvalue()
    back = np.load(io.BytesIO(out[0]))
    assert sorted(back.files) == sorted(arrays)
    for k, v in arrays.items():
        assert back[k].dtype == v.dtype and np.array_equal(back[k], v)
    with pytest.raises(ValueError, match="object arrays"):
        files.write_npz(io.BytesIO(), {"x": np.array([None, 1], dtype=object)})


def test_sketch_file_rejects_other_files(tmp_path):
    bad = tmp_path / "x.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(FormatError, match="not a seqcount sketch file"):
        load_sketches(bad)
    other = tmp_path / "o.npz"
    np.savez(other, header=np.array('{"format": "something", "version": 1}'), ns=[1], hll=[[0]])
    with pytest.raises(FormatError, match="format"):
        load_sketches(other)
    future = tmp_path / "f.npz"
    np.savez(
        future,
        header=np.array('{"format": "seqcount-sketches", "version": 99}'),
        ns=np.array([1]),
        hll=np.zeros((1, 16), np.int8),
    )
    with pytest.raises(FormatError, match="version 99"):
        load_sketches(future)


# --------------------------------------------------------------------------- byte form


@pytest.mark.parametrize("p", [4, 11, 16])
def test_hll_bytes_round_trip(p):
    h = HLL(p)
    h.update_batch(_hashes(3000, p))
    h.update(2**64 - 1)
    b = h.to_bytes()
    assert b[:4] == b"SQHL" and len(b) == 7 + (1 << p)
    back = HLL.from_bytes(b)
    assert back == h and back.p == p and back.count() == h.count()
    back.update(12345)  # a writable copy, not a view of the bytes
    assert HLL.from_bytes(bytearray(b)) == h


def test_minhash_bytes_round_trip():
    m = MinHash(num_perm=37, seed=2**32 - 1)
    m.update_batch(_hashes(500, 9))
    m.update(0)
    b = m.to_bytes()
    assert b[:4] == b"SQMH" and len(b) == 14 + 8 * 37
    back = MinHash.from_bytes(b)
    assert back == m and back.seed == m.seed and back.hashvalues.dtype == np.uint64
    assert MinHash.from_bytes(MinHash(num_perm=3).to_bytes()).is_empty()


def _bad(b: bytes, at: int, value: int) -> bytes:
    out = bytearray(b)
    out[at] = value
    return bytes(out)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b[:5], "shorter than its"),
        (lambda b: b"", "shorter than its"),
        (lambda b: b[:-1], "registers, expected"),
        (lambda b: b + b"\0", "registers, expected"),
        (lambda b: _bad(b, 0, ord("X")), "magic"),
        (lambda b: _bad(b, 4, 2), "version 2 is not supported"),
        (lambda b: _bad(b, 6, 17), "precision 17"),
        (lambda b: _bad(b, 7, 200), "register outside"),
        (lambda b: MinHash(num_perm=4).to_bytes(), "magic"),
    ],
)
def test_hll_bad_bytes_are_refused(mutate, message):
    b = HLL(8).to_bytes()
    with pytest.raises(FormatError, match=message):
        HLL.from_bytes(mutate(b))


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b[:13], "shorter than its"),
        (lambda b: b[:-3], "bytes of values"),
        (lambda b: _bad(b, 3, ord("L")), "magic"),
        (lambda b: _bad(b, 5, 1), "version 257 is not supported"),
        (lambda b: _bad(b, 10, 0), "bytes of values"),
        (lambda b: HLL(4).to_bytes(), "magic"),
    ],
)
def test_minhash_bad_bytes_are_refused(mutate, message):
    b = MinHash(num_perm=4, seed=3).to_bytes()
    with pytest.raises(FormatError, match=message):
        MinHash.from_bytes(mutate(b))
