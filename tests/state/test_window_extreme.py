"""The worst reading in a window, two ways: the range query and, for a few times, the join.

``window_extreme`` answers "the highest temperature (lowest SBP) in [T - window, T], its
reading, and how many readings" with a range query over every reading, built for trajectories
of thousands of times.  For a few times within one window of each other (the bedside, a ward
refresh) it joins each time with its window's readings instead, as one lazy plan
(docs/decisions/0080).  Both must give the same values, references and counts, including ties
(the latest reading of the extreme value), readings of another cause, readings without a value
and windows with nothing in them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crswatch.state import _common
from crswatch.state._common import window_extreme

_START = datetime(2024, 3, 1, tzinfo=UTC)
_WINDOW = timedelta(hours=24)
_UTC = pl.Datetime("us", "UTC")


def _events(rows: list[dict[str, Any]]) -> pl.LazyFrame:
    schema = {
        "patient_id": pl.UInt32,
        "time": _UTC,
        "item": pl.String,
        "event_id": pl.String,
        "value_num": pl.Float64,
        "attributable": pl.Boolean,
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    # The engine's events are in patient and time order (``in_patient_order``).
    return frame.sort("patient_id", "time", maintain_order=True).lazy()


def _times(pairs: list[tuple[int, datetime]]) -> pl.LazyFrame:
    return pl.DataFrame(pairs, schema={"patient_id": pl.UInt32, "at": _UTC}, orient="row").lazy()


def _both(
    times: pl.LazyFrame,
    events: pl.LazyFrame,
    how: Literal["max", "min"],
    *,
    attributable_only: bool = True,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    def run() -> pl.DataFrame:
        state = window_extreme(
            times,
            events,
            ("temperature",),
            _WINDOW,
            "x",
            how,
            attributable_only=attributable_only,
        )
        return state.collect().sort("patient_id", "at")

    joined = run()
    with monkeypatch.context() as patch:
        patch.setattr(_common, "_few_windows", lambda *_: False)
        ranged = run()
    return joined, ranged


def _reading(
    patient: int, minutes: int, value: float | None, *, attributable: bool = True, ref: str = ""
) -> dict[str, Any]:
    return {
        "patient_id": patient,
        "time": _START + timedelta(minutes=minutes),
        "item": "temperature",
        "event_id": ref or None,
        "value_num": value,
        "attributable": attributable,
    }


def test_a_few_times_are_joined_not_ranged(monkeypatch: pytest.MonkeyPatch) -> None:
    """The join path is taken for a few times within a window, and the range query otherwise."""
    taken: list[str] = []
    original = _common._window_extreme_joined

    def spy(*args: Any, **kwargs: Any) -> pl.LazyFrame:
        taken.append("joined")
        return original(*args, **kwargs)

    monkeypatch.setattr(_common, "_window_extreme_joined", spy)
    events = _events([_reading(0, 10, 38.5)])
    near = _times([(0, _START + timedelta(hours=1)), (0, _START + timedelta(hours=20))])
    window_extreme(near, events, ("temperature",), _WINDOW, "x", "max").collect()
    assert taken == ["joined"]
    # Two days apart: more than a window between the first and the last time.
    far = _times([(0, _START + timedelta(hours=1)), (0, _START + timedelta(hours=49))])
    window_extreme(far, events, ("temperature",), _WINDOW, "x", "max").collect()
    assert taken == ["joined"]


def test_worked_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hand-checked: the maximum, its latest reading on a tie, another cause, an empty window."""
    events = _events(
        [
            _reading(0, 0, 38.2, ref="a"),
            _reading(0, 60, 39.0, ref="b"),
            _reading(0, 120, 39.0, ref="c"),  # the tie: the latest reading is the reference
            _reading(0, 180, 40.1, attributable=False, ref="d"),  # another cause: counted apart
            _reading(1, 30, 37.0, attributable=False, ref="e"),
            # Exactly a window before T: inside.  A minute after T: outside.
            _reading(3, 4 * 60 - 24 * 60, 38.4, ref="f"),
            _reading(3, 4 * 60 + 1, 39.9, ref="g"),
        ]
    )
    at = _START + timedelta(hours=4)
    times = _times([(0, at), (1, at), (2, at), (3, at)])
    joined, ranged = _both(times, events, "max", monkeypatch=monkeypatch)
    assert_frame_equal(joined, ranged)
    rows = {row["patient_id"]: row for row in joined.to_dicts()}
    assert (rows[0]["x"], rows[0]["x_ref"], rows[0]["x_n"], rows[0]["x_other_n"]) == (
        39.0,
        "c",
        3,
        1,
    )
    # Only a reading of another cause: measured, nothing attributable.
    assert (rows[1]["x"], rows[1]["x_n"], rows[1]["x_other_n"]) == (None, 0, 1)
    assert (rows[3]["x"], rows[3]["x_ref"], rows[3]["x_n"]) == (38.4, "f", 1)
    # Nothing in the window: not measured.
    assert (rows[2]["x"], rows[2]["x_ref"], rows[2]["x_n"], rows[2]["x_other_n"]) == (
        None,
        None,
        0,
        0,
    )


_VALUES = st.one_of(st.none(), st.sampled_from([36.5, 37.9, 38.0, 38.0, 39.4, 41.0]))


@st.composite
def _cases(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[int, datetime]]]:
    rows = []
    for patient in range(draw(st.integers(1, 3))):
        minutes = draw(st.lists(st.integers(0, 3 * 24 * 60), max_size=30, unique=True))
        for minute in minutes:
            rows.append(
                _reading(
                    patient,
                    minute,
                    draw(_VALUES),
                    attributable=draw(st.booleans()),
                    ref=draw(st.sampled_from(["", f"r{patient}-{minute}"])),
                )
            )
    # A few times within one window of each other (the join path's condition), some exactly
    # on a reading or a window's edge (a reading exactly a window before T).
    edges = [
        (row["patient_id"], row["time"] + shift)
        for row in rows
        for shift in (timedelta(0), _WINDOW)
    ]
    offsets = draw(st.lists(st.integers(0, 24 * 60), min_size=1, max_size=6))
    if edges and draw(st.booleans()):
        patient, base = draw(st.sampled_from(edges))
        times = [(patient, base)]
    else:
        base, times = _START + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60))), []
    times += [(draw(st.integers(0, 3)), base + timedelta(minutes=offset)) for offset in offsets]
    return rows, times


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_cases(), how=st.sampled_from(["max", "min"]), attributable_only=st.booleans())
def test_the_join_gives_the_range_query_s_answer(
    case: tuple[list[dict[str, Any]], list[tuple[int, datetime]]],
    how: Literal["max", "min"],
    attributable_only: bool,
) -> None:
    rows, pairs = case
    with pytest.MonkeyPatch.context() as monkeypatch:
        joined, ranged = _both(
            _times(pairs),
            _events(rows),
            how,
            attributable_only=attributable_only,
            monkeypatch=monkeypatch,
        )
    assert_frame_equal(joined, ranged)
