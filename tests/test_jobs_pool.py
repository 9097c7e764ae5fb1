"""Worker processes: forked from a process that has not started numba's threads, started when
the executor is made, and left out where they cost more than they save; same results."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from conftest import DATA
from numba.np.ufunc import parallel

from seqcount.api import count, count_batch, count_corpus
from seqcount.config import CountConfig
from seqcount.engine import executors
from seqcount.engine.executors import POOL_MIN_BYTES, Executor, worth_a_pool
from seqcount.io import Shard

AUSTEN = sorted((DATA / "austen").glob("*.parquet"))


def shards(n: int, size: int) -> list[Shard]:
    return [Shard(f"s{i}.parquet", size, "parquet", None) for i in range(n)]


def test_a_pool_needs_two_shards_enough_bytes_and_three_cores():
    big = POOL_MIN_BYTES
    assert worth_a_pool(shards(4, big), jobs=4, cores=4)
    assert worth_a_pool(shards(2, big // 2), jobs=3, cores=8)
    assert not worth_a_pool(shards(1, 10 * big), jobs=4, cores=4)  # one shard: one process
    assert not worth_a_pool(shards(4, big // 8), jobs=4, cores=4)  # too little input
    assert not worth_a_pool(shards(4, big), jobs=2, cores=2)  # 2 cores: too little to gain
    assert not worth_a_pool(shards(4, big), jobs=8, cores=2)
    assert not worth_a_pool(shards(4, big), jobs=2, cores=16)  # 2 processes: 2 cores
    assert not worth_a_pool(shards(4, big), jobs=1, cores=16)


def test_small_work_runs_here_on_every_core():
    e = Executor(jobs=2, shards=shards(1, 100))
    try:
        assert (e.kind, e.jobs, e.pool) == ("here", 1, None)
        assert e.threads == max(1, os.cpu_count() or 1)
    finally:
        e.close()


@pytest.mark.skipif(sys.platform != "linux", reason="fork is used on Linux only")
def test_the_pool_forks_and_starts_its_workers_at_once():
    e = Executor(jobs=2, threads=1)  # no shards given: no rule, a pool
    try:
        assert e.kind == "pool"
        # fork unless numba's threads already run here (then a child would inherit them)
        forks = not parallel._is_initialized
        assert e.pool._mp_context.get_start_method() == ("fork" if forks else "spawn")
        assert len(e.pool._processes) == 2  # started before any shard was submitted
    finally:
        e.close()


def _same(a, b) -> None:
    assert [r.__dict__ for r in a.rows] == [r.__dict__ for r in b.rows]
    for x, y in zip(a.sketches.hll, b.sketches.hll):
        assert np.array_equal(x.reg, y.reg)
    assert a.sketches.minhash == b.sketches.minhash


def test_forked_workers_count_what_one_pass_counts(monkeypatch):
    monkeypatch.setattr(executors, "worth_a_pool", lambda shards, jobs, cores=None: True)
    cfg = CountConfig(ns=(1, 2, 8), num_perm=16, overlap="minhash")
    one = count_corpus([str(p) for p in AUSTEN], cfg)
    pooled = count_batch([str(p) for p in AUSTEN], cfg, jobs=2, threads=1)
    _same(one, pooled)


def test_jobs_on_small_input_count_in_one_pass_with_the_same_results(tmp_path):
    cfg = CountConfig(ns=(1, 4))
    paths = [str(p) for p in AUSTEN[:2]]
    events: list[dict] = []
    two = count(paths, config=cfg, jobs=2, on_event=events.append)
    assert events[0]["event"] == "start" and events[0]["jobs"] == 1
    _same(count(paths, config=cfg), two)
