"""The state at a time from a prepared record is the state from the frames (decision 0071).

``prepare_state`` computes once what no evaluation time changes (keys, order, the state's
events, the CRS episodes); ``prepared_state_at`` must then give exactly ``clinical_state``'s
rows, at one time (the bedside), at many, for a subset of columns and under other parameters.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crswatch.scales import state_columns
from crswatch.scales._registry import CRS_SCALES
from crswatch.simulate import iter_cohort
from crswatch.state import (
    StateParameters,
    clinical_state,
    evaluation_times,
    prepare_state,
    prepared_state_at,
)
from crswatch.timeline import to_frames


@pytest.fixture(scope="module")
def frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    timelines = list(iter_cohort(5, seed=23, therapy="mixed", vitals_every=timedelta(minutes=30)))
    return to_frames(timelines)


def _last_events(patients: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    last = events.group_by("patient_id").agg(pl.col("time").max().alias("at"))
    return patients.select("patient_id").join(last, on="patient_id")


def test_one_time_per_patient_is_the_frames_state(
    frames: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    patients, events = frames
    params = StateParameters()
    prepared = prepare_state(patients, events, params)
    times = _last_events(patients, events)
    expected = clinical_state(patients, events, times, params)
    assert_frame_equal(prepared_state_at(prepared, times), expected)
    # The same prepared record again, at other times: nothing of the first call is kept.
    earlier = times.with_columns(pl.col("at") - timedelta(hours=30))
    assert_frame_equal(
        prepared_state_at(prepared, earlier), clinical_state(patients, events, earlier, params)
    )


def test_every_change_point_is_the_frames_state(
    frames: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    patients, events = frames
    params = StateParameters(fever_waiver="anticytokine_or_steroid")
    times = evaluation_times(events, patients, params).select("patient_id", "at")
    state = prepared_state_at(prepare_state(patients, events, params), times)
    assert_frame_equal(state, clinical_state(patients, events, times, params))
    # Fever and CRS episodes occur in this cohort: the comparison is not between empty states.
    assert state["temp_max_c"].max() >= 38.0  # type: ignore[operator]
    assert state["episode_onset_at"].is_not_null().any()


def test_only_the_columns_asked_for(frames: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    patients, events = frames
    params = StateParameters()
    columns = state_columns([CRS_SCALES["astct2019"]])
    times = _last_events(patients, events)
    state = prepared_state_at(prepare_state(patients, events, params), times, columns=columns)
    assert_frame_equal(state, clinical_state(patients, events, times, params, columns=columns))


def test_a_patient_not_prepared_is_named(frames: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    patients, events = frames
    first = patients.head(1)
    prepared = prepare_state(first, events.filter(pl.col("patient_id") == first["patient_id"][0]))
    times = _last_events(patients, events)
    stranger = times["patient_id"][1]
    with pytest.raises(ValueError, match=stranger):
        prepared_state_at(prepared, times)


def test_the_organ_state_at_its_change_points_is_kept_and_made_only_when_read(
    frames: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    """Decision 0079: the organ state at its own change points is a function of the record;
    the prepared record makes it on the first state with an organ column and keeps it."""
    patients, events = frames
    params = StateParameters()
    prepared = prepare_state(patients, events, params)
    times = _last_events(patients, events)
    astct = state_columns([CRS_SCALES["astct2019"]])
    prepared_state_at(prepared, times, columns=astct)
    assert prepared.organ._value is None  # ASTCT alone reads no organ column
    first = prepared_state_at(prepared, times)
    kept = prepared.organ._value
    assert kept is not None
    earlier = times.with_columns(pl.col("at") - timedelta(days=2))
    assert_frame_equal(
        prepared_state_at(prepared, earlier), clinical_state(patients, events, earlier, params)
    )
    assert prepared.organ._value is kept
    assert_frame_equal(first, clinical_state(patients, events, times, params))


def test_before_every_record_the_organ_state_is_that_of_no_record(
    frames: tuple[pl.DataFrame, pl.DataFrame],
) -> None:
    """At a time before a record's first lab (even centuries before), the organ columns are
    those of a record with no lab at all: the organ state's earliest point holds there."""
    patients, events = frames
    params = StateParameters()
    organ = sorted(
        name
        for name in clinical_state(patients, events, _last_events(patients, events), params).columns
        if name.startswith(("ctcae", "organ"))
    )
    assert organ, "the state has organ columns"
    for moment in ("1800-01-01", "2000-01-01"):
        times = patients.select(
            "patient_id", pl.lit(moment).str.to_datetime().dt.replace_time_zone("UTC").alias("at")
        )
        state = prepared_state_at(prepare_state(patients, events, params), times)
        none = clinical_state(patients, events.clear(), times, params)
        assert_frame_equal(state.select("patient_id", *organ), none.select("patient_id", *organ))
