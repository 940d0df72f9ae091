"""Screening timelines: every screen at a time, over a course, and the flags other engines read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import Any

import polars as pl

from crswatch.hlh import carhlh, hlh2004, hscore, iechs2023
from crswatch.hlh._inputs import screen_inputs
from crswatch.hlh._params import HLHParameters, SupplementaryFindings
from crswatch.hlh._result import HLHScreens, ScreenStatus
from crswatch.timeline import Timeline, format_time, to_frames

__all__ = [
    "SCREENS",
    "ScreenCourse",
    "hlh_flags",
    "screen_course",
    "screen_frame",
    "screen_results",
    "screen_statuses",
    "screen_timelines",
]

#: The screens, by id, in the order they are reported.
SCREENS: dict[str, ModuleType] = {
    hlh2004.ID: hlh2004,
    hscore.ID: hscore,
    carhlh.ID: carhlh,
    iechs2023.ID: iechs2023,
}

Findings = Mapping[str, SupplementaryFindings] | SupplementaryFindings | None


def _findings_by_patient(
    patient_ids: Iterable[str], findings: Findings
) -> dict[str, SupplementaryFindings]:
    if findings is None:
        return {}
    if isinstance(findings, SupplementaryFindings):
        return dict.fromkeys(patient_ids, findings)
    return dict(findings)


def screen_frame(
    patients: pl.DataFrame,
    events: pl.DataFrame,
    times: pl.DataFrame,
    params: HLHParameters | None = None,
    findings: Findings = None,
) -> pl.DataFrame:
    """The inputs and every criterion column at each ``(patient_id, at)`` (vectorized)."""
    params = params or HLHParameters()
    by_patient = _findings_by_patient(patients["patient_id"].to_list(), findings)
    inputs = screen_inputs(patients, events, times, params, by_patient)
    return inputs.with_columns(_columns(params))


#: The screens' criteria columns and status columns, by parameters (``repr``: the parameters
#: hold dicts), built once per process: building them is some 5 ms of Python per call, more
#: than evaluating them over a ward (decision 0073).  Expressions are immutable values.
_COLUMNS: dict[str, list[pl.Expr]] = {}
_STATUSES: dict[str, list[pl.Expr]] = {}


def _columns(params: HLHParameters) -> list[pl.Expr]:
    key = repr(params)
    if key not in _COLUMNS:
        _COLUMNS[key] = [expr for module in SCREENS.values() for expr in module.columns(params)]
    return _COLUMNS[key]


def _statuses(params: HLHParameters) -> list[pl.Expr]:
    key = repr(params)
    if key not in _STATUSES:
        _STATUSES[key] = [module.status(params).alias(id_) for id_, module in SCREENS.items()]
    return _STATUSES[key]


def screen_results(frame: pl.DataFrame, params: HLHParameters | None = None) -> list[HLHScreens]:
    """One :class:`HLHScreens` per row of :func:`screen_frame`."""
    params = params or HLHParameters()
    out = []
    for row in frame.iter_rows(named=True):
        results = {screen: module.decide(row, params) for screen, module in SCREENS.items()}
        out.append(HLHScreens(patient_id=row["patient_id"], at=row["at"], results=results))
    return out


def screen_statuses(frame: pl.DataFrame, params: HLHParameters | None = None) -> pl.DataFrame:
    """Per row of :func:`screen_frame`: ``patient_id``, ``at`` and each screen's status.

    The statuses of :func:`screen_results` (``HLHScreens.flags``; one column per screen, named
    by its id, in the order of ``SCREENS``) as columns, without building every criterion's
    outcome and evidence row by row: for a caller that shows only the statuses (the ward's
    "HLH screen +" alert, decision 0073).  The same statuses as ``decide``
    (tests/hlh/test_statuses.py).
    """
    params = params or HLHParameters()
    return frame.select("patient_id", "at", *_statuses(params))


def _times(patients: pl.DataFrame, events: pl.DataFrame, at: datetime | None) -> pl.DataFrame:
    if at is not None:
        return patients.select("patient_id", pl.lit(at).cast(pl.Datetime("us", "UTC")).alias("at"))
    last = events.group_by("patient_id").agg(pl.col("time").max().alias("at"))
    return (
        patients.select("patient_id", pl.col("therapy_start").alias("_start"))
        .join(last, on="patient_id", how="left")
        .select("patient_id", pl.coalesce("at", "_start").alias("at"))
    )


def screen_timelines(
    timelines: Iterable[Timeline],
    at: datetime | None = None,
    params: HLHParameters | None = None,
    findings: Findings = None,
) -> list[HLHScreens]:
    """Every screen for each timeline at ``at`` (default: each one's last event)."""
    patients, events = to_frames(timelines)
    frame = screen_frame(patients, events, _times(patients, events, at), params, findings)
    order = {pid: n for n, pid in enumerate(patients["patient_id"].to_list())}
    results = screen_results(frame, params)
    return sorted(results, key=lambda r: order[r.patient_id])


def hlh_flags(
    timeline: Timeline,
    at: datetime | None = None,
    params: HLHParameters | None = None,
    findings: SupplementaryFindings | None = None,
) -> dict[str, ScreenStatus]:
    """Each screen's status for one patient at ``at``: what management and alerts read."""
    return screen_timelines([timeline], at, params, findings)[0].flags


@dataclass(frozen=True, slots=True)
class ScreenCourse:
    """The screens at every event time up to ``until``: when each was first met, HScore peak."""

    patient_id: str
    until: datetime
    times: tuple[datetime, ...]
    first_met: dict[str, datetime | None]
    statuses: dict[str, tuple[ScreenStatus, ...]]
    hscore_peak: tuple[int, int] | None
    hscore_peak_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "crswatch.hlh-course/1",
            "patient_id": self.patient_id,
            "until": format_time(self.until),
            "evaluated_at": [format_time(t) for t in self.times],
            "first_met": {
                screen: format_time(t) if t is not None else None
                for screen, t in self.first_met.items()
            },
            "statuses": {screen: list(s) for screen, s in self.statuses.items()},
            "hscore_peak_bounds": list(self.hscore_peak) if self.hscore_peak else None,
            "hscore_peak_at": format_time(self.hscore_peak_at) if self.hscore_peak_at else None,
        }


