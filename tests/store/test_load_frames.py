"""Column-wise loading (store._frames) equals the ORM path it replaced, on SQLite and PostgreSQL.

``load_frames`` must be ``to_frames(load_timeline(...))`` frame for frame (values, types,
order), and the new ``load_timeline`` the old ORM one (``select(EventRow)`` → ``event_from_row``),
provenance (``original_value``/``original_unit``, not part of ``Event`` equality) included.
The frames are read on the driver's cursor and decoded column-wise (decision 0067): they must
also equal the frames made from SQLAlchemy's own result processing, bit for bit, on edge cases,
and the cache's frames made from an older version and the rows written since must equal a
full read.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from crswatch.io import read_json_document
from crswatch.simulate import demo_ward, iter_cohort
from crswatch.store import (
    EventRow,
    Store,
    TimelineCache,
    _frames,
    ingest_timelines,
    load_frames,
    load_timeline,
)
from crswatch.store._event_read import read_event_frame
from crswatch.store._frames import load_stored
from crswatch.store._patients import event_from_row, get_patient_row, patient_from_record
from crswatch.timeline import EVENT_FRAME_SCHEMA, PATIENT_FRAME_SCHEMA, Timeline, to_frames
from tests.builders import ev, timeline
from tests.conftest import BASE_DOCUMENT

CLOCK = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def _orm_timeline(session: Session, patient_id: str) -> Timeline | None:
    """``load_timeline`` as it was before decision 0025: ORM rows, then ``Event``."""
    row = get_patient_row(session, patient_id)
    if row is None:
        return None
    events = session.execute(
        select(EventRow).where(EventRow.patient_pk == row.pk).order_by(EventRow.time)
    ).scalars()
    return Timeline(patient_from_record(row.record), tuple(event_from_row(e) for e in events))


def _provenance(found: Timeline) -> list[tuple[object, ...]]:
    return [(e.item, e.time, e.original_value, e.original_unit) for e in found.events]


def _every_kind() -> Timeline:
    """Every stored column: codes, booleans, scores, censoring, causes, ends, ids, conversions."""
    document = copy.deepcopy(BASE_DOCUMENT)
    (base,) = read_json_document(document).timelines
    extra = timeline(
        [
            ev(1, "temperature", 101.3, "[degF]", id="t-1", source="monitor"),
            ev(2, "o2_device", "nasal_cannula"),
            ev(3, "crp", 12.5, "mg/dL", ref_high=0.5, cause="other", source="LIS"),
            ev(4, "il6", 2.0, "pg/mL", censored="below_lod"),
            ev(5, "norepinephrine", 6, "ug/min", end_hours=9),
            ev(6, "ice_score", 7),
            ev(6, "ferritin", 900, "ng/mL", ref_low=20, ref_high=300),
            ev(7, "sedation", True),
            ev(7, "tremor", False),
        ],
        patient_id=base.patient.id,
        **{k: v for k, v in base.patient.to_dict().items() if k != "id"},
    )
    return Timeline(base.patient, base.events + extra.events)


def _cohort() -> list[Timeline]:
    return [_every_kind(), *iter_cohort(3, seed=11), *demo_ward(6, clock=CLOCK)]


@pytest.fixture
def stored(store: Store) -> tuple[Store, list[Timeline]]:
    timelines = _cohort()
    with store.transaction() as session:
        ingest_timelines(session, timelines)
    return store, timelines


def test_the_timeline_equals_the_orm_path_and_what_was_ingested(
    stored: tuple[Store, list[Timeline]],
) -> None:
    store, timelines = stored
    assert any(e.original_unit for e in timelines[0].events)  # a conversion is checked
    with store.transaction() as session:
        for sent in timelines:
            new = load_timeline(session, sent.patient.id)
            old = _orm_timeline(session, sent.patient.id)
            assert new is not None and old is not None
            assert new == old == sent
            assert _provenance(new) == _provenance(old) == _provenance(sent)
        assert load_timeline(session, "nobody") is None


def test_the_frames_equal_to_frames_of_the_timeline(stored: tuple[Store, list[Timeline]]) -> None:
    store, timelines = stored
    with store.transaction() as session:
        for sent in timelines:
            frames = load_frames(session, sent.patient.id)
            reference = to_frames([_orm_timeline(session, sent.patient.id)])  # type: ignore[list-item]
            assert frames is not None
            patients, events = frames
            assert patients.schema == pl.Schema(PATIENT_FRAME_SCHEMA)
            assert events.schema == pl.Schema(EVENT_FRAME_SCHEMA)
            assert patients.equals(reference[0])
            assert events.equals(reference[1])
            assert events.height == len(sent.events)
        assert load_frames(session, "nobody") is None
    # The every-kind patient really has each value column and a non-attributable event.
    with store.transaction() as session:
        found = load_frames(session, timelines[0].patient.id)
    assert found is not None
    events = found[1]
    for column in ("value_num", "value_code", "value_bool", "end", "censored", "event_id"):
        assert events[column].drop_nulls().len() > 0, column
    assert events.filter(~pl.col("attributable"))["item"].to_list() == ["crp"]
    fahrenheit = events.filter(pl.col("event_id") == "t-1")
    assert fahrenheit["value_num"].to_list() == [pytest.approx(38.5)]


def test_a_patient_without_events_has_empty_frames(store: Store) -> None:
    alone = timeline([], patient_id="EMPTY")
    with store.transaction() as session:
        ingest_timelines(session, [alone])
    with store.transaction() as session:
        found = load_frames(session, "EMPTY")
        assert load_timeline(session, "EMPTY") == alone
    assert found is not None
    reference = to_frames([alone])
    assert found[0].equals(reference[0]) and found[1].equals(reference[1])
    assert found[1].height == 0 and found[1].schema == pl.Schema(EVENT_FRAME_SCHEMA)


# ----------------------------------------------------------- the column-wise read (decision 0067)


def _typed_frames(session: Session, patient_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The frames through SQLAlchemy's result processing (Core rows): the reference path."""
    stored = load_stored(session, patient_id)
    assert stored is not None
    return stored.frames()


