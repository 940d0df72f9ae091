"""Limits of the data contract: identifier syntax, text lengths and the plausible time window.

These are rules of ``crswatch.timeline/1`` (docs/decisions/0036-input-limits.md), enforced by
:func:`crswatch.timeline.build_timeline` and therefore by every reader:

- A **patient id** is 1-64 characters of ASCII letters, digits, ``.``, ``_`` and ``-``,
  beginning with a letter or digit: the FHIR ``id`` datatype's alphabet and length (plus ``_``,
  common in local record numbers).  It is a path segment of every patient URL, so ``/``, NUL,
  newlines and ``..`` cannot occur; 64 characters hold any hospital number in use.
- **Free text** (``therapy.product``, an event's ``id`` and ``source``, a code value) is at most
  200 characters without control characters: enough for a product name or a FHIR reference,
  never a page-sized paste that every ward page would then carry.
- **Times** (an event's ``time`` and ``end``, ``therapy.start``) lie within a plausible window:
  not before 1900-01-01 and not more than one day after the moment of reading (a day absorbs
  clock skew and time zones; data from the future are entry errors).  The window is a parameter
  (:class:`TimeWindow`): the service sets it from ``CRSWATCH_EARLIEST_TIME`` and
  ``CRSWATCH_FUTURE_TOLERANCE_HOURS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "MAX_PATIENT_ID_LENGTH",
    "MAX_TEXT_LENGTH",
    "PATIENT_ID_PATTERN",
    "TimeWindow",
    "patient_id_problem",
    "text_problem",
]

MAX_PATIENT_ID_LENGTH = 64
MAX_TEXT_LENGTH = 200
PATIENT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

#: The earliest plausible time of any clinical record in the contract.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Times before ``earliest`` or later than ``future`` after now are rejected at ingest."""

    earliest: datetime = EARLIEST
    future: timedelta = timedelta(days=1)

    def problem(self, moment: datetime, now: datetime | None = None) -> str | None:
        """Why ``moment`` (aware) is implausible, or None when it is within the window."""
        if moment < self.earliest:
            return f"before {self.earliest.date().isoformat()}: an entry error (contract limit)"
        latest = (now or datetime.now(UTC)) + self.future
        if moment > latest:
            hours = self.future.total_seconds() / 3600
            return f"more than {hours:g} h in the future: an entry error (contract limit)"
        return None


def patient_id_problem(value: str) -> str | None:
    """Why ``value`` is not a valid patient id, or None."""
    if len(value) > MAX_PATIENT_ID_LENGTH:
        return f"longer than {MAX_PATIENT_ID_LENGTH} characters ({len(value)})"
    if PATIENT_ID_PATTERN.fullmatch(value) is None:
        return (
            f"1-{MAX_PATIENT_ID_LENGTH} characters of letters, digits, '.', '_' and '-', "
            "beginning with a letter or digit"
        )
    return None


def text_problem(value: str) -> str | None:
    """Why free text ``value`` breaks the contract's limits, or None."""
    if len(value) > MAX_TEXT_LENGTH:
        return f"longer than {MAX_TEXT_LENGTH} characters ({len(value)})"
    if _CONTROL.search(value):
        return "contains a control character (NUL, newline, tab ...)"
    return None
