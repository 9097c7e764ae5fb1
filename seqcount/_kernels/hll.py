"""HyperLogLog++ register updates (datasketch's layout), the running HIP estimate, histograms."""

from __future__ import annotations

import numpy as np
from numba import njit

from .exactset import probe_insert
from .jit import JIT
from .mix import M32, U0, U1, U32, leading_zeros
from .theta import THETA_MAX, theta_compact, theta_compact_set
from .windows import first_window, window_hash, window_hash_parts


@njit(inline="always", **JIT)
def hll_rank(h, p):
    """HyperLogLog++ register index and rank of a 64-bit hash, as datasketch computes them.

    Index: the low ``p`` bits. Rank: one plus the leading zeros of the remaining ``64 - p`` bits.
    """
    pu = np.uint64(p)
    idx = h & ((U1 << pu) - U1)
    rank = np.int64(leading_zeros(h >> pu)) - np.int64(p) + 1
    return idx, rank


@njit(inline="always", **JIT)
def _hip_step(s0, s1, old, new, m, top):
    """The HIP (historic inverse probability) increment for a register growing from ``old``
    to ``new``, and the register summary ``(s0, s1)`` after it (see :func:`hip_state`):
    returns ``(increment, s0, s1)``. Scalars, not the summary's array: an array passed to an
    inlined function is two calls to count references, here per register growth.

    A new distinct item grows a register with probability ``q = sum_i 2**-reg_i / m`` (rank
    ``r`` has probability ``2**-r``; a register at the top rank ``top + 1`` cannot grow), so each
    growth adds ``1 / q`` to the running estimate. The summary is kept in exact integers, so
    ``q`` is a function of the registers alone: the same registers give the same bits however
    they were reached (in one pass, or shard by shard and replayed).
    """
    s = float(s0) + float(s1) * 2.0 ** (-top)  # m * q
    if old == 0:
        s0 -= U1
    else:
        s1 -= U1 << np.uint64(top - old)
    if new <= top:
        s1 += U1 << np.uint64(top - new)
    return m / s, s0, s1


@njit(**JIT)
def hip_state(regs, p):
    """The register summary the HIP estimate needs, per row of a ``(k, 2**p)`` int8 array:
    uint64 ``(k, 2)`` = (registers at 0, sum of ``2**(64 - p - r)`` over registers at
    ``1 <= r <= 64 - p``). The sum is below ``2**63 + 1``: at most ``2**p`` terms of at most
    ``2**(63 - p)``."""
    top = 64 - p
    out = np.zeros((regs.shape[0], 2), dtype=np.uint64)
    for j in range(regs.shape[0]):
        for i in range(regs.shape[1]):
            r = regs[j, i]
            if r == 0:
                out[j, 0] += U1
            elif r <= top:
                out[j, 1] += U1 << np.uint64(top - r)
    return out


#: Windows hashed at a time before their registers are updated (see :func:`_hash_batch`).
BATCH = 256


@njit(inline="always", **JIT)
def _hash_batch(prefix, lo, hi, step, n, base_n, salt, p, bidx, brank):
    """Register indices and ranks of the windows ``lo, lo + step, ... < hi`` into ``bidx``,
    ``brank``; returns how many.

    The hashes are computed in a loop that stores nothing else and the registers are updated
    in a second one: the first then runs without waiting on the registers' loads and stores
    (measured: the HyperLogLog update about 1.5x faster, and the block registers' growth,
    right or wrong guessed half the time in a fresh block, costs far less). Consecutive
    windows (``step`` 1, every window) are hashed in vector registers: the prefix values are
    read at unsigned indices (numba reads an index it cannot prove non-negative one lane at
    a time, wrapped around if negative; a slice costs two calls to count references) and
    ``B**n`` is multiplied in 32-bit halves
    (:func:`~seqcount._kernels.windows.window_hash_parts`).

    Inlined in numba's IR: as a call per batch it took 4.5% more time (7 n, one thread,
    in-process A/B of the kernel), and LLVM left it a call with 32 arguments."""
    if step == 1:
        b_hi = base_n >> U32
        b_lo = base_n & M32
        u_at = np.uint64(lo)
        u_after = np.uint64(lo + n)
        for c in range(hi - lo):
            uc = np.uint64(c)
            h = window_hash_parts(prefix[u_after + uc], prefix[u_at + uc], b_hi, b_lo, salt)
            idx, rank = hll_rank(h, p)
            bidx[c] = idx
            brank[c] = rank
        return hi - lo
    c = 0
    for i in range(lo, hi, step):
        idx, rank = hll_rank(window_hash(prefix, i, n, base_n, salt), p)
        bidx[c] = idx
        brank[c] = rank
        c += 1
    return c


