"""CTCAE v5.0 Cytokine release syndrome: one pressor 3, more ambiguous, FiO2 40 %, and the
6 L/min cannula (discrepancy D5) under each FiO2 estimate."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crswatch.scales import ctcae_v5, get_scale
from crswatch.state import StateParameters
from tests.scales._lee_ctcae_mskcc_support import (
    AT,
    assert_labelled,
    assert_worsening_never_lowers,
    bounds_of,
    grade,
    random_state,
    state_row,
)

SCALE = ctcae_v5.SCALE
_FEVER: dict[str, Any] = {"t": "2d", "item": "temperature", "value": 38.5, "unit": "Cel"}


def test_scale_is_labelled_with_its_name_version_and_citation() -> None:
    assert_labelled(SCALE, ctcae_v5.__doc__)
    assert get_scale("ctcae_v5") is SCALE
    assert SCALE.version == "5.0"
    assert SCALE.doi is None
    # Discrepancy D3: not the ASTCT table some reviews print as "CTCAE 5.0".
    assert SCALE.title != get_scale("astct2019").title
    assert {c.id.split(".")[0] for c in SCALE.criteria} == {"ctcae_v5"}


def _cannula(flow: float) -> list[dict[str, Any]]:
    return [
        _FEVER,
        {"t": "2d", "item": "sbp", "value": 118, "unit": "mm[Hg]"},
        {"t": "2d", "item": "o2_device", "value": "nasal_cannula"},
        {"t": "2d", "item": "o2_flow", "value": flow, "unit": "L/min"},
    ]


@pytest.mark.parametrize(
    ("rule", "status", "bounds"),
    [
        ("fpnotebook", "graded", (3, 3)),  # 20 + 4 x 6 = 44 %
        ("pmc4753186", "graded", (3, 3)),  # 6-8 L/min: 40 %
        ("none", "provisional", (2, 3)),  # never estimated: the FiO2 is missing
    ],
)
def test_six_litre_cannula_follows_the_fio2_rule(
    rule: str, status: str, bounds: tuple[int, int]
) -> None:
    params = StateParameters().with_(fio2_rule=rule)
    result = grade("ctcae_v5", _cannula(6.0), params=params)
    assert (result.status, result.bounds) == (status, bounds)
    if status == "graded":
        assert any("estimated" in warning for warning in result.warnings)
    else:
        assert "FiO2: not charted" in result.missing


def test_six_litre_cannula_differs_from_astct_on_purpose() -> None:
    # Discrepancy D5: ASTCT reads the flow (<= 6 L/min is low flow, 2); CTCAE v5 the FiO2 (3).
    assert grade("astct2019", _cannula(6.0)).grade == 2
    assert grade("ctcae_v5", _cannula(6.0)).grade == 3


def test_nasal_cannula_without_flow_has_no_fio2_estimate() -> None:
    # Regression: pl.min_horizontal skips a null flow, which once estimated 44 % FiO2.
    events = [_FEVER, {"t": "2d", "item": "o2_device", "value": "nasal_cannula"}]
    result = grade("ctcae_v5", events)
    assert (result.status, result.bounds) == ("provisional", (2, 3))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ("graded", 0, 0)),
        ({"temp_max_c": 38.0}, ("graded", 1, 1)),
        # Fever is not required for grades 2-4.
        ({"hypotension": True}, ("graded", 2, 2)),
        ({"pressors_running": 1}, ("graded", 3, 3)),
        ({"pressors_running": 2}, ("ambiguous", 3, 4)),
        ({"pressors_running": 1, "high_dose_sustained": True}, ("graded", 3, 3)),
        ({"o2_device": "venturi_mask", "fio2_pct": 39.0}, ("graded", 2, 2)),
        ({"o2_device": "venturi_mask", "fio2_pct": 40.0}, ("graded", 3, 3)),
        ({"o2_device": "face_mask", "fio2_pct": None}, ("provisional", 2, 3)),
        ({"o2_device": "cpap", "positive_pressure": True, "fio2_pct": 30.0}, ("ambiguous", 2, 4)),
        ({"o2_device": "cpap", "positive_pressure": True, "fio2_pct": 50.0}, ("ambiguous", 3, 4)),
        (
            {"o2_device": "mechanical_ventilation", "positive_pressure": True}
            | {"invasive_ventilation": True, "fio2_pct": 30.0},
            ("graded", 4, 4),
        ),
        ({"organ_tox_v4_max_excl_transaminitis": None, "transaminitis_v4": None}, ("graded", 0, 0)),
        ({"death": True, "death_attributable": True, "onset_at": AT}, ("graded", 5, 5)),
    ],
)
def test_ctcae_v5_clause(changes: dict[str, Any], expected: tuple[str, int, int]) -> None:
    assert bounds_of("ctcae_v5", [state_row(**changes)]) == [expected]


def test_vasopressin_alone_is_one_pressor() -> None:
    events = [_FEVER, {"t": "2d", "item": "vasopressin", "value": 0.03, "unit": "U/min"}]
    assert grade("ctcae_v5", events).grade == 3


def test_organ_toxicity_is_not_read() -> None:
    read = {column for criterion in SCALE.criteria for column in criterion.inputs}
    assert not {c for c in read if "organ" in c or c.endswith("_v4")}


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_worsening_one_input_never_lowers_the_grade(data: st.DataObject) -> None:
    assert_worsening_never_lowers("ctcae_v5", random_state(data.draw, st))
