"""The response fields in the store: kept in the patient record, filled in later, never changed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from crswatch.io import read_json_document
from crswatch.store import Store, StoreConflict, get_patient_row, ingest_timelines, load_timeline
from crswatch.timeline import Timeline
from tests.conftest import BASE_DOCUMENT


def _timeline(**patient: Any) -> Timeline:
    document = copy.deepcopy(BASE_DOCUMENT)
    document["patient"].update(patient)
    read = read_json_document(document)
    assert read.report.ok
    (timeline,) = read.timelines
    return timeline


def _stored(store: Store) -> tuple[Timeline | None, dict[str, Any]]:
    with store.transaction() as session:
        row = get_patient_row(session, "P-001")
        assert row is not None
        return load_timeline(session, "P-001"), dict(row.record)


def test_a_response_round_trips_through_the_store(store: Store) -> None:
    timeline = _timeline(response="CRh", response_date="2024-04-02")
    with store.transaction() as session:
        ingest_timelines(session, [timeline])
    loaded, record = _stored(store)
    assert loaded == timeline
    assert (record["response"], record["response_date"]) == ("CRh", "2024-04-02")


def test_a_response_is_filled_in_later_and_kept_when_left_out(store: Store) -> None:
    with store.transaction() as session:
        ingest_timelines(session, [_timeline()])
    later = _timeline(response="MRD_negative", response_date="2024-03-29")
    with store.transaction() as session:
        summary = ingest_timelines(session, [later])
    assert summary.patients_updated == ["P-001"]
    assert summary.events_stored == 0
    loaded, _ = _stored(store)
    assert loaded == later
    # A client that predates the field sends the record without it: nothing is lost.
    with store.transaction() as session:
        summary = ingest_timelines(session, [_timeline()])
    assert summary.patients_updated == []
    loaded, record = _stored(store)
    assert loaded == later and record["response"] == "MRD_negative"


def test_a_changed_response_is_a_conflict_and_nothing_changes(store: Store) -> None:
    with store.transaction() as session:
        ingest_timelines(session, [_timeline(response="CR", response_date="2024-03-29")])
    with pytest.raises(StoreConflict) as raised, store.transaction() as session:
        ingest_timelines(session, [_timeline(response="NR", response_date="2024-03-29")])
    (issue,) = raised.value.issues
    assert (issue.field, issue.value) == ("patient.response", "NR")
    assert "'CR'" in issue.reason
    _, record = _stored(store)
    assert record["response"] == "CR"
