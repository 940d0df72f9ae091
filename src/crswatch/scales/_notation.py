"""One notation for a grade and its status, shared by the terminal, the dashboard and the report.

Four statuses (docs/decisions/0026-provisional-grades.md):

- ``graded``: the grade, ``3``;
- ``provisional``: the grade on the documented findings, which inputs not documented could still
  raise: ``2 (provisional, ≤ 3)``;
- ``ambiguous``: the scale's wording does not decide between two grades: ``2–3 (ambiguous)``;
- ``not_assessable``: the documented findings fix no grade: ``0–2 (not assessable)``.

The legend (``GRADE_LEGEND``) is printed or shown under any table that uses the notation.
"""

from __future__ import annotations

from typing import Final

__all__ = ["GRADE_LEGEND", "STATUS_LABELS", "grade_notation", "grade_on_record"]

#: Clinical words for each status.
STATUS_LABELS: Final[dict[str, str]] = {
    "graded": "graded",
    "provisional": "provisional",
    "ambiguous": "ambiguous",
    "not_assessable": "not assessable",
}

#: The legend of the notation, one line per status.
GRADE_LEGEND: Final[tuple[str, ...]] = (
    "3: graded from the documented findings.",
    "2 (provisional, ≤ 3): grade 2 on the documented findings; inputs not yet documented "
    "could raise it to 3 (see what is missing).",
    "2–3 (ambiguous): the scale's wording does not decide between grades 2 and 3.",
    "0–2 (not assessable): the documented findings fix no grade; it lies between 0 and 2 "
    "(see what is missing).",
)


def grade_on_record(grade: int | None, status: str) -> int | None:
    """The grade a chart reviewer records: graded or provisional, else None."""
    return grade if status in ("graded", "provisional") else None


def grade_notation(grade: int | None, status: str, lower: int, upper: int) -> str:
    """The grade in the shared notation (see the module docstring)."""
    if status == "graded" and grade is not None:
        return str(grade)
    if status == "provisional" and grade is not None:
        return f"{grade} (provisional, ≤ {upper})"
    words = STATUS_LABELS.get(status, status.replace("_", " "))
    return f"{lower}–{upper} ({words})"
