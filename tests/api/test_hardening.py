"""Issue 18: the service under attack and under faulty clients (each test fails on the code
before the hardening): login throttling, atomic audit, bad numbers, bounded work, logs, value
types, contract limits, headers, password policy and audit of account changes."""

from __future__ import annotations

import copy
import json
import logging
import os
import stat
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from crswatch.api import Settings, create_app
from crswatch.store import (
    AuditRecord,
    CheckpointPolicy,
    EventRow,
    PatientRow,
    Store,
    User,
    create_audit_key,
    create_user,
    verify_chain,
)
from tests.api.conftest import PASSWORD, Api, make_api
from tests.conftest import BASE_DOCUMENT


def doc(**patient: Any) -> dict[str, Any]:
    document = copy.deepcopy(BASE_DOCUMENT)
    document["patient"].update(patient)
    return document


def post(api: Api, document: Any, role: str = "clinician") -> Any:
    return api.client.post("/events/timeline", json=document, headers=api.headers(role))


def post_raw(api: Api, text: str, path: str = "/events/timeline") -> Any:
    headers = {**api.headers("clinician"), "content-type": "application/json"}
    return api.client.post(path, content=text.encode(), headers=headers)


def counts(store: Store) -> tuple[int, int, int]:
    with store.transaction() as session:
        return (
            session.execute(select(func.count()).select_from(PatientRow)).scalar_one(),
            session.execute(select(func.count()).select_from(EventRow)).scalar_one(),
            session.execute(select(func.count()).select_from(AuditRecord)).scalar_one(),
        )


def issue_fields(response: Any) -> set[str]:
    return {issue["field"] for issue in response.json()["error"]["issues"]}


def audit_rows(store: Store) -> list[AuditRecord]:
    with store.transaction() as session:
        return list(session.execute(select(AuditRecord).order_by(AuditRecord.pk)).scalars())


# ------------------------------------------------------------------ 1. login throttling


def login(api: Api, username: str, password: str, **headers: str) -> Any:
    return api.client.post(
        "/auth/login", json={"username": username, "password": password}, headers=headers
    )


def test_random_authorization_headers_share_one_address_budget(api: Api) -> None:
    # The old limiter keyed on the Authorization header: each random header was a fresh bucket
    # and no login was ever refused.  Now the address's failures lock it out, whatever is sent.
    statuses = [
        login(api, "viewer", f"wrong-{n}", authorization=f"Bearer random-{n}").status_code
        for n in range(12)
    ]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) <= {401, 429} and statuses[-1] == 429
    refused = login(api, "viewer", PASSWORD, authorization="Bearer anything-else")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "too_many_attempts"


def test_forwarded_for_is_not_believed_without_a_trusted_proxy(api: Api) -> None:
    for n in range(8):
        login(api, f"nobody{n}", "wrong", **{"x-forwarded-for": f"10.0.0.{n}"})
    assert login(api, "viewer", PASSWORD, **{"x-forwarded-for": "10.9.9.9"}).status_code == 429


def test_username_is_throttled_across_addresses(api: Api) -> None:
    # Guesses at one username from many addresses lock that username (not the others).
    throttle = api.client.app.state.login_throttle  # type: ignore[attr-defined]
    for n in range(6):
        throttle.failure(f"192.0.2.{n}", "clinician")
    assert login(api, "clinician", PASSWORD).status_code == 429
    assert login(api, "viewer", PASSWORD).status_code == 200


def test_trusted_proxy_forwarded_address_is_used() -> None:
    from crswatch.api._middleware import client_address

    scope = {"client": ("10.0.0.1", 1), "headers": [(b"x-forwarded-for", b"203.0.113.7, 10.0.0.2")]}
    assert client_address(scope) == "10.0.0.1"
    assert client_address(scope, ("10.0.0.0/8",)) == "203.0.113.7"
    assert client_address(scope, ("192.168.0.0/16",)) == "10.0.0.1"


