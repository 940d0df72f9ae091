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
    use_cohort_allocator,
)


def test_nothing_is_set_once_polars_is_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import polars  # noqa: F401  (loaded, as in every process that has graded something)

    monkeypatch.delenv(ALLOCATOR_VARIABLE, raising=False)
    assert polars_loaded()
    use_cohort_allocator()
    assert ALLOCATOR_VARIABLE not in os.environ


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


def _run(code: str, tmp_path: Path, **env: str) -> dict[str, object]:
    environment = {k: v for k, v in os.environ.items() if k != ALLOCATOR_VARIABLE} | env
    done = subprocess.run(
        [sys.executable, "-c", code],
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
result = CliRunner().invoke(app, ["cohort", "grade", "no-such-cohort", "-o", "out.parquet"])
print(json.dumps({"polars_before": before, "exit": result.exit_code,
                  "polars_after": "polars" in sys.modules,
                  "allocator": os.environ.get("_RJEM_MALLOC_CONF")}))
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
