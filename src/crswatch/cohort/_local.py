"""The local engine: shards one at a time, or in a pool of worker processes.

With ``workers > 1`` at most ``workers`` shards are in flight (submitted, not yet written), so
memory stays bounded by that many shards.  Workers write their own part files; only this process
writes the manifest, in the order shards finish.  Results do not depend on ``workers``: each shard
is graded by the same kernel from the same input, and part files are per shard.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

from crswatch.cohort._shard import ShardOutcome, grade_source
from crswatch.cohort._sources import ShardSource
from crswatch.state import StateParameters

__all__ = ["run_local"]


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
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
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