@njit(inline="always", **JIT)
def _hash_batch_keep(prefix, lo, hi, step, n, base_n, salt, p, bidx, brank, bh, bf, tmax):
    """:func:`_hash_batch`, keeping the hashes in ``bh`` too (for the theta sketches) and in
    ``bf`` a byte per window, 1 where its value ``h >> 1`` lies below ``tmax``; returns how
    many windows, and how many of them have a 1 (both counted in the same vectorised loop: a
    loop of its own over the kept hashes cost more than all the rest).

    Inlined in numba's IR, as :func:`_hash_batch` is: as a call the theta kernel took
    0.15-0.2 ns a window more (7 n, one thread, interleaved runs of the kernel harness); the
    cost is 0.4 s more compiling on a first run."""
    m = 0
    if step == 1:
        b_hi = base_n >> U32
        b_lo = base_n & M32
        u_at = np.uint64(lo)
        u_after = np.uint64(lo + n)
        for c in range(hi - lo):
            uc = np.uint64(c)
            h = window_hash_parts(prefix[u_after + uc], prefix[u_at + uc], b_hi, b_lo, salt)
            idx, rank = hll_rank(h, p)
            bidx[c] = idx
            brank[c] = rank
            bh[c] = h
            f = np.uint8((h >> U1) < tmax)
            bf[c] = f
            m += np.int64(f)
        return hi - lo, m
    c = 0
    for i in range(lo, hi, step):
        h = window_hash(prefix, i, n, base_n, salt)
        idx, rank = hll_rank(h, p)
        bidx[c] = idx
        brank[c] = rank
        bh[c] = h
        f = np.uint8((h >> U1) < tmax)
        bf[c] = f
        m += np.int64(f)
        c += 1
    return c, m


#: Multiplying eight 0/1 bytes by this puts byte ``i`` at bit ``56 + i`` (no two partial
#: products meet, so nothing carries). How :func:`_hll_windows` picks a batch's theta
#: candidates, the values ``h >> 1`` below ``tmax``: the hashing loop flags them a byte a
#: window, and the flags of 64 windows are gathered into the bits of a word, eight bytes at a
#: time; each 1 is found from its bit's position, in a loop that runs once per candidate and
#: guesses wrong at most once per 64 windows, whatever the share of candidates (n = 1 has
#: some in nearly every batch). In A/B runs it was neither faster nor slower than the scan
#: with a test per window it replaced.
_GATHER = np.uint64(0x0102040810204080)
U56 = np.uint64(56)


@njit(inline="always", **JIT)
def _theta_young(theta):
    """Whether a quarter or more of the windows are candidates of a theta sketch (``theta``
    above 1/4): a sketch not long emptied, or one of a small ``n`` whose frequent windows
    repeat (n = 1 of a corpus of fewer than ``4 k`` distinct words never leaves this)."""
    return theta > THETA_MAX >> np.uint64(2)


#: Slots of the set of a theta sketch that, once the sketch is past its youth, remember the
#: last value appended with the same low bits. Past its youth a sketch appends a candidate even
#: if it is among its values already (a probe into its whole set, which the streamed tokens
#: keep pushing out of the caches, cost more than the append and its share of the trim:
#: data/austen x16 at n = 8), unless this filter holds it: windows that repeat (at n = 1 a few
#: in a hundred are candidates) are appended once per round of the filter, not at each repeat.
#: Every value in the set was appended, and a trim keeps every value below the new theta, so a
#: value the filter holds and that lies below theta is in the buffer already.
FILTER_SLOTS = 8192


