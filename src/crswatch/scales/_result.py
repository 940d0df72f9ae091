"""Grade results as values, with one versioned ``to_dict`` shared by CLI, API and web."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from crswatch.timeline import format_time

__all__ = ["CRS_CONTEXT_ID", "RESULT_SCHEMA", "Evidence", "GradeResult", "Status"]

#: The schema version of ``GradeResult.to_dict()``.
RESULT_SCHEMA = "crswatch.grade/1"
#: The evidence id of the CRS-context rule (docs/decisions/0023-crs-context.md): present, and not
#: met, when CRS was not established (or unknown) at T and the rule held the grade back.
CRS_CONTEXT_ID = "crs_context.astct2019"
Status = Literal["graded", "provisional", "not_assessable", "ambiguous"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One criterion that was met (or could not be decided), with the data behind it."""

    criterion_id: str
    grade: int
    grade_high: int | None
    domain: str
    met: bool | None
    rule: str
    source_ref: str
    values: dict[str, Any]
    events: tuple[str, ...]
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "criterion": self.criterion_id,
            "grade": self.grade,
            "domain": self.domain,
            "met": self.met,
            "rule": self.rule,
            "source": self.source_ref,
            "values": {key: _plain(value) for key, value in self.values.items()},
            "events": list(self.events),
        }
        if self.grade_high is not None:
            out["grade_high"] = self.grade_high
        if self.note:
            out["note"] = self.note
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    return value


@dataclass(frozen=True, slots=True)
class GradeResult:
    """The grade of one scale at one time, and why."""

    scale: str
    version: str
    at: datetime
    grade: int | None
    status: Status
    bounds: tuple[int, int]
    evidence: tuple[Evidence, ...] = ()
    missing: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def criteria_met(self) -> tuple[str, ...]:
        return tuple(e.criterion_id for e in self.evidence if e.met)

    @property
    def deciding(self) -> Evidence | None:
        """The met criterion of the highest grade: what set the grade (or its lower bound).

        None when no criterion is met (grade 0, or a lower bound of 0 when undecided).  When the
        CRS-context rule held the grade back, the rule set the lower bound, so it decides.
        """
        for e in self.evidence:
            if e.criterion_id == CRS_CONTEXT_ID and e.met is not True:
                return e
        met = [e for e in self.evidence if e.met]
        return max(met, key=lambda e: e.grade) if met else None

    @property
    def undecided(self) -> tuple[Evidence, ...]:
        """Criteria that could not be decided and would raise the grade above its lower bound."""
        lower = self.bounds[0]
        return tuple(
            e for e in self.evidence if e.met is None and (e.grade_high or e.grade) > lower
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": RESULT_SCHEMA,
            "scale": self.scale,
            "version": self.version,
            "at": format_time(self.at),
            "grade": self.grade,
            "status": self.status,
            "bounds": list(self.bounds),
            "criteria_met": list(self.criteria_met),
            "evidence": [e.to_dict() for e in self.evidence],
            "missing": list(self.missing),
            "warnings": list(self.warnings),
            "parameters": self.parameters,
        }
