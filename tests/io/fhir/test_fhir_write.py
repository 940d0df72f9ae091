"""Writing timelines as FHIR R4 Bundles: valid R4, standard and local codes, stable fullUrls."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from crswatch.io import read_json_document
from crswatch.io.fhir import read_bundle, timelines_to_bundle
from crswatch.timeline import Timeline
from tests.io.fhir.conftest import full_timeline


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _with_item(bundle: dict[str, Any], item: str) -> list[dict[str, Any]]:
    found = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        concept = resource.get("code") or resource.get("medicationCodeableConcept") or {}
        category = resource.get("category") if resource["resourceType"] == "Procedure" else None
        for coding in concept.get("coding", []) + (category or {}).get("coding", []):
            if coding == {"system": "urn:crswatch:item", "code": item}:
                found.append(resource)
    return found


@pytest.fixture(scope="module")
def written(full: Timeline) -> dict[str, Any]:
    return timelines_to_bundle([full])


def test_output_is_a_valid_r4_collection_bundle(written: dict[str, Any]) -> None:
    # fhir.resources has no R4 package; R4B is identical to R4 for these five resource types.
    Bundle.model_validate(written)
    assert written["type"] == "collection"
    urls = [entry["fullUrl"] for entry in written["entry"]]
    assert len(set(urls)) == len(urls)
    assert all(url.startswith("urn:uuid:") for url in urls)


def test_every_event_refers_to_its_patient(written: dict[str, Any]) -> None:
    (patient_entry,) = [e for e in written["entry"] if e["resource"]["resourceType"] == "Patient"]
    others = [e["resource"] for e in written["entry"] if e is not patient_entry]
    assert {r["subject"]["reference"] for r in others} == {patient_entry["fullUrl"]}


def test_observations_carry_loinc_beside_the_local_code(written: dict[str, Any]) -> None:
    (temperature, *_) = _with_item(written, "temperature")
    assert temperature["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "8310-5",
        "display": "Body temperature",
    }
    assert temperature["valueQuantity"]["system"] == "http://unitsofmeasure.org"
    assert temperature["category"][0]["coding"][0]["code"] == "vital-signs"


def test_censored_and_reference_range_use_observation_elements(written: dict[str, Any]) -> None:
    ferritin = [r for r in _with_item(written, "ferritin") if "referenceRange" in r]
    (resource,) = ferritin
    assert resource["valueQuantity"]["comparator"] == ">"
    assert resource["referenceRange"] == [
        {
            "high": {
                "value": 300.0,
                "unit": "ng/mL",
                "system": "http://unitsofmeasure.org",
                "code": "ng/mL",
            }
        }
    ]


def test_infusions_are_rates_and_doses_are_doses(written: dict[str, Any]) -> None:
    (infusion, *_) = _with_item(written, "norepinephrine")
    assert infusion["resourceType"] == "MedicationAdministration"
    assert infusion["dosage"]["rateQuantity"]["code"] == "ug/min"
    assert infusion["medicationCodeableConcept"]["coding"][0]["code"] == "7512"
    (dose, *_) = _with_item(written, "tocilizumab")
    assert dose["dosage"]["dose"]["code"] == "mg"


def test_a_drug_class_is_not_labelled_as_one_of_its_drugs(written: dict[str, Any]) -> None:
    # antipyretic maps to acetaminophen *and* ibuprofen: naming either would be false.
    (antipyretic,) = _with_item(written, "antipyretic")
    assert antipyretic["medicationCodeableConcept"]["coding"] == [
        {"system": "urn:crswatch:item", "code": "antipyretic"}
    ]


def test_codes_are_chosen_by_unit(written: dict[str, Any]) -> None:
    il2r = {r["valueQuantity"]["code"]: r["code"]["coding"] for r in _with_item(written, "il2r")}
    assert il2r["pg/mL"][0]["code"] == "76039-7"  # the mass-concentration term
    assert il2r["U/mL"] == [{"system": "urn:crswatch:item", "code": "il2r"}]
    d_dimer = {
        r["valueQuantity"]["code"]: r["code"]["coding"] for r in _with_item(written, "d_dimer")
    }
    assert d_dimer["ug/mL{FEU}"][0]["code"] == "48065-7"
    assert "48065-7" not in {coding["code"] for coding in d_dimer["ug/mL{DDU}"]}


def test_respiratory_support_is_a_procedure(written: dict[str, Any]) -> None:
    procedures = _resources(written, "Procedure")
    by_value = {p["code"]["text"]: p for p in procedures}
    assert set(by_value) >= {"nasal_cannula", "room_air", "mechanical_ventilation"}
    cannula = by_value["nasal_cannula"]["code"]["coding"]
    assert cannula == [
        {"system": "http://snomed.info/sct", "code": "371907003", "display": cannula[0]["display"]},
        {"system": "urn:crswatch:value", "code": "nasal_cannula"},
    ]
    with_end = [p for p in procedures if "performedPeriod" in p]
    assert with_end and all(p["status"] == "completed" for p in with_end)


def test_patient_fields_without_elements_are_extensions(written: dict[str, Any]) -> None:
    (patient,) = _resources(written, "Patient")
    urls = {extension["url"] for extension in patient["extension"]}
    assert urls == {
        "urn:crswatch:fhir:extension:" + name
        for name in ("age-years", "high-risk", "weight-kg", "height-cm", "bsa-m2", "therapy")
    }
    assert (patient["gender"], patient["birthDate"]) == ("male", "1983-05-17")
    weights = [
        o for o in _resources(written, "Observation") if o["code"]["coding"][0]["code"] == "29463-7"
    ]
    assert [w["valueQuantity"]["value"] for w in weights] == [72.5]


def test_scores_and_codes_use_fhir_value_types(written: dict[str, Any]) -> None:
    scores = _with_item(written, "ice_score")
    assert {"valueInteger", "dataAbsentReason"} <= {k for s in scores for k in s}
    (alert, *_) = [
        r
        for r in _with_item(written, "consciousness")
        if r["valueCodeableConcept"]["text"] == "alert"
    ]
    assert alert["valueCodeableConcept"]["coding"] == [
        {"system": "urn:crswatch:value", "code": "alert"}
    ]
    assert {r["valueBoolean"] for r in _with_item(written, "splenomegaly")} == {True, False}


def test_fields_without_an_element_go_in_extensions() -> None:
    document = {
        "format": "crswatch.timeline/1",
        "patient": {"id": "P", "therapy": {"kind": "car_t", "start": "2024-03-01T10:00:00Z"}},
        "events": [
            {
                "time": "2024-03-02T10:00:00Z",
                "item": "tocilizumab",
                "value": 8,
                "unit": "mg",
                "ref_low": 1,
                "ref_high": 800,
                "censored": "above_uloq",
            },
        ],
    }
    (timeline,) = read_json_document(document).timelines
    bundle = timelines_to_bundle([timeline])
    (resource,) = _resources(bundle, "MedicationAdministration")
    assert {e["url"].rsplit(":", 1)[1] for e in resource["extension"]} == {
        "censored",
        "reference-range",
    }
    assert read_bundle(bundle).timelines == [timeline]


def test_fullurls_are_stable_and_distinct_per_patient() -> None:
    first = full_timeline(events=[])
    a = timelines_to_bundle([first])
    b = timelines_to_bundle([first, first])
    assert a["entry"][0]["fullUrl"] == b["entry"][0]["fullUrl"]
    urls = [entry["fullUrl"] for entry in b["entry"]]
    assert len(set(urls)) == len(urls)
    assert json.dumps(a) == json.dumps(timelines_to_bundle([first]))
