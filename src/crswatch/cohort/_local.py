"""The local engine: shards one at a time, or in a pool of worker processes.

With ``workers > 1`` at most ``workers`` shards are in flight (one in this process, the others
in spawned workers), so memory stays bounded by that many shards.  Workers write their own part
files; only this process writes the manifest, in the order shards finish.  Results do not depend
on ``workers``: each shard is graded by the same kernel from the same input, and part files are
per shard.

Each worker gets an equal share of the cores for Polars' threads (decision 0071): one process
keeps about 1.3 cores busy with Polars' default pool of one thread per core, so workers with the
default pools compete for the same cores and two gained only 1.6x over one on two idle cores.
Workers also get one allocator arena (``crswatch._runtime``, decision 0075).  The calling process
is one of the workers (decision 0077): it has the engine loaded, and the command line sets up its
Polars as a worker's before loading it.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from contextlib import contextmanager
from pathlib import Path

from crswatch._runtime import THREADS_VARIABLE, cohort_settings, threads_per_worker
from crswatch.cohort._shard import ShardOutcome, grade_source
from crswatch.cohort._sources import ShardSource
from crswatch.state import StateParameters

__all__ = ["THREADS_VARIABLE", "run_local", "threads_per_worker"]


def run_local(
    sources: Iterable[ShardSource],
    out: Path,
    *,
    scales: Sequence[str] | None,
    params: StateParameters,
    workers: int,
    on_done: Callable[[ShardOutcome], None],
) -> None:
    """Grade every source; call ``on_done`` (in this process) as each shard is written.

    With ``workers > 1`` this process is one of the workers, on a thread of its own, and
    ``workers - 1`` are spawned (decision 0077): a spawned worker spends its first ~0.7 s of
    CPU importing Polars and the engine, which this process has done already, so this process
    grades while they start.  The first shards go to the spawned workers; from then on each
    shard goes to whichever worker is free first, and this thread only hands them out and
    writes the manifest.
    """
    sources = list(sources)
    workers = min(workers, len(sources))
    if workers <= 1:
        for source in sources:
            on_done(grade_source(source, out, scales, params))
        return
    # Spawned, not forked: Polars runs a thread pool, and forking a threaded process can deadlock.
    context = multiprocessing.get_context("spawn")
    queue = iter(sources)
    running: dict[Future[ShardOutcome], Executor] = {}

    def hand_out(executor: Executor) -> None:
        source = next(queue, None)
        if source is not None:
            running[executor.submit(grade_source, source, out, scales, params)] = executor

    with (
        _worker_environment(workers),
        ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as spawned,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="crswatch-shard") as here,
    ):
        try:
            for _ in range(workers - 1):
                hand_out(spawned)
            hand_out(here)
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    executor = running.pop(future)
                    on_done(future.result())
                    hand_out(executor)
        except BaseException:
            for future in running:
                future.cancel()
            raise


@contextmanager
def _worker_environment(workers: int) -> Iterator[None]:
    """The cohort settings (``crswatch._runtime.cohort_settings``: Polars' threads and the
    allocator's options) set while the pool spawns its workers (they inherit them), and the
    environment put back after.

    The pool starts a worker when a shard is submitted and no worker is idle, so the variables
    stay set for the whole pool; this process's own Polars was set up when it loaded and does
    not change.
    """
    settings = cohort_settings(workers)
    before = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
