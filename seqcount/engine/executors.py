"""Where shards are counted: in this process, in worker processes, or on a Dask cluster."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable

from ..config import CountConfig
from ..errors import ConfigError, WorkerError
from ..io import Shard
from .process import init_worker

Event = Callable[[dict], None]


#: Input below this many bytes is counted in this process: a worker's start-up (fork, loading
#: its kernels) costs more than it saves (benchmarks/bench_startup.py).
POOL_MIN_BYTES = 32 << 20
#: Cores one streaming pass keeps busy (numba threads, and the decode and tokenize threads).
ONE_PASS_CORES = 1.5
#: CPU time of counting shard by shard in forked worker processes over one streaming pass: each
#: worker logs register growth in smaller chunks (measured 1.20 on 30 M words tokens in 4
#: shards; spawned workers, which import everything again, 1.34).
POOL_CPU_COST = 1.2
#: The gain the model must promise: on 2 cores it promises 1.11x, but a pool there took 1.07x the
#: time of one pass on a shared 2-core machine (benchmarks/bench_startup.py at commit 1e7bccf),
#: so a pool starts from 3 cores.
POOL_MIN_GAIN = 1.25


def worth_a_pool(shards: list[Shard], jobs: int, cores: int | None = None) -> bool:
    """Whether ``jobs`` worker processes count ``shards`` sooner than one process.

    They need two shards or more, :data:`POOL_MIN_BYTES` of input, and enough cores: ``jobs``
    processes can use ``min(jobs, cores)`` cores where one pass uses :data:`ONE_PASS_CORES`,
    at :data:`POOL_CPU_COST` times its CPU time; the gain must reach :data:`POOL_MIN_GAIN`.
    """
    cores = cores or os.cpu_count() or 1
    gain = min(jobs, cores) / ONE_PASS_CORES / POOL_CPU_COST
    return (
        len(shards) >= 2 and sum(s.size for s in shards) >= POOL_MIN_BYTES and gain >= POOL_MIN_GAIN
    )


def _context():
    """The multiprocessing context of the worker pool.

    ``fork`` on Linux while numba has not started its worker threads in this process: a
    forked worker starts with the modules imported and numba's compiler set up (a spawned one
    pays about a second of imports and numba start-up first). Otherwise ``spawn`` (a forked
    child would inherit numba's thread pool in an unknown state).
    """
    import multiprocessing
    import sys

    try:
        from numba.np.ufunc import parallel

        started = bool(getattr(parallel, "_is_initialized", True))
    except ImportError:
        started = True
    if sys.platform == "linux" and not started:
        try:  # numba's lowering registries, set up once here rather than in every worker
            from numba.core.registry import cpu_target

            cpu_target.target_context.refresh()
        except Exception:  # another numba release: the workers set it up themselves
            pass
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class _Done:
    """A finished 'future' (for in-process counting)."""

    def __init__(self, fn, *args):
        self._fn, self._args = fn, args

    def result(self):
        return self._fn(*self._args)


class Executor:
    """Where shards are counted: in this process, in worker processes, or on Dask."""

    def __init__(self, jobs: int = 1, scheduler: str | None = None, engine: str = "local",
                 threads: int | None = None, shards: list[Shard] | None = None):  # fmt: skip
        if jobs < 1:
            raise ConfigError(f"jobs must be at least 1, got {jobs}", "jobs")
        if threads is not None and threads < 1:
            raise ConfigError(f"threads must be at least 1, got {threads}", "threads")
        self.jobs = jobs
        self.kind = "dask" if (engine == "dask" or scheduler) else ("pool" if jobs > 1 else "here")
        self.pool = self.client = self.cluster = self.scratch = None
        cores = os.cpu_count() or 1
        if self.kind == "pool" and shards is not None and not worth_a_pool(shards, jobs):
            self.kind = "here"  # workers would cost more than they save
            self.jobs = jobs = 1
        self.threads = threads if threads is not None else max(1, cores // jobs)
        if self.kind == "pool":
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(
                max_workers=jobs, mp_context=_context(), initializer=init_worker
            )
            # start every worker now, while this process prepares the first shards
            for _ in range(jobs):
                self.pool.submit(init_worker)
        elif self.kind == "dask":
            try:
                from distributed import Client, LocalCluster
            except ImportError:
                raise ConfigError(
                    "the dask engine needs Dask: pip install 'seqcount[dask]'"
                ) from None
            if scheduler:
                try:
                    self.client = Client(scheduler, timeout="20s")
                except OSError as e:
                    raise ConfigError(
                        f"scheduler {scheduler}: cannot connect ({e})", "scheduler"
                    ) from None
            else:
                # the workers' scratch space is ours to remove when the run ends
                import dask

                self.scratch = tempfile.mkdtemp(prefix="seqcount-dask-")
                with dask.config.set({"temporary-directory": self.scratch}):
                    self.cluster = LocalCluster(
                        n_workers=jobs, threads_per_worker=1, processes=True,
                        dashboard_address=None, local_directory=self.scratch,
                    )  # fmt: skip
                self.client = Client(self.cluster)
            self.jobs = max(jobs, len(self.client.scheduler_info().get("workers", {})) or 1)

    @property
    def in_flight(self) -> int:
        """Shards submitted ahead of the one being merged (bounds the logs held)."""
        return 1 if self.kind == "here" else 2 * self.jobs

    def submit(self, fn, shard: Shard, config: CountConfig):
        """Run ``fn(shard, config, threads)`` where this executor runs work; a future."""
        if self.kind == "pool":
            return self.pool.submit(fn, shard, config, self.threads)
        if self.kind == "dask":
            return self.client.submit(fn, shard, config, self.threads, pure=False)
        return _Done(fn, shard, config, self.threads)

    def result(self, future, shard: Shard):
        """The result of a submitted shard.

        Raises:
            WorkerError: the worker died (killed, out of memory) while counting it.
        """
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool as e:
            why = str(e) or "the process pool broke"
        except Exception as e:
            if type(e).__name__ != "KilledWorker":  # distributed's, after its retries
                raise
            why = str(e)
        raise WorkerError(
            f"{shard.path}: a worker died while counting this shard ({why}); shards finished "
            "before are kept with state, so a rerun resumes",
            "state",
        )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
