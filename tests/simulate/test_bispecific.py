"""Simulated step-up bispecific courses: the label plan's doses, premedication, CRS after the
first doses, mostly grade 1-2 (issue 20)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from crswatch.regimens import plan_regimen
from crswatch.simulate._bispecific import BISPECIFIC_PRODUCTS, COURSE_DAYS
from crswatch.simulate._patient import SimulatedPatient, simulate_record, to_timeline

SEED = 11


@pytest.fixture(scope="module")
def cohort() -> list[SimulatedPatient]:
    return [simulate_record(index, SEED, "bispecific", 4.0) for index in range(60)]


def test_every_product_appears_and_patients_are_adults(cohort: list[SimulatedPatient]) -> None:
    products = Counter(record.product for record in cohort)
    assert set(products) == {product for product, _ in BISPECIFIC_PRODUCTS}
    assert all(record.demographics.age_years >= 18 for record in cohort)
    assert all(record.kind == "bispecific" for record in cohort)


def test_doses_are_the_label_plan(cohort: list[SimulatedPatient]) -> None:
    for record in cohort[:12]:
        timeline = to_timeline(record)
        schedule = record.truth.regimen
        plan = plan_regimen(
            record.product, weight_kg=timeline.patient.weight_kg, indication=schedule, periods=4
        )
        start = timeline.patient.therapy.start
        expected = [
            ((dose.course_day - 1) * 24.0, dose.drug, dose.dose_mg)
            for dose in plan.doses
            if dose.course_day <= COURSE_DAYS
        ]
        drugs = {drug for _, drug, _ in expected}
        given = [
            ((event.time - start).total_seconds() / 3600.0, event.item, event.value)
            for event in timeline.events
            if event.item in drugs
        ]
        assert given == expected, record.product


def test_label_premedication_precedes_the_doses(cohort: list[SimulatedPatient]) -> None:
    for record in cohort:
        if record.product not in ("teclistamab", "mosunetuzumab"):
            continue
        timeline = to_timeline(record)
        first = timeline.of(record.product)[0].time
        steroid = [e for e in timeline.of("dexamethasone") if e.time < first]
        assert steroid and steroid[-1].value in (16.0, 20.0)


def test_crs_is_mostly_grade_1_2_and_follows_the_first_doses(
    cohort: list[SimulatedPatient],
) -> None:
    tiers = Counter(record.truth.intended_crs_tier for record in cohort)
    assert tiers[4] == 0
    assert tiers[1] + tiers[2] > 3 * tiers[3]
    for record in cohort:
        onset = record.truth.crs_onset
        if onset is None:
            continue
        timeline = to_timeline(record)
        doses = [e.time for e in timeline.of(record.product)]
        # Onset 4-72 h after the first, second or third dose (``_bispecific``).
        assert doses[0] < onset <= doses[min(2, len(doses) - 1)] + timedelta(hours=72)


def test_deterministic() -> None:
    first = to_timeline(simulate_record(3, SEED, "bispecific", 4.0))
    again = to_timeline(simulate_record(3, SEED, "bispecific", 4.0))
    assert first == again


def test_response_is_not_simulated(cohort: list[SimulatedPatient]) -> None:
    assert all(record.response is None for record in cohort)
