"""HyperLogLog++ sketches (datasketch-compatible state), exact hash sets, and the sketch file.

:class:`HLL` keeps datasketch's ``HyperLogLogPlusPlus`` layout: ``2**p`` int8 registers, register
index from the low ``p`` bits of a 64-bit hash, rank from the leading zeros of the rest. Its
registers can be handed to ``datasketch.HyperLogLogPlusPlus(reg=...)`` and its :meth:`HLL.count`
is datasketch's estimator (linear counting below the HLL++ thresholds, then the bias-corrected
raw estimate), computed with datasketch's own empirical tables.
"""

from __future__ import annotations

import io
import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .. import _kernels as kernels
from ..config import MAX_PRECISION, MIN_PRECISION, MINHASH_SCHEME
from ..errors import FormatError, SketchMismatchError


def _alpha(m: int) -> float:
    if m == 16:
        return 0.673
    if m == 32:
        return 0.697
    if m == 64:
        return 0.709
    return 0.7213 / (1.0 + 1.079 / m)


class _Mergeable:
    """``union`` for sketches that have ``copy`` and ``merge``."""

    __slots__ = ()

    @classmethod
    def union(cls, *sketches):
        """A new sketch of the union of ``sketches`` (datasketch's ``union``)."""
        if not sketches:
            raise ValueError("union needs at least one sketch")
        out = sketches[0].copy()
        for s in sketches[1:]:
            out.merge(s)
        return out


class HLL(_Mergeable):
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

    def to_datasketch(self):
        """A ``datasketch.HyperLogLogPlusPlus`` with these registers (hash values pass through)."""
        from datasketch import HyperLogLogPlusPlus

        return HyperLogLogPlusPlus(reg=self.reg.copy(), hashfunc=lambda x: int(x))

    @classmethod
    def from_datasketch(cls, h) -> HLL:
        """Adopt the registers of a ``datasketch.HyperLogLogPlusPlus``."""
        return cls(reg=np.asarray(h.reg, dtype=np.int8).copy())


_SIGN = np.uint64(1 << 63)
#: The value of an empty MinHash slot (no hash seen), as datasketch writes it.
EMPTY_HASHVALUE = np.uint64((1 << 64) - 1)


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


class MinHash(_Mergeable):
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
            np.full(num_perm, EMPTY_HASHVALUE, dtype=np.uint64) if hashvalues is None else hashvalues
        )

    @property
    def num_perm(self) -> int:
        return int(self.hashvalues.shape[0])

    @property
    def permutations(self) -> np.ndarray:
        return minhash_permutations(self.num_perm, self.seed)

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


class ExactSet:
    """An exact set of 64-bit hashes (open addressing, linear probing, load at most 1/2).

    Memory: 8 bytes a slot, 2 to 4 slots per distinct hash, so 16-32 bytes per distinct hash,
    and up to 1.5x that for a moment while the table doubles.
    """

    def __init__(self, capacity: int = 1 << 12):
        size = 1 << max(4, math.ceil(math.log2(max(capacity, 1) * 2)))
        self.table = np.zeros(size, dtype=np.uint64)
        self._keys = 0  # non-zero keys in the table
        self._zero = False

    def __len__(self) -> int:
        return self._keys + int(self._zero)

    def update_batch(self, hashes: np.ndarray) -> None:
        """Add uint64 hashes."""
        hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
        if not self._zero and hashes.shape[0] and not hashes.all():
            self._zero = True
        start = 0
        while start < hashes.shape[0]:
            limit = self.table.shape[0] // 2
            if self._keys >= limit:
                new = np.zeros(self.table.shape[0] * 2, dtype=np.uint64)
                kernels.set_rehash(self.table, new)
                self.table = new
                limit = new.shape[0] // 2
            self._keys, start = kernels.set_insert(self.table, hashes, start, self._keys, limit)

    @property
    def nbytes(self) -> int:
        return self.table.nbytes


# --------------------------------------------------------------------------- sketch file

SKETCH_FORMAT = "seqcount-sketches"
SKETCH_VERSION = 1


