"""Seeded parameters of the ``poly61-v1`` window hash (see :mod:`seqcount._kernels`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ._kernels import MERSENNE61
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