def test_logins_are_audited_without_unknown_typed_names(api: Api) -> None:
    assert login(api, "viewer", PASSWORD).status_code == 200
    assert login(api, "viewer", "wrong password").status_code == 401
    assert login(api, "Tr0ub4dor&3-typed-as-name", "x").status_code == 401
    rows = [r for r in audit_rows(api.store) if r.resource == "auth.login"]
    assert [(r.actor, r.outcome) for r in rows] == [
        ("viewer", "success"),
        ("viewer", "failure"),
        ("(unknown user)", "failure"),
    ]
    assert not any("Tr0ub4dor" in json.dumps([r.actor, r.detail]) for r in audit_rows(api.store))


# ------------------------------------------------------------- 3. data and audit atomically


def test_ingest_audit_is_in_the_data_transaction(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # A crash after the data commit used to leave patients without audit records; now a failure
    # while writing the audit record rolls the data back.
    import crswatch.store._audit as audit_module

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("simulated crash while auditing")

    monkeypatch.setattr(audit_module, "append_audit", broken)
    monkeypatch.setattr("crswatch.api._deps.append_audit", broken)
    before = counts(api.store)
    response = post(api, doc())
    assert response.status_code == 500
    assert counts(api.store) == before


def test_every_stored_patient_has_its_audit_record(api: Api) -> None:
    documents = [doc(id=f"P-{n:03d}") for n in range(5)]
    assert post(api, documents).status_code == 200
    with api.store.transaction() as session:
        ids = set(session.execute(select(PatientRow.patient_id)).scalars())
    created = {r.patient_id for r in audit_rows(api.store) if r.action == "create"}
    assert ids == created
    assert verify_chain(audit_rows(api.store)).ok


# ------------------------------------------------------------------- 5. bad numbers, dupes


BAD_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "1" + "0" * 400]


@pytest.mark.parametrize("number", BAD_NUMBERS)
@pytest.mark.parametrize("where", ["value", "weight_kg", "age_years", "ref_low"])
def test_non_finite_and_huge_numbers_are_4xx_naming_the_field(
    api: Api, where: str, number: str
) -> None:
    document = doc()
    marker = "__NUMBER__"
    if where in ("weight_kg", "age_years"):
        document["patient"][where] = marker
    else:
        document["events"][0][where] = marker
    text = json.dumps(document).replace(f'"{marker}"', number)
    before = counts(api.store)
    response = post_raw(api, text)
    assert 400 <= response.status_code < 500, response.text
    assert where in issue_fields(response)
    assert counts(api.store)[:2] == before[:2]


def test_numbers_too_long_for_text_are_4xx(api: Api) -> None:
    # 400 digits reach the reader (named above); 5,000 digits exceed what Python's JSON parser
    # converts, and the body is refused as unreadable: a 4xx either way, nothing stored.
    document = doc()
    document["events"][0]["id"] = "__ID__"
    response = post_raw(api, json.dumps(document).replace('"__ID__"', "9" * 5000))
    assert response.status_code in (400, 422)
    document["events"][0]["id"] = 10**400
    named = post(api, document)
    assert named.status_code == 422 and "id" in issue_fields(named)
    assert counts(api.store)[0] == 0


def test_two_timelines_of_one_new_patient_in_one_batch(api: Api) -> None:
    before = counts(api.store)
    second = doc()
    second["events"] = [{"time": "2024-03-04T00:00:00Z", "item": "crp", "value": 5, "unit": "mg/L"}]
    response = post(api, [doc(), second])
    assert response.status_code == 409
    assert "patient.id" in issue_fields(response)
    assert counts(api.store)[:2] == before[:2]


# ------------------------------------------------------------------------- 2. bounded work


