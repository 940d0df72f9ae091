"""The invalid-input table of the foundation issue: one row per bad input.

Each row asserts the issue kind, that the message names the patient, the event and the field,
and that every other event of the timeline is still read (nothing else is lost).
"""

from __future__ import annotations

from typing import Any

import pytest

from crswatch.io import read_json_document
from tests.conftest import with_event

N_GOOD = 9  # events in the spec example


def _read(document: dict[str, Any]) -> Any:
    return read_json_document(document, source="test.json")


BAD_EVENTS: list[tuple[str, dict[str, Any], str, str]] = [
    # id, event, expected kind, expected field
    (
        "time-without-offset",
        {"time": "2024-03-02T08:00:00", "item": "temperature", "value": 38.7, "unit": "Cel"},
        "bad_time",
        "time",
    ),
    (
        "date-only",
        {"time": "2024-03-02", "item": "temperature", "value": 38.7, "unit": "Cel"},
        "bad_time",
        "time",
    ),
    (
        "unparseable-time",
        {"time": "yesterday", "item": "temperature", "value": 38.7, "unit": "Cel"},
        "bad_time",
        "time",
    ),
    (
        "unknown-unit",
        {"item": "temperature", "value": 38.7, "unit": "degrees"},
        "unknown_unit",
        "unit",
    ),
    ("wrong-dimension", {"item": "crp", "value": 12, "unit": "mm[Hg]"}, "wrong_dimension", "unit"),
    (
        "fahrenheit-sent-as-celsius",
        {"item": "temperature", "value": 101, "unit": "Cel"},
        "out_of_bounds",
        "value",
    ),
    (
        "rate-per-kg-without-weight",
        {"item": "norepinephrine", "value": 0.1, "unit": "ug/kg/min"},
        "missing_body_size",
        "unit",
    ),
    ("unknown-item", {"item": "heartrate", "value": 80, "unit": "/min"}, "unknown_item", "item"),
    ("missing-value", {"item": "temperature", "unit": "Cel"}, "missing_field", "value"),
    ("missing-item", {"value": 38.0, "unit": "Cel"}, "missing_field", "item"),
    (
        "missing-time",
        {"time": None, "item": "temperature", "value": 38.0, "unit": "Cel"},
        "missing_field",
        "time",
    ),
    ("missing-unit-for-quantity", {"item": "crp", "value": 12}, "missing_field", "unit"),
    ("unknown-device-code", {"item": "o2_device", "value": "helmet"}, "bad_value", "value"),
    ("text-for-number", {"item": "crp", "value": "high", "unit": "mg/L"}, "bad_value", "value"),
    (
        "fio2-percent-as-fraction-out-of-range",
        {"item": "fio2", "value": 40},
        "out_of_bounds",
        "value",
    ),
    (
        "fio2-fraction-sent-with-percent",
        {"item": "fio2", "value": 0.4, "unit": "%"},
        "out_of_bounds",
        "value",
    ),
    (
        "end-before-time",
        {
            "time": "2024-03-03T00:00:00Z",
            "end": "2024-03-02T00:00:00Z",
            "item": "norepinephrine",
            "value": 5,
            "unit": "ug/min",
        },
        "bad_value",
        "end",
    ),
    (
        "bad-censoring",
        {"item": "il6", "value": 2, "unit": "pg/mL", "censored": "below"},
        "bad_value",
        "censored",
    ),
    (
        "bad-cause",
        {"item": "temperature", "value": 38.5, "unit": "Cel", "cause": "infection"},
        "bad_value",
        "cause",
    ),
    ("fractional-score", {"item": "ice_score", "value": 7.5}, "bad_value", "value"),
    ("score-out-of-range", {"item": "ice_orientation", "value": 5}, "out_of_bounds", "value"),
    ("boolean-as-text-in-json", {"item": "splenomegaly", "value": "yes"}, "bad_value", "value"),
    ("nan", {"item": "crp", "value": float("nan"), "unit": "mg/L"}, "bad_value", "value"),
]


