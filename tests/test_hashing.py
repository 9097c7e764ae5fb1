"""The checked wrappers of :mod:`seqcount.hashing`: same results as the kernels, and arguments of
the wrong type, dtype or shape refused with a message naming them."""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref

from seqcount import _kernels as kernels
from seqcount import hashing
from seqcount.hashing import Piece, WindowParams, hash_params
from seqcount.sketches import minhash_permutations
from seqcount.tokenize import word_classes

NS = (1, 3, 8)
P = 6
K = 16


def _piece(seed: int = 3, ndocs: int = 30) -> Piece:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 25, size=ndocs)
    doc = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    tokens = rng.integers(0, 50, size=int(doc[-1]), dtype=np.uint64)  # repeats: equal windows
    prefix = kernels.prefix_values(tokens, np.uint64(hash_params(7).base))
    return Piece(prefix, doc)


def _win(stride: bool = False) -> WindowParams:
    return WindowParams.of(hash_params(7), NS, P, stride)


@pytest.mark.parametrize("stride", [False, True])
def test_hll_wrapper_matches_kernel(stride):
    piece, win = _piece(), _win(stride)
    ndocs = piece.doc.shape[0] - 1
    regs = np.zeros((len(NS), 1 << P), np.int8)
    hipst, hip = kernels.hip_state(regs, np.int64(P)), np.zeros(len(NS))
    hashing.hll_update_windows(piece, 0, ndocs, win, regs, hip=(hipst, hip))
    exp = np.zeros_like(regs)
    est, st = np.zeros(len(NS)), kernels.hip_state(exp, np.int64(P))
    kernels.hll_update_windows(
        piece.prefix, piece.doc, 0, ndocs, win.ns, win.bases, win.salts, np.int64(P), exp, 0,
        stride, 0, None, st, est,
    )  # fmt: skip
    assert regs.any()
    assert regs.tolist() == exp.tolist()
    assert hip.tolist() == est.tolist() and hipst.tolist() == st.tolist()


def test_log_wrapper_replays_to_the_registers():
    """Every logged growth, applied in order, gives the registers of the plain update."""
    piece, win = _piece(), _win()
    ndocs = piece.doc.shape[0] - 1
    regs = np.zeros((len(NS), 1 << P), np.int8)
    log_doc, log_key, counts = hashing.hll_log_windows(piece, 0, ndocs, win, regs, 100)
    replay = np.zeros_like(regs)
    for j in range(len(NS)):
        assert counts[j] > 0
        assert np.all(np.diff(log_doc[j, : counts[j]]) >= 0) and log_doc[j, 0] >= 100
        for key in log_key[j, : counts[j]]:
            replay[j, key >> 8] = key & 255
    plain = np.zeros_like(regs)
    hashing.hll_update_windows(piece, 0, ndocs, win, plain)
    assert replay.tolist() == regs.tolist() == plain.tolist()


def test_rows_are_shared_out_across_threads():
    """_by_rows gives every window size to exactly one call, and with two threads the calls
    run side by side (each call waits for the other to start)."""
    import threading

    import numba

    seen, lock, both = [], threading.Lock(), threading.Barrier(2, timeout=10)

    def call(j0, j1):
        with lock:
            seen.append((j0, j1, threading.get_ident()))
        if j0 < 2:
            both.wait()  # two threads, or a BrokenBarrierError after 10 s

    old = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        if numba.get_num_threads() < 2:
            pytest.skip("one CPU")
        hashing._by_rows(call, 7)
    finally:
        numba.set_num_threads(old)
    assert sorted((a, b) for a, b, _ in seen) == [(j, j + 1) for j in range(7)]
    assert len({t for _, _, t in seen}) == 2


def _rows_in_child(queue) -> None:
    import numba

    numba.set_num_threads(2)
    out = []
    hashing._by_rows(lambda j0, j1: out.append(j0), 4)
    queue.put(sorted(out))


