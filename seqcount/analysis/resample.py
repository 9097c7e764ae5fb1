"""Growth curves of a corpus read in other orders, from its block sketches, and calibrated
intervals for the growth exponent over a range of D and per half decade.

Why resample
------------
One growth curve is one ordering of one sample of documents. Its least-squares slope carries an
error from the scatter of its points only, which is several times too small: the curve also
depends on the order of the documents and on which documents were drawn, and the exponent drifts
with D. ``count`` keeps a HyperLogLog of every *block* (a run of whole documents of one shard,
see :mod:`seqcount.sketches`); the union of the first ``k`` blocks of any order is a register
merge, so the curve for a random order of the blocks costs no second read of the corpus.

The estimate and its interval
-----------------------------
For ``P`` random block orders (:func:`block_orders`, fixed seed: the same run gives the same
bits), ``log U`` is interpolated (linearly in ``log D``) onto a grid of D with 8 points per
decade (:func:`resample`). A quantity that is linear in ``log U`` on the grid (the least-squares
slope over a range, the slope over a half decade) is estimated on the mean curve over the
orders, and its standard error is made of three parts (:class:`Estimate`):

* **order**: the spread of the quantity across the orders: how much the answer depends on
  which documents come first, and on the differences between blocks (documents of other
  sources, languages or lengths);
* **count**: the scatter of a count of distinct items: new items arrive like a Poisson process
  whose mean is the curve, so ``Cov(U_i, U_j) = min(U_i, U_j)``. It dominates when there are
  few distinct items (tens to hundreds at the bottom of the range), where a corpus's curve is
  at the mercy of a handful of early items. The order spread holds this scatter too, so the
  larger of the two is taken (a floor, not a sum);
* **sketch**: the error of the block sketches' estimates (:data:`BLOCK_SKETCH_FACTOR`).

The interval ``estimate ± 1.96 se`` is checked on Pitman-Yor corpora whose exponent is known
(``benchmarks/coverage.py``, docs/accuracy.md): what it claims to cover is the exponent, over
the range, of the *expected* growth curve of the process that produced the corpus.

Everything here is numpy on arrays; :func:`~seqcount.sketches.prefix_union_estimates` makes the
resampled counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..sketches import prefix_union_estimates

#: Block orders drawn by default (the issue's floor: at least 200).
DEFAULT_ORDERS = 200
#: Fewest blocks a resampled curve is made from: fewer cannot say how much an order matters.
MIN_BLOCKS = 16
#: Seed of the block orders (with the number of blocks): a run always gets the same orders.
ORDER_SEED = 0x5EC0_0019
#: Grid points per decade of D (a half decade is 4 steps).
PER_DECADE = 8
#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054
#: The sketch part of a slope's error, as a fraction of the bound for independent errors at the
#: two ends of its stretch (``sqrt(e_lo**2 + e_hi**2) / log(D_hi / D_lo)``). Averaging over
#: orders shrinks the error at every point but the top (which all orders share):
#: ``benchmarks/coverage.py --sketch-error`` (the same corpus counted with 8 hash seeds, 8
#: Pitman-Yor corpora, precision-12 blocks) measured 0.47-0.79 of the bound for the exponent over
#: two decades; the largest is taken.
BLOCK_SKETCH_FACTOR = 0.8


def block_orders(blocks: int, orders: int = DEFAULT_ORDERS, seed: int = ORDER_SEED) -> np.ndarray:
    """``orders`` random permutations of ``range(blocks)``: int64 ``(orders, blocks)``, a
    function of the arguments only."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, blocks]))
    return np.stack([rng.permutation(blocks) for _ in range(orders)]).astype(np.int64)


@dataclass(frozen=True)
class Resampled:
    """``log U`` of one window size at a grid of D, for each of ``P`` block orders.

    Attributes:
        n: window size.
        grid: float64 ``(G,)`` D values, increasing, from the largest block to the corpus.
        log_u: float64 ``(P, G)``.
        rel_err: relative standard error of one block-sketch estimate in the HyperLogLog regime.
        registers: registers per block sketch.
        blocks, orders: how many blocks, and orders drawn.
    """

    n: int
    grid: np.ndarray
    log_u: np.ndarray
    rel_err: float
    registers: int
    blocks: int
    orders: int

    @property
    def mean(self) -> np.ndarray:
        """The mean of ``log U`` over the orders, at each grid point."""
        return self.log_u.mean(axis=0)


def resample(
    tokens: np.ndarray, regs: np.ndarray, n: int, orders: np.ndarray | int = DEFAULT_ORDERS
) -> Resampled:
    """The growth curves of window size ``n`` for random orders of the blocks.

    Args:
        tokens: int ``(nb,)`` tokens per block.
        regs: int8 ``(nb, 2**p)`` block sketches of window size ``n``.
        orders: the block orders, or how many to draw (:func:`block_orders`).

    Raises:
        ValueError: fewer than :data:`MIN_BLOCKS` blocks with tokens, or shapes that do not fit.
    """
    tokens = np.asarray(tokens, dtype=np.int64)
    nb = int(tokens.shape[0])
    if nb < MIN_BLOCKS or int(np.count_nonzero(tokens)) < MIN_BLOCKS:
        raise ValueError(f"{nb} block(s): at least {MIN_BLOCKS} are needed to resample a curve")
    if isinstance(orders, (int, np.integer)):
        orders = block_orders(nb, int(orders))
    est = prefix_union_estimates(regs, orders)
    cum = np.cumsum(tokens[orders], axis=1).astype(np.float64)
    grid = log_grid(float(tokens.max()), float(tokens.sum()))
    lg = np.log(grid)
    floor = np.log(0.5)  # an empty union (U = 0) is held at half an item: log stays finite
    log_u = np.empty((orders.shape[0], grid.shape[0]), dtype=np.float64)
    for q in range(orders.shape[0]):
        keep = cum[q] > 0
        ly = np.log(np.maximum(est[q][keep], 0.5))
        log_u[q] = np.interp(lg, np.log(cum[q][keep]), ly, left=floor)
    m = int(regs.shape[1])
    return Resampled(n, grid, log_u, 1.04 / math.sqrt(m), m, nb, int(orders.shape[0]))