@njit(**JIT)
def _theta_append_young(cand, nc, tbuf, ttab, s, j, tc, theta, slots):
    """Append the values of ``cand[:nc]`` in ``(0, theta)`` and not in ``tbuf[s, j, :tc]`` yet
    to those candidates of a young theta sketch (:func:`_theta_young`); returns the new count.

    ``ttab[s, j, :slots]`` is the open-addressing set of the candidates (0 marks an empty slot;
    rebuilt at each trim of a young sketch,
    :func:`~seqcount._kernels.theta.theta_compact_set`), so that a window seen before costs
    one probe where most windows are candidates (past its youth a sketch appends with no
    probe: :func:`_hll_windows`).
    """
    table = ttab[s, j, :slots]
    tb = tbuf[s, j]
    mask = np.uint64(slots - 1)
    for c in range(nc):
        v = cand[c]
        if v < theta and v != U0 and probe_insert(table, mask, v):
            tb[tc] = v
            tc += 1
    return tc


@njit(inline="always", **JIT)
def theta_room(k):
    """Values a theta candidate buffer of nominal size ``k`` holds before it is trimmed."""
    return max(3 * k, k + 2 * BATCH)


@njit(inline="always", **JIT)
def theta_table_slots(k):
    """Slots of the set of a theta sketch of nominal size ``k`` (see :func:`_theta_append_young`):
    the least power of two at least ``4/3`` of :func:`theta_room`, so that the set is at most
    three quarters full."""
    need = (4 * theta_room(k) + 2) // 3
    slots = 1
    while slots < need:
        slots *= 2
    return slots


@njit(**JIT)
def _theta_row(tcnt, tth, tk, j):
    """Row ``j``'s theta state per set (:func:`_hll_windows`): candidates so far, threshold,
    the buffer's room and the set's slots; and room for a batch's candidates, hashes and
    flags (a byte a window, 0 or 1)."""
    ns_t = tcnt.shape[0]
    tcs = tcnt[:, j].copy()
    ths = tth[:, j].copy()
    rooms = np.zeros(ns_t, dtype=np.int64)
    slots = np.zeros(ns_t, dtype=np.int64)
    for s in range(ns_t):
        rooms[s] = theta_room(tk[s])
        slots[s] = theta_table_slots(tk[s])
    cand = np.empty(BATCH, dtype=np.uint64)
    bh = np.empty(BATCH, dtype=np.uint64)
    bf = np.empty(BATCH, dtype=np.uint8)
    return tcs, ths, rooms, slots, cand, bh, bf


@njit(**JIT)
def _theta_trim(tbuf, tcs, ths, tk, ttmp, ttab, slots, s, j):
    """Trim the candidates of set ``s``'s sketch of row ``j`` (:func:`_hll_windows`): a young
    one with :func:`~seqcount._kernels.theta.theta_compact_set`, which rebuilds its set, else
    with :func:`~seqcount._kernels.theta.theta_compact`."""
    if _theta_young(ths[s]):
        tcs[s], ths[s] = theta_compact_set(
            tbuf[s, j], tcs[s], tk[s], ths[s], ttmp[j], ttab[s, j, : slots[s]]
        )
    else:
        tcs[s], ths[s] = theta_compact(tbuf[s, j], tcs[s], tk[s], ths[s], ttmp[j])


# How _hll_windows keeps the block registers: blk[bdoc[d], j] gets the windows of document d
# too, at the register of idx's low pb bits with the same rank. With idx the low p >= pb bits
# of a hash h and rank its precision-p rank, leading_zeros(h) + 1 whenever h >= 2**p (all but
# a 2**-(64-p) share of hashes), which is also its precision-pb rank: the block registers are
# those of a precision-pb HyperLogLog++ of the same windows, in datasketch's layout. The block
# registers are indexed in place, the HIP summary is kept in scalars, and the per-batch theta
# work is written out in the loop: an array passed to a function, inlined or not, or sliced,
# costs two calls to count its references, which per batch, document or register growth took
# 0.1-0.3 ns a window.


