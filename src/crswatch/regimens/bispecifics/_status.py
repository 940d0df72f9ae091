"""Where a patient is in a bispecific course at T, and what the label says to do now.

Inputs, read up to the evaluation time T:

- the product's dose events (the timeline item named after the product, in mg): each dose
  given, in order, is matched to the next planned dose of the product; a dose that differs
  from the plan by more than ``DOSE_TOLERANCE`` is a deviation;
- corticosteroid and antipyretic events in the ``PREMEDICATION_WINDOW`` before a dose count as
  the label's premedication given (a premedication without a timeline item, such as an
  antihistamine, is reported as not recordable, never as missing);
- the CRS and ICANS grade course (ASTCT 2019; :mod:`._grades`), with the label's own reading
  where it differs (mosunetuzumab's 6 L/min).

The next dose is due the planned interval after the dose given last (a late dose moves the
doses after it).  A CRS or ICANS event after the last dose whose verified label action says
"withhold until resolved" holds the next dose until the grade on record is 0 (for
``resolved_for_hours``, e.g. glofitamab's 72 hours); where the label's action at that grade
was not verified, the status says so and points to the ASTCT-era rule set, and does not hold
or release the dose on its own.  Decisions: docs/decisions/0042-bispecific-regimens.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crswatch.regimens.bispecifics._grades import GradedPoint, grade_points
from crswatch.regimens.bispecifics._model import CrsAction, DelayRule, Product
from crswatch.regimens.bispecifics._plan import (
    BispecificPlan,
    PlannedDose,
    plan_regimen,
    premedications_for,
)
from crswatch.regimens.bispecifics._products import PRODUCTS, get_product
from crswatch.timeline import Timeline, format_time

__all__ = [
    "DOSE_TOLERANCE",
    "PREMEDICATION_WINDOW",
    "GivenDose",
    "RegimenStatus",
    "regimen_status",
]

#: A given dose within this fraction of the planned dose is the planned dose (rounding).
DOSE_TOLERANCE = 0.10
#: A premedication recorded this long before a dose (up to the dose) counts as given.
PREMEDICATION_WINDOW = timedelta(hours=6)
_DAY = timedelta(days=1)
FALLBACK_NOTE = (
    "The label's action at this grade was not verified: manage by the ASTCT-era rule set "
    "(crswatch recommend), which is guidance, not the label."
)


@dataclass(frozen=True, slots=True)
class GivenDose:
    """A dose given, matched to the plan, with its premedication and monitoring window."""

    planned: PlannedDose | None
    time: datetime
    dose_mg: float
    premedication: tuple[dict[str, Any], ...]
    interval_days: float | None
    monitoring_until: datetime | None

    def to_dict(self, period_name: str) -> dict[str, Any]:
        planned = self.planned
        out: dict[str, Any] = {
            "time": format_time(self.time),
            "dose_mg": self.dose_mg,
            "name": "beyond the plan" if planned is None else planned.name,
            period_name: None if planned is None else planned.period,
            "day": None if planned is None else planned.day,
            "planned_dose_mg": None if planned is None else planned.dose_mg,
            "days_after_previous": (
                None if self.interval_days is None else round(self.interval_days, 3)
            ),
            "premedication": list(self.premedication),
            "monitoring_until": (
                None if self.monitoring_until is None else format_time(self.monitoring_until)
            ),
        }
        return out


@dataclass(frozen=True, slots=True)
class RegimenStatus:
    """The regimen status at T: doses given and due, stays, premedication, label actions."""

    patient_id: str
    at: datetime
    product: Product
    plan: BispecificPlan
    state: str
    given: tuple[GivenDose, ...]
    next_dose: dict[str, Any] | None
    next_step_up: dict[str, Any] | None
    premedication_due: tuple[dict[str, Any], ...]
    pretreatment: tuple[dict[str, Any], ...]
    monitoring: dict[str, Any]
    grades: dict[str, Any]
    label_actions: tuple[dict[str, Any], ...]
    deviations: tuple[dict[str, Any], ...]
    notes: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def in_monitoring(self) -> bool:
        return bool(self.monitoring.get("now"))

    def to_dict(self) -> dict[str, Any]:
        period = self.plan.schedule.period
        return {
            "schema": "crswatch.regimen-status/1",
            "patient_id": self.patient_id,
            "at": format_time(self.at),
            "product": self.product.name,
            "label": self.product.label.to_dict(),
            "schedule": self.plan.schedule.to_dict(),
            "state": self.state,
            "doses_given": [dose.to_dict(period) for dose in self.given],
            "next_dose": self.next_dose,
            "next_step_up": self.next_step_up,
            "premedication_due": list(self.premedication_due),
            "pretreatment": list(self.pretreatment),
            "monitoring": self.monitoring,
            "grades": self.grades,
            "label_actions": list(self.label_actions),
            "deviations": list(self.deviations),
            "notes": list(self.notes),
            "unverified": [item.to_dict() for item in self.product.unverified],
            "warnings": list(self.warnings),
        }


def product_of(timeline: Timeline, drug: str | None = None) -> Product:
    """The product given: ``drug``, else the therapy's product, else the one with dose events."""
    if drug is not None:
        return get_product(drug)
    named = (timeline.patient.therapy.product or "").strip().lower()
    for product in PRODUCTS.values():
        if named in (product.id, product.brand.lower()):
            return product
    given = [product for product in PRODUCTS.values() if timeline.of(product.id)]
    if len(given) == 1:
        return given[0]
    if not given:
        raise ValueError(
            f"patient {timeline.patient.id!r}: no bispecific T-cell engager dose in the record "
            f"and no product named (one of {', '.join(PRODUCTS)})"
        )
    names = ", ".join(product.id for product in given)
    raise ValueError(f"patient {timeline.patient.id!r}: doses of several products ({names})")


