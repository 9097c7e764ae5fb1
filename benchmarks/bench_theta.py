"""Cost of a theta-sketch update against MinHash and Apache DataSketches, and the containment
error of a small set in a large one (docs/overlap.md).

Run from the project root::

    python -m benchmarks.bench_theta            # about a minute on 2 cores
    python -m benchmarks.bench_theta --quick    # 10x fewer hashes, fewer trials

All in one run, on the same random uint64 hashes (fixed seed), median of repeats:

1. ``theta``: :meth:`seqcount.sketches.ThetaSketch.update_batch` (the ``theta_insert`` /
   ``theta_rebuild`` kernels) at ``k = 2**14``, in one call and in batches of 10^5 hashes;
2. ``minhash``: :func:`seqcount._kernels.minhash_update_hashes`, K = 128 permutations;
3. ``datasketches``: ``datasketches.update_theta_sketch(lg_k=14).update(int)`` per item (its
   Python API has no batch update), on a prefix of the hashes;

ns per update and the ratios against the theta kernel. Then ``containment``: the containment
of a set of ``3e5`` distinct windows (half of them in the large set) in a set of ``1e7``, at
``k = 2**14`` and ``2**15``: the standard error over seeded trials against the one predicted,
``sqrt(c (1 - c) (1 - f) / a)`` with ``a ≈ 3e5 · k / 1e7`` of the small set's values below
θ, and against the mean ``err`` the estimator reports.
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np

from seqcount import _kernels as kernels
from seqcount.analysis import theta as T
from seqcount.sketches import MinHash, ThetaSketch


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def bench_updates(n: int, repeats: int, ds_items: int) -> dict:
    hashes = np.random.default_rng(1).integers(0, 2**64, n, dtype=np.uint64)

    def theta_one():
        ThetaSketch(1 << 14).update_batch(hashes)

    def theta_batches():
        s = ThetaSketch(1 << 14)
        for lo in range(0, n, 100_000):
            s.update_batch(hashes[lo : lo + 100_000])
        s.count()

    mh = MinHash(128, 1)
    a, b = mh.permutations

    def minhash():
        kernels.minhash_update_hashes(np.full(128, kernels.MINHASH_EMPTY), a, b, hashes)

    theta_one(), minhash()  # compile
    out = {
        "theta k=2^14 (one call)": _best(theta_one, repeats) / n * 1e9,
        "theta k=2^14 (batches of 1e5)": _best(theta_batches, repeats) / n * 1e9,
        "minhash K=128 kernel": _best(minhash, repeats) / n * 1e9,
    }
    try:
        import datasketches as ds
    except ImportError:
        return out
    items = [int(h) for h in hashes[:ds_items]]

    def dsk():
        s = ds.update_theta_sketch(lg_k=14)
        for h in items:
            s.update(h)

    out["datasketches update_theta_sketch .update(int)"] = _best(dsk, repeats) / ds_items * 1e9
    return out


def bench_containment(k: int, trials: int, small: int, big: int, common: float) -> dict:
    """Containment of ``small`` distinct hashes (``common`` of them in the big set) in ``big``."""
    rng = np.random.default_rng(k)
    ests, errs = [], []
    n_common = int(small * common)
    for _ in range(trials):
        b_hashes = rng.integers(0, 2**64, big, dtype=np.uint64)
        own = rng.integers(0, 2**64, small - n_common, dtype=np.uint64)
        a, b = ThetaSketch(k), ThetaSketch(k)
        b.update_batch(b_hashes)
        a.update_batch(np.concatenate([b_hashes[:n_common], own]))
        e = T.containment(a, b)
        ests.append(e.estimate)
        errs.append(e.err)
    f = k / big
    predicted = math.sqrt(common * (1 - common) * (1 - f) / (small * f))
    return {
        "k": k,
        "trials": trials,
        "truth": common,
        "mean_estimate": float(np.mean(ests)),
        "observed_se": float(np.std(ests, ddof=1)),
        "predicted_se": predicted,
        "mean_reported_err": float(np.mean(errs)),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", help="write the results here too")
    args = p.parse_args(argv)
    n = 10**6 if args.quick else 10**7
    upd = bench_updates(n, 3 if args.quick else 5, 10**5 if args.quick else 10**6)
    base = upd["theta k=2^14 (one call)"]
    print(f"## Updates ({n:.0e} random hashes, one thread)\n")
    print("| system | ns/update | over theta |\n|---|---:|---:|")
    for name, ns in upd.items():
        print(f"| {name} | {ns:.2f} | {ns / base:.2f}x |")
    trials = 8 if args.quick else 30
    big = 10**6 if args.quick else 10**7
    small = 3 * 10**4 if args.quick else 3 * 10**5
    print(f"\n## Containment of {small:.0e} in {big:.0e} (half common), {trials} trials\n")
    print("| k | mean | observed SE | predicted SE | mean reported err |")
    print("|---|---:|---:|---:|---:|")
    cont = [bench_containment(k, trials, small, big, 0.5) for k in (1 << 14, 1 << 15)]
    for c in cont:
        print(
            f"| 2^{c['k'].bit_length() - 1} | {c['mean_estimate']:.4f} | {c['observed_se']:.4f} "
            f"| {c['predicted_se']:.4f} | {c['mean_reported_err']:.4f} |"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"updates_ns": upd, "containment": cont, "n": n}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