@njit(**JIT)
def _hll_windows(
    prefix, doc, d0, d1, ns, bases, salts, p, regs, skip, stride, before, keep, hipst, hip, blk,
    bdoc, log_doc, log_key, counts, doc_base, tbuf, tcnt, tth, tk, ttmp, ttab, j0, j1,
):  # fmt: skip
    """The body of :func:`hll_update_windows` and :func:`hll_log_windows` (which see), every
    optional part ``None`` unless used; numba compiles one version per combination. ``tbuf``
    etc.: the theta sketches fed the same hashes; ``j0 .. j1-1``: the window sizes (rows) to
    count, all of them if ``j1 < 0``. Block registers and reference counts: the comment above.

    Not a numba parallel loop: callers run rows on threads of their own (see
    :func:`seqcount.hashing.hll_update_windows`): with a ``prange`` a first ``count data/``
    compiled for 18.1 s of CPU, without 13.0-13.7 s (``benchmarks/bench_startup.py``)."""
    m = float(regs.shape[1])
    top = 64 - p
    bmask = np.uint64(blk.shape[2] - 1) if blk is not None else U0
    for j in range(j0, ns.shape[0] if j1 < 0 else j1):
        n, base_n, salt, reg = ns[j], bases[j], salts[j], regs[j]
        step = n if stride else 1
        bidx, brank = np.empty(BATCH, dtype=np.uint64), np.empty(BATCH, dtype=np.int64)
        # the HIP state in local copies, written back once: rows j share cache lines, and a
        # write per register growth from two threads took away the second thread's gain
        s0, s1, acc = U0, U0, 0.0
        if hip is not None:
            s0, s1, acc = hipst[j, 0], hipst[j, 1], hip[j]
        logged = counts[j] if counts is not None else 0  # log entries so far
        ns_t = tbuf.shape[0] if tbuf is not None else 0
        if tbuf is not None:
            tcs, ths, rooms, slots, cand, bh, bf = _theta_row(tcnt, tth, tk, j)
            bfw = bf.view(np.uint64)
        for d in range(d0, d1):
            if keep is not None and keep[d] == 0:
                continue
            end = doc[d + 1] - n + 1
            bd = bdoc[d] if bdoc is not None else 0
            for lo in range(first_window(doc, d, d0, skip, n, step, before), end, step * BATCH):
                hi = min(lo + step * BATCH, end)
                if tbuf is None:
                    got = _hash_batch(prefix, lo, hi, step, n, base_n, salt, p, bidx, brank)
                else:
                    tmax = U0  # the largest threshold of the sets
                    for s in range(ns_t):
                        if tcs[s] + BATCH > rooms[s]:
                            _theta_trim(tbuf, tcs, ths, tk, ttmp, ttab, slots, s, j)
                        tmax = max(tmax, ths[s])
                    got, m_t = _hash_batch_keep(
                        prefix, lo, hi, step, n, base_n, salt, p, bidx, brank, bh, bf, tmax
                    )
                    nc = 0  # the candidates: see _GATHER
                    if m_t > 0:
                        for i in range(got, (got + 63) & ~63):  # flags past the batch
                            bf[i] = 0
                        for w in range((got + 63) >> 6):
                            x = U0
                            for q in range(8):
                                x |= ((bfw[(w << 3) + q] * _GATHER) >> U56) << np.uint64(q << 3)
                            while x != U0:
                                low = x & (~x + U1)  # the lowest 1 bit
                                cand[nc] = bh[(w << 6) + (63 - np.int64(leading_zeros(low)))] >> U1
                                nc += 1
                                x ^= low
                    for s in range(ns_t if nc > 0 else 0):
                        theta = ths[s]
                        if _theta_young(theta):
                            tcs[s] = _theta_append_young(
                                cand, nc, tbuf, ttab, s, j, tcs[s], theta, slots[s]
                            )
                            continue
                        tc = tcs[s]  # past its youth: see FILTER_SLOTS; no branch
                        fmask = np.uint64(min(slots[s], FILTER_SLOTS) - 1)
                        for i in range(nc):
                            v = cand[i]
                            slot = v & fmask
                            old = ttab[s, j, slot]
                            ok = (v < theta) & (v != U0) & (old != v)
                            ttab[s, j, slot] = v if ok else old
                            tbuf[s, j, tc] = v
                            tc += np.int64(ok)
                        tcs[s] = tc
                for k in range(got):
                    idx = bidx[k]
                    rank = brank[k]
                    if blk is not None:  # no branch: a fresh block's registers often grow
                        b = idx & bmask
                        blk[bd, j, b] = max(blk[bd, j, b], rank)
                    if rank > reg[idx]:
                        if hip is not None:
                            inc, s0, s1 = _hip_step(s0, s1, reg[idx], rank, m, top)
                            acc += inc
                        reg[idx] = rank
                        if log_doc is not None:
                            log_doc[j, logged] = doc_base + d
                            log_key[j, logged] = (np.int64(idx) << 8) | rank
                            logged += 1
        if hip is not None:
            hipst[j, 0], hipst[j, 1], hip[j] = s0, s1, acc
        if counts is not None:
            counts[j] = logged
        if tbuf is not None:
            tcnt[:, j] = tcs
            tth[:, j] = ths


