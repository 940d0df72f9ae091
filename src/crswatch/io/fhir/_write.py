"""Timelines to a FHIR R4 Bundle (type ``collection``) that reads back to the same timelines.

One Patient per timeline, then one resource per event: an Observation for measurements,
scores and findings, a MedicationAdministration for infusions and doses, a Procedure for
respiratory support.  Every code carries the standard coding from the code map (when it has one)
*and* the local ``urn:crswatch:item`` / ``urn:crswatch:value`` coding, so any item round-trips
even where no standard code exists.  ``fullUrl`` values are ``urn:uuid:`` UUIDs derived from the
patient id and the event's position (uuid5), so the same timelines give the same Bundle.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from crswatch.io.fhir._codemap import CodeMap, load_codemap
from crswatch.io.fhir._read_events import is_rate_item
from crswatch.io.fhir._urls import (
    DATA_ABSENT_REASON,
    EVENT_ID_SYSTEM,
    EXT_AGE_YEARS,
    EXT_BSA_M2,
    EXT_CAUSE,
    EXT_CENSORED,
    EXT_HEIGHT_CM,
    EXT_HIGH_RISK,
    EXT_REFERENCE_RANGE,
    EXT_RESPONSE,
    EXT_SOURCE,
    EXT_THERAPY,
    EXT_VALUE,
    EXT_WEIGHT_KG,
    ITEM_SYSTEM,
    OBSERVATION_CATEGORY,
    PATIENT_ID_SYSTEM,
    UCUM,
    VALUE_SYSTEM,
)
from crswatch.timeline import (
    NOT_ASSESSED,
    Event,
    ItemSpec,
    Patient,
    Timeline,
    format_time,
    item_spec,
)

__all__ = ["timelines_to_bundle"]

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:crswatch:fhir")
_MEDICATION_GROUPS = frozenset({"hemodynamic", "drug", "t_cell_engager"})
_CATEGORIES = {
    "vital": "vital-signs",
    "respiratory": "vital-signs",
    "lab": "laboratory",
    "cytokine": "laboratory",
}
_COMPARATORS = {"below_lod": "<", "above_uloq": ">"}


def _urn(patient_key: str, *parts: object) -> str:
    # The patient part is JSON, so patient "a/b" never collides with patient "a", event "b".
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, '/'.join([patient_key, *map(str, parts)]))}"


def _ucum(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _measured(event: Event) -> dict[str, Any]:
    """The Quantity of a quantity item's event (read events always hold a number and a unit)."""
    if isinstance(event.value, bool | str) or event.unit is None:
        raise ValueError(f"event item={event.item!r} value={event.value!r} is not a quantity")
    return _ucum(event.value, event.unit)


def _concept(
    codemap: CodeMap, item: str, value: str | None, resource: str, unit: str | None
) -> dict[str, Any]:
    coding: list[dict[str, Any]] = []
    for row in codemap.codings_for(item, value, resource, unit):
        standard = {"system": row.system, "code": row.code}
        if row.display:
            standard["display"] = row.display
        coding.append(standard)
    coding.append(
        {"system": VALUE_SYSTEM if value is not None else ITEM_SYSTEM, "code": value or item}
    )
    return {"coding": coding, "text": value or item}


# ---------------------------------------------------------------------------------- patient


def _patient(patient: Patient) -> dict[str, Any]:
    extension: list[dict[str, Any]] = []
    if patient.age_years is not None:
        extension.append({"url": EXT_AGE_YEARS, "valueDecimal": patient.age_years})
    if patient.high_risk is not None:
        extension.append({"url": EXT_HIGH_RISK, "valueBoolean": patient.high_risk})
    for url, size, unit in (
        (EXT_WEIGHT_KG, patient.weight_kg, "kg"),
        (EXT_HEIGHT_CM, patient.height_cm, "cm"),
        (EXT_BSA_M2, patient.bsa_m2_given, "m2"),
    ):
        if size is not None:
            extension.append({"url": url, "valueQuantity": _ucum(size, unit)})
    therapy: list[dict[str, Any]] = [{"url": "kind", "valueCode": patient.therapy.kind}]
    if patient.therapy.product is not None:
        therapy.append({"url": "product", "valueString": patient.therapy.product})
    therapy.append({"url": "start", "valueDateTime": format_time(patient.therapy.start)})
    extension.append({"url": EXT_THERAPY, "extension": therapy})
    if patient.response is not None:
        response: list[dict[str, Any]] = [{"url": "best", "valueCode": patient.response}]
        if patient.response_date is not None:
            response.append({"url": "assessed", "valueDate": patient.response_date.isoformat()})
        extension.append({"url": EXT_RESPONSE, "extension": response})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "extension": extension,
        "identifier": [{"system": PATIENT_ID_SYSTEM, "value": patient.id}],
    }
    if patient.sex is not None:
        resource["gender"] = patient.sex
    if patient.birth_date is not None:
        resource["birthDate"] = patient.birth_date.isoformat()
    return resource


