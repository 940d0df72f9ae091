"""The ward view model: one row per patient, graded and screened at one moment, sorted by severity.

Pure: timelines in, plain values out (no store, no request), so the rows are unit-tested without
a browser.  The ward's frames are built once; every patient is graded now and 24 h before in one
vectorized state-engine pass, HLH screens and ICE gaps in one call each, and the blinatumomab
patients' grade courses in one trajectory; only the blinatumomab state machine runs per patient
(per course), for blinatumomab patients only (decision 0024: the same rows, computed once).

Severity (docs/decisions/0016-dashboard.md): rows sort by the highest grade that is certain
(a graded result's grade, or the lower bound of an ambiguous or not-assessable one) over CRS and
ICANS, then by the number of alerts, then by the highest grade still possible (the upper bound),
then by patient id.  An ungraded result is never shown or sorted as a number it is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import polars as pl

from crswatch.episodes import assessment_gaps, trajectory_of_frames
from crswatch.hlh import screen_frame, screen_results
from crswatch.management import TOCILIZUMAB_LABEL
from crswatch.regimens import blinatumomab_status, regimen_status
from crswatch.regimens.blinatumomab import GradeCourse, GradePoint, StatusParameters
from crswatch.scales import (
    GradeResult,
    PatientGrades,
    grade_notation,
    grade_on_record,
    grade_state,
)
from crswatch.state import StateParameters, clinical_state
from crswatch.timeline import Timeline, to_frames
from crswatch.web._why import Finding, deciding_findings, open_question

__all__ = [
    "FERRITIN_ALERT_NG_ML",
    "ICANS_SCALE",
    "NEURO_ITEMS",
    "NEURO_STALE_AFTER",
    "TREND_WINDOW",
    "VITALS_STALE_AFTER",
    "VITAL_ITEMS",
    "Alert",
    "GradeCell",
    "LastSeen",
    "Trend",
    "WardRow",
    "grade_courses_of",
    "ward_rows",
]

#: The state engine's time type (evaluation times are cast to it, as ``grade_timelines`` does).
_AT = pl.Datetime("us", "UTC")

#: The ICANS scale of the ward (the only ICANS scale crswatch grades).
ICANS_SCALE = "icans.astct2019"
#: How far back the trend looks.
TREND_WINDOW = timedelta(hours=24)
#: Ferritin alert threshold, exclusive: carHLH's "peak serum ferritin > 10,000 ng/mL"
#: (Neelapu 2018, CARTOX; clinical-criteria §3.3).
FERRITIN_ALERT_NG_ML = 10_000.0
#: Vital signs whose latest time the ward shows ("vitals 35 min ago").
VITAL_ITEMS = ("temperature", "heart_rate", "sbp", "map", "resp_rate", "spo2")
#: Neurological assessments whose latest time the ward shows ("ICE 3 h ago").
NEURO_ITEMS = ("ice_score", "ice_orientation", "capd_score", "consciousness")
#: When the ward flags the latest vital signs as stale: a ward default for patients watched for
#: CRS (4-hourly observations at the least), not a guideline's rule (decision 0049).
VITALS_STALE_AFTER = timedelta(hours=4)
#: When the ward flags the latest ICE/CAPD as stale: a ward default (twice-daily assessment at the
#: least; decision 0049).  During CRS the "ICE overdue" alert applies its own interval.
NEURO_STALE_AFTER = timedelta(hours=12)

TrendArrow = Literal["↑", "↓", "=", "?"]
AlertLevel = Literal["alert", "info"]


@dataclass(frozen=True, slots=True)
class GradeCell:
    """One grade as the ward shows it: a number only when the scale decided one."""

    scale: str
    status: str
    grade: int | None
    bounds: tuple[int, int]

    @classmethod
    def of(cls, result: GradeResult) -> GradeCell:
        return cls(result.scale, result.status, result.grade, result.bounds)

    @property
    def graded(self) -> bool:
        return self.status == "graded" and self.grade is not None

    @property
    def on_record(self) -> int | None:
        """The grade to act on: graded or provisional (``grade_on_record``), else None."""
        return grade_on_record(self.grade, self.status)

    @property
    def certain(self) -> int:
        """The highest grade that is certain: the grade, else the lower bound."""
        return self.grade if self.graded and self.grade is not None else self.bounds[0]

    @property
    def possible(self) -> int:
        """The highest grade still possible: the grade, else the upper bound."""
        return self.grade if self.graded and self.grade is not None else self.bounds[1]

    @property
    def label(self) -> str:
        """The grade in the shared notation (``crswatch.scales.grade_notation``)."""
        return grade_notation(self.grade, self.status, *self.bounds)

    @property
    def short(self) -> str:
        """The cell's main text: the grade on record, or the bounds (``1–2``)."""
        if self.on_record is not None:
            return str(self.on_record)
        return f"{self.bounds[0]}–{self.bounds[1]}"


