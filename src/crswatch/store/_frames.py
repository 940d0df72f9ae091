"""A stored patient read column-wise: the engines' frames, or a ``Timeline``, without ORM rows.

``select(EventRow)`` builds one ORM object per row in the session's identity map (with its
change tracking) before a single ``Event`` exists: about 85 % of a grade of 30 days of
5-minute vital signs through the API (docs/benchmarks.md §3).  Here the columns are selected
with SQLAlchemy Core (plain tuples, the column types' own result processing, so times are
timezone-aware UTC on every backend) and turned either into the event frame of
``timeline.to_frames`` column by column, or into ``Event`` objects directly.  Both give what
``to_frames(old load_timeline(...))`` and the old ``load_timeline`` gave;
``tests/store/test_load_frames.py`` checks it on SQLite and PostgreSQL.

``load_frames`` and ``event_frame`` read the frames' columns on the driver's own cursor and
decode them a column at a time (``store._event_read``, decision 0067) on SQLite and
PostgreSQL, about 3x faster; the Core rows above remain the ``Timeline``'s path and the frames'
path on any other database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from crswatch.store._event_read import (
    fast_read_supported,
    finished_event_frame,
    read_event_frame,
)
from crswatch.store._models import EventRow, PatientRow
from crswatch.timeline import (
    EVENT_FRAME_SCHEMA,
    Event,
    IngestReport,
    Patient,
    Timeline,
    build_timeline,
    to_frames,
)

__all__ = [
    "StoredPatient",
    "event_frame",
    "load_frames",
    "load_stored",
    "load_timeline",
    "patient_frame",
    "patient_from_record",
]

#: The event columns read, in this order (the value split by type, as stored).
_COLUMNS = (
    EventRow.time,
    EventRow.item,
    EventRow.value_type,
    EventRow.value_num,
    EventRow.value_code,
    EventRow.value_bool,
    EventRow.value_json,
    EventRow.unit,
    EventRow.end,
    EventRow.ref_low,
    EventRow.ref_high,
    EventRow.censored,
    EventRow.cause,
    EventRow.event_id,
    EventRow.source,
    EventRow.original_value,
    EventRow.original_unit,
)


class StoredPatient:
    """One stored patient: its ``Patient`` and its event rows (``Row`` tuples of ``_COLUMNS``)."""

    __slots__ = ("patient", "rows")

    def __init__(self, patient: Patient, rows: Sequence[Sequence[Any]]) -> None:
        self.patient = patient
        self.rows = rows

    def timeline(self) -> Timeline:
        """The ``Timeline``, as ``load_timeline`` gives it."""
        return Timeline(self.patient, tuple(_event(row) for row in self.rows))

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """``(patients, events)`` as ``to_frames([self.timeline()])`` gives them."""
        return patient_frame(self.patient), _event_frame(self.patient.id, self.rows)


def patient_from_record(record: dict[str, Any]) -> Patient:
    """The ``Patient`` of a stored record (it was validated when stored)."""
    timeline = build_timeline(record, [], IngestReport())
    if timeline is None:  # pragma: no cover - stored records were valid
        raise ValueError("stored patient record no longer validates")
    return timeline.patient


def _patient_row(session: Session, patient_id: str) -> tuple[int, dict[str, Any]] | None:
    """The stored patient's key and record, or None."""
    found = session.execute(
        select(PatientRow.pk, PatientRow.record).where(PatientRow.patient_id == patient_id)
    ).one_or_none()
    return None if found is None else (found[0], found[1])


def load_stored(session: Session, patient_id: str) -> StoredPatient | None:
    """The patient's record and event rows (two queries), or None if not stored."""
    found = _patient_row(session, patient_id)
    if found is None:
        return None
    pk, record = found
    # Ordered by time only; the item order is Python's (Timeline, to_frames), not the
    # database collation's, which on PostgreSQL may ignore punctuation such as "_".
    rows = session.execute(
        select(*_COLUMNS).where(EventRow.patient_pk == pk).order_by(EventRow.time)
    ).all()
    return StoredPatient(patient_from_record(record), rows)


def load_timeline(session: Session, patient_id: str) -> Timeline | None:
    """The stored timeline, or None if the patient is not stored."""
    stored = load_stored(session, patient_id)
    return None if stored is None else stored.timeline()


def load_frames(session: Session, patient_id: str) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """The ``(patients, events)`` frames of the stored patient (``to_frames``), or None."""
    found = _patient_row(session, patient_id)
    if found is None:
        return None
    pk, record = found
    return patient_frame(patient_from_record(record)), event_frame(session, pk, patient_id)


def patient_frame(patient: Patient) -> pl.DataFrame:
    """``to_frames``' patient frame of one patient."""
    return to_frames([Timeline(patient, ())])[0]


def event_frame(
    session: Session, patient_pk: int, patient_id: str, *, upto: int | None = None
) -> pl.DataFrame:
    """``to_frames``' event frame of the patient's stored events (with key ``<= upto``)."""
    if fast_read_supported(session):
        return read_event_frame(session, patient_pk, patient_id, upto=upto).frame
    statement = select(*_COLUMNS).where(EventRow.patient_pk == patient_pk)
    if upto is not None:
        statement = statement.where(EventRow.pk <= upto)
    return _event_frame(patient_id, session.execute(statement).all())


def _value(value_type: str, num: Any, code: Any, flag: Any, other: Any) -> Any:
    if value_type == "num":
        return num
    if value_type == "code":
        return code
    if value_type == "bool":
        return flag
    return (other or {}).get("value")


def _event(row: Sequence[Any]) -> Event:
    # Indexed, not unpacked from slices: slicing a SQLAlchemy Row copies it (60,000 rows).
    original = row[15]
    return Event(
        time=row[0],
        item=row[1],
        value=_value(row[2], row[3], row[4], row[5], row[6]),
        unit=row[7],
        end=row[8],
        ref_low=row[9],
        ref_high=row[10],
        censored=row[11],
        cause=row[12],
        id=row[13],
        source=row[14],
        original_value=None if original is None else original.get("value"),
        original_unit=row[16],
    )


def _event_frame(patient_id: str, rows: Sequence[Sequence[Any]]) -> pl.DataFrame:
    # One list per column: about 4x faster than zip(*rows) over SQLAlchemy Rows.
    columns = [[row[index] for row in rows] for index in range(15)]
    (time, item, kind, num, code, flag, _, unit, end, low, high) = columns[:11]
    censored, cause, event_id, source = columns[11:]
    raw = pl.DataFrame(
        {
            "time": pl.Series(time, dtype=EVENT_FRAME_SCHEMA["time"]),
            "item": pl.Series(item, dtype=pl.String()),
            "kind": pl.Series(kind, dtype=pl.String()),
            "value_num": pl.Series(num, dtype=pl.Float64()),
            "value_code": pl.Series(code, dtype=pl.String()),
            "value_bool": pl.Series(flag, dtype=pl.Boolean()),
            "unit": pl.Series(unit, dtype=pl.String()),
            "end": pl.Series(end, dtype=EVENT_FRAME_SCHEMA["end"]),
            "ref_low": pl.Series(low, dtype=pl.Float64()),
            "ref_high": pl.Series(high, dtype=pl.Float64()),
            "censored": pl.Series(censored, dtype=pl.String()),
            "cause": pl.Series(cause, dtype=pl.String()),
            "event_id": pl.Series(event_id, dtype=pl.String()),
            "source": pl.Series(source, dtype=pl.String()),
        }
    )
    return finished_event_frame(raw, patient_id)
