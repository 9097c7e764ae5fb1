"""MinHash signatures over 64-bit hashes in datasketch's ``affine64`` scheme."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .. import _kernels as kernels
from .._kernels import EMPTY_HASHVALUE
from ..config import MINHASH_SCHEME
from ..errors import FormatError, SketchMismatchError
from .base import Mergeable, pack, unpack

_SIGN = np.uint64(1 << 63)
_MAGIC = b"SQMH"
_VERSION = 1


@lru_cache(maxsize=32)
def _permutations(num_perm: int, seed: int) -> np.ndarray:
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 63, num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = gen.randint(0, 1 << 64, num_perm, dtype=np.uint64)
    perm = np.array([a, b])
    perm.setflags(write=False)
    return perm


def minhash_permutations(num_perm: int, seed: int) -> np.ndarray:
    """The ``(2, num_perm)`` uint64 parameters ``a`` (odd) and ``b`` of datasketch's ``affine64``
    scheme for ``seed``: ``datasketch.MinHash(num_perm, seed, scheme="affine64").permutations``.

    Raises:
        ValueError: ``num_perm`` below 1 or ``seed`` outside ``[0, 2**32)`` (numpy's
            ``RandomState`` range, which datasketch uses).
    """
    if num_perm < 1:
        raise ValueError(f"num_perm must be at least 1, got {num_perm}")
    if not (0 <= seed < 2**32):
        raise ValueError(f"MinHash seed must be in [0, 2**32), got {seed}")
    return _permutations(int(num_perm), int(seed))


def bias(values: np.ndarray) -> np.ndarray:
    """uint64 MinHash values → the biased int64 form the kernels keep (see :mod:`kernels`)."""
    return (np.asarray(values, dtype=np.uint64) ^ _SIGN).view(np.int64)


def unbias(sig: np.ndarray) -> np.ndarray:
    """The biased int64 form → uint64 MinHash values (a new array)."""
    return np.asarray(sig, dtype=np.int64).view(np.uint64) ^ _SIGN


class MinHash(Mergeable):
    """A MinHash signature over 64-bit hashes in datasketch's ``affine64`` scheme.

    Its :attr:`hashvalues` equal those of ``datasketch.MinHash(num_perm, seed,
    scheme="affine64", hashfunc=lambda x: x)`` fed the same hashes, bit for bit, so signatures
    can go straight into ``datasketch.MinHashLSH`` (see :meth:`to_datasketch`).

    Args:
        num_perm: number of permutations ``K``; the standard error of a Jaccard estimate ``J``
            is ``sqrt(J * (1 - J) / K)``.
        seed: permutation seed in ``[0, 2**32)``.
        hashvalues: existing uint64 values (their length sets ``num_perm``).
    """

    __slots__ = ("seed", "hashvalues")
    scheme = MINHASH_SCHEME

    def __init__(self, num_perm: int = 128, seed: int = 1, hashvalues: np.ndarray | None = None):
        if hashvalues is not None:
            hashvalues = np.asarray(hashvalues)
            if hashvalues.ndim != 1 or hashvalues.shape[0] < 1:
                raise ValueError(f"hashvalues must be a non-empty 1-d array: {hashvalues.shape}")
            if hashvalues.dtype != np.uint64:
                hashvalues = np.array(hashvalues, dtype=np.uint64)
            num_perm = hashvalues.shape[0]
        minhash_permutations(num_perm, seed)  # validates
        self.seed = int(seed)
        self.hashvalues = (
            np.full(num_perm, EMPTY_HASHVALUE, dtype=np.uint64)
            if hashvalues is None
            else hashvalues
        )

    @property
    def num_perm(self) -> int:
        return int(self.hashvalues.shape[0])

    @property
    def permutations(self) -> np.ndarray:
        return minhash_permutations(self.num_perm, self.seed)

    def update(self, h: int) -> None:
        """Add one 64-bit hash value (an int in ``[0, 2**64)``)."""
        self.update_batch(np.array([h], dtype=np.uint64))

    def update_batch(self, hashes: np.ndarray) -> None:
        """Add 64-bit hash values (any integer array, taken as uint64)."""
        h = np.ascontiguousarray(hashes).astype(np.uint64, copy=False)
        a, b = self.permutations
        sig = bias(self.hashvalues)
        kernels.minhash_update_hashes(sig, a, b, h)
        self.hashvalues = unbias(sig)

    def _check(self, other: MinHash) -> None:
        if not isinstance(other, MinHash):
            raise TypeError(f"expected a MinHash, got {type(other).__name__}")
        if other.seed != self.seed or other.num_perm != self.num_perm:
            raise SketchMismatchError(
                f"MinHash (num_perm={other.num_perm}, seed={other.seed}) does not match "
                f"(num_perm={self.num_perm}, seed={self.seed})"
            )

    def jaccard(self, other: MinHash) -> float:
        """Estimated Jaccard similarity of the two sets: the share of equal values."""
        self._check(other)
        return float(np.count_nonzero(self.hashvalues == other.hashvalues)) / self.num_perm

    def jaccard_error(self, jaccard: float) -> float:
        """Standard error ``sqrt(J (1 - J) / K)`` of a Jaccard estimate ``J``."""
        return math.sqrt(max(jaccard * (1.0 - jaccard), 0.0) / self.num_perm)

    def count(self) -> float:
        """Rough distinct count ``K / sum(v / 2**64) - 1`` (use the HLL for counting)."""
        return self.num_perm / float(np.sum(self.hashvalues / float(2**64))) - 1.0

    def merge(self, other: MinHash) -> None:
        """Make this signature that of the union of both sets."""
        self._check(other)
        np.minimum(self.hashvalues, other.hashvalues, out=self.hashvalues)

    def copy(self) -> MinHash:
        return MinHash(seed=self.seed, hashvalues=self.hashvalues.copy())

    def is_empty(self) -> bool:
        return bool(np.all(self.hashvalues == EMPTY_HASHVALUE))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MinHash)
            and self.seed == other.seed
            and np.array_equal(self.hashvalues, other.hashvalues)
        )

    def __repr__(self) -> str:
        return f"MinHash(num_perm={self.num_perm}, seed={self.seed}, scheme={self.scheme!r})"

    def to_bytes(self) -> bytes:
        """The byte form: magic ``SQMH``, uint16 version, uint32 seed, uint32 ``num_perm``, then
        the little-endian uint64 hash values (read back by :meth:`from_bytes`)."""
        values = self.hashvalues.astype("<u8", copy=False).tobytes()
        return pack(_MAGIC, _VERSION, "II", (self.seed, self.num_perm), values)

    @classmethod
    def from_bytes(cls, buf: bytes) -> MinHash:
        """The signature of :meth:`to_bytes`.

        Raises:
            FormatError: a short, corrupted or other-version buffer.
        """
        (seed, num_perm), payload = unpack(buf, _MAGIC, _VERSION, "II", "MinHash")
        if num_perm < 1 or len(payload) != 8 * num_perm:
            raise FormatError(
                f"serialized MinHash has {len(payload)} bytes of values, expected 8 * {num_perm}"
            )
        values = np.frombuffer(payload, dtype="<u8").astype(np.uint64)
        return cls(seed=seed, hashvalues=values)

    def to_datasketch(self):
        """A ``datasketch.MinHash`` with these values (identity ``hashfunc``, same scheme)."""
        from datasketch import MinHash as DMinHash

        return DMinHash(
            num_perm=self.num_perm,
            seed=self.seed,
            hashfunc=_identity,
            hashvalues=self.hashvalues.copy(),
            permutations=self.permutations.copy(),
            scheme=MINHASH_SCHEME,
        )

    @classmethod
    def from_datasketch(cls, m) -> MinHash:
        """Adopt the values of a ``datasketch.MinHash`` of the ``affine64`` scheme."""
        scheme = getattr(m, "scheme", None)
        if scheme != MINHASH_SCHEME:
            raise SketchMismatchError(
                f"only {MINHASH_SCHEME!r} MinHash signatures can be adopted, got {scheme!r}"
            )
        return cls(seed=m.seed, hashvalues=np.asarray(m.hashvalues, dtype=np.uint64).copy())


def _identity(x):
    return x
