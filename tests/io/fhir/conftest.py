"""Builders for small FHIR R4 Bundles, and a timeline that uses the whole vocabulary."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crswatch.io import read_json_document
from crswatch.timeline import Timeline, vocabulary

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
THERAPY = "urn:crswatch:fhir:extension:therapy"
PATIENT_URL = "urn:uuid:00000000-0000-4000-8000-000000000001"


def patient(
    resource_id: str = "p1",
    *,
    full_url: str = PATIENT_URL,
    therapy: bool = True,
    weight_kg: float | None = 68.0,
) -> dict[str, Any]:
    """A Patient entry with the crswatch therapy extension (and a weight, unless None)."""
    extension: list[dict[str, Any]] = []
    if weight_kg is not None:
        extension.append(
            {
                "url": "urn:crswatch:fhir:extension:weight-kg",
                "valueQuantity": {"value": weight_kg, "system": UCUM, "code": "kg"},
            }
        )
    if therapy:
        extension.append(
            {
                "url": THERAPY,
                "extension": [
                    {"url": "kind", "valueCode": "car_t"},
                    {"url": "start", "valueDateTime": "2024-03-01T10:00:00Z"},
                ],
            }
        )
    resource: dict[str, Any] = {"resourceType": "Patient", "id": resource_id, "gender": "female"}
    if extension:
        resource["extension"] = extension
    return {"fullUrl": full_url, "resource": resource}


def quantity(value: float, code: str, **more: Any) -> dict[str, Any]:
    return {"value": value, "unit": code, "system": UCUM, "code": code, **more}


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def observation(
    resource_id: str,
    code: str,
    *,
    system: str = LOINC,
    time: str = "2024-03-02T08:00:00Z",
    subject: str = PATIENT_URL,
    **more: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id,
        "status": "final",
        "code": concept(system, code),
        "subject": {"reference": subject},
        "effectiveDateTime": time,
        **more,
    }
    return {"fullUrl": f"urn:uuid:{resource_id}", "resource": resource}


def medication_administration(
    resource_id: str,
    rxnorm: str,
    dosage: dict[str, Any],
    *,
    subject: str = PATIENT_URL,
    **timing: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": resource_id,
        "status": "completed",
        "medicationCodeableConcept": concept(RXNORM, rxnorm),
        "subject": {"reference": subject},
        "dosage": dosage,
        **(timing or {"effectiveDateTime": "2024-03-02T12:00:00Z"}),
    }
    return {"fullUrl": f"urn:uuid:{resource_id}", "resource": resource}


def bundle(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": list(entries)}


def _mid(low: float | None, high: float | None) -> float:
    if low is None or high is None:
        return 1.0
    return round((low + high) / 2, 3)


def full_vocabulary_events() -> list[dict[str, Any]]:
    """Every item of the vocabulary, every value of every coded item, and every optional field.

    Each event has its own minute, so no two events of one item share a time (a conflict).
    """
    events: list[dict[str, Any]] = []
    clock = datetime(2024, 3, 2, 0, 0, tzinfo=UTC)

    def add(item: str, value: Any, **more: Any) -> dict[str, Any]:
        nonlocal clock
        clock += timedelta(minutes=7)
        event = {"time": clock.isoformat(), "item": item, "value": value, **more}
        events.append(event)
        return event

    for spec in vocabulary().values():
        if spec.kind == "quantity":
            for unit in spec.units:  # il2r in pg/mL and U/mL, d_dimer FEU and DDU
                add(spec.name, _mid(spec.low, spec.high), unit=unit)
        elif spec.kind == "code":
            for value in spec.values:
                add(spec.name, value)
        elif spec.kind == "boolean":
            add(spec.name, True)
            add(spec.name, False)
        elif spec.kind == "score":
            add(spec.name, int(spec.high or 0))
            add(spec.name, "not_assessed")
        else:
            add(spec.name, 2.0, unit="10*6/kg")
            add(spec.name, 5e8, unit="cells")  # free text, not UCUM
            add(spec.name, "two bags")
    # The optional fields, on the items they are used with.
    add("crp", 12.5, unit="mg/L", ref_low=0, ref_high=5, id="lab-1", source="LIS")
    add("il6", 1.5, unit="pg/mL", censored="below_lod")
    add("ferritin", 100000, unit="ng/mL", censored="above_uloq", ref_high=300)
    add("temperature", 39.1, unit="Cel", cause="other", id="vitals/77", source="monitor bed 4")
    add("norepinephrine", 5, unit="ug/min", end=(clock + timedelta(hours=6)).isoformat())
    add("blinatumomab", 9, unit="ug/d", end=(clock + timedelta(days=7)).isoformat(), id="blina-1")
    add("o2_device", "high_flow_nasal_cannula", end=(clock + timedelta(hours=3)).isoformat())
    add("sedation", True, end=(clock + timedelta(hours=2)).isoformat(), source="MAR")
    add("death", True, cause="other")
    add("ice_score", 7, id="ice-1")
    add("tocilizumab", 544, unit="mg", source="MAR", id="toci-1")
    return events


FULL_PATIENT: dict[str, Any] = {
    "id": "P-FULL",
    "birth_date": "1983-05-17",
    "age_years": 40.8,
    "weight_kg": 72.5,
    "height_cm": 171,
    "bsa_m2": 1.85,
    "sex": "male",
    "high_risk": True,
    "therapy": {
        "kind": "car_t",
        "product": "axicabtagene ciloleucel",
        "start": "2024-03-01T10:00:00Z",
    },
}


def full_timeline(events: list[dict[str, Any]] | None = None) -> Timeline:
    document = {
        "format": "crswatch.timeline/1",
        "patient": json.loads(json.dumps(FULL_PATIENT)),
        "events": full_vocabulary_events() if events is None else events,
    }
    result = read_json_document(document, "full-vocabulary")
    assert result.report.ok, [issue.message for issue in result.report.issues]
    return result.timelines[0]


@pytest.fixture(scope="session")
def full() -> Timeline:
    """A timeline using every vocabulary item and every optional event field."""
    return full_timeline()
