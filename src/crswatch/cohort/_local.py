"""The local engine: shards one at a time, or in a pool of worker processes.

With ``workers > 1`` at most ``workers`` shards are in flight (submitted, not yet written), so
memory stays bounded by that many shards.  Workers write their own part files; only this process
writes the manifest, in the order shards finish.  Results do not depend on ``workers``: each shard
is graded by the same kernel from the same input, and part files are per shard.

Each worker gets an equal share of the cores for Polars' threads (decision 0071): one process
keeps about 1.3 cores busy with Polars' default pool of one thread per core, so workers with the
default pools compete for the same cores and two gained only 1.6x over one on two idle cores.
Workers also get one allocator arena (``crswatch._runtime``, decision 0075), as the command line
gives its own process before it loads the engine.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from crswatch._runtime import ALLOCATOR_VARIABLE, cohort_allocator_options
from crswatch.cohort._shard import ShardOutcome, grade_source
from crswatch.cohort._sources import ShardSource
from crswatch.state import StateParameters

__all__ = ["THREADS_VARIABLE", "run_local", "threads_per_worker"]

#: Polars sizes its thread pool from this variable when it is imported, so it is set for the
#: workers before they start; a value the user set is left as it is.
THREADS_VARIABLE = "POLARS_MAX_THREADS"


def run_local(
    sources: Iterable[ShardSource],
    out: Path,
    *,
    scales: Sequence[str] | None,
    params: StateParameters,
    workers: int,
    on_done: Callable[[ShardOutcome], None],
) -> None:
    """Grade every source; call ``on_done`` (in this process) as each shard is written."""
    if workers <= 1:
        for source in sources:
            on_done(grade_source(source, out, scales, params))
        return
    # Spawned, not forked: Polars runs a thread pool, and forking a threaded process can deadlock.
    context = multiprocessing.get_context("spawn")
    with (
        _worker_environment(threads_per_worker(workers)),
        ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool,
    ):
        pending: set[Future[ShardOutcome]] = set()
        try:
            for source in sources:
                if len(pending) >= workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        on_done(future.result())
                pending.add(pool.submit(grade_source, source, out, scales, params))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    on_done(future.result())
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def threads_per_worker(workers: int) -> int:
    """Polars threads for each of ``workers`` processes: an equal share of this process's cores."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


@contextmanager
def _worker_environment(threads: int) -> Iterator[None]:
    """``POLARS_MAX_THREADS`` and the cohort allocator's options (``crswatch._runtime``) set
    while the pool spawns its workers (they inherit them); the thread count the user set is
    kept, and allocator options are added to, not replaced.

    The pool starts a worker when a shard is submitted and no worker is idle, so the variables
    stay set for the whole pool; this process's own Polars was set up when it loaded and does
    not change.
    """
    before = {name: os.environ.get(name) for name in (THREADS_VARIABLE, ALLOCATOR_VARIABLE)}
    if before[THREADS_VARIABLE] is None:
        os.environ[THREADS_VARIABLE] = str(threads)
    os.environ[ALLOCATOR_VARIABLE] = cohort_allocator_options(before[ALLOCATOR_VARIABLE])
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
