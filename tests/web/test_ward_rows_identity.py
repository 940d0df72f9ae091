"""The ward's rows from cached frames, with results kept between refreshes, are the old rows.

Issue 16 point 7 rebuilt ``ward_rows``: frames of each record instead of one ``to_frames`` over
the ward's timelines, only the state the two scales read, the row's facts in one aggregation,
and the trajectories (ICE gaps, blinatumomab courses) kept per stored version.  Each test
compares whole ``WardRow`` values (every field, alerts and "why" included) with
``reference_ward_rows``, the code before the change kept verbatim in ``tests/web``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crswatch.scales import CRS_SCALES
from crswatch.simulate import demo_ward
from crswatch.store import Store, TimelineCache, cached_patients, ingest_timelines
from crswatch.timeline import Event, Timeline, to_frames
from crswatch.web._pages import _ward_record
from crswatch.web._ward import (
    _COURSE,
    _HLH_MET,
    _HLH_POINTS,
    TIMELINE_KINDS,
    WardRecord,
    WardRow,
    ward_records,
    ward_rows,
    ward_rows_of,
)
from tests.web.ward import NOW, make_ward, simulated_ward
from tests.web.ward_reference import reference_ward_rows

CLOCK = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
#: The demo ward's clock, an instant between events (records have events after it), and days
#: before (most records shorter, some patients not yet treated).
MOMENTS = (CLOCK, CLOCK - timedelta(hours=13, minutes=7, seconds=5), CLOCK - timedelta(days=3))


@pytest.fixture(scope="module")
def ward() -> list[Timeline]:
    return demo_ward(clock=CLOCK)


class Kept:
    """A ``keep`` per patient over a dict, counting what was computed (the app's cache's role)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, Hashable], Any] = {}
        self.computed_by_kind: Counter[str] = Counter()

    @property
    def computed(self) -> int:
        """The courses computed (the trajectories; ``computed_by_kind`` counts every kind)."""
        return self.computed_by_kind[_COURSE]

    def keep(self, patient_id: str) -> Callable[[Hashable, Callable[[], Any]], Any]:
        def keep(key: Hashable, compute: Callable[[], Any]) -> Any:
            if (patient_id, key) not in self.values:
                kind = key[0] if isinstance(key, tuple) else key
                self.computed_by_kind[str(kind)] += 1
                self.values[patient_id, key] = compute()
            return self.values[patient_id, key]

        return keep

    def forget(self, patient_id: str) -> None:
        """As a write to the patient does: a new stored version keeps nothing yet."""
        self.values = {k: v for k, v in self.values.items() if k[0] != patient_id}

    def records(self, timelines: list[Timeline]) -> list[WardRecord]:
        return [
            replace(record, keep=self.keep(t.patient.id))
            for record, t in zip(ward_records(timelines), timelines, strict=True)
        ]


def _assert_same(new: list[WardRow], old: list[WardRow]) -> None:
    assert [row.patient_id for row in new] == [row.patient_id for row in old]
    for mine, theirs in zip(new, old, strict=True):
        assert mine == theirs, mine.patient_id


@pytest.mark.parametrize("now", MOMENTS, ids=["clock", "between-events", "3-days-before"])
@pytest.mark.parametrize("scale", ["astct2019", "lee2014"])
def test_the_demo_wards_rows_are_the_reference_rows(
    ward: list[Timeline], now: datetime, scale: str
) -> None:
    _assert_same(
        ward_rows(ward, now, crs_scale=scale), reference_ward_rows(ward, now, crs_scale=scale)
    )


@pytest.mark.parametrize("scale", sorted(CRS_SCALES))
def test_every_crs_scale_gives_the_reference_rows(scale: str) -> None:
    records = make_ward()
    _assert_same(
        ward_rows(records, NOW, crs_scale=scale), reference_ward_rows(records, NOW, crs_scale=scale)
    )


def test_simulated_patients_give_the_reference_rows() -> None:
    records = simulated_ward(8, seed=16, now=NOW)
    _assert_same(ward_rows(records, NOW), reference_ward_rows(records, NOW))


def test_a_now_in_another_zone_is_the_same_instant(ward: list[Timeline]) -> None:
    local = (CLOCK - timedelta(hours=13, minutes=7)).astimezone(ZoneInfo("America/New_York"))
    _assert_same(ward_rows(ward, local), reference_ward_rows(ward, local))