def _same(
    found: tuple[pl.DataFrame, pl.DataFrame], wanted: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    """Equal frames, schema and order, with every float equal by its bits (-0.0 is not 0.0)."""
    assert found[0].schema == wanted[0].schema and found[0].equals(wanted[0])
    assert found[1].schema == wanted[1].schema and found[1].equals(wanted[1])
    for column in ("value_num", "ref_low", "ref_high"):
        bits = [pl.col(column).reinterpret(signed=True)]
        assert found[1].select(bits).equals(wanted[1].select(bits)), column


def _edges() -> Timeline:
    """Sub-second and zoned times, ends or none, codes, booleans, censoring, awkward texts."""
    events = [
        ev(0, "temperature", 38.123456789012, "Cel", id='a,b;"quoted" \\n', source="é ü ✓"),
        {"time": "2024-01-01T08:00:00.000001Z", "item": "heart_rate", "value": 101, "unit": "/min"},
        {"time": "2024-01-01T09:30:00.5+01:30", "item": "sbp", "value": 88, "unit": "mm[Hg]"},
        {"time": "2024-01-01T07:59:59.999999-02:00", "item": "spo2", "value": 93, "unit": "%"},
        ev(1, "o2_device", "high_flow_nasal_cannula"),
        ev(1, "o2_flow", 40, "L/min", end="2024-01-01T12:00:00.250000Z"),
        ev(2, "norepinephrine", 0.05, "ug/kg/min", end_hours=2.000001),
        ev(2, "dopamine", 5, "ug/kg/min"),
        ev(3, "il6", 1.5, "pg/mL", censored="below_lod", ref_high=7.0),
        ev(3, "ferritin", 100000, "ng/mL", censored="above_uloq", ref_low=0.0, ref_high=-0.0),
        ev(4, "sedation", True),
        ev(4, "tremor", False),
        ev(5, "crp", 0.1 + 0.2, "mg/L", cause="other", id=""),
        ev(5, "ice_score", 0),
    ]
    return timeline(events, patient_id="EDGES")


def test_edge_values_equal_the_reference_paths(store: Store) -> None:
    edges = _edges()
    with store.transaction() as session:
        ingest_timelines(session, [edges])
    with store.transaction() as session:
        found = load_frames(session, "EDGES")
        assert found is not None
        _same(found, _typed_frames(session, "EDGES"))
        _same(found, to_frames([_orm_timeline(session, "EDGES")]))  # type: ignore[list-item]
        _same(found, to_frames([edges]))
    events = found[1]
    times = events["time"].dt.strftime("%H:%M:%S%.6f").to_list()
    assert "08:00:00.000001" in times and "08:00:00.500000" in times and "09:59:59.999999" in times
    assert events["end"].null_count() == events.height - 2
    assert events.filter(pl.col("item") == "sedation")["value_bool"].to_list() == [True]
    assert events.filter(pl.col("item") == "tremor")["value_bool"].to_list() == [False]


def test_a_json_value_is_in_no_value_column(store: Store) -> None:
    """A row of value type json (not written by today's readers) reads as ``Event`` would."""
    with store.transaction() as session:
        ingest_timelines(session, [timeline([ev(1, "temperature", 37.0, "Cel")], patient_id="J")])
    with store.transaction() as session:
        row = get_patient_row(session, "J")
        assert row is not None
        session.execute(
            insert(EventRow).values(
                patient_pk=row.pk,
                time=datetime(2024, 1, 1, 10, tzinfo=UTC),
                item="note",
                value_type="json",
                value_num=1.0,  # never read for a json value
                value_json={"value": [1, "two"]},
                stored_at=CLOCK,
            )
        )
    with store.transaction() as session:
        found = load_frames(session, "J")
        assert found is not None
        _same(found, _typed_frames(session, "J"))
    note = found[1].filter(pl.col("item") == "note")
    assert note.select("value_num", "value_code", "value_bool").row(0) == (None, None, None)


def test_sqlite_times_in_other_text_forms_are_decoded_as_sqlalchemy_decodes_them(
    database_url: str,
) -> None:
    """Times SQLAlchemy did not write (no fraction, an offset, a ``T``): its decoding decides."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite keeps times as text")
    store = Store(database_url)
    try:
        with store.transaction() as session:
            ingest_timelines(session, [_edges()])
            session.execute(
                text("UPDATE events SET time = '2024-01-01 11:00:00' WHERE item = 'dopamine'")
            )
            session.execute(
                text(
                    "UPDATE events SET \"end\" = '2024-01-01T12:30:00+02:00' WHERE item = 'o2_flow'"
                )
            )
        with store.transaction() as session:
            found = load_frames(session, "EDGES")
            assert found is not None
            _same(found, _typed_frames(session, "EDGES"))
        flow = found[1].filter(pl.col("item") == "o2_flow")["end"].to_list()
        assert flow == [datetime(2024, 1, 1, 10, 30, tzinfo=UTC)]
    finally:
        store.dispose()


def test_other_databases_read_through_sqlalchemy(
    stored: tuple[Store, list[Timeline]], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, timelines = stored
    with store.transaction() as session:
        fast = [load_frames(session, t.patient.id) for t in timelines]
    monkeypatch.setattr(_frames, "fast_read_supported", lambda session: False)
    with store.transaction() as session:
        for sent, found in zip(timelines, fast, strict=True):
            typed = load_frames(session, sent.patient.id)
            assert typed is not None and found is not None
            _same(found, typed)


def test_the_read_is_bounded_by_event_keys(stored: tuple[Store, list[Timeline]]) -> None:
    store, timelines = stored
    pid = timelines[0].patient.id
    with store.transaction() as session:
        row = get_patient_row(session, pid)
        assert row is not None
        keys = sorted(
            session.execute(select(EventRow.pk).where(EventRow.patient_pk == row.pk)).scalars()
        )
        whole = read_event_frame(session, row.pk, pid)
        first = read_event_frame(session, row.pk, pid, upto=keys[9])
        rest = read_event_frame(session, row.pk, pid, after=keys[9], upto=keys[-1])
        full = load_frames(session, pid)
    assert full is not None and whole.frame.equals(full[1])
    assert (whole.count, whole.last) == (len(keys), keys[-1])
    assert (first.count, first.last, rest.count, rest.last) == (
        10,
        keys[9],
        len(keys) - 10,
        keys[-1],
    )
    merged = pl.concat([first.frame, rest.frame]).sort(
        "patient_id", "time", "item", maintain_order=True
    )
    assert merged.equals(full[1])


# ------------------------------------------------------------- the cache reads only what is new


def _more(patient: Timeline, hours: list[float], **record: Any) -> Timeline:
    """A later batch of the same patient: new events (earlier and later than the stored ones)."""
    document = copy.deepcopy(BASE_DOCUMENT)
    document["patient"].update(record)
    document["events"] = [ev(h, "heart_rate", 90 + h % 10, "/min") for h in hours]
    read = read_json_document(document)
    assert read.report.ok, [issue.message for issue in read.report.issues]
    (batch,) = read.timelines
    assert batch.patient.id == patient.patient.id
    return batch


def test_the_cache_appends_the_events_written_since_and_equals_a_full_read(store: Store) -> None:
    (base,) = read_json_document(copy.deepcopy(BASE_DOCUMENT)).timelines
    pid = base.patient.id
    with store.transaction() as session:
        ingest_timelines(session, [base])
    cache = TimelineCache()
    with store.transaction() as session:
        assert cache.frames(session, pid) is not None
    assert cache.appended == 0
    for batch in (
        _more(base, [-30.5, 1464.5, 2000.0]),  # before, among and after the stored events
        _more(base, [], response="CR", response_date="2024-04-02"),  # the record alone
        _more(base, [1465.5, 1466.5], response="CR", response_date="2024-04-02"),
        _more(base, [2100.0, 2101.0], response="CR", response_date="2024-04-02"),  # after all
    ):
        with store.transaction() as session:
            summary = ingest_timelines(session, [batch])
        assert summary.events_stored == len(batch.events)
        with store.transaction() as session:
            found = cache.frames(session, pid)
            full = load_frames(session, pid)
        assert found is not None and full is not None
        _same(found[1], full)
    assert cache.appended == 4
    assert found[1][0]["response"].to_list() == ["CR"]


def test_the_cache_reads_everything_when_the_numbers_do_not_add_up(store: Store) -> None:
    """A cached version missing a row (as if a smaller key committed late): not appended to."""
    (base,) = read_json_document(copy.deepcopy(BASE_DOCUMENT)).timelines
    pid = base.patient.id
    with store.transaction() as session:
        ingest_timelines(session, [base])
    cache = TimelineCache()
    with store.transaction() as session:
        loaded = cache.frames(session, pid)
    assert loaded is not None
    marker, (patients, events) = loaded
    cache._put(pid, marker, marker[0], frames=(patients, events.slice(1)))
    with store.transaction() as session:
        ingest_timelines(session, [_more(base, [1470.0])])
    with store.transaction() as session:
        found = cache.frames(session, pid)
        full = load_frames(session, pid)
    assert found is not None and full is not None
    _same(found[1], full)
    assert cache.appended == 0
