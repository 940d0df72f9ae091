"""The clinical state: windows closed at both ends, infusions, sustained high dose, oxygen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from crswatch.state import StateParameters, state_of
from tests.builders import at, ev, timeline


def _state(events: list[dict[str, Any]], hours: float, **params: Any) -> dict[str, Any]:
    parameters = StateParameters().with_(**params) if params else None
    frame = state_of([timeline(events)], at=at(hours), params=parameters)
    return frame.row(0, named=True)


@pytest.mark.parametrize(
    ("offset", "counted"),
    [
        (timedelta(hours=24), True),
        (timedelta(hours=24, microseconds=1), False),
        (timedelta(0), True),
    ],
    ids=["exactly-24h-before", "just-over-24h", "at-T"],
)
def test_fever_window_is_closed_at_both_ends(offset: timedelta, counted: bool) -> None:
    hours = 48 + offset.total_seconds() / 3600
    state = _state([ev(48, "temperature", 38.4, "Cel")], hours)
    assert (state["temp_max_c"] == 38.4) is counted
    assert state["fever"] is (True if counted else None)


def test_highest_attributable_temperature_and_its_reference() -> None:
    events = [
        ev(40, "temperature", 39.9, "Cel", cause="other"),
        ev(41, "temperature", 38.6, "Cel", id="t-41"),
        ev(42, "temperature", 37.5, "Cel"),
    ]
    state = _state(events, 44)
    assert (state["temp_max_c"], state["temp_max_c_ref"], state["temp_max_c_n"]) == (
        38.6,
        "t-41",
        2,
    )


def test_infusion_runs_until_end_exclusive() -> None:
    events = [ev(10, "norepinephrine", 6, "ug/min", end_hours=14)]
    assert _state(events, 13.99)["norepinephrine_ug_min"] == 6.0
    assert _state(events, 14)["norepinephrine_ug_min"] == 0.0


def test_rate_holds_until_next_event_and_zero_stops() -> None:
    events = [
        ev(10, "norepinephrine", 6, "ug/min"),
        ev(12, "norepinephrine", 12, "ug/min"),
        ev(15, "norepinephrine", 0, "ug/min"),
    ]
    assert _state(events, 11)["norepinephrine_ug_min"] == 6.0
    assert _state(events, 14)["norepinephrine_ug_min"] == 12.0
    assert _state(events, 15)["pressors_running"] == 0


def test_vasst_equation_keeps_its_mixed_units() -> None:
    # Lee 2014 Table 3 footnote: NE-eq = NE (ug/min) + dopamine (ug/kg/min) / 2 + epi + phenyl / 10.
    # Dopamine stays in ug/kg/min: 10 / 2 = 5, not 10 x 70 kg / 2.
    events = [
        ev(10, "norepinephrine", 10, "ug/min"),
        ev(10, "dopamine", 10, "ug/kg/min"),
        ev(10, "phenylephrine", 50, "ug/min"),
    ]
    state = _state(events, 11)
    assert state["ne_equivalent_ug_min"] == pytest.approx(10 + 5 + 5)
    assert state["pressors_excl_vasopressin"] == 3


@pytest.mark.parametrize(
    ("drugs", "high"),
    [
        ([("norepinephrine", 20, "ug/min")], True),
        ([("norepinephrine", 19.9, "ug/min")], False),
        ([("dopamine", 10, "ug/kg/min")], True),
        ([("phenylephrine", 199, "ug/min")], False),
        ([("phenylephrine", 200, "ug/min")], True),
        ([("epinephrine", 10, "ug/min")], True),
        ([("norepinephrine", 10, "ug/min"), ("vasopressin", 0.03, "U/min")], True),
        ([("norepinephrine", 9.9, "ug/min"), ("vasopressin", 0.03, "U/min")], False),
        ([("norepinephrine", 10, "ug/min"), ("epinephrine", 10, "ug/min")], True),
        ([("norepinephrine", 10, "ug/min"), ("epinephrine", 9.9, "ug/min")], False),
    ],
    ids=[
        "ne-20",
        "ne-19.9",
        "dopa-10",
        "phenyl-199",
        "phenyl-200",
        "epi-10",
        "vaso+ne-eq-10",
        "vaso+ne-eq-9.9",
        "combo-20",
        "combo-19.9",
    ],
)
def test_lee_table3_high_dose_thresholds(drugs: list[tuple[str, float, str]], high: bool) -> None:
    state = _state([ev(10, d, v, u) for d, v, u in drugs], 11)
    assert state["high_dose_now"] is high


def test_high_dose_must_be_sustained_three_hours() -> None:
    events = [ev(10, "norepinephrine", 25, "ug/min")]
    assert _state(events, 12.99)["high_dose_sustained"] is False
    assert _state(events, 13)["high_dose_sustained"] is True


def test_high_dose_run_restarts_after_a_dip() -> None:
    events = [
        ev(10, "norepinephrine", 25, "ug/min"),
        ev(12, "norepinephrine", 10, "ug/min"),
        ev(13, "norepinephrine", 25, "ug/min"),
    ]
    state = _state(events, 15.5)
    assert state["high_dose_since"] == at(13)
    assert state["high_dose_sustained"] is False


def test_cumulative_pressor_hours_add_segments() -> None:
    events = [
        ev(0, "norepinephrine", 5, "ug/min", end_hours=10),
        ev(20, "vasopressin", 0.03, "U/min"),
    ]
    assert _state(events, 26)["pressor_hours"] == pytest.approx(16.0)


def test_flow_from_a_previous_device_is_stale() -> None:
    events = [
        ev(10, "o2_device", "nasal_cannula"),
        ev(10, "o2_flow", 4, "L/min"),
        ev(12, "o2_device", "face_mask"),
    ]
    state = _state(events, 13)
    assert (state["o2_device"], state["o2_flow_l_min"], state["fio2_pct"]) == (
        "face_mask",
        None,
        None,
    )


@pytest.mark.parametrize(
    ("rule", "flow", "expected"),
    [
        ("fpnotebook", 1, 24.0),
        ("fpnotebook", 6, 44.0),
        ("fpnotebook", 8, 44.0),
        ("pmc4753186", 2, 25.0),
        ("pmc4753186", 6, 40.0),
        ("pmc4753186", 1, None),
        ("none", 4, None),
    ],
)
def test_fio2_estimate_rules(rule: str, flow: float, expected: float | None) -> None:
    events = [ev(10, "o2_device", "nasal_cannula"), ev(10, "o2_flow", flow, "L/min")]
    state = _state(events, 11, fio2_rule=rule)
    assert state["fio2_pct"] == expected
    if expected is not None:
        assert state["fio2_source"] == f"estimated:{rule}"


def test_no_device_record_is_room_air_and_says_so() -> None:
    state = _state([ev(10, "temperature", 37.0, "Cel")], 11)
    assert (state["o2_device"], state["o2_device_recorded"], state["fio2_pct"]) == (
        "room_air",
        False,
        21.0,
    )


def test_fever_waiver_needs_a_dose_after_onset() -> None:
    events = [
        ev(-1, "dexamethasone", 10, "mg"),
        ev(30, "temperature", 38.5, "Cel"),
        ev(32, "tocilizumab", 560, "mg", id="toci-1"),
    ]
    assert _state(events, 31)["fever_waived"] is False
    late = _state(events, 33)
    assert (late["fever_waived"], late["waiver_ref"], late["onset_at"]) == (True, "toci-1", at(30))


def test_antipyretic_waives_by_default_and_not_under_the_narrower_reading() -> None:
    # ASTCT 2019 fever footnote, verified: "when antipyretic or anticytokine therapy is
    # initiated ... grading is driven by hypotension and hypoxia only" (discrepancy D2).
    events = [ev(30, "temperature", 38.5, "Cel"), ev(31, "antipyretic", 1000, "mg")]
    assert _state(events, 32)["fever_waived"] is True
    narrow = _state(events, 32, fever_waiver="anticytokine_or_steroid")
    assert narrow["fever_waived"] is False


def test_an_antipyretic_before_the_onset_does_not_waive() -> None:
    events = [ev(29, "antipyretic", 1000, "mg"), ev(30, "temperature", 38.5, "Cel")]
    assert _state(events, 32)["fever_waived"] is False


def _course(day29: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fever and tocilizumab on day 1, 4-hourly normal vital signs to day 5, then ``day29``."""
    events = [ev(24, "temperature", 39.2, "Cel"), ev(25, "tocilizumab", 560, "mg")]
    for hour in range(28, 120, 4):
        events += [ev(hour, "temperature", 37.0, "Cel"), ev(hour, "sbp", 120, "mm[Hg]")]
    return events + day29