def screen_course(
    timeline: Timeline,
    until: datetime | None = None,
    params: HLHParameters | None = None,
    findings: SupplementaryFindings | None = None,
) -> ScreenCourse:
    """The screens at every event time of one timeline, up to ``until`` (default: the end)."""
    patients, events = to_frames([timeline])
    patient_id = timeline.patient.id
    moments = sorted({event.time for event in timeline.events} | {timeline.patient.therapy.start})
    end = until or moments[-1]
    moments = [m for m in moments if m <= end] or [end]
    times = pl.DataFrame(
        {"patient_id": [patient_id] * len(moments), "at": moments},
        schema={"patient_id": pl.String(), "at": pl.Datetime("us", "UTC")},
    )
    results = screen_results(screen_frame(patients, events, times, params, findings), params)
    results.sort(key=lambda r: r.at)
    first_met: dict[str, datetime | None] = {}
    statuses: dict[str, tuple[ScreenStatus, ...]] = {}
    for screen in SCREENS:
        series = [r.results[screen].status for r in results]
        statuses[screen] = tuple(series)
        first_met[screen] = next(
            (r.at for r, status in zip(results, series, strict=True) if status == "met"), None
        )
    peak: tuple[int, int] | None = None
    peak_at: datetime | None = None
    for r in results:
        bounds = r.results[hscore.ID].score_bounds
        if bounds is not None and (peak is None or bounds[0] > peak[0]):
            peak, peak_at = bounds, r.at
    return ScreenCourse(
        patient_id=patient_id,
        until=end,
        times=tuple(r.at for r in results),
        first_met=first_met,
        statuses=statuses,
        hscore_peak=peak,
        hscore_peak_at=peak_at,
    )
