"""CDS Hooks fixtures: a test EHR issuer (an EC P-384 key pair made here), the demo ward as
prefetch payloads, and the service mounted on an app over a temporary SQLite store."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from crswatch.api import Settings, create_app
from crswatch.api.cds_hooks import CdsHooksSettings, prefetch_for
from crswatch.simulate import demo_ward
from crswatch.store import Store
from crswatch.timeline import Timeline

#: The demo ward's clock: every card below is computed at this moment.
CLOCK = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = "http://testserver"
ISSUER = "https://ehr.example.org"
KID = "test-ehr-key-1"
WARD_SIZE = 8


@dataclass
class Issuer:
    """A CDS client (the EHR) with its own key pair; signs the JWTs of the tests."""

    key: ec.EllipticCurvePrivateKey
    kid: str = KID
    issuer: str = ISSUER
    jwks: dict[str, Any] = field(default_factory=dict)

    def token(self, audience: str, **changes: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": audience,
            "exp": now + 300,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "tenant": "ward-7",
        }
        claims.update(changes)
        claims = {k: v for k, v in claims.items() if v is not None}
        headers = {"kid": self.kid, "typ": "JWT"}
        return jwt.encode(claims, self.key, algorithm="ES384", headers=headers)

    def headers(self, audience: str, **changes: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(audience, **changes)}"}


def make_issuer(kid: str = KID) -> Issuer:
    key = ec.generate_private_key(ec.SECP384R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": kid, "use": "sig", "alg": "ES384"})
    return Issuer(key=key, kid=kid, jwks={"keys": [public]})


@pytest.fixture(scope="session")
def issuer() -> Issuer:
    return make_issuer()


@pytest.fixture(scope="session")
def ward() -> list[Timeline]:
    return demo_ward(WARD_SIZE, clock=CLOCK)


@pytest.fixture(scope="session")
def prefetches(ward: list[Timeline]) -> dict[str, dict[str, Any]]:
    """Patient id -> the prefetch an EHR holding that demo patient sends."""
    return {pid: prefetch for pid, prefetch in map(prefetch_for, ward)}


def cds_settings(issuer: Issuer, **changes: Any) -> CdsHooksSettings:
    values: dict[str, Any] = {
        "enabled": True,
        "jwks": issuer.jwks,
        "issuers": (ISSUER,),
        "base_url": BASE,
        "now": CLOCK,
    }
    values.update(changes)
    return CdsHooksSettings(**values)


@dataclass
class Cds:
    client: TestClient
    store: Store
    issuer: Issuer

    def call(
        self, service: str, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Any:
        url = f"/cds-services/{service}"
        return self.client.post(url, json=body, headers=headers or self.issuer.headers(BASE + url))


def make_cds(tmp_path: Path, issuer: Issuer, **changes: Any) -> Cds:
    store = Store(f"sqlite:///{tmp_path / 'cds.db'}")
    app = create_app(
        store, Settings(rate_limit_per_minute=0), cds_hooks=cds_settings(issuer, **changes)
    )
    return Cds(TestClient(app), store, issuer)


@pytest.fixture
def cds(tmp_path: Path, issuer: Issuer) -> Iterator[Cds]:
    made = make_cds(tmp_path, issuer)
    yield made
    made.client.close()
    made.store.dispose()


def patient_view(patient_id: str, prefetch: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/example", "patientId": patient_id},
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body