def test_the_waiver_ends_when_the_episode_has_resolved() -> None:
    day29 = [ev(29 * 24, "sbp", 88, "mm[Hg]")]
    late = _state(_course(day29), 29 * 24)
    assert (late["fever_waived"], late["crs_episode_since"]) == (False, at(29 * 24))
    # With episodes that never resolve (the old reading), the waiver still holds on day 29.
    forever = _state(_course(day29), 29 * 24, crs_resolution_window=None)
    assert forever["fever_waived"] is True


@pytest.mark.parametrize(
    ("hours", "waived"),
    [(24 + 24, True), (25 + 24, True), (51, True), (52, False)],
    ids=["24h-after-fever", "24h-after-toci", "before-the-clearing-reading", "resolved-at-it"],
)
def test_resolution_needs_a_sign_free_reading_after_the_window(hours: int, waived: bool) -> None:
    # The fever at 24 h keeps the episode until the first sign-free reading after 48 h: the
    # 4-hourly readings at 48 h (exactly 24 h: still inside) and 52 h (after: resolved at it).
    state = _state(_course([]), hours)
    assert state["fever_waived"] is waived


def test_a_charting_gap_does_not_resolve_the_episode() -> None:
    # Issue 14, reproduction: fever and paracetamol, nothing charted for 26 h, then afebrile
    # hypotension on norepinephrine: the same episode, still waived.
    events = [
        ev(10, "temperature", 38.9, "Cel"),
        ev(10.25, "antipyretic", 1000, "mg"),
        ev(36, "temperature", 37.7, "Cel"),
        ev(36, "sbp", 76, "mm[Hg]"),
        ev(36.25, "norepinephrine", 6, "ug/min"),
    ]
    assert _state(events, 36.5)["fever_waived"] is True


