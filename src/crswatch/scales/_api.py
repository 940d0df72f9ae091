"""Grading timelines: the clinical state at T, then every requested scale over it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import polars as pl

from crswatch.scales._grade import collect_row_wise, grade_results_of, with_graded
from crswatch.scales._registry import CRS_SCALES, select_scales
from crswatch.scales._result import GradeResult
from crswatch.state import StateParameters, clinical_state
from crswatch.timeline import Timeline, format_time, to_frames

__all__ = [
    "CRS_ACTIVITY_SCALE",
    "PatientGrades",
    "grade_patient_frames",
    "grade_state",
    "grade_timelines",
    "with_crs_activity",
]

#: The CRS scale that decides whether CRS is active (for the ICANS assessment-frequency check).
CRS_ACTIVITY_SCALE = "astct2019"


@dataclass(frozen=True, slots=True)
class PatientGrades:
    """Every requested scale for one patient at one time, CRS and ICANS side by side."""

    patient_id: str
    at: datetime
    crs: dict[str, GradeResult]
    icans: dict[str, GradeResult] = field(default_factory=dict)
    #: About the time itself, for every scale (a time before the record); also in each result.
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "at": format_time(self.at),
            "crs": {scale_id: result.to_dict() for scale_id, result in self.crs.items()},
            "icans": {scale_id: result.to_dict() for scale_id, result in self.icans.items()},
            "warnings": list(self.warnings),
        }


def _span(span: timedelta) -> str:
    """A duration as a clinician reads it: minutes under an hour, hours under 2 days, else days."""
    seconds = span.total_seconds()
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    value, unit = (seconds / 3600, "h") if seconds < 48 * 3600 else (seconds / 86400, "days")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def record_warnings(
    at: datetime, therapy_start: datetime | None, first_event_at: datetime | None
) -> tuple[str, ...]:
    """A warning when ``at`` is before the therapy start or before the first event charted.

    Such a grade is not assessable (nothing is charted) or reads only pre-treatment findings; the
    result says why rather than giving bare bounds (docs/decisions/0030).
    """
    before_start = therapy_start is not None and at < therapy_start
    before_first = first_event_at is None or at < first_event_at
    if not before_start and not before_first:
        return ()
    parts = []
    if before_start and therapy_start is not None:
        parts.append(
            f"therapy started {format_time(therapy_start)}, {_span(therapy_start - at)} after T"
        )
    if first_event_at is None:
        parts.append("no event is charted")
    elif before_first:
        parts.append(
            f"the first event is charted {format_time(first_event_at)}, "
            f"{_span(first_event_at - at)} after T"
        )
    if before_first:
        return ("before the record: " + "; ".join(parts),)
    return ("before the therapy: " + "; ".join(parts),)


def _times(patients: pl.DataFrame, events: pl.DataFrame, at: datetime | None) -> pl.DataFrame:
    if at is not None:
        return patients.select("patient_id", pl.lit(at).cast(pl.Datetime("us", "UTC")).alias("at"))
    last = events.group_by("patient_id").agg(pl.col("time").max().alias("at"))
    # A patient with no events is graded at the therapy start (and is not assessable).
    return (
        patients.select("patient_id", "therapy_start")
        .join(last, on="patient_id", how="left")
        .select("patient_id", pl.coalesce("at", "therapy_start").alias("at"))
    )


def with_crs_activity(state: pl.DataFrame) -> pl.DataFrame:
    """The state with ``crs_active``: the ASTCT 2019 CRS grade is at least 1 (its lower bound).

    CRS activity is a graded fact, so it is added here, above the state engine, for the ICANS
    assessment-frequency check.
    """
    # Row by row (the state has one row per patient and time), in one query; the column is
    # put beside the state's rather than the query selecting the state's some 200 columns by
    # name, which cost more to build and plan than the column itself (decision 0074).
    graded = with_graded(state.lazy(), CRS_SCALES[CRS_ACTIVITY_SCALE], prefix="__activity")
    active = collect_row_wise(graded.select((pl.col("__activity__lower") >= 1).alias("crs_active")))
    return state.hstack(active)


def grade_timelines(
    timelines: Iterable[Timeline],
    *,
    at: datetime | None = None,
    scales: Sequence[str] | None = None,
    params: StateParameters | None = None,
) -> list[PatientGrades]:
    """Grade each timeline at ``at`` (default: its last event) on the requested scales.

    ``scales`` are selectors (a bare id is a CRS scale, ``icans.astct2019`` an ICANS one);
    by default every CRS and every ICANS scale.
    """
    patients, events = to_frames(list(timelines))
    return grade_patient_frames(patients, events, at=at, scales=scales, params=params)


def grade_patient_frames(
    patients: pl.DataFrame,
    events: pl.DataFrame,
    *,
    at: datetime | None = None,
    scales: Sequence[str] | None = None,
    params: StateParameters | None = None,
) -> list[PatientGrades]:
    """:func:`grade_timelines` from the frames of ``to_frames`` or a reader (``iter_frames``).

    The same results in the patients' order, without a ``Timeline`` object per patient: a
    month of 5-minute vital signs is read as frames in tens of milliseconds, as objects in
    about a second (docs/benchmarks.md, "Reader").
    """
    params = params or StateParameters()
    state = clinical_state(patients, events, _times(patients, events, at), params)
    order = {patient_id: i for i, patient_id in enumerate(patients["patient_id"].to_list())}
    graded = grade_state(state, scales=scales, params=params)
    return sorted(graded, key=lambda g: order.get(g.patient_id, 0))


def grade_state(
    state: pl.DataFrame,
    *,
    scales: Sequence[str] | None = None,
    params: StateParameters | None = None,
) -> list[PatientGrades]:
    """Grade every row of a clinical state (``clinical_state``) on the requested scales.

    One :class:`PatientGrades` per ``(patient_id, at)`` row, in the state's order: a caller
    that needs several times of one patient computes the state once (the dashboard, decision
    0024).  ``params`` must be those the state was computed with (they are echoed).
    """
    params = params or StateParameters()
    chosen = select_scales(scales)
    if any(scale.kind == "icans" for scale in chosen):
        state = with_crs_activity(state)
    echoed = params.to_dict()
    per_scale = dict(
        zip(
            (scale.key for scale in chosen),
            zip(chosen, grade_results_of(chosen, state, echoed), strict=True),
            strict=True,
        )
    )
    bounds = ("therapy_start", "first_event_at")
    knows_record = all(column in state.columns for column in bounds)
    rows = state.select("patient_id", "at", *(bounds if knows_record else ())).to_dicts()
    graded = []
    for index, row in enumerate(rows):
        about_time = (
            record_warnings(row["at"], row["therapy_start"], row["first_event_at"])
            if knows_record
            else ()
        )
        by_kind: dict[str, dict[str, GradeResult]] = {"crs": {}, "icans": {}}
        for scale, results in per_scale.values():
            result = results[index]
            if about_time:
                result = replace(result, warnings=(*about_time, *result.warnings))
            by_kind[scale.kind][scale.id] = result
        graded.append(
            PatientGrades(
                patient_id=row["patient_id"],
                at=row["at"],
                crs=by_kind["crs"],
                icans=by_kind["icans"],
                warnings=about_time,
            )
        )
    return graded
