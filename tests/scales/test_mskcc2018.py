"""MSKCC (Park 2018): cumulative vasopressor hours, "refractory to high-dose" from the record
(ambiguous only without an SBP on the high dose), FiO2 40 %, mechanical ventilation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crswatch.scales import get_scale, mskcc2018
from tests.scales._lee_ctcae_mskcc_support import (
    AT,
    assert_labelled,
    assert_worsening_never_lowers,
    bounds_of,
    grade,
    random_state,
    state_row,
)

SCALE = mskcc2018.SCALE


def test_scale_is_labelled_with_its_name_version_and_citation() -> None:
    assert_labelled(SCALE, mskcc2018.__doc__)
    assert get_scale("mskcc2018") is SCALE
    assert SCALE.doi == "10.1056/NEJMoa1709919"
    assert "N Engl J Med 2018" in SCALE.citation


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ("graded", 0, 0)),
        ({"temp_max_c": 38.0}, ("graded", 1, 1)),
        ({"hypotension": True}, ("graded", 1, 1)),
        ({"hypotension": None}, ("provisional", 0, 1)),
        ({"pressors_running": 1, "pressor_hours": 23.99}, ("graded", 2, 2)),
        ({"pressors_running": 1, "pressor_hours": 24.0}, ("graded", 3, 3)),
        ({"pressors_running": 3, "pressor_hours": 2.0}, ("graded", 2, 2)),
        # Hours accumulated earlier do not grade a patient off pressors now.
        ({"pressors_running": 0, "pressor_hours": 40.0}, ("graded", 0, 0)),
        (
            {"pressors_running": 1, "pressor_hours": 5.0, "high_dose_sustained": True},
            ("ambiguous", 2, 4),
        ),
        (
            {"pressors_running": 1, "pressor_hours": 30.0, "high_dose_sustained": True},
            ("ambiguous", 3, 4),
        ),
        # An SBP on the sustained high dose decides "refractory" (interpretation 3).
        (
            {"pressors_running": 1, "pressor_hours": 5.0, "high_dose_sustained": True}
            | {"refractory_hypotension": True, "sbp_on_high_dose": 84.0},
            ("graded", 4, 4),
        ),
        (
            {"pressors_running": 1, "pressor_hours": 5.0, "high_dose_sustained": True}
            | {"refractory_hypotension": False, "sbp_on_high_dose": 96.0},
            ("graded", 2, 2),
        ),
        (
            {"pressors_running": 1, "pressor_hours": 30.0, "high_dose_sustained": True}
            | {"refractory_hypotension": False, "sbp_on_high_dose": 96.0},
            ("graded", 3, 3),
        ),
        # Estimated FiO2 whose estimators straddle 40 % (a 5 L/min cannula): 2-3.
        (
            {"o2_device": "nasal_cannula", "fio2_pct": 40.0, "fio2_source": "estimated:fpnotebook"}
            | {"fio2_low_pct": 30.0, "fio2_high_pct": 40.0},
            ("ambiguous", 2, 3),
        ),
        ({"o2_device": "face_mask", "fio2_pct": 39.0}, ("graded", 2, 2)),
        ({"o2_device": "face_mask", "fio2_pct": 40.0}, ("graded", 3, 3)),
        ({"o2_device": "face_mask", "fio2_pct": None}, ("provisional", 2, 3)),
        ({"o2_device": "bipap", "positive_pressure": True, "fio2_pct": 30.0}, ("ambiguous", 2, 4)),
        (
            {"o2_device": "mechanical_ventilation", "positive_pressure": True}
            | {"invasive_ventilation": True, "fio2_pct": 30.0},
            ("graded", 4, 4),
        ),
        ({"organ_tox_v4_max_excl_transaminitis": 4, "organ_tox_v4_max": 4}, ("graded", 0, 0)),
        ({"death": True, "death_attributable": True, "onset_at": AT}, ("graded", 5, 5)),
    ],
)
def test_mskcc_clause(changes: dict[str, Any], expected: tuple[str, int, int]) -> None:
    assert bounds_of("mskcc2018", [state_row(**changes)]) == [expected]


def _pressor_course(*rates: tuple[str, float]) -> list[dict[str, Any]]:
    return [
        {"t": "2d", "item": "temperature", "value": 38.6, "unit": "Cel"},
        *[{"t": t, "item": "norepinephrine", "value": v, "unit": "ug/min"} for t, v in rates],
    ]


def test_vasopressor_hours_are_cumulative_across_a_pause() -> None:
    events = _pressor_course(("2d", 5), ("2d12h", 0), ("3d", 5))
    assert grade("mskcc2018", events, at="3d11h59m").grade == 2
    assert grade("mskcc2018", events, at="3d12h").grade == 3


def test_duration_is_what_has_elapsed_at_t() -> None:
    # A course that will last 30 h is grade 2 during its first 24 h.
    events = [
        *_pressor_course(("2d", 5), ("3d6h", 0)),
        {"t": "3d", "item": "temperature", "value": 37.4, "unit": "Cel"},
        {"t": "3d", "item": "sbp", "value": 112, "unit": "mm[Hg]"},
    ]
    assert grade("mskcc2018", events, at="2d20h").grade == 2
    assert grade("mskcc2018", events, at="3d1h").grade == 3
    assert grade("mskcc2018", events, at="3d7h").grade == 0, "stopped: no vasopressor criterion"


def test_refractory_without_an_sbp_on_the_high_dose_is_ambiguous() -> None:
    events = _pressor_course(("2d", 30))
    result = grade("mskcc2018", events, at="2d4h")
    assert (result.status, result.bounds) == ("ambiguous", (2, 4))
    (evidence,) = [e for e in result.evidence if e.criterion_id == "mskcc2018.hypotension.g4"]
    assert evidence.grade_high == 4
    assert evidence.note is not None and "no SBP measured" in evidence.note


@pytest.mark.parametrize(
    ("sbp_at", "sbp", "expected"),
    [
        ("2d3h", 84, 4),  # exactly 3 h on the high dose: counts, below 90
        ("2d3h", 90, 2),  # at the threshold: not hypotension (< 90)
        ("2d3h", 89, 4),
        ("2d2h59m", 84, None),  # before the high dose was held 3 h: not in the period
    ],
)
def test_refractory_is_an_sbp_below_the_threshold_once_the_high_dose_is_held_3h(
    sbp_at: str, sbp: float, expected: int | None
) -> None:
    events = [
        *_pressor_course(("2d", 30)),
        {"t": sbp_at, "item": "sbp", "value": sbp, "unit": "mm[Hg]"},
    ]
    result = grade("mskcc2018", events, at="2d4h")
    if expected is None:
        assert (result.status, result.bounds) == ("ambiguous", (2, 4))
    else:
        assert (result.status, result.grade) == ("graded", expected)
    if expected == 4:
        (evidence,) = [
            e for e in result.evidence if e.criterion_id == "mskcc2018.hypotension.g4.refractory"
        ]
        assert evidence.values["sbp_on_high_dose"] == sbp
        assert evidence.events and any("sbp" in ref for ref in evidence.events)


def test_a_child_is_refractory_below_the_age_threshold() -> None:
    # Age 4: hypotension is SBP < 70 + 2 x 4 = 78 mm Hg (Mahadeo 2019).
    low = [
        *_pressor_course(("2d", 30)),
        {"t": "2d3h", "item": "sbp", "value": 77, "unit": "mm[Hg]"},
    ]
    assert grade("mskcc2018", low, at="2d4h", age_years=4, weight_kg=16.0).grade == 4
    ok = [*_pressor_course(("2d", 30)), {"t": "2d3h", "item": "sbp", "value": 78, "unit": "mm[Hg]"}]
    assert grade("mskcc2018", ok, at="2d4h", age_years=4, weight_kg=16.0).grade == 2


def test_organ_toxicity_is_not_read() -> None:
    read = {column for criterion in SCALE.criteria for column in criterion.inputs}
    assert not {c for c in read if "organ" in c or c.endswith("_v4")}


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_worsening_one_input_never_lowers_the_grade(data: st.DataObject) -> None:
    assert_worsening_never_lowers("mskcc2018", random_state(data.draw, st))
