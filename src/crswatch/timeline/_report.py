"""The ingest report: what was read, converted and rejected, and why, field by field."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["IngestIssue", "IngestReport", "IssueKind"]

IssueKind = Literal[
    "missing_field",
    "bad_value",
    "bad_time",
    "unknown_item",
    "unknown_unit",
    "wrong_dimension",
    "out_of_bounds",
    "missing_body_size",
    "conflict",
    "bad_patient",
    "unknown_code",
]


@dataclass(frozen=True, slots=True)
class IngestIssue:
    """One rejected record: which patient, which event, which field, what value, and why."""

    kind: IssueKind
    patient_id: str | None
    field: str
    value: Any
    reason: str
    #: Position of the event in its input (0-based), or None for a patient-level issue.
    event_index: int | None = None
    event_id: str | None = None

    @property
    def message(self) -> str:
        where = [f"patient={self.patient_id!r}"]
        if self.event_index is not None:
            where.append(f"event[{self.event_index}]")
        if self.event_id is not None:
            where.append(f"id={self.event_id!r}")
        return f"{' '.join(where)} field={self.field!r} value={self.value!r}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        value = self.value
        if not isinstance(value, str | int | float | bool) and value is not None:
            value = repr(value)
        return {
            "kind": self.kind,
            "patient_id": self.patient_id,
            "event_index": self.event_index,
            "event_id": self.event_id,
            "field": self.field,
            "value": value,
            "reason": self.reason,
            "message": self.message,
        }


@dataclass(slots=True)
class IngestReport:
    """Counts and issues for one read; mutable while reading, then handed to the caller."""

    source: str | None = None
    patients_read: int = 0
    patients_rejected: int = 0
    events_read: int = 0
    events_accepted: int = 0
    events_converted: int = 0
    events_rejected: int = 0
    unknown_items: Counter[str] = field(default_factory=Counter)
    unknown_codes: Counter[str] = field(default_factory=Counter)
    conversions: Counter[str] = field(default_factory=Counter)
    issues: list[IngestIssue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was rejected."""
        return self.events_rejected == 0 and self.patients_rejected == 0 and not self.issues

    @property
    def conflicts(self) -> list[IngestIssue]:
        return [issue for issue in self.issues if issue.kind == "conflict"]

    def merge(self, other: IngestReport) -> None:
        """Add another report's counts and issues to this one (used when reading shards)."""
        self.patients_read += other.patients_read
        self.patients_rejected += other.patients_rejected
        self.events_read += other.events_read
        self.events_accepted += other.events_accepted
        self.events_converted += other.events_converted
        self.events_rejected += other.events_rejected
        self.unknown_items.update(other.unknown_items)
        self.unknown_codes.update(other.unknown_codes)
        self.conversions.update(other.conversions)
        self.issues.extend(other.issues)
        self.warnings.extend(other.warnings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "patients_read": self.patients_read,
            "patients_rejected": self.patients_rejected,
            "events_read": self.events_read,
            "events_accepted": self.events_accepted,
            "events_converted": self.events_converted,
            "events_rejected": self.events_rejected,
            "unknown_items": dict(sorted(self.unknown_items.items())),
            "unknown_codes": dict(sorted(self.unknown_codes.items())),
            "conversions": dict(sorted(self.conversions.items())),
            "conflicts": len(self.conflicts),
            "issues": [issue.to_dict() for issue in self.issues],
            "warnings": list(self.warnings),
        }
