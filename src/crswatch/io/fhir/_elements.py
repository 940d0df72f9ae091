"""Reading FHIR R4 data types from JSON: Coding, Quantity, Ratio, dateTime, Period, extensions.

Resources are read as plain JSON (docs/decisions/0003-fhir-mapping.md says why), so each data
type the mapping uses is checked here, and anything that is not what R4 allows raises
:class:`Problem` naming the element path, the value and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from crswatch.io.fhir._urls import UCUM
from crswatch.timeline import IngestIssue

__all__ = [
    "Problem",
    "codings",
    "concept_text",
    "extension",
    "extensions",
    "mapping",
    "period_or_time",
    "quantity",
    "ratio",
    "sequence",
]

#: An IngestIssue kind ("bad_time", "unknown_code", ...); crswatch.timeline does not export its
#: Literal, and every kind raised here is one of its members.
_IssueKind = Any

#: A FHIR dateTime with a time part; group 1 is the UTC offset when present.
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")
_DATE_ONLY = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


class Problem(Exception):  # noqa: N818 - a value carried to the report, not only raised
    """Why an element cannot be read: becomes one :class:`IngestIssue`."""

    def __init__(
        self, kind: _IssueKind, field: str, value: Any, reason: str, codes: Sequence[str] = ()
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.field = field
        self.value = value
        self.reason = reason
        #: ``system|code`` keys to count in ``report.unknown_codes``.
        self.codes = tuple(codes)

    def issue(self, patient_id: str | None, position: int | None, label: str | None) -> IngestIssue:
        where = f" ({label})" if label else ""
        return IngestIssue(
            kind=self.kind,
            patient_id=patient_id,
            field=self.field,
            value=self.value,
            reason=self.reason + where,
            event_index=position,
            event_id=label,
        )


def mapping(value: Any, field: str, *, required: bool = False) -> Mapping[str, Any] | None:
    """A JSON object, or None when absent (a Problem when required, or of another type)."""
    if value is None:
        if required:
            raise Problem("missing_field", field, None, f"{field} is required")
        return None
    if not isinstance(value, Mapping):
        raise Problem("bad_value", field, value, f"{field} must be a JSON object")
    return value


def sequence(value: Any, field: str) -> list[Any]:
    """A JSON array (absent is empty); a single object is taken as a one-element array."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        # R4 Procedure.category is 0..1 while R5 made it 0..*: accept either shape.
        return [value]
    raise Problem("bad_value", field, value, f"{field} must be a JSON array")


def codings(concept: Any, field: str) -> list[tuple[str, str]]:
    """(system, code) of every coding of a CodeableConcept that has a code."""
    body = mapping(concept, field)
    if body is None:
        return []
    found: list[tuple[str, str]] = []
    for index, coding in enumerate(sequence(body.get("coding"), f"{field}.coding")):
        coding = mapping(coding, f"{field}.coding[{index}]")
        if coding is None:
            continue
        code = coding.get("code")
        if isinstance(code, str) and code:
            system = coding.get("system")
            found.append((system if isinstance(system, str) else "", code))
    return found


def concept_text(concept: Any) -> str | None:
    if isinstance(concept, Mapping) and isinstance(concept.get("text"), str):
        return str(concept["text"])
    return None


def extensions(element: Mapping[str, Any], url: str) -> list[Mapping[str, Any]]:
    """The extensions of ``element`` with ``url`` (modifierExtension is not read)."""
    found = []
    for candidate in sequence(element.get("extension"), "extension"):
        if isinstance(candidate, Mapping) and candidate.get("url") == url:
            found.append(candidate)
    return found


def extension(element: Mapping[str, Any], url: str, field: str) -> tuple[str, Any] | None:
    """(value[x] name, value) of the single extension with ``url``; None when absent."""
    found = extensions(element, url)
    if not found:
        return None
    if len(found) > 1:
        raise Problem("bad_value", field, url, f"extension {url!r} is given {len(found)} times")
    values = [(key, value) for key, value in found[0].items() if key.startswith("value")]
    if len(values) != 1:
        raise Problem("bad_value", field, url, f"extension {url!r} needs exactly one value[x]")
    return values[0]


