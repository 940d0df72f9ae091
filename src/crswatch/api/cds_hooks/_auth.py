"""The CDS client's JWT (CDS Hooks 2.0, "Trusting CDS Clients"), verified with PyJWT.

Each call carries ``Authorization: Bearer <JWT>`` signed with the EHR's private key.  The header
must name ``kid`` (a key of the configured JWK Set) and an asymmetric ``alg``; the payload must
carry ``iss`` (in the allow-list when one is configured), ``aud`` (the URL of the endpoint
called), ``exp``, ``iat`` and ``jti``; a ``jti`` seen before, within its lifetime, is a replay.
A failure is a :class:`ClientAuthError` whose message names the claim or header at fault.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from crswatch.api.cds_hooks._settings import ASYMMETRIC_ALGORITHMS, CdsHooksSettings
from crswatch.errors import InputError

__all__ = ["ClientAuthError", "ClientIdentity", "JtiCache", "verify_client_jwt"]


class ClientAuthError(InputError):
    """The CDS client's JWT is missing or not acceptable (the service answers 401)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """Who called: the JWT's issuer, its id, and the organisation when given."""

    issuer: str
    jti: str
    tenant: str | None = None


class JtiCache:
    """JWT ids already accepted, kept until their ``exp`` (replay protection)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def accept(self, issuer: str, jti: str, expires: float, now: float) -> bool:
        """False when (issuer, jti) was accepted before and has not expired."""
        with self._lock:
            for key in [k for k, exp in self._seen.items() if exp < now]:
                del self._seen[key]
            if (issuer, jti) in self._seen:
                return False
            self._seen[(issuer, jti)] = expires
            return True


def _key_for(settings: CdsHooksSettings, kid: str, alg: str) -> Any:
    for jwk in settings.jwks.get("keys", []):
        if isinstance(jwk, Mapping) and jwk.get("kid") == kid:
            if "alg" in jwk and jwk["alg"] != alg:
                raise ClientAuthError(
                    "alg", f"alg={alg!r} does not match the key's alg={jwk['alg']!r}"
                )
            try:
                return jwt.PyJWK.from_dict(dict(jwk), algorithm=alg).key
            except (jwt.exceptions.PyJWKError, jwt.exceptions.InvalidKeyError) as exc:
                raise ClientAuthError("kid", f"kid={kid!r}: unusable key ({exc})") from None
    raise ClientAuthError("kid", f"kid={kid!r} is not in the trusted JWK Set")


def verify_client_jwt(
    authorization: str | None,
    audiences: tuple[str, ...],
    settings: CdsHooksSettings,
    seen: JtiCache,
) -> ClientIdentity:
    """Verify the ``Authorization`` header value; ``audiences`` are the accepted ``aud`` URLs."""
    if not authorization:
        raise ClientAuthError("Authorization", "a bearer JWT signed by the CDS client is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ClientAuthError("Authorization", "the scheme must be Bearer followed by a JWT")
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.exceptions.DecodeError as exc:
        raise ClientAuthError("Authorization", f"not a JWT ({exc})") from None
    alg = header.get("alg")
    if alg not in ASYMMETRIC_ALGORITHMS:
        raise ClientAuthError(
            "alg", f"alg={alg!r} is not allowed; use one of {', '.join(ASYMMETRIC_ALGORITHMS)}"
        )
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ClientAuthError("kid", "the JWT header must name the signing key (kid)")
    if header.get("typ") not in (None, "JWT"):
        raise ClientAuthError("typ", f"typ={header.get('typ')!r}; the spec fixes 'JWT'")
    key = _key_for(settings, kid, alg)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=list(audiences),
            leeway=settings.leeway_seconds,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
    except jwt.exceptions.ExpiredSignatureError:
        raise ClientAuthError("exp", "the JWT has expired") from None
    except jwt.exceptions.InvalidAudienceError:
        raise ClientAuthError(
            "aud", f"the JWT audience is not this endpoint (expected {audiences[0]!r})"
        ) from None
    except jwt.exceptions.InvalidSignatureError:
        raise ClientAuthError(
            "signature", "the signature does not verify with key " + kid
        ) from None
    except jwt.exceptions.MissingRequiredClaimError as exc:
        raise ClientAuthError(exc.claim, f"the claim {exc.claim!r} is required") from None
    except jwt.exceptions.ImmatureSignatureError:
        raise ClientAuthError("iat", "the JWT is issued in the future") from None
    except jwt.exceptions.InvalidTokenError as exc:
        raise ClientAuthError("Authorization", f"invalid JWT ({exc})") from None
    issuer = claims["iss"]
    if not isinstance(issuer, str) or (settings.issuers and issuer not in settings.issuers):
        raise ClientAuthError("iss", f"iss={issuer!r} is not an allowed CDS client")
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti:
        raise ClientAuthError("jti", "jti must be a non-empty string")
    if not seen.accept(issuer, jti, float(claims["exp"]), time.time()):
        raise ClientAuthError("jti", f"jti={jti!r} was already used (replay)")
    tenant = claims.get("tenant")
    return ClientIdentity(issuer, jti, tenant if isinstance(tenant, str) else None)
