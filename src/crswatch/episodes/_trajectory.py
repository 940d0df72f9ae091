"""Grade over time: the clinical state at every change point (or on a grid), graded per scale.

The trajectory is computed by the same vectorized kernels as a single grade: the state table
at many evaluation times, then each scale's ``grade_frame``.  With ``changes_only`` the rows
where nothing changed for a scale are dropped, so the trajectory is the list of transitions.
Rows carry the syndrome (``kind``: ``crs`` or ``icans``) beside the scale id, since ASTCT 2019
grades both under one id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import polars as pl

from crswatch.scales import grade_frame, select_scales
from crswatch.state import StateParameters, clinical_state, evaluation_times
from crswatch.timeline import Timeline, to_frames

__all__ = ["TRAJECTORY_SCHEMA", "trajectory", "trajectory_of_frames"]

TRAJECTORY_SCHEMA = ("patient_id", "at", "kind", "scale", "grade", "status", "lower", "upper")


def trajectory_of_frames(
    patients: pl.DataFrame,
    events: pl.DataFrame,
    *,
    scales: Sequence[str] | None = None,
    every: timedelta | None = None,
    params: StateParameters | None = None,
    changes_only: bool = True,
) -> pl.DataFrame:
    """The trajectory of every patient in the frames (one shard of a cohort, or one patient).

    ``scales`` are selectors (bare id: CRS; ``icans.astct2019``); default: every scale.
    """
    params = params or StateParameters()
    chosen = select_scales(scales)
    times = evaluation_times(events, patients, params, every=every)
    state = clinical_state(patients, events, times, params)
    graded = pl.concat(
        [grade_frame(scale, state, crs_definition=params.crs_definition) for scale in chosen]
    ).sort("patient_id", "kind", "scale", "at")
    if changes_only:
        signature = pl.struct("status", "lower", "upper")
        changed = signature != signature.shift(1).over("patient_id", "kind", "scale")
        graded = graded.filter(changed.fill_null(True))
    return graded.select(TRAJECTORY_SCHEMA)


def trajectory(
    timelines: Iterable[Timeline],
    *,
    scales: Sequence[str] | None = None,
    every: timedelta | None = None,
    params: StateParameters | None = None,
    changes_only: bool = True,
) -> pl.DataFrame:
    """Grade over time per patient and scale (columns: ``TRAJECTORY_SCHEMA``)."""
    patients, events = to_frames(timelines)
    return trajectory_of_frames(
        patients, events, scales=scales, every=every, params=params, changes_only=changes_only
    )
