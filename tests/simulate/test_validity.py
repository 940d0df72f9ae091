"""Validity: generated cohorts read back with zero issues, in canonical units within bounds."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from crswatch.io import read_path
from crswatch.simulate import iter_cohort, simulate_patient, write_cohort
from crswatch.timeline import vocabulary
from tests.simulate.conftest import Cohort


def test_json_cohort_reads_back_without_issues(tmp_path: Path) -> None:
    path = tmp_path / "cohort.json"
    manifest = write_cohort(path, 25, seed=4)
    assert manifest.output == "json"
    document = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(document, list) and len(document) == 25
    result = read_path(path)
    assert result.report.issues == []
    assert result.report.warnings == []
    assert result.report.events_accepted == manifest.n_events
    assert result.timelines == list(iter_cohort(25, seed=4))


def test_parquet_shards_read_back_without_issues_and_equal_the_timelines(tmp_path: Path) -> None:
    manifest = write_cohort(tmp_path / "cohort", 30, seed=4, shard_size=8)
    result = read_path(tmp_path / "cohort")
    assert result.report.issues == []
    assert result.report.events_accepted == manifest.n_events
    # The columnar shard writer and the Timeline path give the same patients, event for event.
    assert result.timelines == list(iter_cohort(30, seed=4))


@pytest.mark.parametrize(
    "interval", [timedelta(minutes=30), timedelta(hours=1), timedelta(hours=12)]
)
def test_other_vital_sign_intervals_stay_valid(tmp_path: Path, interval: timedelta) -> None:
    write_cohort(tmp_path / "cohort", 12, seed=12, vitals_every=interval, shard_size=5)
    assert read_path(tmp_path / "cohort").report.issues == []


@pytest.mark.parametrize("name", ["car_t_cohort", "blinatumomab_cohort"])
def test_every_event_is_in_the_vocabulary_in_canonical_units_within_bounds(
    name: str, request: pytest.FixtureRequest
) -> None:
    cohort: Cohort = request.getfixturevalue(name)
    events = cohort.events
    specs = vocabulary()
    assert set(events["item"].unique()) <= set(specs)
    units = events.group_by("item").agg(pl.col("unit").unique()).rows()
    for item, found in units:
        spec = specs[item]
        if spec.kind == "quantity":
            assert found == [spec.unit], item
        elif spec.kind != "any":
            assert found == [None], item
    numbers = events.filter(pl.col("number").is_not_null())
    bounds = numbers.group_by("item").agg(
        pl.col("number").min().alias("low"), pl.col("number").max().alias("high")
    )
    for item, low, high in bounds.rows():
        spec = specs[item]
        if spec.low is not None and spec.high is not None:
            assert spec.low <= low and high <= spec.high, (item, low, high)
    codes = events.filter(pl.col("number").is_null())
    for item, values in codes.group_by("item").agg(pl.col("value").unique()).rows():
        spec = specs[item]
        allowed = set(spec.values) if spec.kind == "code" else {"true", "false", "not_assessed"}
        assert set(values) <= allowed, item


@pytest.mark.parametrize("name", ["car_t_cohort", "blinatumomab_cohort"])
def test_no_two_events_share_item_and_time_and_ends_follow_starts(
    name: str, request: pytest.FixtureRequest
) -> None:
    cohort: Cohort = request.getfixturevalue(name)
    events = cohort.events
    assert events.select("patient_id", "item", "time").is_duplicated().sum() == 0
    assert events["time"].dtype == pl.Datetime("us", "UTC")
    ends = events.filter(pl.col("end").is_not_null())
    assert ends.height > 0
    assert (ends["end"] >= ends["time"]).all()
    # Events of a patient are sorted by time, as the cohort engine expects.
    assert (
        events.group_by("patient_id", maintain_order=True)
        .agg(pl.col("time").is_sorted())["time"]
        .all()
    )


def test_patient_records_are_consistent(car_t_cohort: Cohort, blinatumomab_cohort: Cohort) -> None:
    patients = pl.concat([car_t_cohort.patients, blinatumomab_cohort.patients])
    assert patients["id"].is_unique().all()
    children = patients.filter(pl.col("age_years") < 18)
    adults = patients.filter(pl.col("age_years") >= 18)
    assert 0.05 < children.height / patients.height < 0.25
    assert adults["age_years"].max() <= 85
    # Body size follows age: children are smaller, and the BMI stays human.
    assert children["weight_kg"].median() < adults["weight_kg"].median() / 1.5
    bmi = patients["weight_kg"] / (patients["height_cm"] / 100) ** 2
    assert bmi.min() > 10 and bmi.max() < 50
    assert set(patients["sex"].unique()) == {"female", "male"}
    assert 0.05 < patients["high_risk"].mean() < 0.5  # type: ignore[operator]


def test_simulate_patient_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="seed=-1"):
        simulate_patient(0, seed=-1)
    with pytest.raises(ValueError, match="therapy='cart'"):
        simulate_patient(0, seed=1, therapy="cart")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="vitals_every"):
        simulate_patient(0, seed=1, vitals_every=timedelta(seconds=10))
    with pytest.raises(ValueError, match="index=-2"):
        simulate_patient(-2, seed=1)
    with pytest.raises(ValueError, match="n=0"):
        next(iter_cohort(0, seed=1))
