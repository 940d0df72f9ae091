"""The ward's memo (decision 0078): the records' frames up to now and their state's
preparation kept between refreshes while no record changes; the rows stay the reference rows.

Every refresh is compared, whole ``WardRow`` values, with ``reference_ward_rows`` (the code
before issue 16's ward changes, kept verbatim in ``tests/web``); ``prepare_state`` is counted
to see what the memo kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import crswatch.state
import crswatch.web._ward as ward_module
from crswatch.simulate import demo_ward
from crswatch.timeline import Event, Timeline
from crswatch.web._ward import WardMemo, WardRecord, WardRow, ward_records, ward_rows_of
from tests.web.ward_reference import reference_ward_rows

CLOCK = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
#: An instant between events: some records have fewer events up to it than up to CLOCK.
EARLIER = CLOCK - timedelta(hours=13, minutes=7, seconds=5)


@pytest.fixture(scope="module")
def ward() -> list[Timeline]:
    return demo_ward(clock=CLOCK)


@pytest.fixture
def prepared(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The number of ``prepare_state`` calls the ward made."""
    calls: list[int] = []
    real = crswatch.state.prepare_state

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ward_module, "prepare_state", counted)
    yield calls


def _assert_same(new: list[WardRow], old: list[WardRow]) -> None:
    assert [row.patient_id for row in new] == [row.patient_id for row in old]
    for mine, theirs in zip(new, old, strict=True):
        assert mine == theirs, mine.patient_id


def _after_events(ward: list[Timeline], moment: datetime) -> int:
    return sum(1 for t in ward for e in t.events if moment < e.time <= CLOCK)


def test_refreshes_keep_the_frames_and_give_the_reference_rows(
    ward: list[Timeline], prepared: list[int]
) -> None:
    memo = WardMemo()
    records = ward_records(ward)
    expected = reference_ward_rows(ward, CLOCK)
    _assert_same(ward_rows_of(records, CLOCK, memo=memo), expected)
    assert len(prepared) == 1
    _assert_same(ward_rows_of(records, CLOCK, memo=memo), expected)
    assert len(prepared) == 1  # the refresh: nothing prepared again
    # Earlier, fewer events are known: prepared for that moment, and the rows are its rows.
    assert _after_events(ward, EARLIER) > 0
    _assert_same(ward_rows_of(records, EARLIER, memo=memo), reference_ward_rows(ward, EARLIER))
    assert len(prepared) == 2
    # Back at the clock: one slot, so prepared again.
    _assert_same(ward_rows_of(records, CLOCK, memo=memo), expected)
    assert len(prepared) == 3


def test_a_later_now_with_the_same_events_keeps_them(
    ward: list[Timeline], prepared: list[int]
) -> None:
    """The refresh's ``now`` moves every 30 s; the events up to it do not."""
    last = max(e.time for t in ward for e in t.events)
    memo = WardMemo()
    records = ward_records(ward)
    first, second = last + timedelta(minutes=1), last + timedelta(minutes=31)
    _assert_same(ward_rows_of(records, first, memo=memo), reference_ward_rows(ward, first))
    _assert_same(ward_rows_of(records, second, memo=memo), reference_ward_rows(ward, second))
    assert len(prepared) == 1


def test_a_changed_record_is_read_again(ward: list[Timeline], prepared: list[int]) -> None:
    memo = WardMemo()
    records = ward_records(ward)
    ward_rows_of(records, CLOCK, memo=memo)
    # One patient gains a fever (a bedside entry): the cache gives that record new frames.
    fever = Event(CLOCK - timedelta(minutes=30), "temperature", 39.4, "Cel")
    newer = [
        Timeline(t.patient, tuple(sorted((*t.events, fever), key=lambda e: e.time)))
        if t.patient.id == "ward-23"
        else t
        for t in ward
    ]
    changed = [
        fresh if t.patient.id == "ward-23" else record
        for t, record, fresh in zip(ward, records, ward_records(newer), strict=True)
    ]
    _assert_same(ward_rows_of(changed, CLOCK, memo=memo), reference_ward_rows(newer, CLOCK))
    assert len(prepared) == 2


def test_equal_frames_of_another_object_are_read_again(
    ward: list[Timeline], prepared: list[int]
) -> None:
    """Frames are compared by identity (the cache's objects for one stored version), never
    by content: a record read again is prepared again, with the same rows."""
    memo = WardMemo()
    ward_rows_of(ward_records(ward), CLOCK, memo=memo)
    again: list[WardRecord] = ward_records(ward)
    _assert_same(ward_rows_of(again, CLOCK, memo=memo), reference_ward_rows(ward, CLOCK))
    assert len(prepared) == 2
