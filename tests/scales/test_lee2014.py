"""Lee 2014 revised CRS grading: labels, the VASST equation, organ toxicity, Kleene logic.

End-to-end grades with their criteria are golden cases (tests/golden/crs_lee_ctcae_mskcc.yaml);
these tests pin what the cases cannot show on their own.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crswatch.scales import CRS_SCALES, get_scale, lee2014
from crswatch.state import state_of
from tests.scales._lee_ctcae_mskcc_support import (
    AT,
    assert_labelled,
    assert_worsening_never_lowers,
    bounds_of,
    grade,
    normal_labs,
    random_state,
    state_row,
    timeline,
)

SCALE = lee2014.SCALE


def test_scale_is_labelled_with_its_name_version_and_citation() -> None:
    assert_labelled(SCALE, lee2014.__doc__)
    assert get_scale("lee2014") is SCALE
    assert list(CRS_SCALES).index("lee2014") == 1, "shown right after ASTCT, never instead of it"
    assert SCALE.version == "2014"
    assert "Blood 2014;124(2):188-195" in SCALE.citation


# --------------------------------------------------------------------------------------------
# VASST norepinephrine equivalent (Lee 2014 Table 3): mixed units on purpose.


def _pressor_events(**rates: tuple[float, str]) -> list[dict[str, Any]]:
    return [
        {"t": "3d", "item": drug, "value": value, "unit": unit}
        for drug, (value, unit) in rates.items()
    ]


def test_vasst_equivalent_adds_dopamine_ug_kg_min_over_two_as_printed() -> None:
    # norepinephrine 10 ug/min + dopamine 10 ug/kg/min for a 70 kg patient: 10 + 10 / 2 = 15.
    # "Normalising" dopamine to ug/min (700) would give 10 + 350 = 360: a high dose.
    events = _pressor_events(norepinephrine=(10, "ug/min"), dopamine=(10, "ug/kg/min"))
    (row,) = state_of([timeline(events, weight_kg=70.0)]).to_dicts()
    assert row["ne_equivalent_ug_min"] == pytest.approx(15.0)
    assert row["ne_equivalent_ug_min"] != pytest.approx(360.0)
    assert row["high_dose_now"] is False


def test_vasst_equivalent_reads_dopamine_sent_in_ug_min_as_ug_kg_min() -> None:
    # 700 ug/min at 70 kg is converted at reading to 10 ug/kg/min; the equation is unchanged.
    events = _pressor_events(norepinephrine=(10, "ug/min"), dopamine=(700, "ug/min"))
    (row,) = state_of([timeline(events, weight_kg=70.0)]).to_dicts()
    assert row["dopamine_ug_kg_min"] == pytest.approx(10.0)
    assert row["ne_equivalent_ug_min"] == pytest.approx(15.0)


def test_vasst_equivalent_does_not_depend_on_weight_for_ug_kg_min_dopamine() -> None:
    # The equation has no weight in it: the same ug/kg/min rate gives the same equivalent.
    events = _pressor_events(norepinephrine=(10, "ug/min"), dopamine=(10, "ug/kg/min"))
    light = state_of([timeline(events, weight_kg=40.0)]).item(0, "ne_equivalent_ug_min")
    heavy = state_of([timeline(events, weight_kg=120.0)]).item(0, "ne_equivalent_ug_min")
    assert light == heavy == pytest.approx(15.0)


def test_vasst_equivalent_divides_phenylephrine_by_ten_and_adds_epinephrine() -> None:
    events = _pressor_events(
        norepinephrine=(4, "ug/min"), epinephrine=(3, "ug/min"), phenylephrine=(50, "ug/min")
    )
    (row,) = state_of([timeline(events)]).to_dicts()
    assert row["ne_equivalent_ug_min"] == pytest.approx(4 + 3 + 5)


def test_mixed_units_combination_below_20_is_not_a_lee_high_dose() -> None:
    events = [
        {"t": "3d", "item": "temperature", "value": 38.6, "unit": "Cel"},
        *normal_labs("3d"),
        *_pressor_events(norepinephrine=(10, "ug/min"), dopamine=(10, "ug/kg/min")),
    ]
    result = grade("lee2014", events, at="3d4h")
    assert result.grade == 3
    assert "lee2014.hypotension.g3.multiple" in result.criteria_met
    assert "lee2014.hypotension.g3.high_dose" not in result.criteria_met


# --------------------------------------------------------------------------------------------
# Criteria over hand-built states (the Kleene logic of each clause).


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ("graded", 0, 0)),
        ({"temp_max_c": 38.0}, ("graded", 1, 1)),
        ({"temp_max_c": 37.9}, ("graded", 0, 0)),
        # Fever is not required for grades 2-4.
        ({"hypotension": True}, ("graded", 2, 2)),
        ({"pressors_running": 1}, ("graded", 2, 2)),
        ({"pressors_running": 1, "high_dose_sustained": True}, ("graded", 3, 3)),
        ({"pressors_running": 2}, ("graded", 3, 3)),
        ({"o2_device": "face_mask", "fio2_pct": 39.0}, ("graded", 2, 2)),
        ({"o2_device": "face_mask", "fio2_pct": 40.0}, ("graded", 3, 3)),
        ({"o2_device": "face_mask", "fio2_pct": None}, ("provisional", 2, 3)),
        ({"o2_device": "bipap", "positive_pressure": True, "fio2_pct": 30.0}, ("ambiguous", 3, 4)),
        (
            {"o2_device": "mechanical_ventilation", "positive_pressure": True}
            | {"invasive_ventilation": True, "fio2_pct": 30.0},
            ("graded", 4, 4),
        ),
        ({"organ_tox_v4_max_excl_transaminitis": 2}, ("graded", 2, 2)),
        ({"transaminitis_v4": 3}, ("graded", 3, 3)),
        ({"transaminitis_v4": 4}, ("graded", 3, 3)),
        ({"organ_tox_v4_max_excl_transaminitis": 3}, ("graded", 3, 3)),
        ({"organ_tox_v4_max_excl_transaminitis": 4}, ("graded", 4, 4)),
        ({"organ_tox_v4_max_excl_transaminitis": 4, "transaminitis_v4": 4}, ("graded", 4, 4)),
        ({"organ_tox_v4_max_excl_transaminitis": None}, ("provisional", 0, 4)),
        ({"transaminitis_v4": None}, ("provisional", 0, 3)),
        (
            {"organ_tox_v4_max_excl_transaminitis": None, "transaminitis_v4": 4},
            ("provisional", 3, 4),
        ),
        # Death before any CRS onset is not CRS grade 5.
        ({"death_attributable": True, "death": True, "onset_at": None}, ("graded", 0, 0)),
        ({"death_attributable": True, "death": True, "onset_at": AT}, ("graded", 5, 5)),
    ],
)
def test_lee_clause(changes: dict[str, Any], expected: tuple[str, int, int]) -> None:
    assert bounds_of("lee2014", [state_row(**changes)]) == [expected]


def test_grade_4_transaminitis_is_3_and_any_other_grade_4_organ_is_4() -> None:
    # Lee 2014 Table 2: "grade 4 transaminitis" sits in grade 3; grade 4 "excluding transaminitis".
    rows = [
        state_row(transaminitis_v4=4, organ_tox_v4_max=4),
        state_row(organ_tox_v4_max_excl_transaminitis=4, organ_tox_v4_max=4),
    ]
    assert [b[1] for b in bounds_of("lee2014", rows)] == [3, 4]


def test_missing_organ_labs_are_reported_not_assumed_normal() -> None:
    events = [
        {"t": "2d", "item": "temperature", "value": 38.4, "unit": "Cel"},
        {"t": "2d", "item": "sbp", "value": 118, "unit": "mm[Hg]"},
    ]
    result = grade("lee2014", events)
    # Grade 1 on the documented fever; the labs not drawn could make it up to 4 (provisional).
    assert (result.status, result.grade, result.bounds) == ("provisional", 1, (1, 4))
    assert result.missing == (
        "bilirubin, creatinine, fibrinogen, left ventricular ejection fraction, ALT, AST: "
        "none in the last 48 h",
    )
    assert grade("lee2014", [*events, *normal_labs("2d")]).grade == 1


def test_coagulopathy_is_organ_toxicity_through_fibrinogen() -> None:
    # Lee 2014: "grade 3 organ toxicity, including but not limited to coagulopathy".
    # Fibrinogen 90 mg/dL with LLN 200 is 0.45 x LLN: CTCAE v4.03 grade 3.
    events = [
        {"t": "2d", "item": "temperature", "value": 37.0, "unit": "Cel"},
        {"t": "2d", "item": "sbp", "value": 118, "unit": "mm[Hg]"},
        *normal_labs("2d"),
        {"t": "2d", "item": "fibrinogen", "value": 90, "unit": "mg/dL", "ref_low": 200},
    ]
    result = grade("lee2014", events)
    assert (result.grade, result.criteria_met) == (3, ("lee2014.organ.g3",))


def test_high_dose_counts_only_once_held_three_hours() -> None:
    events = [
        {"t": "3d", "item": "temperature", "value": 38.6, "unit": "Cel"},
        *normal_labs("3d"),
        {"t": "3d", "item": "epinephrine", "value": 12, "unit": "ug/min"},
    ]
    assert grade("lee2014", events, at="3d2h59m").grade == 2
    assert grade("lee2014", events, at="3d3h").grade == 3


def test_stopping_the_high_dose_ends_grade_3() -> None:
    events = [
        {"t": "3d", "item": "temperature", "value": 38.6, "unit": "Cel"},
        *normal_labs("3d"),
        {"t": "3d", "item": "norepinephrine", "value": 25, "unit": "ug/min"},
        {"t": "3d5h", "item": "norepinephrine", "value": 8, "unit": "ug/min"},
    ]
    assert grade("lee2014", events, at="3d4h").grade == 3
    result = grade("lee2014", events, at="3d6h")
    assert (result.grade, "lee2014.hypotension.g2.low_dose" in result.criteria_met) == (2, True)


def test_estimated_fio2_is_warned_about() -> None:
    events = [
        {"t": "2d", "item": "temperature", "value": 38.5, "unit": "Cel"},
        *normal_labs("2d"),
        {"t": "2d", "item": "o2_device", "value": "nasal_cannula"},
        {"t": "2d", "item": "o2_flow", "value": 6, "unit": "L/min"},
    ]
    result = grade("lee2014", events)
    assert result.grade == 3
    assert any("estimated" in warning for warning in result.warnings)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_worsening_one_input_never_lowers_the_grade(data: st.DataObject) -> None:
    assert_worsening_never_lowers("lee2014", random_state(data.draw, st))
