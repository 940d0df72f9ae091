"""ICANS assessment frequency: stretches without an ICE or CAPD while CRS is active.

Guidance (clinical-criteria.md §4.3, GC-CAR-T): "ICE at least twice daily".  CRS is active
while its ASTCT 2019 grade is certainly at least 1 (the lower bound, as for the warning on a
single grade; a not-assessable stretch is not counted as active).  A gap is flagged when the
time from one ICE or CAPD with a value (or from the therapy start, if none yet) to the next (or
to the end of the active stretch) is longer than ``neuro_assessment_interval`` and the overdue
part falls inside the active stretch.  A record charted ``not_assessed`` (a sedated, intubated
patient) counts as recorded: the attempt was documented.  docs/decisions/0010-icans.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from crswatch.episodes._trajectory import trajectory_of_frames
from crswatch.scales import CRS_ACTIVITY_SCALE
from crswatch.state import ICE_ITEM_POINTS, StateParameters
from crswatch.timeline import Timeline, format_time, to_frames

__all__ = ["AssessmentGap", "assessment_gaps"]

_ASSESSMENTS = ("ice_score", *ICE_ITEM_POINTS, "capd_score")


@dataclass(frozen=True, slots=True)
class AssessmentGap:
    """A stretch with no ICE or CAPD record longer than the interval, while CRS was active."""

    patient_id: str
    #: The last ICE or CAPD before the gap; None when there was none since the therapy start.
    last_assessment: datetime | None
    #: When the interval was exceeded while CRS was active.
    overdue_from: datetime
    #: The next ICE or CAPD, or the end of the active stretch (CRS settled or the record stops).
    until: datetime
    #: Whether ``until`` is an assessment (False: CRS settled or the record stops).
    assessed_at_end: bool
    hours_without: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_assessment": format_time(self.last_assessment) if self.last_assessment else None,
            "overdue_from": format_time(self.overdue_from),
            "until": format_time(self.until),
            "assessed_at_end": self.assessed_at_end,
            "hours_without": round(self.hours_without, 3),
        }


def _gaps_in(
    patient_id: str,
    start: datetime,
    end: datetime,
    assessed: list[datetime],
    since: datetime,
    interval: timedelta,
) -> list[AssessmentGap]:
    before = [t for t in assessed if t <= start]
    previous: datetime | None = before[-1] if before else None
    points = [(t, True) for t in assessed if start < t <= end] + [(end, False)]
    gaps = []
    for point, is_assessment in points:
        origin = previous or since
        if point - origin > interval:
            overdue = max(origin + interval, start)
            if overdue < point:
                gaps.append(
                    AssessmentGap(
                        patient_id=patient_id,
                        last_assessment=previous,
                        overdue_from=overdue,
                        until=point,
                        assessed_at_end=is_assessment,
                        hours_without=(point - origin).total_seconds() / 3600,
                    )
                )
        if is_assessment:
            previous = point
    return gaps


def _active_stretches(
    crs: pl.DataFrame, last: dict[str, datetime]
) -> list[tuple[str, datetime, datetime]]:
    """``(patient, start, end)`` where the CRS lower bound is at least 1.

    A trajectory row holds until the patient's next row; the last one until the last event.
    """
    rows = (
        crs.sort("patient_id", "at")
        .with_columns(
            _until=pl.col("at").shift(-1).over("patient_id"),
            _active=pl.col("lower") >= 1,
        )
        .with_columns(
            _run=(pl.col("_active") != pl.col("_active").shift(1).over("patient_id")).fill_null(
                True
            )
        )
        .with_columns(_run=pl.col("_run").cum_sum().over("patient_id"))
        .filter(pl.col("_active"))
        .group_by("patient_id", "_run")
        .agg(pl.col("at").min().alias("start"), pl.col("_until").last().alias("end"))
        .sort("patient_id", "start")
    )
    return [
        (patient_id, start, end if end is not None else max(last[patient_id], start))
        for patient_id, _, start, end in rows.iter_rows()
    ]


def assessment_gaps(
    timelines: Iterable[Timeline],
    *,
    params: StateParameters | None = None,
    frames: tuple[pl.DataFrame, pl.DataFrame] | None = None,
) -> list[AssessmentGap]:
    """Every stretch without ICE or CAPD beyond ``neuro_assessment_interval`` during CRS.

    ``frames``: the timelines' ``(patients, events)`` frames when the caller has them already
    (``to_frames`` costs more than the rest for a ward of records).
    """
    params = params or StateParameters()
    patients, events = frames if frames is not None else to_frames(timelines)
    crs = trajectory_of_frames(patients, events, scales=[CRS_ACTIVITY_SCALE], params=params)
    assessed = (
        events.filter(pl.col("item").is_in(_ASSESSMENTS))
        .group_by("patient_id")
        .agg(pl.col("time").unique().sort())
    )
    times = {row["patient_id"]: row["time"] for row in assessed.iter_rows(named=True)}
    last_event = dict(events.group_by("patient_id").agg(pl.col("time").max()).iter_rows())
    start = dict(patients.select("patient_id", "therapy_start").iter_rows())
    gaps: list[AssessmentGap] = []
    for patient_id, begin, end in _active_stretches(crs, last_event):
        gaps += _gaps_in(
            patient_id,
            begin,
            end,
            times.get(patient_id, []),
            start[patient_id],
            params.neuro_assessment_interval,
        )
    return gaps