def test_paediatric_sbp_threshold_uses_completed_years() -> None:
    state = state_of([timeline([ev(1, "sbp", 85, "mm[Hg]")], age_years=6.9)], at=at(2)).row(
        0, named=True
    )
    assert state["sbp_threshold"] == 82.0 and state["hypotension"] is False


def test_age_unknown_is_flagged() -> None:
    state = state_of([timeline([ev(1, "sbp", 85, "mm[Hg]")], age_years=None)], at=at(2)).row(
        0, named=True
    )
    assert state["age_unknown"] is True and state["hypotension"] is True


# -- Issue 14 defect 2: a flow of 0 L/min is oxygen off ------------------------------------------


@pytest.mark.parametrize(
    ("flows", "device", "flow"),
    [
        ([2, 0], "room_air", None),
        ([2, 0.5], "nasal_cannula", 0.5),
        ([2, 0, 3], "nasal_cannula", 3.0),
    ],
    ids=["2-then-0", "2-then-0.5", "off-then-on-again"],
)
def test_zero_flow_turns_the_oxygen_off(
    flows: list[float], device: str, flow: float | None
) -> None:
    events = [ev(10, "o2_device", "nasal_cannula")]
    events += [ev(10 + i, "o2_flow", value, "L/min") for i, value in enumerate(flows)]
    state = _state(events, 20)
    assert (state["o2_device"], state["o2_flow_l_min"]) == (device, flow)
    assert state["o2_device_recorded"]
    if device == "room_air":
        # The evidence names the zero-flow record, not a stale 0.0 flow on a cannula.
        assert state["o2_device_ref"] == "o2_flow@2024-01-01T19:00:00Z"
        assert (state["fio2_pct"], state["fio2_low_pct"], state["fio2_high_pct"]) == (21.0,) * 3