@dataclass
class SketchSet:
    """The final HyperLogLog of every window size, with what is needed to combine them.

    Attributes:
        ns: window sizes.
        hll: one :class:`HLL` per window size, in the order of ``ns``.
        options: the result-changing options (hash, seed, tokenizer, column, precision, ns).
        meta: anything else worth keeping (totals, seqcount version).
    """

    ns: tuple[int, ...]
    hll: list[HLL]
    options: dict
    meta: dict = field(default_factory=dict)
    minhash: list[MinHash] | None = None
    shard_minhash: np.ndarray | None = None
    shard_paths: list[str] = field(default_factory=list)

    def __getitem__(self, n: int) -> HLL:
        return self.hll[self.ns.index(n)]

    def minhash_of(self, n: int) -> MinHash | None:
        """The whole input's MinHash of window size ``n``, or ``None`` without MinHash."""
        return None if self.minhash is None else self.minhash[self.ns.index(n)]

    def save(self, path: str | os.PathLike) -> None:
        """Write the sketches (see :func:`load_sketches` for the format), atomically."""
        regs = np.stack([h.reg for h in self.hll]) if self.hll else np.zeros((0, 16), np.int8)
        header = {
            "format": SKETCH_FORMAT,
            "version": SKETCH_VERSION,
            "options": self.options,
            "meta": self.meta,
            "shard_paths": list(self.shard_paths),
        }
        arrays = {
            "header": np.array(json.dumps(header, sort_keys=True)),
            "ns": np.asarray(self.ns, dtype=np.int64),
            "hll": regs,
        }
        if self.minhash is not None:
            header["minhash"] = {
                "scheme": MINHASH_SCHEME,
                "seed": self.minhash[0].seed if self.minhash else None,
                "num_perm": self.minhash[0].num_perm if self.minhash else None,
            }
            arrays["header"] = np.array(json.dumps(header, sort_keys=True))
            arrays["minhash"] = np.stack([m.hashvalues for m in self.minhash])
            if self.minhash:
                arrays["minhash_permutations"] = self.minhash[0].permutations
        if self.shard_minhash is not None:
            arrays["shard_minhash"] = np.asarray(self.shard_minhash, dtype=np.uint64)
        atomic_write(path, lambda f: write_npz(f, arrays))


def write_npz(f, arrays: dict, compress: bool = True) -> None:
    """``np.savez_compressed`` (or ``np.savez``) with fixed zip timestamps, so equal sketches
    give equal bytes."""
    kind = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(f, "w", compression=kind) as z:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = kind
            z.writestr(info, buf.getvalue())


def load_sketches(path: str | os.PathLike) -> SketchSet:
    """Read a ``sketches.npz`` written by :meth:`SketchSet.save`.

    The file is a NumPy ``.npz`` archive (no pickles) holding ``header`` (a JSON string with
    ``format`` = ``"seqcount-sketches"``, ``version``, ``options``, ``meta``, ``shard_paths`` and,
    with MinHash, ``minhash`` = ``{scheme, seed, num_perm}``), ``ns`` (int64 window sizes),
    ``hll`` (int8 registers, one row of ``2**p`` per window size, datasketch layout) and, with
    MinHash, ``minhash`` (uint64 ``(len(ns), num_perm)``: datasketch ``MinHash.hashvalues`` of
    the whole input), ``minhash_permutations`` (uint64 ``(2, num_perm)``: ``a`` and ``b``) and
    ``shard_minhash`` (uint64 ``(shards, len(ns), num_perm)``, in ``shard_paths`` order).

    Raises:
        FormatError: not such a file, or a version this release does not read.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            ns = tuple(int(n) for n in z["ns"])
            regs = z["hll"]
            mh = z["minhash"] if "minhash" in z.files else None
            shard_mh = z["shard_minhash"] if "shard_minhash" in z.files else None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        raise FormatError(f"{path}: not a seqcount sketch file ({e})") from None
    if header.get("format") != SKETCH_FORMAT:
        raise FormatError(f"{path}: not a seqcount sketch file (format {header.get('format')!r})")
    if header.get("version") != SKETCH_VERSION:
        raise FormatError(
            f"{path}: sketch file version {header.get('version')} is not supported "
            f"(this release reads version {SKETCH_VERSION})"
        )
    minhash = None
    if mh is not None:
        info = header.get("minhash") or {}
        if info.get("scheme") != MINHASH_SCHEME or mh.dtype != np.uint64 or mh.shape[0] != len(ns):
            raise FormatError(f"{path}: unreadable MinHash signatures ({info})")
        minhash = [MinHash(seed=int(info["seed"]), hashvalues=v.copy()) for v in mh]
    return SketchSet(
        ns,
        [HLL(reg=r.copy()) for r in regs],
        header["options"],
        header["meta"],
        minhash=minhash,
        shard_minhash=shard_mh,
        shard_paths=list(header.get("shard_paths", [])),
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write) -> None:
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it into place."""
    path = os.fspath(path)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
