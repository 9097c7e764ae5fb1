"""Numba kernels: token values, window hashes, HyperLogLog register updates, exact hash sets.

Kernels are private, typed and dumb: arrays and scalars in, arrays out, no configuration objects
and no globals but ``np.uint64`` constants (numba freezes globals at compile time). Callers go
through the checked wrappers of :mod:`seqcount.hashing`; the modules here are

* :mod:`.jit`: the compile options and numba's threading layer;
* :mod:`.mix`: ``fmix64`` and arithmetic modulo ``P = 2**61 - 1``;
* :mod:`.words`: the ``words`` tokenizer (token values of text);
* :mod:`.tokens`: token values of bytes and ids, and prefix values;
* :mod:`.windows`: window hashes;
* :mod:`.hll`, :mod:`.minhash`, :mod:`.exactset`, :mod:`.theta`: sketch updates;
* :mod:`.lookup`: a static hash table and window lookups in it (exact overlap);
* :mod:`.nibbles`: block registers two to a byte.

The window hash (``poly61-v1``)
-------------------------------
Every token first becomes a *token value* ``t`` in ``[0, P)`` with ``P = 2**61 - 1`` (a Mersenne
prime):

* ``words``: the token's UTF-8 bytes, cut into 7-byte little-endian chunks ``c_1..c_k``, hashed as
  the polynomial ``len*Bt**k + c_1*Bt**(k-1) + ... + c_k  (mod P)``;
* ``bytes``: the byte value plus one;
* ``ids``: ``fmix64(id XOR s_id) mod P``.

A window of ``n`` tokens ``t_0 .. t_{n-1}`` gets the polynomial value
``v = t_0*B**(n-1) + t_1*B**(n-2) + ... + t_{n-1}  (mod P)``, computed for every window at once
from prefix values ``H[i+1] = H[i]*B + t_i`` as ``v = H[i+n] - H[i]*B**n (mod P)``, and the
64-bit hash ``h = fmix64(v XOR salt_n)`` (the MurmurHash3 finaliser, a bijection of 64-bit words).
``B``, ``Bt``, ``s_id`` and ``salt_n`` are drawn from the seed with SplitMix64.

Collision bound: for two different windows of ``n`` tokens (whose tokens have different
values), ``v`` is equal only if ``B`` is a root of a non-zero polynomial of degree below ``n``:
probability at most ``(n-1)/P`` over the seeded choice of ``B``. Two different tokens get the
same value with probability at most ``k/P`` (``k`` chunks). Among ``U`` distinct windows the
expected number of colliding pairs is therefore below ``U**2 * n / 2**62``: under 0.3 pairs for
``U = 1e8, n = 64``; at ``U = 1e10`` a count is low by a relative 1e-9 or less, far below the
sketch error. ``fmix64`` is a bijection, so ``h`` adds no collisions of its own.
"""

from __future__ import annotations

from .exactset import set_insert, set_rehash
from .hll import (
    BATCH as HLL_BATCH,
)
from .hll import (
    hip_replay,
    hip_state,
    hll_log_windows,
    hll_rank,
    hll_update_hashes,
    hll_update_windows,
    reg_histograms,
    theta_room,
    theta_table_slots,
)
from .jit import JIT, JIT_PARALLEL
from .lookup import (
    filter_build,
    probe_windows,
    same_windows,
    table_build,
    table_lookup,
    verify_windows,
)
from .minhash import (
    EMPTY_HASHVALUE,
    MINHASH_CACHE,
    MINHASH_EMPTY,
    doc_minhash,
    minhash_cache,
    minhash_update_hashes,
    minhash_update_windows,
)
from .mix import MERSENNE61, fmix64, mulmod61
from .nibbles import nibble_exceptions, pack_nibbles, unpack_nibbles
from .theta import (
    THETA_MAX,
    theta_compact,
    theta_compact_set,
    theta_insert,
    theta_rebuild,
    theta_values,
)
from .tokens import (
    byte_values,
    byte_values_into,
    id_values,
    id_values_into,
    prefix_into,
    prefix_values,
)
from .unions import prefix_union_estimates
from .windows import split_documents, window_hashes
from .words import CLASS_OTHER, CLASS_SPACE, CLASS_WORD, tokenize_words, words_cut

#: The old name of :func:`hll_rank`, which benchmarks/accuracy.py imports.
_hll_rank = hll_rank

__all__ = [
    "prefix_union_estimates",
    "CLASS_OTHER", "CLASS_SPACE", "CLASS_WORD", "EMPTY_HASHVALUE", "JIT", "JIT_PARALLEL",
    "MERSENNE61", "MINHASH_CACHE", "MINHASH_EMPTY", "byte_values", "byte_values_into",
    "doc_minhash", "fmix64", "hip_replay", "hip_state", "hll_log_windows", "hll_rank",
    "hll_update_hashes", "hll_update_windows", "id_values", "id_values_into", "minhash_cache",
    "minhash_update_hashes", "minhash_update_windows", "mulmod61", "prefix_into",
    "prefix_values", "reg_histograms", "set_insert", "set_rehash", "split_documents",
    "THETA_MAX", "theta_compact", "theta_compact_set", "theta_insert", "theta_rebuild",
    "theta_values",
    "HLL_BATCH", "theta_room", "theta_table_slots", "tokenize_words",
    "window_hashes", "words_cut",
    "filter_build", "probe_windows", "table_build", "table_lookup", "verify_windows",
    "same_windows",
    "nibble_exceptions", "pack_nibbles", "unpack_nibbles",
]  # fmt: skip
