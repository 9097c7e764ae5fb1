"""HyperLogLog++ sketches (datasketch-compatible state) and datasketch's HLL++ estimator.

:class:`HLL` keeps datasketch's ``HyperLogLogPlusPlus`` layout: ``2**p`` int8 registers, register
index from the low ``p`` bits of a 64-bit hash, rank from the leading zeros of the rest. Its
registers can be handed to ``datasketch.HyperLogLogPlusPlus(reg=...)`` and its :meth:`HLL.count`
is datasketch's estimator (linear counting below the HLL++ thresholds, then the bias-corrected
raw estimate), computed with datasketch's own empirical tables.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from .. import _kernels as kernels
from ..config import MAX_PRECISION, MIN_PRECISION
from ..errors import FormatError, SketchMismatchError
from .base import Mergeable, pack, unpack

_MAGIC = b"SQHL"
_VERSION = 1


def _alpha(m: int) -> float:
    if m == 16:
        return 0.673
    if m == 32:
        return 0.697
    if m == 64:
        return 0.709
    return 0.7213 / (1.0 + 1.079 / m)


class HLL(Mergeable):
    """A HyperLogLog++ sketch over 64-bit hashes.

    Args:
        p: precision in [4, 16]; ``2**p`` one-byte registers, standard error ``1.04/sqrt(2**p)``.
        reg: existing int8 registers (their length sets ``p``).
    """

    __slots__ = ("p", "reg")

    def __init__(self, p: int = 16, reg: np.ndarray | None = None):
        if reg is not None:
            reg = np.asarray(reg)
            m = reg.shape[0]
            p = m.bit_length() - 1
            if reg.ndim != 1 or (1 << p) != m:
                raise ValueError(f"registers must be a 1-d array of length 2**p, got {reg.shape}")
            reg = reg.astype(np.int8, copy=False)
        if not (MIN_PRECISION <= p <= MAX_PRECISION):
            raise ValueError(f"p={p} should be in range [{MIN_PRECISION}, {MAX_PRECISION}]")
        self.p = int(p)
        self.reg = np.zeros(1 << p, dtype=np.int8) if reg is None else reg

    @property
    def m(self) -> int:
        return 1 << self.p

    def update(self, h: int) -> None:
        """Add one 64-bit hash value (an int in ``[0, 2**64)``)."""
        self.update_batch(np.array([h], dtype=np.uint64))

    def update_batch(self, hashes: np.ndarray) -> None:
        """Add 64-bit hash values (any integer array, taken as uint64)."""
        h = np.ascontiguousarray(hashes).astype(np.uint64, copy=False)
        kernels.hll_update_hashes(self.reg, h, np.int64(self.p))

    def count(self) -> float:
        """Estimated number of distinct hashes added (datasketch's HLL++ estimator)."""
        return hll_estimate(self.reg)

    def merge(self, other: HLL) -> None:
        """Make this sketch the union of itself and ``other``."""
        if other.p != self.p:
            raise SketchMismatchError(f"cannot merge HLL with p={other.p} into p={self.p}")
        np.maximum(self.reg, other.reg, out=self.reg)

    def copy(self) -> HLL:
        return HLL(reg=self.reg.copy())

    def is_empty(self) -> bool:
        return not self.reg.any()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HLL) and self.p == other.p and np.array_equal(self.reg, other.reg)

    def __repr__(self) -> str:
        return f"HLL(p={self.p}, count~{self.count():.0f})"

    def to_bytes(self) -> bytes:
        """The byte form: magic ``SQHL``, uint16 version, uint8 ``p``, then the ``2**p`` int8
        registers (read back by :meth:`from_bytes`)."""
        return pack(_MAGIC, _VERSION, "B", (self.p,), self.reg.tobytes())

    @classmethod
    def from_bytes(cls, buf: bytes) -> HLL:
        """The sketch of :meth:`to_bytes`.

        Raises:
            FormatError: a short, corrupted or other-version buffer, or a bad precision.
        """
        (p,), payload = unpack(buf, _MAGIC, _VERSION, "B", "HLL")
        if not (MIN_PRECISION <= p <= MAX_PRECISION):
            raise FormatError(f"serialized HLL has precision {p}, outside [4, 16]")
        if len(payload) != 1 << p:
            raise FormatError(f"serialized HLL has {len(payload)} registers, expected {1 << p}")
        reg = np.frombuffer(payload, dtype=np.int8).copy()
        if reg.min() < 0 or reg.max() > 65 - p:
            raise FormatError(f"serialized HLL has a register outside [0, {65 - p}]")
        return cls(reg=reg)

    def to_datasketch(self):
        """A ``datasketch.HyperLogLogPlusPlus`` with these registers (hash values pass through)."""
        from datasketch import HyperLogLogPlusPlus

        return HyperLogLogPlusPlus(reg=self.reg.copy(), hashfunc=lambda x: int(x))

    @classmethod
    def from_datasketch(cls, h) -> HLL:
        """Adopt the registers of a ``datasketch.HyperLogLogPlusPlus``."""
        return cls(reg=np.asarray(h.reg, dtype=np.int8).copy())


