"""Column-wise loading (store._frames) equals the ORM path it replaced, on SQLite and PostgreSQL.

``load_frames`` must be ``to_frames(load_timeline(...))`` frame for frame (values, types,
order), and the new ``load_timeline`` the old ORM one (``select(EventRow)`` → ``event_from_row``),
provenance (``original_value``/``original_unit``, not part of ``Event`` equality) included.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import polars as pl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crswatch.io import read_json_document
from crswatch.simulate import demo_ward, iter_cohort
from crswatch.store import EventRow, Store, ingest_timelines, load_frames, load_timeline
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
