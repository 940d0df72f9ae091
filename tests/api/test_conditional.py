"""Conditional patient reads: an ETag from the store's version; 304 without computing when it
matches; a new answer after any write; never a 304 without authentication (decision 0057)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import select

from crswatch.store import AuditRecord
from tests.api.conftest import Api
from tests.conftest import BASE_DOCUMENT, with_event

PID = "P-001"
READS = [
    f"/patients/{PID}",
    f"/patients/{PID}/timeline",
    f"/patients/{PID}/grade",
    f"/patients/{PID}/grade?scale=astct2019&at=2024-03-02T13:00:00Z",
    f"/patients/{PID}/trajectory",
    f"/patients/{PID}/episodes",
    f"/patients/{PID}/recommendations",
    f"/patients/{PID}/hlh",
    f"/patients/{PID}/biomarkers",
    f"/patients/{PID}/blinatumomab",
]


def _ingest(api: Api, document: dict[str, Any]) -> None:
    stored = api.client.post("/events/timeline", json=document, headers=api.headers("clinician"))
    assert stored.status_code in (200, 201), stored.text


def _get(api: Api, path: str, tag: str | None = None, **headers: str) -> Any:
    sent = {**api.headers("viewer"), **headers}
    if tag is not None:
        sent["If-None-Match"] = tag
    return api.client.get(path, headers=sent)


@pytest.fixture
def stored(api: Api) -> Api:
    _ingest(api, copy.deepcopy(BASE_DOCUMENT))
    return api


@pytest.mark.parametrize("path", READS)
def test_a_repeated_read_is_a_304_and_a_write_makes_it_200(stored: Api, path: str) -> None:
    first = _get(stored, path)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    again = _get(stored, path, tag)
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    _ingest(stored, with_event(copy.deepcopy(BASE_DOCUMENT), item="crp", value=9, unit="mg/dL"))
    after = _get(stored, path, tag)
    assert after.status_code == 200
    assert after.headers["etag"] != tag


def test_the_304_is_audited_as_a_read(stored: Api) -> None:
    tag = _get(stored, f"/patients/{PID}/grade").headers["etag"]
    assert _get(stored, f"/patients/{PID}/grade", tag).status_code == 304
    with stored.store.transaction() as session:
        last = session.execute(select(AuditRecord).order_by(AuditRecord.pk.desc())).scalars()
        record = next(iter(last))
    assert (record.actor, record.resource, record.patient_id, record.outcome, record.detail) == (
        "viewer",
        "grade",
        PID,
        "success",
        "not modified (304)",
    )


def test_the_tag_names_the_query_and_the_media_type(stored: Api) -> None:
    path = f"/patients/{PID}/grade"
    tag = _get(stored, path).headers["etag"]
    assert _get(stored, f"{path}?scale=lee2014", tag).status_code == 200
    fhir = _get(stored, path, tag, Accept="application/fhir+json")
    assert fhir.status_code == 200
    assert fhir.headers["content-type"].startswith("application/fhir+json")
    assert fhir.headers["etag"] != tag
    assert (
        _get(stored, path, fhir.headers["etag"], Accept="application/fhir+json").status_code == 304
    )


def test_a_304_never_answers_without_a_valid_token(stored: Api) -> None:
    path = f"/patients/{PID}/grade"
    tag = _get(stored, path).headers["etag"]
    anonymous = stored.client.get(path, headers={"If-None-Match": tag})
    assert anonymous.status_code == 401 and "etag" not in anonymous.headers
    wrong = stored.client.get(
        path, headers={"If-None-Match": tag, "Authorization": "Bearer cw_not-a-token"}
    )
    assert wrong.status_code == 401 and "etag" not in wrong.headers


def test_an_unknown_patient_is_still_a_404(stored: Api) -> None:
    assert _get(stored, "/patients/NOPE/grade").status_code == 404
