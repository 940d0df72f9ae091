"""The store's version changes exactly when stored patient data does (docs/decisions/0057)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import inspect

from crswatch.io import read_json_document
from crswatch.store import (
    Store,
    StoreConflict,
    append_audit,
    create_user,
    ingest_timelines,
    store_version,
)
from crswatch.timeline import Timeline
from tests.conftest import BASE_DOCUMENT, with_event


def _timeline(document: dict[str, Any]) -> Timeline:
    read = read_json_document(document)
    assert read.report.ok
    (timeline,) = read.timelines
    return timeline


def _version(store: Store) -> int:
    with store.transaction() as session:
        return store_version(session)


def _ingest(store: Store, document: dict[str, Any]) -> None:
    with store.transaction() as session:
        ingest_timelines(session, [_timeline(document)])


def test_a_new_store_is_at_version_zero_with_its_table(store: Store) -> None:
    assert "store_version" in inspect(store.engine).get_table_names()
    assert _version(store) == 0


def test_every_write_of_patient_data_bumps_it_and_nothing_else_does(store: Store) -> None:
    document = copy.deepcopy(BASE_DOCUMENT)
    _ingest(store, document)
    assert _version(store) == 1
    _ingest(store, document)  # re-sent, identical: nothing written
    assert _version(store) == 1
    _ingest(store, with_event(document, item="crp", value=9.0, unit="mg/dL"))
    assert _version(store) == 2
    later = copy.deepcopy(document)
    later["patient"]["response"] = "CR"  # a later patient field: the record changes
    later["patient"]["response_date"] = "2024-04-01"
    _ingest(store, later)
    assert _version(store) == 3
    # Users, tokens and the audit trail are not patient data shown by a page.
    with store.transaction() as session:
        create_user(session, "reader", "a long enough password", "viewer")
        append_audit(session, actor="reader", role="viewer", action="read",
                     resource="grade", patient_id="P-001", outcome="success")  # fmt: skip
    assert _version(store) == 3


def test_a_rejected_or_rolled_back_write_leaves_it(store: Store) -> None:
    document = copy.deepcopy(BASE_DOCUMENT)
    _ingest(store, document)
    conflicting = copy.deepcopy(document)
    conflicting["events"][0]["value"] = 39.9  # same item and time, other value
    with pytest.raises(StoreConflict):
        _ingest(store, conflicting)
    assert _version(store) == 1
    with pytest.raises(RuntimeError), store.transaction() as session:
        ingest_timelines(
            session, [_timeline(with_event(document, item="crp", value=1.0, unit="mg/dL"))]
        )
        raise RuntimeError("the transaction fails after the ingest")
    assert _version(store) == 1