def test_kept_results_give_the_same_rows_and_are_computed_once(ward: list[Timeline]) -> None:
    kept = Kept()
    records = kept.records(ward)
    expected = reference_ward_rows(ward, CLOCK)
    _assert_same(ward_rows_of(records, CLOCK), expected)
    assert kept.computed == len(ward)
    _assert_same(ward_rows_of(records, CLOCK), expected)
    assert kept.computed == len(ward)  # nothing recomputed on the refresh
    # Another minute, with no new event: still nothing to recompute.
    later = CLOCK + timedelta(minutes=1)
    _assert_same(ward_rows_of(records, later), reference_ward_rows(ward, later))
    assert kept.computed == len(ward)
    # Earlier, when some records had fewer events: those are computed for that moment.
    earlier = MOMENTS[1]
    _assert_same(ward_rows_of(records, earlier), reference_ward_rows(ward, earlier))
    assert kept.computed > len(ward)


def test_a_changed_record_is_recomputed_alone(ward: list[Timeline]) -> None:
    kept = Kept()
    ward_rows_of(kept.records(ward), CLOCK)
    # A blinatumomab patient and an ICANS patient gain a fever (as a bedside entry would).
    changed = {"ward-08", "ward-23"}
    fever = Event(CLOCK - timedelta(minutes=30), "temperature", 39.4, "Cel")
    newer = [
        Timeline(t.patient, tuple(sorted((*t.events, fever), key=lambda e: e.time)))
        if t.patient.id in changed
        else t
        for t in ward
    ]
    for patient_id in changed:
        kept.forget(patient_id)
    before = kept.computed
    _assert_same(ward_rows_of(kept.records(newer), CLOCK), reference_ward_rows(newer, CLOCK))
    assert kept.computed == before + len(changed)


def test_a_kind_that_reads_the_timeline_needs_it(ward: list[Timeline]) -> None:
    (blinatumomab,) = [t for t in ward if t.patient.id == "ward-08"]
    assert blinatumomab.patient.therapy.kind in TIMELINE_KINDS
    with pytest.raises(ValueError, match="needs its timeline"):
        ward_rows_of([WardRecord(to_frames([blinatumomab]))], CLOCK)


def test_the_stores_cached_frames_give_the_reference_rows(
    ward: list[Timeline], tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ward.db'}")
    try:
        with store.transaction() as session:
            ingest_timelines(session, ward)
        cache = TimelineCache()
        ids = [t.patient.id for t in ward]
        expected = reference_ward_rows(ward, CLOCK)
        for _ in range(2):  # read from the store, then from the cache with results kept
            with store.transaction() as session:
                found = cached_patients(cache, session, ids, timeline_kinds=TIMELINE_KINDS)
            records = [_ward_record(cache, patient) for patient in found]
            _assert_same(ward_rows_of(records, CLOCK), expected)
        assert cache.result_hits > 0
    finally:
        store.dispose()


def test_screens_are_kept_per_interval_between_change_points(ward: list[Timeline]) -> None:
    """Decision 0073: the screens met are kept per interval between the HLH change points
    (and per UTC date): a refresh inside the interval computes none, one that enters another
    interval computes that patient's alone, and every row stays the row computed afresh."""
    kept = Kept()
    records = kept.records(ward)
    _assert_same(ward_rows_of(records, CLOCK), reference_ward_rows(ward, CLOCK))
    assert kept.computed_by_kind[_HLH_MET] == kept.computed_by_kind[_HLH_POINTS] == len(ward)
    # Walk back and forth over three days, twenty minutes apart: each moment's rows are the
    # rows of records with nothing kept; screens are computed only where the interval changed.
    moments = [CLOCK - timedelta(days=3) + timedelta(minutes=20 * step) for step in range(30)]
    moments += [moments[4] + timedelta(minutes=3), moments[4] + timedelta(minutes=7)]
    computed = kept.computed_by_kind[_HLH_MET]
    for now in moments:
        _assert_same(ward_rows_of(records, now), ward_rows(ward, now))
    assert kept.computed_by_kind[_HLH_POINTS] == len(ward)  # a function of the record
    fresh = kept.computed_by_kind[_HLH_MET] - computed
    assert 0 < fresh < len(ward) * len(moments) // 2
    # The same moments again: every interval and date was seen, nothing is computed.
    again = kept.computed_by_kind[_HLH_MET]
    for now in moments:
        _assert_same(ward_rows_of(records, now), ward_rows(ward, now))
    assert kept.computed_by_kind[_HLH_MET] == again