def test_trajectory_step_and_rows_are_bounded(api: Api) -> None:
    assert post(api, doc()).status_code == 200
    viewer = api.headers("viewer")
    tiny = api.client.get("/patients/P-001/trajectory", params={"every": "0.1m"}, headers=viewer)
    assert tiny.status_code == 422 and "every" in issue_fields(tiny)
    made = make_api_settings(api, Settings(rate_limit_per_minute=0, max_trajectory_rows=10))
    many = made.client.get("/patients/P-001/trajectory", params={"every": "1h"}, headers=viewer)
    assert many.status_code == 422 and "every" in issue_fields(many)
    assert "evaluation times" in many.json()["error"]["message"]
    fine = made.client.get("/patients/P-001/trajectory", params={"every": "1d"}, headers=viewer)
    assert fine.status_code == 200


def make_api_settings(api: Api, settings: Settings) -> Api:
    from fastapi.testclient import TestClient

    return Api(TestClient(create_app(api.store, settings)), api.store, api.tokens)


@pytest.mark.parametrize(
    ("field", "time"),
    [
        ("time", "0001-01-01T00:00:00Z"),
        ("time", "9999-12-31T00:00:00Z"),
        ("end", "9999-12-31T00:00:00Z"),
        ("therapy.start", "1899-12-31T23:00:00Z"),
    ],
)
def test_implausible_times_are_rejected_at_ingest(api: Api, field: str, time: str) -> None:
    document = doc()
    if field == "therapy.start":
        document["patient"]["therapy"]["start"] = time
    else:
        document["events"][0][field] = time
    response = post(api, document)
    assert response.status_code == 422
    assert field in issue_fields(response)
    assert counts(api.store)[0] == 0


def test_the_time_window_is_configurable(api: Api) -> None:
    from datetime import UTC, datetime

    strict = Settings(rate_limit_per_minute=0, earliest_time=datetime(2024, 3, 2, tzinfo=UTC))
    response = post(make_api_settings(api, strict), doc())
    assert response.status_code == 422
    assert "therapy.start" in issue_fields(response)


# ---------------------------------------------------------------------- 6. nothing in logs


