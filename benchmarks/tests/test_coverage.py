"""The coverage benchmark's block curves (benchmarks/coverage.py) against a direct count."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level folder of the project, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.coverage import BlockCurves  # noqa: E402
from seqcount.synth import document_offsets, pitman_yor_ids  # noqa: E402


def _direct(ids, offsets, bc, order):
    """Distinct ids after each block of ``order``, by concatenating the blocks' tokens."""
    docs = offsets.shape[0] - 1
    doc_block = (np.arange(docs) * bc.blocks) // docs
    parts = [
        ids[offsets[:-1][doc_block == b].min() : offsets[1:][doc_block == b].max()] for b in order
    ]
    seen, out = set(), []
    for p in parts:
        seen.update(p.tolist())
        out.append(len(seen))
    return np.cumsum([len(p) for p in parts]), np.array(out)


def test_block_curves_match_a_direct_count_in_any_order():
    ids = pitman_yor_ids(20_000, 0.6, 5.0, seed=2)
    offsets = document_offsets(20_000, 150.0, seed=2)
    bc = BlockCurves(ids, offsets, 32)
    rng = np.random.default_rng(0)
    for order in (np.arange(32), rng.permutation(32), np.flatnonzero(np.arange(32) % 4 != 1)):
        tokens, k = bc.curve(order)
        want_t, want_k = _direct(ids, offsets, bc, order)
        assert np.array_equal(tokens, want_t) and np.array_equal(k, want_k)
