"""The crswatch exception tree.

Every error crswatch raises on purpose is one of these::

    CRSWatchError
    ├── InputError (ValueError)          bad input, found at a reading boundary
    │   ├── TimelineFormatError          the document is not a crswatch timeline at all
    │   └── IngestError                  one or more records were rejected; holds every issue
    ├── UnitError (ValueError)           a unit that cannot be parsed or converted
    ├── CohortOutputError                a cohort output that this run may not resume or replace
    └── UnknownCodeError (LookupError)   a terminology code or vocabulary name that is not known

Each error keeps its inputs as attributes so callers (the CLI, the API) can render them without
parsing the message.  Third-party errors (pint, ucumvert, pyarrow, fhir.resources) are caught at
the boundary and re-raised as one of these; ``tests/test_errors.py`` checks that mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crswatch.timeline._report import IngestIssue

__all__ = [
    "CRSWatchError",
    "CohortOutputError",
    "IngestError",
    "InputError",
    "TimelineFormatError",
    "UnitError",
    "UnknownCodeError",
]


class CRSWatchError(Exception):
    """Root of every error crswatch raises on purpose."""


class InputError(CRSWatchError, ValueError):
    """Input that crswatch cannot accept."""


class TimelineFormatError(InputError):
    """The document is not a timeline (wrong format tag, wrong shape, unreadable file)."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class IngestError(InputError):
    """Records were rejected while reading; ``issues`` lists every one, field by field."""

    def __init__(self, issues: Sequence[IngestIssue]) -> None:
        self.issues = tuple(issues)
        shown = "\n".join(f"  - {issue.message}" for issue in self.issues[:20])
        more = len(self.issues) - 20
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.issues)} input problem(s):\n{shown}{tail}")


class UnitError(CRSWatchError, ValueError):
    """A unit that is not valid UCUM, or that cannot be converted to the unit required."""

    def __init__(self, unit: str, reason: str) -> None:
        self.unit = unit
        self.reason = reason
        super().__init__(f"unit={unit!r}: {reason}")


class UnknownCodeError(CRSWatchError, LookupError):
    """A code or name that is not in the vocabulary or code map."""

    def __init__(self, code: str, where: str) -> None:
        self.code = code
        self.where = where
        super().__init__(f"code={code!r} is not known in {where}")


class CohortOutputError(CRSWatchError):
    """A cohort output directory that this run may not resume or replace (``crswatch cohort``)."""

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")
