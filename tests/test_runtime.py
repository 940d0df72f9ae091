"""Polars' allocator options for cohort grading, set before Polars loads (decision 0075)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crswatch._runtime import (
    ALLOCATOR_VARIABLE,
    COHORT_ALLOCATOR,
    cohort_allocator_options,
    polars_loaded,
    threads_per_worker,
    use_cohort_runtime,
)


def test_nothing_is_set_once_polars_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import polars  # noqa: F401  (loaded, as in every process that has graded something)

    monkeypatch.delenv(ALLOCATOR_VARIABLE, raising=False)
    assert polars_loaded()
    monkeypatch.delenv("POLARS_MAX_THREADS", raising=False)
    use_cohort_runtime(2)
    assert ALLOCATOR_VARIABLE not in os.environ
    assert "POLARS_MAX_THREADS" not in os.environ


def test_each_worker_gets_an_equal_share_of_the_cores() -> None:
    cores = len(os.sched_getaffinity(0))
    assert threads_per_worker(1) == cores
    assert threads_per_worker(2) == max(1, cores // 2)
    assert threads_per_worker(cores * 4) == 1
    assert threads_per_worker(0) == cores


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (None, "narenas:1"),
        ("", "narenas:1"),
        ("dirty_decay_ms:500", "dirty_decay_ms:500,narenas:1"),
        ("narenas:4", "narenas:4"),
        ("background_thread:true,narenas:2", "background_thread:true,narenas:2"),
    ],
)
def test_options_are_added_to_not_replaced(options: str | None, expected: str) -> None:
    assert cohort_allocator_options(options) == expected


def _run(code: str, tmp_path: Path, *args: str, **env: str) -> dict[str, object]:
    unset = (ALLOCATOR_VARIABLE, "POLARS_MAX_THREADS")
    environment = {k: v for k, v in os.environ.items() if k not in unset} | env
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


_COHORT_GRADE = """
import json, os, sys
from typer.testing import CliRunner
from crswatch.cli import app
before = "polars" in sys.modules
args = ["cohort", "grade", "no-such-cohort", "-o", "out.parquet", *sys.argv[1:]]
result = CliRunner().invoke(app, args)
import polars
print(json.dumps({"polars_before": before, "exit": result.exit_code,
                  "polars_after": "polars" in sys.modules,
                  "allocator": os.environ.get("_RJEM_MALLOC_CONF"),
                  "threads": polars.thread_pool_size()}))
"""


def test_cohort_grade_sets_the_options_before_the_engine_loads_polars(tmp_path: Path) -> None:
    assert ALLOCATOR_VARIABLE == "_RJEM_MALLOC_CONF"  # the name the child reads
    result = _run(_COHORT_GRADE, tmp_path)
    assert result["polars_before"] is False
    assert result["exit"] != 0  # no such cohort: the command ran up to reading it
    assert result["polars_after"] is True
    # Polars puts its own decay options first when it loads (polars/__init__.py).
    assert str(result["allocator"]).endswith("," + COHORT_ALLOCATOR)


def test_cohort_grade_keeps_the_users_options(tmp_path: Path) -> None:
    result = _run(_COHORT_GRADE, tmp_path, **{ALLOCATOR_VARIABLE: "narenas:2"})
    assert str(result["allocator"]).endswith(",narenas:2")
    assert COHORT_ALLOCATOR not in str(result["allocator"])


def test_cohort_grade_with_two_workers_gives_this_process_a_workers_threads(
    tmp_path: Path,
) -> None:
    """This process grades as one of the workers (decision 0077): its Polars pool is a share."""
    one = _run(_COHORT_GRADE, tmp_path)
    two = _run(_COHORT_GRADE, tmp_path, "--workers", "2")
    assert one["threads"] == len(os.sched_getaffinity(0))
    assert two["threads"] == threads_per_worker(2)