def date_time(value: Any, field: str) -> str:
    """A FHIR dateTime with a time *and* a UTC offset, returned as given (never guessed)."""
    if not isinstance(value, str):
        raise Problem("bad_time", field, value, "a dateTime string is required")
    text = value.strip()
    if _DATE_ONLY.match(text):
        raise Problem(
            "bad_time",
            field,
            value,
            "a date without a time cannot place an event; a dateTime with a UTC offset is required",
        )
    found = _DATE_TIME.match(text)
    if found is None:
        raise Problem("bad_time", field, value, "not a FHIR dateTime")
    if found.group(1) is None:
        raise Problem(
            "bad_time",
            field,
            value,
            "time has no UTC offset; add 'Z' or '+hh:mm' (it is never guessed)",
        )
    return text


def period_or_time(
    resource: Mapping[str, Any], prefix: str, resource_type: str, *, instant: bool = False
) -> tuple[str, str | None]:
    """(start, end) from ``<prefix>DateTime``, ``<prefix>Period`` (or ``<prefix>Instant``)."""
    names = [f"{prefix}DateTime", f"{prefix}Period"] + ([f"{prefix}Instant"] if instant else [])
    given = [key for key in resource if key.startswith(prefix) and key != prefix]
    unsupported = [key for key in given if key not in names]
    if unsupported:
        field = f"{resource_type}.{unsupported[0]}"
        raise Problem(
            "bad_time",
            field,
            resource[unsupported[0]],
            f"{field} is not read; use {' or '.join(names)}",
        )
    if not given:
        field = f"{resource_type}.{prefix}[x]"
        raise Problem(
            "missing_field", field, None, f"{field} is required to place the event in time"
        )
    if len(given) > 1:
        raise Problem("bad_value", f"{resource_type}.{prefix}[x]", given, "only one is allowed")
    key = given[0]
    field = f"{resource_type}.{key}"
    if key.endswith("Period"):
        period = mapping(resource[key], field, required=True)
        assert period is not None
        if period.get("start") is None:
            raise Problem("missing_field", f"{field}.start", None, "a period needs a start")
        start = date_time(period["start"], f"{field}.start")
        end = date_time(period["end"], f"{field}.end") if period.get("end") is not None else None
        return start, end
    return date_time(resource[key], field), None


def quantity(value: Any, field: str) -> tuple[Any, str | None, str | None]:
    """(value, unit, comparator) of a Quantity; the unit is the UCUM ``code``.

    Without a ``code``, the human-readable ``unit`` is passed on and must itself be UCUM (the
    timeline reader rejects it otherwise); a code of another system is rejected, not guessed.
    """
    body = mapping(value, field, required=True)
    assert body is not None
    if body.get("value") is None:
        raise Problem("missing_field", f"{field}.value", None, "the quantity has no value")
    number = body["value"]
    system = body.get("system")
    code = body.get("code")
    for part in ("code", "unit", "comparator"):
        if body.get(part) is not None and not isinstance(body[part], str):
            raise Problem("bad_value", f"{field}.{part}", body[part], "a string is required")
    if code is not None:
        if system is not None and system != UCUM:
            raise Problem(
                "unknown_unit",
                f"{field}.system",
                system,
                f"unit code {code!r} is not UCUM ({UCUM})",
            )
        unit = code
    else:
        unit = body.get("unit")
    comparator = body.get("comparator")
    return number, unit, comparator


def ratio(value: Any, field: str) -> tuple[float, str]:
    """A Ratio as one rate: numerator / denominator, with the unit composed in UCUM."""
    body = mapping(value, field, required=True)
    assert body is not None
    top, top_unit, _ = quantity(body.get("numerator"), f"{field}.numerator")
    bottom, bottom_unit, _ = quantity(body.get("denominator"), f"{field}.denominator")
    for number, part in ((top, "numerator"), (bottom, "denominator")):
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise Problem("bad_value", f"{field}.{part}.value", number, "a number is required")
    if bottom == 0:
        raise Problem("bad_value", f"{field}.denominator.value", bottom, "must not be 0")
    if not top_unit or not bottom_unit:
        raise Problem("missing_field", field, body, "numerator and denominator need UCUM units")
    # "ug/kg" over "min" is "ug/kg/min"; a compound denominator needs brackets in UCUM.
    below = bottom_unit if re.fullmatch(r"[^./()]+", bottom_unit) else f"({bottom_unit})"
    return top / bottom if bottom != 1 else float(top), f"{top_unit}/{below}"
