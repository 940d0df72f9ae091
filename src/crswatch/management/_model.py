"""Value types of the management engine: sources, doses, rules, rule sets and actions.

Rules are data: a rule names its condition (a predicate over the engine's ``Facts`` and the
words it stands for), the action (category, priority, text, timing, an optional computed dose)
and its source.  A rule without a reference or with an unknown verification tag cannot be
built, so an action without a source cannot exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from crswatch.timeline import format_time

__all__ = [
    "CATEGORIES",
    "VERIFICATION_TAGS",
    "Action",
    "Category",
    "Dose",
    "Priority",
    "Rule",
    "RuleSet",
    "Source",
    "Verification",
]

#: ``V`` read in the cited source; ``V-2`` in two; ``R`` recalled, not verified (labelled);
#: ``rule`` an operational reading of a verified sentence (e.g. "no improvement within 24 h").
Verification = Literal["V", "V-2", "R", "rule"]
VERIFICATION_TAGS: tuple[str, ...] = get_args(Verification)

Category = Literal[
    "supportive_care",
    "attribution",
    "monitoring",
    "anti_il6",
    "corticosteroid",
    "escalation",
    "therapy_hold",
    "hlh",
    "information",
]
CATEGORIES: tuple[str, ...] = get_args(Category)

#: 1: now; 2: within hours (or when the stated condition is met); 3: continuing care.
Priority = Literal[1, 2, 3]


@dataclass(frozen=True, slots=True)
class Source:
    """Where an action comes from: rule set and version, the exact reference, verification."""

    ruleset: str
    version: str
    reference: str
    verification: Verification
    quote: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ruleset": self.ruleset,
            "version": self.version,
            "reference": self.reference,
            "verification": self.verification,
        }
        if self.quote:
            out["quote"] = self.quote
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Dose:
    """A computed dose: the per-dose amount, how it was computed, the cap and the schedule.

    ``allowed`` is false when a dosing rule refuses the dose now; ``reasons`` then names each
    rule broken (``rule_id: explanation``) and ``next_allowed_at`` says when it is allowed.
    """

    drug: str
    dose_mg: float
    route: str
    timing: str
    mg_per_kg: float | None = None
    mg_per_m2: float | None = None
    basis: str = ""
    cap_mg: float | None = None
    cap_applied: bool = False
    course: str | None = None
    allowed: bool = True
    reasons: tuple[str, ...] = ()
    next_allowed_at: datetime | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "dose_mg": self.dose_mg,
            "mg_per_kg": self.mg_per_kg,
            "mg_per_m2": self.mg_per_m2,
            "basis": self.basis,
            "cap_mg": self.cap_mg,
            "cap_applied": self.cap_applied,
            "route": self.route,
            "timing": self.timing,
            "course": self.course,
            "allowed": self.allowed,
            "reasons": list(self.reasons),
            "next_allowed_at": (
                format_time(self.next_allowed_at) if self.next_allowed_at is not None else None
            ),
            "notes": list(self.notes),
        }


# Predicates and dose builders take the engine's Facts; typed loosely so that the model does
# not import the engine (which imports the model).
Predicate = Callable[[Any], bool]
DoseBuilder = Callable[[Any], "Dose | None"]
Detail = Callable[[Any], str]


@dataclass(frozen=True, slots=True)
class Rule:
    """One recommendation rule: when it fires, what it recommends, and where it comes from."""

    id: str
    category: Category
    priority: Priority
    when: Predicate
    because: str
    reads: tuple[str, ...]
    text: str
    timing: str
    reference: str
    verification: Verification
    quote: str | None = None
    note: str | None = None
    dose: DoseBuilder | None = None
    #: A sentence built from the facts (e.g. when the last dose was given), added to ``text``.
    detail: Detail | None = None

    def __post_init__(self) -> None:
        if not self.reference.strip():
            raise ValueError(f"rule {self.id!r} has no source reference")
        if self.verification not in VERIFICATION_TAGS:
            raise ValueError(f"rule {self.id!r}: verification={self.verification!r}")
        if self.category not in CATEGORIES:
            raise ValueError(f"rule {self.id!r}: category={self.category!r}")
        if self.priority not in (1, 2, 3):
            raise ValueError(f"rule {self.id!r}: priority={self.priority!r}")


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A versioned, cited, selectable rule set, and the scales its rules read grades from."""

    id: str
    version: str
    title: str
    citation: str
    crs_scale: str
    icans_scale: str
    rules: tuple[Rule, ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        ids = [rule.id for rule in self.rules]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"rule set {self.id!r} repeats rule ids {duplicates}")

    def source(self, rule: Rule) -> Source:
        return Source(
            ruleset=self.id,
            version=self.version,
            reference=rule.reference,
            verification=rule.verification,
            quote=rule.quote,
            note=rule.note,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "citation": self.citation,
            "crs_scale": self.crs_scale,
            "icans_scale": self.icans_scale,
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class Action:
    """One recommended action at time T, with its dose, rationale and source."""

    id: str
    priority: Priority
    category: Category
    text: str
    timing: str
    dose: Dose | None
    because: str
    facts: dict[str, Any]
    source: Source

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "priority": self.priority,
            "category": self.category,
            "text": self.text,
            "timing": self.timing,
            "dose": self.dose.to_dict() if self.dose is not None else None,
            "rationale": {"because": self.because, "facts": plain(self.facts)},
            "source": self.source.to_dict(),
        }


def plain(value: Any) -> Any:
    """A JSON-ready copy: datetimes as ISO strings, tuples as lists."""
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value
