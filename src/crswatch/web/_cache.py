"""A per-process cache of stored timelines, checked against the store on every use.

Loading a timeline builds one ORM row and one ``Event`` per stored event: about 0.1 s for a
demo-ward patient and 5 s for 30 days of 5-minute vital signs (60,000 events), the largest cost
of the patient page on long records, and paid again by every 30-second refresh of the ward.
The dashboard's pages read through this cache instead (decision 0024).

Never stale: every read asks the store for the patient's marker (its record, its number of
events and its largest event key: one aggregate query) and reuses the cached timeline only when
the marker is unchanged.  Events are only ever appended (the store has no update or delete of
events) with increasing keys, and a later patient field (the response) changes the record, so
a bedside entry, an ingest through the API or another process's write all change the marker.
Results are not cached: they depend on the evaluation time, the wall clock.

Bounded by the number of cached events (least recently used first out); thread-safe (the pages
run in the thread pool).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crswatch.errors import InputError
from crswatch.store import EventRow, PatientRow, load_timeline
from crswatch.timeline import Timeline

__all__ = ["DEFAULT_MAX_EVENTS", "TimelineCache"]

#: About 0.5-1 KB per cached event: a few hundred MB at most.
DEFAULT_MAX_EVENTS = 500_000

Marker = tuple[int, int | None, dict[str, Any]]


class TimelineCache:
    """Stored timelines by patient id, each with the store marker it was loaded at."""

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 0:
            raise InputError(f"max_events={max_events!r} must be a non-negative integer")
        self.max_events = max_events
        self._entries: OrderedDict[str, tuple[Marker, Timeline]] = OrderedDict()
        self._lock = threading.Lock()
        #: Reads answered from the cache and from the store (for tests and the benchmark).
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _markers(session: Session, patient_ids: Sequence[str]) -> dict[str, Marker]:
        # Correlated subqueries, not GROUP BY the record: PostgreSQL cannot group a JSON column.
        mine = EventRow.patient_pk == PatientRow.pk
        rows = session.execute(
            select(
                PatientRow.patient_id,
                PatientRow.record,
                select(func.count(EventRow.pk)).where(mine).scalar_subquery(),
                select(func.max(EventRow.pk)).where(mine).scalar_subquery(),
            ).where(PatientRow.patient_id.in_(list(patient_ids)))
        )
        return {pid: (int(count), last, record) for pid, record, count, last in rows}

    def load(self, session: Session, patient_id: str) -> Timeline | None:
        """The patient's stored timeline (as ``load_timeline``), or None if not stored."""
        return self.load_many(session, [patient_id]).get(patient_id)

    def load_many(self, session: Session, patient_ids: Sequence[str]) -> dict[str, Timeline]:
        """The stored timelines of ``patient_ids`` that exist, by id."""
        found: dict[str, Timeline] = {}
        # Chunks keep the IN list within every database's limit on bound parameters.
        for start in range(0, len(patient_ids), 500):
            chunk = patient_ids[start : start + 500]
            for pid, marker in self._markers(session, chunk).items():
                cached = self._get(pid, marker)
                if cached is None:
                    cached = load_timeline(session, pid)
                    if cached is None:  # removed between the two queries: not stored
                        continue
                    self._put(pid, marker, cached)
                found[pid] = cached
        return found

    def _get(self, patient_id: str, marker: Marker) -> Timeline | None:
        with self._lock:
            entry = self._entries.get(patient_id)
            if entry is None or entry[0] != marker:
                self.misses += 1
                return None
            self._entries.move_to_end(patient_id)
            self.hits += 1
            return entry[1]

    def _put(self, patient_id: str, marker: Marker, timeline: Timeline) -> None:
        with self._lock:
            self._entries[patient_id] = (marker, timeline)
            self._entries.move_to_end(patient_id)
            total = sum(len(t.events) for _, t in self._entries.values())
            while self._entries and total > self.max_events:
                _, (_, dropped) = self._entries.popitem(last=False)
                total -= len(dropped.events)
