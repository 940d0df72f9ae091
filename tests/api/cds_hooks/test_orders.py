"""order-select / order-sign: tocilizumab by the US label, corticosteroids by the rule set.

The label numbers asserted here are ACTEMRA's (US prescribing information, CRS indication):
8 mg/kg from 30 kg (12 mg/kg below), at most 800 mg per infusion, repeat doses at least 8 h
apart, at most 3 in 24 h and 4 in total (clinical-criteria §4.2, §6.3 D40).
"""

from __future__ import annotations

import copy
import math
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from crswatch.management import Recommendation, dexamethasone_equivalent, recommend
from crswatch.timeline import Timeline, format_time
from tests.api.cds_hooks.conformance import check_response
from tests.api.cds_hooks.conftest import CLOCK, Cds

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CODES = {"tocilizumab": "612865", "dexamethasone": "3264", "methylprednisolone": "6902"}
SIGN = "crswatch-order-sign"
SELECT = "crswatch-order-select"


def label_dose(weight_kg: float) -> float:
    # Actemra label: 12 mg/kg under 30 kg, 8 mg/kg from 30 kg, at most 800 mg; written in whole
    # milligrams, half up (decision 0033).
    per_kg = 12.0 if weight_kg < 30 else 8.0
    return float(min(800, math.floor(per_kg * weight_kg + 0.5)))


def med_request(
    drug: str,
    amount: float,
    unit: str = "mg",
    *,
    every_h: float | None = None,
    count: int | None = None,
    authored: datetime = CLOCK,
    rid: str | None = None,
    patient: str = "x",
) -> dict[str, Any]:
    dosage: dict[str, Any] = {
        "doseAndRate": [
            {
                "doseQuantity": {
                    "value": amount,
                    "unit": unit,
                    "system": "http://unitsofmeasure.org",
                    "code": unit,
                }
            }
        ],
        "route": {"text": "IV"},
    }
    repeat: dict[str, Any] = {}
    if every_h is not None:
        repeat |= {"frequency": 1, "period": every_h, "periodUnit": "h"}
    if count is not None:
        repeat["count"] = count
    if repeat:
        dosage["timing"] = {"repeat": repeat}
    return {
        "resourceType": "MedicationRequest",
        "id": rid or f"draft-{uuid.uuid4().hex[:12]}",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": CODES[drug], "display": drug}],
            "text": drug,
        },
        "subject": {"reference": f"Patient/{patient}"},
        "authoredOn": format_time(authored),
        "dosageInstruction": [dosage],
    }


def order_body(
    hook: str,
    patient_id: str,
    prefetch: dict[str, Any],
    *orders: dict[str, Any],
    select: list[str] | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "userId": "Practitioner/example",
        "patientId": patient_id,
        "draftOrders": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": order} for order in orders],
        },
    }
    if hook == "order-select":
        context["selections"] = (
            select if select is not None else [f"MedicationRequest/{o['id']}" for o in orders]
        )
    return {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        "prefetch": prefetch,
    }


@pytest.fixture(scope="module")
def advice(ward: list[Timeline]) -> dict[str, Recommendation]:
    """The management engine's view of each demo patient at the clock (public API)."""
    return {t.patient.id: recommend(t, CLOCK) for t in ward}


def _patient(advice: dict[str, Recommendation], test: Any) -> str:
    for pid, rec in advice.items():
        if test(rec):
            return pid
    pytest.fail("no demo patient fits this test")


def _cards(cds: Cds, service: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = cds.call(service, body)
    assert response.status_code == 200, response.text
    return check_response(response.json())


def _free_for_tocilizumab(rec: Recommendation) -> bool:
    return rec.facts.weight_kg is not None and not rec.facts.tocilizumab_given


def test_label_dose_agrees_no_card(
    cds: Cds, advice: dict[str, Recommendation], prefetches: dict[str, Any]
) -> None:
    pid = _patient(advice, _free_for_tocilizumab)
    weight = advice[pid].facts.weight_kg
    assert weight is not None
    order = med_request("tocilizumab", label_dose(weight), every_h=8, count=1)
    for hook, service in (("order-sign", SIGN), ("order-select", SELECT)):
        assert _cards(cds, service, order_body(hook, pid, prefetches[pid], order)) == []


def test_dose_above_label_gets_the_label_dose_as_suggestion(
    cds: Cds, advice: dict[str, Recommendation], prefetches: dict[str, Any]
) -> None:
    pid = _patient(advice, _free_for_tocilizumab)
    weight = advice[pid].facts.weight_kg
    assert weight is not None
    allowed = label_dose(weight)
    order = med_request("tocilizumab", allowed + 100, every_h=8, count=1)
    (card,) = _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], order))
    assert card["indicator"] == "warning"
    assert f"allowed {allowed:g} mg" in card["summary"]
    assert card["selectionBehavior"] == "at-most-one"
    (suggestion,) = card["suggestions"]
    (action,) = suggestion["actions"]
    assert action["type"] == "update"
    corrected = action["resource"]
    assert corrected["id"] == order["id"]
    quantity = corrected["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    assert quantity == {
        "value": allowed,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }
    # The rest of the order is kept.
    assert corrected["dosageInstruction"][0]["route"] == {"text": "IV"}
    assert corrected["medicationCodeableConcept"] == order["medicationCodeableConcept"]
    assert "ACTEMRA" in card["detail"]


