"""Process-wide settings of Polars' runtime, which must be made before Polars is loaded.

Polars' native library allocates with its own jemalloc (on Linux), which reads its options from
``_RJEM_MALLOC_CONF`` once, when the library loads.  By default jemalloc gives each thread an
arena of its own (up to four per core), and memory freed in one arena is reused only by
allocations in it.  A cohort shard is read on Polars' worker threads and graded mostly on the
calling thread, so the reader's freed memory (about 130 MB for a shard of 1.4 million events)
stayed resident beside the grading's: with one arena the grading reuses it, and a cohort worker
peaks about 25-45 MB lower for the same CPU (docs/decisions/0075).  The bedside
(the API server's threads) keeps the default: one arena made its calls slower by a few per cent.

Polars sizes its thread pool from ``POLARS_MAX_THREADS``, also once, when it loads: a cohort
process among ``workers`` gets its share of the cores (decision 0071), the calling process too,
which grades as one of the workers (decision 0077).

Nothing here imports Polars: the command line calls :func:`use_cohort_runtime` before the
cohort engine is imported, and the local engine passes the same settings to the worker
processes it spawns.
"""

from __future__ import annotations

import os
import sys

__all__ = [
    "ALLOCATOR_VARIABLE",
    "COHORT_ALLOCATOR",
    "THREADS_VARIABLE",
    "cohort_allocator_options",
    "cohort_settings",
    "polars_loaded",
    "threads_per_worker",
    "use_cohort_runtime",
]

#: The options of Polars' jemalloc (its symbols are prefixed ``_rjem_``).
ALLOCATOR_VARIABLE = "_RJEM_MALLOC_CONF"
#: One arena for every thread of a cohort worker.
COHORT_ALLOCATOR = "narenas:1"
#: Polars sizes its thread pool from this variable when it loads.
THREADS_VARIABLE = "POLARS_MAX_THREADS"


def polars_loaded() -> bool:
    """Whether Polars' native library is loaded in this process (its allocator is then set)."""
    return any(name == "polars" or name.startswith("_polars_runtime") for name in sys.modules)


def cohort_allocator_options(options: str | None) -> str:
    """``options`` with one arena added, unless they already choose the number of arenas.

    Polars itself sets the variable when it loads, putting its own decay options before any
    already there (``polars/__init__.py``; pola-rs/polars#18088, #21829): options are added
    to, never replaced.
    """
    if not options:
        return COHORT_ALLOCATOR
    if "narenas:" in options:
        return options
    return f"{options},{COHORT_ALLOCATOR}"


def threads_per_worker(workers: int) -> int:
    """Polars threads for each of ``workers`` processes: an equal share of this process's cores."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def cohort_settings(workers: int) -> dict[str, str]:
    """The variables a cohort process among ``workers`` is given, from this environment: the
    allocator options with one arena added, and with several workers its share of the cores
    for Polars' threads unless the user set a thread count."""
    settings = {ALLOCATOR_VARIABLE: cohort_allocator_options(os.getenv(ALLOCATOR_VARIABLE))}
    if workers > 1 and THREADS_VARIABLE not in os.environ:
        settings[THREADS_VARIABLE] = str(threads_per_worker(workers))
    return settings


def use_cohort_runtime(workers: int = 1) -> None:
    """Set up this process's Polars as a cohort worker's among ``workers``
    (:func:`cohort_settings`); nothing once Polars is loaded (its allocator and pool are then
    set up).  The processes this one starts inherit the settings."""
    if not polars_loaded():
        os.environ.update(cohort_settings(workers))
