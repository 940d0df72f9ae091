"""Value types of a read, validated timeline: patient, therapy, event, timeline.

These are what every engine receives.  They are built only by the readers (``_parse.py``), so an
``Event`` always holds a vocabulary item, a timezone-aware UTC time and a value already in the
item's canonical unit; the value and unit as sent are kept beside it for provenance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

__all__ = [
    "FORMAT",
    "Event",
    "EventValue",
    "Patient",
    "Therapy",
    "TherapyKind",
    "Timeline",
    "format_time",
]

#: The format tag of ``shared/spec/timeline.md``.
FORMAT = "crswatch.timeline/1"

TherapyKind = Literal["car_t", "blinatumomab", "bispecific", "tcr_t", "other"]
THERAPY_KINDS: tuple[str, ...] = ("car_t", "blinatumomab", "bispecific", "tcr_t", "other")
SEXES: tuple[str, ...] = ("female", "male", "other", "unknown")
CENSORING: tuple[str, ...] = ("below_lod", "above_uloq")
CAUSES: tuple[str, ...] = ("other",)

EventValue = float | str | bool


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` (seconds, or microseconds when present)."""
    utc = moment.astimezone(UTC)
    spec = "seconds" if utc.microsecond == 0 else "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


@dataclass(frozen=True, slots=True)
class Therapy:
    """The T-cell engaging therapy: ``start`` is the CAR T infusion or the first antibody dose."""

    kind: TherapyKind
    start: datetime
    product: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.product is not None:
            out["product"] = self.product
        out["start"] = format_time(self.start)
        return out


@dataclass(frozen=True, slots=True)
class Patient:
    """Who the patient is; body size and age feed dose, rate and age-dependent rules."""

    id: str
    therapy: Therapy
    age_years: float | None = None
    birth_date: date | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    bsa_m2_given: float | None = None
    sex: str | None = None
    high_risk: bool | None = None
    #: Best overall response to the therapy, a code of ``RESPONSES`` (docs/decisions/0022).
    response: str | None = None
    #: When that best response was assessed.
    response_date: date | None = None

    @property
    def bsa_m2(self) -> float | None:
        """Body-surface area: as given, else Mosteller sqrt(height_cm * weight_kg / 3600)."""
        if self.bsa_m2_given is not None:
            return self.bsa_m2_given
        if self.weight_kg is None or self.height_cm is None:
            return None
        return math.sqrt(self.height_cm * self.weight_kg / 3600.0)

    def age_at(self, moment: datetime) -> float | None:
        """Age in years at ``moment``: from ``birth_date`` when given, else ``age_years``."""
        if self.birth_date is not None:
            days = (moment.date() - self.birth_date).days
            return days / 365.25
        return self.age_years

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id}
        if self.age_years is not None:
            out["age_years"] = self.age_years
        if self.birth_date is not None:
            out["birth_date"] = self.birth_date.isoformat()
        if self.weight_kg is not None:
            out["weight_kg"] = self.weight_kg
        if self.height_cm is not None:
            out["height_cm"] = self.height_cm
        if self.bsa_m2_given is not None:
            out["bsa_m2"] = self.bsa_m2_given
        if self.sex is not None:
            out["sex"] = self.sex
        if self.high_risk is not None:
            out["high_risk"] = self.high_risk
        if self.response is not None:
            out["response"] = self.response
        if self.response_date is not None:
            out["response_date"] = self.response_date.isoformat()
        out["therapy"] = self.therapy.to_dict()
        return out


@dataclass(frozen=True, slots=True)
class Event:
    """One time-stamped observation, infusion segment, dose or finding, in canonical units."""

    time: datetime
    item: str
    value: EventValue
    unit: str | None = None
    end: datetime | None = None
    ref_low: float | None = None
    ref_high: float | None = None
    censored: str | None = None
    cause: str | None = None
    id: str | None = None
    source: str | None = None
    #: The value and unit as they were sent, when a conversion changed them.
    original_value: EventValue | None = field(default=None, compare=False)
    original_unit: str | None = field(default=None, compare=False)

    @property
    def attributable(self) -> bool:
        """False when the event is marked as caused by something other than CRS/ICANS."""
        return self.cause != "other"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": format_time(self.time),
            "item": self.item,
            "value": self.value,
        }
        if self.unit is not None:
            out["unit"] = self.unit
        if self.end is not None:
            out["end"] = format_time(self.end)
        for name in ("ref_low", "ref_high", "censored", "cause", "id", "source"):
            attribute = getattr(self, name)
            if attribute is not None:
                out[name] = attribute
        return out


def _sort_key(event: Event) -> tuple[datetime, str]:
    return (event.time, event.item)


@dataclass(frozen=True, slots=True)
class Timeline:
    """A patient and their events, sorted by time then item."""

    patient: Patient
    events: tuple[Event, ...] = ()

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.events, key=_sort_key))
        if ordered != self.events:
            object.__setattr__(self, "events", ordered)

    def to_dict(self) -> dict[str, Any]:
        """The ``crswatch.timeline/1`` document, values in canonical units."""
        return {
            "format": FORMAT,
            "patient": self.patient.to_dict(),
            "events": [event.to_dict() for event in self.events],
        }

    def of(self, *items: str) -> tuple[Event, ...]:
        """The events of the given items, in time order."""
        wanted = set(items)
        return tuple(event for event in self.events if event.item in wanted)
