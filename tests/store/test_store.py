"""The store over SQLite and PostgreSQL: canonical round trip, merge, conflicts, migrations."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from sqlalchemy import inspect

from crswatch.io import read_json_document
from crswatch.store import (
    Store,
    StoreConflict,
    append_audit,
    database_url,
    ingest_timelines,
    load_timeline,
    migrate,
)
from tests.conftest import BASE_DOCUMENT


def _timelines(document: dict[str, object]) -> list[object]:
    read = read_json_document(document)
    assert read.report.ok
    return list(read.timelines)


def test_a_timeline_reads_back_equal_with_provenance(store: Store) -> None:
    document = copy.deepcopy(BASE_DOCUMENT)
    document["events"].append(
        {"time": "2024-03-02T10:00:00Z", "item": "crp", "value": 12.5, "unit": "mg/dL",
         "ref_high": 0.5, "id": "lab-1", "source": "LIS", "cause": "other"}
    )  # fmt: skip
    (timeline,) = _timelines(document)
    with store.transaction() as session:
        summary = ingest_timelines(session, [timeline])  # type: ignore[list-item]
    assert summary.events_stored == len(document["events"])
    with store.transaction() as session:
        loaded = load_timeline(session, "P-001")
    assert loaded == timeline
    converted = [e for e in timeline.events if e.original_unit is not None]  # type: ignore[attr-defined]
    assert converted
    by_key = {(e.item, e.time): e for e in loaded.events}  # type: ignore[union-attr]
    for event in converted:
        stored = by_key[(event.item, event.time)]
        assert (stored.original_value, stored.original_unit) == (
            event.original_value,
            event.original_unit,
        )


def test_a_conflict_raises_before_anything_is_written(store: Store) -> None:
    (timeline,) = _timelines(copy.deepcopy(BASE_DOCUMENT))
    with store.transaction() as session:
        ingest_timelines(session, [timeline])  # type: ignore[list-item]
    changed = copy.deepcopy(BASE_DOCUMENT)
    changed["events"][0]["value"] = 40.0
    changed["events"].append(
        {"time": "2024-03-09T00:00:00Z", "item": "sbp", "value": 120, "unit": "mm[Hg]"}
    )
    with pytest.raises(StoreConflict) as caught, store.transaction() as session:
        ingest_timelines(session, _timelines(changed))  # type: ignore[arg-type]
    assert [i.field for i in caught.value.issues] == ["time"]
    with store.transaction() as session:
        assert load_timeline(session, "P-001") == timeline


def test_migrations_are_idempotent_and_create_every_table(store: Store) -> None:
    migrate(store.engine)
    tables = set(inspect(store.engine).get_table_names())
    assert {"patients", "events", "users", "api_tokens", "audit_log"} <= tables


def test_audit_records_chain(store: Store) -> None:
    with store.transaction() as session:
        first = append_audit(session, actor="a", role="viewer", action="read",
                             resource="grade", patient_id="P", outcome="success")  # fmt: skip
        second = append_audit(session, actor="a", role="viewer", action="read",
                              resource="grade", patient_id="P", outcome="success")  # fmt: skip
    assert second.prev_hash == first.hash
    assert first.prev_hash == "0" * 64


def test_database_url_selection(tmp_path: Path) -> None:
    assert database_url({"CRSWATCH_DATABASE_URL": "postgresql+psycopg://x/y"}).startswith(
        "postgresql"
    )
    assert database_url({"CRSWATCH_DATA_DIR": str(tmp_path)}) == f"sqlite:///{tmp_path}/crswatch.db"
    assert database_url({}) == "sqlite:///crswatch-data/crswatch.db"


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/d/crswatch.db")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.dispose()