@dataclass(frozen=True, slots=True)
class Trend:
    """The grade 24 h ago against now: ↑ / ↓ only when the bounds make it certain."""

    then: GradeCell
    now: GradeCell

    @property
    def arrow(self) -> TrendArrow:
        if self.now.certain > self.then.possible:
            return "↑"
        if self.now.possible < self.then.certain:
            return "↓"
        if self.now.graded and self.then.graded and self.now.grade == self.then.grade:
            return "="
        return "?"

    @property
    def text(self) -> str:
        return f"{self.then.short} → {self.now.short}"


@dataclass(frozen=True, slots=True)
class Alert:
    """One flag on a row; ``level`` "alert" counts for severity, "info" is shown only."""

    code: str
    label: str
    detail: str
    level: AlertLevel = "alert"


@dataclass(frozen=True, slots=True)
class LastSeen:
    """When something was last recorded, and whether that is too long ago at ``now``."""

    what: str
    at: datetime | None
    age: timedelta | None
    stale: bool

    @property
    def ago(self) -> str:
        """``35 min``, ``5 h``, ``2 d``; ``never`` when nothing was recorded."""
        if self.age is None:
            return "never"
        minutes = max(int(self.age.total_seconds() // 60), 0)
        if minutes < 60:
            return f"{minutes} min"
        if minutes < 48 * 60:
            return f"{minutes // 60} h"
        return f"{minutes // (24 * 60)} d"


def last_seen(
    timeline: Timeline, items: Sequence[str], what: str, now: datetime, stale_after: timedelta
) -> LastSeen:
    """The latest event of ``items`` at or before ``now``; stale when older than the limit."""
    moments = [event.time for event in timeline.of(*items) if event.time <= now]
    if not moments:
        return LastSeen(what, None, None, True)
    latest = max(moments)
    return LastSeen(what, latest, now - latest, now - latest > stale_after)


@dataclass(frozen=True, slots=True)
class WardRow:
    patient_id: str
    therapy_kind: str
    therapy: str
    day: int
    crs: GradeCell
    icans: GradeCell
    crs_trend: Trend
    icans_trend: Trend
    alerts: tuple[Alert, ...]
    #: The findings that decide each grade now, in the patient's values (``_why``).
    crs_why: tuple[Finding, ...] = ()
    icans_why: tuple[Finding, ...] = ()
    #: What leaves a grade open (provisional, not assessable, ambiguous), in words.
    crs_open: str = ""
    icans_open: str = ""
    last_vitals: LastSeen | None = None
    last_neuro: LastSeen | None = None

    @property
    def alert_count(self) -> int:
        return sum(1 for alert in self.alerts if alert.level == "alert")

    @property
    def severity(self) -> tuple[int, int, int]:
        """Larger is more severe (see the module docstring)."""
        return (
            max(self.crs.certain, self.icans.certain),
            self.alert_count,
            max(self.crs.possible, self.icans.possible),
        )


_THERAPY_NAMES = {
    "car_t": "CAR T",
    "blinatumomab": "Blinatumomab",
    "bispecific": "Bispecific",
    "tcr_t": "TCR T",
    "other": "Other",
}


def therapy_label(timeline: Timeline) -> str:
    therapy = timeline.patient.therapy
    name = _THERAPY_NAMES.get(therapy.kind, therapy.kind)
    if not therapy.product or therapy.product.lower() == name.lower():
        return name
    return f"{name} ({therapy.product})"


def therapy_day(timeline: Timeline, now: datetime) -> int:
    """Day since infusion or first dose, the infusion day being day 0 (negative before)."""
    return (now - timeline.patient.therapy.start).days


def up_to(timeline: Timeline, now: datetime) -> Timeline:
    """The timeline as it stood at ``now`` (what a later event says is not known yet)."""
    if not timeline.events or timeline.events[-1].time <= now:
        return timeline
    return Timeline(timeline.patient, tuple(e for e in timeline.events if e.time <= now))


def tocilizumab_doses(timeline: Timeline, now: datetime) -> int:
    """Tocilizumab administrations up to ``now``, counted as the management engine counts them
    (every ``tocilizumab`` event at or before T; ``crswatch.management`` facts)."""
    return sum(1 for event in timeline.of("tocilizumab") if event.time <= now)


def _ferritin_alert(timeline: Timeline) -> Alert | None:
    values = [e.value for e in timeline.of("ferritin") if isinstance(e.value, int | float)]
    if not values or float(values[-1]) <= FERRITIN_ALERT_NG_ML:
        return None
    return Alert("ferritin", "Ferritin > 10,000", f"latest ferritin {float(values[-1]):,.0f} ng/mL")


def _tocilizumab_alert(timeline: Timeline, now: datetime) -> Alert | None:
    used = tocilizumab_doses(timeline, now)
    if used == 0:
        return None
    limit = TOCILIZUMAB_LABEL.max_total
    # Only the exhausted label maximum weighs on severity; fewer doses are shown for context.
    level: AlertLevel = "alert" if used >= limit else "info"
    return Alert("tocilizumab", f"Toci {used}/{limit}", f"{used} of {limit} doses used", level)


def _blinatumomab_alert(
    timeline: Timeline, now: datetime, courses: list[GradeCourse] | None = None
) -> Alert | None:
    if timeline.patient.therapy.kind != "blinatumomab":
        return None
    try:
        status = blinatumomab_status(timeline, now, courses=courses)
    except ValueError as exc:  # missing weight or an unknown regimen: say so, do not hide it
        return Alert("blinatumomab", "Blina status ?", str(exc), "info")
    if not status.deviations:
        return None
    latest = status.deviations[-1]
    count = len(status.deviations)
    return Alert("blinatumomab", f"Blina deviation ×{count}", f"{latest.kind}: {latest.detail}")


def _monitoring_alert(timeline: Timeline, now: datetime) -> Alert | None:
    """A step-up bispecific patient inside the label's stay after a dose (decision 0044).

    The window depends on the doses only, so the status is read without grading (no points).
    """
    if timeline.patient.therapy.kind != "bispecific":
        return None
    try:
        status = regimen_status(timeline, now, points=[])
    except ValueError:  # not one of the step-up products: nothing to say
        return None
    window = status.monitoring
    if not window["now"]:
        return None
    until = str(window["until"])
    detail = f"{window['setting']} after {window['after']} ({status.product.name})"
    return Alert("monitoring", f"In monitoring window until {until}", detail, "info")


def _ice_alerts(
    timelines: Sequence[Timeline], now: datetime, frames: tuple[pl.DataFrame, pl.DataFrame]
) -> dict[str, Alert]:
    """Patients whose ICE/CAPD is overdue at ``now`` during CRS (an open assessment gap)."""
    last_event = {t.patient.id: t.events[-1].time for t in timelines if t.events}
    alerts: dict[str, Alert] = {}
    for gap in assessment_gaps(timelines, frames=frames):
        still_open = not gap.assessed_at_end and gap.until >= last_event.get(gap.patient_id, now)
        if not still_open or gap.overdue_from > now:
            continue
        since = gap.last_assessment
        hours = (now - since).total_seconds() / 3600 if since else None
        detail = (
            f"no ICE/CAPD for {hours:.0f} h during CRS"
            if hours is not None
            else "no ICE/CAPD since the therapy start during CRS"
        )
        alerts[gap.patient_id] = Alert("ice_overdue", "ICE overdue", detail)
    return alerts


def _graded(
    patients: pl.DataFrame, events: pl.DataFrame, moments: list[datetime], scales: list[str]
) -> dict[tuple[str, datetime], PatientGrades]:
    """Every patient graded at every moment, in one state-engine pass (rows are independent)."""
    times = pl.concat(
        [patients.select("patient_id", pl.lit(m).cast(_AT).alias("at")) for m in moments]
    )
    params = StateParameters()
    state = clinical_state(patients, events, times, params)
    return {(g.patient_id, g.at): g for g in grade_state(state, scales=scales, params=params)}


def grade_courses_of(frame: pl.DataFrame) -> dict[str, list[GradeCourse]]:
    """Each patient's grade courses from a trajectory, as ``grade_courses`` builds them.

    ``frame`` is a trajectory (``TRAJECTORY_SCHEMA``) of one or more patients on the scales
    the blinatumomab status reads (``StatusParameters``): rows of one patient are those of
    their own trajectory (change points are found per patient and scale).
    """
    courses: dict[str, list[GradeCourse]] = {}
    for (pid,), rows in frame.group_by("patient_id", maintain_order=True):
        points: dict[tuple[str, str], list[GradePoint]] = {}
        # Per patient as ``grade_courses`` orders a single patient's trajectory.
        for row in rows.sort("at").iter_rows(named=True):
            point = GradePoint(row["at"], int(row["lower"]), int(row["upper"]), str(row["status"]))
            points.setdefault((str(row["kind"]), str(row["scale"])), []).append(point)
        courses[str(pid)] = [GradeCourse(k, s, tuple(p)) for (k, s), p in points.items()]
    return courses


def _blinatumomab_courses(
    timelines: Sequence[Timeline], patients: pl.DataFrame, events: pl.DataFrame
) -> dict[str, list[GradeCourse]]:
    """The blinatumomab patients' grade courses in one trajectory."""
    ids = [t.patient.id for t in timelines if t.patient.therapy.kind == "blinatumomab"]
    if not ids:
        return {}
    params = StatusParameters()
    frame = trajectory_of_frames(
        patients.filter(pl.col("patient_id").is_in(ids)),
        events.filter(pl.col("patient_id").is_in(ids)),
        scales=[params.crs_scale, params.neuro_scale],
    )
    return grade_courses_of(frame)


def ward_rows(
    timelines: Sequence[Timeline], now: datetime, *, crs_scale: str = "astct2019"
) -> list[WardRow]:
    """Every patient's row at ``now`` on ``crs_scale`` (and ASTCT ICANS), most severe first."""
    current = [up_to(t, now) for t in timelines]
    if not current:
        return []
    patients, events = to_frames(current)
    graded = _graded(patients, events, [now, now - TREND_WINDOW], [crs_scale, ICANS_SCALE])
    graded_now = [graded[t.patient.id, now] for t in current]
    graded_then = [graded[t.patient.id, now - TREND_WINDOW] for t in current]
    moments = patients.select("patient_id", pl.lit(now).cast(_AT).alias("at"))
    screens = {s.patient_id: s for s in screen_results(screen_frame(patients, events, moments))}
    courses = _blinatumomab_courses(current, patients, events)
    ice = _ice_alerts(current, now, (patients, events))
    icans_id = ICANS_SCALE.split(".", 1)[1]
    rows = []
    for timeline, at_now, at_then in zip(current, graded_now, graded_then, strict=True):
        pid = timeline.patient.id
        crs_now, crs_then = (
            GradeCell.of(at_now.crs[crs_scale]),
            GradeCell.of(at_then.crs[crs_scale]),
        )
        icans_now = GradeCell.of(at_now.icans[icans_id])
        icans_then = GradeCell.of(at_then.icans[icans_id])
        alerts: list[Alert] = []
        ferritin = _ferritin_alert(timeline)
        if ferritin:
            alerts.append(ferritin)
        met = [name for name, status in screens[pid].flags.items() if status == "met"]
        if met:
            alerts.append(Alert("hlh", "HLH screen +", "met: " + ", ".join(met)))
        if pid in ice:
            alerts.append(ice[pid])
        blina = _blinatumomab_alert(timeline, now, courses.get(pid))
        if blina:
            alerts.append(blina)
        toci = _tocilizumab_alert(timeline, now)
        if toci:
            alerts.append(toci)
        stay = _monitoring_alert(timeline, now)
        if stay:
            alerts.append(stay)
        crs_result, icans_result = at_now.crs[crs_scale], at_now.icans[icans_id]
        rows.append(
            WardRow(
                patient_id=pid,
                therapy_kind=timeline.patient.therapy.kind,
                therapy=therapy_label(timeline),
                day=therapy_day(timeline, now),
                crs=crs_now,
                icans=icans_now,
                crs_trend=Trend(crs_then, crs_now),
                icans_trend=Trend(icans_then, icans_now),
                alerts=tuple(alerts),
                crs_why=deciding_findings(crs_result),
                icans_why=deciding_findings(icans_result),
                crs_open=open_question(crs_result),
                icans_open=open_question(icans_result),
                last_vitals=last_seen(timeline, VITAL_ITEMS, "vitals", now, VITALS_STALE_AFTER),
                last_neuro=last_seen(timeline, NEURO_ITEMS, "ICE/CAPD", now, NEURO_STALE_AFTER),
            )
        )
    rows.sort(key=lambda row: row.patient_id)
    rows.sort(key=lambda row: row.severity, reverse=True)
    return rows
