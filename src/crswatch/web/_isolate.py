"""One part of a page that cannot be drawn does not take the page down (issue 18, point 7).

The patient view is built from parts (the headline grades, two charts, six panels), each from
the stored record through a different engine.  Should one of them raise, on a record the
engines did not foresee, the clinician still gets every other part, and in place of the broken
one a message in clinical language naming the request id under which the error was logged.
The log names the part, the error's type and the request id only: never the error's message,
which may quote patient values (as the service's 500s: docs/decisions/0037-threat-model.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["PartFailure", "isolated"]

log = logging.getLogger("crswatch.web")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PartFailure:
    """A part of the page that was not drawn, and the request id its error was logged with."""

    #: What the part shows, in clinical words ("cytokine chart"): a fixed label, never
    #: patient data, in the message and in the log.
    part: str
    request_id: str

    @property
    def message(self) -> str:
        return (
            f"The {self.part} could not be drawn; the error has been logged with request id "
            f"{self.request_id}."
        )


def isolated(part: str, request_id: str | None, build: Callable[[], T]) -> T | PartFailure:
    """``build()``, or, when it raises and a ``request_id`` is given, a :class:`PartFailure`
    (logged).  Without a request id (the command line, tests of one part) errors propagate."""
    if request_id is None:
        return build()
    try:
        return build()
    except Exception as exc:  # noqa: BLE001 - one part must not take the page down
        log.error(
            "patient view: %s not drawn: %s (request %s)", part, type(exc).__name__, request_id
        )
        return PartFailure(part, request_id)
