"""``events_read``: what the state and its change points read of a record (decision 0075).

A cohort shard is graded from these events alone (``crswatch.cohort.kernel_events``): the vital
signs no state column reads are left out, except each patient's first and last events, which
bound the record (the horizon, ``first_event_at``).  The trajectory, the change points and the
state must be exactly those of the whole record: on the golden timelines, a simulated cohort,
records whose first or last events are unread vital signs, and generated records.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crswatch.episodes import trajectory_of_frames
from crswatch.simulate import iter_cohort
from crswatch.state import StateParameters, clinical_state, evaluation_times, events_read
from crswatch.state._changes import UNREAD_ITEMS
from crswatch.timeline import Timeline, to_frames
from tests.builders import ev, timeline
from tests.state.test_change_points import GOLDEN

_WAIVER = StateParameters(fever_waiver="anticytokine_or_steroid")


def _assert_same(timelines: list[Timeline], params: StateParameters | None = None) -> None:
    patients, events = to_frames(timelines)
    kept = events_read(events)
    assert_frame_equal(
        trajectory_of_frames(patients, kept, params=params),
        trajectory_of_frames(patients, events, params=params),
    )
    times = evaluation_times(events, patients, params)
    assert_frame_equal(evaluation_times(kept, patients, params), times)
    at = times.select("patient_id", "at")
    assert_frame_equal(
        clinical_state(patients, kept, at, params), clinical_state(patients, events, at, params)
    )


def _bounded_by_unread_vitals() -> list[Timeline]:
    """Records whose first and last events are vital signs no state column reads."""
    fever = [ev(2, "temperature", 39.1, "Cel"), ev(3, "sbp", 84, "mm[Hg]")]
    return [
        # An unread reading hours before anything else, and another a day after.
        timeline([ev(-10, "heart_rate", 90, "/min"), *fever, ev(30, "spo2", 97, "%")], "A"),
        # Only unread readings: the record still has a first event and a horizon.
        timeline([ev(1, "heart_rate", 120, "/min"), ev(5, "resp_rate", 24, "/min")], "B"),
        # Unread readings at the same instants as the read ones.
        timeline(
            [ev(2, "heart_rate", 110, "/min"), *fever, ev(3, "map", 60, "mm[Hg]")],
            "C",
        ),
        # No unread reading at all.
        timeline(fever, "D"),
    ]


def test_records_bounded_by_unread_vital_signs_keep_their_trajectory() -> None:
    records = _bounded_by_unread_vitals()
    _assert_same(records)
    _assert_same(records, _WAIVER)


def test_only_unread_vital_signs_inside_the_bounds_are_left_out() -> None:
    _, events = to_frames(_bounded_by_unread_vitals())
    kept = events_read(events)
    left_out = events.join(kept, on=events.columns, how="anti", nulls_equal=True)
    assert left_out.select(pl.col("item").is_in(UNREAD_ITEMS).all()).item()
    # A's -10 h and +30 h readings and B's two readings bound their records: kept.
    assert kept.filter(pl.col("patient_id") == "B").height == 2
    assert {"heart_rate", "spo2"} <= set(kept.filter(pl.col("patient_id") == "A")["item"])
    # Every record keeps its first and last instants, with at most two unread readings.
    bounds = [pl.col("time").min().alias("first"), pl.col("time").max().alias("last")]
    assert_frame_equal(
        kept.group_by("patient_id").agg(bounds).sort("patient_id"),
        events.group_by("patient_id").agg(bounds).sort("patient_id"),
    )
    unread = kept.filter(pl.col("item").is_in(UNREAD_ITEMS)).group_by("patient_id").len()
    assert unread["len"].max() == 2
    assert kept.n_chunks() == 1


def test_events_in_any_order_are_read_in_patient_order() -> None:
    _, events = to_frames(_bounded_by_unread_vitals())
    shuffled = events.sample(fraction=1.0, shuffle=True, seed=7)
    assert_frame_equal(
        events_read(shuffled).sort("patient_id", "time", "item"),
        events_read(events).sort("patient_id", "time", "item"),
    )
    assert events_read(shuffled)["patient_id"].is_sorted()


def test_golden_timelines_keep_their_trajectory() -> None:
    assert len(GOLDEN) > 100
    _assert_same([case.timeline for case in GOLDEN])


@pytest.mark.parametrize("params", [StateParameters(), _WAIVER])
def test_a_simulated_cohort_keeps_its_trajectory(params: StateParameters) -> None:
    timelines = list(iter_cohort(6, seed=11, therapy="mixed", vitals_every=timedelta(minutes=30)))
    _, events = to_frames(timelines)
    assert events_read(events).height < events.height / 2  # most events are unread vitals
    _assert_same(timelines, params)


_UNREAD = [("heart_rate", "/min", 130), ("spo2", "%", 91), ("dbp", "mm[Hg]", 50)]


@st.composite
def _record(draw: Any) -> Timeline:
    events: list[dict[str, Any]] = []
    t = draw(st.sampled_from([-8.0, 0.0, 3.0]))
    for _ in range(draw(st.integers(1, 10))):
        t += draw(st.sampled_from([0.0, 0.5, 3.0, 24.0]))
        kind = draw(st.integers(0, 5))
        if kind == 0:
            events.append(ev(t, "temperature", draw(st.sampled_from([37.9, 38.0, 39.5])), "Cel"))
        elif kind == 1:
            events.append(ev(t, "sbp", draw(st.sampled_from([89, 90, 120])), "mm[Hg]"))
        elif kind == 2:
            events.append(ev(t, "norepinephrine", draw(st.sampled_from([0.0, 8.0])), "ug/min"))
        elif kind == 3:
            events.append(ev(t, "ice_score", draw(st.integers(0, 10))))
        else:
            item, unit, value = draw(st.sampled_from(_UNREAD))
            events.append(ev(t, item, value, unit))
    unique = {(e["time"], e["item"]): e for e in events}
    return timeline(list(unique.values()))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(_record(), min_size=1, max_size=3))
def test_generated_records_keep_their_trajectory(records: list[Timeline]) -> None:
    timelines = [
        dataclasses.replace(record, patient=dataclasses.replace(record.patient, id=f"P{n}"))
        for n, record in enumerate(records)
    ]
    _assert_same(timelines)
