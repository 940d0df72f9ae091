"""Blinatumomab status from the record: a state machine over infusions and toxicity grades.

Inputs, all read up to the evaluation time T:

- ``blinatumomab`` rate events (ug/d): a rate holds until its ``end``, else until the next
  blinatumomab event; a rate of 0 stops the infusion; a rate still running at T is running.
- corticosteroid doses (``dexamethasone``, ``prednisone``, ``methylprednisolone``): a dose in
  ``[start - premedication_window, start]`` counts as premedication (rule ``premed.given``).
- ``seizure`` events attributable to the therapy (``cause`` not ``other``).
- the CRS grade course on ``crs_scale`` and the neurological grade course on ``neuro_scale``
  (ASTCT 2019 ICANS as a proxy for the label's CTCAE neurological grade), as a trajectory from
  :func:`crswatch.episodes.trajectory`; rules fire on the *certain* grade (the lower bound), and
  an uncertain one (upper bound over a threshold) is reported as ambiguous, never acted on.
- other clinically relevant adverse reactions, given by the caller (:class:`AdverseEvent`): the
  timeline has no item for them.

Boundaries (docs/decisions/0013-blinatumomab.md): a gap ``>= 4 h`` (current label; ``> 4 h`` for
the 2015 label) needs re-premedication, so 3 h 59 min does not; a gap ``<= 7 d`` continues the
cycle, so 7 d + 1 min starts a new one; escalation is allowed ``>= 7 d`` after the reduced dose
started; a neurological grade 3 resolving in ``> 7 d`` and another reaction in ``> 14 d``
discontinue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from crswatch.errors import UnknownCodeError
from crswatch.management._model import format_clock
from crswatch.regimens.blinatumomab._plan import (
    ADULT_AGE_YEARS,
    CYCLE_INFUSION_DAYS,
    REDUCED_STEP,
    TARGET_STEP,
    CyclePlan,
    Dose,
    Premedication,
    PremedReason,
    Regimen,
    Region,
    assess_cytoreduction,
    dose_for,
    plan_blinatumomab,
    premedications_due,
    resolve_regimen,
)
from crswatch.regimens.blinatumomab._rules import LabelVersion, get_label_version, rule
from crswatch.scales import get_scale
from crswatch.timeline import Timeline, format_time

__all__ = [
    "AdverseEvent",
    "BlinatumomabStatus",
    "Deviation",
    "GradeCourse",
    "GradePoint",
    "Interruption",
    "RuleAction",
    "StatusParameters",
    "blinatumomab_status",
    "grade_courses",
]

STEROIDS = ("dexamethasone", "prednisone", "methylprednisolone")
_DAY = timedelta(days=1)
#: A rate within this factor of the reduced dose counts as the reduced dose (rounding in records).
_REDUCED_TOLERANCE = 1.05


@dataclass(frozen=True, slots=True)
class StatusParameters:
    """The configurable parts of the state machine; echoed in every status."""

    label_version: str = "current"
    #: Which CRS scale drives crs.g3/crs.g4 (the current label's scale is unverified, [R]).
    crs_scale: str = "astct2019"
    neuro_scale: str = "icans.astct2019"
    setting: str = "rr"
    regimen: str | None = None
    region: Region = "us"
    premedication_window: timedelta = timedelta(hours=6)
    restart_premedication_gap: timedelta = timedelta(hours=4)
    continue_cycle_max_gap: timedelta = timedelta(days=7)
    escalation_after: timedelta = timedelta(days=7)
    neuro_withhold_min: timedelta = timedelta(days=3)
    neuro_resolution_max: timedelta = timedelta(days=7)
    other_resolution_max: timedelta = timedelta(days=14)
    #: After a dose modification, a CRS/ICANS grade >= this during the 7 days at the reduced
    #: dose is a recurrence that holds the escalation (interpretation).
    recurrence_grade: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "label_version": self.label_version,
            "crs_scale": self.crs_scale,
            "neuro_scale": self.neuro_scale,
            "setting": self.setting,
            "regimen": self.regimen,
            "region": self.region,
            "premedication_window_hours": self.premedication_window / timedelta(hours=1),
            "restart_premedication_gap_hours": self.restart_premedication_gap / timedelta(hours=1),
            "continue_cycle_max_gap_days": self.continue_cycle_max_gap / _DAY,
            "escalation_after_days": self.escalation_after / _DAY,
            "neuro_withhold_min_days": self.neuro_withhold_min / _DAY,
            "neuro_resolution_max_days": self.neuro_resolution_max / _DAY,
            "other_resolution_max_days": self.other_resolution_max / _DAY,
            "recurrence_grade": self.recurrence_grade,
        }


@dataclass(frozen=True, slots=True)
class GradePoint:
    """The grade from ``at`` on: its bounds (``lower`` is certain) and status."""

    at: datetime
    lower: int
    upper: int
    status: str


@dataclass(frozen=True, slots=True)
class GradeCourse:
    """A step function of grades for one syndrome (``crs`` or ``icans``) on one scale."""

    kind: str
    scale: str
    points: tuple[GradePoint, ...] = ()

    def upto(self, moment: datetime) -> tuple[GradePoint, ...]:
        return tuple(point for point in self.points if point.at <= moment)


@dataclass(frozen=True, slots=True)
class AdverseEvent:
    """Another clinically relevant adverse reaction: its grade, onset and return to <= grade 1."""

    name: str
    grade: int
    onset: datetime
    resolved: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "grade": self.grade,
            "onset": format_time(self.onset),
            "resolved": None if self.resolved is None else format_time(self.resolved),
        }


@dataclass(frozen=True, slots=True)
class RuleAction:
    """An action a label rule asks for, when and why; it names its rule and source."""

    rule_id: str
    at: datetime
    action: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        entry = rule(self.rule_id)
        return {
            "rule": self.rule_id,
            "at": format_time(self.at),
            "action": self.action,
            "detail": self.detail,
            "source": entry.source,
            "tag": entry.tag,
            "verified": entry.verified,
        }


@dataclass(frozen=True, slots=True)
class Deviation:
    """Something in the record that departs from a label rule."""

    kind: str
    at: datetime
    rule_id: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        entry = rule(self.rule_id)
        return {
            "kind": self.kind,
            "at": format_time(self.at),
            "rule": self.rule_id,
            "detail": self.detail,
            "source": entry.source,
            "verified": entry.verified,
        }


@dataclass(frozen=True, slots=True)
class Interruption:
    """A gap between two infusions (``end`` is ``None`` while it lasts at T)."""

    start: datetime
    end: datetime | None
    hours: float
    cycle: int
    outcome: Literal["continue_cycle", "new_cycle", "treatment_free"]
    premedication_required: bool
    premedication_given: bool | None
    rule_id: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": format_time(self.start),
            "end": None if self.end is None else format_time(self.end),
            "hours": round(self.hours, 3),
            "cycle": self.cycle,
            "outcome": self.outcome,
            "premedication_required": self.premedication_required,
            "premedication_given": self.premedication_given,
            "rule": self.rule_id,
            "source": rule(self.rule_id).source,
        }


@dataclass(frozen=True, slots=True)
class _Segment:
    start: datetime
    stop: datetime
    rate: float
    running: bool


@dataclass(slots=True)
class _Cycle:
    number: int
    start: datetime
    infused: timedelta = timedelta(0)
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Withhold:
    rule_id: str
    onset: datetime
    #: When the restart at the reduced dose is allowed (``None``: not yet known).
    restart_from: datetime | None
    detail: str


@dataclass(frozen=True, slots=True)
class BlinatumomabStatus:
    """Where the patient is in the blinatumomab course at T, and what the label asks for."""

    patient_id: str
    at: datetime
    state: str
    cycle: int | None
    cycle_start: datetime | None
    cycle_day: int | None
    infusion_days: float | None
    current_rate_ug_per_day: float
    dose_due: dict[str, Any]
    next_premedication: dict[str, Any] | None
    interruptions: tuple[Interruption, ...]
    actions: tuple[RuleAction, ...]
    deviations: tuple[Deviation, ...]
    cycles: tuple[dict[str, Any], ...]
    ambiguous: tuple[str, ...]
    warnings: tuple[str, ...]
    label: LabelVersion
    params: StatusParameters
    regimen: Regimen
    cytoreduction: dict[str, Any] = field(default_factory=dict)

    @property
    def discontinued(self) -> bool:
        return self.state == "discontinued"

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "crswatch.blinatumomab-status/1",
            "patient_id": self.patient_id,
            "at": format_time(self.at),
            "state": self.state,
            "cycle": self.cycle,
            "cycle_start": None if self.cycle_start is None else format_time(self.cycle_start),
            "cycle_day": self.cycle_day,
            "infusion_days": None if self.infusion_days is None else round(self.infusion_days, 4),
            "current_rate_ug_per_day": self.current_rate_ug_per_day,
            "dose_due": self.dose_due,
            "next_premedication": self.next_premedication,
            "cycles": list(self.cycles),
            "interruptions": [item.to_dict() for item in self.interruptions],
            "actions": [item.to_dict() for item in self.actions],
            "deviations": [item.to_dict() for item in self.deviations],
            "ambiguous": list(self.ambiguous),
            "warnings": list(self.warnings),
            "cytoreduction": self.cytoreduction,
            "regimen": self.regimen.to_dict(),
            "label": self.label.to_dict(),
            "parameters": self.params.to_dict(),
        }


def _scale_title(course: GradeCourse) -> str:
    """The scale of a grade course by its title (the ASTCT consensus CRS grading)."""
    scale = course.scale if "." in course.scale else f"{course.kind}.{course.scale}"
    try:
        return get_scale(scale).title
    except (UnknownCodeError, KeyError):
        return course.scale


def grade_courses(timeline: Timeline, params: StatusParameters | None = None) -> list[GradeCourse]:
    """The CRS and neurological grade courses of ``timeline`` on the configured scales."""
    from crswatch.episodes import trajectory  # the grading stack is heavy; import on use

    params = params or StatusParameters()
    frame = trajectory([timeline], scales=[params.crs_scale, params.neuro_scale])
    courses: dict[tuple[str, str], list[GradePoint]] = {}
    for row in frame.sort("at").iter_rows(named=True):
        point = GradePoint(row["at"], int(row["lower"]), int(row["upper"]), str(row["status"]))
        courses.setdefault((str(row["kind"]), str(row["scale"])), []).append(point)
    return [GradeCourse(kind, scale, tuple(points)) for (kind, scale), points in courses.items()]


def _segments(timeline: Timeline, at: datetime) -> list[_Segment]:
    events = [event for event in timeline.of("blinatumomab") if event.time <= at]
    segments: list[_Segment] = []
    for index, event in enumerate(events):
        rate = float(event.value) if isinstance(event.value, (int, float)) else 0.0
        if rate <= 0:
            continue
        following = events[index + 1].time if index + 1 < len(events) else None
        stops = [moment for moment in (event.end, following) if moment is not None]
        stop = min(stops) if stops else at
        running = stop > at or not stops
        stop = min(stop, at)
        if stop <= event.time and not running:
            continue
        previous = segments[-1] if segments else None
        if previous is not None and previous.stop == event.time and previous.rate == rate:
            segments[-1] = _Segment(previous.start, stop, rate, running)
        else:
            segments.append(_Segment(event.time, stop, rate, running))
    return segments


def _gap_needs_premedication(gap: timedelta, limit: timedelta, label: LabelVersion) -> bool:
    if label.restart_premedication_operator == ">=":
        return gap >= limit
    return gap > limit


class _Machine:
    def __init__(
        self,
        timeline: Timeline,
        at: datetime,
        params: StatusParameters,
        courses: Sequence[GradeCourse],
        adverse_events: Sequence[AdverseEvent],
    ) -> None:
        self.timeline = timeline
        self.at = at
        self.params = params
        self.label = get_label_version(params.label_version)
        self.regimen = resolve_regimen(params.setting, params.regimen)
        patient = timeline.patient
        if patient.weight_kg is None:
            raise ValueError(f"patient {patient.id!r}: weight_kg is needed for blinatumomab dosing")
        self.weight = patient.weight_kg
        self.bsa = patient.bsa_m2
        age = patient.age_at(patient.therapy.start)
        self.warnings: list[str] = []
        if age is None:
            self.warnings.append("age not given: adult premedication assumed")
        self.child = age is not None and age < ADULT_AGE_YEARS
        self.plan = plan_blinatumomab(
            self.weight,
            bsa_m2=self.bsa,
            regimen=self.regimen,
            age_years=age if age is not None else ADULT_AGE_YEARS,
            region=params.region,
        )
        self.reduced = dose_for(REDUCED_STEP, self.weight, self.bsa)
        self.target = dose_for(TARGET_STEP, self.weight, self.bsa)
        self.segments = _segments(timeline, at)
        self.steroids = [event.time for event in timeline.of(*STEROIDS) if event.time <= at]
        self.crs = self._course(courses, "crs", params.crs_scale)
        self.neuro = self._course(courses, "icans", params.neuro_scale.split(".")[-1])
        self.adverse_events = [ae for ae in adverse_events if ae.onset <= at]
        self.actions: list[RuleAction] = []
        self.deviations: list[Deviation] = []
        self.ambiguous: list[str] = []
        self.interruptions: list[Interruption] = []
        self.cycles: list[_Cycle] = []

    def _course(self, courses: Sequence[GradeCourse], kind: str, scale: str) -> GradeCourse:
        for course in courses:
            if course.kind == kind and course.scale == scale:
                return GradeCourse(kind, scale, course.upto(self.at))
        self.warnings.append(f"no {kind} grade course on {scale}: its rules were not assessed")
        return GradeCourse(kind, scale)

    # --- helpers ------------------------------------------------------------------------------

    def _cycle_plan(self, number: int) -> CyclePlan | None:
        if 1 <= number <= len(self.plan.cycles):
            return self.plan.cycles[number - 1]
        return None

    def _premedicated(self, start: datetime) -> bool:
        window = self.params.premedication_window
        return any(start - window <= moment <= start for moment in self.steroids)

    def _due(self, reason: PremedReason, cycle: int, day: int) -> list[Premedication]:
        return premedications_due(
            child=self.child,
            bsa_m2=self.bsa,
            reason=reason,
            cycle=cycle,
            day=day,
            setting=self.regimen.setting,
            region=self.params.region,
        )

    def _check_premedication(
        self, start: datetime, reason: PremedReason, cycle: int
    ) -> bool | None:
        due = self._due(reason, cycle, 1)
        if not due:
            return None
        given = self._premedicated(start)
        window = self.params.premedication_window
        if not given:
            self.deviations.append(
                Deviation(
                    f"{reason}_without_premedication",
                    start,
                    due[0].rule_id,
                    f"no corticosteroid in the {window / timedelta(hours=1):g} hours before the "
                    f"{reason.replace('_', ' ')} (due: {due[0].drug} {due[0].dose_mg:g} mg)",
                )
            )
        return given

    def _is_reduced(self, rate: float) -> bool:
        return rate <= self.reduced.ug_per_day * _REDUCED_TOLERANCE

    def _rate_at(self, moment: datetime) -> float:
        """The rate running at ``moment``, else the last rate before it (0 before any)."""
        rate = 0.0
        for segment in self.segments:
            if segment.start <= moment:
                rate = segment.rate
        return rate

    def _running_at(self, moment: datetime) -> bool:
        return any(
            s.start <= moment < s.stop or (s.running and s.start <= moment) for s in self.segments
        )

    # --- the walk over infusions --------------------------------------------------------------

    def walk(self) -> None:
        reduced_since: datetime | None = None
        previous: _Segment | None = None
        for segment in self.segments:
            if previous is None:
                self.cycles.append(_Cycle(1, segment.start))
                self._check_premedication(segment.start, "cycle_start", 1)
                reduced_since = segment.start if self._is_reduced(segment.rate) else None
            else:
                reduced_since = self._transition(previous, segment, reduced_since)
            cycle = self.cycles[-1]
            cycle.infused += segment.stop - segment.start
            previous = segment
        if previous is not None and not previous.running:
            self._open_gap(previous)

    def _transition(
        self, previous: _Segment, segment: _Segment, reduced_since: datetime | None
    ) -> datetime | None:
        cycle = self.cycles[-1]
        gap = segment.start - previous.stop
        complete = cycle.infused >= timedelta(days=CYCLE_INFUSION_DAYS)
        new_cycle = complete or gap > self.params.continue_cycle_max_gap
        if gap > timedelta(0):
            if new_cycle:
                cycle.end = previous.stop
                outcome: Literal["continue_cycle", "new_cycle", "treatment_free"] = (
                    "treatment_free" if complete else "new_cycle"
                )
                self.cycles.append(_Cycle(cycle.number + 1, segment.start))
                given = self._check_premedication(segment.start, "cycle_start", cycle.number + 1)
                required = given is not None
                rule_id = "interrupt.new_cycle" if not complete else "cycle.rr"
                if not complete:
                    self.actions.append(
                        RuleAction(
                            "interrupt.new_cycle",
                            previous.stop + self.params.continue_cycle_max_gap,
                            "start a new cycle",
                            f"interruption longer than 7 days in cycle {cycle.number}",
                        )
                    )
            else:
                outcome = "continue_cycle"
                rule_id = "interrupt.continue_cycle"
                required = _gap_needs_premedication(
                    gap, self.params.restart_premedication_gap, self.label
                ) and bool(self._due("restart", cycle.number, 1))
                given = (
                    self._check_premedication(segment.start, "restart", cycle.number)
                    if required
                    else None
                )
            self.interruptions.append(
                Interruption(
                    previous.stop,
                    segment.start,
                    gap / timedelta(hours=1),
                    cycle.number,
                    outcome,
                    required,
                    given if required else None,
                    rule_id,
                )
            )
            if new_cycle or (
                self._is_reduced(segment.rate) and not self._is_reduced(previous.rate)
            ):
                return segment.start if self._is_reduced(segment.rate) else None
        if segment.rate > previous.rate and not new_cycle:
            if gap == timedelta(0):
                self._check_premedication(segment.start, "step", cycle.number)
            if (
                reduced_since is not None
                and self._is_reduced(previous.rate)
                and not self._is_reduced(segment.rate)
            ):
                held = segment.start - reduced_since
                if held < self.params.escalation_after:
                    self.deviations.append(
                        Deviation(
                            "escalation_before_7_days",
                            segment.start,
                            "escalate.after_7_days",
                            f"escalated from {previous.rate:g} to {segment.rate:g} µg/day after "
                            f"{held / _DAY:.2f} days at the reduced dose",
                        )
                    )
                return None
        if self._is_reduced(segment.rate) and reduced_since is None:
            return segment.start
        return reduced_since if self._is_reduced(segment.rate) else None

    def _open_gap(self, last: _Segment) -> None:
        cycle = self.cycles[-1]
        gap = self.at - last.stop
        complete = cycle.infused >= timedelta(days=CYCLE_INFUSION_DAYS)
        if complete:
            outcome: Literal["continue_cycle", "new_cycle", "treatment_free"] = "treatment_free"
            rule_id = "cycle.rr" if self.regimen.setting != "mrd" else "cycle.mrd"
            required = bool(self._due("cycle_start", cycle.number + 1, 1))
        elif gap > self.params.continue_cycle_max_gap:
            outcome, rule_id = "new_cycle", "interrupt.new_cycle"
            required = bool(self._due("cycle_start", cycle.number + 1, 1))
            self.actions.append(
                RuleAction(
                    "interrupt.new_cycle",
                    last.stop + self.params.continue_cycle_max_gap,
                    "start a new cycle",
                    f"interruption longer than 7 days in cycle {cycle.number}",
                )
            )
        else:
            outcome, rule_id = "continue_cycle", "interrupt.continue_cycle"
            required = _gap_needs_premedication(
                gap, self.params.restart_premedication_gap, self.label
            ) and bool(self._due("restart", cycle.number, 1))
        self.interruptions.append(
            Interruption(
                last.stop,
                None,
                gap / timedelta(hours=1),
                cycle.number,
                outcome,
                required,
                None,
                rule_id,
            )
        )

    # --- toxicity rules -----------------------------------------------------------------------

    def _therapy_points(self, course: GradeCourse) -> list[GradePoint]:
        """The course from the first dose on; the grade in effect at the first dose included."""
        if not self.segments:
            return []
        first = self.segments[0].start
        before = [point for point in course.points if point.at < first]
        after = [point for point in course.points if point.at >= first]
        if before and (not after or after[0].at > first):
            last = before[-1]
            after.insert(0, GradePoint(first, last.lower, last.upper, last.status))
        return after

    def toxicity(self) -> list[_Withhold]:
        withholds: list[_Withhold] = []
        withholds += self._crs()
        withholds += self._neuro()
        withholds += self._other()
        self._seizures()
        return withholds

    def _episodes(
        self, points: list[GradePoint], grade: int, resolved_upper: int
    ) -> list[tuple[GradePoint, datetime | None]]:
        """Onsets of a certain grade >= ``grade`` and the first graded return to <= resolved."""
        found: list[tuple[GradePoint, datetime | None]] = []
        onset: GradePoint | None = None
        for point in points:
            if onset is None:
                if point.lower >= grade:
                    onset = point
            elif point.status == "graded" and point.upper <= resolved_upper:
                found.append((onset, point.at))
                onset = None
        if onset is not None:
            found.append((onset, None))
        return found

    def _flag_ambiguous(self, points: list[GradePoint], name: str) -> None:
        """Say where a grade >= 3 is possible but not certain: the rules are not applied there."""
        if not points:
            if self.segments:
                self.warnings.append(f"{name}: no grade during therapy; rules not assessed")
            return
        for point in points:
            if point.lower < 3 <= point.upper:
                why = (
                    "inputs not documented"
                    if point.status == "not_assessable"
                    else point.status.replace("_", " ")
                )
                self.ambiguous.append(
                    f"{name}: grade between {point.lower} and {point.upper} from "
                    f"{format_clock(point.at)} ({why}); the label's rules for grade 3 and "
                    "higher are not applied there"
                )
                return

    def _crs(self) -> list[_Withhold]:
        points = self._therapy_points(self.crs)
        self._flag_ambiguous(points, f"CRS ({_scale_title(self.crs)})")
        for point in points:
            if point.lower >= 4:
                self.actions.append(
                    RuleAction("crs.g4", point.at, "discontinue", f"CRS grade {point.lower}")
                )
                break
        g3_rule = "crs.g3" if self.label.crs_g3_dexamethasone_course else "crs.g3.2015"
        withholds = []
        for onset, resolved in self._episodes(points, 3, 0):
            if onset.lower >= 4:
                continue
            self.actions.append(RuleAction(g3_rule, onset.at, "interrupt", self._crs_g3_detail()))
            withholds.append(_Withhold(g3_rule, onset.at, resolved, "CRS grade 3"))
        return withholds

    def _crs_g3_detail(self) -> str:
        if not self.label.crs_g3_dexamethasone_course:
            return "withhold until resolved; restart at the reduced dose with dexamethasone 20 mg"
        if self.weight >= 45.0:
            course = "dexamethasone 8 mg every 8 h IV or by mouth up to 3 days, taper over 4 days"
        elif self.bsa is not None:
            mg = min(round(5.0 * self.bsa, 2), 8.0)
            course = f"dexamethasone {mg:g} mg every 8 h up to 3 days, taper over 4 days"
        else:
            course = (
                "dexamethasone 5 mg/m² (max 8 mg) every 8 h up to 3 days (body-surface area not "
                "recorded), taper"
            )
        return f"{course}; restart at {self.reduced.ug_per_day:g} µg/day when resolved"

    def _neuro(self) -> list[_Withhold]:
        points = self._therapy_points(self.neuro)
        self._flag_ambiguous(points, f"neurological toxicity ({_scale_title(self.neuro)})")
        for point in points:
            if point.lower >= 4:
                self.actions.append(
                    RuleAction("neuro.g4", point.at, "discontinue", f"ICANS grade {point.lower}")
                )
                break
        withholds = []
        episodes = [(o, r) for o, r in self._episodes(points, 3, 1) if o.lower < 4]
        for index, (onset, resolved) in enumerate(episodes):
            rate = self._rate_at(onset.at)
            if rate > 0 and self._is_reduced(rate):
                self.actions.append(
                    RuleAction(
                        "neuro.g3.at_9",
                        onset.at,
                        "discontinue",
                        f"grade 3 at {rate:g} µg/day (the reduced dose)",
                    )
                )
                continue
            limit = onset.at + self.params.neuro_resolution_max
            end = resolved if resolved is not None else self.at
            if end - onset.at > self.params.neuro_resolution_max:
                self.actions.append(
                    RuleAction(
                        "neuro.g3.over_7_days",
                        limit,
                        "discontinue",
                        "grade 3 not resolved to ≤ grade 1 within 7 days",
                    )
                )
                continue
            if index > 0 and self.label.neuro_g3_recurrence_discontinues:
                self.actions.append(
                    RuleAction("neuro.g3.recurrence", onset.at, "discontinue", "grade 3 recurred")
                )
                continue
            self.actions.append(
                RuleAction(
                    "neuro.g3",
                    onset.at,
                    "interrupt",
                    "withhold until ≤ grade 1 for at least 3 days",
                )
            )
            restart = None if resolved is None else resolved + self.params.neuro_withhold_min
            withholds.append(_Withhold("neuro.g3", onset.at, restart, "neurological grade 3"))
        return withholds

    def _other(self) -> list[_Withhold]:
        withholds = []
        for event in self.adverse_events:
            if event.grade >= 4:
                self.actions.append(
                    RuleAction(
                        "other.g4",
                        event.onset,
                        "consider_discontinuation",
                        f"{event.name} grade {event.grade}",
                    )
                )
                continue
            if event.grade < 3:
                continue
            end = (
                event.resolved
                if event.resolved is not None and event.resolved <= self.at
                else self.at
            )
            if end - event.onset > self.params.other_resolution_max:
                self.actions.append(
                    RuleAction(
                        "other.g3.over_14_days",
                        event.onset + self.params.other_resolution_max,
                        "discontinue",
                        f"{event.name} grade 3 not resolved within 14 days",
                    )
                )
                continue
            self.actions.append(
                RuleAction("other.g3", event.onset, "interrupt", f"{event.name} grade 3")
            )
            resolved = (
                event.resolved if event.resolved is not None and event.resolved <= self.at else None
            )
            restart = (
                None
                if resolved is None
                else resolved + timedelta(days=self.label.other_g3_withhold_days)
            )
            withholds.append(_Withhold("other.g3", event.onset, restart, f"{event.name} grade 3"))
        return withholds

    def _seizures(self) -> None:
        if not self.segments:
            return
        first = self.segments[0].start
        seizures = [
            event
            for event in self.timeline.of("seizure")
            if first <= event.time <= self.at and event.attributable
        ]
        if len(seizures) > 1:
            self.actions.append(
                RuleAction(
                    "neuro.seizure",
                    seizures[1].time,
                    "discontinue",
                    f"{len(seizures)} seizures since the first dose",
                )
            )

    # --- composing the status -----------------------------------------------------------------

    def status(self) -> BlinatumomabStatus:
        self.walk()
        withholds = self.toxicity()
        self.actions.sort(key=lambda action: action.at)
        discontinue = [a for a in self.actions if a.action == "discontinue" and a.at <= self.at]
        current_rate = (
            self.segments[-1].rate if self.segments and self.segments[-1].running else 0.0
        )
        cycle = self.cycles[-1] if self.cycles else None
        state, dose_due, premed = self._now(cycle, current_rate, withholds, discontinue)
        return BlinatumomabStatus(
            patient_id=self.timeline.patient.id,
            at=self.at,
            state=state,
            cycle=None if cycle is None else cycle.number,
            cycle_start=None if cycle is None else cycle.start,
            cycle_day=None if cycle is None else int((self.at - cycle.start) / _DAY) + 1,
            infusion_days=None if cycle is None else cycle.infused / _DAY,
            current_rate_ug_per_day=current_rate,
            dose_due=dose_due,
            next_premedication=premed,
            interruptions=tuple(self.interruptions),
            actions=tuple(self.actions),
            deviations=tuple(sorted(self.deviations, key=lambda d: d.at)),
            cycles=tuple(self._cycle_dicts()),
            ambiguous=tuple(self.ambiguous),
            warnings=tuple(self.warnings),
            label=self.label,
            params=self.params,
            regimen=self.regimen,
            cytoreduction=self._cytoreduction(),
        )

    def _cycle_dicts(self) -> list[dict[str, Any]]:
        return [
            {
                "cycle": item.number,
                "start": format_time(item.start),
                "end": None if item.end is None else format_time(item.end),
                "infusion_days": round(item.infused / _DAY, 4),
                "complete": item.infused >= timedelta(days=CYCLE_INFUSION_DAYS),
            }
            for item in self.cycles
        ]

    def _cytoreduction(self) -> dict[str, Any]:
        first = self.segments[0].start if self.segments else self.at
        marrow = [e for e in self.timeline.of("blasts_marrow") if e.time <= first]
        blood = [e for e in self.timeline.of("blasts_blood") if e.time <= first]
        marrow_pct = float(marrow[-1].value) if marrow else None
        # blasts_blood is in 10*3/uL: x 1000 per uL.
        blood_ul = float(blood[-1].value) * 1000.0 if blood else None
        return assess_cytoreduction(marrow_pct, blood_ul).to_dict()

    def _dose(self, dose: Dose, reason: str, rule_id: str) -> dict[str, Any]:
        entry = rule(rule_id)
        out = dose.to_dict()
        out.update(
            {"reason": reason, "rule": rule_id, "source": entry.source, "verified": entry.verified}
        )
        return out

    def _zero(self, reason: str, rule_id: str) -> dict[str, Any]:
        return self._dose(Dose(0.0, "fixed"), reason, rule_id)

    def _premed(
        self, reason: PremedReason, cycle: int, day: int, due: datetime | None
    ) -> dict[str, Any] | None:
        items = self._due(reason, cycle, day)
        if not items:
            return None
        return {
            "due": None if due is None else format_time(due),
            "cycle": cycle,
            "items": [item.to_dict() for item in items],
        }

    def _now(
        self,
        cycle: _Cycle | None,
        current_rate: float,
        withholds: list[_Withhold],
        discontinue: list[RuleAction],
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        if discontinue:
            first = discontinue[0]
            for segment in self.segments:
                if segment.start > first.at:
                    self.deviations.append(
                        Deviation(
                            "infusion_after_discontinuation",
                            segment.start,
                            first.rule_id,
                            f"infusion at {segment.rate:g} µg/day after {first.detail}",
                        )
                    )
            return "discontinued", self._zero(first.detail, first.rule_id), None
        if cycle is None:
            plan = self.plan.cycles[0]
            dose = self._dose(plan.dose_on(1), "cycle 1 day 1", self.regimen.rule_id)
            return "not_started", dose, self._premed("cycle_start", 1, 1, None)
        active = [w for w in withholds if w.onset <= self.at]
        if active:
            latest = active[-1]
            modified = self._modified(latest, cycle, current_rate)
            if modified is not None:
                return modified
        return self._by_plan(cycle, current_rate)

    def _modified(
        self, withhold: _Withhold, cycle: _Cycle, current_rate: float
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None] | None:
        restarts = [s for s in self.segments if s.start > withhold.onset]
        restart_from = withhold.restart_from
        if restart_from is None or restart_from > self.at:
            if restarts:
                self.deviations.append(
                    Deviation(
                        "restart_before_resolution",
                        restarts[0].start,
                        withhold.rule_id,
                        f"restarted while {withhold.detail} was not resolved",
                    )
                )
            zero = self._zero(f"withhold: {withhold.detail}", withhold.rule_id)
            return "withheld", zero, self._premed("restart", cycle.number, 1, None)
        if not restarts:
            due = self._dose(self.reduced, f"restart after {withhold.detail}", withhold.rule_id)
            return "interrupted", due, self._premed("restart", cycle.number, 1, None)
        restart = restarts[0]
        if restart.start < restart_from:
            self.deviations.append(
                Deviation(
                    "restart_before_resolution",
                    restart.start,
                    withhold.rule_id,
                    f"restarted before {withhold.detail} allowed it",
                )
            )
        if not self._is_reduced(restart.rate):
            self.deviations.append(
                Deviation(
                    "restart_above_reduced_dose",
                    restart.start,
                    withhold.rule_id,
                    f"restarted at {restart.rate:g} µg/day, not {self.reduced.ug_per_day:g}",
                )
            )
        escalate_at = restart.start + self.params.escalation_after
        recurred = [
            p
            for course in (self.crs, self.neuro)
            for p in course.points
            if restart.start <= p.at <= min(escalate_at, self.at)
            and p.lower >= self.params.recurrence_grade
        ]
        state = "infusing" if current_rate > 0 else "interrupted"
        if self.at < escalate_at:
            due = self._dose(
                self.reduced,
                f"reduced dose for 7 days after {withhold.detail}",
                "escalate.after_7_days",
            )
            return state, due, self._premed("step", cycle.number, 8, escalate_at)
        if recurred:
            self.ambiguous.append(
                f"grade ≥ {self.params.recurrence_grade} during the 7 days at the reduced dose "
                f"(first at {format_time(recurred[0].at)}): escalation held for review"
            )
            due = self._dose(
                self.reduced, "toxicity recurred at the reduced dose", "escalate.after_7_days"
            )
            return state, due, None
        if current_rate > 0 and not self._is_reduced(current_rate):
            return None
        due = self._dose(
            self.target, "escalate: 7 days without recurrence", "escalate.after_7_days"
        )
        return state, due, self._premed("step", cycle.number, 8, escalate_at)

    def _by_plan(
        self, cycle: _Cycle, current_rate: float
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        plan = self._cycle_plan(cycle.number)
        infused_days = cycle.infused / _DAY
        complete = cycle.infused >= timedelta(days=CYCLE_INFUSION_DAYS)
        if plan is None:
            self.warnings.append(f"cycle {cycle.number} is beyond the {self.regimen.id} regimen")
            state = "infusing" if current_rate > 0 else "course_completed"
            return state, self._zero("beyond the planned cycles", self.regimen.rule_id), None
        day = min(int(infused_days) + 1, CYCLE_INFUSION_DAYS)
        if current_rate > 0:
            dose = self._dose(
                plan.dose_on(day), f"cycle {cycle.number} infusion day {day}", self.regimen.rule_id
            )
            return "infusing", dose, self._next_step_premed(plan, cycle, infused_days)
        gap = self.interruptions[-1] if self.interruptions else None
        if complete:
            following = self._cycle_plan(cycle.number + 1)
            if following is None:
                return (
                    "course_completed",
                    self._zero("all planned cycles given", self.regimen.rule_id),
                    None,
                )
            due_at = (cycle.end or (gap.start if gap else self.at)) + timedelta(
                days=plan.treatment_free_days
            )
            if gap is not None:
                due_at = gap.start + timedelta(days=plan.treatment_free_days)
            zero = self._zero(
                f"treatment-free interval until {format_time(due_at)}", self.regimen.rule_id
            )
            return "treatment_free", zero, self._premed("cycle_start", cycle.number + 1, 1, due_at)
        if gap is not None and gap.outcome == "new_cycle":
            following = self._cycle_plan(cycle.number + 1) or plan
            dose = self._dose(
                following.dose_on(1), "interruption > 7 days: new cycle", "interrupt.new_cycle"
            )
            return "interrupted", dose, self._premed("cycle_start", cycle.number + 1, 1, None)
        dose = self._dose(
            plan.dose_on(day),
            f"continue cycle {cycle.number} at infusion day {day}",
            "interrupt.continue_cycle",
        )
        premed = (
            self._premed("restart", cycle.number, day, None)
            if gap is not None and gap.premedication_required
            else None
        )
        if premed is None and gap is not None:
            limit = gap.start + self.params.restart_premedication_gap
            later = self._premed("restart", cycle.number, day, None)
            if later is not None:
                later["if_restarted_after"] = format_time(limit)
            premed = later
        return "interrupted", dose, premed

    def _next_step_premed(
        self, plan: CyclePlan, cycle: _Cycle, infused_days: float
    ) -> dict[str, Any] | None:
        previous = plan.segments[0].dose.ug_per_day
        for segment in plan.segments[1:]:
            if segment.dose.ug_per_day > previous and infused_days < segment.start_day - 1:
                eta = self.at + (segment.start_day - 1 - infused_days) * _DAY
                return self._premed("step", cycle.number, segment.start_day, eta)
            previous = segment.dose.ug_per_day
        remaining = max(CYCLE_INFUSION_DAYS - infused_days, 0.0) * _DAY
        eta = self.at + remaining + timedelta(days=plan.treatment_free_days)
        if self._cycle_plan(cycle.number + 1) is None:
            return None
        return self._premed("cycle_start", cycle.number + 1, 1, eta)


def blinatumomab_status(
    timeline: Timeline,
    at: datetime | None = None,
    *,
    params: StatusParameters | None = None,
    courses: Iterable[GradeCourse] | None = None,
    adverse_events: Iterable[AdverseEvent] = (),
) -> BlinatumomabStatus:
    """The blinatumomab status of ``timeline`` at ``at`` (default: its last event).

    ``courses`` are the CRS and neurological grade courses; by default they are graded from the
    timeline (:func:`grade_courses`) on ``params.crs_scale`` and ``params.neuro_scale``.  Raises
    ``ValueError`` when the weight is missing or a parameter is unknown.
    """
    params = params or StatusParameters()
    if at is None:
        at = timeline.events[-1].time if timeline.events else timeline.patient.therapy.start
    chosen = list(courses) if courses is not None else grade_courses(timeline, params)
    return _Machine(timeline, at, params, chosen, list(adverse_events)).status()
