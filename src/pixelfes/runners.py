"""Where chunks of work run: in this process, in a pool of processes, or on a Dask cluster.

Every runner has ``imap_unordered(fn, job, chunks, on_fail)``, yielding ``fn(job, chunk)``
for each chunk as it finishes (in any order), or ``on_fail(chunk, message)`` for a chunk
that could not be run. ``fn`` must be a module-level function (it is pickled by name);
workers keep what they load (models) in module-level caches, so each loads it once.
Only :class:`DaskRunner` imports Dask, and only when it is made.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

C = TypeVar("C")
R = TypeVar("R")
Fn = Callable[[Any, C], R]
OnFail = Callable[[C, str], R]

_POOL_RESTARTS = 3  # a pool that loses a process is rebuilt this many times before giving up
#: modules a pool's fork server imports before forking workers; the last loads what every
#: photo needs (one thread only: :mod:`pixelfes._pool_warm`), so workers start with it
PRELOAD = ["numpy", "cv2", "pixelfes.photojobs", "pixelfes.pipeline", "pixelfes.native",
           "pixelfes.commands.synthesize", "pixelfes._pool_warm"]


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity mask, e.g. a cluster job's share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def check_jobs(jobs: int | None, name: str = "--jobs") -> int:
    """``jobs`` as a count of processes (None: one per usable CPU)."""
    if jobs is None:
        return usable_cores()
    if jobs < 1:
        raise ValueError(f"{name} must be 1 or more (processes); got {jobs}")
    return jobs


def one_thread_each() -> None:
    """Pool worker start-up: OpenCV on one thread (one process per core, no oversubscription)."""
    import cv2

    cv2.setNumThreads(1)


class InProcessRunner:
    """Run each chunk here, one after another (the reference the others must equal)."""

    workers = 1

    def imap_unordered(self, fn: Fn, job: Any, chunks: Sequence[C], on_fail: OnFail) -> Iterator[R]:
        for chunk in chunks:
            yield fn(job, chunk)

    def close(self) -> None:
        """Nothing to release."""


class PoolRunner:
    """A pool of ``jobs`` local processes, kept until :meth:`close` (workers stay warm).

    A process that dies breaks a Python pool; the pool is then rebuilt and the chunks
    that had not come back are run again (at most a few times).
    """

    def __init__(self, jobs: int) -> None:
        self.workers = check_jobs(jobs)
        self._pool: Any = None
        self._starting: Any = None
        self._start_error: Exception | None = None

    def start(self) -> None:
        """Bring the workers up in the background while this process goes on (planning a
        run): the fork server's start and imports (~0.2 s) then overlap that work instead of
        delaying the first photo. Optional: the first task starts them otherwise."""
        import threading

        if self._pool is None and self._starting is None:
            self._starting = threading.Thread(target=self._spawn, name="pixelfes-pool-start",
                                              daemon=True)
            self._starting.start()

    def _spawn(self) -> None:
        try:
            pool = self._new_executor()
            for f in [pool.submit(os.getpid) for _ in range(self.workers)]:  # one per worker
                f.exception()
            self._pool = pool
        except Exception as exc:  # noqa: BLE001 - raised where the pool is first used
            self._start_error = exc

    def _executor(self) -> Any:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        error, self._start_error = self._start_error, None
        if error is not None:
            raise error
        if self._pool is None:
            self._pool = self._new_executor()
        return self._pool

    def _new_executor(self) -> Any:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        # workers fork from a fresh fork server, never from this process: a fork of a
        # process that has run OpenCV can inherit its thread pool in a state that deadlocks
        method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        ctx = mp.get_context(method)
        if method == "forkserver":
            # the server imports the photo path once (nothing runs: no thread pool yet), so
            # each worker forks with it loaded instead of importing it again (~0.3 s each)
            ctx.set_forkserver_preload(PRELOAD)
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                   initializer=one_thread_each)

    def imap_unordered(self, fn: Fn, job: Any, chunks: Sequence[C], on_fail: OnFail) -> Iterator[R]:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        left = list(range(len(chunks)))
        restarts = 0
        while left:
            pool = self._executor()
            queue = list(left)
            running: dict[Any, int] = {}
            broken = False
            while (queue or running) and not broken:
                while queue and len(running) < 4 * self.workers:
                    k = queue.pop(0)
                    running[pool.submit(fn, job, chunks[k])] = k
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    k = running.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    left.remove(k)
                    yield result
            if broken:
                self.close()
                restarts += 1
                if restarts > _POOL_RESTARTS:
                    for k in left:
                        yield on_fail(chunks[k], "a worker process died repeatedly")
                    return

    def close(self) -> None:
        """Stop the pool's processes."""
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        self._start_error = None  # a pool that never ran has nothing to report
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskRunner:
    """Chunks as tasks on a Dask cluster: ``address`` of a running scheduler, or ``"local"``.

    ``"local"`` starts a :class:`distributed.LocalCluster` of ``jobs`` single-threaded worker
    processes for this run. Dask reschedules the tasks of a worker that is lost; a task
    that keeps killing workers fails after Dask's ``allowed-failures`` and is reported
    through ``on_fail``. At most a few tasks per worker are queued at a time, so a work
    list of millions of files does not flood the scheduler.
    """

    def __init__(self, address: str, jobs: int | None = None) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ImportError("--dask needs Dask: pip install 'pixelfes[dask]'") from exc
        self.cluster = None
        if address == "local":
            import dask

            with dask.config.set({"distributed.nanny.pre-spawn-environ": local_worker_environ()}):
                self.cluster = LocalCluster(n_workers=check_jobs(jobs), threads_per_worker=1,
                                            processes=True, dashboard_address=":0")
            self.client = Client(self.cluster)
        else:
            self.client = Client(address)
        self.workers = max(1, sum(self.client.nthreads().values()))

    def imap_unordered(self, fn: Fn, job: Any, chunks: Sequence[C], on_fail: OnFail) -> Iterator[R]:
        from distributed import as_completed

        queue = list(range(len(chunks)))
        limit = max(8, 4 * self.workers)
        index: dict[Any, int] = {}

        def submit() -> Any:
            k = queue.pop(0)
            fut = self.client.submit(fn, job, chunks[k], pure=False)
            index[fut.key] = k
            return fut

        pending = as_completed([submit() for _ in range(min(limit, len(queue)))])
        for fut in pending:
            k = index.pop(fut.key)
            try:
                result = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost task is recorded, the run goes on
                result = on_fail(chunks[k], f"task failed on the cluster: {type(exc).__name__}: {exc}")
            fut.release()
            if queue:
                pending.add(submit())
            yield result

    def close(self) -> None:
        """Disconnect (and stop the local cluster, if this runner started one)."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


#: glibc settings for local Dask workers (see :func:`local_worker_environ`)
WORKER_MALLOC = {"MALLOC_TRIM_THRESHOLD_": 134217728, "MALLOC_MMAP_THRESHOLD_": 33554432}


def local_worker_environ() -> dict[str, object]:
    """Dask's environment for new worker processes, with photo-friendly glibc settings.

    Dask sets ``MALLOC_TRIM_THRESHOLD_`` to 64 KiB to give memory back sooner; any such
    setting also fixes glibc's mmap threshold at 128 KiB, so every photo-sized buffer is
    fresh ``mmap`` pages: synthesis took 34.7 instead of 20.5 CPU-ms per 400 px photo on
    this machine (benchmarks/bench_scale.py). A 128 MiB trim and a 32 MiB mmap threshold
    measured 21.1 ms. Both are set explicitly because a Dask nanny writes its settings into
    its parent's ``os.environ`` (so a later cluster would inherit 64 KiB); values the
    user's own environment sets still win. Workers started elsewhere need the same
    setting in their Dask configuration (README).
    """
    import dask

    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    env.update(WORKER_MALLOC)
    return env


def make_runner(jobs: int | None = None, dask: str | None = None, start: bool = False) -> Any:
    """The runner the options ask for: Dask if ``dask``, a pool if ``jobs > 1``, else here.

    ``start``: a pool's workers come up in the background at once (:meth:`PoolRunner.start`)."""
    if dask:
        return DaskRunner(dask, jobs)
    n = 1 if jobs is None else check_jobs(jobs)
    if n == 1:
        return InProcessRunner()
    pool = PoolRunner(n)
    if start:
        pool.start()
    return pool
