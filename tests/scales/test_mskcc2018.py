"""MSKCC (Park 2018): cumulative vasopressor hours, "refractory to high-dose" as a range,
FiO2 40 %, mechanical ventilation."""

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


def test_refractory_to_high_dose_is_never_a_hard_4() -> None:
    events = _pressor_course(("2d", 30))
    result = grade("mskcc2018", events, at="2d4h")
    assert (result.status, result.bounds) == ("ambiguous", (2, 4))
    (evidence,) = [e for e in result.evidence if e.criterion_id == "mskcc2018.hypotension.g4"]
    assert evidence.grade_high == 4
    assert evidence.note is not None and "refractory" in evidence.note


def test_organ_toxicity_is_not_read() -> None:
    read = {column for criterion in SCALE.criteria for column in criterion.inputs}
    assert not {c for c in read if "organ" in c or c.endswith("_v4")}


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_worsening_one_input_never_lowers_the_grade(data: st.DataObject) -> None:
    assert_worsening_never_lowers("mskcc2018", random_state(data.draw, st))
