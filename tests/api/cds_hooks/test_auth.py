"""Discovery, the service being off by default, and the EHR's JWT (every failure is 401)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import select

from crswatch.api import Settings, create_app
from crswatch.api.cds_hooks import SERVICES, CdsHooksSettings
from crswatch.store import AuditRecord, Store
from tests.api.cds_hooks.conformance import check_discovery
from tests.api.cds_hooks.conftest import BASE, ISSUER, Cds, Issuer, make_cds, make_issuer

DISCOVERY = BASE + "/cds-services"
PATIENT_VIEW = BASE + "/cds-services/crswatch-patient-view"


def _audit(store: Store) -> list[AuditRecord]:
    with store.transaction() as session:
        return list(session.execute(select(AuditRecord).order_by(AuditRecord.pk)).scalars())


def test_off_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRSWATCH_CDS_HOOKS", raising=False)
    store = Store(f"sqlite:///{tmp_path / 'off.db'}")
    with TestClient(create_app(store, Settings(rate_limit_per_minute=0))) as client:
        assert client.get("/cds-services").status_code == 404
        assert client.post("/cds-services/crswatch-patient-view", json={}).status_code == 404
    store.dispose()


def test_discovery_lists_the_services(cds: Cds) -> None:
    response = cds.client.get("/cds-services", headers=cds.issuer.headers(DISCOVERY))
    assert response.status_code == 200
    document = response.json()
    check_discovery(document)
    assert {s["hook"] for s in document["services"]} == {
        "patient-view",
        "order-select",
        "order-sign",
    }
    assert [s["id"] for s in document["services"]] == [s.id for s in SERVICES]
    prefetch = document["services"][0]["prefetch"]
    # What the FHIR mapping reads (docs/decisions/0003 §5).
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert "category=vital-signs" in prefetch["vitalSigns"]
    assert "category=laboratory" in prefetch["laboratory"]
    assert prefetch["medicationAdministrations"].startswith("MedicationAdministration?")
    assert prefetch["procedures"].startswith("Procedure?")
    assert prefetch["devices"].startswith("DeviceUseStatement?")
    records = _audit(cds.store)
    assert records[-1].actor == ISSUER and records[-1].resource == "cds-hooks/discovery"


def _status(cds: Cds, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    response = cds.client.get("/cds-services", headers=headers)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"exp": int(time.time()) - 3600}, "exp"),
        ({"aud": BASE + "/cds-services/another-service"}, "aud"),
        ({"aud": "https://elsewhere.example.org/cds-services"}, "aud"),
        ({"iss": "https://intruder.example.org"}, "iss"),
        ({"jti": None}, "jti"),
        ({"iat": None}, "iat"),
    ],
)
def test_bad_claims_are_401(cds: Cds, changes: dict[str, Any], field: str) -> None:
    status, body = _status(cds, cds.issuer.headers(DISCOVERY, **changes))
    assert status == 401
    assert body["error"]["issues"][0]["field"] == field


def test_wrong_key_is_401(cds: Cds) -> None:
    # Same kid, another key pair: the signature does not verify.
    impostor = make_issuer()
    status, body = _status(cds, impostor.headers(DISCOVERY))
    assert status == 401 and body["error"]["issues"][0]["field"] == "signature"


def test_unknown_kid_is_401(cds: Cds) -> None:
    stranger = make_issuer(kid="other-key")
    status, body = _status(cds, stranger.headers(DISCOVERY))
    assert status == 401 and body["error"]["issues"][0]["field"] == "kid"


def test_symmetric_and_none_algorithms_are_refused(cds: Cds) -> None:
    claims = {"iss": ISSUER, "aud": DISCOVERY, "exp": int(time.time()) + 60}
    claims |= {"iat": int(time.time()), "jti": "x-1"}
    hs = jwt.encode(claims, "shared-secret-of-32-bytes-or-more!", "HS256", {"kid": "k"})
    status, body = _status(cds, {"Authorization": f"Bearer {hs}"})
    assert status == 401 and body["error"]["issues"][0]["field"] == "alg"
    unsigned = jwt.encode(claims, None, "none", {"kid": "k"})
    status, body = _status(cds, {"Authorization": f"Bearer {unsigned}"})
    assert status == 401 and body["error"]["issues"][0]["field"] == "alg"


def test_alg_must_match_the_key(cds: Cds) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"iss": ISSUER, "aud": DISCOVERY, "exp": int(time.time()) + 60}
    claims |= {"iat": int(time.time()), "jti": "x-2"}
    token = jwt.encode(claims, rsa_key, "RS384", {"kid": cds.issuer.kid})
    status, body = _status(cds, {"Authorization": f"Bearer {token}"})
    assert status == 401 and body["error"]["issues"][0]["field"] == "alg"


def test_missing_or_malformed_authorization_is_401(cds: Cds) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer not-a-jwt"}):
        status, body = _status(cds, headers)
        assert status == 401
        assert body["error"]["issues"][0]["field"] == "Authorization"


def test_replayed_jti_is_401(cds: Cds) -> None:
    headers = cds.issuer.headers(DISCOVERY)
    assert _status(cds, headers)[0] == 200
    status, body = _status(cds, headers)
    assert status == 401 and body["error"]["issues"][0]["field"] == "jti"


def test_service_call_audience_is_the_service_url(cds: Cds, prefetches: dict[str, Any]) -> None:
    from tests.api.cds_hooks.conftest import patient_view

    pid, prefetch = next(iter(prefetches.items()))
    wrong = cds.issuer.headers(DISCOVERY)
    assert cds.call("crswatch-patient-view", patient_view(pid, prefetch), wrong).status_code == 401
    right = cds.issuer.headers(PATIENT_VIEW)
    assert cds.call("crswatch-patient-view", patient_view(pid, prefetch), right).status_code == 200


def test_failures_are_audited(cds: Cds) -> None:
    _status(cds, cds.issuer.headers(DISCOVERY, exp=int(time.time()) - 3600))
    record = _audit(cds.store)[-1]
    assert record.outcome == "failure" and record.actor == "unauthenticated"
    assert "expired" in record.detail


def test_open_issuer_list_accepts_any_trusted_key(tmp_path: Path, issuer: Issuer) -> None:
    made = make_cds(tmp_path, issuer, issuers=())
    other = Issuer(key=issuer.key, issuer="https://second-ehr.example.org", jwks=issuer.jwks)
    assert made.client.get("/cds-services", headers=other.headers(DISCOVERY)).status_code == 200
    made.client.close()
    made.store.dispose()


def test_settings_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, issuer: Issuer) -> None:
    import json

    from crswatch.errors import InputError

    monkeypatch.setenv("CRSWATCH_CDS_HOOKS", "1")
    monkeypatch.delenv("CRSWATCH_CDS_JWKS_FILE", raising=False)
    with pytest.raises(InputError, match="CRSWATCH_CDS_JWKS_FILE"):
        CdsHooksSettings.from_env()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(issuer.jwks))
    monkeypatch.setenv("CRSWATCH_CDS_JWKS_FILE", str(path))
    monkeypatch.setenv("CRSWATCH_CDS_ISSUERS", f"{ISSUER}, https://b.example.org")
    monkeypatch.setenv("CRSWATCH_CDS_BASE_URL", "https://cds.example.org/")
    monkeypatch.setenv("CRSWATCH_CDS_SCALES", "lee2014,icans.astct2019")
    settings = CdsHooksSettings.from_env()
    assert settings.enabled and settings.jwks == issuer.jwks
    assert settings.issuers == (ISSUER, "https://b.example.org")
    assert settings.base_url == "https://cds.example.org"
    assert settings.scales == ("lee2014", "icans.astct2019")
    path.write_text("{not json")
    with pytest.raises(InputError, match="not a readable JSON file"):
        CdsHooksSettings.from_env()