def test_a_500_logs_the_error_type_and_request_id_only(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    made = make_api(store)
    app = made.client.app
    secret = "PATIENT-SECRET-VALUE ferritin 22544"
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise ValueError(secret)

    app.include_router(router)  # type: ignore[attr-defined]
    from fastapi.testclient import TestClient

    client = TestClient(app, raise_server_exceptions=True)  # nothing may reach the server
    with caplog.at_level(logging.DEBUG):
        response = client.get("/boom")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert request_id in response.json()["error"]["message"]
    text = "\n".join(
        record.getMessage() + (str(record.exc_info) if record.exc_info else "")
        for record in caplog.records
    )
    assert secret not in text and "22544" not in text
    assert "ValueError" in text and request_id in text


def test_database_errors_do_not_carry_parameters(store: Store) -> None:
    assert store.engine.hide_parameters


# ----------------------------------------------------------------- 7. value types at ingest


@pytest.mark.parametrize("value", [{"cells": 1}, [1, 2], True, "", "x" * 300])
def test_car_t_infusion_value_type_is_checked(api: Api, value: Any) -> None:
    document = doc()
    document["events"].append(
        {"time": "2024-03-01T10:00:00Z", "item": "car_t_infusion", "value": value}
    )
    response = post(api, document)
    assert response.status_code == 422
    assert "value" in issue_fields(response)


def test_car_t_infusion_numbers_and_text_are_kept(api: Api) -> None:
    document = doc()
    document["events"].append(
        {
            "time": "2024-03-01T10:00:00Z",
            "item": "car_t_infusion",
            "value": 2000000,
            "unit": "{cells}",
        }
    )
    assert post(api, document).status_code == 200
    stored = api.client.get("/patients/P-001/timeline", headers=api.headers("viewer")).json()
    doses = [e["value"] for e in stored["events"] if e["item"] == "car_t_infusion"]
    assert doses == [2000000]


# ---------------------------------------------------------------- 8. limits of the contract


@pytest.mark.parametrize(
    "patient_id", ["a\x00b", "a\nb", "a/b", "..", "x" * 65, "x" * 10_000, " P-1", "P 1"]
)
def test_patient_ids_outside_the_contract_are_rejected(api: Api, patient_id: str) -> None:
    response = post(api, doc(id=patient_id))
    assert response.status_code == 422
    assert "id" in issue_fields(response)
    assert len(response.content) < 5000  # the 10,000-character id is not echoed back whole
    assert counts(api.store)[0] == 0


def test_reference_range_must_be_ordered(api: Api) -> None:
    document = doc()
    document["events"][-1].update(ref_low=400, ref_high=20)
    response = post(api, document)
    assert response.status_code == 422 and "ref_low" in issue_fields(response)


def test_a_document_without_format_is_rejected(api: Api) -> None:
    document = doc()
    del document["format"]
    response = post(api, document)
    assert response.status_code == 422
    assert "format" in response.json()["error"]["message"]


def test_free_text_is_bounded(api: Api) -> None:
    document = doc()
    document["patient"]["therapy"]["product"] = "x" * 9_500
    response = post(api, document)
    assert response.status_code == 422 and "therapy.product" in issue_fields(response)
    assert len(response.content) < 5000


def test_misspelled_fields_are_named_with_a_suggestion(api: Api) -> None:
    document = doc()
    document["patient"]["wieght_kg"] = 70
    document["events"].append(
        {"time": "2024-03-03T01:00:00Z", "item": "crp", "value": 5, "unit": "mg/L", "sorce": "x"}
    )
    response = post(api, document)
    assert response.status_code == 200
    warnings = " ".join(response.json()["report"]["warnings"])
    assert "unknown field 'wieght_kg' — did you mean 'weight_kg'?" in warnings
    assert "unknown field 'sorce' — did you mean 'source'?" in warnings
    document = doc(id="P-002")
    document["events"] = [
        {"time": "2024-03-03T01:00:00Z", "item": "crp", "vaule": 5, "unit": "mg/L"}
    ]
    rejected = post(api, document)
    assert rejected.status_code == 422
    assert "unknown field 'vaule' — did you mean 'value'?" in rejected.text


def test_the_path_parameter_has_the_contract_length(api: Api) -> None:
    response = api.client.get("/patients/" + "x" * 65, headers=api.headers("viewer"))
    assert response.status_code == 422


# ------------------------------------------------------------------------------ 10. smaller


@pytest.mark.parametrize("path", ["/health", "/patients", "/nowhere", "/users"])
def test_security_headers_on_every_response(api: Api, path: str) -> None:
    response = api.client.get(path, headers=api.headers("viewer"))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers  # plain HTTP


def test_hsts_over_https(api: Api) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(api.client.app, base_url="https://testserver")
    assert "max-age" in client.get("/health").headers["strict-transport-security"]


@pytest.mark.parametrize(
    "password", ["aaaaaaaaaaaa", "abcabcabcabc", "password1234", "qwerty123456", "admin-x-admin-x-"]
)
def test_weak_passwords_are_refused(api: Api, password: str) -> None:
    response = api.client.post(
        "/users",
        json={"username": "newuser", "password": password, "role": "viewer"},
        headers=api.headers("admin"),
    )
    assert response.status_code == 422, password
    assert "password" in issue_fields(response)


def test_account_changes_are_audited(api: Api) -> None:
    admin = api.headers("admin")
    created = api.client.post(
        "/users",
        json={"username": "nurse1", "password": "a sound pass phrase", "role": "viewer"},
        headers=admin,
    )
    assert created.status_code == 201
    assert api.client.patch("/users/nurse1", json={"role": "clinician"}, headers=admin).is_success
    token = api.client.post("/users/nurse1/tokens", json={}, headers=admin).json()
    assert api.client.delete(f"/tokens/{token['token_id']}", headers=admin).is_success
    details = [(r.resource, r.detail) for r in audit_rows(api.store)]
    assert ("user", "user nurse1 role viewer") in details
    assert ("user.update", "user nurse1: role viewer -> clinician") in details
    assert any(res == "token" and "issued to nurse1" in d for res, d in details)
    assert any(res == "token" and "revoked" in d for res, d in details)


def test_password_change_ends_login_tokens(api: Api) -> None:
    token = login(api, "viewer", PASSWORD).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    changed = api.client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "another sound phrase"},
        headers=bearer,
    )
    assert changed.status_code == 200
    assert api.client.get("/auth/me", headers=bearer).status_code == 401
    with api.store.transaction() as session:
        user = session.execute(select(User).where(User.username == "viewer")).scalar_one()
        assert user.password_changed_at is not None


