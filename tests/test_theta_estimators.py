"""Theta-sketch estimators (seqcount.analysis.theta) against exact set arithmetic, their 95%
bounds' coverage over seeded trials, and the ``datasketches`` package's own set operations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seqcount.analysis import theta as T
from seqcount.analysis.theta_bounds import count_lower_bound, count_upper_bound
from seqcount.errors import SketchMismatchError
from seqcount.sketches import THETA_MAX, ThetaSketch

SEED = 42


def _sets(rng, na: int, nb: int, common: int) -> tuple[np.ndarray, np.ndarray]:
    pool = rng.integers(2, 2**64 - 2, na + nb, dtype=np.uint64)  # no never-kept values
    a = pool[:na]
    b = np.concatenate([a[: min(common, na)], pool[na : na + nb - min(common, na)]])
    return a, b


def _sk(h: np.ndarray, k: int) -> ThetaSketch:
    s = ThetaSketch(k, SEED)
    s.update_batch(h)
    return s


def _truth(a: np.ndarray, b: np.ndarray) -> dict:
    sa, sb = set((a >> np.uint64(1)).tolist()), set((b >> np.uint64(1)).tolist())
    inter, union = len(sa & sb), len(sa | sb)
    return {
        "unique_a": len(sa),
        "unique_b": len(sb),
        "union": union,
        "intersection": inter,
        "a_not_b": len(sa - sb),
        "b_not_a": len(sb - sa),
        "jaccard": inter / union if union else None,
        "containment_a_in_b": inter / len(sa) if sa else None,
        "containment_b_in_a": inter / len(sb) if sb else None,
    }


@pytest.mark.parametrize("na,nb,common", [(0, 0, 0), (0, 7, 0), (1, 1, 1), (300, 200, 50)])
def test_exact_mode_is_exact(na, nb, common):
    a, b = _sets(np.random.default_rng(na + nb), na, nb, common)
    got = T.theta_overlap(_sk(a, 1024), _sk(b, 1024)).to_dict()
    for name, value in _truth(a, b).items():
        if value is None:
            assert got[name] is None and got[name + "_err"] is None
            continue
        assert got[name] == pytest.approx(value, rel=1e-12, abs=0)
        assert got[name + "_err"] == 0
        assert got[name + "_lower"] == got[name] == got[name + "_upper"]


def _trial(rng, k: int) -> tuple[T.ThetaOverlap, dict]:
    na = int(rng.integers(5 * k, 40 * k))
    nb = int(rng.integers(k // 2, 40 * k))
    common = int(rng.integers(0, min(na, nb) + 1))
    a, b = _sets(rng, na, nb, common)
    return T.theta_overlap(_sk(a, k), _sk(b, k)), _truth(a, b)


def _min_hits(trials: int, p: float = 0.95, alpha: float = 1e-4) -> int:
    """The smallest number of hits h with P(Binomial(trials, p) < h) <= alpha."""
    tail = 0.0
    for h in range(trials + 1):
        tail += math.comb(trials, h) * p**h * (1 - p) ** (trials - h)
        if tail > alpha:
            return h
    return trials


def test_bounds_cover_the_truth_in_estimation_mode():
    """In seeded trials (sets of 5k..40k distinct values, k = 64 and 256) every estimator's
    95% interval holds the exact value in at least as many trials as a binomial with p = 0.95
    gives with probability 1 - 1e-4; the estimates are unbiased within their errors."""
    rng = np.random.default_rng(2024)
    trials = 150
    names = list(T.ThetaOverlap.__dataclass_fields__)
    hits = dict.fromkeys(names, 0)
    zscores: dict[str, list[float]] = {n: [] for n in names}
    for t in range(trials):
        got, truth = _trial(rng, 64 if t % 2 else 256)
        for n in names:
            e = getattr(got, n)
            hits[n] += e.lower <= truth[n] <= e.upper
            if e.err > 0:
                zscores[n].append((e.estimate - truth[n]) / e.err)
    need = _min_hits(trials)
    assert all(h >= need for h in hits.values()), (hits, need)
    for n in names:  # mean z within 4 standard errors of 0, spread near 1
        z = np.array(zscores[n])
        assert abs(z.mean()) < 4 / math.sqrt(len(z)), (n, z.mean())
        assert 0.7 < z.std() < 1.3, (n, z.std())


# --------------------------------------------------------------------------- DataSketches


CASES = [
    (64, 0, 0, 0),
    (64, 0, 30, 0),
    (64, 40, 30, 10),
    (64, 5000, 3000, 1000),
    (1024, 100000, 3000, 2000),
    (1024, 3000, 100000, 3000),
    (4096, 100000, 80000, 60000),
    (64, 20000, 20000, 20000),
]


@pytest.mark.parametrize("k,na,nb,common", CASES)
def test_estimators_equal_datasketches(k, na, nb, common):
    ds = pytest.importorskip("datasketches")
    a, b = _sets(np.random.default_rng(na * 7 + nb), na, nb, common)
    sa, sb = _sk(a, k), _sk(b, k)
    da, db = (ds.compact_theta_sketch.deserialize(s.to_bytes(), SEED) for s in (sa, sb))

    def same(e: T.Estimate, r) -> None:
        want = (r.get_estimate(), r.get_lower_bound(2), r.get_upper_bound(2))
        assert (e.estimate, e.lower, e.upper) == pytest.approx(want, rel=1e-9, abs=1e-12)

    u = ds.theta_union(k.bit_length() - 1, seed=SEED)
    u.update(da)
    u.update(db)
    same(T.union(sa, sb), u.get_result())
    assert T.union_sketch(sa, sb).to_bytes() == u.get_result().serialize()
    i = ds.theta_intersection(SEED)
    i.update(da)
    i.update(db)
    same(T.intersection(sa, sb), i.get_result())
    same(T.a_not_b(sa, sb), ds.theta_a_not_b(SEED).compute(da, db))
    same(T.a_not_b(sb, sa), ds.theta_a_not_b(SEED).compute(db, da))
    same(T.cardinality(sa), da)
    j = T.jaccard(sa, sb)
    want = ds.theta_jaccard_similarity.jaccard(da, db, SEED)
    assert [j.lower, j.estimate, j.upper] == pytest.approx(want, rel=1e-9, abs=1e-12)
    c = T.containment(sa, sb)
    if na:  # |A ∩ B| / |A| from DataSketches' intersection and A's values below its theta
        inter = i.get_result()
        below = sum(1 for h in da if h < inter.theta64)
        assert c.estimate == (inter.num_retained / below if below else 0.5)
    else:
        assert c is None


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 50, 119, 120, 121, 122, 500, 5000])
def test_count_bounds_equal_datasketches(n):
    """binomial_bounds for every branch (θ near 1, θ < n/360, between, n > 120; 1-3 std devs)
    against the package's get_lower_bound / get_upper_bound."""
    ds = pytest.importorskip("datasketches")
    rng = np.random.default_rng(n)
    for theta in [1 - 1e-6, 0.999, 0.9, 0.5, 0.2, 0.05, 0.01, 1e-4]:
        theta64 = int(int(THETA_MAX) * theta)
        entries = rng.integers(1, theta64, n, dtype=np.uint64)
        s = ThetaSketch.from_entries(entries, theta64, k=8192, seed=SEED)
        m = s.num_retained
        c = ds.compact_theta_sketch.deserialize(s.to_bytes(), SEED)
        for d in (1, 2, 3):
            assert count_lower_bound(m, s.theta, d) == pytest.approx(c.get_lower_bound(d), 1e-12)
            assert count_upper_bound(m, s.theta, d) == pytest.approx(c.get_upper_bound(d), 1e-12)


def test_mismatch_and_types():
    a = ThetaSketch(64, 1)
    with pytest.raises(SketchMismatchError):
        T.intersection(a, ThetaSketch(64, 2))
    with pytest.raises(TypeError):
        T.jaccard(a, object())
    with pytest.raises(ValueError):
        count_lower_bound(3, 0.5, 4)
