"""Resampled growth curves from block sketches (seqcount.analysis.resample) and the prefix-union
kernel behind them."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest

from seqcount.analysis import resample as R
from seqcount.sketches import HLL, hll_estimates, prefix_union_estimates


def _blocks(nb: int, p: int, seed: int, most: int = 20_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    regs = np.zeros((nb, 1 << p), dtype=np.int8)
    for b in range(nb):
        h = HLL(p)
        size = int(rng.integers(1, most))
        h.update_batch(rng.integers(0, 2**63, size=size, dtype=np.uint64) * 2 + 1)
        regs[b] = h.reg
    return regs


@pytest.mark.parametrize("p", [4, 8, 12])
def test_prefix_unions_equal_estimates_of_merged_registers(p):
    blocks = _blocks(24, p, seed=p)
    orders = R.block_orders(24, 6)
    got = prefix_union_estimates(blocks, orders)
    for q, order in enumerate(orders):  # the slow way: merge, then estimate each prefix
        want = hll_estimates(np.maximum.accumulate(blocks[order], axis=0))
        np.testing.assert_allclose(got[q], want, rtol=1e-12)


def test_prefix_unions_do_not_depend_on_threads():
    blocks = _blocks(40, 10, seed=3)
    orders = R.block_orders(40, 16)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = prefix_union_estimates(blocks, orders)
        numba.set_num_threads(before)
        many = prefix_union_estimates(blocks, orders)
    finally:
        numba.set_num_threads(before)
    assert one.tobytes() == many.tobytes()


def test_prefix_unions_refuse_what_does_not_fit():
    blocks = _blocks(5, 8, seed=1)
    with pytest.raises(ValueError, match="permutation"):
        prefix_union_estimates(blocks, np.zeros((1, 5), dtype=np.int64))
    with pytest.raises(ValueError, match="do not fit"):
        prefix_union_estimates(blocks, np.zeros((1, 4), dtype=np.int64))


def test_block_orders_are_seeded_permutations():
    a, b = R.block_orders(50, 7), R.block_orders(50, 7)
    assert a.tobytes() == b.tobytes()
    assert (np.sort(a, axis=1) == np.arange(50)).all()
    assert not (R.block_orders(51, 7)[:, :50] == a).all()


def test_too_few_blocks_is_a_plain_value_error():
    regs = _blocks(R.MIN_BLOCKS - 1, 8, seed=2)
    with pytest.raises(ValueError, match=f"at least {R.MIN_BLOCKS}"):
        R.resample(np.full(R.MIN_BLOCKS - 1, 100), regs, 1)


def _planted(gammas, grid, noise: float, orders: int = 300, seed: int = 0) -> R.Resampled:
    """Resampled curves whose mean log U has local slope ``gammas(D)``, each order shifted by
    a random slope of sd ``noise``."""
    x = np.log(grid)
    slope = gammas(np.sqrt(grid[1:] * grid[:-1]))
    mean = np.concatenate([[0.0], np.cumsum(slope * np.diff(x))]) + math.log(50.0)
    rng = np.random.default_rng(seed)
    tilt = rng.normal(0, noise, size=(orders, 1)) * (x - x.mean())
    return R.Resampled(1, grid, mean + tilt - tilt.mean(axis=0), 0.0, 4096, 256, orders)


def test_range_exponent_recovers_a_planted_slope_and_its_order_spread():
    grid = R.log_grid(1e4, 1e7)
    res = _planted(lambda d: np.full(d.shape, 0.6), grid, noise=0.02)
    e = R.range_exponent(res, 1e5, 1e7)
    assert e.value == pytest.approx(0.6, abs=1e-9)
    per = [np.polyfit(np.log(grid[grid >= 1e5 * 0.999]), row[grid >= 1e5 * 0.999], 1)[0]
           for row in res.log_u]  # fmt: skip
    assert e.se_order == pytest.approx(np.std(per, ddof=1), rel=1e-9)
    assert (e.d_lo, e.d_hi) == pytest.approx((1e5, 1e7))


def test_count_part_matches_poisson_arrivals():
    """se_count is the slope's spread when distinct items arrive as a Poisson process whose
    mean is the curve (Monte Carlo of independent Poisson increments)."""
    grid = R.log_grid(1e3, 1e6)
    res = _planted(lambda d: np.full(d.shape, 0.5), grid, noise=0.0, orders=2)
    w = R.slope_weights(grid, 1e4, 1e6)
    e = R.estimate(res, w, 1e4, 1e6)
    mean_u = np.exp(res.mean)
    rng = np.random.default_rng(5)
    inc = np.diff(np.concatenate([[0.0], mean_u]))
    sims = np.cumsum(rng.poisson(inc, size=(4000, inc.shape[0])), axis=1)
    slopes = np.log(np.maximum(sims, 0.5)) @ w
    assert e.se_count == pytest.approx(slopes.std(), rel=0.1)


def test_half_decades_tile_the_grid_from_the_top():
    grid = R.log_grid(2e3, 3e6)
    res = _planted(lambda d: 0.8 - 0.05 * np.log10(d / 2e3), grid, noise=0.01)
    hd = R.half_decades(res)
    assert hd[-1].d_hi == pytest.approx(3e6)
    for a, b in zip(hd, hd[1:]):
        assert a.d_hi == pytest.approx(b.d_lo)
        assert b.d_hi / b.d_lo == pytest.approx(10**0.5)
    # the planted local slope at each half decade's log-middle
    for e in hd:
        mid = math.sqrt(e.d_lo * e.d_hi)
        assert e.value == pytest.approx(0.8 - 0.05 * math.log10(mid / 2e3), abs=2e-3)


def test_sketch_part_is_the_stated_fraction_of_the_two_ends_bound():
    grid = R.log_grid(1e4, 1e8)
    res = _planted(lambda d: np.full(d.shape, 0.9), grid, noise=0.0)
    res = R.Resampled(1, grid, res.log_u + math.log(1e3), 1.04 / 64, 4096, 256, res.orders)
    e = R.range_exponent(res, 1e6, 1e8)
    ends = [1.04 / 64] * 2  # both ends far above 2.5 m items: the HyperLogLog regime
    assert e.se_sketch == pytest.approx(R.BLOCK_SKETCH_FACTOR * math.hypot(*ends) / math.log(100))
