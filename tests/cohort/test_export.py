"""Registry export on a hand-built graded cohort with known grades, dates and therapies."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from crswatch.cohort._export import (
    registry_fields,
    registry_rows,
    reporting_periods,
    write_registry_csv,
)
from crswatch.errors import InputError

T0 = datetime(2024, 3, 1, 10, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def traj(pid: str, kind: str, rows: list[tuple[float, str, int, int]]) -> list[dict[str, object]]:
    return [
        {
            "patient_id": pid,
            "at": at(h),
            "kind": kind,
            "scale": "astct2019",
            "grade": lo if status == "graded" else None,
            "status": status,
            "lower": lo,
            "upper": hi,
        }
        for h, status, lo, hi in rows
    ]


PATIENTS = pl.DataFrame({"patient_id": ["A", "B"], "therapy_start": [T0, T0]})
TRAJECTORY = pl.DataFrame(
    traj(
        "A",
        "crs",
        [
            (-10, "graded", 0, 0),
            (30, "graded", 2, 2),
            (80, "graded", 0, 0),
            (480, "not_assessable", 0, 4),
        ],
    )
    + traj(
        "A",
        "icans",
        [
            (-10, "not_assessable", 0, 4),
            (5, "graded", 0, 0),
            (100, "graded", 1, 1),
            (150, "graded", 0, 0),
            (130 * 24, "not_assessable", 0, 4),
        ],
    )
    + traj(
        "B",
        "crs",
        [
            (0, "graded", 0, 0),
            (20, "ambiguous", 1, 2),
            (60, "graded", 0, 0),
            (400, "not_assessable", 0, 4),
        ],
    )
    + traj("B", "icans", [(2, "graded", 0, 0), (400, "not_assessable", 0, 4)])
    # a lee2014 row must not leak into the ASTCT columns
    + [
        {
            "patient_id": "B",
            "at": at(30),
            "kind": "crs",
            "scale": "lee2014",
            "grade": 4,
            "status": "graded",
            "lower": 4,
            "upper": 4,
        }
    ]
)
EPISODES = pl.DataFrame(
    {
        "patient_id": ["A", "A", "B"],
        "kind": ["crs", "icans", "crs"],
        "scale": ["astct2019"] * 3,
        "episode": [1, 1, 1],
        "onset": [at(30), at(100), at(20)],
        "peak_grade": [2, 1, 1],
        "peak_upper": [2, 1, 2],
        "resolution": [at(80), at(150), at(60)],
        "duration_hours": [50.0, 50.0, 40.0],
    }
)
TREATMENTS = pl.DataFrame(
    {
        "patient_id": ["A", "A", "B", "B"],
        "time": [at(35), at(40), at(25), at(3000)],
        "category": ["anti_cytokine", "corticosteroid", "vasopressor", "anti_cytokine"],
        "item": ["tocilizumab", "dexamethasone", "norepinephrine", "anakinra"],
        # the contract's infusion end: must not be confused with a period's end
        "end": [None, None, at(30), None],
    },
    schema_overrides={"end": pl.Datetime("us", "UTC")},
)


def export(format: str) -> dict[tuple[str, str], dict[str, str]]:
    frame = registry_rows(PATIENTS, TRAJECTORY, EPISODES, TREATMENTS, format=format)
    key = "crid" if format == "cibmtr" else "patient_id"
    period = "reporting_period" if format == "cibmtr" else "follow_up"
    return {(row[key], row[period]): row for row in frame.iter_rows(named=True)}


def test_columns_and_periods_follow_the_mapping_files() -> None:
    frame = registry_rows(PATIENTS, TRAJECTORY, EPISODES, TREATMENTS, format="cibmtr")
    assert frame.columns == [f.column for f in registry_fields("cibmtr")]
    assert {
        "crs",
        "crs_date_of_diagnosis",
        "crs_maximum_grade",
        "crs_grading_system",
        "crs_date_resolved",
        "crs_therapy_tocilizumab",
        "icans_maximum_grade",
    } <= set(frame.columns)
    assert [p.period for p in reporting_periods("cibmtr")] == ["100d", "6m", "1y"]
    assert frame.height == 2 * 3
    assert all(f.source for f in registry_fields("cibmtr") + registry_fields("ebmt"))


def test_cibmtr_grades_dates_and_therapies() -> None:
    rows = export("cibmtr")
    a = rows[("A", "100d")]
    assert (a["crs"], a["crs_maximum_grade"], a["crs_grade_bounds"]) == ("yes", "2", "2")
    assert a["crs_date_of_diagnosis"] == "2024-03-02"  # 30 h after 2024-03-01 10:00
    assert a["crs_date_resolved"] == "2024-03-04"  # 80 h
    assert a["crs_date_previously_reported"] == "no"
    assert a["crs_grading_system"] == "ASTCT 2019"
    assert (a["crs_therapy_tocilizumab"], a["crs_therapy_corticosteroids"]) == ("yes", "yes")
    assert (a["crs_therapy_other_anticytokine"], a["vasopressors"]) == ("no", "no")
    assert (a["icans"], a["icans_maximum_grade"]) == ("yes", "1")
    assert a["period_start"] == "2024-03-01" and a["period_end"] == "2024-06-09"
    # ICANS stayed graded 0 until day 130: the 6-month period is assessed and clean.
    six = rows[("A", "6m")]
    assert (six["icans"], six["icans_maximum_grade"]) == ("no", "0")
    # CRS monitoring ended at 480 h: nothing is known after it — unknown, never 0.
    assert (six["crs"], six["crs_maximum_grade"]) == ("unknown", "unknown")
    # A period without data says unknown for every item, the therapies as the grades (issue
    # 19, point 10); a period with an assessment but no treatment says no.
    year = rows[("A", "1y")]
    therapies = ("crs_therapy_tocilizumab", "crs_therapy_corticosteroids", "vasopressors")
    assert [year[c] for c in ("crs", "icans", *therapies)] == ["unknown"] * 5
    assert [six[c] for c in therapies] == ["no"] * 3


def test_an_ambiguous_peak_is_unknown_with_its_bounds() -> None:
    b = export("cibmtr")[("B", "100d")]
    assert (b["crs"], b["crs_maximum_grade"], b["crs_grade_bounds"]) == ("yes", "unknown", "1-2")
    assert b["vasopressors"] == "yes"
    assert b["crs_therapy_other_anticytokine"] == "no"  # anakinra came on day 125
    assert export("cibmtr")[("B", "6m")]["crs_therapy_other_anticytokine"] == "yes"
    assert (b["icans"], b["icans_maximum_grade"]) == ("no", "0")


def test_ebmt_has_its_own_columns_and_the_same_values() -> None:
    b = export("ebmt")[("B", "day100")]
    assert b["crs_maximum_grade_astct"] == "unknown"
    assert b["crs_present"] == "yes" and b["icu_vasopressors"] == "yes"


def test_csv_header_names_the_form_and_the_caveat(tmp_path: Path) -> None:
    frame = registry_rows(PATIENTS, TRAJECTORY, EPISODES, TREATMENTS, format="cibmtr")
    path = write_registry_csv(frame, tmp_path / "out.csv", format="cibmtr")
    lines = path.read_text("utf-8").splitlines()
    comments = [line for line in lines if line.startswith("#")]
    assert any("F4100" in line for line in comments)
    assert any("NOT an official submission" in line for line in comments)
    # Every column is described in the file itself, in words: no file of the program is named.
    described = {line.split(":")[0].strip("# ") for line in comments if line.startswith("#   ")}
    assert described == set(frame.columns)
    assert not any(mark in line for line in comments for mark in (".csv", ".py", "docs/"))
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    assert len(rows) == 6 and rows[0]["crid"] == "A"


def test_unknown_format_names_the_value() -> None:
    with pytest.raises(InputError, match="format='omop'"):
        registry_rows(PATIENTS, TRAJECTORY, EPISODES, TREATMENTS, format="omop")
