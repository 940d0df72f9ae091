"""``--engine spark``: PySpark runs the same kernel and writes the same output as local.

One Spark session, and one test, so that pytest-xdist cannot spread the checks over two workers
that would each start a JVM (start-up is slow).  Without Java or PySpark the test skips on a
developer machine and fails on CI (``CI=true``), where both are installed by ``.ci/run``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from polars.testing import assert_frame_equal

from crswatch.cohort import TABLES, grade_cohort, read_cohort, spark_session
from crswatch.simulate import write_cohort

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    missing = [
        name
        for name, present in (
            ("pyspark", importlib.util.find_spec("pyspark") is not None),
            ("java", shutil.which("java") is not None),
        )
        if not present
    ]
    if missing:
        message = f"Spark tests need {' and '.join(missing)} (pip install 'crswatch[spark]')"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    session = spark_session(2)
    yield session
    session.stop()


def _assert_same(left: Path, right: Path) -> None:
    first, second = read_cohort(left), read_cohort(right)
    for name in TABLES:
        assert_frame_equal(
            first.table(name).collect(), second.table(name).collect(), check_exact=True
        )


def test_spark_equals_local(spark: Any, tmp_path: Path) -> None:
    _sharded_parquet(spark, tmp_path / "parquet")
    _json_pseudo_shards_and_resume(tmp_path / "json")


def _sharded_parquet(spark: Any, tmp_path: Path) -> None:
    tmp_path.mkdir()
    source = tmp_path / "sim"
    write_cohort(source, 9, seed=21, shard_size=3)
    local, on_spark = tmp_path / "local.parquet", tmp_path / "spark.parquet"
    grade_cohort(source, local)
    seen: list[int] = []
    summary = grade_cohort(
        source, on_spark, engine="spark", workers=2, on_shard=lambda o: seen.append(o.shard)
    )
    assert sorted(seen) == [0, 1, 2] and summary.patients == 9
    _assert_same(local, on_spark)
    manifest = json.loads((on_spark / "manifest.json").read_text())
    assert manifest["engine"] == "spark"
    # The counts come back from the workers in the `_report` row: the same as local ones.
    local_manifest = json.loads((local / "manifest.json").read_text())
    assert manifest["shards"] == local_manifest["shards"]
    assert all(entry["done"] and entry["patients"] == 3 for entry in manifest["shards"].values())
    assert spark.getActiveSession() is not None  # a caller's session is left running


def _json_pseudo_shards_and_resume(tmp_path: Path) -> None:
    tmp_path.mkdir()
    source = tmp_path / "cohort.json"
    write_cohort(source, 4, seed=5)
    local, on_spark = tmp_path / "local.parquet", tmp_path / "spark.parquet"
    grade_cohort(source, local, shard_size=2)
    first = grade_cohort(source, on_spark, shard_size=2, engine="spark")
    assert [o.patients for o in sorted(first.graded, key=lambda o: o.shard)] == [2, 2]
    _assert_same(local, on_spark)
    # Resuming with Spark skips the done shards, as locally.
    manifest = json.loads((on_spark / "manifest.json").read_text())
    manifest["shards"]["00001"] = {"done": False}
    (on_spark / "manifest.json").write_text(json.dumps(manifest))
    summary = grade_cohort(source, on_spark, shard_size=2, engine="spark")
    assert [o.shard for o in summary.graded] == [1] and summary.skipped == 1
    _assert_same(local, on_spark)
