"""A per-app cache of stored patients (timeline and frames), checked against the store on every use.

Loading a patient is the largest part of a long record's page or grade: 0.5-0.7 s to read the
60,000 events of 30 days of 5-minute vital signs column-wise (``store._frames``; 5-7 s through
the ORM before), then 0.1-0.4 s to build the ``Timeline`` or the engines' frames.  The
dashboard's pages and the API's grade route read through one cache per app (decisions 0024
and 0025): the dashboard needs the ``Timeline``, the grade route the frames; each is built on
first use and kept with the other.

Never stale: every read asks the store for the patient's marker (its record, its number of
events and its largest event key: one aggregate query) and reuses the cached entry only when
the marker is unchanged.  Events are only ever appended (the store has no update or delete of
events) with increasing keys, and a later patient field (the response) changes the record, so
a bedside entry, an ingest through the API or another process's write all change the marker.
What is loaded after the marker query is at least as new as the marker; a write in between
is seen by the next read's marker and reloads.

Bounded by the number of cached events (least recently used first out); thread-safe (routes
and pages run in the thread pool; two concurrent misses both load, harmlessly).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crswatch.errors import InputError
from crswatch.store._event_read import fast_read_supported, read_event_frame
from crswatch.store._frames import event_frame, load_stored, patient_frame, patient_from_record
from crswatch.store._models import EventRow, PatientRow
from crswatch.timeline import Timeline

__all__ = [
    "DEFAULT_MAX_EVENTS",
    "Marker",
    "TimelineCache",
    "app_state_object",
    "app_timeline_cache",
]

#: About 0.5-1 KB per cached event (timeline and frames): a few hundred MB at most.
DEFAULT_MAX_EVENTS = 500_000
#: Results kept per patient version (e.g. grades at the last event for a few scale choices).
MAX_RESULTS_PER_PATIENT = 16

#: (number of events, largest event key, patient record): exact while events are append-only.
Marker = tuple[int, int | None, dict[str, Any]]
Frames = tuple[pl.DataFrame, pl.DataFrame]


@dataclass(slots=True)
class _Entry:
    marker: Marker
    size: int
    timeline: Timeline | None = None
    frames: Frames | None = None
    results: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict)


class TimelineCache:
    """Stored patients by id (timeline and/or frames), each with the marker it was loaded at."""

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events < 0:
            raise InputError(f"max_events={max_events!r} must be a non-negative integer")
        self.max_events = max_events
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        #: Reads answered from the cache and from the store (for tests and the benchmark).
        self.hits = 0
        self.misses = 0
        #: Results answered from / computed for ``result`` (kept apart from the reads above).
        self.result_hits = 0
        self.result_misses = 0
        #: Frames made from an older cached version and only the events written since.
        self.appended = 0

    @staticmethod
    def markers(session: Session, patient_ids: Sequence[str]) -> dict[str, Marker]:
        """The current marker of each stored patient among ``patient_ids`` (one query)."""
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

    # ----------------------------------------------------------------------------- timelines

    def load(self, session: Session, patient_id: str) -> Timeline | None:
        """The patient's stored timeline (as ``load_timeline``), or None if not stored."""
        return self.load_many(session, [patient_id]).get(patient_id)

    def load_many(self, session: Session, patient_ids: Sequence[str]) -> dict[str, Timeline]:
        """The stored timelines of ``patient_ids`` that exist, by id."""
        found: dict[str, Timeline] = {}
        # Chunks keep the IN list within every database's limit on bound parameters.
        for start in range(0, len(patient_ids), 500):
            chunk = patient_ids[start : start + 500]
            for pid, marker in self.markers(session, chunk).items():
                timeline = self._timeline(session, pid, marker)
                if timeline is not None:
                    found[pid] = timeline
        return found

    def _timeline(self, session: Session, patient_id: str, marker: Marker) -> Timeline | None:
        entry = self._get(patient_id, marker)
        if entry is not None and entry.timeline is not None:
            return entry.timeline
        stored = load_stored(session, patient_id)
        if stored is None:  # removed between the two queries: not stored
            return None
        timeline = stored.timeline()
        self._put(patient_id, marker, len(stored.rows), timeline=timeline)
        return timeline

    # -------------------------------------------------------------------------------- frames

    def frames(self, session: Session, patient_id: str) -> tuple[Marker, Frames] | None:
        """The patient's marker and ``(patients, events)`` frames (as ``to_frames``), or None."""
        marker = self.markers(session, [patient_id]).get(patient_id)
        if marker is None:
            return None
        entry = self._get(patient_id, marker)
        if entry is not None and entry.frames is not None:
            return marker, entry.frames
        pk = session.execute(
            select(PatientRow.pk).where(PatientRow.patient_id == patient_id)
        ).scalar_one_or_none()
        if pk is None:  # removed between the two queries: not stored
            return None
        frames = self._appended(session, pk, patient_id, marker)
        if frames is None:
            patient = patient_from_record(marker[2])
            # Exactly the marker's version: rows written since are the next version's.
            frames = patient_frame(patient), event_frame(session, pk, patient_id, upto=marker[1])
        self._put(patient_id, marker, marker[0], frames=frames)
        return marker, frames

    def _appended(
        self, session: Session, pk: int, patient_id: str, marker: Marker
    ) -> Frames | None:
        """The frames at ``marker`` from an older cached version and the rows written since.

        Events are only appended, with increasing keys, never changed or removed: so the
        events at ``marker`` are the cached ones and those with a key in ``(cached last,
        marker last]`` exactly when their numbers add up to the marker's (a row committed late
        with a smaller key makes them differ, and then everything is read).  Only for the
        column-wise reader (decision 0067).
        """
        with self._lock:
            old = self._entries.get(patient_id)
        if old is None or old.frames is None or not fast_read_supported(session):
            return None
        patients, events = old.frames
        last = old.marker[1]
        if last is None or marker[1] is None or marker[1] < last:
            return None
        if marker[1] > last:
            new = read_event_frame(session, pk, patient_id, after=last, upto=marker[1])
            if events.height + new.count != marker[0]:
                return None
            events = _merged(events, new.frame)
        elif events.height != marker[0]:
            return None
        if old.marker[2] != marker[2]:  # a later patient field (the response)
            patients = patient_frame(patient_from_record(marker[2]))
        with self._lock:
            self.appended += 1
        return patients, events

    # ------------------------------------------------------------------------------- results

    def result(
        self, patient_id: str, marker: Marker, key: Hashable, compute: Callable[[], Any]
    ) -> Any:
        """``compute()``, kept for this exact patient version and ``key``.

        Only for results that are a function of the stored data and ``key`` alone (no wall
        clock): the marker is exact, so a hit is the result the computation would give now.
        Callers must treat the value as read-only.
        """
        with self._lock:
            entry = self._entries.get(patient_id)
            if entry is not None and entry.marker == marker and key in entry.results:
                entry.results.move_to_end(key)
                self.result_hits += 1
                return entry.results[key]
            self.result_misses += 1
        value = compute()
        with self._lock:
            entry = self._entries.get(patient_id)
            if entry is not None and entry.marker == marker:
                entry.results[key] = value
                while len(entry.results) > MAX_RESULTS_PER_PATIENT:
                    entry.results.popitem(last=False)
        return value

    # ------------------------------------------------------------------------------ internal

    def _get(self, patient_id: str, marker: Marker) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(patient_id)
            if entry is None or entry.marker != marker:
                self.misses += 1
                return None
            self._entries.move_to_end(patient_id)
            self.hits += 1
            return entry

    def _put(
        self,
        patient_id: str,
        marker: Marker,
        size: int,
        *,
        timeline: Timeline | None = None,
        frames: Frames | None = None,
    ) -> None:
        with self._lock:
            entry = self._entries.get(patient_id)
            if entry is None or entry.marker != marker:
                entry = self._entries[patient_id] = _Entry(marker, size)
            if timeline is not None:
                entry.timeline = timeline
            if frames is not None:
                entry.frames = frames
            self._entries.move_to_end(patient_id)
            total = sum(e.size for e in self._entries.values())
            while self._entries and total > self.max_events:
                _, dropped = self._entries.popitem(last=False)
                total -= dropped.size


