"""Criteria as data: one row per published criterion, evaluated over the clinical-state table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

__all__ = [
    "SCALE_KINDS",
    "Criterion",
    "CrsContext",
    "Domain",
    "RowWarnings",
    "Scale",
    "ScaleKind",
    "numbered_items",
]

Domain = Literal[
    "fever",
    "hypotension",
    "hypoxia",
    "organ",
    "coagulopathy",
    "death",
    "neuro",
    "ice",
    "capd",
    "consciousness",
    "seizure",
    "motor",
    "icp_edema",
]
ScaleKind = Literal["crs", "icans"]
#: How a scale meets the CRS-context rule (docs/decisions/0023-crs-context.md), which holds a CRS
#: grade until CRS is established (a fever since the therapy start, or the ASTCT fever waiver):
#: ``ambiguous``: the scale's wording does not say whether findings before that are CRS, so the
#: result is ``ambiguous`` [0, upper] (the older CRS scales);
#: ``definition``: the scale defines CRS itself by that rule, so its findings before are grade 0
#: (ASTCT 2019, whose consensus definition the rule is);
#: ``none``: the rule does not apply (ICANS).
CrsContext = Literal["ambiguous", "definition", "none"]
#: The syndromes graded, in display order.
SCALE_KINDS: tuple[ScaleKind, ...] = ("crs", "icans")
#: Scale-specific warnings from one state row (an assumption made, a finding excluded).
RowWarnings = Callable[[Mapping[str, Any]], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion of a grading table.

    ``test`` is a Kleene-logical Polars expression over state columns: True (met), False (not
    met) or null (cannot be decided from the data).  A met criterion puts the grade at least at
    ``grade``; when the paper's wording leaves the grade between ``grade`` and ``grade_high``,
    the result is ``ambiguous`` with those bounds instead of a guess.
    """

    id: str
    grade: int
    domain: Domain
    test: pl.Expr
    #: State columns shown as evidence and, when null, reported as missing.
    inputs: tuple[str, ...]
    #: The paper's wording, verbatim where the source allows.
    source_text: str
    #: Where in the source: table, footnote, page.
    source_ref: str
    grade_high: int | None = None
    #: Why this criterion is read the way it is (interpretations, unverified [R] items).
    note: str | None = None

    @property
    def upper(self) -> int:
        return self.grade_high if self.grade_high is not None else self.grade


@dataclass(frozen=True, slots=True)
class Scale:
    """A published grading scale: its identity, citation and criteria."""

    id: str
    version: str
    title: str
    citation: str
    kind: ScaleKind
    criteria: tuple[Criterion, ...]
    doi: str | None = None
    #: Numbered interpretation choices (they replace TODOs and are shown in the docs page).
    interpretations: tuple[str, ...] = field(default=())
    #: Warnings this scale adds to a result from its state row (assumptions, exclusions).
    warn: RowWarnings | None = None
    #: The CRS-context rule for this scale; None: ``ambiguous`` for CRS, ``none`` for ICANS.
    crs_context: CrsContext | None = None
    #: Kleene: the findings that found any grade of this scale are documented at T (for CRS, a
    #: temperature or the fever waiver; for ICANS, the encephalopathy assessment).  When inputs
    #: are missing, a documented grade 0 is ``provisional``; an undocumented one is
    #: ``not_assessable``.  None: the kind's default (``scales._grade.documented``).
    documented: pl.Expr | None = None

    @property
    def context_rule(self) -> CrsContext:
        """The CRS-context rule in force for this scale (``crs_context`` or its kind's default)."""
        if self.crs_context is not None:
            return self.crs_context
        return "ambiguous" if self.kind == "crs" else "none"

    @property
    def key(self) -> str:
        """``kind.id``: unique across syndromes (ASTCT 2019 grades both CRS and ICANS)."""
        return f"{self.kind}.{self.id}"

    @property
    def page_name(self) -> str:
        """The docs page stem: the id for CRS scales (as before ICANS), ``kind_id`` otherwise."""
        return self.id if self.kind == "crs" else f"{self.kind}_{self.id}"


def numbered_items(docstring: str | None) -> tuple[str, ...]:
    """The numbered list (``1. ...``) of a module docstring, one string per item.

    A scale's interpretation choices are written once, in its docstring, and read from there
    for results and docs pages.
    """
    items: list[str] = []
    for line in (docstring or "").splitlines():
        stripped = line.strip()
        head, _, rest = stripped.partition(". ")
        # Only an unindented line starts an item: a wrapped line may begin "3. " too.
        if head.isdigit() and rest and not line[:1].isspace():
            items.append(rest)
        elif items and stripped and line.startswith("   "):
            items[-1] += " " + stripped
        elif items and not stripped:
            continue
    return tuple(items)