def test_oversized_chunked_body_is_413(store: Store) -> None:
    made = make_api(store, Settings(rate_limit_per_minute=0, max_body_bytes=1000))

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    response = made.client.post(
        "/events/timeline",
        content=chunks(),
        headers={**made.headers("clinician"), "content-type": "application/json"},
    )
    assert response.status_code == 413


def test_table_errors_name_the_body_field_not_a_server_path(api: Api) -> None:
    response = api.client.post(
        "/events/tables",
        json={"patients_csv": "id,therapy_kind\nP-1,car_t\n", "events_csv": "patient_id\n"},
        headers=api.headers("clinician"),
    )
    assert response.status_code == 422
    assert "/tmp" not in response.text and "crswatch-" not in response.text
    assert "patients_csv" in response.text


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_database_file_is_private(tmp_path: Any) -> None:
    store = Store(f"sqlite:///{tmp_path / 'fresh' / 'crswatch.db'}")
    with store.transaction() as session:
        create_user(session, "someone", "a sound pass phrase", "viewer")
    store.dispose()
    for path in (tmp_path / "fresh").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) == 0o700


def test_audit_verify_checks_the_keyed_checkpoints(store: Store, tmp_path: Any) -> None:
    # The external anchor (docs/decisions/0062): a service whose store writes checkpoints
    # reports them, and a tail cut after a checkpoint fails the check, naming it.
    key = create_audit_key(tmp_path / "audit.key")
    store.anchor_audit(CheckpointPolicy(key, every=2))
    api = make_api(store)
    assert post(api, doc()).status_code == 200
    for _ in range(3):
        api.client.get("/patients/P-001", headers=api.headers("viewer"))
    verified = api.client.get("/audit/verify", headers=api.headers("admin")).json()
    assert verified["ok"] is True
    anchors = verified["checkpoints"]
    assert anchors["checked"] is True and anchors["count"] >= 2 and anchors["problem"] is None
    with store.transaction() as session:
        if store.dialect == "postgresql":
            session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        else:
            session.execute(text("DROP TRIGGER audit_log_no_delete"))
        session.execute(text("DELETE FROM audit_log WHERE pk > 1"))
    cut = api.client.get("/audit/verify", headers=api.headers("admin")).json()
    assert (cut["ok"], cut["broken_at"]) == (False, None)  # the chain alone says nothing
    assert cut["checkpoints"]["failed_checkpoint"] is not None
    assert "removed" in cut["checkpoints"]["problem"]
    # Without a key the service says that the checkpoints were not checked.
    plain_store = Store(store.url)
    plain = TestClient(create_app(plain_store, Settings(rate_limit_per_minute=0)))
    unchecked = plain.get("/audit/verify", headers=api.headers("admin")).json()
    assert unchecked["checkpoints"]["checked"] is False
    assert unchecked["checkpoints"]["unchecked"] == "this service writes no checkpoints (no key)"
    plain.close()
    plain_store.dispose()
