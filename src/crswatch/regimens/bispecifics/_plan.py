"""The planned course of a bispecific T-cell engager for one patient: doses, stays, premedication.

The schedule's rows expand into dated doses: course day ``(period - 1) * period_days + day``
(day 1 = the first dose), a weight-based dose is ``amount * weight_kg`` rounded to 0.01 mg.
An open-ended schedule is planned for ``periods`` periods (default: its last period if it has
one, else 12), and the plan says that the course continues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from crswatch.regimens.bispecifics._model import (
    DoseRow,
    LabelPremedication,
    Monitoring,
    Product,
    Schedule,
)
from crswatch.regimens.bispecifics._products import get_product
from crswatch.timeline import format_time

__all__ = ["DEFAULT_PERIODS", "BispecificPlan", "PlannedDose", "plan_regimen"]

#: Periods planned for an open-ended schedule when none are asked for.
DEFAULT_PERIODS = 12


@dataclass(frozen=True, slots=True)
class PlannedDose:
    """One planned dose: where it falls, how much, and what the label asks around it."""

    number: int
    period: int
    day: int
    course_day: int
    drug: str
    amount: float
    unit: str
    #: The dose in mg (``None``: a weight-based dose without a weight).
    dose_mg: float | None
    name: str
    role: str
    step_up_schedule: bool
    verified: bool
    infusion: str | None
    monitoring: Monitoring | None
    premedications: tuple[LabelPremedication, ...]
    time: datetime | None = None

    @property
    def monitoring_until(self) -> datetime | None:
        if self.time is None or self.monitoring is None:
            return None
        return self.time + timedelta(hours=self.monitoring.hours)

    def to_dict(self, period_name: str = "period") -> dict[str, Any]:
        out: dict[str, Any] = {
            "number": self.number,
            period_name: self.period,
            "day": self.day,
            "course_day": self.course_day,
            "drug": self.drug,
            "dose": self.amount,
            "unit": self.unit,
            "dose_mg": self.dose_mg,
            "name": self.name,
            "role": self.role,
            "step_up_schedule": self.step_up_schedule,
            "dose_verified": self.verified,
            "infusion": self.infusion,
            "monitoring": None if self.monitoring is None else self.monitoring.to_dict(),
            "premedications": [premed.drug for premed in self.premedications],
        }
        if self.time is not None:
            out["time"] = format_time(self.time)
            until = self.monitoring_until
            if until is not None:
                out["monitoring_until"] = format_time(until)
        return out


@dataclass(frozen=True, slots=True)
class BispecificPlan:
    """The planned course of one product for one patient."""

    product: Product
    schedule: Schedule
    weight_kg: float | None
    doses: tuple[PlannedDose, ...]
    periods: int
    continues: bool
    start: datetime | None = None
    warnings: tuple[str, ...] = field(default=())

    def of_drug(self) -> tuple[PlannedDose, ...]:
        """The doses of the product itself (not its pretreatment)."""
        return tuple(dose for dose in self.doses if dose.drug == self.product.id)

    def to_dict(self) -> dict[str, Any]:
        period = self.schedule.period
        return {
            "schema": "crswatch.bispecific-plan/1",
            "product": self.product.name,
            "target": self.product.target,
            "label": self.product.label.to_dict(),
            "schedule": self.schedule.to_dict(),
            "weight_kg": self.weight_kg,
            "start": None if self.start is None else format_time(self.start),
            "periods_planned": self.periods,
            "continues_after_plan": self.continues,
            "doses": [dose.to_dict(period) for dose in self.doses],
            "premedications": [premed.to_dict() for premed in self.product.premedications],
            "delays": [delay.to_dict() for delay in self.product.delays],
            "crs_actions": [action.to_dict() for action in self.product.actions],
            "grading_note": self.product.grading_note,
            "general": list(self.product.general),
            "unverified": [item.to_dict() for item in self.product.unverified],
            "warnings": list(self.warnings),
        }


def premedications_for(
    product: Product, period: int, step_up_schedule: bool, after_crs: bool = False
) -> tuple[LabelPremedication, ...]:
    """The label premedications before a dose of ``period`` (``after_crs``: CRS after the last)."""
    chosen = []
    for premed in product.premedications:
        if premed.applies == "step_up_schedule":
            due = step_up_schedule
        elif premed.applies == "period_1":
            due = period == 1
        elif premed.applies == "periods_1_2":
            due = period <= 2 or (premed.after_crs and after_crs)
        else:
            due = False
        if due:
            chosen.append(premed)
    return tuple(chosen)


def _periods_of(row: DoseRow, periods: int) -> range:
    last = periods if row.last is None else min(row.last, periods)
    return range(row.first, last + 1, row.every)


def plan_regimen(
    drug: str,
    *,
    weight_kg: float | None = None,
    indication: str | None = None,
    start: datetime | None = None,
    periods: int | None = None,
) -> BispecificPlan:
    """Plan ``drug`` (a product id) on its schedule ``indication`` (default: its first).

    Raises ``ValueError`` naming the bad argument: an unknown drug or indication, a weight
    that is not positive, a number of periods below 1, a start without a UTC offset.
    """
    product = get_product(drug)
    schedule = product.schedule(indication)
    if weight_kg is not None and not weight_kg > 0:
        raise ValueError(f"weight_kg={weight_kg!r} must be positive")
    if periods is not None and periods < 1:
        raise ValueError(f"periods={periods!r} must be at least 1")
    if start is not None and start.tzinfo is None:
        raise ValueError(f"start={start.isoformat()!r} needs a UTC offset")
    planned = periods or schedule.max_periods or DEFAULT_PERIODS
    if schedule.max_periods is not None:
        planned = min(planned, schedule.max_periods)
    warnings = []
    by_weight = any(row.unit == "mg/kg" for row in schedule.rows)
    if by_weight and weight_kg is None:
        warnings.append("weight not given: weight-based doses are shown in mg/kg only")
    if not schedule.verified:
        warnings.append(
            "the doses of this schedule are not verified against the label text "
            f"(source: {schedule.source.citation})"
        )
    rows = []
    for row in schedule.rows:
        for period in _periods_of(row, planned):
            for day in row.days:
                rows.append((period, day, row))
    rows.sort(key=lambda item: ((item[0] - 1) * schedule.period_days + item[1], item[2].role))
    doses = []
    for number, (period, day, row) in enumerate(rows, start=1):
        course_day = (period - 1) * schedule.period_days + day
        dose_mg: float | None = row.amount
        if row.unit == "mg/kg":
            dose_mg = None if weight_kg is None else round(row.amount * weight_kg, 2)
        drug_given = row.drug or product.id
        premeds = (
            premedications_for(product, period, row.step_up_schedule)
            if drug_given == product.id
            else ()
        )
        doses.append(
            PlannedDose(
                number=number,
                period=period,
                day=day,
                course_day=course_day,
                drug=drug_given,
                amount=row.amount,
                unit=row.unit,
                dose_mg=dose_mg,
                name=row.name,
                role=row.role,
                step_up_schedule=row.step_up_schedule,
                verified=row.verified and schedule.verified,
                infusion=row.infusion,
                monitoring=row.monitoring,
                premedications=premeds,
                time=None if start is None else start + timedelta(days=course_day - 1),
            )
        )
    continues = (
        schedule.max_periods is None
        or planned < schedule.max_periods
        or schedule.continues_after_max
    )
    return BispecificPlan(
        product=product,
        schedule=schedule,
        weight_kg=weight_kg,
        doses=tuple(doses),
        periods=planned,
        continues=continues,
        start=start,
        warnings=tuple(warnings),
    )
