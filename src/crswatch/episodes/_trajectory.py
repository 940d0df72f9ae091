"""Grade over time: the clinical state at every change point (or on a grid), graded per scale.

The trajectory is computed by the same vectorized kernels as a single grade: the state table
at many evaluation times, then each scale's ``grade_frame``.  With ``changes_only`` the rows
where nothing changed for a scale are dropped, so the trajectory is the list of transitions.
Rows carry the syndrome (``kind``: ``crs`` or ``icans``) beside the scale id, since ASTCT 2019
grades both under one id.

The trajectory ends at the record's last event, or at ``until`` (timeline contract §5): nothing
is carried past the record.  A row's ``at`` is the time of the change: an event time, or
``time + window`` when a reading leaves its window (the state shown is the one just after, once
the window closed at both ends no longer holds it).  When a reading arrives at the very instant
another leaves its window, the row shows the state that holds from that instant on
(docs/decisions/0030).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import polars as pl

from crswatch.scales import grade_frames, select_scales, state_columns, thresholds_by_item
from crswatch.state import StateParameters, states_over_time
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
    until: datetime | None = None,
    exhaustive: bool | None = None,
) -> pl.DataFrame:
    """The trajectory of every patient in the frames (one shard of a cohort, or one patient).

    ``scales`` are selectors (bare id: CRS; ``icans.astct2019``); default: every scale.
    ``until``: the last time evaluated (default: each patient's last event).
    ``exhaustive``: evaluate at every event (default: only with ``changes_only=False``, which
    asks for every row); else only where a graded input can change, which gives the same
    changes (crswatch.state.evaluation_times).
    """
    with pl.Config(engine_affinity="in-memory"):  # as the state engine (crswatch.state)
        return _trajectory(patients, events, scales, every, params, changes_only, until, exhaustive)


def _trajectory(
    patients: pl.DataFrame,
    events: pl.DataFrame,
    scales: Sequence[str] | None,
    every: timedelta | None,
    params: StateParameters | None,
    changes_only: bool,
    until: datetime | None,
    exhaustive: bool | None,
) -> pl.DataFrame:
    params = params or StateParameters()
    chosen = select_scales(scales)
    # Only the state the chosen scales read (issue #16: ASTCT alone builds no organ state).
    needed = state_columns(chosen, crs_definition=params.crs_definition)
    times, state = states_over_time(
        patients,
        events,
        params,
        every=every,
        until=until,
        # Every row asked for: every event; else only where a graded input can change.
        exhaustive=not changes_only if exhaustive is None else exhaustive,
        thresholds=thresholds_by_item(),
        columns=needed,
    )
    keys = ["patient_id", "kind", "scale"]
    graded = (
        grade_frames(chosen, state, crs_definition=params.crs_definition)
        .join(times, on=["patient_id", "at"], how="left")
        .sort(*keys, "at")
        # Instants reported at one time (an arrival and an expiry): the state from then on.
        .unique([*keys, "reported_at"], keep="last", maintain_order=True)
        .with_columns(at=pl.col("reported_at"))
        .drop("reported_at")
    )
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
    until: datetime | None = None,
) -> pl.DataFrame:
    """Grade over time per patient and scale (columns: ``TRAJECTORY_SCHEMA``).

    ``until``: the last time evaluated (default: each patient's last event).
    """
    patients, events = to_frames(timelines)
    return trajectory_of_frames(
        patients,
        events,
        scales=scales,
        every=every,
        params=params,
        changes_only=changes_only,
        until=until,
    )