@njit(**JIT)
def hll_update_windows(
    prefix, doc, d0, d1, ns, bases, salts, p, regs, skip=0, stride=False, before=0, keep=None,
    hipst=None, hip=None, blk=None, bdoc=None, tbuf=None, tcnt=None, tth=None, tk=0, ttmp=None,
    ttab=None, j0=0, j1=-1,
):  # fmt: skip
    """Add every window of every size ``ns[j]`` in documents ``d0 .. d1-1`` to ``regs[j]``.

    Each window size ``j`` writes only its own register row (and its rows of every other
    output), so rows ``j0 .. j1-1`` (all if ``j1 < 0``) can be counted by one call per thread,
    and the result does not depend on the number of threads.

    Args:
        prefix: uint64 prefix values from :func:`prefix_values`.
        doc: int64 token offsets per document.
        ns, bases, salts: int64 window sizes, uint64 ``B**n mod P`` and uint64 salts.
        p: int64 precision.
        regs: int8 array of shape ``(len(ns), 2**p)``, updated in place.
        skip, before: tokens of document ``d0`` carried over from an earlier piece, and the
            document position of its first token here (see :func:`first_window`).
        stride: count non-overlapping windows (every ``n`` tokens) instead of sliding ones.
        keep: optional uint8 flag per document (indexed like ``doc``); documents flagged 0 are
            left out.
        hipst, hip: optional register summaries (:func:`hip_state`) and float64 running HIP
            estimates per window size, both updated in place (see :func:`_hip_step`). Each
            window size is one sequential stream, so the estimates do not depend on the number
            of threads either.
        blk, bdoc: optional int8 ``(blocks, len(ns), 2**pb)`` registers of blocks
            (``pb <= p``) and the int64 block of each document (indexed like ``doc``): the
            windows of document ``d`` go into ``blk[bdoc[d]]`` too, with the same ranks (see
            the comment above :func:`_hll_windows`).
        tbuf, tcnt, tth, tk, ttmp, ttab: optional sets of theta sketches of the same windows
            (``S`` sets, one sketch per window size in each): uint64 ``(S, len(ns), C)``
            candidate buffers (``C >= theta_room(k)`` of every set), int64 counts and uint64
            thresholds ``(S, len(ns))`` (updated in place), int64 ``(S,)`` nominal sizes ``k``,
            uint64 ``(len(ns), C)`` scratch and uint64 ``(S, len(ns), W)`` open-addressing sets
            of the candidates while a sketch is young, then filters of the last values
            appended (zeroed with the sketches; a set uses :func:`theta_table_slots` of them,
            ``W`` at least that; see :func:`_theta_append_young` and :data:`FILTER_SLOTS`). A
            window's value ``h >> 1`` in ``(0, tth[s, j])`` is appended to row ``j`` of set
            ``s`` (once while the sketch is young, later unless the filter holds it); a full
            row is trimmed by
            :func:`~seqcount._kernels.theta.theta_compact`, which leaves the sketch of every
            value appended so far; so does a last call of it after the shard.
    """
    _hll_windows(
        prefix, doc, d0, d1, ns, bases, salts, p, regs, skip, stride, before, keep, hipst, hip,
        blk, bdoc, None, None, None, 0, tbuf, tcnt, tth, tk, ttmp, ttab, j0, j1,
    )  # fmt: skip


