"""CDS Hooks settings, from the environment (``CRSWATCH_CDS_*``) or given to ``create_app``.

The service is off unless ``enabled``; enabled, it needs the JWK Set of the EHRs it trusts
(CDS Hooks 2.0, "Trusting CDS Clients": every call carries a JWT signed by the client's key).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crswatch.errors import InputError

__all__ = ["ASYMMETRIC_ALGORITHMS", "CdsHooksSettings"]

#: The spec forbids ``none`` and every symmetric (HMAC) algorithm; ES384 and RS384 are its
#: recommended ones.
ASYMMETRIC_ALGORITHMS: tuple[str, ...] = (
    "ES256",
    "ES384",
    "ES512",
    "PS256",
    "PS384",
    "PS512",
    "RS256",
    "RS384",
    "RS512",
)


@dataclass(frozen=True, slots=True)
class CdsHooksSettings:
    #: Mount ``/cds-services`` at all (off by default).
    enabled: bool = False
    #: The JWK Set (public keys) of the CDS clients trusted, as JSON; out-of-band, as the spec
    #: allows when the JWT carries no ``jku`` (a ``jku`` is never followed).
    jwks: Mapping[str, Any] = field(default_factory=lambda: {"keys": []})
    #: Allowed ``iss`` values; empty: any issuer whose key is in ``jwks``.
    issuers: tuple[str, ...] = ()
    #: The public base URL the EHR calls (``https://cds.example.org``): the JWT ``aud`` must be
    #: ``{base_url}/cds-services[/{id}]``.  None: the base URL of the request as received.
    base_url: str | None = None
    #: Base URL of the dashboard for card links; None: the request's base URL.
    dashboard_url: str | None = None
    #: The site's scales for the patient-view cards (selectors as ``crswatch grade --scale``).
    scales: tuple[str, ...] = ("astct2019", "icans.astct2019")
    #: Seconds of clock skew tolerated on ``exp`` and ``iat``.
    leeway_seconds: int = 30
    #: Timeout of each call to the EHR's FHIR server when prefetch is incomplete.
    fhir_timeout_seconds: float = 5.0
    #: The service's "now" (aware, UTC); None: the wall clock.  For tests and demos.
    now: datetime | None = None

    def __post_init__(self) -> None:
        keys = self.jwks.get("keys") if isinstance(self.jwks, Mapping) else None
        if not isinstance(keys, list):
            raise InputError(f"jwks={self.jwks!r}: a JWK Set needs a 'keys' array")
        if self.now is not None and self.now.tzinfo is None:
            raise InputError(f"now={self.now!r} must carry a UTC offset")

    @classmethod
    def from_env(cls) -> CdsHooksSettings:
        env = os.environ
        default = cls()
        enabled = env.get("CRSWATCH_CDS_HOOKS", "").strip().lower() in ("1", "true", "yes", "on")
        path = env.get("CRSWATCH_CDS_JWKS_FILE") or None
        if enabled and path is None:
            raise InputError(
                "CRSWATCH_CDS_JWKS_FILE: required when CRSWATCH_CDS_HOOKS is on "
                "(the JWK Set of the EHRs allowed to call the service)"
            )
        scales = tuple(s for s in env.get("CRSWATCH_CDS_SCALES", "").split(",") if s.strip())
        return cls(
            enabled=enabled,
            jwks=_read_jwks(path) if path else default.jwks,
            issuers=tuple(
                i.strip() for i in env.get("CRSWATCH_CDS_ISSUERS", "").split(",") if i.strip()
            ),
            base_url=(env.get("CRSWATCH_CDS_BASE_URL") or "").rstrip("/") or None,
            dashboard_url=(env.get("CRSWATCH_CDS_DASHBOARD_URL") or "").rstrip("/") or None,
            scales=tuple(s.strip() for s in scales) or default.scales,
        )


def _read_jwks(path: str) -> dict[str, Any]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            f"CRSWATCH_CDS_JWKS_FILE={path!r}: not a readable JSON file ({exc})"
        ) from None
    if not isinstance(document, dict):
        raise InputError(f"CRSWATCH_CDS_JWKS_FILE={path!r}: a JWK Set is a JSON object")
    return document
