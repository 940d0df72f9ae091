"""Grading timelines: the clinical state at T, then every requested scale over it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from crswatch.scales._grade import grade_results
from crswatch.scales._registry import CRS_SCALES, get_scale
from crswatch.scales._result import GradeResult
from crswatch.state import StateParameters, clinical_state
from crswatch.timeline import Timeline, format_time, to_frames

__all__ = ["PatientGrades", "grade_timelines"]


@dataclass(frozen=True, slots=True)
class PatientGrades:
    """Every requested scale for one patient at one time."""

    patient_id: str
    at: datetime
    crs: dict[str, GradeResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "at": format_time(self.at),
            "crs": {scale_id: result.to_dict() for scale_id, result in self.crs.items()},
        }


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


def grade_timelines(
    timelines: Iterable[Timeline],
    *,
    at: datetime | None = None,
    scales: Sequence[str] | None = None,
    params: StateParameters | None = None,
) -> list[PatientGrades]:
    """Grade each timeline at ``at`` (default: its last event) on the requested CRS scales."""
    params = params or StateParameters()
    chosen = [get_scale(s) for s in scales] if scales else list(CRS_SCALES.values())
    timelines = list(timelines)
    patients, events = to_frames(timelines)
    state = clinical_state(patients, events, _times(patients, events, at), params)
    echoed = params.to_dict()
    per_scale = {scale.id: grade_results(scale, state, echoed) for scale in chosen}
    order = {timeline.patient.id: i for i, timeline in enumerate(timelines)}
    rows = state.select("patient_id", "at").to_dicts()
    graded = [
        PatientGrades(
            patient_id=row["patient_id"],
            at=row["at"],
            crs={scale_id: results[index] for scale_id, results in per_scale.items()},
        )
        for index, row in enumerate(rows)
    ]
    return sorted(graded, key=lambda g: order.get(g.patient_id, 0))