def _body_size(
    codemap: CodeMap, patient: Patient, subject: str, field: str
) -> dict[str, Any] | None:
    """Weight and height also as vital-sign Observations, for systems that read only those."""
    size, unit = (patient.weight_kg, "kg") if field == "weight_kg" else (patient.height_cm, "cm")
    if size is None:
        return None
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [_category("vital-signs")],
        "code": _concept(codemap, field, None, "Observation", None),
        "subject": {"reference": subject},
        # Dated at the therapy start: the body size the doses of the timeline refer to.
        "effectiveDateTime": format_time(patient.therapy.start),
        "valueQuantity": _ucum(size, unit),
    }


def _category(code: str) -> dict[str, Any]:
    return {"coding": [{"system": OBSERVATION_CATEGORY, "code": code}]}


# ----------------------------------------------------------------------------------- events


def _common(event: Event, resource_type: str, value_has_comparator: bool) -> dict[str, Any]:
    """Extensions and identifier: what the resource has no element of its own for."""
    extension: list[dict[str, Any]] = []
    if event.source is not None:
        extension.append({"url": EXT_SOURCE, "valueString": event.source})
    if event.cause is not None:
        extension.append({"url": EXT_CAUSE, "valueCode": event.cause})
    if event.censored is not None and not value_has_comparator:
        extension.append({"url": EXT_CENSORED, "valueCode": event.censored})
    if resource_type != "Observation" and (event.ref_low is not None or event.ref_high is not None):
        extension.append({"url": EXT_REFERENCE_RANGE, "valueRange": _range(event)})
    resource: dict[str, Any] = {"resourceType": resource_type}
    if extension:
        resource["extension"] = extension
    if event.id is not None:
        resource["identifier"] = [{"system": EVENT_ID_SYSTEM, "value": event.id}]
    return resource


def _range(event: Event) -> dict[str, Any]:
    unit = event.unit or ""
    span: dict[str, Any] = {}
    if event.ref_low is not None:
        span["low"] = _ucum(event.ref_low, unit)
    if event.ref_high is not None:
        span["high"] = _ucum(event.ref_high, unit)
    return span


def _when(event: Event, prefix: str) -> dict[str, Any]:
    if event.end is None:
        return {f"{prefix}DateTime": format_time(event.time)}
    return {f"{prefix}Period": {"start": format_time(event.time), "end": format_time(event.end)}}


def _observation(event: Event, spec: ItemSpec, subject: str, codemap: CodeMap) -> dict[str, Any]:
    quantity = spec.kind == "quantity"
    resource = _common(event, "Observation", value_has_comparator=quantity)
    resource["status"] = "final"
    category = _CATEGORIES.get(spec.group)
    if spec.group in ("neuro", "finding"):
        category = "survey" if spec.kind == "score" else "exam"
    if category is not None:
        resource["category"] = [_category(category)]
    resource["code"] = _concept(codemap, event.item, None, "Observation", event.unit)
    resource["subject"] = {"reference": subject}
    resource.update(_when(event, "effective"))
    if quantity:
        value = _measured(event)
        if event.censored is not None:
            value["comparator"] = _COMPARATORS[event.censored]
        resource["valueQuantity"] = value
    elif spec.kind == "code":
        resource["valueCodeableConcept"] = _concept(
            codemap, event.item, str(event.value), "Observation", None
        )
    elif spec.kind == "score" and event.value == NOT_ASSESSED:
        resource["dataAbsentReason"] = {
            "coding": [{"system": DATA_ABSENT_REASON, "code": "not-performed"}]
        }
    elif spec.kind == "score":
        resource["valueInteger"] = int(event.value)
    elif isinstance(event.value, bool):
        resource["valueBoolean"] = event.value
    elif isinstance(event.value, str):
        resource["valueString"] = event.value
    else:
        resource["valueQuantity"] = {
            "value": event.value,
            **({"unit": event.unit} if event.unit else {}),
        }
    if quantity and (event.ref_low is not None or event.ref_high is not None):
        resource["referenceRange"] = [_range(event)]
    return resource


