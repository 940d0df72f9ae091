"""A trajectory of some scales builds only the state they read, and grades as the full one does."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crswatch.episodes import trajectory_of_frames
from crswatch.scales import ALL_SCALES, select_scales, state_columns
from crswatch.simulate import iter_cohort
from crswatch.state import StateParameters, clinical_state, evaluation_times
from crswatch.timeline import to_frames


@pytest.fixture(scope="module")
def frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    timelines = list(iter_cohort(6, seed=9, therapy="mixed", vitals_every=timedelta(hours=1)))
    patients, events = to_frames(timelines)
    return patients, events, trajectory_of_frames(patients, events)


@pytest.mark.parametrize("key", sorted(ALL_SCALES))
def test_one_scale_alone_grades_as_among_all(
    frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], key: str
) -> None:
    patients, events, everything = frames
    scale = ALL_SCALES[key]
    selector = scale.id if scale.kind == "crs" else key
    alone = trajectory_of_frames(patients, events, scales=[selector])
    among = everything.filter((pl.col("kind") == scale.kind) & (pl.col("scale") == scale.id))
    assert alone.height > 0
    assert_frame_equal(alone, among)


def test_astct_crs_alone_builds_no_neurological_or_organ_state(
    frames: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame],
) -> None:
    patients, events, _ = frames
    params = StateParameters()
    times = evaluation_times(events, patients, params).select("patient_id", "at")
    needed = state_columns(select_scales(["astct2019"]))
    state = clinical_state(patients, events, times, params, columns=needed)
    assert needed <= set(state.columns)
    assert "ice_score" not in state.columns and "alt_v4" not in state.columns
    full = clinical_state(patients, events, times, params)
    assert_frame_equal(state, full.select(state.columns))