def log_grid(lo: float, hi: float) -> np.ndarray:
    """D at ``hi * 10**(-k / PER_DECADE)`` down to ``lo``, increasing (anchored at the corpus
    size, so that half decades counted from the top are whole)."""
    k = int(math.floor(math.log10(hi / lo) * PER_DECADE + 1e-9)) if hi > lo else 0
    return hi * 10.0 ** (-np.arange(k, -1, -1, dtype=np.float64) / PER_DECADE)


@dataclass(frozen=True)
class Estimate:
    """A quantity linear in ``log U`` (a slope), on the mean resampled curve, with its error.

    Attributes:
        value: on the mean curve over the orders.
        se: standard error, ``sqrt(max(se_order, se_count)**2 + se_sketch**2)``: the order
            spread already holds the scatter of arrivals that ``se_count`` models, so the
            count part is a floor under it, not an addition.
        se_order, se_count, se_sketch: its parts (see the module docstring).
        d_lo, d_hi: the stretch of D it is over.
    """

    value: float
    se: float
    se_order: float
    se_count: float
    se_sketch: float
    d_lo: float
    d_hi: float

    @property
    def ci95(self) -> tuple[float, float]:
        """``value ± 1.96 se``."""
        return self.value - Z95 * self.se, self.value + Z95 * self.se

    def to_dict(self) -> dict:
        return dict(self.__dict__) | {"ci95": list(self.ci95)}


def _hll_error(u: float, m: int, rel_err: float) -> float:
    """Relative standard error of an HLL++ estimate of ``u`` items with ``m`` registers:
    linear counting's below ``2.5 m``, else ``rel_err``."""
    if u <= 0:
        return 0.0
    t = u / m
    if t < 2.5:
        return min(rel_err, math.sqrt(m * (math.exp(t) - t - 1)) / u)
    return rel_err


def estimate(res: Resampled, weights: np.ndarray, d_lo: float, d_hi: float) -> Estimate:
    """The quantity ``weights @ log U`` of the resampled curves of ``res``, with its error.

    Args:
        weights: float64 ``(G,)`` over the grid, zero outside ``[d_lo, d_hi]``.
    """
    per_order = res.log_u @ weights
    mean = res.mean
    u = np.exp(mean)
    se_order = float(per_order.std(ddof=1)) if res.orders > 1 else 0.0
    cov = np.minimum.outer(u, u) / np.outer(u, u)  # Poisson arrivals: Cov(U_i, U_j) = min
    se_count = math.sqrt(max(float(weights @ cov @ weights), 0.0))
    span = math.log(d_hi / d_lo)
    ends = [_hll_error(float(np.exp(np.interp(math.log(x), np.log(res.grid), mean))),
                       res.registers, res.rel_err) for x in (d_lo, d_hi)]  # fmt: skip
    se_sketch = BLOCK_SKETCH_FACTOR * math.hypot(*ends) / span if span > 0 else 0.0
    se = math.sqrt(max(se_order, se_count) ** 2 + se_sketch**2)
    return Estimate(float(weights @ mean), se, se_order, se_count, se_sketch, d_lo, d_hi)


def slope_weights(grid: np.ndarray, d_lo: float, d_hi: float) -> np.ndarray | None:
    """Least-squares slope weights over the grid points in ``[d_lo, d_hi]``; ``None`` with
    fewer than 3 points there."""
    inside = (grid >= d_lo * (1 - 1e-9)) & (grid <= d_hi * (1 + 1e-9))
    if int(inside.sum()) < 3:
        return None
    x = np.log(grid[inside])
    xc = x - x.mean()
    w = np.zeros(grid.shape[0])
    w[inside] = xc / float(xc @ xc)
    return w


def range_exponent(res: Resampled, d_lo: float, d_hi: float) -> Estimate | None:
    """The exponent over ``[d_lo, d_hi]`` (clipped to the resampled grid), or ``None`` when the
    grid holds fewer than 3 points there."""
    lo = max(d_lo, float(res.grid[0]))
    w = slope_weights(res.grid, lo, d_hi)
    if w is None:
        return None
    pts = res.grid[w != 0]
    return estimate(res, w, float(pts.min()), float(pts.max()))


def half_decades(res: Resampled) -> list[Estimate]:
    """The local exponent over each half decade of the grid (from its top down, so that the
    corpus's own size ends the last one), smallest D first."""
    step = PER_DECADE // 2
    g = res.grid
    out = []
    hi = g.shape[0] - 1
    while hi - step >= 0:
        lo = hi - step
        w = np.zeros(g.shape[0])
        span = math.log(g[hi] / g[lo])
        w[hi], w[lo] = 1 / span, -1 / span
        out.append(estimate(res, w, float(g[lo]), float(g[hi])))
        hi = lo
    return out[::-1]
