"""PD summaries on hand-built labs and dose events with known medians, IQRs and steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from crswatch.cohort._pd import (
    CYTOKINES,
    cmax_by_regimen,
    cmax_per_dose_step,
    dose_steps,
    nominal_summary,
)

T0 = datetime(2024, 3, 1, 10, tzinfo=UTC)


def labs_of(rows: list[tuple[str, float, str, float]], **extra: list[object]) -> pl.DataFrame:
    """Rows of (patient, hours from start, item, value)."""
    frame = pl.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "time": [T0 + timedelta(hours=r[1]) for r in rows],
            "hours_from_start": [float(r[1]) for r in rows],
            "item": [r[2] for r in rows],
            "value": [float(r[3]) for r in rows],
            "unit": ["U/L"] * len(rows),
        }
    )
    return frame.with_columns(pl.Series(k, v) for k, v in extra.items())


PATIENTS = pl.DataFrame(
    {
        "patient_id": ["A", "B", "C", "D"],
        "therapy_start": [T0] * 4,
        "regimen": ["step", "step", "flat", None],
        "response": [None, None, None, None],
    },
    schema_overrides={"response": pl.String},
)


def test_median_and_iqr_at_nominal_points() -> None:
    labs = labs_of(
        [
            ("A", -2, "alt", 20),
            ("B", -1, "alt", 30),
            ("C", -3, "alt", 40),
            ("D", -30, "alt", 99),  # 30 h before the start: outside the baseline window
            ("A", 23, "alt", 50),
            ("A", 25, "alt", 51),  # A's second sample near day 2: the nearer (23 h) wins
            ("B", 30, "alt", 70),
            ("C", 20, "alt", 90),
            ("D", 24, "alt", 110),
        ]
    )
    table = nominal_summary(labs, PATIENTS, ["alt"])
    baseline = table.filter(pl.col("point") == "D1 (baseline)").row(0, named=True)
    assert (baseline["n"], baseline["median"], baseline["q1"], baseline["q3"]) == (3, 30, 25, 35)
    day2 = table.filter(pl.col("point") == "D2").row(0, named=True)
    # values 50, 70, 90, 110 -> median 80, Q1 65, Q3 95 (linear interpolation)
    assert (day2["n"], day2["median"], day2["q1"], day2["q3"]) == (4, 80, 65, 95)
    day8 = table.filter(pl.col("point") == "D8").row(0, named=True)
    assert day8["n"] == 0 and day8["median"] is None


def test_times_uln_uses_the_record_range_else_the_seed_004_default() -> None:
    labs = labs_of(
        [("A", 24, "alt", 70), ("B", 24, "alt", 70), ("C", 24, "crp", 50)],
        ref_high=[70.0, None, None],
    )
    table = nominal_summary(labs, PATIENTS, ["alt", "crp"], relative_to_uln=True)
    alt = table.filter((pl.col("item") == "alt") & (pl.col("point") == "D2")).row(0, named=True)
    # A: 70 / 70 = 1.0 (record); B: 70 / 35 = 2.0 (seed 004 ALT 0-35 U/L)
    assert (alt["min"], alt["max"], alt["uln_from_record"]) == (1.0, 2.0, 1)
    crp = table.filter((pl.col("item") == "crp") & (pl.col("point") == "D2")).row(0, named=True)
    assert crp["median"] == 5.0  # 50 mg/L over 10 mg/L (< 1.0 mg/dL)


def test_stratified_by_response_reports_not_given() -> None:
    labs = labs_of([("A", 0, "alt", 20)])
    patients = PATIENTS.with_columns(response=pl.Series(["CR", "NR", None, None]))
    table = nominal_summary(labs, patients, ["alt"], stratify_by="response")
    assert set(table["stratum"]) == {"CR"}


def treatments_of(rows: list[tuple[str, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "time": [T0 + timedelta(hours=r[1]) for r in rows],
            "category": ["t_cell_engager"] * len(rows),
            "item": ["blinatumomab"] * len(rows),
            "value": [r[2] for r in rows],
            "unit": ["ug/d"] * len(rows),
        }
    )


def test_dose_steps_and_interruption() -> None:
    doses = treatments_of(
        [("A", 0, 9), ("A", 168, 28), ("A", 200, 0), ("A", 210, 28), ("B", 0, 28)]
    )
    steps = dose_steps(doses)
    assert steps.filter(pl.col("patient_id") == "A")["step"].to_list() == [1, 2, None, 2]
    assert steps.filter(pl.col("patient_id") == "B")["step"].to_list() == [1]


def test_cmax_per_dose_step_and_below_lod() -> None:
    doses = treatments_of([("A", 0, 9), ("A", 168, 28), ("B", 0, 9), ("B", 168, 28)])
    labs = labs_of(
        [
            ("A", -1, "il6", 500),  # before the first dose: no step
            ("A", 6, "il6", 100),
            ("A", 24, "il6", 300),
            ("A", 170, "il6", 40),
            ("B", 48, "il6", 200),
            ("B", 174, "il6", 20),  # below the LOD of 20 -> 10 (seed 004: LOD/2)
        ],
        censored=[None, None, None, None, None, "below_lod"],
    )
    table = cmax_per_dose_step(labs, doses)
    step1 = table.filter(pl.col("step") == 1).row(0, named=True)
    assert (step1["n"], step1["median"], step1["mean"], step1["dose"]) == (2, 250, 250, 9)
    step2 = table.filter(pl.col("step") == 2).row(0, named=True)
    assert (step2["min"], step2["max"]) == (10, 40)
    assert "il6" in CYTOKINES


def test_cmax_by_regimen_first_week() -> None:
    labs = labs_of(
        [
            ("A", 24, "il6", 100),
            ("B", 30, "il6", 300),
            ("A", 200, "il6", 9000),  # after week 1
            ("C", 10, "il6", 1000),
            ("D", 10, "il6", 5),  # no regimen
        ]
    )
    table = cmax_by_regimen(labs, PATIENTS, ["il6"])
    rows = {r["regimen"]: r for r in table.iter_rows(named=True)}
    assert rows["step"]["median"] == pytest.approx(200.0)
    assert rows["flat"]["median"] == 1000
    assert set(rows) == {"step", "flat"}
