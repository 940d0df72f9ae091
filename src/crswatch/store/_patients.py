"""Patients and their canonical events: store, merge and read back as a ``Timeline``.

Merging rules (docs/decisions/0015-service.md): a patient already stored must be sent with the
same patient record, except that the later fields ``response`` and ``response_date`` may be
added to it or left out, never changed (docs/decisions/0022-response-field.md); an event at the
same item and time as a stored one is skipped when it is identical (re-sending is idempotent)
and is a conflict otherwise.  Conflicts are reported, every one, and nothing is stored: stored
events are never overwritten.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crswatch.store._frames import load_timeline, patient_from_record
from crswatch.store._models import EventRow, PatientRow
from crswatch.store._version import bump_store_version
from crswatch.timeline import (
    Event,
    IngestIssue,
    Timeline,
    format_time,
)

__all__ = [
    "IngestSummary",
    "StoreConflict",
    "count_events",
    "event_from_row",
    "event_to_row",
    "get_patient_row",
    "ingest_timelines",
    "list_patients",
    "load_timeline",
    "patient_from_record",
]


class StoreConflict(Exception):  # noqa: N818 - a domain outcome, named for what it is
    """The batch conflicts with what is stored; ``issues`` names every conflict."""

    def __init__(self, issues: Sequence[IngestIssue]) -> None:
        self.issues = list(issues)
        super().__init__(f"{len(self.issues)} conflict(s) with stored data")


@dataclass(slots=True)
class IngestSummary:
    patients_created: list[str] = field(default_factory=list)
    patients_updated: list[str] = field(default_factory=list)
    events_stored: int = 0
    events_unchanged: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "patients_created": self.patients_created,
            "patients_updated": self.patients_updated,
            "events_stored": self.events_stored,
            "events_unchanged": self.events_unchanged,
        }


def _value_columns(value: Any) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "value_num": None,
        "value_code": None,
        "value_bool": None,
        "value_json": None,
    }
    if isinstance(value, bool):
        columns.update(value_type="bool", value_bool=value)
    elif isinstance(value, int | float):
        columns.update(value_type="num", value_num=float(value))
    elif isinstance(value, str):
        columns.update(value_type="code", value_code=value)
    else:
        columns.update(value_type="json", value_json={"value": value})
    return columns


def event_to_row(event: Event, patient_pk: int, now: datetime) -> EventRow:
    original = None if event.original_value is None else {"value": event.original_value}
    return EventRow(
        patient_pk=patient_pk,
        time=event.time,
        item=event.item,
        unit=event.unit,
        end=event.end,
        ref_low=event.ref_low,
        ref_high=event.ref_high,
        censored=event.censored,
        cause=event.cause,
        event_id=event.id,
        source=event.source,
        original_value=original,
        original_unit=event.original_unit,
        stored_at=now,
        **_value_columns(event.value),
    )


def _row_value(row: EventRow) -> Any:
    if row.value_type == "bool":
        return row.value_bool
    if row.value_type == "num":
        return row.value_num
    if row.value_type == "code":
        return row.value_code
    return (row.value_json or {}).get("value")


def event_from_row(row: EventRow) -> Event:
    return Event(
        time=row.time,
        item=row.item,
        value=_row_value(row),
        unit=row.unit,
        end=row.end,
        ref_low=row.ref_low,
        ref_high=row.ref_high,
        censored=row.censored,
        cause=row.cause,
        id=row.event_id,
        source=row.source,
        original_value=None if row.original_value is None else row.original_value.get("value"),
        original_unit=row.original_unit,
    )


def get_patient_row(session: Session, patient_id: str) -> PatientRow | None:
    return session.execute(
        select(PatientRow).where(PatientRow.patient_id == patient_id)
    ).scalar_one_or_none()


def list_patients(session: Session, limit: int, offset: int) -> tuple[list[PatientRow], int]:
    total = session.execute(select(func.count()).select_from(PatientRow)).scalar_one()
    rows = session.execute(
        select(PatientRow).order_by(PatientRow.patient_id).limit(limit).offset(offset)
    ).scalars()
    return list(rows), total


def count_events(session: Session, patient_pk: int) -> int:
    return session.execute(
        select(func.count()).select_from(EventRow).where(EventRow.patient_pk == patient_pk)
    ).scalar_one()


#: Patient fields known only later (the response is assessed weeks after the infusion; docs/
#: decisions/0022): a batch may add them to a stored patient, or leave them out (a client that
#: predates them), but never change them.
_LATER_FIELDS = ("response", "response_date")


def _merged_record(stored: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """The sent record with the later fields filled in from what is stored, where it has none."""
    merged = dict(sent)
    for key in _LATER_FIELDS:
        if key not in sent and key in stored:
            merged[key] = stored[key]
    # Through the model: the stored record stays in Patient.to_dict()'s canonical form.
    return patient_from_record(merged).to_dict()


def _patient_conflicts(stored: dict[str, Any], sent: dict[str, Any], pid: str) -> list[IngestIssue]:
    issues = []
    for key in sorted(set(stored) | set(sent)):
        if key in _LATER_FIELDS and key not in stored:
            continue  # filled in now: nothing stored changes
        if stored.get(key) != sent.get(key):
            issues.append(
                IngestIssue(
                    kind="conflict",
                    patient_id=pid,
                    field=f"patient.{key}",
                    value=sent.get(key),
                    reason=f"differs from the stored patient record ({stored.get(key)!r})",
                )
            )
    return issues


def ingest_timelines(session: Session, timelines: Sequence[Timeline]) -> IngestSummary:
    """Store validated timelines in the session's transaction; raise on any conflict.

    Every conflict is collected before anything is written, so a conflict leaves the store as
    it was (the caller's transaction is rolled back in any case).
    """
    summary = IngestSummary()
    issues: list[IngestIssue] = []
    plan: list[tuple[Timeline, PatientRow | None, list[Event], dict[str, Any]]] = []
    counts = Counter(timeline.patient.id for timeline in timelines)
    for pid in (pid for pid, count in counts.items() if count > 1):
        # Two timelines of one patient in one batch: which one is meant is not guessed.
        issues.append(
            IngestIssue(
                kind="conflict",
                patient_id=pid,
                field="patient.id",
                value=pid,
                reason=f"{counts[pid]} timelines of this patient in one batch; send one",
            )
        )
    if issues:
        raise StoreConflict(issues)
    for timeline in timelines:
        pid = timeline.patient.id
        record = timeline.patient.to_dict()
        row = get_patient_row(session, pid)
        new_events: list[Event] = list(timeline.events)
        if row is not None:
            record = _merged_record(row.record, record)
            issues += _patient_conflicts(row.record, record, pid)
            stored = load_timeline(session, pid)
            assert stored is not None
            by_key = {(e.item, e.time): e for e in stored.events}
            new_events = []
            for event in timeline.events:
                existing = by_key.get((event.item, event.time))
                if existing is None:
                    new_events.append(event)
                elif existing == event:
                    summary.events_unchanged += 1
                else:
                    issues.append(
                        IngestIssue(
                            kind="conflict",
                            patient_id=pid,
                            field="time",
                            value=format_time(event.time),
                            reason=(
                                f"an event of item {event.item!r} at this time is stored with "
                                "different content; stored events are never overwritten"
                            ),
                            event_id=event.id,
                        )
                    )
        plan.append((timeline, row, new_events, record))
    if issues:
        raise StoreConflict(issues)
    now = datetime.now(UTC)
    for timeline, row, new_events, record in plan:
        if row is None:
            row = PatientRow(
                patient_id=timeline.patient.id,
                record=record,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            summary.patients_created.append(timeline.patient.id)
        elif new_events or record != row.record:
            row.record = record  # a later field filled in (_LATER_FIELDS); nothing else differs
            row.updated_at = now
            summary.patients_updated.append(timeline.patient.id)
        session.add_all(event_to_row(event, row.pk, now) for event in new_events)
        summary.events_stored += len(new_events)
    if summary.patients_created or summary.patients_updated or summary.events_stored:
        # In this transaction: the version changes exactly when what is stored does.
        bump_store_version(session)
    session.flush()
    return summary