def hll_estimate(reg: np.ndarray) -> float:
    """datasketch's ``HyperLogLogPlusPlus.count()`` on int8 registers, without building one."""
    reg = np.ascontiguousarray(reg, dtype=np.int8)
    return float(hll_estimates(reg.reshape(1, -1))[0])


_POW2 = 2.0 ** -np.arange(65, dtype=np.float64)


@lru_cache(maxsize=1)
def _hll_tables():
    """datasketch's HLL++ tables (``datasketch.hyperloglog_const``: bias, raw estimates,
    thresholds), read without importing the datasketch package, whose ``__init__`` pulls in
    scipy and costs about half a second in every process, workers included."""
    import importlib.util
    import sys

    mod = sys.modules.get("datasketch.hyperloglog_const")
    if mod is None:
        spec = importlib.util.find_spec("datasketch")  # finds it without importing it
        path = os.path.join(spec.submodule_search_locations[0], "hyperloglog_const.py")
        spec = importlib.util.spec_from_file_location("_seqcount_hll_const", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    return mod._bias, mod._raw_estimate, mod._thresholds


def hll_estimates(regs: np.ndarray) -> np.ndarray:
    """:func:`hll_estimate` of each row of a ``(k, 2**p)`` register array.

    Works from a histogram of register values, so the cost is one pass over the registers.
    """
    _bias, _raw_estimate, _thresholds = _hll_tables()
    regs = np.ascontiguousarray(regs, dtype=np.int8)
    k, m = regs.shape
    p = m.bit_length() - 1
    hist = kernels.reg_histograms(regs)
    out = np.empty(k, dtype=np.float64)
    for j in range(k):
        num_zero = int(hist[j, 0])
        if num_zero > 0:
            lc = m * np.log(m / float(num_zero))
            if lc <= _thresholds[p - 4]:
                out[j] = lc
                continue
        e = _alpha(m) * float(m**2) / float(np.dot(hist[j], _POW2))
        if e <= 5 * m:
            nearest = np.argsort((e - _raw_estimate[p - 4]) ** 2)[:6]
            e = e - np.mean(_bias[p - 4][nearest])
        out[j] = e
    return out


def prefix_union_estimates(blocks: np.ndarray, orders: np.ndarray) -> np.ndarray:
    """The growth curve of blocks read in other orders: for each order (a row of ``orders``),
    :func:`hll_estimate` of the union of its first ``k + 1`` blocks, for every ``k``.

    Args:
        blocks: int8 ``(nb, 2**p)`` registers, one HyperLogLog per block (datasketch's layout).
        orders: int ``(P, nb)``, each row a permutation of ``range(nb)``.

    Returns:
        float64 ``(P, nb)``, the same for any number of threads.

    Raises:
        ValueError: shapes that do not fit, or a row of ``orders`` that is not a permutation.
    """
    blocks = np.ascontiguousarray(blocks, dtype=np.int8)
    orders = np.ascontiguousarray(orders, dtype=np.int64)
    if blocks.ndim != 2 or orders.ndim != 2 or orders.shape[1] != blocks.shape[0]:
        raise ValueError(
            f"blocks (nb, m) and orders (P, nb) do not fit: {blocks.shape}, {orders.shape}"
        )
    m = blocks.shape[1]
    p = m.bit_length() - 1
    if (1 << p) != m or not (MIN_PRECISION <= p <= MAX_PRECISION):
        raise ValueError(f"blocks must have 2**p registers, p in [4, 16]; got {m}")
    want = np.arange(blocks.shape[0])
    if orders.shape[0] and not (np.sort(orders, axis=1) == want).all():
        raise ValueError("every row of orders must be a permutation of the blocks")
    _bias, _raw_estimate, _thresholds = _hll_tables()
    return kernels.prefix_union_estimates(
        blocks,
        orders,
        _alpha(m),
        np.asarray(_raw_estimate[p - 4], dtype=np.float64),
        np.asarray(_bias[p - 4], dtype=np.float64),
        float(_thresholds[p - 4]),
    )
