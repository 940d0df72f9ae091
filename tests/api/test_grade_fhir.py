"""``GET /patients/{id}/grade`` with ``Accept: application/fhir+json``: a FHIR R4 Bundle."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from crswatch.io.fhir import GRADE_SYSTEM, read_bundle
from crswatch.store import AuditRecord
from tests.api.conftest import Api
from tests.api.test_api import PID, ingest


def test_grade_as_fhir(api: Api) -> None:
    assert ingest(api).status_code in (200, 201)
    headers = api.headers("viewer") | {"Accept": "application/fhir+json"}
    response = api.client.get(f"/patients/{PID}/grade?scale=astct2019", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = response.json()
    Bundle.model_validate(bundle)
    grades = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"]["coding"][0]["system"] == GRADE_SYSTEM
    ]
    assert [g["code"]["coding"][0]["code"] for g in grades] == ["crs.astct2019"]
    # The JSON answer and the FHIR answer agree on the grade.
    plain = api.client.get(
        f"/patients/{PID}/grade?scale=astct2019", headers=api.headers("viewer")
    ).json()
    assert grades[0].get("valueInteger") == plain["crs"]["astct2019"]["grade"]
    assert read_bundle(bundle).timelines[0].patient.id == PID
    with api.store.transaction() as session:
        last = session.execute(select(AuditRecord).order_by(AuditRecord.pk.desc())).scalar()
    assert last is not None and last.resource == "grade" and last.outcome == "success"


def test_grade_as_fhir_needs_a_token(api: Api) -> None:
    response = api.client.get(f"/patients/{PID}/grade", headers={"Accept": "application/fhir+json"})
    assert response.status_code == 401
