"""CTCAE v4.03 Cytokine release syndrome: grade 4 for any pressor or ventilatory support, and
grades 1-3 reported as ranges, never guessed (the record does not say what was "indicated")."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crswatch.scales import ctcae_v4, get_scale
from tests.scales._lee_ctcae_mskcc_support import (
    AT,
    assert_labelled,
    assert_worsening_never_lowers,
    bounds_of,
    grade,
    random_state,
    state_row,
)

SCALE = ctcae_v4.SCALE
_FEVER: dict[str, Any] = {"t": "2d", "item": "temperature", "value": 38.4, "unit": "Cel"}


def test_scale_is_labelled_with_its_name_version_and_citation() -> None:
    assert_labelled(SCALE, ctcae_v4.__doc__)
    assert get_scale("ctcae_v4") is SCALE
    assert SCALE.version == "4.03"
    assert SCALE.doi is None
    assert "MedDRA 10052015" in SCALE.citation


@pytest.mark.parametrize(
    ("drug", "value", "unit"),
    [
        ("norepinephrine", 1, "ug/min"),
        ("epinephrine", 1, "ug/min"),
        ("phenylephrine", 10, "ug/min"),
        ("dopamine", 1, "ug/kg/min"),
        ("vasopressin", 0.01, "U/min"),
    ],
)
def test_any_pressor_at_any_dose_is_grade_4(drug: str, value: float, unit: str) -> None:
    # "Life-threatening consequences; pressor or ventilatory support indicated" (Frey 2016: one
    # low-dose pressor is CTCAE v4 grade 4).  No fever needed.
    events = [{"t": "2d", "item": drug, "value": value, "unit": unit}]
    result = grade("ctcae_v4", events)
    assert (result.grade, result.criteria_met) == (4, ("ctcae_v4.hypotension.g4",))


@pytest.mark.parametrize("device", ["cpap", "bipap", "mechanical_ventilation"])
def test_positive_pressure_is_ventilatory_support(device: str) -> None:
    events = [_FEVER, {"t": "2d", "item": "o2_device", "value": device}]
    result = grade("ctcae_v4", events)
    assert result.grade == 4
    assert "ctcae_v4.hypoxia.g4" in result.criteria_met


def test_high_flow_nasal_cannula_is_oxygen_not_ventilatory_support() -> None:
    events = [
        _FEVER,
        {"t": "2d", "item": "o2_device", "value": "high_flow_nasal_cannula"},
        {"t": "2d", "item": "o2_flow", "value": 50, "unit": "L/min"},
        {"t": "2d", "item": "fio2", "value": 60, "unit": "%"},
    ]
    result = grade("ctcae_v4", events)
    assert (result.status, result.bounds) == ("ambiguous", (2, 3))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ("graded", 0, 0)),
        ({"temp_max_c": None}, ("not_assessable", 0, 3)),
        ({"temp_max_c": 38.0}, ("ambiguous", 1, 3)),
        ({"hypotension": True}, ("ambiguous", 2, 3)),
        ({"hypotension": True, "pressors_running": 1}, ("graded", 4, 4)),
        ({"o2_device": "nasal_cannula", "fio2_pct": 28.0}, ("ambiguous", 2, 3)),
        ({"o2_device": "face_mask", "fio2_pct": None}, ("ambiguous", 2, 3)),
        ({"organ_tox_v4_max_excl_transaminitis": 4, "organ_tox_v4_max": 4}, ("graded", 0, 0)),
        ({"death": True, "death_attributable": True, "onset_at": AT}, ("graded", 5, 5)),
    ],
)
def test_ctcae_v4_clause(changes: dict[str, Any], expected: tuple[str, int, int]) -> None:
    assert bounds_of("ctcae_v4", [state_row(**changes)]) == [expected]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_grades_1_to_3_are_never_guessed(data: st.DataObject) -> None:
    # Without a pressor, ventilatory support or death, a non-zero grade is always a range.
    row = random_state(data.draw, st)
    row.update(
        pressors_running=0,
        high_dose_sustained=False,
        positive_pressure=False,
        invasive_ventilation=False,
        death=False,
        death_attributable=False,
    )
    if row["o2_device"] in ("cpap", "bipap", "mechanical_ventilation"):
        row["o2_device"] = "face_mask"
    ((status, low, high),) = bounds_of("ctcae_v4", [row])
    assert status != "graded" or low == high == 0
    assert high <= 3


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_worsening_one_input_never_lowers_the_grade(data: st.DataObject) -> None:
    assert_worsening_never_lowers("ctcae_v4", random_state(data.draw, st))