def test_rows_work_in_a_forked_child():
    """A child forked after the row threads exist makes its own (the parent's are not there):
    without that, it would wait for them forever."""
    import multiprocessing

    import numba

    if numba.config.NUMBA_NUM_THREADS < 2 or "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs two CPUs and fork")
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(2)
        hashing._by_rows(lambda j0, j1: None, 4)  # the parent's row threads
    finally:
        numba.set_num_threads(old)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_rows_in_child, args=(queue,))
    child.start()
    child.join(30)
    alive = child.is_alive()
    if alive:
        child.kill()
    assert not alive and child.exitcode == 0
    assert queue.get(timeout=5) == [0, 1, 2, 3]


@pytest.mark.parametrize("threads", [1, 2])
def test_hll_wrappers_do_not_depend_on_threads(threads):
    """Registers, HIP state, block registers and theta sketches are those of one kernel call
    over every window size, counted by one thread, on any number of threads."""
    import numba

    from seqcount.sketches.theta import ThetaTables

    piece, win = _piece(ndocs=200), _win()
    ndocs = piece.doc.shape[0] - 1

    def run(by_wrapper):
        regs = np.zeros((len(NS), 1 << P), np.int8)
        hipst, hip = kernels.hip_state(regs, np.int64(P)), np.zeros(len(NS))
        blk = np.zeros((len(NS), 1 << 4), np.int8)
        tables = ThetaTables(len(NS), (16, 64), 0)
        if by_wrapper:
            hashing.hll_update_windows(
                piece, 0, ndocs, win, regs, hip=(hipst, hip), blk=blk,
                theta=tables.kernel_args(),
            )  # fmt: skip
        else:
            args = tables.kernel_args()
            kernels.hll_update_windows(
                piece.prefix, piece.doc, 0, ndocs, win.ns, win.bases, win.salts, np.int64(P),
                regs, 0, False, 0, None, hipst, hip, blk[None], np.zeros(ndocs, np.int64),
                *args[:3], args[3], *args[4:],
            )  # fmt: skip
        return regs, hipst, hip, blk, tables.kernel_args()[:3]

    old = numba.get_num_threads()
    try:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        got = run(True)
    finally:
        numba.set_num_threads(old)
    want = run(False)
    assert got[0].any() and got[4][1].any()
    for a, b in zip(got, want):
        if isinstance(a, tuple):
            for x, y in zip(a, b):
                assert np.array_equal(x, y)
        else:
            assert np.array_equal(a, b)


def test_minhash_wrappers_match_window_hashes():
    """The signature of all windows of a size is that of their hashes, however it is made."""
    piece, win = _piece(), _win()
    ndocs = piece.doc.shape[0] - 1
    perm = minhash_permutations(K, 1)
    sigs = np.full((2, len(NS), K), kernels.MINHASH_EMPTY, np.int64)
    hashing.minhash_update_windows(piece, 0, ndocs, win, perm, sigs, kernels.minhash_cache(2, 3))
    for j in range(len(NS)):
        hashes = hashing.window_hashes(piece, 0, ndocs, win.one(j))
        exp = np.full(K, kernels.MINHASH_EMPTY, np.int64)
        kernels.minhash_update_hashes(exp, perm[0], perm[1], hashes)
        assert sigs[:, j].min(axis=0).tolist() == exp.tolist()
        per_doc = np.full((ndocs, K), kernels.MINHASH_EMPTY, np.int64)
        hashing.doc_minhash(piece, 0, ndocs, win.one(j), perm, per_doc)
        assert per_doc.min(axis=0).tolist() == exp.tolist()


