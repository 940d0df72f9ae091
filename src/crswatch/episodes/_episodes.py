"""Episodes from a trajectory: onset, peak grade and when, resolution, duration — per scale.

Definitions (interpretations, documented in docs/decisions/0009-episodes.md):

1. Onset is the first time the grade is at least 1 (the lower bound of the grade, so an
   ambiguous or not-assessable grade counts from what is certain): the first qualifying sign.
2. The peak is the highest lower bound during the episode, and the first time it was reached;
   ``peak_upper`` is the highest upper bound (the peak may have been higher where data were
   missing or the wording undecided).
3. Resolution is the first time after onset the scale is graded 0, or provisionally 0 (grade 0
   on the documented findings; decision 0026).  A stretch that is not assessable (no
   temperature for 24 h, say) does not resolve an episode: it is unknown.
6. ``peak_status`` is the status of the state that set the peak: ``graded``, ``provisional``
   (the peak is the grade on record, missing data could raise it), ``ambiguous`` or
   ``not_assessable``; a graded state at the peak grade wins over a provisional one.
4. A grade of 1 or more after resolution starts a new episode (re-escalation).
5. CRS and ICANS episodes are kept apart (``kind``): neurotoxicity runs on its own clock and
   often starts as CRS settles (seed 003_f311ac7ac5f2c496.txt, case 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from crswatch.timeline import format_time

__all__ = ["Episode", "episodes_from_trajectory", "peak_grades", "peak_status"]

#: Statuses whose grade is on record (decision 0026).
_ON_RECORD = ("graded", "provisional")


@dataclass(frozen=True, slots=True)
class Episode:
    """One episode of one syndrome (``kind``: ``crs`` or ``icans``) on one scale."""

    patient_id: str
    scale: str
    onset: datetime
    peak_grade: int
    peak_at: datetime
    peak_upper: int
    resolution: datetime | None
    kind: str = "crs"
    peak_status: str = "graded"

    @property
    def duration_hours(self) -> float | None:
        if self.resolution is None:
            return None
        return (self.resolution - self.onset).total_seconds() / 3600

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "scale": self.scale,
            "onset": format_time(self.onset),
            "peak_grade": self.peak_grade,
            "peak_at": format_time(self.peak_at),
            "peak_upper": self.peak_upper,
            "peak_status": self.peak_status,
            "resolution": format_time(self.resolution) if self.resolution else None,
            "duration_hours": self.duration_hours,
        }


def episodes_from_trajectory(trajectory: pl.DataFrame) -> list[Episode]:
    """Episodes of every patient, syndrome and scale in a trajectory."""
    episodes: list[Episode] = []
    ordered = _with_kind(trajectory).sort("patient_id", "kind", "scale", "at")
    groups = ordered.group_by(["patient_id", "kind", "scale"], maintain_order=True)
    for (patient_id, kind, scale), rows in groups:
        current: dict[str, Any] | None = None
        for row in rows.iter_rows(named=True):
            lower, upper = int(row["lower"]), int(row["upper"])
            if current is None:
                if lower >= 1:
                    current = {
                        "onset": row["at"],
                        "peak": lower,
                        "peak_at": row["at"],
                        "upper": upper,
                        "status": row["status"],
                    }
                continue
            if row["status"] in _ON_RECORD and lower == 0:
                episodes.append(_close(str(patient_id), str(kind), str(scale), current, row["at"]))
                current = None
                continue
            if lower > current["peak"]:
                current["peak"], current["peak_at"] = lower, row["at"]
                current["status"] = row["status"]
            elif lower == current["peak"] and row["status"] == "graded":
                current["status"] = "graded"
            current["upper"] = max(current["upper"], upper)
        if current is not None:
            episodes.append(_close(str(patient_id), str(kind), str(scale), current, None))
    return episodes


def _with_kind(trajectory: pl.DataFrame) -> pl.DataFrame:
    """A trajectory without ``kind`` (built before ICANS) is a CRS trajectory."""
    if "kind" in trajectory.columns:
        return trajectory
    return trajectory.with_columns(kind=pl.lit("crs"))


def _close(
    patient_id: str, kind: str, scale: str, current: dict[str, Any], end: datetime | None
) -> Episode:
    return Episode(
        patient_id=patient_id,
        kind=kind,
        scale=scale,
        onset=current["onset"],
        peak_grade=current["peak"],
        peak_at=current["peak_at"],
        peak_upper=current["upper"],
        resolution=end,
        peak_status=current["status"],
    )


def peak_grades(trajectory: pl.DataFrame) -> pl.DataFrame:
    """Per patient, syndrome and scale: the highest certain grade (lower bound), the highest
    possible (upper bound) and the peak's status (:func:`peak_status`)."""
    return (
        _with_kind(trajectory)
        .group_by("patient_id", "kind", "scale")
        .agg(
            pl.col("lower").max().alias("peak_grade"),
            pl.col("upper").max().alias("peak_upper"),
            pl.col("upper").filter(pl.col("status") != "provisional").max().alias("_open"),
        )
        .with_columns(peak_status=peak_status(pl.col("_open")))
        .drop("_open")
        .sort("patient_id", "kind", "scale")
    )


def peak_status(upper_not_provisional: pl.Expr) -> pl.Expr:
    """Of a peak (``peak_grade``, ``peak_upper``): ``graded`` when the bounds agree,
    ``provisional`` when only provisional states (missing data) leave it open — the highest
    upper bound of the other states, ``upper_not_provisional``, does not exceed the peak — so
    the peak is the grade on record, else ``uncertain`` (ambiguous or not assessable)."""
    return (
        pl.when(pl.col("peak_grade") == pl.col("peak_upper"))
        .then(pl.lit("graded"))
        .when(upper_not_provisional.fill_null(0) <= pl.col("peak_grade"))
        .then(pl.lit("provisional"))
        .otherwise(pl.lit("uncertain"))
    )