def test_800_mg_cap(
    cds: Cds, advice: dict[str, Recommendation], prefetches: dict[str, Any]
) -> None:
    pid = _patient(advice, _free_for_tocilizumab)
    order = med_request("tocilizumab", 1200)
    (card,) = _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], order))
    assert "exceeds 800 mg per infusion" in card["detail"]


def test_mg_per_kg_orders_are_converted(
    cds: Cds, advice: dict[str, Recommendation], prefetches: dict[str, Any]
) -> None:
    pid = _patient(advice, _free_for_tocilizumab)
    agreeing = med_request("tocilizumab", 8, "mg/kg")
    assert _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], agreeing)) == []
    too_much = med_request("tocilizumab", 12, "mg/kg")
    (card,) = _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], too_much))
    assert card["indicator"] == "warning"


def test_interval_and_count_disagreements(
    cds: Cds, advice: dict[str, Recommendation], prefetches: dict[str, Any]
) -> None:
    pid = _patient(advice, _free_for_tocilizumab)
    weight = advice[pid].facts.weight_kg
    assert weight is not None
    order = med_request("tocilizumab", label_dose(weight), every_h=6, count=5)
    (card,) = _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], order))
    assert "ordered every 6 h; doses must be at least 8 h apart" in card["detail"]
    assert "5 doses ordered, 0 already given; at most 4 in total" in card["detail"]
    repeat = card["suggestions"][0]["actions"][0]["resource"]["dosageInstruction"][0]["timing"][
        "repeat"
    ]
    assert repeat == {"frequency": 1, "period": 8.0, "periodUnit": "h", "count": 4}


def test_too_soon_after_the_last_dose_is_critical(
    cds: Cds, advice: dict[str, Recommendation], prefetches: dict[str, Any]
) -> None:
    pid = _patient(advice, lambda r: r.facts.weight_kg is not None and r.facts.tocilizumab_given)
    rec = advice[pid]
    assert rec.facts.weight_kg is not None
    last = rec.facts.tocilizumab_given[-1]
    order = med_request(
        "tocilizumab", label_dose(rec.facts.weight_kg), authored=last + timedelta(hours=2)
    )
    (card,) = _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], order))
    assert card["indicator"] == "critical"
    ready = format_time(last + timedelta(hours=8))
    assert f"next dose allowed at {ready}" in card["summary"]
    (action,) = card["suggestions"][0]["actions"]
    assert action == {
        "type": "delete",
        "description": action["description"],
        "resourceId": f"MedicationRequest/{order['id']}",
    }


def test_no_weight_is_said_not_guessed(
    cds: Cds, advice: dict[str, Recommendation], prefetches: dict[str, Any]
) -> None:
    pid = _patient(advice, _free_for_tocilizumab)
    prefetch = copy.deepcopy(prefetches[pid])
    patient = prefetch["patient"]
    patient["extension"] = [e for e in patient["extension"] if not e["url"].endswith("weight-kg")]
    vitals = prefetch["vitalSigns"]
    vitals["entry"] = [
        e
        for e in vitals["entry"]
        if not any(c.get("code") == "29463-7" for c in e["resource"]["code"]["coding"])
    ]
    order = med_request("tocilizumab", 500)
    (card,) = _cards(cds, SIGN, order_body("order-sign", pid, prefetch, order))
    assert card["indicator"] == "info"
    assert "no body weight is documented" in card["summary"]
    assert "suggestions" not in card