def test_zero_flow_before_the_device_started_is_stale() -> None:
    events = [
        ev(9, "o2_flow", 0, "L/min"),
        ev(10, "o2_device", "nasal_cannula"),
    ]
    assert _state(events, 11)["o2_device"] == "nasal_cannula"


def test_zero_flow_does_not_end_positive_pressure() -> None:
    events = [ev(10, "o2_device", "cpap"), ev(10, "o2_flow", 0, "L/min")]
    state = _state(events, 11)
    assert (state["o2_device"], state["positive_pressure"]) == ("cpap", True)


# -- Issue 14 defect 5: the FiO2 range of the two shipped estimators ------------------------------


@pytest.mark.parametrize(
    ("flow", "low", "high"),
    [
        (1, 24.0, 24.0),  # PMC4753186 estimates nothing below 2 L/min
        (4.9, 30.0, 39.6),
        (5, 30.0, 40.0),
        (5.9, 30.0, 43.6),
        (6, 40.0, 44.0),
        (10, 44.0, 50.0),
    ],
)
def test_estimated_fio2_spans_both_estimators(flow: float, low: float, high: float) -> None:
    events = [ev(10, "o2_device", "nasal_cannula"), ev(10, "o2_flow", flow, "L/min")]
    state = _state(events, 11)
    assert state["fio2_low_pct"] == pytest.approx(low)
    assert state["fio2_high_pct"] == pytest.approx(high)


def test_charted_fio2_wins_and_a_single_estimator_can_be_chosen() -> None:
    events = [
        ev(10, "o2_device", "nasal_cannula"),
        ev(10, "o2_flow", 5, "L/min"),
        ev(10, "fio2", 35, "%"),
    ]
    state = _state(events, 11)
    assert (state["fio2_low_pct"], state["fio2_high_pct"], state["fio2_source"]) == (
        35.0,
        35.0,
        "measured",
    )
    point = _state(events[:2], 11, fio2_estimate_range=False)
    assert point["fio2_low_pct"] == point["fio2_high_pct"] == point["fio2_pct"] == 40.0
    none = _state(events[:2], 11, fio2_rule="none")
    assert none["fio2_low_pct"] is None and none["fio2_high_pct"] is None


# -- Issue 14 defect 4: hypotension on a sustained high dose --------------------------------------


@pytest.mark.parametrize(
    ("sbp_hours", "sbp", "refractory"),
    [
        (None, None, None),  # no SBP on the sustained high dose
        (2.99, 80, None),  # before the dose was held 3 h
        (3, 89, True),
        (3, 90, False),
        (3.5, 120, False),
    ],
)
def test_refractory_hypotension_reads_sbp_on_the_sustained_high_dose(
    sbp_hours: float | None, sbp: float | None, refractory: bool | None
) -> None:
    events = [ev(0, "norepinephrine", 25, "ug/min")]
    if sbp_hours is not None:
        events.append(ev(sbp_hours, "sbp", sbp, "mm[Hg]"))
    state = _state(events, 4)
    assert state["high_dose_sustained"]
    assert state["refractory_hypotension"] is refractory
    assert state["sbp_on_high_dose"] == (sbp if refractory is not None else None)


def test_refractory_is_false_without_a_sustained_high_dose() -> None:
    events = [ev(0, "norepinephrine", 25, "ug/min"), ev(1, "sbp", 70, "mm[Hg]")]
    state = _state(events, 2)
    assert (state["high_dose_sustained"], state["refractory_hypotension"]) == (False, False)


def test_a_low_sbp_after_a_normal_one_on_the_high_dose_is_refractory() -> None:
    events = [
        ev(0, "norepinephrine", 25, "ug/min"),
        ev(3, "sbp", 84, "mm[Hg]"),
        ev(4, "sbp", 100, "mm[Hg]"),
    ]
    state = _state(events, 5)
    assert (state["refractory_hypotension"], state["sbp_on_high_dose"]) == (True, 84.0)
