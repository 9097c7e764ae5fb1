"""Seeded parameters of the ``poly61-v1`` window hash (see :mod:`seqcount._kernels`), and the
checked entry points to the window kernels.

The kernels take a dozen positional arrays and scalars and trust them (numba does no bounds
checks). Callers use the wrappers here instead: they take a :class:`WindowParams` (the window
sizes with their hash parameters) and a :class:`Piece` (prefix values and document offsets),
check dtypes, shapes and bounds (cheap: no copies), then call the kernel.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import _kernels as kernels
from ._kernels import MERSENNE61
from ._kernels.jit import cache_is_warm
from .config import HASH_NAME

#: What ``summary.json`` says of the hash.
HASH_DESCRIPTION = (
    f"{HASH_NAME}: polynomial of token values modulo 2**61-1 with a seeded base, "
    "XOR a seeded per-n salt, then the MurmurHash3 fmix64 finaliser; "
    "expected colliding pairs below U**2 * n / 2**62"
)
_MASK64 = (1 << 64) - 1


def splitmix64(state: int) -> tuple[int, int]:
    """One SplitMix64 step: return ``(new_state, output)``."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


@dataclass(frozen=True)
class HashParams:
    """Everything the kernels need to hash tokens and windows for one seed.

    Attributes:
        seed: the user's seed.
        base: window polynomial base B in [2**32, P).
        token_base: token-bytes polynomial base Bt in [2**32, P).
        id_seed: XOR key of the ``ids`` token values.
        salt_seed: key from which each window size's salt is drawn.
    """

    seed: int
    base: int
    token_base: int
    id_seed: int
    salt_seed: int

    def base_pow(self, n: int) -> int:
        """``B**n mod P``."""
        return pow(self.base, n, MERSENNE61)

    def salt(self, n: int) -> int:
        """The 64-bit salt XORed into window values of size ``n`` before the finaliser."""
        return splitmix64((self.salt_seed + n * 0xD1B54A32D192ED03) & _MASK64)[1]

    def window_arrays(self, ns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(ns, B**n, salt_n)`` as int64 / uint64 arrays for the kernels."""
        return (
            np.asarray(ns, dtype=np.int64),
            np.array([self.base_pow(n) for n in ns], dtype=np.uint64),
            np.array([self.salt(n) for n in ns], dtype=np.uint64),
        )


@lru_cache(maxsize=16)
def hash_params(seed: int = 0) -> HashParams:
    """Derive the hash parameters of ``seed`` (deterministic, platform independent)."""
    state = seed & _MASK64
    out = []
    for _ in range(4):
        state, z = splitmix64(state)
        out.append(z)
    span = MERSENNE61 - (1 << 32)
    return HashParams(
        seed=seed,
        base=(1 << 32) + out[0] % span,
        token_base=(1 << 32) + out[1] % span,
        id_seed=out[2],
        salt_seed=out[3],
    )


# --------------------------------------------------------------------------- checked wrappers


def _check(name: str, arr, dtype, ndim: int, writable: bool = False) -> None:
    """Refuse ``arr`` unless it is a numpy array of ``dtype`` with ``ndim`` dimensions (and, if
    ``writable``, a C-contiguous writable one: the kernels write into it in place)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name} must be a numpy {np.dtype(dtype)} array, got {type(arr).__name__}")
    if arr.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype)}, got {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-d, got shape {arr.shape}")
    if writable and not (arr.flags.c_contiguous and arr.flags.writeable):
        raise ValueError(f"{name} must be a writable C-contiguous array")


def _check_shape(name: str, arr: np.ndarray, shape: tuple) -> None:
    """Refuse ``arr`` unless its shape is ``shape`` (``None`` entries match any length)."""
    if len(shape) != arr.ndim or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")


@dataclass(frozen=True)
class WindowParams:
    """The window sizes of a pass with their hash parameters, as the kernels take them.

    Attributes:
        ns: int64 ``(k,)`` window sizes.
        bases: uint64 ``(k,)``: ``B**n mod P`` per size.
        salts: uint64 ``(k,)``: the salt of each size.
        precision: HyperLogLog precision ``p`` (registers are ``(k, 2**p)``).
        stride: count non-overlapping windows (every ``n`` tokens) instead of sliding ones.
    """

    ns: np.ndarray
    bases: np.ndarray
    salts: np.ndarray
    precision: int = 16
    stride: bool = False

    @classmethod
    def of(cls, params: HashParams, ns, precision: int = 16, stride: bool = False):
        """The window parameters of sizes ``ns`` under ``params``."""
        arrays = params.window_arrays(tuple(int(n) for n in ns))
        return cls(*arrays, precision=int(precision), stride=bool(stride))

    def __post_init__(self):
        _check("ns", self.ns, np.int64, 1)
        _check("bases", self.bases, np.uint64, 1)
        _check("salts", self.salts, np.uint64, 1)
        if not (self.ns.shape == self.bases.shape == self.salts.shape):
            raise ValueError(
                f"ns, bases and salts must have one length, got {self.ns.shape[0]}, "
                f"{self.bases.shape[0]}, {self.salts.shape[0]}"
            )

    def __len__(self) -> int:
        return int(self.ns.shape[0])

    def one(self, j: int) -> WindowParams:
        """The parameters of window size ``ns[j]`` alone."""
        sl = slice(j, j + 1)
        return WindowParams(
            self.ns[sl], self.bases[sl], self.salts[sl], self.precision, self.stride
        )


@dataclass(frozen=True)
class Piece:
    """Token prefix values and document offsets of a run of documents, ready for hashing.

    Attributes:
        prefix: uint64 ``(T + 1,)`` prefix values (``prefix_values`` of the tokens).
        doc: int64 ``(D + 1,)`` token offsets per document.
        skip: tokens at the start of the first counted document carried over from an earlier
            piece of it (windows inside them are already counted).
        before: document position of that document's first token here.
    """

    prefix: np.ndarray
    doc: np.ndarray
    skip: int = 0
    before: int = 0

    def check(self, d0: int, d1: int) -> tuple[np.int64, np.int64]:
        """Check the arrays and the documents ``d0 .. d1-1``; return them as int64."""
        _check("prefix", self.prefix, np.uint64, 1)
        _check("doc", self.doc, np.int64, 1)
        if not (0 <= d0 <= d1 < self.doc.shape[0]):
            raise ValueError(f"documents [{d0}, {d1}) outside [0, {self.doc.shape[0] - 1})")
        if d1 > d0 and self.doc[d1] >= self.prefix.shape[0]:
            raise ValueError(
                f"prefix has {self.prefix.shape[0]} values, documents end at token {self.doc[d1]}"
            )
        return np.int64(d0), np.int64(d1)


def _check_hll(win: WindowParams, regs: np.ndarray) -> None:
    _check("regs", regs, np.int8, 2, writable=True)
    _check_shape("regs", regs, (len(win), 1 << win.precision))


def _check_blocks(win: WindowParams, d0, d1, blk, bdoc) -> tuple:
    """``blk`` as the kernels take it, ``(blocks, len(win), 2**pb)``, with the block of every
    document (``bdoc``; all in block 0 for 2-d ``blk``)."""
    if blk is None:
        if bdoc is not None:
            raise ValueError("bdoc needs blk")
        return None, None
    _check("blk", blk, np.int8, 3 if getattr(blk, "ndim", 0) == 3 else 2, writable=True)
    m = blk.shape[-1]
    if blk.shape[-2] != len(win) or m & (m - 1) or not 1 <= m <= 1 << win.precision:
        raise ValueError(
            f"blk must have shape ([blocks,] {len(win)}, 2**pb) with pb <= {win.precision}, "
            f"got {blk.shape}"
        )
    if blk.ndim == 2:
        if bdoc is not None:
            raise ValueError("bdoc goes with 3-d blk (blocks, len(win), 2**pb)")
        return blk[None], np.zeros(int(d1), dtype=np.int64)
    if bdoc is None:
        raise ValueError("3-d blk needs bdoc, the block of each document")
    _check("bdoc", bdoc, np.int64, 1)
    if bdoc.shape[0] < d1:
        raise ValueError(f"bdoc has {bdoc.shape[0]} blocks, documents go to {d1}")
    if d1 > d0 and not (0 <= bdoc[d0:d1].min() and bdoc[d0:d1].max() < blk.shape[0]):
        raise ValueError(f"bdoc names blocks outside [0, {blk.shape[0]})")
    return blk, bdoc


# The threads that count window sizes side by side (see _by_rows) and how many, made on first
# use; a forked child starts without them (the parent's threads do not exist there).
_ROW_POOL: tuple[ThreadPoolExecutor, int] | None = None
_ROW_POOL_LOCK = threading.Lock()


def _forget_row_pool() -> None:
    global _ROW_POOL
    _ROW_POOL = None


os.register_at_fork(after_in_child=_forget_row_pool)


def _by_rows(call, rows: int) -> None:
    """Run ``call(j0, j1)`` over the window sizes ``0 .. rows-1``: in this thread alone with
    one thread, else one size at a time on as many threads as numba is set to use (the
    ``--threads`` of a run), each taking the next size when it is done with one.

    The HyperLogLog kernels write only their own rows, so the result is the same on any number
    of threads. The kernels release the GIL."""
    import numba

    threads = min(numba.get_num_threads(), rows)
    if threads <= 1:
        call(0, rows)
        return
    global _ROW_POOL
    with _ROW_POOL_LOCK:
        if _ROW_POOL is None or _ROW_POOL[1] < threads - 1:
            if _ROW_POOL is not None:  # more threads asked for than it has: a larger pool
                _ROW_POOL[0].shutdown(wait=False)
            _ROW_POOL = (
                ThreadPoolExecutor(threads - 1, thread_name_prefix="seqcount-rows"),
                threads - 1,
            )
        pool = _ROW_POOL[0]
    taken = itertools.count()  # next() is atomic: each size is taken once

    def work() -> None:
        while (j := next(taken)) < rows:
            call(j, j + 1)

    helpers = [pool.submit(work) for _ in range(threads - 1)]
    try:
        work()
    finally:
        for f in helpers:
            f.result()


def hll_update_windows(
    piece: Piece,
    d0: int,
    d1: int,
    win: WindowParams,
    regs: np.ndarray,
    *,
    keep=None,
    hip=None,
    blk=None,
    bdoc=None,
    theta=None,
) -> None:
    """Add every window of documents ``d0 .. d1-1`` to the HyperLogLog registers, in place.

    Args:
        piece: the tokens (see :class:`Piece`).
        d0, d1: the documents to count.
        win: window sizes and parameters.
        regs: int8 ``(len(win), 2**precision)`` registers, updated in place.
        keep: optional uint8 ``(D,)`` flags; documents flagged 0 are left out.
        hip: optional ``(state, estimates)``: uint64 ``(len(win), 2)`` register summaries
            (``hip_state``) and float64 ``(len(win),)`` running HIP estimates, updated in place.
        blk: optional int8 ``(len(win), 2**pb)`` block registers (``pb <= precision``), updated
            in place with the same windows: a precision-``pb`` HyperLogLog++ of them; or
            ``(blocks, len(win), 2**pb)`` with ``bdoc``, int64 ``(D,)``: the block of each
            document.
        theta: optional sets of theta sketches of the same windows, ``(buffers, counts,
            thetas, ks, scratch, tables)`` (``ThetaTables.kernel_args``): uint64 ``(S, len(win),
            C)`` candidate buffers with ``C >= max(3 k, k + 512)`` for every set's ``k``, int64
            and uint64 ``(S, len(win))`` counts and thresholds (updated in place), int64 ``(S,)``
            sizes ``ks``, uint64 ``(len(win), C)`` scratch and uint64 ``(S, len(win), W)``
            open-addressing sets of the candidates, ``W >= theta_table_slots(k)`` for every
            set's ``k``, zeroed with the sketches.

    Raises:
        TypeError, ValueError: an argument of the wrong type, dtype or shape (named).
    """
    d0, d1 = piece.check(d0, d1)
    _check_hll(win, regs)
    blk, bdoc = _check_blocks(win, d0, d1, blk, bdoc)
    if keep is not None:
        _check("keep", keep, np.uint8, 1)
        _check_shape("keep", keep, (None,))
        if keep.shape[0] < d1:
            raise ValueError(f"keep has {keep.shape[0]} flags, documents go to {d1}")
    hipst = est = None
    if hip is not None:
        hipst, est = hip
        _check("hip state", hipst, np.uint64, 2, writable=True)
        _check_shape("hip state", hipst, (len(win), 2))
        _check("hip estimates", est, np.float64, 1, writable=True)
        _check_shape("hip estimates", est, (len(win),))
    theta_args = _check_theta(win, theta)
    _by_rows(
        lambda j0, j1: kernels.hll_update_windows(
            piece.prefix, piece.doc, d0, d1, win.ns, win.bases, win.salts,
            np.int64(win.precision), regs, piece.skip, win.stride, piece.before, keep, hipst,
            est, blk, bdoc, *theta_args, np.int64(j0), np.int64(j1),
        ),
        len(win),
    )  # fmt: skip


def _check_theta(win: WindowParams, theta) -> tuple:
    """The theta arguments of the HyperLogLog kernels (all ``None`` without ``theta``)."""
    if theta is None:
        return None, None, None, np.int64(0), None, None  # tk unused: any int64
    bufs, counts, thetas, ks, scratch, tables = theta
    nn = len(win)
    _check("theta buffers", bufs, np.uint64, 3, writable=True)
    _check_shape("theta buffers", bufs, (None, nn, None))
    sets = bufs.shape[0]
    _check("theta scratch", scratch, np.uint64, 2, writable=True)
    _check_shape("theta scratch", scratch, bufs.shape[1:])
    _check("theta tables", tables, np.uint64, 3, writable=True)
    _check_shape("theta tables", tables, (sets, nn, None))
    _check("theta counts", counts, np.int64, 2, writable=True)
    _check_shape("theta counts", counts, (sets, nn))
    _check("thetas", thetas, np.uint64, 2, writable=True)
    _check_shape("thetas", thetas, (sets, nn))
    _check("theta ks", ks, np.int64, 1)
    _check_shape("theta ks", ks, (sets,))
    room = np.array([kernels.theta_room(k) for k in ks], dtype=np.int64)
    if np.any(ks <= 0) or np.any(room > bufs.shape[2]):
        raise ValueError(f"theta buffers of {bufs.shape[2]} values for k {ks.tolist()}: too short")
    slots = max(kernels.theta_table_slots(k) for k in ks) if len(ks) else 0
    if tables.shape[2] < slots:
        raise ValueError(f"theta tables of {tables.shape[2]} slots for k {ks.tolist()}: too short")
    if np.any(counts < 0) or np.any(counts > room[:, None]):
        raise ValueError("theta counts outside the buffers")
    return bufs, counts, thetas, ks, scratch, tables


def hll_log_windows(
    piece: Piece,
    d0: int,
    d1: int,
    win: WindowParams,
    regs: np.ndarray,
    doc_base: int,
    blk=None,
    bdoc=None,
    theta=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`hll_update_windows`, recording every register that grows (``blk``, ``bdoc``,
    ``theta``: optional block registers and theta sketches as there, updated but not logged).

    Returns:
        ``(log_doc, log_key, counts)``: int64 ``(len(win), room)`` document numbers
        ``doc_base + d`` and keys ``idx << 8 | rank``, of which the first ``counts[j]`` of row
        ``j`` are filled, in the order of growth.
    """
    d0, d1 = piece.check(d0, d1)
    _check_hll(win, regs)
    blk, bdoc = _check_blocks(win, d0, d1, blk, bdoc)
    nn = len(win)
    room = int(piece.doc[d1] - piece.doc[d0]) + 1  # at most one growth per window
    log_doc = np.empty((nn, room), dtype=np.int64)
    log_key = np.empty((nn, room), dtype=np.int64)
    counts = np.zeros(nn, dtype=np.int64)
    theta_args = _check_theta(win, theta)
    _by_rows(
        lambda j0, j1: kernels.hll_log_windows(
            piece.prefix, piece.doc, d0, d1, win.ns, win.bases, win.salts,
            np.int64(win.precision), regs, piece.skip, win.stride, piece.before,
            np.int64(doc_base), log_doc, log_key, counts, blk, bdoc, *theta_args, np.int64(j0),
            np.int64(j1),
        ),
        len(win),
    )  # fmt: skip
    return log_doc, log_key, counts


def _check_perm(perm: np.ndarray) -> int:
    _check("perm", perm, np.uint64, 2)
    _check_shape("perm", perm, (2, None))
    return int(perm.shape[1])


def minhash_update_windows(
    piece: Piece,
    d0: int,
    d1: int,
    win: WindowParams,
    perm: np.ndarray,
    sigs: np.ndarray,
    cache: np.ndarray,
) -> None:
    """Add every window of documents ``d0 .. d1-1`` to biased MinHash signatures, in place.

    Args:
        perm: uint64 ``(2, K)`` permutation parameters ``a``, ``b``.
        sigs: int64 ``(parts, len(win), K)`` biased signatures (one per run of documents).
        cache: uint64 ``(parts, len(win), 2**c)`` recent-hash cache (``minhash_cache``).
    """
    d0, d1 = piece.check(d0, d1)
    k = _check_perm(perm)
    _check("sigs", sigs, np.int64, 3, writable=True)
    _check_shape("sigs", sigs, (None, len(win), k))
    _check("cache", cache, np.uint64, 3, writable=True)
    _check_shape("cache", cache, (sigs.shape[0], len(win), None))
    size = cache.shape[2]
    if size < 1 or size & (size - 1):
        raise ValueError(f"cache rows must have a power-of-two length, got {size}")
    kernels.minhash_update_windows(
        piece.prefix, piece.doc, d0, d1, win.ns, win.bases, win.salts, perm[0], perm[1], sigs,
        cache, piece.skip, win.stride, piece.before,
    )  # fmt: skip


def _check_one(win: WindowParams) -> None:
    if len(win) != 1:
        raise ValueError(f"win must hold one window size, got {len(win)} (use win.one(j))")


def window_hashes(piece: Piece, d0: int, d1: int, win: WindowParams) -> np.ndarray:
    """uint64 hashes of the windows of the one size of ``win`` in documents ``d0 .. d1-1``
    (every ``n`` tokens with ``win.stride``, else sliding)."""
    d0, d1 = piece.check(d0, d1)
    _check_one(win)
    n = win.ns[0]
    step = n if win.stride else np.int64(1)
    return kernels.window_hashes(
        piece.prefix, piece.doc, d0, d1, n, win.bases[0], win.salts[0], piece.skip, step,
        piece.before,
    )  # fmt: skip


def doc_minhash(
    piece: Piece, d0: int, d1: int, win: WindowParams, perm: np.ndarray, out: np.ndarray
) -> None:
    """Min-update ``out[d - d0]`` with the sliding windows of the one size of ``win`` in each
    document ``d`` of ``d0 .. d1-1``.

    Args:
        perm: uint64 ``(2, K)`` permutation parameters.
        out: int64 ``(>= d1 - d0, K)`` biased signatures, updated in place.
    """
    d0, d1 = piece.check(d0, d1)
    _check_one(win)
    k = _check_perm(perm)
    _check("out", out, np.int64, 2, writable=True)
    _check_shape("out", out, (None, k))
    if out.shape[0] < d1 - d0:
        raise ValueError(f"out has {out.shape[0]} rows, needs {d1 - d0}")
    kernels.doc_minhash(
        piece.prefix, piece.doc, d0, d1, win.ns[0], win.bases[0], win.salts[0], perm[0], perm[1],
        out, piece.skip, piece.before,
    )  # fmt: skip


def tokenize_words(
    data: np.ndarray,
    offsets: np.ndarray,
    classes: np.ndarray,
    token_base: int,
    out: np.ndarray,
    doc: np.ndarray,
    spans: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[int, int]:
    """``words`` token values of the UTF-8 documents ``data[offsets[d]:offsets[d+1]]``.

    Args:
        data: uint8 bytes; offsets: int64 ``(D + 1,)`` byte offsets.
        classes: uint8 ``(0x110000,)`` character class per code point.
        token_base: the token-bytes polynomial base ``Bt``.
        out: uint64 token values, at least ``offsets[-1] - offsets[0]`` long.
        doc: int64 ``(D + 1,)``: the token offsets per document are written here.
        spans: optional int64 ``(starts, ends)`` arrays as long as ``out``, for byte spans.

    Returns:
        (number of tokens, number of invalid UTF-8 sequences replaced by U+FFFD).
    """
    _check("data", data, np.uint8, 1)
    _check("offsets", offsets, np.int64, 1)
    _check("classes", classes, np.uint8, 1)
    _check("out", out, np.uint64, 1, writable=True)
    _check("doc", doc, np.int64, 1, writable=True)
    _check_shape("doc", doc, offsets.shape)
    if offsets.shape[0] and (offsets[0] < 0 or offsets[-1] > data.shape[0]):
        raise ValueError(f"offsets run outside data ({data.shape[0]} bytes)")
    if offsets.shape[0] and out.shape[0] < offsets[-1] - offsets[0]:
        raise ValueError(
            f"out has room for {out.shape[0]} tokens, needs {offsets[-1] - offsets[0]}"
        )
    if spans is None:
        starts = ends = np.empty(0, dtype=np.int64)
    else:
        starts, ends = spans
        for name, arr in (("starts", starts), ("ends", ends)):
            _check(name, arr, np.int64, 1, writable=True)
            if arr.shape[0] < out.shape[0]:
                raise ValueError(f"{name} is shorter than out")
    ntok, invalid = kernels.tokenize_words(
        data, offsets, classes, np.uint64(token_base), out, doc, starts, ends
    )
    return int(ntok), int(invalid)


#: The empty value of a biased MinHash signature slot, as the signature kernels keep it
#: (unbiased: :data:`seqcount.sketches.EMPTY_HASHVALUE`).
MINHASH_EMPTY = kernels.MINHASH_EMPTY


def prefix_into(tokens: np.ndarray, base: int, out: np.ndarray) -> np.ndarray:
    """The prefix values ``H[0] = 0, H[i+1] = H[i]*base + tokens[i] (mod 2**61-1)`` of uint64
    ``tokens`` written into ``out[:len(tokens) + 1]`` (uint64, reused by the caller), returned.
    """
    _check("tokens", tokens, np.uint64, 1)
    _check("out", out, np.uint64, 1, writable=True)
    if out.shape[0] <= tokens.shape[0]:
        raise ValueError(f"out: needs room for {tokens.shape[0] + 1} values, has {out.shape[0]}")
    if np.may_share_memory(tokens, out[: tokens.shape[0] + 1]):
        # the kernel writes values of later runs before it reads the tokens there
        raise ValueError("out: overlaps tokens; the prefix values need memory of their own")
    return kernels.prefix_into(tokens, np.uint64(base), out)


def hip_state(regs: np.ndarray, precision: int) -> np.ndarray:
    """The HIP summary (uint64 ``(k, 2)``) of int8 registers ``(k, 2**precision)``."""
    _check("regs", regs, np.int8, 2)
    _check_shape("regs", regs, (regs.shape[0], 1 << precision))
    return kernels.hip_state(regs, np.int64(precision))


def hip_replay(
    regs: np.ndarray,
    precision: int,
    hipst: np.ndarray,
    hip: np.ndarray,
    log_reg: np.ndarray,
    log_rank: np.ndarray,
    start: int,
    stop: int,
) -> None:
    """Apply entries ``start .. stop-1`` of a register-growth log (int32 flat register index,
    int8 rank; see :func:`hll_log_windows`) to int8 registers ``(k, 2**precision)``, carrying
    the HIP summary ``hipst`` and estimates ``hip`` (float64 ``(k,)``) along, in place."""
    _check("regs", regs, np.int8, 2, writable=True)
    _check("hipst", hipst, np.uint64, 2, writable=True)
    _check("hip", hip, np.float64, 1, writable=True)
    if not (0 <= start <= stop <= log_reg.shape[0] == log_rank.shape[0]):
        raise ValueError(f"log: entries {start}..{stop} out of range ({log_reg.shape[0]})")
    m = np.int64(regs.shape[1])
    kernels.hip_replay(regs.reshape(-1), m, np.int64(precision), hipst, hip, log_reg, log_rank,
                       start, stop)  # fmt: skip


def minhash_cache(parts: int, rows: int) -> np.ndarray:
    """An empty window-hash cache for :func:`minhash_update_windows` (``parts`` runs of
    documents, ``rows`` window sizes)."""
    return kernels.minhash_cache(parts, rows)


def kernels_compiled() -> bool:
    """Whether the kernels of a count pass are compiled in numba's on-disk cache; ``False``
    on a first run, which then spends 10-15 s compiling them."""
    return cache_is_warm(
        (kernels.hll_update_windows, kernels.prefix_into, kernels.tokenize_words,
         kernels.theta_compact, kernels.reg_histograms)
    )  # fmt: skip
