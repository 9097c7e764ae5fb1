"""The sketch file: a :class:`SketchSet` of every window size's sketches, versioned."""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field

import numpy as np

from ..config import MINHASH_SCHEME
from ..errors import FormatError
from .blocks import BLOCK_ARRAYS, RAW_ARRAY, BlockSketches
from .files import atomic_write, write_npz
from .hll import HLL
from .minhash import MinHash
from .theta import ThetaSketch, pack_thetas, unpack_thetas

SKETCH_FORMAT = "seqcount-sketches"
#: Version 2 adds theta sketches; a file without them is still written (and read) as version 1,
#: byte for byte as before.
SKETCH_VERSION = 2
_READABLE = (1, 2)


@dataclass
class SketchSet:
    """The final HyperLogLog of every window size, with what is needed to combine them.

    Attributes:
        ns: window sizes.
        hll: one :class:`HLL` per window size, in the order of ``ns``.
        options: the result-changing options (hash, seed, tokenizer, column, precision, ns).
        meta: anything else worth keeping (totals, seqcount version).
        blocks: the block sketches (:class:`~seqcount.sketches.blocks.BlockSketches`), or
            ``None`` (``blocks=False``, or a file written before them).
    """

    ns: tuple[int, ...]
    hll: list[HLL]
    options: dict
    meta: dict = field(default_factory=dict)
    minhash: list[MinHash] | None = None
    shard_minhash: np.ndarray | None = None
    shard_paths: list[str] = field(default_factory=list)
    theta: list[ThetaSketch] | None = None
    shard_theta: list[list[ThetaSketch]] | None = None
    blocks: BlockSketches | None = None

    def __getitem__(self, n: int) -> HLL:
        return self.hll[self.ns.index(n)]

    def minhash_of(self, n: int) -> MinHash | None:
        """The whole input's MinHash of window size ``n``, or ``None`` without MinHash."""
        return None if self.minhash is None else self.minhash[self.ns.index(n)]

    def theta_of(self, n: int) -> ThetaSketch | None:
        """The whole input's theta sketch of window size ``n``, or ``None`` without theta."""
        return None if self.theta is None else self.theta[self.ns.index(n)]

    def _theta_arrays(self, header: dict, arrays: dict) -> None:
        """Add the theta sketches to ``header`` and ``arrays`` (see :func:`load_sketches`)."""
        first = self.theta[0] if self.theta else None
        k = first.k if first else int(self.options.get("theta_k", 0)) or None
        seed = first.seed if first else int(self.options.get("seed", 0))
        header["version"] = 2
        header["theta"] = {"k": k, "seed": seed, "hash": self.options.get("hash")}
        shards = [t for shard in self.shard_theta or () for t in shard]
        if shards and shards[0].k != k:  # without shard_k (older files), each shard's are of k
            header["theta"]["shard_k"] = shards[0].k
        for prefix, sketches in (("theta", self.theta), ("shard_theta", self.shard_theta)):
            if sketches is None:
                continue
            if prefix == "shard_theta":
                sketches = [t for shard in sketches for t in shard]
            entries, offsets, theta64 = pack_thetas(sketches)
            arrays[prefix + "_entries"] = entries
            arrays[prefix + "_offsets"] = offsets
            arrays[prefix + "_theta64"] = theta64

    def save(self, path: str | os.PathLike) -> None:
        """Write the sketches (see :func:`load_sketches` for the format), atomically."""
        regs = np.stack([h.reg for h in self.hll]) if self.hll else np.zeros((0, 16), np.int8)
        header = {
            "format": SKETCH_FORMAT,
            "version": 1,
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
        if self.theta is not None:
            self._theta_arrays(header, arrays)
            arrays["header"] = np.array(json.dumps(header, sort_keys=True))
        if self.blocks is not None:
            header["blocks"] = {"precision": self.blocks.precision}
            arrays["header"] = np.array(json.dumps(header, sort_keys=True))
            arrays.update(self.blocks.arrays())
        atomic_write(path, lambda f: write_npz(f, arrays))


def load_sketches(path: str | os.PathLike) -> SketchSet:
    """Read a ``sketches.npz`` written by :meth:`SketchSet.save`.

    The file is a NumPy ``.npz`` archive (no pickles) holding ``header`` (a JSON string with
    ``format`` = ``"seqcount-sketches"``, ``version``, ``options``, ``meta``, ``shard_paths`` and,
    with MinHash, ``minhash`` = ``{scheme, seed, num_perm}``), ``ns`` (int64 window sizes),
    ``hll`` (int8 registers, one row of ``2**p`` per window size, datasketch layout) and, with
    MinHash, ``minhash`` (uint64 ``(len(ns), num_perm)``: datasketch ``MinHash.hashvalues`` of
    the whole input), ``minhash_permutations`` (uint64 ``(2, num_perm)``: ``a`` and ``b``) and
    ``shard_minhash`` (uint64 ``(shards, len(ns), num_perm)``, in ``shard_paths`` order).
    Version 2 adds, with theta sketches, ``theta`` = ``{k, seed, hash}`` to the header and
    ``theta_entries``, ``theta_offsets``, ``theta_theta64`` (the whole input's sketch per window
    size, packed by :func:`~seqcount.sketches.theta.pack_thetas`) and the same three with
    ``shard_theta_`` for every shard's sketches, shard by shard, each in ``ns`` order; the
    header's ``theta.shard_k`` is the shards' sketches' nominal size where it is not ``k``.
    Files without theta sketches are version 1.

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
            packed = {k: z[k] for k in z.files if "theta_" in k}
            block_arrays = {k: z[k] for k in (*BLOCK_ARRAYS, RAW_ARRAY) if k in z.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as e:
        raise FormatError(f"{path}: not a seqcount sketch file ({e})") from None
    if header.get("format") != SKETCH_FORMAT:
        raise FormatError(f"{path}: not a seqcount sketch file (format {header.get('format')!r})")
    if header.get("version") not in _READABLE:
        raise FormatError(
            f"{path}: sketch file version {header.get('version')} is not supported "
            f"(this release reads versions {', '.join(map(str, _READABLE))})"
        )
    minhash = None
    if mh is not None:
        info = header.get("minhash") or {}
        if info.get("scheme") != MINHASH_SCHEME or mh.dtype != np.uint64 or mh.shape[0] != len(ns):
            raise FormatError(f"{path}: unreadable MinHash signatures ({info})")
        minhash = [MinHash(seed=int(info["seed"]), hashvalues=v.copy()) for v in mh]
    theta, shard_theta = _load_theta(path, header, packed, ns)
    blocks = None
    if "blocks" in header:
        try:
            precision = int(header["blocks"]["precision"])
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(f"{path}: unreadable block sketches ({e})") from None
        blocks = BlockSketches.from_arrays(block_arrays, ns, precision, os.fspath(path))
    return SketchSet(
        ns,
        [HLL(reg=r.copy()) for r in regs],
        header["options"],
        header["meta"],
        minhash=minhash,
        shard_minhash=shard_mh,
        shard_paths=list(header.get("shard_paths", [])),
        theta=theta,
        shard_theta=shard_theta,
        blocks=blocks,
    )


def _load_theta(path, header: dict, packed: dict, ns: tuple) -> tuple:
    """The whole and per-shard theta sketches of a sketch file (``None`` without them)."""
    info = header.get("theta")
    if info is None:
        return None, None
    try:
        k, seed = int(info["k"]), int(info["seed"])
        sizes = {"theta": k, "shard_theta": int(info.get("shard_k", k))}
        parts = {}
        for prefix in ("theta", "shard_theta"):
            if prefix + "_entries" in packed:
                parts[prefix] = unpack_thetas(
                    packed[prefix + "_entries"], packed[prefix + "_offsets"],
                    packed[prefix + "_theta64"], sizes[prefix], seed,
                )  # fmt: skip
    except (KeyError, TypeError, ValueError, FormatError) as e:
        raise FormatError(f"{path}: unreadable theta sketches ({e})") from None
    theta = parts.get("theta")
    if theta is None or len(theta) != len(ns):
        raise FormatError(f"{path}: unreadable theta sketches (not one per n)")
    flat = parts.get("shard_theta")
    shard_theta = None
    if flat is not None:
        if len(flat) % len(ns):
            raise FormatError(f"{path}: unreadable theta sketches (shards)")
        shard_theta = [flat[i : i + len(ns)] for i in range(0, len(flat), len(ns))]
    return theta, shard_theta
