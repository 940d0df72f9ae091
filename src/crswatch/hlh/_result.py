"""Screen results as values, with one versioned ``to_dict`` shared by CLI, API and web.

Mirrors :class:`crswatch.scales.GradeResult`: a status, the evidence for every criterion (the
values, units and times behind it), what could not be assessed, warnings and the parameters used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from crswatch.timeline import format_time

__all__ = [
    "SCREENS_SCHEMA",
    "SCREEN_SCHEMA",
    "CriterionOutcome",
    "HLHScreens",
    "Observation",
    "ScreenResult",
    "ScreenStatus",
]

#: Schema version of :meth:`ScreenResult.to_dict`.
SCREEN_SCHEMA = "crswatch.hlh/1"
#: Schema version of :meth:`HLHScreens.to_dict`.
SCREENS_SCHEMA = "crswatch.hlh-screens/1"
ScreenStatus = Literal["met", "not_met", "not_assessable"]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    return value


@dataclass(frozen=True, slots=True)
class Observation:
    """One value behind a criterion: what, how much, in which unit, when, from which event."""

    name: str
    item: str
    value: float | bool | str | None
    unit: str | None = None
    time: datetime | None = None
    ref: str | None = None
    censored: str | None = None
    #: Extra context (the limit it was compared with and where that came from).
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "item": self.item, "value": self.value}
        if self.unit is not None:
            out["unit"] = self.unit
        out["time"] = _plain(self.time)
        if self.ref is not None:
            out["event"] = self.ref
        if self.censored is not None:
            out["censored"] = self.censored
        if self.detail:
            out["detail"] = {key: _plain(value) for key, value in self.detail.items()}
        return out


@dataclass(frozen=True, slots=True)
class CriterionOutcome:
    """One criterion or scored variable: met (True/False/None) or its points, and why."""

    id: str
    label: str
    met: bool | None
    #: The rule as applied (thresholds in the canonical unit, and as published).
    rule: str
    source_ref: str
    tag: str
    observations: tuple[Observation, ...] = ()
    #: Scored variables: the points (None when unknown) and the range still possible.
    points: int | None = None
    points_bounds: tuple[int, int] | None = None
    conversion: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "label": self.label,
            "met": self.met,
        }
        if self.points_bounds is not None:
            out["points"] = self.points
            out["points_bounds"] = list(self.points_bounds)
        out["rule"] = self.rule
        out["source"] = self.source_ref
        out["tag"] = self.tag
        out["observations"] = [o.to_dict() for o in self.observations]
        if self.conversion:
            out["conversion"] = self.conversion
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """One screen (HLH-2004, HScore, carHLH, IEC-HS) at one time."""

    screen: str
    version: str
    title: str
    at: datetime
    status: ScreenStatus
    #: False when the criteria could not be verified in the sources (IEC-HS): labelled rules.
    verified: bool
    criteria: tuple[CriterionOutcome, ...]
    #: Count of criteria met or points (lower bound), and the range still possible.
    score: int | None = None
    score_bounds: tuple[int, int] | None = None
    #: The decision rule: ">= 5 of 8 criteria", ">= 169 (cut-off)".
    cutoff: str | None = None
    #: Criteria (or routes) that could not be assessed, with the inputs they lack.
    missing: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    #: Screen-specific decided sub-results (HLH-2004 routes).
    routes: dict[str, ScreenStatus] = field(default_factory=dict)

    @property
    def criteria_met(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria if c.met)

    @property
    def not_assessed(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria if c.met is None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": SCREEN_SCHEMA,
            "screen": self.screen,
            "version": self.version,
            "title": self.title,
            "at": format_time(self.at),
            "status": self.status,
            "verified": self.verified,
            "score": self.score,
            "score_bounds": list(self.score_bounds) if self.score_bounds else None,
            "cutoff": self.cutoff,
            "criteria_met": list(self.criteria_met),
            "criteria_not_assessed": list(self.not_assessed),
            "criteria": [c.to_dict() for c in self.criteria],
            "missing": list(self.missing),
            "warnings": list(self.warnings),
            "parameters": self.parameters,
        }
        if self.routes:
            out["routes"] = dict(self.routes)
        return out


@dataclass(frozen=True, slots=True)
class HLHScreens:
    """Every screen for one patient at one time; ``flags`` is what other engines read."""

    patient_id: str
    at: datetime
    results: dict[str, ScreenResult]

    @property
    def flags(self) -> dict[str, ScreenStatus]:
        """Each screen's status (management reads these)."""
        return {screen: result.status for screen, result in self.results.items()}

    @property
    def any_met(self) -> bool:
        return any(status == "met" for status in self.flags.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCREENS_SCHEMA,
            "patient_id": self.patient_id,
            "at": format_time(self.at),
            "flags": self.flags,
            "any_met": self.any_met,
            "screens": {screen: result.to_dict() for screen, result in self.results.items()},
        }
