"""The benchmark's DuckDB ASTCT reference grades exactly as crswatch does (and the pandas loop too).

The reference (``bench/duckdb_astct.sql``) is only a credible yardstick for ``cohort grade`` if
it computes the same thing: on simulated cohorts and on hand-made edge cases, every evaluation
time it grades must be one of ours, with the same status and bounds (``lower``, ``upper``; the
grade is ``lower`` when they meet).  docs/decisions/0021-benchmarks.md.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest

from crswatch.episodes import trajectory_of_frames
from crswatch.io import find_table_pairs, read_table_frames, write_tables
from crswatch.simulate import write_cohort
from crswatch.state import StateParameters
from tests.builders import ev, timeline

BENCH = Path(__file__).resolve().parents[2] / "bench"
COMPARED = ["patient_id", "at", "grade", "status", "lower", "upper"]
#: The references implement the ASTCT fever waiver after anticytokine therapy or steroids, held
#: for the rest of the record (no episode resolution): crswatch's named options for that reading
#: (decision 0026); the statuses, cause-other rule and interpretation 8 are the default ones.
REFERENCE_PARAMETERS = StateParameters(
    fever_waiver="anticytokine_or_steroid", crs_resolution_window=None
)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


duckdb_astct = _load("_duckdb_astct")
pandas_astct = _load("_pandas_astct")


def _ours(root: Path) -> pl.DataFrame:
    """crswatch's ASTCT 2019 CRS grade at every one of its evaluation times."""
    frames = []
    for pair in find_table_pairs(root):
        result = read_table_frames(pair)
        assert result.report.ok
        frames.append(
            trajectory_of_frames(
                result.patients,
                result.events,
                scales=["astct2019"],
                changes_only=False,
                params=REFERENCE_PARAMETERS,
            ).filter(pl.col("kind") == "crs")
        )
    return pl.concat(frames).select(COMPARED)


def _reference(root: Path) -> pl.DataFrame:
    grades, _ = duckdb_astct.grade_astct(
        duckdb_astct.tables(root, "events"), duckdb_astct.tables(root, "patients")
    )
    return grades.select(COMPARED)


def _assert_same(reference: pl.DataFrame, ours: pl.DataFrame) -> None:
    joined = reference.join(ours, on=["patient_id", "at"], how="left", suffix="_ours")
    assert joined.filter(pl.col("status_ours").is_null()).height == 0, "times we never graded"
    differing = joined.filter(
        pl.any_horizontal(
            pl.col(column).ne_missing(pl.col(f"{column}_ours"))
            for column in ("grade", "status", "lower", "upper")
        )
    )
    assert differing.height == 0, differing.head(20)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench") / "cohort"
    write_cohort(root, 20, seed=11, shard_size=10)
    return root


def test_reference_equals_ours_on_a_simulated_cohort(simulated: Path) -> None:
    reference, ours = _reference(simulated), _ours(simulated)
    _assert_same(reference, ours)
    # Not vacuous: every patient, most rows, and grades 0 to 4 and an undecided stretch.
    assert reference["patient_id"].n_unique() == 20
    assert reference.height > 0.8 * ours.height
    assert set(reference["lower"]) >= {0, 1, 2, 3}
    assert set(reference["status"]) - {"graded"}, "an undecided stretch"


def test_reference_equals_ours_at_five_minute_vital_signs(tmp_path: Path) -> None:
    root = tmp_path / "cohort"
    write_cohort(root, 2, seed=11, shard_size=2, vitals_every=timedelta(minutes=5))
    reference = _reference(root)
    assert reference.height > 5000
    _assert_same(reference, _ours(root))


def _edge_cases() -> list[Any]:
    adult = [
        ev(2, "temperature", 37.0, "Cel"),
        ev(10, "temperature", 38.0, "Cel"),  # exactly the threshold: fever, CRS onset
        ev(11, "temperature", 39.5, "Cel", cause="other"),  # not attributable: ignored
        ev(12, "sbp", 89, "mm[Hg]"),  # < 90: hypotension (2)
        ev(13, "norepinephrine", 5, "ug/min", end_hours=20),  # a vasopressor (3)
        ev(14, "vasopressin", 0.03, "U/min"),  # vasopressin never makes it "multiple"
        ev(16, "phenylephrine", 50, "ug/min"),  # two non-vasopressin pressors (4)
        ev(17, "phenylephrine", 0, "ug/min"),  # a rate of 0 stops it
        ev(18, "tocilizumab", 560, "mg"),  # after onset: fever no longer required
        ev(20, "o2_device", "nasal_cannula"),  # no flow: at least 2, perhaps 3
        ev(21, "vasopressin", 0, "U/min"),
        ev(22, "o2_flow", 8, "L/min"),  # > 6 L/min: high flow (3)
        ev(25, "o2_device", "cpap"),  # positive pressure (4)
        ev(30, "o2_device", "room_air"),
        ev(34, "temperature", 37.0, "Cel"),
        ev(36, "sbp", 120, "mm[Hg]"),  # the SBP of hour 12 is still in [T - 24 h, T]
    ]
    child = [
        ev(1, "dexamethasone", 4, "mg"),  # premedication before onset: no waiver
        ev(5, "temperature", 38.5, "Cel"),
        ev(6, "sbp", 79, "mm[Hg]"),  # age 5: < 70 + 2 x 5
        ev(7, "o2_device", "high_flow_nasal_cannula"),  # no flow recorded: high flow (3)
        ev(8, "o2_flow", 4, "L/min"),  # <= 6 L/min: low flow (2)
        ev(9, "o2_device", "blow_by"),  # the earlier flow is stale
        ev(31, "death", True),  # after onset, no other cause: grade 5
    ]
    unknown_fever = [
        ev(5, "o2_device", "face_mask"),  # no temperature at all: 0 to 3
        ev(6, "sbp", 83, "mm[Hg]"),  # born 2016: age 7, threshold 84
        ev(7, "death", True, cause="other"),
    ]
    return [
        timeline(adult, "E1"),
        timeline(child, "E2", age_years=5),
        timeline(unknown_fever, "E3", age_years=None, birth_date="2016-06-01"),
    ]


def test_reference_equals_ours_on_edge_cases(tmp_path: Path) -> None:
    write_tables(_edge_cases(), tmp_path / "edge", suffix=".parquet")
    reference = _reference(tmp_path / "edge")
    _assert_same(reference, _ours(tmp_path / "edge"))
    peaks = dict(reference.group_by("patient_id").agg(pl.col("lower").max()).iter_rows())
    assert peaks == {"E1": 4, "E2": 5, "E3": 0}
    assert reference.filter(pl.col("patient_id") == "E3")["upper"].max() == 3


def test_pandas_loop_equals_the_reference(simulated: Path) -> None:
    looped, events = pandas_astct.grade_cohort(simulated, 4)
    assert events > 0
    got = pl.from_pandas(looped).with_columns(
        pl.col("at").cast(pl.Datetime("us", "UTC")),
        pl.col("grade", "lower", "upper").cast(pl.Int32),
    )
    reference = _reference(simulated).filter(
        pl.col("patient_id").is_in(got["patient_id"].unique().implode())
    )
    assert got.height == reference.height
    _assert_same(got.select(COMPARED), reference)
