"""Dependencies: the store, the calling principal (bearer token) and role checks; auditing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from crswatch.api._errors import ApiError
from crswatch.api._settings import Settings
from crswatch.store import (
    LoginThrottle,
    Principal,
    Store,
    append_audit,
    record_audit,
    resolve_token,
)
from crswatch.store._audit import Action, Outcome

__all__ = [
    "Admin",
    "Clinician",
    "Settings",
    "SettingsDep",
    "StoreDep",
    "Viewer",
    "audit",
    "audit_in",
    "get_settings",
    "get_store",
    "get_throttle",
]

_bearer = HTTPBearer(auto_error=False, description="A crswatch token (POST /auth/login).")


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _unauthenticated(message: str) -> ApiError:
    return ApiError(
        401,
        "unauthenticated",
        message,
        [{"field": "Authorization", "reason": message}],
        headers={"WWW-Authenticate": "Bearer"},
    )


def get_principal(
    store: StoreDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthenticated("a bearer token is required")
    with store.transaction() as session:
        principal = resolve_token(session, credentials.credentials)
    if principal is None:
        raise _unauthenticated("the token is unknown, expired or revoked")
    return principal


def require(role: str) -> Callable[[Principal], Principal]:
    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if not principal.allowed(role):
            raise ApiError(
                403,
                "forbidden",
                f"role {principal.role!r} may not do this; {role!r} or above is required",
                [{"field": "role", "reason": f"{role!r} or above is required"}],
            )
        return principal

    return check


Viewer = Annotated[Principal, Depends(require("viewer"))]
Clinician = Annotated[Principal, Depends(require("clinician"))]
Admin = Annotated[Principal, Depends(require("admin"))]


def audit(
    store: Store,
    principal: Principal,
    action: Action,
    resource: str,
    patient_id: str | None,
    outcome: Outcome,
    detail: str = "",
) -> None:
    """Append one audit record in its own transaction."""
    record_audit(
        store,
        actor=principal.username,
        role=principal.role,
        action=action,
        resource=resource,
        patient_id=patient_id,
        outcome=outcome,
        detail=detail,
    )


def audit_in(
    session: Session,
    principal: Principal,
    action: Action,
    resource: str,
    patient_id: str | None,
    outcome: Outcome,
    detail: str = "",
) -> None:
    """Append one audit record in ``session``'s transaction: it commits with the data or not
    at all (a write of patient data is never stored without its record)."""
    append_audit(
        session,
        actor=principal.username,
        role=principal.role,
        action=action,
        resource=resource,
        patient_id=patient_id,
        outcome=outcome,
        detail=detail,
    )