def _grade_text(grade: int | None, status: str, bounds: tuple[int, int]) -> str:
    from crswatch.scales import grade_notation

    return grade_notation(grade, status, bounds[0], bounds[1])


class _Status:
    def __init__(
        self,
        timeline: Timeline,
        at: datetime,
        product: Product,
        indication: str | None,
        points: Sequence[GradedPoint],
    ) -> None:
        self.timeline = timeline
        self.at = at
        self.product = product
        self.points = [p for p in points if p.at <= at]
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.deviations: list[dict[str, Any]] = []
        events = [
            event
            for event in timeline.of(product.id)
            if event.time <= at and isinstance(event.value, float) and event.value > 0
        ]
        self.events = events
        schedule = product.schedule(indication)
        first = events[0].time if events else timeline.patient.therapy.start
        elapsed = max((at - first) / _DAY, 0.0)
        periods = max(int(elapsed // schedule.period_days) + 3, 2)
        limit = schedule.max_periods
        # Plan far enough to cover the elapsed time and every dose given, plus the next one.
        while True:
            planned = periods if limit is None else min(periods, limit)
            self.plan = plan_regimen(
                product.id,
                weight_kg=timeline.patient.weight_kg,
                indication=schedule.id,
                periods=planned,
            )
            enough = len(self.plan.of_drug()) > len(events)
            if enough or planned == limit or periods > 10 * (len(events) + 3):
                break
            periods *= 2
        self.warnings.extend(self.plan.warnings)
        self.planned = self.plan.of_drug()

    # --- grades -------------------------------------------------------------------------------

    def _peak_since(self, start: datetime, end: datetime | None = None) -> GradedPoint | None:
        window = [
            p
            for p in self._points_in(start, end)
            if (p.crs_acted is not None and p.crs_acted >= 1)
            or (p.icans is not None and p.icans >= 1)
        ]
        if not window:
            return None
        return max(window, key=lambda p: (p.crs_acted or 0, p.icans or 0))

    def _points_in(self, start: datetime, end: datetime | None) -> list[GradedPoint]:
        """Points in force during ``[start, end)``: the one in force at ``start`` and later ones."""
        before = [p for p in self.points if p.at <= start]
        inside = [p for p in self.points if start < p.at and (end is None or p.at < end)]
        return ([before[-1]] if before else []) + inside

    def _current(self) -> GradedPoint | None:
        return self.points[-1] if self.points else None

    def _resolved_since(self, start: datetime) -> datetime | None:
        """When CRS and ICANS last returned to grade 0 after ``start`` (``None``: not resolved)."""
        current = self._current()
        if current is None or current.crs != 0 or current.icans not in (0, None):
            return None
        since = current.at
        for point in reversed(self.points):
            if point.at <= start:
                break
            if point.crs == 0 and point.icans in (0, None):
                since = point.at
            else:
                break
        return since

    def _grades(self) -> dict[str, Any]:
        current = self._current()
        if current is None:
            return {"scale": "ASTCT 2019 (Lee et al., Biol Blood Marrow Transplant 2019)"}
        out: dict[str, Any] = {
            "scale": "ASTCT 2019 (Lee et al., Biol Blood Marrow Transplant 2019)",
            "since": format_time(current.at),
            "crs": {
                "grade": current.crs,
                "status": current.crs_status,
                "notation": _grade_text(current.crs, current.crs_status, current.crs_bounds),
            },
            "icans": {
                "grade": current.icans,
                "status": current.icans_status,
                "notation": _grade_text(current.icans, current.icans_status, current.icans_bounds),
            },
        }
        if self.product.grading_note is not None:
            reading: dict[str, Any] = {"note": self.product.grading_note, "differs": False}
            if current.label is not None:
                reading.update(
                    {
                        "differs": True,
                        "grade": current.label.grade,
                        "astct_grade": current.label.astct_grade,
                        "evidence": current.label.evidence,
                    }
                )
            out["label_reading"] = reading
        return out

    # --- doses ----------------------------------------------------------------------------------

    def _premedication(
        self, dose_time: datetime, planned: PlannedDose | None
    ) -> list[dict[str, Any]]:
        if planned is None:
            return []
        crs_before = self._crs_after_previous(dose_time)
        premeds = premedications_for(
            self.product, planned.period, planned.step_up_schedule, crs_before
        )
        out = []
        for premed in premeds:
            if not premed.items:
                state = "not recordable (no timeline item)"
            else:
                recorded = [
                    e
                    for e in self.timeline.of(*premed.items)
                    if dose_time - PREMEDICATION_WINDOW <= e.time <= dose_time
                ]
                state = "given" if recorded else "missing"
            out.append({"drug": premed.drug, "dose": premed.dose, "state": state,
                        "verified": premed.verified})  # fmt: skip
        return out

    def _crs_after_previous(self, dose_time: datetime) -> bool:
        previous = [e.time for e in self.events if e.time < dose_time]
        if not previous:
            return False
        return any(
            p.crs is not None and p.crs >= 1 for p in self._points_in(previous[-1], dose_time)
        )

    def _given(self) -> list[GivenDose]:
        given = []
        for index, event in enumerate(self.events):
            planned = self.planned[index] if index < len(self.planned) else None
            dose_mg = float(event.value)
            previous = self.events[index - 1].time if index else None
            interval = None if previous is None else (event.time - previous) / _DAY
            planned_mg = None if planned is None else planned.dose_mg
            if (
                planned is not None
                and planned_mg is not None
                and abs(dose_mg - planned_mg) > DOSE_TOLERANCE * planned_mg
            ):
                self._deviate(
                    "dose_differs_from_plan",
                    event.time,
                    f"{dose_mg:g} mg given as {planned.name}; the label plans {planned_mg:g} mg",
                )
            if planned is None:
                self._deviate(
                    "dose_beyond_plan", event.time, f"{dose_mg:g} mg given after the planned course"
                )
            if planned is not None and interval is not None:
                self._check_delay(planned, event.time, interval)
            until = (
                None
                if planned is None or planned.monitoring is None
                else event.time + timedelta(hours=planned.monitoring.hours)
            )
            premeds = self._premedication(event.time, planned)
            for premed in premeds:
                if premed["state"] == "missing" and premed["verified"]:
                    self._deviate(
                        "premedication_missing",
                        event.time,
                        f"no {premed['drug']} recorded in the "
                        f"{PREMEDICATION_WINDOW / timedelta(hours=1):g} h before {planned.name}"
                        if planned is not None
                        else f"no {premed['drug']} recorded",
                    )
            given.append(GivenDose(planned, event.time, dose_mg, tuple(premeds), interval, until))
        return given

    def _delay_rule(self, planned: PlannedDose) -> DelayRule | None:
        for rule in self.product.delays:
            if rule.dose == planned.name:
                return rule
        return None

    def _check_delay(self, planned: PlannedDose, moment: datetime, interval: float) -> None:
        rule = self._delay_rule(planned)
        if rule is None or rule.latest_days is None:
            return
        if interval > rule.latest_days:
            beyond = rule.beyond.note if rule.beyond is not None else ""
            self._deviate(
                "dose_later_than_label_allows",
                moment,
                f"{planned.name} given {interval:.1f} days after the previous dose; the label "
                f"allows up to {rule.latest_days:g} days. {beyond}".strip(),
            )
        elif interval < rule.usual_days[0]:
            self._deviate(
                "dose_earlier_than_label_allows",
                moment,
                f"{planned.name} given {interval:.1f} days after the previous dose; the label "
                f"gives {rule.usual_days[0]:g} to {rule.usual_days[1]:g} days",
            )

    def _deviate(self, kind: str, moment: datetime, detail: str) -> None:
        self.deviations.append({"kind": kind, "at": format_time(moment), "detail": detail})

    # --- the label's actions --------------------------------------------------------------------

    def _action_dict(self, action: CrsAction | None, syndrome: str, grade: int) -> dict[str, Any]:
        name = "CRS" if syndrome == "crs" else "ICANS"
        if action is None:
            return {
                "syndrome": syndrome,
                "grade": grade,
                "verified": False,
                "actions": [],
                "note": f"{name} grade {grade}: {FALLBACK_NOTE}",
                "general": list(self.product.general),
            }
        out = action.to_dict()
        if not action.complete:
            out["note"] = "the label text was truncated in the verified source; see the quote"
        return out

    def _recurrent(self, grade: int, since: datetime) -> bool:
        earlier = [e.time for e in self.events if e.time < since]
        if not earlier:
            return False
        return any(
            p.crs_acted is not None and p.crs_acted >= grade
            for p in self._points_in(earlier[0], since)
        )

    def _label_actions(
        self, last: datetime | None
    ) -> tuple[list[dict[str, Any]], CrsAction | None, CrsAction | None]:
        """The label's actions for the current grades and for the peak since the last dose."""
        out = []
        current = self._current()
        governing: CrsAction | None = None
        icans_governing: CrsAction | None = None
        if current is not None:
            for syndrome, grade in (("crs", current.crs_acted), ("icans", current.icans)):
                if grade is None or grade < 1:
                    continue
                recurrent = last is not None and self._recurrent(grade, last)
                action = self.product.action(syndrome, grade, recurrent)  # type: ignore[arg-type]
                entry = self._action_dict(action, syndrome, grade)
                entry["because"] = "current grade"
                out.append(entry)
        if last is not None:
            peak = self._peak_since(last)
            if peak is not None:
                for syndrome, grade in (("crs", peak.crs_acted), ("icans", peak.icans)):
                    if grade is None or grade < 1:
                        continue
                    recurrent = self._recurrent(grade, last)
                    action = self.product.action(syndrome, grade, recurrent)  # type: ignore[arg-type]
                    if syndrome == "crs":
                        governing = action
                    else:
                        icans_governing = action
                    if any(e["syndrome"] == syndrome and e["grade"] == grade for e in out):
                        continue
                    entry = self._action_dict(action, syndrome, grade)
                    entry["because"] = f"peak grade since the last dose ({format_time(peak.at)})"
                    out.append(entry)
        return out, governing, icans_governing

    # --- composing ------------------------------------------------------------------------------

    def status(self) -> RegimenStatus:
        given = self._given()
        last = given[-1].time if given else None
        actions, crs_action, icans_action = self._label_actions(last)
        state, next_dose, next_step_up, premeds = self._next(given, last, crs_action, icans_action)
        return RegimenStatus(
            patient_id=self.timeline.patient.id,
            at=self.at,
            product=self.product,
            plan=self.plan,
            state=state,
            given=tuple(given),
            next_dose=next_dose,
            next_step_up=next_step_up,
            premedication_due=tuple(premeds),
            pretreatment=tuple(self._pretreatment()),
            monitoring=self._monitoring(given),
            grades=self._grades(),
            label_actions=tuple(actions),
            deviations=tuple(sorted(self.deviations, key=lambda d: str(d["at"]))),
            notes=tuple(self.notes),
            warnings=tuple(self.warnings),
        )

    def _pretreatment(self) -> list[dict[str, Any]]:
        """Planned pretreatment (glofitamab's obinutuzumab): given before the first dose?"""
        first = self.events[0].time if self.events else None
        out = []
        for planned in self.plan.doses:
            if planned.drug == self.product.id:
                continue
            recorded = [
                e for e in self.timeline.of(planned.drug) if first is None or e.time <= first
            ]
            state = "given" if recorded else ("missing" if first is not None else "due")
            entry = {
                "drug": planned.drug,
                "dose_mg": planned.dose_mg,
                "course_day": planned.course_day,
                "days_before_first_dose": (
                    None if not self.planned else self.planned[0].course_day - planned.course_day
                ),
                "state": state,
            }
            if recorded:
                entry["time"] = format_time(recorded[-1].time)
            if state == "missing" and first is not None:
                self._deviate(
                    "pretreatment_missing",
                    first,
                    f"no {planned.drug} recorded before the first {self.product.id} dose",
                )
            out.append(entry)
        return out

    def _monitoring(self, given: list[GivenDose]) -> dict[str, Any]:
        windows = [
            (dose, dose.monitoring_until)
            for dose in given
            if dose.monitoring_until is not None and dose.planned is not None
        ]
        active = [(dose, until) for dose, until in windows if dose.time <= self.at < until]
        out: dict[str, Any] = {"now": bool(active), "until": None, "setting": None, "after": None}
        if active:
            dose, until = max(active, key=lambda item: item[1])
            assert dose.planned is not None and dose.planned.monitoring is not None
            out.update(
                {
                    "until": format_time(until),
                    "setting": dose.planned.monitoring.setting,
                    "after": dose.planned.name,
                    "quote": dose.planned.monitoring.quote,
                    "source": dose.planned.monitoring.source.to_dict(),
                }
            )
        return out

    def _dose_dict(self, planned: PlannedDose, due: datetime | None) -> dict[str, Any]:
        out = planned.to_dict(self.plan.schedule.period)
        out["due"] = None if due is None else format_time(due)
        if planned.dose_mg is None:
            out["note"] = "weight-based dose: the patient's weight is needed"
        rule = self._delay_rule(planned)
        if rule is not None and due is not None:
            previous = due - (planned.course_day - self._previous_day(planned)) * _DAY
            out["window"] = {
                "usual_from": format_time(previous + rule.usual_days[0] * _DAY),
                "usual_to": format_time(previous + rule.usual_days[1] * _DAY),
                "latest": (
                    None
                    if rule.latest_days is None
                    else format_time(previous + rule.latest_days * _DAY)
                ),
                "quote": rule.quote,
                "source": rule.source.to_dict(),
            }
        return out

    def _previous_day(self, planned: PlannedDose) -> int:
        index = self.planned.index(planned)
        return self.planned[index - 1].course_day if index else planned.course_day

    def _next(
        self,
        given: list[GivenDose],
        last: datetime | None,
        crs_action: CrsAction | None,
        icans_action: CrsAction | None,
    ) -> tuple[str, dict[str, Any] | None, dict[str, Any] | None, list[dict[str, Any]]]:
        index = len(given)
        if index >= len(self.planned):
            if self.plan.continues:
                note = self.plan.schedule.max_periods_note
                self.notes.append(
                    "the course continues beyond the planned doses" + (f": {note}" if note else "")
                )
                return "on_treatment", None, None, []
            return "course_completed", None, None, []
        planned = self.planned[index]
        if last is None:
            start = self.timeline.patient.therapy.start
            due = start if start > self.at else None
            state = "not_started"
        else:
            previous = self.planned[index - 1]
            due = last + (planned.course_day - previous.course_day) * _DAY
            state = "on_treatment"
        next_dose = self._dose_dict(planned, due)
        step_up = next((dose for dose in self.planned[index:] if dose.role == "step_up"), None)
        next_step_up = None
        if step_up is not None:
            step_due = (
                None
                if last is None
                else last + (step_up.course_day - self.planned[index - 1].course_day) * _DAY
            )
            next_step_up = self._dose_dict(step_up, step_due)
        crs_before = last is not None and self._crs_after_previous(
            self.at + timedelta(microseconds=1)
        )
        premeds = [
            premed.to_dict()
            for premed in premedications_for(
                self.product, planned.period, planned.step_up_schedule, crs_before
            )
        ]
        if due is not None and self.at > due and last is not None:
            late = (self.at - due) / _DAY
            rule = self._delay_rule(planned)
            self.notes.append(
                f"{planned.name} is {late:.1f} days overdue"
                + (
                    ""
                    if rule is not None and rule.beyond is None
                    else "; the label's rule for a missed or delayed dose was not verified"
                )
            )
        state = self._hold(state, last, crs_action, icans_action, next_dose)
        return state, next_dose, next_step_up, premeds

    def _hold(
        self,
        state: str,
        last: datetime | None,
        crs_action: CrsAction | None,
        icans_action: CrsAction | None,
        next_dose: dict[str, Any],
    ) -> str:
        if last is None:
            return state
        peak = self._peak_since(last)
        if peak is None:
            return state
        held = [
            a for a in (crs_action, icans_action) if a is not None and a.withhold_until_resolved
        ]
        notes = [a.next_dose_note for a in (crs_action, icans_action) if a is not None]
        for note in notes:
            if note:
                next_dose.setdefault("label_notes", []).append(note)
        if not held:
            if crs_action is None and (peak.crs_acted or 0) >= 1:
                next_dose["hold"] = (
                    "CRS after the last dose: the label's action at this grade was not "
                    "verified; decide by the ASTCT-era rule set"
                )
            return state
        resolved = self._resolved_since(last)
        needed = max(a.resolved_for_hours for a in held)
        if resolved is None:
            next_dose["hold"] = "withhold until CRS and ICANS resolve (label)"
            return "withheld"
        release = resolved + timedelta(hours=needed)
        if release > self.at:
            next_dose["hold"] = (
                f"withhold: symptoms must be resolved for {needed:g} hours before the next dose "
                f"(label); resolved since {format_time(resolved)}"
            )
            next_dose["not_before"] = format_time(release)
            return "withheld"
        next_dose["resolved_since"] = format_time(resolved)
        return state


def regimen_status(
    timeline: Timeline,
    at: datetime | None = None,
    *,
    drug: str | None = None,
    indication: str | None = None,
    points: Sequence[GradedPoint] | None = None,
) -> RegimenStatus:
    """The bispecific regimen status of ``timeline`` at ``at`` (default: its last event).

    ``drug`` defaults to the therapy's product (or the one product with dose events);
    ``points`` (the graded course) default to ASTCT 2019 grading of the timeline.  Raises
    ``ValueError`` naming the problem (unknown drug or indication, no product to read).
    """
    product = product_of(timeline, drug)
    if at is None:
        at = timeline.events[-1].time if timeline.events else timeline.patient.therapy.start
    chosen = (
        list(points)
        if points is not None
        else grade_points(timeline, at, product.high_flow_from_l_min)
    )
    return _Status(timeline, at, product, indication, chosen).status()