def _medication_administration(
    event: Event, spec: ItemSpec, subject: str, codemap: CodeMap
) -> dict[str, Any]:
    free = spec.kind == "any"
    numeric = not isinstance(event.value, bool | str)
    resource = _common(event, "MedicationAdministration", value_has_comparator=False)
    if free and not numeric:
        resource.setdefault("extension", []).append(
            {
                "url": EXT_VALUE,
                "valueBoolean" if isinstance(event.value, bool) else "valueString": event.value,
            }
        )
    rate = is_rate_item(spec)
    resource["status"] = "in-progress" if rate and event.end is None else "completed"
    resource["medicationCodeableConcept"] = _concept(
        codemap, event.item, None, "MedicationAdministration", event.unit
    )
    resource["subject"] = {"reference": subject}
    resource.update(_when(event, "effective"))
    if free:
        if numeric:
            # The cell dose's unit is free text ("cells/kg" is not UCUM): no UCUM code is claimed.
            dose: dict[str, Any] = {"value": event.value}
            if event.unit is not None:
                dose["unit"] = event.unit
            resource["dosage"] = {"dose": dose}
    elif rate:
        resource["dosage"] = {"rateQuantity": _measured(event)}
    else:
        resource["dosage"] = {"dose": _measured(event)}
    return resource


def _procedure(event: Event, spec: ItemSpec, subject: str, codemap: CodeMap) -> dict[str, Any]:
    resource = _common(event, "Procedure", value_has_comparator=False)
    resource["status"] = "completed" if event.end is not None else "in-progress"
    # R4 Procedure.category is 0..1; it names the item, the code names the device class.
    resource["category"] = {
        "coding": [{"system": ITEM_SYSTEM, "code": event.item}],
        "text": event.item,
    }
    resource["code"] = _concept(codemap, event.item, str(event.value), "Procedure", None)
    resource["subject"] = {"reference": subject}
    resource.update(_when(event, "performed"))
    return resource


def _event_resource(event: Event, subject: str, codemap: CodeMap) -> dict[str, Any]:
    spec = item_spec(event.item)
    if spec.name == "o2_device":
        return _procedure(event, spec, subject, codemap)
    if spec.group in _MEDICATION_GROUPS:
        return _medication_administration(event, spec, subject, codemap)
    return _observation(event, spec, subject, codemap)


def timelines_to_bundle(
    timelines: Iterable[Timeline], *, codemap: CodeMap | None = None
) -> dict[str, Any]:
    """A FHIR R4 Bundle (``collection``) of the timelines; ``read_bundle`` gives them back."""
    codemap = codemap if codemap is not None else load_codemap()
    entries: list[dict[str, Any]] = []
    occurrences: Counter[str] = Counter()
    for timeline in timelines:
        patient = timeline.patient
        # A patient id given twice (kept apart by the readers) must not give two equal fullUrls.
        occurrence = occurrences[patient.id]
        occurrences[patient.id] += 1
        key = json.dumps([patient.id] if occurrence == 0 else [patient.id, occurrence])
        subject = _urn(key, "patient")
        entries.append({"fullUrl": subject, "resource": _patient(patient)})
        for field in ("weight_kg", "height_cm"):
            body = _body_size(codemap, patient, subject, field)
            if body is not None:
                entries.append({"fullUrl": _urn(key, field), "resource": body})
        for index, event in enumerate(timeline.events):
            entries.append(
                {
                    "fullUrl": _urn(key, "event", index),
                    "resource": _event_resource(event, subject, codemap),
                }
            )
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
