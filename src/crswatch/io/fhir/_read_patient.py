"""A FHIR Patient (with crswatch extensions and body-size Observations) to a patient record.

The record has the shape of the timeline JSON ``patient`` object, so the timeline reader
validates it exactly as it validates JSON input.  Body size comes from the Patient's extensions
or, failing those, from body weight / height Observations (LOINC 29463-7 / 8302-2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crswatch.io.fhir._elements import Problem, extension, extensions, mapping, quantity, sequence
from crswatch.io.fhir._urls import (
    EXT_AGE_YEARS,
    EXT_BSA_M2,
    EXT_HEIGHT_CM,
    EXT_HIGH_RISK,
    EXT_RESPONSE,
    EXT_THERAPY,
    EXT_WEIGHT_KG,
    PATIENT_ID_SYSTEM,
)

__all__ = ["BodyMeasure", "body_measure", "patient_record", "settle_body_size"]

#: UCUM units body size is accepted in, as factors to kg and cm (UCUM: [lb_av] = 0.45359237 kg,
#: [in_i] = 2.54 cm exactly).  A short explicit table: anything else is reported, not guessed.
_BODY_UNITS: dict[str, dict[str, float]] = {
    "weight_kg": {"kg": 1.0, "g": 0.001, "[lb_av]": 0.45359237},
    "height_cm": {"cm": 1.0, "m": 100.0, "mm": 0.1, "[in_i]": 2.54},
}
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class BodyMeasure:
    """A body weight or height Observation, in kg or cm."""

    field: str
    value: float
    time: str
    label: str


def body_measure(field: str, value: Any, path: str, time: str, label: str) -> BodyMeasure:
    """A weight (kg) or height (cm) from a Quantity; other units are a Problem."""
    number, unit, comparator = quantity(value, path)
    if comparator is not None:
        raise Problem("bad_value", f"{path}.comparator", comparator, "body size must be exact")
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise Problem("bad_value", f"{path}.value", number, "a number is required")
    factors = _BODY_UNITS[field]
    if unit not in factors:
        raise Problem(
            "unknown_unit", f"{path}.code", unit, f"{field} must be in one of {sorted(factors)}"
        )
    return BodyMeasure(field, _round(number * factors[unit]), time, label)


def _round(number: float) -> float:
    # 12 significant digits, as the unit converter does: 150 [lb_av] is 68.0388555 kg exactly.
    return float(f"{number:.12g}")


def _patient_id(resource: Mapping[str, Any]) -> str | None:
    for index, identifier in enumerate(sequence(resource.get("identifier"), "Patient.identifier")):
        identifier = mapping(identifier, f"Patient.identifier[{index}]")
        if identifier is not None and identifier.get("system") == PATIENT_ID_SYSTEM:
            value = identifier.get("value")
            return value if isinstance(value, str) else None
    # Without the crswatch identifier the resource id is the stable name; an MRN among several
    # identifiers would be a choice the data does not make.
    resource_id = resource.get("id")
    return resource_id if isinstance(resource_id, str) else None


def _therapy(resource: Mapping[str, Any]) -> dict[str, Any] | None:
    found = extensions(resource, EXT_THERAPY)
    if not found:
        return None
    if len(found) > 1:
        raise Problem("bad_patient", "therapy", EXT_THERAPY, "the therapy extension is repeated")
    therapy: dict[str, Any] = {}
    for part, key in (
        ("kind", "therapy.kind"),
        ("product", "therapy.product"),
        ("start", "therapy.start"),
    ):
        given = extension(found[0], part, key)
        if given is not None:
            therapy[part] = given[1]
    return therapy


def _response(resource: Mapping[str, Any]) -> dict[str, Any]:
    """``response`` and ``response_date`` from the response extension (validated later)."""
    found = extensions(resource, EXT_RESPONSE)
    if not found:
        return {}
    if len(found) > 1:
        raise Problem("bad_patient", "response", EXT_RESPONSE, "the response extension is repeated")
    fields: dict[str, Any] = {}
    for part, key in (("best", "response"), ("assessed", "response_date")):
        given = extension(found[0], part, key)
        if given is not None:
            fields[key] = given[1]
    return fields


def _number_extension(resource: Mapping[str, Any], url: str, field: str) -> Any:
    given = extension(resource, url, field)
    if given is None:
        return None
    kind, value = given
    if kind == "valueQuantity":
        if field in _BODY_UNITS:
            return body_measure(field, value, field, "", "").value
        number, unit, _ = quantity(value, field)
        if field == "bsa_m2" and unit not in (None, "m2"):
            raise Problem("unknown_unit", f"{field}.code", unit, "a body-surface area is in 'm2'")
        return number
    return value


def patient_record(resource: Mapping[str, Any], warnings: list[str]) -> dict[str, Any]:
    """The timeline ``patient`` object of a Patient resource (validated later, as JSON is)."""
    record: dict[str, Any] = {"id": _patient_id(resource)}
    birth_date = resource.get("birthDate")
    if isinstance(birth_date, str) and _FULL_DATE.match(birth_date):
        record["birth_date"] = birth_date
    elif birth_date is not None:
        # A year or year-month birth date (common in de-identified data) cannot give an exact
        # age; it is left out, said so, and age-dependent rules then report the age missing.
        warnings.append(
            f"patient={record['id']!r}: birthDate={birth_date!r} is not a full date and was "
            "not used"
        )
    gender = resource.get("gender")
    if gender is not None:
        record["sex"] = gender
    for url, field in (
        (EXT_AGE_YEARS, "age_years"),
        (EXT_WEIGHT_KG, "weight_kg"),
        (EXT_HEIGHT_CM, "height_cm"),
        (EXT_BSA_M2, "bsa_m2"),
    ):
        value = _number_extension(resource, url, field)
        if value is not None:
            record[field] = value
    high_risk = extension(resource, EXT_HIGH_RISK, "high_risk")
    if high_risk is not None:
        record["high_risk"] = high_risk[1]
    therapy = _therapy(resource)
    if therapy is not None:
        record["therapy"] = therapy
    record.update(_response(resource))
    return record


def settle_body_size(
    record: dict[str, Any], measures: list[BodyMeasure], warnings: list[str]
) -> None:
    """Fill weight_kg / height_cm from Observations where the Patient does not give them.

    Several different values: the last one at or before the therapy start (the body size
    doses are computed from), else the first one after it; the choice is reported.
    """
    start = _therapy_start(record)
    for field in ("weight_kg", "height_cm"):
        found = [measure for measure in measures if measure.field == field]
        if not found:
            continue
        values = {measure.value for measure in found}
        if record.get(field) is not None:
            if values != {record[field]}:
                warnings.append(
                    f"patient={record['id']!r}: {field}={record[field]!r} from the Patient "
                    f"extension was used; Observations give {sorted(values)}"
                )
            continue
        chosen = found[0] if len(values) == 1 else _closest(found, start)
        record[field] = chosen.value
        if len(values) > 1:
            warnings.append(
                f"patient={record['id']!r}: {field} Observations differ ({sorted(values)}); "
                f"used {chosen.value!r} from {chosen.label} at {chosen.time}"
            )


def _therapy_start(record: Mapping[str, Any]) -> datetime | None:
    therapy = record.get("therapy")
    if isinstance(therapy, Mapping) and isinstance(therapy.get("start"), str):
        try:
            start = datetime.fromisoformat(therapy["start"])
        except ValueError:
            return None
        # A start without an offset is rejected by the timeline reader; it orders nothing here.
        return start if start.tzinfo is not None else None
    return None


def _closest(found: list[BodyMeasure], start: datetime | None) -> BodyMeasure:
    timed = sorted(found, key=lambda measure: datetime.fromisoformat(measure.time))
    if start is None:
        return timed[-1]
    before = [m for m in timed if datetime.fromisoformat(m.time) <= start]
    return before[-1] if before else timed[0]
