"""The generator's intended CRS and ICANS grades over time: ground truth for engine tests.

``intended_grades`` turns a patient's timed course (``_course``) into consecutive spans of one
intended ASTCT 2019 grade each (Lee DW et al., Biol Blood Marrow Transplant 2019;25:625-638,
the levels the scenario's tiers use), from the start of the record to the end of observation:

- **CRS**: grade 1 during every attributable fever spell (the main one, a recurrence, a fever
  after a blinatumomab dose step; never a fever from documented infection); the scenario's
  tier from the escalation (hypotension and/or hypoxia begin) until the response to
  tocilizumab or steroids (the climb through lower devices on the way up counts at the tier);
  after the response, while support is weaned: 4 while still ventilated, 3 while a vasopressor
  still runs, 2 while fluids or oxygen are still given; 0 otherwise.
- **ICANS**: the ICE score's path as ``_neuro`` draws it (half-way down at onset, the nadir,
  held until recovery, back to 10 linearly), with the nadir at the middle of the grade's range
  (grade 1: 8, grade 2: 4.5, grade 3: 1, grade 4: 0 and unarousable), read with the ASTCT ICE
  bands (7-9: grade 1, 3-6: grade 2, 0-2: grade 3); grade 4 only at a grade 4 nadir.

These are what the generator *meant*, not a grading of the events it wrote: an engine under test
is compared with them knowing that the edges of each span (the first reading above a threshold,
the window of a scale) differ by hours.  A patient who died is not graded after death.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Literal

import pyarrow as pa

from crswatch.simulate._course import Course

__all__ = [
    "TRUTH_GRADES_SCHEMA",
    "SyndromeKind",
    "TruthSpan",
    "grade_at",
    "intended_grades",
    "truth_grade_table",
]

SyndromeKind = Literal["crs", "icans"]

_TIMESTAMP = pa.timestamp("us", tz="UTC")
TRUTH_GRADES_SCHEMA = pa.schema(
    [
        ("patient_id", pa.string()),
        ("kind", pa.string()),
        ("start", _TIMESTAMP),
        ("end", _TIMESTAMP),
        ("grade", pa.int8()),
    ]
)


@dataclass(frozen=True, slots=True)
class TruthSpan:
    """One intended grade from ``start`` to ``end`` (hours after the therapy start)."""

    kind: SyndromeKind
    start: float
    end: float
    grade: int


def _flatten(
    kind: SyndromeKind, pieces: Sequence[tuple[float, float, int]], begin: float, until: float
) -> list[TruthSpan]:
    """Consecutive spans over ``[begin, until)``, each the highest grade of the pieces there."""
    cuts = {begin, until}
    for start, end, _ in pieces:
        cuts.update(t for t in (start, end) if begin < t < until)
    times = sorted(cuts)
    spans: list[TruthSpan] = []
    for left, right in pairwise(times):
        grade = max((g for s, e, g in pieces if s <= left and e > left), default=0)
        if spans and spans[-1].grade == grade:
            spans[-1] = TruthSpan(kind, spans[-1].start, right, grade)
        else:
            spans.append(TruthSpan(kind, left, right, grade))
    return spans


#: The ICE nadir drawn for each ICANS grade, at the middle of its range (``_neuro``).
_ICE_NADIR = {1: 8.0, 2: 4.5, 3: 1.0, 4: 0.0}


def _ice_grade(score: float) -> int:
    """ASTCT 2019 ICANS grade of an ICE score (7-9: 1, 3-6: 2, 0-2: 3)."""
    if score >= 10.0:
        return 0
    return 1 if score >= 7.0 else 2 if score >= 3.0 else 3


def _linear_ice(
    start: float, end: float, low: float, high: float
) -> list[tuple[float, float, int]]:
    """Grade pieces of an ICE score moving linearly from ``low`` (at ``start`` if rising, at
    ``end`` if falling: ``rising`` is decided by the caller's order) to ``high``."""
    if end <= start:
        return []
    pieces = []
    cuts = [start, end]
    for threshold in (3.0, 7.0):
        if low < threshold < high:
            cuts.append(start + (end - start) * (threshold - low) / (high - low))
    cuts.sort()
    for left, right in pairwise(cuts):
        middle = low + (high - low) * ((left + right) / 2.0 - start) / (end - start)
        pieces.append((left, right, _ice_grade(middle)))
    return pieces


def _icans(course: Course, grade: int) -> list[tuple[float, float, int]]:
    spell = course.icans
    if not grade or spell is None:
        return []
    nadir = _ICE_NADIR[grade]
    # Falling from half-way at onset to the nadir: the same bands read backwards.
    falling = [
        (spell.nadir - (right - spell.onset), spell.nadir - (left - spell.onset), g)
        for left, right, g in _linear_ice(spell.onset, spell.nadir, nadir, (10.0 + nadir) / 2)
    ]
    held = [(spell.nadir, spell.recovery, grade)]
    return [*falling, *held, *_linear_ice(spell.recovery, spell.end, nadir, 10.0)]


def _crs(
    course: Course,
    tier: int,
    pressors: bool,
    hemodynamics_end: float | None,
    respiratory_end: float | None,
    ventilation: tuple[float, float] | None,
) -> list[tuple[float, float, int]]:
    pieces = [(spell.start, spell.end, 1) for spell in course.fevers if not spell.other]
    escalation = course.escalation
    if tier < 2 or escalation is None:
        return pieces
    ends = [end for end in (hemodynamics_end, respiratory_end) if end is not None]
    support_end = max(ends, default=course.fever_end or escalation)
    peak_end = course.response if course.response is not None else support_end
    pieces.append((escalation, max(peak_end, escalation), tier))
    if ventilation is not None:
        pieces.append((ventilation[0], ventilation[1], 4))
    if hemodynamics_end is not None:
        pieces.append((escalation, hemodynamics_end, 3 if pressors else 2))
    if respiratory_end is not None:
        pieces.append((escalation, respiratory_end, 2))
    return pieces


def intended_grades(
    course: Course,
    crs_tier: int,
    icans_grade: int,
    support: tuple[bool, float | None, float | None, tuple[float, float] | None],
    window: tuple[float, float],
) -> tuple[TruthSpan, ...]:
    """The intended CRS and ICANS grade over ``window`` (hours after the start), as spans.

    ``support``: whether the hypotension needed vasopressors, when haemodynamic support ended,
    when respiratory support ended, and the ventilation interval (``_hemodynamics``,
    ``_respiratory``).
    """
    begin, until = window
    if course.death is not None:
        until = min(until, course.death)
    crs = _crs(course, crs_tier, *support)
    icans = _icans(course, icans_grade)
    return (*_flatten("crs", crs, begin, until), *_flatten("icans", icans, begin, until))


def grade_at(spans: Sequence[TruthSpan], kind: SyndromeKind, hours: float) -> int | None:
    """The intended grade at ``hours`` after the start; None outside the observed record."""
    for span in spans:
        if span.kind == kind and span.start <= hours < span.end:
            return span.grade
    last = [span for span in spans if span.kind == kind]
    if last and hours == last[-1].end:
        return last[-1].grade
    return None


def truth_grade_table(rows: Sequence[tuple[str, datetime, Sequence[TruthSpan]]]) -> pa.Table:
    """One row per patient and span (``TRUTH_GRADES_SCHEMA``): (patient id, therapy start,
    spans) in, times as UTC timestamps out."""
    columns: dict[str, list[object]] = {name: [] for name in TRUTH_GRADES_SCHEMA.names}
    for patient_id, start, spans in rows:
        for span in spans:
            columns["patient_id"].append(patient_id)
            columns["kind"].append(span.kind)
            columns["start"].append(start + timedelta(hours=span.start))
            columns["end"].append(start + timedelta(hours=span.end))
            columns["grade"].append(span.grade)
    return pa.Table.from_pydict(columns, schema=TRUTH_GRADES_SCHEMA)