@njit(**JIT)
def hll_log_windows(
    prefix, doc, d0, d1, ns, bases, salts, p, regs, skip, stride, before, doc_base, log_doc,
    log_key, counts, blk=None, bdoc=None, tbuf=None, tcnt=None, tth=None, tk=0, ttmp=None,
    ttab=None, j0=0, j1=-1,
):  # fmt: skip
    """:func:`hll_update_windows`, recording every register that grows.

    Row ``j`` of the log gets, for each growth, the document's number ``doc_base + d`` in
    ``log_doc[j]`` and ``idx << 8 | rank`` in ``log_key[j]``, from position ``counts[j]`` on
    (advanced in place). Replaying a log in order up to a document gives the registers right
    after it, which is how a checkpoint inside a shard counted elsewhere is rebuilt. The
    log needs room for one entry per window of the call in the worst case. ``blk``, ``bdoc``:
    as in :func:`hll_update_windows` (block registers are not logged), and so are the theta
    sketches ``tbuf`` .. ``ttab``.
    """
    _hll_windows(
        prefix, doc, d0, d1, ns, bases, salts, p, regs, skip, stride, before, None, None, None,
        blk, bdoc, log_doc, log_key, counts, doc_base, tbuf, tcnt, tth, tk, ttmp, ttab, j0, j1,
    )  # fmt: skip


@njit(**JIT)
def hip_replay(flat_regs, m, p, hipst, hip, log_reg, log_rank, start, stop):
    """Apply entries ``start .. stop-1`` of a :func:`hll_log_windows` log (flat register index,
    rank) to registers viewed flat, carrying the HIP estimates along (``hipst``, ``hip`` as in
    :func:`hll_update_windows`; row ``j`` of the registers is ``flat_regs[j*m:(j+1)*m]``).

    Replaying in order a log of every register growth of a shard counted on its own, against
    the registers of all the shards before it, meets exactly the growths a single pass would
    have made (a window that grows the running registers also grew the shard's own), in the
    same order, so the estimates come out bit for bit the same.
    """
    top = 64 - p
    mf = float(m)
    for k in range(start, stop):
        r = log_reg[k]
        new = log_rank[k]
        if new > flat_regs[r]:
            j = r // m
            inc, s0, s1 = _hip_step(hipst[j, 0], hipst[j, 1], flat_regs[r], new, mf, top)
            hipst[j, 0] = s0
            hipst[j, 1] = s1
            hip[j] += inc
            flat_regs[r] = new


@njit(**JIT)
def hll_update_hashes(reg, hashes, p):
    """Add 64-bit hashes to one HyperLogLog++ register array (datasketch's layout)."""
    for k in range(hashes.shape[0]):
        idx, rank = hll_rank(hashes[k], p)
        if rank > reg[idx]:
            reg[idx] = rank


@njit(**JIT)
def reg_histograms(regs):
    """Histogram of register values per row of a ``(k, m)`` int8 array: int64 ``(k, 65)``.

    Four partial histograms, summed at the end: runs of equal registers (most are 0 early
    on) would otherwise wait on the same counter one increment after another.
    """
    out = np.zeros((regs.shape[0], 65), dtype=np.int64)
    part = np.zeros((4, 65), dtype=np.int64)
    m = regs.shape[1]
    for j in range(regs.shape[0]):
        part[:] = 0
        row = regs[j]
        i = 0
        while i + 4 <= m:
            part[0, row[i]] += 1
            part[1, row[i + 1]] += 1
            part[2, row[i + 2]] += 1
            part[3, row[i + 3]] += 1
            i += 4
        while i < m:
            part[0, row[i]] += 1
            i += 1
        for v in range(65):
            out[j, v] = part[0, v] + part[1, v] + part[2, v] + part[3, v]
    return out