@pytest.mark.parametrize(
    ("event", "kind", "field"), [row[1:] for row in BAD_EVENTS], ids=[row[0] for row in BAD_EVENTS]
)
def test_bad_event_is_rejected_with_field_named_and_nothing_else_lost(
    document: dict[str, Any], event: dict[str, Any], kind: str, field: str
) -> None:
    if event.get("item") == "norepinephrine" and event.get("unit") == "ug/kg/min":
        del document["patient"]["weight_kg"]
    event = {"id": "bad-1", **event}
    result = _read(with_event(document, **event))
    report = result.report
    assert len(report.issues) == 1, [issue.message for issue in report.issues]
    issue = report.issues[0]
    assert issue.kind == kind
    assert issue.field == field
    assert issue.patient_id == "P-001"
    assert issue.event_index == N_GOOD
    assert issue.event_id == "bad-1"
    assert f"field={field!r}" in issue.message
    assert "patient='P-001'" in issue.message and f"event[{N_GOOD}]" in issue.message
    assert repr(issue.value) in issue.message
    assert report.events_rejected == 1
    assert report.events_accepted == N_GOOD
    assert len(result.timelines[0].events) == N_GOOD


def test_two_events_same_item_and_time_are_a_conflict_both_reported(
    document: dict[str, Any],
) -> None:
    with_event(
        document, id="a", time="2024-03-02T08:00:00Z", item="temperature", value=38.9, unit="Cel"
    )
    result = _read(document)
    conflicts = result.report.conflicts
    assert [issue.event_id for issue in conflicts] == [None, "a"]
    assert {issue.event_index for issue in conflicts} == {0, N_GOOD}
    assert all(issue.field == "time" for issue in conflicts)
    # Neither value is kept: the reader does not pick one.
    assert not result.timelines[0].of("temperature")
    assert result.report.events_accepted == N_GOOD - 1


def test_same_instant_in_other_offset_is_a_conflict(document: dict[str, Any]) -> None:
    with_event(
        document, time="2024-03-02T10:00:00+02:00", item="temperature", value=38.9, unit="Cel"
    )
    assert len(_read(document).report.conflicts) == 2


def test_same_time_different_items_is_not_a_conflict(document: dict[str, Any]) -> None:
    # o2_device and o2_flow at 12:30 in the spec example.
    assert _read(document).report.ok


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.pop("id"), "id"),
        (lambda p: p.pop("therapy"), "therapy"),
        (lambda p: p["therapy"].pop("kind"), "therapy.kind"),
        (lambda p: p["therapy"].pop("start"), "therapy.start"),
        (lambda p: p["therapy"].update(start="2024-03-01T10:00:00"), "therapy.start"),
        (lambda p: p["therapy"].update(kind="chemo"), "therapy.kind"),
        (lambda p: p.update(sex="F"), "sex"),
        (lambda p: p.update(weight_kg=680), "weight_kg"),
        (lambda p: p.update(age_years=-1), "age_years"),
        (lambda p: p.update(birth_date="03/01/1980"), "birth_date"),
        (lambda p: p.update(id=17), "id"),
    ],
    ids=[
        "no-id",
        "no-therapy",
        "no-kind",
        "no-start",
        "start-without-offset",
        "unknown-kind",
        "bad-sex",
        "weight-out-of-bounds",
        "negative-age",
        "bad-birth-date",
        "numeric-id",
    ],
)
def test_bad_patient_is_rejected_with_field_named(
    document: dict[str, Any], change: Any, field: str
) -> None:
    change(document["patient"])
    result = _read(document)
    assert result.timelines == []
    (issue,) = result.report.issues
    assert issue.field == field
    assert issue.event_index is None
    assert result.report.patients_rejected == 1
    assert result.report.events_rejected == N_GOOD


def test_a_bad_member_of_a_list_does_not_cost_the_others(document: dict[str, Any]) -> None:
    result = read_json_document(
        [document, {"format": "crswatch.timeline/1"}, document], "cohort.json"
    )
    assert len(result.timelines) == 2
    (issue,) = result.report.issues
    assert issue.field == "document" and issue.value == 1