def _calls(piece: Piece, win: WindowParams):
    """name -> (wrapper, keyword arguments) of every wrapper, with valid arguments."""
    nd = piece.doc.shape[0] - 1
    perm = minhash_permutations(K, 1)
    regs = np.zeros((len(NS), 1 << P), np.int8)
    sigs = np.full((1, len(NS), K), kernels.MINHASH_EMPTY, np.int64)
    base = dict(piece=piece, d0=0, d1=nd)
    one = dict(base, win=win.one(0))
    return {
        "hll": (hashing.hll_update_windows, dict(base, win=win, regs=regs)),
        "log": (hashing.hll_log_windows, dict(base, win=win, regs=regs, doc_base=0)),
        "minhash": (
            hashing.minhash_update_windows,
            dict(base, win=win, perm=perm, sigs=sigs, cache=kernels.minhash_cache(1, len(NS))),
        ),
        "hashes": (hashing.window_hashes, one),
        "doc": (hashing.doc_minhash, dict(one, perm=perm, out=np.zeros((nd, K), np.int64))),
    }


@pytest.mark.parametrize(
    "call, arg",
    [
        ("hll", "regs"), ("log", "regs"), ("minhash", "perm"), ("minhash", "sigs"),
        ("minhash", "cache"), ("doc", "perm"), ("doc", "out"),
    ],
)  # fmt: skip
def test_wrong_dtype_is_refused_by_name(call, arg):
    fn, kwargs = _calls(_piece(), _win())[call]
    fn(**kwargs)  # the valid call runs
    kwargs[arg] = kwargs[arg].astype(np.float64)
    with pytest.raises(TypeError, match=f"{arg} must have dtype"):
        fn(**kwargs)


@pytest.mark.parametrize("call", ["hll", "log", "minhash", "hashes", "doc"])
@pytest.mark.parametrize("arg, dtype", [("prefix", np.int64), ("doc", np.int32)])
def test_piece_arrays_of_the_wrong_dtype_are_refused(call, arg, dtype):
    piece = _piece()
    fn, kwargs = _calls(piece, _win())[call]
    bad = getattr(piece, arg).astype(dtype)
    kwargs["piece"] = Piece(**{**vars(piece), arg: bad})
    with pytest.raises(TypeError, match=f"{arg} must have dtype"):
        fn(**kwargs)


@pytest.mark.parametrize(
    "call, arg, shape",
    [("hll", "regs", (3, 32)), ("hll", "regs", (2, 64)), ("minhash", "sigs", (1, 3, 8)),
     ("minhash", "cache", (1, 2, 4096)), ("doc", "out", (29, 16)), ("doc", "out", (30, 15))],
)  # fmt: skip
def test_wrong_shape_is_refused_by_name(call, arg, shape):
    fn, kwargs = _calls(_piece(), _win())[call]
    kwargs[arg] = np.zeros(shape, kwargs[arg].dtype)
    with pytest.raises(ValueError, match=arg):
        fn(**kwargs)


def test_read_only_or_strided_outputs_are_refused():
    fn, kwargs = _calls(_piece(), _win())["hll"]
    regs = kwargs["regs"]
    regs.setflags(write=False)
    with pytest.raises(ValueError, match="regs must be a writable C-contiguous"):
        fn(**kwargs)
    kwargs["regs"] = np.zeros((len(NS), 2 << P), np.int8)[:, ::2]
    with pytest.raises(ValueError, match="regs must be a writable C-contiguous"):
        fn(**kwargs)


