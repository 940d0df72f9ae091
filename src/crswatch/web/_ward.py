"""The ward view model: one row per patient, graded and screened at one moment, sorted by severity.

Pure: records in, plain values out (no store, no request), so the rows are unit-tested without
a browser.  A record (``WardRecord``) is a patient's frames as the app's cache keeps them, the
``Timeline`` only for the kinds whose regimen engines read one, and a place to keep results of
that exact stored version.  Per refresh (decision 0068): the records' frames are concatenated
(no ``to_frames`` over the ward), every patient is graded now and 24 h before in one
state-engine pass building only the state the two scales read, the HLH screens met are read as
statuses and kept per interval between the record's screen change points (decision 0073), and
the row's facts (latest vitals, ICE/CAPD, ferritin, tocilizumab doses) come from one
aggregation over the events.  The ICE gaps and the blinatumomab courses come from trajectories
of the whole record, which do not depend on the moment: they are kept per stored version and
recomputed, in one pass each, only for records that changed.  Only the blinatumomab and step-up
regimen state machines run per patient, for those patients only.  The rows are those of the
code before (decision 0024), field for field (``tests/web/test_ward_rows_identity.py``).

Severity (docs/decisions/0016-dashboard.md): rows sort by the highest grade that is certain
(a graded result's grade, or the lower bound of an ambiguous or not-assessable one) over CRS and
ICANS, then by the number of alerts, then by the highest grade still possible (the upper bound),
then by patient id.  An ungraded result is never shown or sorted as a number it is not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

import numpy as np
import polars as pl

from crswatch.episodes import AssessmentGap, assessment_gaps, trajectory_of_frames
from crswatch.errors import InputError
from crswatch.hlh import screen_change_points, screen_frame, screen_statuses
from crswatch.management import TOCILIZUMAB_LABEL
from crswatch.regimens import blinatumomab_status, regimen_status
from crswatch.regimens.blinatumomab import GradeCourse, GradePoint, StatusParameters
from crswatch.scales import (
    CRS_ACTIVITY_SCALE,
    GradeResult,
    PatientGrades,
    grade_notation,
    grade_on_record,
    grade_state,
    select_scales,
    state_columns,
)
from crswatch.state import PreparedState, StateParameters, prepare_state, prepared_state_at
from crswatch.timeline import Timeline, to_frames
from crswatch.web._why import Finding, deciding_findings, open_question

__all__ = [
    "FERRITIN_ALERT_NG_ML",
    "ICANS_SCALE",
    "NEURO_ITEMS",
    "NEURO_STALE_AFTER",
    "TIMELINE_KINDS",
    "TREND_WINDOW",
    "VITALS_STALE_AFTER",
    "VITAL_ITEMS",
    "Alert",
    "GradeCell",
    "LastSeen",
    "Trend",
    "WardFrames",
    "WardMemo",
    "WardRecord",
    "WardRow",
    "grade_courses_of",
    "ward_records",
    "ward_rows",
    "ward_rows_of",
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

_T = TypeVar("_T")

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


def _therapy_label(kind: str, product: str | None) -> str:
    name = _THERAPY_NAMES.get(kind, kind)
    if not product or product.lower() == name.lower():
        return name
    return f"{name} ({product})"


def therapy_label(timeline: Timeline) -> str:
    therapy = timeline.patient.therapy
    return _therapy_label(therapy.kind, therapy.product)


def therapy_day(timeline: Timeline, now: datetime) -> int:
    """Day since infusion or first dose, the infusion day being day 0 (negative before)."""
    return _therapy_day(timeline.patient.therapy.start, now)


def _therapy_day(start: datetime, now: datetime) -> int:
    return (now - start).days


def up_to(timeline: Timeline, now: datetime) -> Timeline:
    """The timeline as it stood at ``now`` (what a later event says is not known yet)."""
    if not timeline.events or timeline.events[-1].time <= now:
        return timeline
    return Timeline(timeline.patient, tuple(e for e in timeline.events if e.time <= now))


# ------------------------------------------------------------------------- the ward's input

Frames = tuple[pl.DataFrame, pl.DataFrame]
#: ``keep(key, compute)``: ``compute()``, kept for one exact stored version of one patient and
#: ``key`` (the app's ``TimelineCache.result``, bound to the patient and its marker).
Keep = Callable[[Hashable, Callable[[], Any]], Any]

#: Therapy kinds whose row reads the ``Timeline``: the blinatumomab status and the step-up
#: regimens' monitoring window are computed from event objects.
TIMELINE_KINDS = frozenset({"blinatumomab", "bispecific"})


@dataclass(frozen=True, slots=True)
class WardRecord:
    """One patient as the ward reads them.

    ``frames``: the ``(patients, events)`` frames of this patient's whole record, as
    ``to_frames([timeline])`` gives them (the app's cache keeps them per stored version);
    ``timeline``: the record as a ``Timeline``, needed only for ``TIMELINE_KINDS``;
    ``keep``: where results of this exact record can be kept between refreshes (None: none
    kept, everything computed).
    """

    frames: Frames
    timeline: Timeline | None = None
    keep: Keep | None = None


def ward_records(timelines: Iterable[Timeline]) -> list[WardRecord]:
    """The ward's input for plain timelines (nothing kept between calls)."""
    return [WardRecord(to_frames([timeline]), timeline) for timeline in timelines]


# ------------------------------------------------------------------- per row, from the frames


def _seen(what: str, latest: datetime | None, now: datetime, stale_after: timedelta) -> LastSeen:
    if latest is None:
        return LastSeen(what, None, None, True)
    return LastSeen(what, latest, now - latest, now - latest > stale_after)


def _row_facts(events: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Per patient, what the row shows from its events (the events at or before now).

    One aggregation over the ward's events instead of a loop over each record's events: the
    last event, the latest vital sign and ICE/CAPD, the tocilizumab administrations (every
    ``tocilizumab`` event, as the management engine counts them) and the latest ferritin with
    a number (in the record's order, as charted).
    """
    item = pl.col("item")
    ferritin = (item == "ferritin") & pl.col("value_num").is_not_null()
    facts = events.group_by("patient_id").agg(
        pl.col("time").max().alias("last_event"),
        pl.col("time").filter(item.is_in(VITAL_ITEMS)).max().alias("vitals"),
        pl.col("time").filter(item.is_in(NEURO_ITEMS)).max().alias("neuro"),
        (item == "tocilizumab").sum().alias("tocilizumab"),
        pl.col("value_num").filter(ferritin).last().alias("ferritin"),
        pl.len().alias("events"),
    )
    return {row["patient_id"]: row for row in facts.iter_rows(named=True)}


def _ferritin_alert(latest: float | None) -> Alert | None:
    if latest is None or float(latest) <= FERRITIN_ALERT_NG_ML:
        return None
    return Alert("ferritin", "Ferritin > 10,000", f"latest ferritin {float(latest):,.0f} ng/mL")


def _tocilizumab_alert(used: int) -> Alert | None:
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


def _ice_alert(
    gaps: Sequence[AssessmentGap], last_event: datetime | None, now: datetime
) -> Alert | None:
    """The ICE/CAPD overdue at ``now`` during CRS (an open assessment gap), if any.

    Of several open gaps the last one is shown (each replaced the one before).
    """
    alert: Alert | None = None
    for gap in gaps:
        still_open = not gap.assessed_at_end and gap.until >= (last_event or now)
        if not still_open or gap.overdue_from > now:
            continue
        since = gap.last_assessment
        hours = (now - since).total_seconds() / 3600 if since else None
        detail = (
            f"no ICE/CAPD for {hours:.0f} h during CRS"
            if hours is not None
            else "no ICE/CAPD since the therapy start during CRS"
        )
        alert = Alert("ice_overdue", "ICE overdue", detail)
    return alert


# ------------------------------------------------------------------------------ the engines


def _graded(
    prepared: PreparedState, patients: pl.DataFrame, moments: list[datetime], scales: list[str]
) -> dict[tuple[str, datetime], PatientGrades]:
    """Every patient graded at every moment, in one state-engine pass (rows are independent).

    Only the state the scales read is built (``state_columns``, decision 0065 §3), with what
    the ICANS grade's CRS context reads (``CRS_ACTIVITY_SCALE``); from the ward's prepared
    record (``WardMemo``), so the same state as ``clinical_state`` of its frames.
    """
    times = pl.concat(
        [patients.select("patient_id", pl.lit(m).cast(_AT).alias("at")) for m in moments]
    )
    params = prepared.params
    read = [*scales, CRS_ACTIVITY_SCALE]
    needed = state_columns(select_scales(read), crs_definition=params.crs_definition)
    state = prepared_state_at(prepared, times, columns=needed)
    return {(g.patient_id, g.at): g for g in grade_state(state, scales=scales, params=params)}


def _hlh_met(statuses: pl.DataFrame) -> dict[str, list[str]]:
    """Per patient, the screens met (in the order of ``SCREENS``, as ``HLHScreens.flags``)."""
    screens = [name for name in statuses.columns if name not in ("patient_id", "at")]
    return {
        row[0]: [name for name, status in zip(screens, row[2:], strict=True) if status == "met"]
        for row in statuses.iter_rows()
    }


#: The keys of a record's HLH change points and of its screens met in one interval.
_HLH_POINTS = "crswatch.web.ward:hlh-points"
_HLH_MET = "crswatch.web.ward:hlh-met"


#: Instants as the frames hold them: microseconds since the epoch, UTC.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _hlh_points(records: Sequence[WardRecord], ids: Sequence[str]) -> dict[str, np.ndarray]:
    """Each kept record's instants where a screen input can change (``screen_change_points``
    of its whole record: a function of the stored version), found in one call for the records
    that have none kept yet.  Sorted microseconds since the epoch: a month of 5-minute
    temperatures gives some 20,000 instants, 8 bytes each, searched in microseconds."""
    slots: dict[str, _Slot[np.ndarray]] = {}
    for record, pid in zip(records, ids, strict=True):
        if record.keep is not None:
            slots[pid] = record.keep(_HLH_POINTS, _Slot)
    missing = [pid for pid, slot in slots.items() if slot.value is None]
    if missing:
        chosen = set(missing)
        events = pl.concat(
            [r.frames[1] for r, pid in zip(records, ids, strict=True) if pid in chosen]
        )
        found = {pid: np.empty(0, dtype=np.int64) for pid in missing}
        points = screen_change_points(events).with_columns(pl.col("at").dt.epoch("us"))
        for (pid,), rows in points.group_by("patient_id"):
            found[str(pid)] = rows["at"].to_numpy()
        for pid in missing:
            slots[pid].value = found[pid]
    return {pid: slot.value for pid, slot in slots.items() if slot.value is not None}


def _screens(
    records: Sequence[WardRecord],
    ids: Sequence[str],
    patients: pl.DataFrame,
    events: pl.DataFrame,
    counts: dict[str, int],
    now: datetime,
) -> dict[str, list[str]]:
    """Per patient, the HLH screens met at ``now``, kept per interval between change points.

    A screen's inputs change only at the record's ``screen_change_points`` and, for the
    age in days, at a UTC midnight (tests/hlh/test_change_points.py): the screens met at
    ``now`` are those met anywhere in ``[last change point <= now, next one)`` on ``now``'s
    UTC date, with the same events up to now.  So they are kept under that interval (and the
    number of events up to now) for the record's stored version and computed again only when
    ``now`` enters another interval or the record changes (decision 0073); the change points
    themselves are a function of the record and kept with it.  Missing screens are computed
    in one call for all those patients at ``now``, as before.
    """
    day = now.astimezone(UTC).date()
    kept_points = _hlh_points(records, ids)
    slots: dict[str, _Slot[list[str]]] = {}
    for record, pid in zip(records, ids, strict=True):
        points = kept_points.get(pid)
        if record.keep is None or points is None:
            slots[pid] = _Slot()
            continue
        index = int(np.searchsorted(points, _micros(now), side="right"))
        since = int(points[index - 1]) if index else None
        slots[pid] = record.keep((_HLH_MET, counts[pid], since, day), _Slot)
    missing = [pid for pid, slot in slots.items() if slot.value is None]
    if missing:
        chosen = pl.col("patient_id").is_in(missing)
        moments = patients.filter(chosen).select("patient_id", pl.lit(now).cast(_AT).alias("at"))
        # The row shows which screens are met, nothing of their evidence: statuses as columns.
        frame = screen_frame(patients.filter(chosen), events.filter(chosen), moments)
        met = _hlh_met(screen_statuses(frame))
        for pid in missing:
            slots[pid].value = met[pid]
    return {pid: slot.value for pid, slot in slots.items() if slot.value is not None}


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


@dataclass(frozen=True, slots=True)
class _Course:
    """What a patient's row reads from the grade over the whole record (no ``now`` in it).

    The ICE/CAPD gaps during CRS (``assessment_gaps``) and, for a blinatumomab patient, the
    grade courses its status reads: both come from a trajectory, the ward's costliest part,
    and both are a function of the record alone (up to ``now``), so they are kept per stored
    version and recomputed only for a record that changed.
    """

    gaps: tuple[AssessmentGap, ...]
    courses: list[GradeCourse] | None


class _Slot(Generic[_T]):
    """A kept value (a ``_Course``, a patient's screens met), filled after the batch that
    computes it.

    ``keep`` answers one patient at a time; the engines run for every patient whose slot is
    empty at once (one engine pass instead of one per patient).  A slot left empty (the batch
    failed, or another request is filling it) is computed again.
    """

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: _T | None = None


#: The key of the kept ``_Course`` (with the number of events at or before now: the record
#: up to now, since events are appended and ``up_to`` keeps a prefix in time).
_COURSE = "crswatch.web.ward:course"


def _courses(
    records: Sequence[WardRecord],
    ids: Sequence[str],
    patients: pl.DataFrame,
    events: pl.DataFrame,
    counts: dict[str, int],
) -> dict[str, _Course]:
    slots: dict[str, _Slot[_Course]] = {}
    for record, pid in zip(records, ids, strict=True):
        slot: _Slot[_Course] = (
            _Slot() if record.keep is None else record.keep((_COURSE, counts[pid]), _Slot)
        )
        slots[pid] = slot
    missing = [pid for pid, slot in slots.items() if slot.value is None]
    if missing:
        computed = _compute_courses(patients, events, missing)
        for pid in missing:
            slots[pid].value = computed[pid]
    return {pid: slot.value for pid, slot in slots.items() if slot.value is not None}


def _compute_courses(
    patients: pl.DataFrame, events: pl.DataFrame, ids: list[str]
) -> dict[str, _Course]:
    """The ICE gaps of ``ids`` and the blinatumomab patients' grade courses (one pass each)."""
    chosen = pl.col("patient_id").is_in(ids)
    patients, events = patients.filter(chosen), events.filter(chosen)
    gaps: dict[str, list[AssessmentGap]] = {pid: [] for pid in ids}
    for gap in assessment_gaps([], frames=(patients, events)):
        gaps[gap.patient_id].append(gap)
    blinatumomab = pl.col("patient_id").is_in(
        patients.filter(pl.col("therapy_kind") == "blinatumomab")["patient_id"].implode()
    )
    courses: dict[str, list[GradeCourse]] = {}
    if patients.filter(blinatumomab).height:
        params = StatusParameters()
        frame = trajectory_of_frames(
            patients.filter(blinatumomab),
            events.filter(blinatumomab),
            scales=[params.crs_scale, params.neuro_scale],
        )
        courses = grade_courses_of(frame)
    return {pid: _Course(tuple(gaps[pid]), courses.get(pid)) for pid in ids}


# -------------------------------------------------------------------------------- the rows


def _timeline_of(record: WardRecord, pid: str, kind: str, now: datetime) -> Timeline | None:
    """The record up to ``now`` as a ``Timeline``, for the kinds whose engines read one."""
    if kind not in TIMELINE_KINDS:
        return None
    if record.timeline is None:
        raise InputError(f"ward record {pid!r} ({kind}) needs its timeline (TIMELINE_KINDS)")
    return up_to(record.timeline, now)


@dataclass(frozen=True, slots=True)
class WardFrames:
    """The ward's records up to one instant: patients, events (sorted by patient, as
    ``to_frames`` sorts them) and the state's preparation of them (``prepare_state``)."""

    patients: pl.DataFrame
    events: pl.DataFrame
    prepared: PreparedState


#: Per record: its frames (held, compared by identity) and its number of events up to now.
_WardKey = tuple[tuple[pl.DataFrame, pl.DataFrame, int], ...]


class WardMemo:
    """The ward's :class:`WardFrames`, kept between refreshes while no record changes.

    Every refresh (every 30 s per open ward) rebuilt them: the records' frames concatenated,
    cut at ``now`` and sorted, then the patient keys, the order check, the state's events and
    the CRS episodes (decision 0078).  They are kept for the records' exact frames objects (the
    app's cache gives the same objects for one stored version; the memo holds them, so an
    object's identity is never reused while it is kept) and for each record's number of events
    up to ``now``: a later refresh reads the same events unless one fell between.  One slot
    (the ward is one set of records), safe across the server's threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slot: tuple[_WardKey, WardFrames] | None = None

    def frames(self, records: Sequence[WardRecord], now: datetime) -> WardFrames:
        # The instant, in UTC as the frames' times (``now`` may carry the site's zone).
        moment = pl.lit(now.astimezone(UTC)).cast(_AT)
        key = tuple(
            (
                record.frames[0],
                record.frames[1],
                int(record.frames[1].select((pl.col("time") <= moment).sum()).item()),
            )
            for record in records
        )
        with self._lock:
            if self._slot is not None and _same_records(self._slot[0], key):
                return self._slot[1]
        patients = pl.concat([record.frames[0] for record in records])
        # One frame as ``to_frames`` builds it for the ward: sorted by patient (stable, so each
        # record keeps its order by time and item).
        events = (
            pl.concat([record.frames[1] for record in records])
            .filter(pl.col("time") <= moment)
            .sort("patient_id", maintain_order=True)
        )
        shared = WardFrames(patients, events, prepare_state(patients, events, StateParameters()))
        with self._lock:
            self._slot = (key, shared)
        return shared


def _same_records(kept: _WardKey, asked: _WardKey) -> bool:
    return len(kept) == len(asked) and all(
        a[0] is b[0] and a[1] is b[1] and a[2] == b[2] for a, b in zip(kept, asked, strict=True)
    )


def ward_rows(
    timelines: Sequence[Timeline], now: datetime, *, crs_scale: str = "astct2019"
) -> list[WardRow]:
    """Every patient's row at ``now`` on ``crs_scale`` (and ASTCT ICANS), most severe first."""
    return ward_rows_of(ward_records(timelines), now, crs_scale=crs_scale)


def ward_rows_of(
    records: Sequence[WardRecord],
    now: datetime,
    *,
    crs_scale: str = "astct2019",
    memo: WardMemo | None = None,
) -> list[WardRow]:
    """``ward_rows`` of the records' frames (the dashboard's path: frames from its cache).

    Each record is read as it stood at ``now`` (events after it are not known yet).  Results
    of the whole record are kept through ``WardRecord.keep`` (``_Course``, the HLH change
    points) and so are the HLH screens met in the interval holding ``now`` (``_screens``); the
    records' frames up to ``now`` and their state's preparation are kept in ``memo`` (the
    app's, between refreshes; default: none kept).  The grades now and 24 h before and the
    row's facts are computed at ``now`` on every call.
    """
    if not records:
        return []
    shared = (memo or WardMemo()).frames(records, now)
    patients, events = shared.patients, shared.events
    ids: list[str] = patients["patient_id"].to_list()
    facts = _row_facts(events)
    counts = {pid: int(facts[pid]["events"]) if pid in facts else 0 for pid in ids}
    graded = _graded(shared.prepared, patients, [now, now - TREND_WINDOW], [crs_scale, ICANS_SCALE])
    screens = _screens(records, ids, patients, events, counts, now)
    courses = _courses(records, ids, patients, events, counts)
    icans_id = ICANS_SCALE.split(".", 1)[1]
    described = patients.select("therapy_kind", "therapy_product", "therapy_start").iter_rows()
    rows = []
    for record, pid, (kind, product, start) in zip(records, ids, described, strict=True):
        at_now, at_then = graded[pid, now], graded[pid, now - TREND_WINDOW]
        seen = facts.get(pid, {})
        crs_result, icans_result = at_now.crs[crs_scale], at_now.icans[icans_id]
        crs_now, icans_now = GradeCell.of(crs_result), GradeCell.of(icans_result)
        crs_then = GradeCell.of(at_then.crs[crs_scale])
        icans_then = GradeCell.of(at_then.icans[icans_id])
        alerts: list[Alert | None] = [_ferritin_alert(seen.get("ferritin"))]
        met = screens[pid]
        if met:
            alerts.append(Alert("hlh", "HLH screen +", "met: " + ", ".join(met)))
        course = courses[pid]
        alerts.append(_ice_alert(course.gaps, seen.get("last_event"), now))
        timeline = _timeline_of(record, pid, kind, now)
        if timeline is not None:
            alerts.append(_blinatumomab_alert(timeline, now, course.courses))
        alerts.append(_tocilizumab_alert(int(seen.get("tocilizumab", 0))))
        if timeline is not None:
            alerts.append(_monitoring_alert(timeline, now))
        rows.append(
            WardRow(
                patient_id=pid,
                therapy_kind=kind,
                therapy=_therapy_label(kind, product),
                day=_therapy_day(start, now),
                crs=crs_now,
                icans=icans_now,
                crs_trend=Trend(crs_then, crs_now),
                icans_trend=Trend(icans_then, icans_now),
                alerts=tuple(alert for alert in alerts if alert is not None),
                crs_why=deciding_findings(crs_result),
                icans_why=deciding_findings(icans_result),
                crs_open=open_question(crs_result),
                icans_open=open_question(icans_result),
                last_vitals=_seen("vitals", seen.get("vitals"), now, VITALS_STALE_AFTER),
                last_neuro=_seen("ICE/CAPD", seen.get("neuro"), now, NEURO_STALE_AFTER),
            )
        )
    rows.sort(key=lambda row: row.patient_id)
    rows.sort(key=lambda row: row.severity, reverse=True)
    return rows
