"""Shared fixtures: paths to the bundled sample and small Parquet writers."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
GROUND_TRUTH = Path(__file__).resolve().parent / "data" / "austen_ground_truth.csv"


def write_parquet(path, docs, column="text", type=None, row_group_size=None, **extra):
    """Write ``docs`` (one row each) as a Parquet column; extra columns from ``extra``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = {column: pa.array(docs, type=type)}
    cols.update({k: pa.array(v) for k, v in extra.items()})
    pq.write_table(pa.table(cols), path, row_group_size=row_group_size)
    return path


@pytest.fixture
def parquet(tmp_path):
    """Factory: ``parquet(docs, name="x.parquet", column="text", type=None)`` → path."""

    def make(docs, name="corpus.parquet", **kw):
        return write_parquet(tmp_path / name, docs, **kw)

    return make


def hyp_settings(max_examples: int) -> settings:
    """Deterministic hypothesis settings for kernel and tokenizer property tests."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
