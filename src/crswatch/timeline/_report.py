"""The ingest report: what was read, converted and rejected, and why, field by field."""

from __future__ import annotations

import math
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


_SHOWN_CHARS = 200


def _shown(value: Any) -> str:
    """``repr(value)``, at most 200 characters, for any value (a huge integer too)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**200:
        return f"(an integer of about {int(math.log10(abs(value))) + 1} digits)"
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _plain(value: Any) -> bool:
    """Whether JSON carries ``value`` back exactly and briefly."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, int):
        return abs(value) < 2**53
    return isinstance(value, str) and len(value) <= _SHOWN_CHARS


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
        shown = _shown(self.value)
        return f"{' '.join(where)} field={self.field!r} value={shown}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        # The value as sent, when JSON can carry it back exactly and briefly; otherwise its
        # (shortened) repr: NaN, Infinity, a 400-digit integer or a 9 MB string are named, not
        # echoed (the error body must itself serialise, and stay small).
        value = self.value
        if not _plain(value):
            value = _shown(value)
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
