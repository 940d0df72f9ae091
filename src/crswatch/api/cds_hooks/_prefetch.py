"""The prefetch an EHR holding a timeline would send: for demos, docs and conformance tests.

The timeline is written as FHIR R4 (``timelines_to_bundle``), then laid out as a FHIR server
would serve it: the Patient gets its id, every resource an id and a ``Patient/<id>`` subject,
and each prefetch key holds a ``searchset`` Bundle of exactly what its query selects (``null``
when it selects nothing, as the spec asks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crswatch.io.fhir import timelines_to_bundle
from crswatch.timeline import Timeline

__all__ = ["prefetch_for"]

_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_OBSERVATION_KEYS = {
    "vital-signs": "vitalSigns",
    "laboratory": "laboratory",
    "survey": "assessments",
    "exam": "assessments",
}
_RESOURCE_KEYS = {
    "MedicationAdministration": "medicationAdministrations",
    "Procedure": "procedures",
    "DeviceUseStatement": "devices",
}


def _key(resource: Mapping[str, Any]) -> str | None:
    kind = resource.get("resourceType")
    if kind != "Observation":
        return _RESOURCE_KEYS.get(str(kind))
    for category in resource.get("category") or ():
        for coding in category.get("coding") or ():
            if coding.get("code") in _OBSERVATION_KEYS:
                return _OBSERVATION_KEYS[coding["code"]]
    return None


def prefetch_for(timeline: Timeline, fhir_id: str | None = None) -> tuple[str, dict[str, Any]]:
    """(the FHIR Patient.id, the prefetch object) for ``timeline``.

    ``fhir_id`` defaults to the crswatch patient id when it is a valid FHIR id.
    """
    patient_id = fhir_id or timeline.patient.id
    if not _FHIR_ID.match(patient_id):
        raise ValueError(f"fhir_id={patient_id!r} is not a FHIR id ([A-Za-z0-9-.], 1-64)")
    bundle = timelines_to_bundle([timeline])
    entries = bundle["entry"]
    patient_url = entries[0]["fullUrl"]
    patient = dict(entries[0]["resource"], id=patient_id)
    grouped: dict[str, list[dict[str, Any]]] = {key: [] for key in _KEYS}
    for entry in entries[1:]:
        resource = dict(entry["resource"])
        resource["id"] = entry["fullUrl"].rsplit(":", 1)[-1]
        if resource.get("subject", {}).get("reference") == patient_url:
            resource["subject"] = {"reference": f"Patient/{patient_id}"}
        key = _key(resource)
        if key is not None:
            grouped[key].append(resource)
    prefetch: dict[str, Any] = {"patient": patient}
    for key, resources in grouped.items():
        prefetch[key] = (
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(resources),
                "entry": [
                    {"fullUrl": f"{r['resourceType']}/{r['id']}", "resource": r} for r in resources
                ],
            }
            if resources
            else None
        )
    return patient_id, prefetch


_KEYS = (
    "vitalSigns",
    "laboratory",
    "assessments",
    "medicationAdministrations",
    "procedures",
    "devices",
)
