"""The local engine: shards one at a time, or in a pool of worker processes.

With ``workers > 1`` at most ``workers`` shards are in flight (submitted, not yet written), so
memory stays bounded by that many shards.  Workers write their own part files; only this process
writes the manifest, in the order shards finish.  Results do not depend on ``workers``: each shard
is graded by the same kernel from the same input, and part files are per shard.

Each worker gets an equal share of the cores for Polars' threads (decision 0071): one process
keeps about 1.3 cores busy with Polars' default pool of one thread per core, so workers with the
default pools compete for the same cores and two gained only 1.6x over one on two idle cores.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

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
        _worker_threads(threads_per_worker(workers)),
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
def _worker_threads(threads: int) -> Iterator[None]:
    """``POLARS_MAX_THREADS`` set while the pool spawns its workers (they inherit it).

    The pool starts a worker when a shard is submitted and no worker is idle, so the variable
    stays set for the whole pool; this process's own Polars pool was sized when it imported
    Polars and does not change.
    """
    if THREADS_VARIABLE in os.environ:
        yield
        return
    os.environ[THREADS_VARIABLE] = str(threads)
    try:
        yield
    finally:
        os.environ.pop(THREADS_VARIABLE, None)
