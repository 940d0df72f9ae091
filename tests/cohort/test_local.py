"""The local engine's pool: each worker's Polars threads are its share of the cores (0071), and
its allocator has one arena (0075)."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crswatch._runtime import ALLOCATOR_VARIABLE, COHORT_ALLOCATOR
from crswatch.cohort import _local
from crswatch.cohort._local import THREADS_VARIABLE, _worker_environment, run_local
from crswatch.cohort._output import part_name
from crswatch.cohort._schema import TABLES
from crswatch.cohort._shard import ShardOutcome, grade_source
from crswatch.cohort._sources import ShardSource, plan_shards
from crswatch.simulate import write_cohort
from crswatch.state import StateParameters

#: Workers enough that each gets one Polars thread, on any machine.
_ONE_THREAD_EACH = 2 * len(os.sched_getaffinity(0))


def test_the_variables_are_set_for_the_pool_and_removed_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    monkeypatch.delenv(ALLOCATOR_VARIABLE, raising=False)
    with _worker_environment(_ONE_THREAD_EACH):
        assert os.environ[THREADS_VARIABLE] == "1"
        assert os.environ[ALLOCATOR_VARIABLE] == COHORT_ALLOCATOR == "narenas:1"
    assert THREADS_VARIABLE not in os.environ
    assert ALLOCATOR_VARIABLE not in os.environ


def test_values_the_user_set_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(THREADS_VARIABLE, "7")
    monkeypatch.setenv(ALLOCATOR_VARIABLE, "narenas:4")
    with _worker_environment(_ONE_THREAD_EACH):
        assert os.environ[THREADS_VARIABLE] == "7"
        assert os.environ[ALLOCATOR_VARIABLE] == "narenas:4"
    assert os.environ[THREADS_VARIABLE] == "7"
    assert os.environ[ALLOCATOR_VARIABLE] == "narenas:4"


def test_allocator_options_are_added_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """Polars puts its own decay options in the variable when it loads: they stay."""
    polars_own = "dirty_decay_ms:500,muzzy_decay_ms:1000"
    monkeypatch.setenv(ALLOCATOR_VARIABLE, polars_own)
    with _worker_environment(_ONE_THREAD_EACH):
        assert os.environ[ALLOCATOR_VARIABLE] == f"{polars_own},narenas:1"
    assert os.environ[ALLOCATOR_VARIABLE] == polars_own


def test_a_spawned_worker_sizes_its_polars_pool_from_the_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    context = multiprocessing.get_context("spawn")
    with (
        _worker_environment(_ONE_THREAD_EACH),
        ProcessPoolExecutor(max_workers=1, mp_context=context) as pool,
    ):
        assert pool.submit(pl.thread_pool_size).result() == 1


def test_a_spawned_worker_starts_with_the_allocator_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ALLOCATOR_VARIABLE, raising=False)
    context = multiprocessing.get_context("spawn")
    with (
        _worker_environment(_ONE_THREAD_EACH),
        ProcessPoolExecutor(max_workers=1, mp_context=context) as pool,
    ):
        options = pool.submit(os.getenv, ALLOCATOR_VARIABLE).result()
    # The worker's Polars put its decay options first when it loaded.
    assert options is not None and options.endswith(COHORT_ALLOCATOR)


def _sources(tmp_path: Path, patients: int, shard_size: int) -> list[ShardSource]:
    path = tmp_path / "sim"
    write_cohort(path, patients, seed=5, shard_size=shard_size)
    return plan_shards(path)


def _grade_and_sign(
    source: ShardSource, out: Path, scales: Any, params: StateParameters
) -> ShardOutcome:
    """``grade_source``, leaving the grading process's id beside the output (importable by the
    spawned worker, which runs it too)."""
    outcome = grade_source(source, out, scales, params)
    (out / f"graded-{source.shard}-by-{os.getpid()}").touch()
    return outcome


def test_this_process_grades_as_one_of_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decision 0077: the first shard goes to the spawned worker, which takes the better part of
    a second to start; this process grades the next ones meanwhile.  Every shard is graded
    once, and the outputs equal one process's."""
    sources = _sources(tmp_path, 12, 3)
    monkeypatch.setattr(_local, "grade_source", _grade_and_sign)
    done: list[int] = []
    params = StateParameters()
    two = tmp_path / "two"
    run_local(
        sources,
        two,
        scales=None,
        params=params,
        workers=2,
        on_done=lambda outcome: done.append(outcome.shard),
    )
    assert sorted(done) == [source.shard for source in sources]
    by = {int(p.name.split("-")[1]): int(p.name.split("-")[3]) for p in two.glob("graded-*")}
    assert sorted(by) == sorted(done)
    assert by[0] != os.getpid()  # the first shard: the spawned worker
    assert os.getpid() in by.values()  # and some here
    monkeypatch.setattr(_local, "grade_source", grade_source)
    run_local(
        sources,
        tmp_path / "one",
        scales=None,
        params=params,
        workers=1,
        on_done=lambda outcome: done.append(outcome.shard),
    )
    for table in TABLES:
        for source in sources:
            name = part_name(source.shard)
            assert_frame_equal(
                pl.read_parquet(two / table / name),
                pl.read_parquet(tmp_path / "one" / table / name),
            )


def test_a_single_shard_is_graded_here_without_a_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = _sources(tmp_path, 3, 3)
    assert len(sources) == 1

    def no_pool(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a pool was started for one shard")

    monkeypatch.setattr(_local, "ProcessPoolExecutor", no_pool)
    done: list[int] = []
    run_local(
        sources,
        tmp_path / "out",
        scales=None,
        params=StateParameters(),
        workers=2,
        on_done=lambda outcome: done.append(outcome.shard),
    )
    assert done == [0]


class _StopError(RuntimeError):
    pass


def test_an_error_while_writing_stops_the_pool_and_is_raised(tmp_path: Path) -> None:
    sources = _sources(tmp_path, 12, 3)
    seen: list[int] = []

    def fail_once_one_is_done(outcome: ShardOutcome) -> None:
        seen.append(outcome.shard)
        raise _StopError

    with pytest.raises(_StopError):
        run_local(
            sources,
            tmp_path / "out",
            scales=None,
            params=StateParameters(),
            workers=2,
            on_done=fail_once_one_is_done,
        )
    assert len(seen) == 1


def test_a_spawned_worker_imports_the_kernel_not_the_reports() -> None:
    """``crswatch.cohort`` loads its names on first use: unpickling ``grade_source`` in a
    spawned worker imports the kernel, its reader and writer, not the report, agreement,
    export, PD or Spark modules (decision 0077)."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys, crswatch.cohort._shard\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('crswatch.cohort.'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "crswatch.cohort._kernel" in loaded
    assert (
        not {
            "crswatch.cohort._agreement",
            "crswatch.cohort._export",
            "crswatch.cohort._pd",
            "crswatch.cohort._report",
            "crswatch.cohort._spark",
        }
        & loaded
    )
