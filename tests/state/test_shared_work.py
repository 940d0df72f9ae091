"""The state computed with shared work and integer keys is the state computed part by part.

Decision 0069: ``states_over_time`` computes the CRS episodes once for the change points and the
fever state, the engine keys patients by integers inside and relies on the events' patient and
time order once it has checked it.  None of that may change a value: compared here with the two
public calls, with events in the contract's order and out of it, and with ids whose text order
differs from the order the patients were given in.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
from polars.testing import assert_frame_equal

from crswatch.scales import (
    ALL_SCALES,
    grade_results,
    grade_results_of,
    grade_state,
    thresholds_by_item,
)
from crswatch.simulate import iter_cohort
from crswatch.state import StateParameters, clinical_state, evaluation_times, states_over_time
from crswatch.state._common import in_patient_order, integer_keys, with_ids
from crswatch.timeline import to_frames


def _frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    timelines = list(iter_cohort(6, seed=11, therapy="mixed", vitals_every=timedelta(minutes=30)))
    return to_frames(timelines)


def _renamed(patients: pl.DataFrame, events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Ids whose text order is the reverse of the given order ("9-..." before "1-...")."""
    ids = patients["patient_id"].to_list()
    names = {old: f"{len(ids) - i}-{old}" for i, old in enumerate(ids)}

    def rename(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.col("patient_id").replace_strict(names))

    return rename(patients), rename(events)


def test_states_over_time_is_the_two_calls() -> None:
    patients, events = _frames()
    params = StateParameters()
    thresholds = thresholds_by_item()
    times, state = states_over_time(patients, events, params, thresholds=thresholds)
    assert_frame_equal(times, evaluation_times(events, patients, params, thresholds=thresholds))
    assert_frame_equal(
        state, clinical_state(patients, events, times.select("patient_id", "at"), params)
    )
    # Grades move in this cohort: the comparison is not between empty states.
    assert state.height > 100 and state["temp_max_c"].max() >= 38.0  # type: ignore[operator]


def test_events_out_of_order_give_the_same_state() -> None:
    patients, events = _frames()
    times = evaluation_times(events, patients, thresholds=thresholds_by_item())
    expected = clinical_state(patients, events, times)
    shuffled = events.sample(fraction=1.0, shuffle=True, seed=3)
    assert not shuffled.equals(events)
    assert_frame_equal(clinical_state(patients, shuffled, times), expected)
    _, state = states_over_time(patients, shuffled, thresholds=thresholds_by_item())
    assert_frame_equal(state, expected)


def test_ids_in_any_text_order_give_the_same_grades() -> None:
    patients, events = _frames()
    renamed_patients, renamed_events = _renamed(patients, events)
    # The frames' contract: events sorted by patient (text order) and time.
    renamed_events = renamed_events.sort("patient_id", "time", "item", maintain_order=True)
    _, state = states_over_time(patients, events, thresholds=thresholds_by_item())
    _, renamed = states_over_time(renamed_patients, renamed_events, thresholds=thresholds_by_item())
    key = ["patient_id", "at"]
    # Ids with a "-" of their own: split at the first one only.
    back = renamed.with_columns(
        pl.col("patient_id").str.splitn("-", 2).struct.field("field_1").alias("patient_id")
    )
    assert_frame_equal(back.sort(key), state.sort(key))


def test_keys_round_trip_and_keep_the_order() -> None:
    patients, events = _frames()
    keyed_patients, keyed_events, ids = integer_keys(patients, events, pl.Series(["unseen"]))
    assert keyed_events["patient_id"].dtype == pl.UInt32
    assert ids.is_sorted() and "unseen" in ids.to_list()
    assert_frame_equal(with_ids(keyed_events, ids), events)
    assert_frame_equal(with_ids(keyed_patients, ids), patients)
    # In patient order before: in key order after, so no sort is needed.
    assert in_patient_order(keyed_events) is keyed_events


def test_a_time_of_a_patient_without_events_is_kept() -> None:
    patients, events = _frames()
    first = patients["patient_id"][0]
    events = events.filter(pl.col("patient_id") != first)
    times = patients.select("patient_id", pl.col("therapy_start").alias("at"))
    state = clinical_state(patients, events, times)
    assert state.filter(pl.col("patient_id") == first).height == 1


def test_one_grading_query_is_each_scale_graded_alone() -> None:
    patients, events = _frames()
    times = evaluation_times(events, patients, thresholds=thresholds_by_item())
    state = clinical_state(patients, events, times)
    scales = list(ALL_SCALES.values())
    together = grade_results_of(scales, state, {"crs_definition": "astct2019"})
    for scale, results in zip(scales, together, strict=True):
        alone = grade_results(scale, state, {"crs_definition": "astct2019"})
        assert [r.to_dict() for r in results] == [r.to_dict() for r in alone]
    graded = grade_state(state)
    assert len(graded) == state.height
    assert any(g.crs["astct2019"].bounds[1] >= 2 for g in graded)


def test_no_patients_give_no_state() -> None:
    patients, events = to_frames([])
    times = patients.select("patient_id", pl.col("therapy_start").alias("at"))
    assert clinical_state(patients, events, times).height == 0
    times, state = states_over_time(patients, events)
    assert times.height == 0 and state.height == 0