def _merged(events: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """Two event frames of one patient, each sorted by time and item, as one sorted frame.

    Readings that arrive after the last stored one (the usual write) are appended as they are;
    otherwise the whole frame is sorted (about 10 ms for 60,000 events).  ``(item, time)`` is
    unique in the store, so both give the order a full read gives.
    """
    if events.height and new.height:
        last = events.select("time", "item").row(-1)
        first = new.select("time", "item").row(0)
        if first <= last:
            return pl.concat([events, new]).sort("patient_id", "time", "item", maintain_order=True)
    return pl.concat([events, new], rechunk=True)


_CREATING = threading.Lock()
_T = TypeVar("_T")


def app_state_object(state: Any, name: str, make: Callable[[], _T]) -> _T:
    """``state.<name>`` (an app's state), made with ``make()`` on first use, once across the
    server's threads."""
    found: _T | None = getattr(state, name, None)
    if found is None:
        with _CREATING:
            found = getattr(state, name, None)
            if found is None:
                found = make()
                setattr(state, name, found)
    return found


def app_timeline_cache(state: Any) -> TimelineCache:
    """The cache on ``state.timelines`` (an app's state), made on first use.

    One per app, shared by its API routes and dashboard pages (apps in one process, as in the
    tests, do not share: each has its own store).
    """
    return app_state_object(state, "timelines", TimelineCache)
