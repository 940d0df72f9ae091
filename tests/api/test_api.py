"""Every endpoint, over SQLite and PostgreSQL: auth, roles, ingest, reads, errors and audit."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import pyarrow.csv as pacsv
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from crswatch.api import Settings
from crswatch.cli import app as cli_app
from crswatch.io import read_json_document, timelines_to_bundle, timelines_to_tables
from crswatch.store import AuditRecord, EventRow, PatientRow, verify_chain
from tests.api.conftest import PASSWORD, Api, make_api
from tests.conftest import BASE_DOCUMENT

PID = "P-001"


def doc(**patient: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE_DOCUMENT)
    document["patient"].update(patient)
    return document


def ingest(api: Api, document: Any = None, role: str = "clinician") -> Any:
    return api.client.post("/events/timeline", json=document or doc(), headers=api.headers(role))


def snapshot(api: Api) -> tuple[int, int, list[str]]:
    with api.store.transaction() as session:
        patients = session.execute(select(func.count()).select_from(PatientRow)).scalar_one()
        events = session.execute(select(func.count()).select_from(EventRow)).scalar_one()
        records = [str(r.record) for r in session.execute(select(PatientRow)).scalars()]
    return patients, events, sorted(records)


def fields(response: Any) -> set[str]:
    return {issue["field"] for issue in response.json()["error"]["issues"]}


PROTECTED = [
    ("get", "/auth/me"),
    ("get", "/users"),
    ("post", "/users"),
    ("post", "/users/admin/tokens"),
    ("get", "/tokens"),
    ("delete", "/tokens/abc"),
    ("get", "/patients"),
    ("post", "/patients"),
    ("get", f"/patients/{PID}"),
    ("get", f"/patients/{PID}/timeline"),
    ("post", "/events/timeline"),
    ("post", "/events/tables"),
    ("post", "/events/fhir"),
    *[
        ("get", f"/patients/{PID}/{name}")
        for name in (
            "grade", "trajectory", "episodes", "recommendations", "hlh", "biomarkers",
            "blinatumomab", "regimen",
        )
    ],
    ("get", "/audit"),
    ("get", "/audit/verify"),
]  # fmt: skip


def test_openapi_lists_every_protected_endpoint(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    for method, path in PROTECTED:
        template = path.replace(PID, "{patient_id}").replace("/admin/", "/{username}/")
        template = template.replace("/abc", "/{token_id}")
        assert method in paths[template]
    assert api.client.get("/docs").status_code == 200


def test_health_needs_no_token(api: Api) -> None:
    response = api.client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_401_without_or_with_a_bad_token(api: Api, method: str, path: str) -> None:
    response = api.client.request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert fields(response) == {"Authorization"}
    bad = api.client.request(method, path, json={}, headers={"Authorization": "Bearer cw_nope"})
    assert bad.status_code == 401


def test_login_issues_a_token_and_rejects_a_wrong_password(api: Api) -> None:
    bad = api.client.post("/auth/login", json={"username": "viewer", "password": "wrong"})
    assert bad.status_code == 401
    assert fields(bad) == {"password"}
    good = api.client.post("/auth/login", json={"username": "viewer", "password": PASSWORD})
    assert good.status_code == 200
    token = good.json()["access_token"]
    me = api.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "viewer"
    assert me.json()["role"] == "viewer"


def test_login_validation_names_fields(api: Api) -> None:
    response = api.client.post("/auth/login", json={"username": "x"})
    assert response.status_code == 422
    assert "password" in fields(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/patients"), ("post", "/events/timeline"), ("post", "/events/tables"),
     ("post", "/events/fhir")],
)  # fmt: skip
def test_403_for_a_viewer_writing(api: Api, method: str, path: str) -> None:
    response = api.client.request(method, path, json=doc(), headers=api.headers("viewer"))
    assert response.status_code == 403
    assert fields(response) == {"role"}
    assert snapshot(api)[0] == 0


@pytest.mark.parametrize("role", ["viewer", "clinician"])
def test_403_for_non_admins_on_users(api: Api, role: str) -> None:
    assert api.client.get("/users", headers=api.headers(role)).status_code == 403
    assert api.client.get("/audit", headers=api.headers(role)).status_code == 403


def test_users_and_tokens_admin_endpoints(api: Api) -> None:
    admin = api.headers("admin")
    body = {"username": "nurse", "password": "long enough password", "role": "clinician"}
    assert api.client.post("/users", json=body, headers=admin).status_code == 201
    duplicate = api.client.post("/users", json=body, headers=admin)
    assert duplicate.status_code == 409
    assert fields(duplicate) == {"username"}
    bad = api.client.post("/users", json={**body, "username": "x2", "role": "god"}, headers=admin)
    assert bad.status_code == 422
    assert fields(bad) == {"role"}
    names = [u["username"] for u in api.client.get("/users", headers=admin).json()]
    assert names == ["admin", "clinician", "nurse", "viewer"]
    issued = api.client.post("/users/nurse/tokens", json={"name": "ward"}, headers=admin).json()
    nurse = {"Authorization": f"Bearer {issued['access_token']}"}
    assert api.client.get("/auth/me", headers=nurse).json()["role"] == "clinician"
    listed = api.client.get("/tokens", headers=admin).json()
    assert all("access_token" not in t and "token_hash" not in t for t in listed)
    assert api.client.post("/users/ghost/tokens", headers=admin).status_code == 404
    revoked = api.client.delete(f"/tokens/{issued['token_id']}", headers=admin)
    assert revoked.json()["revoked"] is True
    assert api.client.get("/auth/me", headers=nurse).status_code == 401


def test_a_user_may_revoke_only_their_own_token(api: Api) -> None:
    me = api.client.get("/auth/me", headers=api.headers("viewer")).json()
    other = api.client.get("/auth/me", headers=api.headers("clinician")).json()
    denied = api.client.delete(f"/tokens/{other['token_id']}", headers=api.headers("viewer"))
    assert denied.status_code == 404
    own = api.client.delete(f"/tokens/{me['token_id']}", headers=api.headers("viewer"))
    assert own.status_code == 200
    assert api.client.get("/patients", headers=api.headers("viewer")).status_code == 401


def test_ingest_and_read_back_an_equal_timeline(api: Api) -> None:
    response = ingest(api)
    assert response.status_code == 200, response.text
    assert response.json()["patients_created"] == [PID]
    assert response.json()["events_stored"] == len(BASE_DOCUMENT["events"])
    stored = api.client.get(f"/patients/{PID}/timeline", headers=api.headers("viewer"))
    assert stored.status_code == 200
    original = read_json_document(doc()).timelines
    assert read_json_document(stored.json()).timelines == original
    assert stored.json() == original[0].to_dict()
    patient = api.client.get(f"/patients/{PID}", headers=api.headers("viewer")).json()
    assert patient["event_count"] == len(BASE_DOCUMENT["events"])
    listing = api.client.get("/patients", headers=api.headers("viewer")).json()
    assert [p["id"] for p in listing["patients"]] == [PID]


def test_create_patient_then_merge_events(api: Api) -> None:
    record = doc()["patient"]
    created = api.client.post("/patients", json=record, headers=api.headers("clinician"))
    assert created.status_code == 201
    again = api.client.post("/patients", json=record, headers=api.headers("clinician"))
    assert again.status_code == 409
    assert fields(again) == {"id"}
    first = doc()
    first["events"] = first["events"][:4]
    assert ingest(api, first).json()["events_stored"] == 4
    merged = ingest(api)  # all events: the first four are identical, so unchanged
    assert merged.json()["events_stored"] == len(BASE_DOCUMENT["events"]) - 4
    assert merged.json()["events_unchanged"] == 4
    assert snapshot(api)[1] == len(BASE_DOCUMENT["events"])


def test_create_patient_rejects_bad_fields(api: Api) -> None:
    record = doc()["patient"]
    record["therapy"]["start"] = "yesterday"
    response = api.client.post("/patients", json=record, headers=api.headers("clinician"))
    assert response.status_code == 422
    assert any("start" in f for f in fields(response))


def test_a_failed_batch_stores_nothing_and_names_every_field(api: Api) -> None:
    assert ingest(api).status_code == 200
    before = snapshot(api)
    batch = [doc(id="P-002"), doc(id="P-003")]
    batch[0]["events"][0]["unit"] = "furlong"
    batch[1]["events"][1]["item"] = "not_an_item"
    batch[1]["events"][2]["time"] = "soon"
    response = ingest(api, batch)
    assert response.status_code == 422
    assert fields(response) == {"unit", "item", "time"}
    assert len(response.json()["error"]["issues"]) == 3
    assert snapshot(api) == before


def test_a_conflict_with_a_stored_event_is_409_and_changes_nothing(api: Api) -> None:
    assert ingest(api).status_code == 200
    before = snapshot(api)
    changed = doc()
    changed["events"][0]["value"] = 39.9
    changed["events"].append(
        {"time": "2024-03-05T00:00:00Z", "item": "temperature", "value": 37, "unit": "Cel"}
    )
    response = ingest(api, changed)
    assert response.status_code == 409
    issue = response.json()["error"]["issues"][0]
    assert issue["field"] == "time"
    assert issue["value"] == "2024-03-02T08:00:00Z"
    assert "temperature" in issue["reason"]
    assert snapshot(api) == before
    other_patient = doc(weight_kg=90.0)
    assert fields(ingest(api, other_patient)) == {"patient.weight_kg"}
    assert snapshot(api) == before


def test_unreadable_documents_are_422(api: Api) -> None:
    response = ingest(api, {"format": "something/else"})
    assert response.status_code == 422
    assert fields(response) == {"body"}
    not_json = api.client.post(
        "/events/timeline",
        content=b"{not json",
        headers={**api.headers("clinician"), "content-type": "application/json"},
    )
    assert not_json.status_code == 422


def test_ingest_the_csv_pair(api: Api, tmp_path: Any) -> None:
    timelines = read_json_document(doc()).timelines
    patients, events = timelines_to_tables(timelines)
    pacsv.write_csv(patients, tmp_path / "p.csv")
    pacsv.write_csv(events, tmp_path / "e.csv")
    body = {
        "patients_csv": (tmp_path / "p.csv").read_text(),
        "events_csv": (tmp_path / "e.csv").read_text(),
    }
    response = api.client.post("/events/tables", json=body, headers=api.headers("clinician"))
    assert response.status_code == 200, response.text
    stored = api.client.get(f"/patients/{PID}/timeline", headers=api.headers("viewer")).json()
    assert read_json_document(stored).timelines == timelines
    broken = {**body, "events_csv": body["events_csv"].replace("38.7", "hot", 1)}
    bad = api.client.post("/events/tables", json=broken, headers=api.headers("clinician"))
    assert bad.status_code in (200, 409, 422)
    missing = api.client.post(
        "/events/tables", json={"patients_csv": ""}, headers=api.headers("clinician")
    )
    assert missing.status_code == 422
    assert fields(missing) == {"events_csv"}


def test_ingest_a_fhir_bundle(api: Api) -> None:
    timelines = read_json_document(doc()).timelines
    bundle = timelines_to_bundle(timelines)
    response = api.client.post("/events/fhir", json=bundle, headers=api.headers("clinician"))
    assert response.status_code == 200, response.text
    assert response.json()["patients_created"] == [PID]
    not_bundle = api.client.post(
        "/events/fhir", json={"resourceType": "Patient"}, headers=api.headers("clinician")
    )
    assert not_bundle.status_code == 422
    assert fields(not_bundle) == {"body"}


CLI_MIRRORS = [
    ("grade", ["grade", "--json"]),
    ("trajectory", ["trajectory", "--format", "json"]),
    ("episodes", ["episodes", "--json"]),
    ("recommendations", ["recommend", "--json"]),
    ("hlh", ["hlh", "--json"]),
    ("biomarkers", ["biomarkers", "--json"]),
    ("blinatumomab", ["blinatumomab", "status", "--json"]),
]


@pytest.mark.parametrize(("endpoint", "command"), CLI_MIRRORS)
def test_read_endpoints_mirror_the_command_line_json(
    api: Api, tmp_path: Any, endpoint: str, command: list[str]
) -> None:
    document = doc()
    if endpoint == "blinatumomab":
        document["patient"]["therapy"] = {"kind": "blinatumomab", "start": "2024-03-01T10:00:00Z"}
    assert ingest(api, document).status_code == 200
    path = tmp_path / "timeline.json"
    path.write_text(json.dumps(document))
    result = CliRunner().invoke(cli_app, [*command[:-1], str(path), command[-1]]
                                if command[0] != "trajectory" else [*command[:1], str(path),
                                *command[1:]])  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = json.loads(result.stdout)
    response = api.client.get(f"/patients/{PID}/{endpoint}", headers=api.headers("viewer"))
    assert response.status_code == 200, response.text
    assert response.json() == expected


def test_read_endpoint_parameters(api: Api) -> None:
    assert ingest(api).status_code == 200
    viewer = api.headers("viewer")
    at = api.client.get(f"/patients/{PID}/grade?at=2024-03-02T13:00:00Z", headers=viewer)
    assert at.json()["at"] == "2024-03-02T13:00:00Z"
    one = api.client.get(f"/patients/{PID}/grade?scale=astct2019", headers=viewer).json()
    assert list(one["crs"]) == ["astct2019"]
    grid = api.client.get(f"/patients/{PID}/trajectory?every=6h&all_rows=true", headers=viewer)
    assert grid.status_code == 200
    assert api.client.get(f"/patients/{PID}/hlh?window_hours=24", headers=viewer).status_code == 200


@pytest.mark.parametrize(
    ("endpoint", "query", "field"),
    [
        ("grade", "at=tomorrow", "at"),
        ("grade", "scale=nope", "scale"),
        ("trajectory", "every=soon", "every"),
        ("episodes", "scale=nope", "scale"),
        ("recommendations", "ruleset=nope", "ruleset, crs_scale"),
        ("hlh", "window_hours=-1", "window_hours"),
        ("biomarkers", "at=2024-13-01", "at"),
        ("blinatumomab", "label_version=nope", "label_version"),
        ("blinatumomab", "setting=nope", "setting"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(
    api: Api, endpoint: str, query: str, field: str
) -> None:
    assert ingest(api).status_code == 200
    response = api.client.get(f"/patients/{PID}/{endpoint}?{query}", headers=api.headers("viewer"))
    assert response.status_code == 422
    assert fields(response) == {field}


@pytest.mark.parametrize("endpoint", ["", "/timeline", "/grade", "/hlh", "/blinatumomab"])
def test_unknown_patient_is_404(api: Api, endpoint: str) -> None:
    response = api.client.get(f"/patients/nobody{endpoint}", headers=api.headers("viewer"))
    assert response.status_code == 404
    assert fields(response) == {"patient_id"}


def _audit(api: Api, patient_id: str) -> list[dict[str, Any]]:
    bundle = api.client.get(f"/audit?patient_id={patient_id}", headers=api.headers("admin"))
    return [entry["resource"] for entry in bundle.json()["entry"]]


def test_reads_and_writes_are_audited_as_fhir_audit_events(api: Api) -> None:
    assert ingest(api).status_code == 200
    api.client.get(f"/patients/{PID}/grade", headers=api.headers("viewer"))
    api.client.get(f"/patients/{PID}/timeline", headers=api.headers("viewer"))
    ingest(api, {**doc(), "events": [{"time": "x", "item": "temperature", "value": 1}]})
    events = _audit(api, PID)
    summary = [
        (e["action"], e["entity"][0]["description"], e["agent"][0]["who"]["display"], e["outcome"])
        for e in events
    ]
    assert summary == [
        ("C", "events-timeline", "clinician", "0"),
        ("R", "grade", "viewer", "0"),
        ("R", "timeline", "viewer", "0"),
        ("C", "events-timeline", "clinician", "4"),
    ]
    first = events[0]
    assert first["resourceType"] == "AuditEvent"
    assert first["entity"][0]["what"]["reference"] == f"Patient/{PID}"
    assert first["recorded"].endswith("Z")
    verified = api.client.get("/audit/verify", headers=api.headers("admin")).json()
    assert verified["ok"] is True
    assert verified["records"] >= 4


def test_the_audit_log_is_append_only_and_tampering_is_detected(api: Api) -> None:
    assert ingest(api).status_code == 200
    api.client.get(f"/patients/{PID}/grade", headers=api.headers("viewer"))
    api.client.get(f"/patients/{PID}", headers=api.headers("viewer"))
    with (
        pytest.raises(DBAPIError, match="append-only"),
        api.store.transaction() as session,
    ):
        session.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE pk = 2"))
    runner = CliRunner()
    env = {"CRSWATCH_DATABASE_URL": api.store.url}
    intact = runner.invoke(cli_app, ["audit", "verify"], env=env)
    assert intact.exit_code == 0, intact.output
    with api.store.transaction() as session:
        if api.store.dialect == "postgresql":
            session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            session.execute(text("DROP TRIGGER audit_log_no_update"))
        session.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE pk = 2"))
    with api.store.transaction() as session:
        check = verify_chain(
            session.execute(select(AuditRecord).order_by(AuditRecord.pk)).scalars()
        )
    assert (check.ok, check.broken_at) == (False, 2)
    broken = runner.invoke(cli_app, ["audit", "verify"], env=env)
    assert broken.exit_code == 1
    assert "record 2" in broken.output
    assert api.client.get("/audit/verify", headers=api.headers("admin")).json()["broken_at"] == 2


def test_request_size_and_rate_limits(store: Any) -> None:
    limited = make_api(store, Settings(max_body_bytes=2000, rate_limit_per_minute=5))
    big = limited.client.post(
        "/events/timeline", json=doc(padding="x" * 5000), headers=limited.headers("clinician")
    )
    assert big.status_code == 413
    statuses = [
        limited.client.get("/patients", headers=limited.headers("viewer")).status_code
        for _ in range(6)
    ]
    assert statuses[:4] == [200] * 4
    assert statuses[-1] == 429


def test_no_patient_data_in_application_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    secret_id = "ZZ-SECRET-PATIENT-42"
    document = doc(id=secret_id)
    document["events"][0]["value"] = 38.123456
    with caplog.at_level(logging.DEBUG):
        ingest(api, document)
        for endpoint in ("", "/timeline", "/grade", "/episodes", "/hlh"):
            api.client.get(f"/patients/{secret_id}{endpoint}", headers=api.headers("viewer"))
        bad = copy.deepcopy(document)
        bad["events"][1]["value"] = "ZZ-BAD-VALUE"
        ingest(api, {**bad, "patient": {**bad["patient"], "id": "ZZ-SECRET-2"}})
    # httpx is the test client, not the application: its lines are left out.
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}"
        for r in caplog.records
        if not r.name.startswith(("httpx", "httpcore"))
    )
    assert "/patients/{patient_id}/grade" in logged
    for needle in (secret_id, "ZZ-SECRET-2", "38.123456", "ZZ-BAD-VALUE"):
        assert needle not in logged


def test_blinatumomab_status_of_a_car_t_patient_is_not_applicable(api: Api) -> None:
    """Issue 15, point 8: a CAR T record has no blinatumomab course (no 'not started ... dose
    due 9 µg/day')."""
    assert ingest(api).status_code == 200
    found = api.client.get(f"/patients/{PID}/blinatumomab", headers=api.headers("viewer"))
    assert found.status_code == 200
    payload = found.json()
    assert payload["state"] == "not_applicable" and payload["applicable"] is False
    assert payload["text"] == "not applicable (therapy: CAR T)"
    assert "dose_due" not in payload
