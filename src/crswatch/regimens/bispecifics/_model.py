"""Bispecific T-cell engager labels as data: schedules, monitoring, premedication, CRS actions.

A :class:`Product` is one US label as far as it could be verified
(``shared/research/criteria-verification.md`` §5).  Every item carries its source and a
``verified`` flag; what the verification marks NOT FOUND is an :class:`Unverified` entry that
says so, never a value filled in from memory.

Time is counted in *periods*: a week (7 days) for the myeloma and lung products, whose labels
count days from the first step-up dose, and the label's cycle (21 or 28 days) for the lymphoma
products.  A dose row gives the periods it covers, the day(s) of the period, the dose and its
role; the course day is ``(period - 1) * period_days + day`` (day 1 = the first dose).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "CrsAction",
    "DelayRule",
    "DoseRow",
    "DoseUnit",
    "LabelPremedication",
    "Monitoring",
    "Product",
    "Schedule",
    "Source",
    "SwitchRule",
    "Unverified",
]

DoseUnit = Literal["mg", "mg/kg"]
Role = Literal["pretreatment", "step_up", "treatment"]
Syndrome = Literal["crs", "icans"]
#: Which doses a premedication is for: the label's step-up table, the first period(s), or
#: not verified (the label's wording was not captured).
Applies = Literal["step_up_schedule", "period_1", "periods_1_2", "not_verified"]


@dataclass(frozen=True, slots=True)
class Source:
    """A cited source: the citation a clinician reads, and the label version it reflects."""

    citation: str
    version: str

    def to_dict(self) -> dict[str, Any]:
        return {"citation": self.citation, "version": self.version}


@dataclass(frozen=True, slots=True)
class Unverified:
    """Label content that could not be verified: what is missing, and what was seen instead."""

    topic: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "verified": False, "note": self.note}


@dataclass(frozen=True, slots=True)
class Monitoring:
    """The stay the label asks for after a dose (hospital, or a healthcare setting)."""

    hours: float
    setting: str
    quote: str
    source: Source
    verified: bool = True
    #: Up to this many hours from the infusion start instead (tarlatamab: "22 to 24 hours").
    hours_low: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "hours": self.hours,
            "setting": self.setting,
            "quote": self.quote,
            "source": self.source.to_dict(),
            "verified": self.verified,
        }
        if self.hours_low is not None:
            out["hours_low"] = self.hours_low
        return out


@dataclass(frozen=True, slots=True)
class DoseRow:
    """Doses of one amount on ``days`` of periods ``first``..``last`` (``None``: open-ended)."""

    first: int
    last: int | None
    days: tuple[int, ...]
    amount: float
    unit: DoseUnit
    name: str
    role: Role
    #: Every ``every``-th period from ``first`` (2: every other week).
    every: int = 1
    #: The drug given (the product itself, or a pretreatment such as obinutuzumab).
    drug: str | None = None
    infusion: str | None = None
    monitoring: Monitoring | None = None
    verified: bool = True
    #: A row of the label's step-up dosing table (premedication and stays refer to it).
    step_up_schedule: bool = False


@dataclass(frozen=True, slots=True)
class SwitchRule:
    """A frequency change the label allows under a condition (response, time on treatment)."""

    text: str
    quote: str
    source: Source
    verified: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "quote": self.quote,
            "source": self.source.to_dict(),
            "verified": self.verified,
        }


@dataclass(frozen=True, slots=True)
class DelayRule:
    """When the ``dose`` (a dose name) may be given, counted from the previous dose.

    ``usual_days`` is the label's usual range and ``latest_days`` the latest it allows; what
    happens after ``latest_days`` is ``beyond`` (an :class:`Unverified` note when not found).
    """

    dose: str
    usual_days: tuple[float, float]
    latest_days: float | None
    quote: str
    source: Source
    beyond: Unverified | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "dose": self.dose,
            "usual_days": list(self.usual_days),
            "latest_days": self.latest_days,
            "quote": self.quote,
            "source": self.source.to_dict(),
            "beyond": None if self.beyond is None else self.beyond.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class LabelPremedication:
    """A premedication the label names; ``dose`` and ``timing`` are ``None`` when not found."""

    drug: str
    dose: str | None
    timing: str | None
    applies: Applies
    applies_to: str
    quote: str
    source: Source
    verified: bool = True
    #: Timeline items that count as this premedication having been given.
    items: tuple[str, ...] = ()
    #: Also before later doses when the previous dose was followed by CRS of any grade.
    after_crs: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "dose": self.dose if self.dose is not None else "dose not verified",
            "timing": self.timing if self.timing is not None else "timing not verified",
            "applies_to": self.applies_to,
            "quote": self.quote,
            "source": self.source.to_dict(),
            "verified": self.verified,
        }


@dataclass(frozen=True, slots=True)
class CrsAction:
    """What the label says to do at one grade of CRS or ICANS (``complete``: not truncated)."""

    syndrome: Syndrome
    grade: int
    actions: tuple[str, ...]
    quote: str
    source: Source
    complete: bool = True
    #: Further consequences for the next dose, as flags the status reads.
    withhold_until_resolved: bool = True
    resolved_for_hours: float = 0.0
    next_dose_note: str | None = None
    occurrence: Literal["any", "first", "recurrent"] = "any"

    def to_dict(self) -> dict[str, Any]:
        return {
            "syndrome": self.syndrome,
            "grade": self.grade,
            "occurrence": self.occurrence,
            "actions": list(self.actions),
            "quote": self.quote,
            "complete": self.complete,
            "next_dose": self.next_dose_note,
            "source": self.source.to_dict(),
            "verified": True,
        }


@dataclass(frozen=True, slots=True)
class Schedule:
    """One dosing schedule of a label (an indication, or a weekly/biweekly variant)."""

    id: str
    name: str
    indication: str
    period: Literal["week", "cycle"]
    period_days: int
    rows: tuple[DoseRow, ...]
    source: Source
    #: The last period of the course (``None``: until progression or unacceptable toxicity).
    max_periods: int | None = None
    max_periods_note: str | None = None
    switches: tuple[SwitchRule, ...] = ()
    verified: bool = True
    #: The course goes on after ``max_periods`` under a switch rule (elranatamab after week 24).
    continues_after_max: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "indication": self.indication,
            "period": self.period,
            "period_days": self.period_days,
            "max_periods": self.max_periods,
            "max_periods_note": self.max_periods_note,
            "switches": [switch.to_dict() for switch in self.switches],
            "source": self.source.to_dict(),
            "doses_verified": self.verified,
        }


@dataclass(frozen=True, slots=True)
class Product:
    """One bispecific T-cell engager and its label as verified."""

    id: str
    brand: str
    target: str
    disease: str
    label: Source
    schedules: tuple[Schedule, ...]
    premedications: tuple[LabelPremedication, ...]
    actions: tuple[CrsAction, ...]
    unverified: tuple[Unverified, ...]
    delays: tuple[DelayRule, ...] = ()
    #: The label's own reading of the ASTCT 2019 grade, where it differs (mosunetuzumab).
    grading_note: str | None = None
    #: Oxygen flow (L/min) from which the label calls oxygen high-flow (``None``: as ASTCT).
    high_flow_from_l_min: float | None = None
    general: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.id} ({self.brand})"

    def schedule(self, schedule_id: str | None) -> Schedule:
        """The schedule ``schedule_id`` (default: the first); ``ValueError`` names the known."""
        if schedule_id is None:
            return self.schedules[0]
        for schedule in self.schedules:
            if schedule.id == schedule_id:
                return schedule
        known = ", ".join(schedule.id for schedule in self.schedules)
        raise ValueError(f"indication={schedule_id!r} is not one of {known} for {self.id}")

    def action(self, syndrome: Syndrome, grade: int, recurrent: bool = False) -> CrsAction | None:
        """The verified label action at this grade (``None``: not verified)."""
        wanted = ("recurrent", "any") if recurrent else ("first", "any")
        for occurrence in wanted:
            for action in self.actions:
                if (action.syndrome, action.grade, action.occurrence) == (
                    syndrome,
                    grade,
                    occurrence,
                ):
                    return action
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "brand": self.brand,
            "target": self.target,
            "disease": self.disease,
            "label": self.label.to_dict(),
            "schedules": [schedule.to_dict() for schedule in self.schedules],
            "premedications": [premed.to_dict() for premed in self.premedications],
            "actions": [action.to_dict() for action in self.actions],
            "delays": [delay.to_dict() for delay in self.delays],
            "grading_note": self.grading_note,
            "general": list(self.general),
            "unverified": [item.to_dict() for item in self.unverified],
        }
