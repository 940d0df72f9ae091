"""CRS and ICANS grade courses for the regimen status, with a label's own reading where it differs.

The course is graded like :func:`crswatch.episodes.trajectory`: the clinical state at every
change point up to T (and at T), then ASTCT 2019 CRS and ICANS over it.  The grade on record is
the lower bound of a graded or provisional result (``crswatch.scales.grade_on_record``); an
ambiguous or not-assessable point has none and is never acted on.

A label that grades "based on ASTCT 2019" but draws the oxygen boundary elsewhere (mosunetuzumab:
high-flow from 6 L/min, ASTCT: above 6 L/min) gets its own reading, computed here from the state
and the ASTCT result, never by editing the ASTCT scale: where ASTCT's grade on record is 2 or
more (CRS established) and a nasal cannula (plain or high-flow) or blow-by runs at or above the
label's boundary, the label reads grade 3 (its high-flow row) if ASTCT read lower.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from crswatch.timeline import Timeline

__all__ = ["GradedPoint", "LabelReading", "grade_points"]

#: Devices whose oxygen ASTCT 2019 reads as low flow at 6 L/min (blow-by always; a cannula,
#: plain or high-flow, by its flow: <= 6 L/min).
_FLOW_GRADED_DEVICES = ("nasal_cannula", "high_flow_nasal_cannula", "blow_by")


@dataclass(frozen=True, slots=True)
class LabelReading:
    """The label's own grade where it differs from ASTCT 2019, and why."""

    grade: int
    astct_grade: int
    evidence: str


@dataclass(frozen=True, slots=True)
class GradedPoint:
    """The CRS and ICANS grades from ``at`` on."""

    at: datetime
    crs: int | None
    crs_status: str
    crs_bounds: tuple[int, int]
    icans: int | None
    icans_status: str
    icans_bounds: tuple[int, int]
    label: LabelReading | None = None

    @property
    def crs_acted(self) -> int | None:
        """The CRS grade the label's actions read: the label's own reading where it has one."""
        return self.label.grade if self.label is not None else self.crs


def _on_record(status: str, lower: int) -> int | None:
    return lower if status in ("graded", "provisional") else None


def grade_points(
    timeline: Timeline, at: datetime, high_flow_from_l_min: float | None = None
) -> list[GradedPoint]:
    """The graded course of ``timeline`` up to ``at`` (ASTCT 2019 CRS and ICANS)."""
    # The grading stack is heavy: imported on use, as the blinatumomab status does.
    from crswatch.scales import CRS_SCALES, ICANS_SCALES, grade_frame, thresholds_by_item
    from crswatch.state import StateParameters, clinical_state, evaluation_times
    from crswatch.timeline import to_frames

    params = StateParameters()
    patients, events = to_frames([timeline])
    times = evaluation_times(events, patients, params, thresholds=thresholds_by_item()).filter(
        pl.col("at") <= at
    )
    now = pl.DataFrame(
        {"patient_id": [timeline.patient.id], "at": [at]},
        schema={"patient_id": pl.String, "at": pl.Datetime("us", "UTC")},
    )
    times = pl.concat([times.select("patient_id", "at"), now]).unique().sort("at")
    state = clinical_state(patients, events, times, params)
    definition = params.crs_definition
    crs = grade_frame(CRS_SCALES["astct2019"], state, crs_definition=definition)
    icans = grade_frame(ICANS_SCALES["astct2019"], state, crs_definition=definition)
    oxygen = state.select("at", "o2_device", "o2_flow_l_min")
    rows = (
        crs.select("at", "status", "lower", "upper")
        .join(
            icans.select(
                "at",
                pl.col("status").alias("i_status"),
                pl.col("lower").alias("i_lower"),
                pl.col("upper").alias("i_upper"),
            ),
            on="at",
        )
        .join(oxygen, on="at")
        .sort("at")
    )
    points: list[GradedPoint] = []
    for row in rows.iter_rows(named=True):
        grade = _on_record(row["status"], int(row["lower"]))
        label = None
        flow = row["o2_flow_l_min"]
        if (
            high_flow_from_l_min is not None
            and grade is not None
            and 2 <= grade < 3
            and row["o2_device"] in _FLOW_GRADED_DEVICES
            and flow is not None
            and float(flow) >= high_flow_from_l_min
        ):
            device = str(row["o2_device"]).replace("_", " ")
            label = LabelReading(
                3,
                grade,
                f"oxygen {float(flow):g} L/min by {device}: high-flow by the label "
                f"(>= {high_flow_from_l_min:g} L/min, grade 3), low-flow by ASTCT 2019 "
                "(<= 6 L/min, grade 2)",
            )
        point = GradedPoint(
            at=row["at"],
            crs=grade,
            crs_status=str(row["status"]),
            crs_bounds=(int(row["lower"]), int(row["upper"])),
            icans=_on_record(str(row["i_status"]), int(row["i_lower"])),
            icans_status=str(row["i_status"]),
            icans_bounds=(int(row["i_lower"]), int(row["i_upper"])),
            label=label,
        )
        if points and _same(points[-1], point):
            continue
        points.append(point)
    return points


def _same(a: GradedPoint, b: GradedPoint) -> bool:
    return (a.crs_status, a.crs_bounds, a.icans_status, a.icans_bounds, a.label) == (
        b.crs_status,
        b.crs_bounds,
        b.icans_status,
        b.icans_bounds,
        b.label,
    )
