"""patient-view over the demo ward turned into prefetch payloads: conformance and content."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from crswatch.api.cds_hooks._cards import indicator_for
from crswatch.hlh import screen_timelines
from crswatch.scales import (
    ALL_SCALES,
    GradeResult,
    grade_notation,
    grade_on_record,
    grade_timelines,
)
from crswatch.store import AuditRecord
from crswatch.timeline import Timeline
from tests.api.cds_hooks.conformance import check_response
from tests.api.cds_hooks.conftest import CLOCK, ISSUER, Cds, patient_view

SERVICE = "crswatch-patient-view"


def _cards(cds: Cds, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = cds.call(SERVICE, body)
    assert response.status_code == 200, response.text
    return check_response(response.json())


def _expected_indicator(result: GradeResult) -> str:
    grade = grade_on_record(result.grade, result.status)
    if grade is not None:
        return "critical" if grade >= 3 else "warning" if grade >= 1 else "info"
    return "warning" if result.bounds[0] >= 1 or result.bounds[1] >= 3 else "info"


def test_every_demo_patient_gets_conformant_grade_cards(
    cds: Cds, ward: list[Timeline], prefetches: dict[str, Any]
) -> None:
    for timeline in ward:
        pid = timeline.patient.id
        cards = _cards(cds, patient_view(pid, prefetches[pid]))
        # The grades, computed here straight from the timeline (not through FHIR).
        expected = grade_timelines([timeline], at=CLOCK, scales=["astct2019", "icans.astct2019"])
        crs = expected[0].crs["astct2019"]
        icans = expected[0].icans["astct2019"]
        summaries = [card["summary"] for card in cards]
        for name, result in (("CRS", crs), ("ICANS", icans)):
            shown = grade_notation(result.grade, result.status, *result.bounds)
            matching = [c for c in cards if c["summary"].startswith(f"{name} grade {shown} on ")]
            assert len(matching) == 1, (pid, name, shown, summaries)
            card = matching[0]
            assert card["indicator"] == _expected_indicator(result)
            assert card["links"] == [
                {
                    "label": "Open the crswatch patient page",
                    "url": f"http://testserver/ward/patients/{pid}",
                    "type": "absolute",
                }
            ]
            scale = ALL_SCALES[f"{name.lower()}.astct2019"]
            assert scale.citation in card["detail"]
            deciding = result.deciding
            if deciding is not None:
                assert deciding.rule in card["detail"]


def test_grades_cover_the_range_of_the_ward(
    cds: Cds, ward: list[Timeline], prefetches: dict[str, Any]
) -> None:
    """The demo ward has patients on pressors, ventilated and with ICANS: all indicators."""
    indicators = set()
    for timeline in ward:
        pid = timeline.patient.id
        indicators |= {
            card["indicator"] for card in _cards(cds, patient_view(pid, prefetches[pid]))
        }
    assert indicators == {"info", "warning", "critical"}


def test_hlh_screen_met_is_a_critical_card(
    cds: Cds, ward: list[Timeline], prefetches: dict[str, Any]
) -> None:
    found = 0
    for timeline in ward:
        met = [
            r for r in screen_timelines([timeline], CLOCK)[0].results.values() if r.status == "met"
        ]
        cards = _cards(cds, patient_view(timeline.patient.id, prefetches[timeline.patient.id]))
        hlh = [c for c in cards if c["summary"].startswith("HLH/MAS screen positive")]
        assert len(hlh) == len(met)
        for screen in met:
            card = next(c for c in hlh if screen.title in c["summary"])
            assert card["indicator"] == "critical"
            assert card["source"]["topic"]["code"] == "hlh-screen"
        found += len(met)
    assert found >= 1, "the demo ward has an HLH/MAS patient (ward stage 'HLH/MAS')"


@pytest.mark.parametrize(
    ("status", "grade", "bounds", "indicator"),
    [
        ("graded", 0, (0, 0), "info"),
        ("graded", 2, (2, 2), "warning"),
        ("graded", 3, (3, 3), "critical"),
        ("provisional", 1, (1, 3), "warning"),
        ("provisional", 3, (3, 4), "critical"),
        ("ambiguous", None, (2, 3), "warning"),
        ("ambiguous", None, (0, 1), "info"),
        ("not_assessable", None, (0, 4), "warning"),
        ("not_assessable", None, (0, 2), "info"),
    ],
)
def test_indicator_by_grade_on_record(
    status: str, grade: int | None, bounds: tuple[int, int], indicator: str
) -> None:
    result = GradeResult("astct2019", "2019", CLOCK, grade, status, bounds)  # type: ignore[arg-type]
    assert indicator_for(result) == indicator


def test_missing_prefetch_key_is_named_and_cards_still_come(
    cds: Cds, prefetches: dict[str, Any]
) -> None:
    pid, prefetch = next(iter(prefetches.items()))
    partial = {k: v for k, v in prefetch.items() if k != "laboratory"}
    cards = _cards(cds, patient_view(pid, partial))
    grade_cards = [c for c in cards if " grade " in c["summary"]]
    assert grade_cards
    for card in grade_cards:
        assert "**Not received from the EHR**" in card["detail"]
        assert "laboratory results: not prefetched, and no FHIR server access" in card["detail"]


def test_operation_outcome_in_prefetch_counts_as_missing(
    cds: Cds, prefetches: dict[str, Any]
) -> None:
    pid, prefetch = next(iter(prefetches.items()))
    changed = dict(prefetch, vitalSigns={"resourceType": "OperationOutcome", "issue": []})
    cards = _cards(cds, patient_view(pid, changed))
    assert "vital signs: the EHR reported an error" in cards[0]["detail"]


def test_no_patient_and_no_fhir_server_is_412(cds: Cds, prefetches: dict[str, Any]) -> None:
    pid = next(iter(prefetches))
    response = cds.call(SERVICE, patient_view(pid, None))
    assert response.status_code == 412
    assert response.json()["error"]["issues"][0]["field"] == "prefetch"
    with cds.store.transaction() as session:
        last = session.execute(select(AuditRecord).order_by(AuditRecord.pk.desc())).scalar()
    assert last is not None and last.outcome == "failure" and last.patient_id == pid


def _fhir_server(prefetch: dict[str, Any], calls: list[httpx.Request]) -> httpx.MockTransport:
    """A FHIR server holding one patient: answers the prefetch queries, paging by 50."""
    queries = {
        "Patient": prefetch["patient"],
        "Observation?category=vital-signs": prefetch["vitalSigns"],
        "Observation?category=laboratory": prefetch["laboratory"],
        "Observation?category=survey,exam": prefetch["assessments"],
        "MedicationAdministration": prefetch["medicationAdministrations"],
        "Procedure": prefetch["procedures"],
        "DeviceUseStatement": prefetch["devices"],
    }

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.headers.get("Authorization") != "Bearer ehr-access-token":
            return httpx.Response(401)
        kind = request.url.path.rsplit("/", 2)
        if kind[-2] == "Patient":
            return httpx.Response(200, json=queries["Patient"])
        key = kind[-1]
        category = request.url.params.get("category")
        if category:
            key += f"?category={category}"
        found = queries[key] or {"resourceType": "Bundle", "type": "searchset", "entry": []}
        page = int(request.url.params.get("page", "0"))
        entries = found["entry"][page * 50 : (page + 1) * 50]
        body: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
        if (page + 1) * 50 < len(found["entry"]):
            following = request.url.copy_set_param("page", str(page + 1))
            body["link"] = [{"relation": "next", "url": str(following)}]
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


def test_fhir_server_fills_what_was_not_prefetched(cds: Cds, prefetches: dict[str, Any]) -> None:
    pid, prefetch = next(iter(prefetches.items()))
    full = _cards(cds, patient_view(pid, prefetch))
    calls: list[httpx.Request] = []
    cds.client.app.state.cds_hooks_fhir_transport = _fhir_server(prefetch, calls)  # type: ignore[attr-defined]
    body = patient_view(pid, {"patient": prefetch["patient"]})
    body["fhirServer"] = "https://ehr.example.org/fhir"
    body["fhirAuthorization"] = {
        "access_token": "ehr-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "user/Observation.read user/MedicationAdministration.read",
        "subject": "crswatch",
    }
    fetched = _cards(cds, body)
    # The same grades from the server as from the prefetch (uuids differ per card issued).
    assert [c["summary"] for c in fetched] == [c["summary"] for c in full]
    assert "Not received" not in fetched[0]["detail"]
    assert any("page=1" in str(call.url) for call in calls), "paging followed"
    assert not any(
        str(call.url).startswith("https://ehr.example.org/fhir/Patient") for call in calls
    )


def test_fhir_server_failure_is_a_note_not_a_500(cds: Cds, prefetches: dict[str, Any]) -> None:
    pid, prefetch = next(iter(prefetches.items()))
    cds.client.app.state.cds_hooks_fhir_transport = httpx.MockTransport(  # type: ignore[attr-defined]
        lambda request: httpx.Response(503)
    )
    body = patient_view(pid, {"patient": prefetch["patient"]})
    body["fhirServer"] = "https://ehr.example.org/fhir"
    body["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer"}
    cards = _cards(cds, body)
    assert "vital signs: the FHIR server answered HTTP 503" in cards[0]["detail"]


def test_plain_http_fhir_server_is_refused(cds: Cds, prefetches: dict[str, Any]) -> None:
    pid, prefetch = next(iter(prefetches.items()))
    body = patient_view(pid, {"patient": prefetch["patient"]})
    body["fhirServer"] = "http://ehr.example.org/fhir"
    body["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer"}
    cards = _cards(cds, body)
    assert "must be https" in cards[0]["detail"]


def test_unreadable_patient_gets_an_info_card(cds: Cds, prefetches: dict[str, Any]) -> None:
    pid, prefetch = next(iter(prefetches.items()))
    patient = copy.deepcopy(prefetch["patient"])
    patient["extension"] = []  # no therapy: crswatch cannot place the course
    cards = _cards(
        cds, patient_view(pid, {**prefetch, "patient": patient, "medicationAdministrations": None})
    )
    assert len(cards) == 1 and cards[0]["indicator"] == "info"
    assert "could not read this patient's record" in cards[0]["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hook": "order-sign"}, "hook"),
        ({"hookInstance": "not-a-uuid"}, "hookInstance"),
        ({"context": {"userId": "Practitioner/1"}}, "context.patientId"),
        ({"context": []}, "context"),
        ({"prefetch": ["x"]}, "prefetch"),
        ({"fhirAuthorization": {"access_token": "t", "token_type": "Bearer"}}, "fhirServer"),
    ],
)
def test_bad_requests_name_the_field(
    cds: Cds, prefetches: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    pid, prefetch = next(iter(prefetches.items()))
    body = patient_view(pid, prefetch) | change
    response = cds.call(SERVICE, body)
    assert response.status_code == 400
    assert response.json()["error"]["issues"][0]["field"] == field


def test_garbage_prefetch_never_500(cds: Cds, prefetches: dict[str, Any]) -> None:
    pid, prefetch = next(iter(prefetches.items()))
    for junk in (
        {"resourceType": "Bundle", "entry": "nope"},
        {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation"}}]},
        "text",
        42,
    ):
        response = cds.call(SERVICE, patient_view(pid, {**prefetch, "laboratory": junk}))
        assert response.status_code in (200, 412), response.text
        if response.status_code == 200:
            check_response(response.json())
    response = cds.call(
        SERVICE, patient_view(pid, {**prefetch, "patient": {"resourceType": "Patient"}})
    )
    assert response.status_code == 200
    check_response(response.json())


def test_unknown_service_is_404(cds: Cds) -> None:
    response = cds.client.post("/cds-services/nope", json={})
    assert response.status_code == 404


def test_calls_are_audited_with_the_issuer(cds: Cds, prefetches: dict[str, Any]) -> None:
    pid, prefetch = next(iter(prefetches.items()))
    body = patient_view(pid, prefetch)
    cards = _cards(cds, body)
    with cds.store.transaction() as session:
        last = session.execute(select(AuditRecord).order_by(AuditRecord.pk.desc())).scalar()
    assert last is not None
    assert (last.actor, last.role, last.action, last.outcome) == (
        ISSUER,
        "cds-client",
        "execute",
        "success",
    )
    assert last.patient_id == pid and last.resource == f"cds-hooks/{SERVICE}"
    assert f"hookInstance={body['hookInstance']}" in last.detail
    assert f"cards={len(cards)}" in last.detail


def test_response_is_json_serialisable_and_dated(cds: Cds, prefetches: dict[str, Any]) -> None:
    pid, prefetch = next(iter(prefetches.items()))
    cards = _cards(cds, patient_view(pid, prefetch))
    json.dumps(cards)
    assert "2026-03-01T12:00:00Z" in cards[0]["detail"]
    assert isinstance(datetime.fromisoformat("2026-03-01T12:00:00+00:00"), datetime)


@pytest.mark.parametrize(
    ("status", "grade", "bounds", "summary", "meaning"),
    [
        ("graded", 2, (2, 2), "CRS grade 2 on ", None),
        (
            "provisional",
            2,
            (2, 3),
            "CRS grade 2 (provisional, ≤ 3) on ",
            "inputs not yet documented could raise it to 3",
        ),
        ("ambiguous", None, (2, 3), "CRS grade 2–3 (ambiguous) on ", "between grades 2 and 3"),
        (
            "not_assessable",
            None,
            (0, 4),
            "CRS grade 0–4 (not assessable) on ",
            "fix no grade; it lies between 0 and 4",
        ),
    ],
)
def test_grade_card_of_each_status(
    status: str, grade: int | None, bounds: tuple[int, int], summary: str, meaning: str | None
) -> None:
    from crswatch.api.cds_hooks import PatientData
    from crswatch.api.cds_hooks._cards import grade_card
    from tests.api.cds_hooks.conformance import check_card

    result = GradeResult(
        "astct2019",
        "2019",
        CLOCK,
        grade,
        status,
        bounds,
        missing=("sbp",),  # type: ignore[arg-type]
    )
    card = grade_card("crs", result, PatientData(timeline=None), [])
    check_card(card)
    assert card["summary"].startswith(summary)
    assert "**Missing data:**\n- sbp" in card["detail"]
    if meaning is None:
        assert "_" not in card["detail"].split("\n")[2]
    else:
        assert meaning in card["detail"]


def test_engine_refusal_is_an_info_card_not_a_500(
    cds: Cds, prefetches: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from crswatch.api.cds_hooks import _hooks
    from crswatch.errors import InputError

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise InputError("scale='x' is not known")

    monkeypatch.setattr(_hooks, "grade_timelines", refuse)
    pid, prefetch = next(iter(prefetches.items()))
    (card,) = _cards(cds, patient_view(pid, prefetch))
    assert card["indicator"] == "info"
    assert "could not evaluate it" in card["detail"] and "scale='x'" in card["detail"]
