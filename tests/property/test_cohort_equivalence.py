"""On generated cohorts, the cohort path equals the one-patient path (one engine, no drift)."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from crswatch.episodes import trajectory
from crswatch.simulate import iter_cohort


def test_trajectory_of_a_simulated_cohort_equals_each_patient_alone() -> None:
    timelines = list(iter_cohort(12, seed=11, therapy="mixed"))
    together = trajectory(timelines)
    assert together.height > 0 and together["patient_id"].n_unique() == 12
    for one in timelines:
        alone = trajectory([one])
        mine = together.filter(pl.col("patient_id") == one.patient.id)
        assert_frame_equal(mine, alone)
    # The cohort is not trivially quiet: some scale reaches grade 3 or more somewhere.
    assert together["lower"].max() >= 3  # type: ignore[operator]
