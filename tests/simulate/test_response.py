"""The simulated best response: drawn apart from the course, deterministic, sourced rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from crswatch.simulate import demo_ward, iter_cohort, simulate_patient
from crswatch.simulate._patient import simulate_record
from crswatch.simulate._response import ASSESSMENT_HOURS
from crswatch.simulate._ward import _known_response
from crswatch.timeline import RESPONSES, is_responder
from tests.simulate.conftest import Cohort


def _responses(cohort: Cohort) -> pl.DataFrame:
    return cohort.patients.join(
        cohort.truth.select(pl.col("patient_id").alias("id"), "died", "regimen"), on="id"
    )


def test_the_response_is_deterministic_and_independent_of_the_vital_sign_interval() -> None:
    first = [simulate_patient(i, seed=9).patient for i in range(12)]
    again = [simulate_patient(i, seed=9).patient for i in range(12)]
    hourly = [
        simulate_patient(i, seed=9, vitals_every=timedelta(hours=1)).patient for i in range(12)
    ]
    assert first == again == hourly
    assert all(patient.response in RESPONSES for patient in first)
    assert [p.response for p in first] != [
        p.response for p in (simulate_patient(i, seed=10).patient for i in range(12))
    ]


def test_iter_cohort_and_the_parquet_shards_carry_the_same_response(car_t_cohort: Cohort) -> None:
    timelines = list(iter_cohort(30, seed=2024, therapy="car_t"))
    shards = car_t_cohort.patients.head(30)
    assert shards["response"].to_list() == [t.patient.response for t in timelines]
    assert shards["response_date"].to_list() == [
        None if t.patient.response_date is None else t.patient.response_date.isoformat()
        for t in timelines
    ]


def test_assessed_on_day_28_unless_dead_before_it(
    car_t_cohort: Cohort, blinatumomab_cohort: Cohort
) -> None:
    for cohort in (car_t_cohort, blinatumomab_cohort):
        frame = _responses(cohort)
        assessed = frame.filter(pl.col("response") != "not_evaluable")
        expected = (
            (assessed["therapy_start"] + timedelta(hours=ASSESSMENT_HOURS))
            .dt.date()
            .cast(pl.String)
        )
        assert assessed["response_date"].to_list() == expected.to_list()
        # Deaths in the generator come 2-10 days after escalation: always before day 28.
        not_evaluable = frame.filter(pl.col("response") == "not_evaluable")
        assert not_evaluable["id"].to_list() == frame.filter("died")["id"].to_list()
        assert not_evaluable["response_date"].null_count() == not_evaluable.height


def test_response_rates_follow_the_seeds(car_t_cohort: Cohort, blinatumomab_cohort: Cohort) -> None:
    """400 patients per therapy: bounds are about 4 standard errors around the model's rates."""
    car_t = _responses(car_t_cohort).filter(~pl.col("died"))
    responders = car_t.filter(pl.col("response").is_in(["CR", "MRD_negative"])).height
    assert 0.74 <= responders / car_t.height <= 0.90  # seed 002 Table 1: 55/67 = 82 %
    assert set(car_t["response"]) == {"CR", "MRD_negative", "NR"}
    mrd = car_t.filter(pl.col("response") == "MRD_negative").height / responders
    assert 0.70 <= mrd <= 0.92  # seed 002, Penn/CHOP: 22 of 27 remissions MRD-negative

    blinatumomab = _responses(blinatumomab_cohort).filter(~pl.col("died"))
    relapsed = blinatumomab.filter(pl.col("regimen") != "flat")
    share = (
        relapsed.filter(
            pl.col("response").map_elements(is_responder, return_dtype=pl.Boolean)
        ).height
        / relapsed.height
    )
    assert 0.33 <= share <= 0.53  # seed 002: CR/CRh in 43 % of 189
    assert set(relapsed["response"]) <= {"CR", "CRh", "MRD_negative", "PR", "NR"}
    assert "PR" in set(relapsed["response"]) and "CRh" in set(relapsed["response"])
    mrd_positive = blinatumomab.filter(pl.col("regimen") == "flat")
    assert set(mrd_positive["response"]) == {"MRD_negative", "NR"}
    mrd_share = mrd_positive.filter(pl.col("response") == "MRD_negative").height
    assert 0.65 <= mrd_share / mrd_positive.height <= 0.92  # Topp 2011: 16 of 20


def test_the_demo_ward_does_not_know_a_response_before_it_is_assessed() -> None:
    ward = demo_ward(8, clock=datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    assert [timeline.patient.response for timeline in ward] == [None] * 8


def test_a_ward_clock_past_the_assessment_knows_the_response() -> None:
    record = simulate_record(0, 9, "car_t", 4.0)
    assert record.response is not None
    assessed_us = record.start_us + round(ASSESSMENT_HOURS * 3_600_000_000)
    assert _known_response(record, record.start_us, assessed_us - 1) is None
    assert _known_response(record, record.start_us, assessed_us) == record.response