def test_documents_and_prefix_out_of_range_are_refused():
    piece, win = _piece(), _win()
    regs = np.zeros((len(NS), 1 << P), np.int8)
    nd = piece.doc.shape[0] - 1
    with pytest.raises(ValueError, match="documents"):
        hashing.hll_update_windows(piece, 0, nd + 1, win, regs)
    with pytest.raises(ValueError, match="documents"):
        hashing.hll_update_windows(piece, 5, 4, win, regs)
    short = Piece(piece.prefix[:-1], piece.doc)
    with pytest.raises(ValueError, match="prefix has"):
        hashing.hll_update_windows(short, 0, nd, win, regs)
    with pytest.raises(ValueError, match="keep has"):
        hashing.hll_update_windows(piece, 0, nd, win, regs, keep=np.ones(nd - 1, np.uint8))
    with pytest.raises(TypeError, match="hip estimates must have dtype"):
        state = kernels.hip_state(regs, np.int64(P))
        hashing.hll_update_windows(piece, 0, nd, win, regs, hip=(state, np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match="one window size"):
        hashing.window_hashes(piece, 0, nd, win)


def test_prefix_into_refuses_out_overlapping_tokens():
    """prefix_into writes later runs' values before it reads the tokens there: an ``out`` that
    overlaps the tokens is refused; one right behind them (disjoint) is fine."""
    base = hash_params(3).base
    buf = np.arange(1, 30_001, dtype=np.uint64)
    tokens = buf[:10_000]
    for start in (0, 1, 9_999):
        with pytest.raises(ValueError, match="overlaps tokens"):
            hashing.prefix_into(tokens, base, buf[start:])
    got = hashing.prefix_into(tokens, base, buf[10_000:])
    assert got.tolist() == ref.prefix_values(list(range(1, 10_001)), base)
    with pytest.raises(ValueError, match="needs room"):
        hashing.prefix_into(tokens, base, np.zeros(10_000, np.uint64))


def test_window_params_checks():
    win = _win()
    assert len(win) == 3 and win.one(1).ns.tolist() == [3]
    assert win.bases.tolist() == [hash_params(7).base_pow(n) for n in NS]
    with pytest.raises(TypeError, match="ns must have dtype int64"):
        WindowParams(win.ns.astype(np.int32), win.bases, win.salts)
    with pytest.raises(TypeError, match="salts must be a numpy uint64 array"):
        WindowParams(win.ns, win.bases, list(win.salts))
    with pytest.raises(ValueError, match="one length"):
        WindowParams(win.ns, win.bases[:2], win.salts)


def _words_args():
    data = np.frombuffer(b"a bc, d\xc3\xa9f\xff", dtype=np.uint8)  # one invalid byte
    offsets = np.array([0, 4, data.shape[0]], dtype=np.int64)
    n = data.shape[0]
    return dict(
        data=data, offsets=offsets, classes=word_classes(), token_base=hash_params(2).token_base,
        out=np.empty(n, np.uint64), doc=np.empty(3, np.int64),
        spans=(np.empty(n, np.int64), np.empty(n, np.int64)),
    )  # fmt: skip


def test_tokenize_words_wrapper_matches_kernel():
    args = _words_args()
    ntok, invalid = hashing.tokenize_words(**args)
    out, doc = np.empty_like(args["out"]), np.empty_like(args["doc"])
    starts, ends = np.empty_like(args["spans"][0]), np.empty_like(args["spans"][1])
    exp = kernels.tokenize_words(
        args["data"], args["offsets"], args["classes"], np.uint64(args["token_base"]), out, doc,
        starts, ends,
    )  # fmt: skip
    assert (ntok, invalid) == tuple(exp) == (5, 1)
    assert args["out"][:ntok].tolist() == out[:ntok].tolist()
    assert args["doc"].tolist() == doc.tolist() == [0, 2, 5]
    assert args["spans"][0][:ntok].tolist() == starts[:ntok].tolist()


@pytest.mark.parametrize(
    "arg, bad, error, message",
    [
        ("data", lambda a: a.astype(np.int8), TypeError, "data must have dtype uint8"),
        ("offsets", lambda a: a.astype(np.int32), TypeError, "offsets must have dtype int64"),
        ("offsets", lambda a: a + 1, ValueError, "offsets run outside data"),
        ("classes", lambda a: a.astype(np.int64), TypeError, "classes must have dtype uint8"),
        ("out", lambda a: a[:3], ValueError, "out has room for 3"),
        ("doc", lambda a: a[:2], ValueError, "doc must have shape"),
        ("spans", lambda s: (s[0][:2], s[1]), ValueError, "starts is shorter"),
        ("spans", lambda s: (s[0], s[1].astype(np.uint64)), TypeError, "ends must have dtype"),
    ],
)
def test_tokenize_words_wrapper_refuses_bad_arguments(arg, bad, error, message):
    args = _words_args()
    args[arg] = bad(args[arg])
    with pytest.raises(error, match=message):
        hashing.tokenize_words(**args)
