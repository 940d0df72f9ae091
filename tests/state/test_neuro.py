"""The neurological state for ICANS: ICE items as ranges, windows, attribution, path, frequency."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest

from crswatch.state import StateParameters, evaluation_times, state_of
from crswatch.timeline import to_frames
from tests.builders import at, ev, timeline


def _state(
    events: list[dict[str, Any]], hours: float, patient: dict[str, Any] | None = None, **params: Any
) -> dict[str, Any]:
    parameters = StateParameters().with_(**params) if params else None
    frame = state_of([timeline(events, **(patient or {}))], at=at(hours), params=parameters)
    return frame.row(0, named=True)


ITEMS = {
    "ice_orientation": 3,
    "ice_naming": 2,
    "ice_commands": 1,
    "ice_writing": 0,
}


def test_ice_items_with_one_not_assessed_give_a_range_naming_the_item() -> None:
    events = [ev(48, name, value) for name, value in ITEMS.items()]
    events.append(ev(48, "ice_attention", "not_assessed", id="att-1"))
    state = _state(events, 49)
    assert (state["ice_low"], state["ice_high"], state["ice_score"]) == (6, 7, None)
    assert state["ice_source"] == "items"
    assert state["ice_score_missing"] == ["ice_attention"]
    assert "attention not assessed" in state["ice_items"]
    assert "att-1" in state["ice_score_refs"]


def test_an_absent_item_is_unknown_like_not_assessed() -> None:
    state = _state([ev(48, name, value) for name, value in ITEMS.items()], 49)
    assert (state["ice_low"], state["ice_high"], state["ice_score_missing"]) == (
        6,
        7,
        ["ice_attention"],
    )


def test_complete_items_add_up_and_a_total_wins() -> None:
    items = [ev(48, name, value) for name, value in ITEMS.items()] + [ev(48, "ice_attention", 1)]
    assert _state(items, 49)["ice_score"] == 7
    with_total = _state([*items, ev(48, "ice_score", 5)], 49)
    assert (with_total["ice_score"], with_total["ice_items_disagree"]) == (5, True)


def test_ice_score_not_assessed_is_the_range_0_to_10() -> None:
    state = _state([ev(48, "ice_score", "not_assessed")], 49)
    assert (state["ice_low"], state["ice_high"], state["ice_score"]) == (0, 10, None)
    assert state["ice_score_missing"] == ["ice_score"]


def test_the_latest_assessment_is_used_not_a_mix_of_times() -> None:
    events = [ev(40, name, value) for name, value in ITEMS.items()]
    events += [ev(40, "ice_attention", 1), ev(46, "ice_orientation", 4)]
    state = _state(events, 49)
    # Only orientation was charted at 46 h: the other items of that assessment are unknown.
    assert (state["ice_low"], state["ice_high"]) == (4, 10)


@pytest.mark.parametrize(
    ("offset", "counted"),
    [
        (timedelta(hours=24), True),
        (timedelta(hours=24, microseconds=1), False),
        (timedelta(0), True),
    ],
    ids=["exactly-24h-before", "just-over-24h", "at-T"],
)
def test_assessment_window_is_closed_at_both_ends(offset: timedelta, counted: bool) -> None:
    hours = 48 + offset.total_seconds() / 3600
    events = [
        ev(48, "ice_score", 6),
        ev(48, "capd_score", 3),
        ev(48, "consciousness", "awakens_to_voice"),
    ]
    state = _state(events, hours)
    assert (state["ice_score"] == 6) is counted
    assert (state["capd_score"] == 3) is counted
    assert (state["consciousness"] == "awakens_to_voice") is counted


@pytest.mark.parametrize(
    ("offset", "counted"),
    [(timedelta(hours=24), True), (timedelta(hours=24, microseconds=1), False)],
    ids=["exactly-24h-before", "just-over-24h"],
)
def test_finding_window_is_closed_at_both_ends(offset: timedelta, counted: bool) -> None:
    hours = 48 + offset.total_seconds() / 3600
    events = [
        ev(48, "seizure", "prolonged"),
        ev(48, "motor_weakness", "deep_focal"),
        ev(48, "cerebral_edema", "focal"),
        ev(48, "icp_sign", "papilledema"),
    ]
    state = _state(events, hours)
    assert (state["seizure"] == "prolonged") is counted
    assert (state["motor_weakness"] == "deep_focal") is counted
    assert (state["cerebral_edema"] == "focal") is counted
    assert (state["icp_sign"] == ["papilledema"]) is counted


def test_worst_seizure_in_the_window_and_excluded_ones_counted() -> None:
    events = [
        ev(40, "seizure", "repetitive", cause="other"),
        ev(44, "seizure", "prolonged"),
        ev(46, "seizure", "focal_resolved"),
    ]
    state = _state(events, 48)
    assert (state["seizure"], state["seizure_excluded_n"]) == ("prolonged", 1)
    # Most severe first: the prolonged seizure at 44 h, then the focal one at 46 h.
    assert state["seizure_refs"] == ["seizure@2024-01-03T04:00:00Z", "seizure@2024-01-03T06:00:00Z"]


def test_sedation_at_the_record_time_excludes_depressed_consciousness() -> None:
    sedated = _state([ev(40, "sedation", True), ev(46, "consciousness", "unarousable")], 48)
    assert (sedated["consciousness"], sedated["consciousness_basis"]) == ("unarousable", "sedation")
    ended = _state(
        [ev(40, "sedation", True, end_hours=46), ev(46, "consciousness", "unarousable")], 48
    )
    assert ended["consciousness_basis"] == "recorded"  # the end is exclusive: [start, end)
    stopped = _state(
        [
            ev(40, "sedation", True),
            ev(45, "sedation", False),
            ev(46, "consciousness", "unarousable"),
        ],
        48,
    )
    assert stopped["consciousness_basis"] == "recorded"
    other = _state([ev(46, "consciousness", "awakens_to_voice", cause="other")], 48)
    assert other["consciousness_basis"] == "other_cause"


def test_consciousness_assumed_only_after_a_completed_assessment_and_when_allowed() -> None:
    assert _state([ev(46, "ice_score", 1)], 48)["consciousness_basis"] == "assumed_not_depressed"
    assert _state([ev(46, "ice_score", 0)], 48)["consciousness_basis"] is None
    partial = _state([ev(46, "ice_orientation", 0), ev(46, "ice_naming", 0)], 48)
    assert partial["consciousness_basis"] is None  # 0-5: not shown to have scored a point
    strict = _state([ev(46, "ice_score", 9)], 48, consciousness_from_assessment=False)
    assert strict["consciousness_basis"] is None


@pytest.mark.parametrize(
    ("patient", "events", "path", "basis"),
    [
        ({"age_years": 11.9}, ["capd_score"], "child", "age_under_12"),
        ({"age_years": 12}, ["ice_score"], "adult", "age_12_or_over"),
        ({"age_years": 30}, ["capd_score"], "child", "capd_at_12_or_over"),
        ({"age_years": 30}, ["ice_score", "capd_score"], "adult", "age_12_or_over"),
        ({"age_years": None}, ["ice_score"], "adult", "assumed_adult_from_ice"),
        ({"age_years": None}, ["capd_score"], "child", "assumed_child_from_capd"),
        ({"age_years": None}, ["ice_score", "capd_score"], None, "age_unknown"),
        ({"age_years": None}, [], None, "age_unknown"),
        ({"age_years": None, "birth_date": "2012-01-03"}, ["ice_score"], "adult", "age_12_or_over"),
        ({"age_years": None, "birth_date": "2012-01-04"}, ["ice_score"], "child", "age_under_12"),
    ],
)
def test_age_picks_the_path(
    patient: dict[str, Any], events: list[str], path: str | None, basis: str
) -> None:
    state = _state([ev(48, item, 5) for item in events], 48, patient)
    assert (state["icans_path"], state["icans_path_basis"]) == (path, basis)


def test_intracranial_hemorrhage_holds_until_a_later_false_or_its_end() -> None:
    assert _state([ev(40, "intracranial_hemorrhage", True)], 200)["intracranial_hemorrhage"]
    cleared = _state(
        [ev(40, "intracranial_hemorrhage", True), ev(50, "intracranial_hemorrhage", False)], 60
    )
    assert cleared["intracranial_hemorrhage"] is False


def test_assessment_gap_from_the_last_ice_or_capd_record() -> None:
    state = _state([ev(30, "ice_score", 10)], 44)
    assert state["neuro_last_assessment_at"] == at(30)
    assert state["neuro_assessment_gap_hours"] == 14.0
    assert state["neuro_assessment_overdue"] is True
    exact = _state([ev(30, "capd_score", 2)], 43)
    assert exact["neuro_assessment_overdue"] is False  # "more than" the 13 h interval
    charted = _state([ev(30, "ice_score", 10), ev(40, "ice_attention", "not_assessed")], 44)
    assert charted["neuro_last_assessment_at"] == at(40)  # a documented attempt counts
    never = _state([ev(30, "temperature", 37.0, "Cel")], 30)
    assert never["neuro_assessment_gap_hours"] == 30.0  # since the therapy start


def test_icans_onset_is_the_first_attributable_abnormality() -> None:
    events = [
        ev(20, "ice_score", 10),
        ev(30, "consciousness", "awakens_to_voice", cause="other"),
        ev(40, "ice_attention", 0),
    ]
    assert _state(events, 35)["icans_onset_at"] is None
    assert _state(events, 41)["icans_onset_at"] == at(40)


def test_evaluation_times_include_when_neuro_records_leave_their_windows() -> None:
    events = [ev(48, "ice_score", 6), ev(50, "seizure", "prolonged")]
    patients, frame = to_frames([timeline(events)])
    # Evaluated up to 100 h (the record itself ends at 50 h, and nothing is evaluated after it).
    table = evaluation_times(frame, patients, until=at(100))
    times = table["at"].to_list()
    tick = timedelta(microseconds=1)
    assert at(72) + tick in times
    assert at(74) + tick in times
    # Reported at the instant the record leaves its window, with no artificial offset.
    assert table.filter(pl.col("at") == at(72) + tick)["reported_at"].to_list() == [at(72)]
    params = StateParameters().with_(neuro_window=timedelta(hours=12))
    shorter = evaluation_times(frame, patients, params, until=at(100))
    assert shorter.filter(pl.col("at") == at(60) + tick).height == 1
    assert evaluation_times(frame, patients)["at"].max() == at(50)


def test_evaluation_times_end_at_the_record_and_report_expiries_at_clean_times() -> None:
    # Issue 14 defect 3: a norepinephrine infusion without an end and a lab are not carried past
    # the last event; the 24 h crossing of cumulative vasopressor hours is a change point.
    events = [
        ev(48, "alt", 30, "U/L"),
        ev(49, "norepinephrine", 5, "ug/min"),
        ev(50, "sbp", 95, "mm[Hg]"),
    ]
    patients, frame = to_frames([timeline(events)])
    table = evaluation_times(frame, patients)
    assert table["at"].max() == at(50)
    longer = evaluation_times(frame, patients, until=at(100))
    assert at(73) in longer["at"].to_list()  # 24 h of norepinephrine
    assert longer["at"].max() <= at(100)
    expiry = longer.filter(pl.col("at") == at(96) + timedelta(microseconds=1))
    assert expiry["reported_at"].to_list() == [at(96)]
    assert longer.filter(pl.col("at") == at(50))["reported_at"].to_list() == [at(50)]
