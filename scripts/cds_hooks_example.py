"""The CDS Hooks exchange shown in docs/cds-hooks.md, made with the real service.

Mounts the service on an app over a temporary SQLite store, signs the EHR's JWTs with a key
pair made for the occasion, and calls discovery and ``patient-view`` for one patient of the
synthetic demo ward (``crswatch.simulate.demo_ward``, fixed seed and clock) with the prefetch
an EHR holding that patient would send (``crswatch.api.cds_hooks.prefetch_for``).  Prints
JSON: the discovery response, the request (prefetch shortened) and the response.

    python scripts/cds_hooks_example.py [--bed 4] > /tmp/exchange.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient

from crswatch.api import Settings, create_app
from crswatch.api.cds_hooks import CdsHooksSettings, prefetch_for
from crswatch.simulate import demo_ward
from crswatch.store import Store

CLOCK = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BASE = "https://cds.example.org"
ISSUER = "https://ehr.example.org"


def _shorten(prefetch: dict[str, Any], keep: int = 1) -> dict[str, Any]:
    short: dict[str, Any] = {}
    for key, value in prefetch.items():
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            entries = value["entry"]
            short[key] = dict(value, entry=entries[:keep])
            short[key]["total"] = len(entries)
        else:
            short[key] = value
    return short


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bed", type=int, default=4, help="the demo ward bed (1-based)")
    args = parser.parse_args()
    key = ec.generate_private_key(ec.SECP384R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public |= {"kid": "ehr-key-1", "use": "sig", "alg": "ES384"}
    settings = CdsHooksSettings(
        enabled=True, jwks={"keys": [public]}, issuers=(ISSUER,), base_url=BASE, now=CLOCK
    )

    def headers(audience: str) -> dict[str, str]:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": audience, "exp": now + 300, "iat": now}
        claims["jti"] = str(uuid.uuid4())  # type: ignore[assignment]
        token = jwt.encode(claims, key, "ES384", {"kid": "ehr-key-1", "typ": "JWT"})
        return {"Authorization": f"Bearer {token}"}

    ward = demo_ward(args.bed, clock=CLOCK)
    patient_id, prefetch = prefetch_for(ward[args.bed - 1])
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'example.db'}")
        app = create_app(store, Settings(rate_limit_per_minute=0), cds_hooks=settings)
        with TestClient(app, base_url=BASE) as client:
            discovery = client.get("/cds-services", headers=headers(f"{BASE}/cds-services"))
            body = {
                "hook": "patient-view",
                "hookInstance": str(uuid.uuid4()),
                "context": {"userId": "Practitioner/example", "patientId": patient_id},
                "prefetch": prefetch,
            }
            url = f"{BASE}/cds-services/crswatch-patient-view"
            response = client.post(url, json=body, headers=headers(url))
        store.dispose()
    json.dump(
        {
            "discovery": discovery.json(),
            "request": dict(body, prefetch=_shorten(prefetch)),
            "response": response.json(),
        },
        sys.stdout,
        indent=2,
        ensure_ascii=False,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
