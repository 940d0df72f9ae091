"""Value types of the management engine: sources, doses, rules, rule sets and actions.

Rules are data: a rule names its condition (a predicate over the engine's ``Facts`` and the
words it stands for), the action (category, priority, text, timing, an optional computed dose)
and its source.  A rule without a reference or with an unknown verification tag cannot be
built, so an action without a source cannot exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, get_args

from crswatch.references import references_in
from crswatch.timeline import format_time

__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS",
    "VERIFICATION_TAGS",
    "VERIFICATION_TEXT",
    "Action",
    "Category",
    "Dose",
    "Priority",
    "Rule",
    "RuleSet",
    "Source",
    "Verification",
    "format_clock",
    "format_mg",
    "round_half_up",
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
    "measurement",
    "information",
]
CATEGORIES: tuple[str, ...] = get_args(Category)

#: The categories as a clinician reads them.
CATEGORY_LABELS: dict[str, str] = {
    "supportive_care": "supportive care",
    "attribution": "attribution",
    "monitoring": "monitoring",
    "anti_il6": "anti-IL-6 therapy",
    "corticosteroid": "corticosteroid",
    "escalation": "escalation",
    "therapy_hold": "hold or stop therapy",
    "hlh": "HLH-directed therapy",
    "information": "information",
    "measurement": "measure what is missing",
}

#: The verification tags in plain words.
VERIFICATION_TEXT: dict[str, str] = {
    "V": "verified in the cited source",
    "V-2": "verified in two sources",
    "R": "not verified against the original publication",
    "rule": "an operational reading of a verified sentence (crswatch convention)",
}

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
        out["verification_text"] = VERIFICATION_TEXT[self.verification]
        out["references"] = [ref.to_dict() for ref in self.references]
        if self.quote:
            out["quote"] = self.quote
        if self.note:
            out["note"] = self.note
        return out

    @property
    def references(self) -> tuple[Any, ...]:
        """The registered references this citation names (``crswatch.references``)."""
        return references_in(self.reference)


def format_mg(mg: float, *, whole: bool = False) -> str:
    """A dose as a clinician writes it: whole milligrams from 10 mg (or always, with
    ``whole``), one decimal below; never a trailing ``.0``."""
    if whole or mg >= 10:
        return f"{round_half_up(mg):,}"
    return f"{round(mg, 1):g}"


def round_half_up(value: float) -> int:
    """``value`` to the nearest whole number, halves up (572.5 mg -> 573 mg, not banker's)."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_clock(moment: datetime) -> str:
    """``2024-01-02 17:00 UTC``: a time as the bedside reads it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True, slots=True)
class Dose:
    """A computed dose: the per-dose amount, how it was computed, the cap and the schedule.

    ``dose_mg`` is the dose as written (tocilizumab in whole mg, optionally rounded to whole
    vials); ``exact_mg`` keeps the unrounded arithmetic.  ``allowed`` is false when a dosing
    rule refuses the dose now; ``reasons`` then names each rule broken
    (``rule_id: explanation``) and ``next_allowed_at`` says when it is allowed (None when no
    further dose is allowed at all: ``exhausted``).
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
    exact_mg: float | None = None
    exhausted: bool = False
    #: Doses already given and the most the source allows (tocilizumab: 4).
    doses_given: int | None = None
    max_doses: int | None = None
    whole_mg: bool = False

    @property
    def amount(self) -> str:
        """``560 mg``, as written."""
        return f"{format_mg(self.dose_mg, whole=self.whole_mg)} mg"

    @property
    def when(self) -> str:
        """When the dose may be given: the timing, the next allowed time, or never again."""
        if self.exhausted:
            return f"{self.doses_given} of {self.max_doses} doses given: no further {self.drug}"
        if not self.allowed:
            if self.next_allowed_at is not None:
                return f"next dose allowed from {format_clock(self.next_allowed_at)}"
            return "not allowed: " + "; ".join(reason.split(": ", 1)[-1] for reason in self.reasons)
        return self.timing

    @property
    def text(self) -> str:
        """The dose as a sentence: ``Tocilizumab 560 mg IV over 60 minutes, now``; a refused
        dose leads with when it is allowed, never with "now"."""
        name = self.drug[:1].upper() + self.drug[1:]
        if self.exhausted:
            return f"{self.when}."
        if not self.allowed:
            return f"{name}: {self.when}, {self.amount} {self.route}."
        course = f"; {self.course}" if self.course else ""
        return f"{name} {self.amount} {self.route}, {self.timing}{course}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "dose_mg": self.dose_mg,
            "exact_mg": self.exact_mg,
            "mg_per_kg": self.mg_per_kg,
            "mg_per_m2": self.mg_per_m2,
            "basis": self.basis,
            "cap_mg": self.cap_mg,
            "cap_applied": self.cap_applied,
            "route": self.route,
            "timing": self.timing,
            "course": self.course,
            "allowed": self.allowed,
            "exhausted": self.exhausted,
            "reasons": list(self.reasons),
            "next_allowed_at": (
                format_time(self.next_allowed_at) if self.next_allowed_at is not None else None
            ),
            "notes": list(self.notes),
            "text": self.text,
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
    #: For a patient younger than 18: what the source says (or does not say) about children's
    #: doses, added to ``text`` (issue 15: a child never gets an adult dose silently).
    paediatric: str | None = None

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
            "category_label": CATEGORY_LABELS[self.category],
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
