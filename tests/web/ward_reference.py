"""The ward's rows as ``ward_rows`` computed them before issue 16 point 7: the reference.

Kept verbatim (helpers included) so that the equality tests compare the faster ward with the
code it replaced, field by field, on the same records: one ``Timeline`` per patient, ``to_frames``
over the ward, three state-engine passes (grades now and 24 h before, the ICE gaps'
trajectory, the blinatumomab courses' trajectory), the HLH screens, then per-patient loops over
the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl

from crswatch.episodes import assessment_gaps, trajectory_of_frames
from crswatch.hlh import screen_frame, screen_results
from crswatch.management import TOCILIZUMAB_LABEL
from crswatch.regimens import blinatumomab_status, regimen_status
from crswatch.regimens.blinatumomab import GradeCourse, GradePoint, StatusParameters
from crswatch.scales import PatientGrades, grade_state
from crswatch.state import StateParameters, clinical_state
from crswatch.timeline import Timeline, to_frames
from crswatch.web._ward import (
    FERRITIN_ALERT_NG_ML,
    ICANS_SCALE,
    NEURO_ITEMS,
    NEURO_STALE_AFTER,
    TREND_WINDOW,
    VITAL_ITEMS,
    VITALS_STALE_AFTER,
    Alert,
    AlertLevel,
    GradeCell,
    LastSeen,
    Trend,
    WardRow,
)
from crswatch.web._why import deciding_findings, open_question

__all__ = ["reference_ward_rows"]

_AT = pl.Datetime("us", "UTC")


def last_seen(
    timeline: Timeline, items: Sequence[str], what: str, now: datetime, stale_after: timedelta
) -> LastSeen:
    """The latest event of ``items`` at or before ``now``; stale when older than the limit."""
    moments = [event.time for event in timeline.of(*items) if event.time <= now]
    if not moments:
        return LastSeen(what, None, None, True)
    latest = max(moments)
    return LastSeen(what, latest, now - latest, now - latest > stale_after)


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


def reference_ward_rows(
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
