"""Reading FHIR R4 Bundles: each resource type, unit conversion, and everything that is reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crswatch.errors import TimelineFormatError
from crswatch.io import read_path
from crswatch.io.fhir import read_bundle
from crswatch.timeline import ReadResult
from tests.io.fhir.conftest import (
    LOINC,
    PATIENT_URL,
    SNOMED,
    UCUM,
    bundle,
    concept,
    medication_administration,
    observation,
    patient,
    quantity,
)


def _read(*entries: dict[str, Any], ok: bool = True) -> ReadResult:
    result = read_bundle(bundle(*entries), "test-bundle")
    if ok:
        assert result.report.ok, [issue.message for issue in result.report.issues]
    return result


def _only_event(result: ReadResult) -> Any:
    (timeline,) = result.timelines
    (event,) = timeline.events
    return event


# ------------------------------------------------------------------------ Observation


def test_temperature_in_fahrenheit_is_converted() -> None:
    entry = observation("t-1", "8310-5", valueQuantity=quantity(101.3, "[degF]"))
    event = _only_event(_read(patient(), entry))
    assert (event.item, event.unit, event.id) == ("temperature", "Cel", "Observation/t-1")
    assert event.value == pytest.approx(38.5)
    assert (event.original_value, event.original_unit) == (101.3, "[degF]")


def test_crp_in_mg_per_dl_is_converted_with_its_reference_range() -> None:
    entry = observation(
        "crp-1",
        "1988-5",
        valueQuantity=quantity(12.5, "mg/dL"),
        referenceRange=[{"low": quantity(0, "mg/dL"), "high": quantity(0.5, "mg/dL")}],
    )
    result = _read(patient(), entry)
    event = _only_event(result)
    assert (event.item, event.value, event.unit) == ("crp", 125.0, "mg/L")
    assert (event.ref_low, event.ref_high) == (0.0, 5.0)
    assert result.report.conversions == {"crp: mg/dL -> mg/L": 1}


def test_blood_pressure_panel_gives_two_events() -> None:
    entry = observation(
        "bp-1",
        "85354-9",
        component=[
            {"code": concept(LOINC, "8480-6"), "valueQuantity": quantity(84, "mm[Hg]")},
            {"code": concept(LOINC, "8462-4"), "valueQuantity": quantity(45, "mm[Hg]")},
        ],
    )
    (timeline,) = _read(patient(), entry).timelines
    assert [(e.item, e.value, e.id) for e in timeline.events] == [
        ("dbp", 45.0, "Observation/bp-1"),
        ("sbp", 84.0, "Observation/bp-1"),
    ]


def test_us_core_pulse_oximetry_gives_saturation_flow_and_fio2() -> None:
    entry = observation(
        "satO2-fiO2",
        "2708-6",
        valueQuantity=quantity(91, "%"),
        component=[
            {"code": concept(LOINC, "3151-8"), "valueQuantity": quantity(6, "L/min")},
            {"code": concept(LOINC, "3150-0"), "valueQuantity": quantity(40, "%")},
        ],
    )
    # US Core requires both codings; they name the same item.
    entry["resource"]["code"]["coding"].append({"system": LOINC, "code": "59408-5"})
    (timeline,) = _read(patient(), entry).timelines
    assert {(e.item, e.value, e.unit) for e in timeline.events} == {
        ("spo2", 91.0, "%"),
        ("o2_flow", 6.0, "L/min"),
        ("fio2", 40.0, "%"),
    }


def test_oxygen_delivery_method_reads_a_snomed_device_answer() -> None:
    entry = observation(
        "o2-1", "107117-4", valueCodeableConcept=concept(SNOMED, "426854004", "High flow cannula")
    )
    event = _only_event(_read(patient(), entry))
    assert (event.item, event.value) == ("o2_device", "high_flow_nasal_cannula")


def test_censored_values_use_the_quantity_comparator() -> None:
    below = observation("il6-1", "26881-3", valueQuantity=quantity(1.5, "pg/mL", comparator="<"))
    above = observation("fer-1", "2276-4", valueQuantity=quantity(100000, "ng/mL", comparator=">"))
    (timeline,) = _read(patient(), below, above).timelines
    assert {(e.item, e.censored) for e in timeline.events} == {
        ("il6", "below_lod"),
        ("ferritin", "above_uloq"),
    }


def test_d_dimer_feu_code_supplies_the_annotation() -> None:
    entry = observation("dd-1", "48065-7", valueQuantity=quantity(1200, "ng/mL"))
    result = _read(patient(), entry)
    event = _only_event(result)
    assert (event.item, event.value, event.unit) == ("d_dimer", 1.2, "ug/mL{FEU}")
    assert result.report.warnings == []  # no "assumed FEU": the LOINC term says it


def test_crswatch_extensions_and_identifier_are_read() -> None:
    entry = observation(
        "t-2",
        "8310-5",
        valueQuantity=quantity(39.0, "Cel"),
        identifier=[{"system": "urn:crswatch:event-id", "value": "vitals-9"}],
        extension=[{"url": "urn:crswatch:fhir:extension:cause", "valueCode": "other"}],
        meta={"source": "urn:system:monitor"},
    )
    event = _only_event(_read(patient(), entry))
    assert (event.id, event.cause, event.source) == ("vitals-9", "other", "urn:system:monitor")


def test_score_not_performed_is_not_assessed() -> None:
    entry = observation(
        "ice-1",
        "ice_score",
        system="urn:crswatch:item",
        dataAbsentReason=concept(
            "http://terminology.hl7.org/CodeSystem/data-absent-reason", "not-performed"
        ),
    )
    assert _only_event(_read(patient(), entry)).value == "not_assessed"


# ------------------------------------------------------------- MedicationAdministration


def test_ratio_rate_per_kg_is_converted_with_the_weight() -> None:
    rate = {
        "rateRatio": {
            "numerator": quantity(0.05, "ug/kg"),
            "denominator": quantity(1, "min"),
        }
    }
    entry = medication_administration(
        "ne-1",
        "7512",
        rate,
        effectivePeriod={"start": "2024-03-02T12:00:00Z", "end": "2024-03-02T18:00:00+01:00"},
    )
    event = _only_event(_read(patient(weight_kg=68.0), entry))
    assert (event.item, event.value, event.unit) == ("norepinephrine", 3.4, "ug/min")
    assert event.end.isoformat() == "2024-03-02T17:00:00+00:00"


def test_ratio_rate_in_micrograms_per_minute() -> None:
    rate = {"rateRatio": {"numerator": quantity(5, "ug"), "denominator": quantity(1, "min")}}
    event = _only_event(_read(patient(), medication_administration("ne-2", "7512", rate)))
    assert (event.item, event.value, event.unit) == ("norepinephrine", 5.0, "ug/min")


def test_volume_rate_is_not_a_vasopressor_rate() -> None:
    rate = {"rateQuantity": quantity(100, "mL/h")}
    result = _read(patient(), medication_administration("ne-3", "7512", rate), ok=False)
    (issue,) = result.report.issues
    assert (issue.kind, issue.field, issue.value) == ("wrong_dimension", "unit", "mL/h")
    assert issue.event_id == "MedicationAdministration/ne-3"
    assert result.report.events_rejected == 1


def test_bolus_dose_and_a_referenced_medication() -> None:
    medication = {
        "fullUrl": "urn:uuid:med-toci",
        "resource": {
            "resourceType": "Medication",
            "id": "toci",
            "code": concept("http://www.nlm.nih.gov/research/umls/rxnorm", "612865"),
        },
    }
    entry = medication_administration("toci-1", "0", {"dose": quantity(544, "mg")})
    del entry["resource"]["medicationCodeableConcept"]
    entry["resource"]["medicationReference"] = {"reference": "Medication/toci"}
    event = _only_event(_read(patient(), medication, entry))
    assert (event.item, event.value, event.unit) == ("tocilizumab", 544.0, "mg")


def test_an_infusion_without_a_rate_is_reported() -> None:
    entry = medication_administration("ne-4", "7512", {"dose": quantity(5, "mg")})
    (issue,) = _read(patient(), entry, ok=False).report.issues
    assert (issue.kind, issue.field) == ("missing_field", "MedicationAdministration.dosage.rate[x]")


# --------------------------------------------------------------- respiratory support


def test_procedure_is_respiratory_support_with_an_end() -> None:
    entry = {
        "fullUrl": "urn:uuid:proc-1",
        "resource": {
            "resourceType": "Procedure",
            "id": "proc-1",
            "status": "completed",
            "code": concept(SNOMED, "371907003"),
            "subject": {"reference": "Patient/p1"},
            "performedPeriod": {"start": "2024-03-02T12:30:00Z", "end": "2024-03-02T20:00:00Z"},
        },
    }
    event = _only_event(_read(patient(), entry))
    assert (event.item, event.value) == ("o2_device", "nasal_cannula")
    assert event.end is not None and event.end.hour == 20


def test_device_use_statement_reads_the_device_type() -> None:
    device = {
        "fullUrl": "urn:uuid:dev-1",
        "resource": {"resourceType": "Device", "id": "dev-1", "type": concept(SNOMED, "427591007")},
    }
    statement = {
        "fullUrl": "urn:uuid:dus-1",
        "resource": {
            "resourceType": "DeviceUseStatement",
            "id": "dus-1",
            "status": "completed",
            "subject": {"reference": PATIENT_URL},
            "device": {"reference": "urn:uuid:dev-1"},
            "timingPeriod": {"start": "2024-03-02T12:30:00Z", "end": "2024-03-02T14:00:00Z"},
        },
    }
    event = _only_event(_read(patient(), device, statement))
    assert (event.item, event.value) == ("o2_device", "non_rebreather_mask")


def test_device_use_statement_with_a_contained_device() -> None:
    statement = {
        "resourceType": "DeviceUseStatement",
        "status": "active",
        "contained": [{"resourceType": "Device", "id": "d", "type": concept(SNOMED, "336623009")}],
        "subject": {"reference": PATIENT_URL},
        "device": {"reference": "#d"},
        "timingDateTime": "2024-03-02T12:30:00Z",
    }
    event = _only_event(_read(patient(), {"fullUrl": "urn:uuid:dus-2", "resource": statement}))
    assert (event.item, event.value, event.end) == ("o2_device", "nasal_cannula", None)


def test_dialysis_procedure_is_a_finding() -> None:
    entry = {
        "resource": {
            "resourceType": "Procedure",
            "status": "completed",
            "code": concept(SNOMED, "714749008"),
            "subject": {"reference": PATIENT_URL},
            "performedDateTime": "2024-03-04T09:00:00Z",
        }
    }
    event = _only_event(_read(patient(), entry))
    assert (event.item, event.value) == ("dialysis", True)


# ------------------------------------------------------------------ what is reported


def test_unknown_loinc_code_is_counted_and_reported() -> None:
    known = observation("t-1", "8310-5", valueQuantity=quantity(38, "Cel"))
    unknown = observation("x-1", "12345-6", valueQuantity=quantity(3, "mg/L"))
    also = observation(
        "x-2", "12345-6", valueQuantity=quantity(4, "mg/L"), time="2024-03-03T08:00:00Z"
    )
    result = _read(patient(), known, unknown, also, ok=False)
    assert result.report.unknown_codes == {"http://loinc.org|12345-6": 2}
    assert [issue.kind for issue in result.report.issues] == ["unknown_code", "unknown_code"]
    issue = result.report.issues[0]
    assert (issue.patient_id, issue.field, issue.event_id) == (
        "p1",
        "Observation.code",
        "Observation/x-1",
    )
    assert (result.report.events_read, result.report.events_rejected) == (3, 2)
    assert [event.item for event in result.timelines[0].events] == ["temperature"]


def test_time_without_offset_is_rejected_naming_resource_and_field() -> None:
    entry = observation(
        "t-9", "8310-5", time="2024-03-02T08:00:00", valueQuantity=quantity(38, "Cel")
    )
    result = _read(patient(), entry, ok=False)
    (issue,) = result.report.issues
    assert (issue.kind, issue.field, issue.value) == (
        "bad_time",
        "Observation.effectiveDateTime",
        "2024-03-02T08:00:00",
    )
    assert "Observation/t-9" in issue.message and "never guessed" in issue.message
    assert result.timelines[0].events == ()


@pytest.mark.parametrize(
    ("timing", "field"),
    [
        ({"effectiveDateTime": "2024-03-02"}, "Observation.effectiveDateTime"),
        ({"effectivePeriod": {"start": "2024-03-02T08:00"}}, "Observation.effectivePeriod.start"),
        ({"effectivePeriod": {"end": "2024-03-02T08:00:00Z"}}, "Observation.effectivePeriod.start"),
        ({"effectiveTiming": {"event": ["2024-03-02T08:00:00Z"]}}, "Observation.effectiveTiming"),
        ({}, "Observation.effective[x]"),
    ],
)
def test_times_that_cannot_place_an_event(timing: dict[str, Any], field: str) -> None:
    entry = observation("t-3", "8310-5", valueQuantity=quantity(38, "Cel"))
    del entry["resource"]["effectiveDateTime"]
    entry["resource"].update(timing)
    (issue,) = _read(patient(), entry, ok=False).report.issues
    assert issue.field == field


@pytest.mark.parametrize(
    ("change", "kind", "field"),
    [
        (
            {"valueQuantity": quantity(38, "Cel", comparator="<=")},
            "bad_value",
            "Observation.valueQuantity.comparator",
        ),
        (
            {"valueQuantity": {"value": 38, "system": "http://example.org/units", "code": "C"}},
            "unknown_unit",
            "Observation.valueQuantity.system",
        ),
        (
            {"valueQuantity": quantity(38, "Cel"), "valueString": "38"},
            "bad_value",
            "Observation.value[x]",
        ),
        (
            {
                "valueQuantity": quantity(38, "Cel"),
                "referenceRange": [{"high": quantity(100, "[degF]")}],
            },
            "bad_value",
            "Observation.referenceRange[0].high.code",
        ),
        (
            {
                "code": {
                    "coding": [
                        {"system": LOINC, "code": "8310-5"},
                        {"system": LOINC, "code": "8867-4"},
                    ]
                },
                "valueQuantity": quantity(38, "Cel"),
            },
            "bad_value",
            "Observation.code",
        ),
        ({"valueQuantity": quantity(101, "Cel")}, "out_of_bounds", "value"),
    ],
)
def test_observation_problems_are_issues(change: dict[str, Any], kind: str, field: str) -> None:
    entry = observation("t-4", "8310-5")
    entry["resource"].update(change)
    (issue,) = _read(patient(), entry, ok=False).report.issues
    assert (issue.kind, issue.field) == (kind, field)


def test_two_patients_are_grouped_by_subject() -> None:
    second_url = "http://example.org/fhir/Patient/p2"
    entries = [
        patient("p1"),
        patient("p2", full_url=second_url),
        observation("a", "8310-5", valueQuantity=quantity(38, "Cel")),
        observation("b", "8310-5", subject="Patient/p2", valueQuantity=quantity(39, "Cel")),
        observation("c", "8867-4", subject=second_url, valueQuantity=quantity(120, "/min")),
    ]
    result = _read(*entries)
    assert [t.patient.id for t in result.timelines] == ["p1", "p2"]
    assert [e.id for e in result.timelines[0].events] == ["Observation/a"]
    assert [e.id for e in result.timelines[1].events] == ["Observation/c", "Observation/b"]


def test_resources_without_a_patient_in_the_bundle_are_reported() -> None:
    lost = observation(
        "a", "8310-5", subject="Patient/elsewhere", valueQuantity=quantity(38, "Cel")
    )
    result = _read(patient(), lost, ok=False)
    (issue,) = result.report.issues
    assert (issue.patient_id, issue.field, issue.value) == (
        None,
        "Observation.subject.reference",
        "Patient/elsewhere",
    )
    assert result.report.events_rejected == 1


def test_unsupported_resources_and_statuses_are_named_in_warnings() -> None:
    encounter = {"resource": {"resourceType": "Encounter", "id": "e1"}}
    wrong = observation(
        "t-5", "8310-5", status="entered-in-error", valueQuantity=quantity(38, "Cel")
    )
    result = _read(patient(), encounter, wrong)
    assert result.report.unknown_codes == {"http://hl7.org/fhir/resource-types|Encounter": 1}
    assert any("1 Encounter resource(s) not read" in w for w in result.report.warnings)
    assert any("entered-in-error" in w and "Observation/t-5" in w for w in result.report.warnings)
    assert result.timelines[0].events == ()


def test_weight_from_an_observation_in_pounds() -> None:
    weight = observation(
        "w-1", "29463-7", time="2024-03-01T08:00:00Z", valueQuantity=quantity(150, "[lb_av]")
    )
    rate = {"rateQuantity": quantity(0.1, "ug/kg/min")}
    result = _read(patient(weight_kg=None), weight, medication_administration("ne-5", "7512", rate))
    (timeline,) = result.timelines
    assert timeline.patient.weight_kg == pytest.approx(68.0388555)
    assert timeline.events[0].value == pytest.approx(6.80388555)


def test_therapy_is_taken_from_the_car_t_infusion_when_not_given() -> None:
    infusion = medication_administration(
        "cart-1",
        "0",
        {"dose": {"value": 2, "unit": "10*6/kg"}},
        effectiveDateTime="2024-03-01T10:00:00Z",
    )
    infusion["resource"]["medicationCodeableConcept"] = concept(
        "urn:crswatch:item", "car_t_infusion"
    )
    result = _read(patient(therapy=False), infusion)
    therapy = result.timelines[0].patient.therapy
    assert (therapy.kind, therapy.start.isoformat()) == ("car_t", "2024-03-01T10:00:00+00:00")
    assert any("taken from the first car_t_infusion" in w for w in result.report.warnings)


def test_a_patient_without_therapy_is_rejected() -> None:
    entry = observation("t-6", "8310-5", valueQuantity=quantity(38, "Cel"))
    result = _read(patient(therapy=False), entry, ok=False)
    (issue,) = result.report.issues
    assert (issue.patient_id, issue.field) == ("p1", "therapy")
    assert (result.report.patients_rejected, result.report.events_rejected) == (1, 1)


@pytest.mark.parametrize(
    "document", [{"resourceType": "Patient"}, [], {"resourceType": "Bundle", "entry": {}}]
)
def test_documents_that_are_not_bundles(document: Any) -> None:
    with pytest.raises(TimelineFormatError):
        read_bundle(document, "x.json")


def test_a_bundle_file_is_read_by_path(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(
        json.dumps(
            bundle(patient(), observation("t-7", "8310-5", valueQuantity=quantity(38, "Cel")))
        )
    )
    result = read_path(path)
    assert result.report.source == str(path)
    assert [e.item for e in result.timelines[0].events] == ["temperature"]


def test_ucum_system_is_the_only_unit_system() -> None:
    entry = observation("t-8", "8310-5", valueQuantity={"value": 38, "system": UCUM, "code": "Cel"})
    assert _only_event(_read(patient(), entry)).value == 38.0


def test_a_hasmember_panel_is_read_through_its_members() -> None:
    member = observation("hr-1", "8867-4", valueQuantity=quantity(120, "/min"))
    panel = observation("vs-1", "85353-1", hasMember=[{"reference": "Observation/hr-1"}])
    result = _read(patient(), panel, member)
    assert [e.item for e in result.timelines[0].events] == ["heart_rate"]
    assert any("Observation/vs-1" in w and "hasMember" in w for w in result.report.warnings)


def test_a_patient_extension_in_a_wrong_unit_rejects_the_patient() -> None:
    entry = patient()
    entry["resource"]["extension"][0]["valueQuantity"] = quantity(150, "[stone_av]")
    result = _read(
        entry, observation("t-10", "8310-5", valueQuantity=quantity(38, "Cel")), ok=False
    )
    (issue,) = result.report.issues
    assert (issue.kind, issue.field, issue.value) == (
        "unknown_unit",
        "weight_kg.code",
        "[stone_av]",
    )
    assert (result.report.patients_rejected, result.report.events_rejected) == (1, 1)
