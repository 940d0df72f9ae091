"""``cached_patients``: many patients' frames through the cache, exact after every write."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from crswatch.simulate import demo_ward
from crswatch.store import (
    CachedPatient,
    Store,
    TimelineCache,
    cached_patients,
    ingest_timelines,
    load_frames,
    load_timeline,
)
from crswatch.timeline import Event, Timeline, to_frames

CLOCK = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
#: Two CAR T patients and a blinatumomab patient of the demo ward.
IDS = ["ward-01", "ward-02", "ward-08"]


def _ward(store: Store) -> list[Timeline]:
    chosen = [t for t in demo_ward(clock=CLOCK) if t.patient.id in IDS]
    with store.transaction() as session:
        ingest_timelines(session, chosen)
    return chosen


def _read(store: Store, cache: TimelineCache, ids: list[str]) -> tuple[list[CachedPatient], int]:
    """``cached_patients`` and the number of queries it sent to the database."""
    sent: list[str] = []

    def count(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
            sent.append(str(args[2]))

    sa_event.listen(store.engine, "before_cursor_execute", count)
    try:
        with store.transaction() as session:
            found = cached_patients(cache, session, ids, timeline_kinds={"blinatumomab"})
    finally:
        sa_event.remove(store.engine, "before_cursor_execute", count)
    return found, len(sent)


def test_frames_are_the_stores_and_timelines_only_for_the_kinds_asked(store: Store) -> None:
    _ward(store)
    cache = TimelineCache()
    found, _ = _read(store, cache, [*IDS, "nobody"])
    assert [p.patient_id for p in found] == IDS
    with store.transaction() as session:
        for patient in found:
            expected = load_frames(session, patient.patient_id)
            assert expected is not None
            assert patient.frames[0].equals(expected[0])
            assert patient.frames[1].equals(expected[1])
            if patient.patient_id == "ward-08":
                assert patient.timeline == load_timeline(session, patient.patient_id)
            else:
                assert patient.timeline is None
            assert patient.marker is not None


def test_unchanged_patients_cost_one_query_and_a_write_is_seen(store: Store) -> None:
    ward = _ward(store)
    cache = TimelineCache()
    first, _ = _read(store, cache, IDS)
    again, statements = _read(store, cache, IDS)
    assert statements == 1  # the markers, nothing else
    for before, after in zip(first, again, strict=True):
        assert after.frames is before.frames and after.timeline is before.timeline
    # A fever charted for the blinatumomab patient: its frames and timeline are read again.
    (blinatumomab,) = [t for t in ward if t.patient.id == "ward-08"]
    fever = Event(CLOCK + timedelta(minutes=5), "temperature", 39.1, "Cel")
    with store.transaction() as session:
        ingest_timelines(session, [replace(blinatumomab, events=(fever,))])
    latest, _ = _read(store, cache, IDS)
    changed = latest[2]
    assert changed.marker != first[2].marker
    assert changed.frames[1].height == first[2].frames[1].height + 1
    assert changed.timeline is not None and changed.timeline.events[-1] == fever
    assert latest[0].frames is first[0].frames  # the others are untouched


def test_a_timeline_newer_than_the_frames_gives_its_own_frames(store: Store) -> None:
    """A write between reading the frames and the timeline: the row must not mix versions."""
    _ward(store)
    fever = Event(CLOCK + timedelta(minutes=5), "temperature", 39.1, "Cel")

    class WriteBetween(TimelineCache):
        def load(self, session: Session, patient_id: str) -> Timeline | None:
            found = super().load(session, patient_id)
            assert found is not None
            return Timeline(found.patient, (*found.events, fever))

    found, _ = _read(store, WriteBetween(), IDS)
    newer = found[2]
    assert newer.marker is None  # no version names this pair: nothing is kept under it
    assert newer.timeline is not None and newer.timeline.events[-1] == fever
    expected = to_frames([newer.timeline])
    assert newer.frames[0].equals(expected[0]) and newer.frames[1].equals(expected[1])
    assert found[0].marker is not None


def test_an_app_state_object_is_made_once_across_threads() -> None:
    """``app_state_object``: one object per app state, however many threads ask at once (the
    timeline cache, the ward's memo)."""
    import threading
    import time
    from types import SimpleNamespace

    from crswatch.store import app_state_object

    state = SimpleNamespace()
    made: list[object] = []

    def make() -> object:
        time.sleep(0.01)  # long enough for the other threads to arrive
        made.append(object())
        return made[-1]

    found: list[object] = []
    threads = [
        threading.Thread(target=lambda: found.append(app_state_object(state, "memo", make)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert all(value is made[0] for value in found) and len(found) == 8
    assert app_state_object(SimpleNamespace(), "memo", make) is not made[0]