def test_order_select_checks_only_the_selected_orders(
    cds: Cds, advice: dict[str, Recommendation], prefetches: dict[str, Any]
) -> None:
    pid = _patient(advice, _free_for_tocilizumab)
    wrong = med_request("tocilizumab", 2000)
    other = med_request("tocilizumab", 100)
    body = order_body(
        "order-select",
        pid,
        prefetches[pid],
        wrong,
        other,
        select=[f"MedicationRequest/{other['id']}"],
    )
    assert _cards(cds, SELECT, body) == []
    body = order_body("order-select", pid, prefetches[pid], wrong, other)
    assert len(_cards(cds, SELECT, body)) == 1
    # order-sign looks at every draft order.
    body = order_body("order-sign", pid, prefetches[pid], wrong, other)
    assert len(_cards(cds, SIGN, body)) == 1


def _steroid_patient(advice: dict[str, Recommendation], drug: str) -> tuple[str, float]:
    for pid, rec in advice.items():
        for action in rec.actions:
            if (
                action.category == "corticosteroid"
                and action.dose is not None
                and action.dose.drug == drug
            ):
                return pid, action.dose.dose_mg
    pytest.fail(f"no demo patient has a {drug} recommendation")


def test_corticosteroid_at_the_recommended_dose_agrees(
    cds: Cds, advice: dict[str, Recommendation], prefetches: dict[str, Any]
) -> None:
    pid, mg = _steroid_patient(advice, "dexamethasone")
    order = med_request("dexamethasone", mg, every_h=6)
    assert _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], order)) == []
    taper = med_request("dexamethasone", mg / 2, every_h=12)
    assert _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], taper)) == []


def test_corticosteroid_above_the_rule_set_dose(
    cds: Cds, advice: dict[str, Recommendation], prefetches: dict[str, Any]
) -> None:
    pid, mg = _steroid_patient(advice, "dexamethasone")
    order = med_request("dexamethasone", mg * 4, every_h=6)
    (card,) = _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], order))
    assert card["indicator"] == "warning"
    action = card["suggestions"][0]["actions"][0]
    dose = action["resource"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"]
    assert dose == mg
    # Another corticosteroid is compared as dexamethasone equivalent (FDA equivalence table:
    # 0.75 mg dexamethasone = 4 mg methylprednisolone).
    allowed_mp = round(dexamethasone_equivalent("dexamethasone", mg) * 4.0 / 0.75, 1)
    heavy = med_request("methylprednisolone", allowed_mp * 3)
    (card,) = _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], heavy))
    value = card["suggestions"][0]["actions"][0]["resource"]["dosageInstruction"][0]["doseAndRate"][
        0
    ]["doseQuantity"]["value"]
    assert value == pytest.approx(allowed_mp)
    light = med_request("methylprednisolone", allowed_mp)
    assert _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], light)) == []


def test_corticosteroid_without_indication_is_info(
    cds: Cds, advice: dict[str, Recommendation], prefetches: dict[str, Any]
) -> None:
    pid = _patient(advice, lambda r: not any(a.category == "corticosteroid" for a in r.actions))
    order = med_request("dexamethasone", 10)
    (card,) = _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], order))
    assert card["indicator"] == "info"
    assert "premedication" in card["detail"]
    assert advice[pid].ruleset.citation in card["detail"]


def test_unchecked_unit_is_info_and_other_drugs_are_ignored(
    cds: Cds, advice: dict[str, Recommendation], prefetches: dict[str, Any]
) -> None:
    pid = _patient(advice, _free_for_tocilizumab)
    volume = med_request("tocilizumab", 20, "mL")
    (card,) = _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], volume))
    assert card["indicator"] == "info" and "'mL' is not a mass" in card["detail"]
    other = med_request("tocilizumab", 10)
    other["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": "161"}]}
    assert _cards(cds, SIGN, order_body("order-sign", pid, prefetches[pid], other)) == []


def test_order_hooks_need_draft_orders(cds: Cds, prefetches: dict[str, Any]) -> None:
    pid, prefetch = next(iter(prefetches.items()))
    body = order_body("order-sign", pid, prefetch)
    del body["context"]["draftOrders"]
    response = cds.call(SIGN, body)
    assert response.status_code == 400
    assert response.json()["error"]["issues"][0]["field"] == "context.draftOrders"
    body = order_body("order-select", pid, prefetch)
    del body["context"]["selections"]
    response = cds.call(SELECT, body)
    assert response.json()["error"]["issues"][0]["field"] == "context.selections"
