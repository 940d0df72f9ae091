"""Login, users and tokens.

Logins are throttled per client address and per username before any password is hashed
(``crswatch.store.LoginThrottle``); logins (success and failure), password changes, user
creation, role and activation changes and token issue/revoke are audited.  A failed login's
typed username is recorded only when it names an existing user (it may be a password typed in
the wrong field).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from crswatch.api._deps import Admin, SettingsDep, StoreDep, Viewer, audit_in, get_throttle
from crswatch.api._errors import ApiError
from crswatch.api._middleware import client_address
from crswatch.store import (
    ApiToken,
    LoginThrottle,
    Principal,
    Store,
    User,
    UserError,
    VerifyBusyError,
    append_audit,
    check_password,
    create_user,
    find_user,
    issue_token,
    revoke_token,
    set_active,
    set_password,
)
from crswatch.timeline import format_time

router = APIRouter(tags=["auth"])
ThrottleDep = Annotated[LoginThrottle, Depends(get_throttle)]
#: The actor of a failed login whose typed username names no user.
UNKNOWN_USER = "(unknown user)"


#: The username syntax of ``create_user`` (a path segment and a database key: no NUL, no '/').
_USERNAME = "^[A-Za-z0-9_.@-]{1,100}$"
Username = Annotated[str, Path(max_length=100, pattern=_USERNAME)]


class LoginIn(BaseModel):
    # No pattern: a malformed name is a failed login (401, throttled), not a 422.
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=100, pattern=_USERNAME)
    password: str = Field(min_length=12, max_length=1024)
    role: str = Field(pattern="^(viewer|clinician|admin)$")


class PasswordIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=12, max_length=1024)


class UserPatch(BaseModel):
    role: str | None = Field(default=None, pattern="^(viewer|clinician|admin)$")
    active: bool | None = None


class TokenIn(BaseModel):
    name: str = Field(default="api", min_length=1, max_length=100)
    days: float | None = Field(default=None, gt=0, le=3650)


def _user_dict(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role,
        "active": user.active,
        "created_at": format_time(user.created_at),
    }


def _token_dict(token: ApiToken) -> dict[str, Any]:
    return {
        "token_id": token.token_id,
        "name": token.name,
        "username": token.user.username,
        "created_at": format_time(token.created_at),
        "expires_at": format_time(token.expires_at) if token.expires_at else None,
        "revoked": token.revoked_at is not None,
    }


def _throttled(wait: int) -> ApiError:
    return ApiError(
        429,
        "too_many_attempts",
        f"too many failed logins; try again in {wait} s",
        [{"field": "password", "reason": "too many failed logins"}],
        headers={"Retry-After": str(wait)},
    )


def _audit_login(store: Store, username: str, outcome: str, detail: str = "") -> None:
    with store.transaction() as session:
        user = find_user(session, username)
        append_audit(
            session,
            actor=user.username if user is not None else UNKNOWN_USER,
            role=user.role if user is not None else "-",
            action="execute",
            resource="auth.login",
            patient_id=None,
            outcome="success" if outcome == "success" else "failure",
            detail=detail,
        )


def checked_password(
    store: Store, throttle: LoginThrottle, address: str, username: str, password: str
) -> User | None:
    """The user if the password is right; throttled (429) before any hashing; failures counted."""
    wait = throttle.acquire(address, username)  # counted as a failure until it succeeds
    if wait:
        raise _throttled(wait)
    try:
        user = check_password(store, username, password)
    except VerifyBusyError:
        raise _throttled(1) from None
    if user is None:
        return None
    throttle.success(address, username)
    return user


def _bad_credentials() -> ApiError:
    return ApiError(
        401,
        "bad_credentials",
        "unknown user or wrong password",
        [{"field": "password", "reason": "unknown user or wrong password"}],
    )


@router.post(
    "/auth/login",
    summary="Exchange a username and password for a bearer token",
    responses={429: {"description": "Too many failed logins (Retry-After)"}},
)
def login(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    body: LoginIn,
) -> dict[str, Any]:
    address = client_address(request.scope, settings.trusted_proxies)
    user = checked_password(store, throttle, address, body.username, body.password)
    if user is None:
        _audit_login(store, body.username, "failure", "wrong credentials")
        raise _bad_credentials()
    with store.transaction() as session:
        found = find_user(session, user.username)
        if found is None or not found.active:  # pragma: no cover - deleted in between
            raise _bad_credentials()
        issued = issue_token(session, found, "login", timedelta(hours=settings.login_token_hours))
        role = found.role
        append_audit(
            session,
            actor=found.username,
            role=role,
            action="execute",
            resource="auth.login",
            patient_id=None,
            outcome="success",
            detail=f"token {issued.token_id}",
        )
    return {
        "access_token": issued.token,
        "token_type": "bearer",
        "token_id": issued.token_id,
        "role": role,
        "expires_at": format_time(issued.expires_at) if issued.expires_at else None,
    }


@router.get("/auth/me", summary="Who the token belongs to")
def me(principal: Viewer) -> dict[str, Any]:
    return {"username": principal.username, "role": principal.role, "token_id": principal.token_id}


@router.post("/auth/password", summary="Change your own password (ends your other logins)")
def change_password(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    principal: Viewer,
    body: PasswordIn,
) -> dict[str, Any]:
    address = client_address(request.scope, settings.trusted_proxies)
    user = checked_password(store, throttle, address, principal.username, body.current_password)
    if user is None:
        raise ApiError.field(403, "bad_credentials", "current_password", "wrong password")
    try:
        with store.transaction() as session:
            found = find_user(session, principal.username)
            assert found is not None  # the principal's token resolved just now
            set_password(session, found, body.new_password)
            audit_in(session, principal, "update", "user.password", None, "success")
    except UserError as exc:
        raise ApiError.field(422, "invalid_password", "new_password", str(exc)) from None
    return {"username": principal.username, "password_changed": True}


def _admin_audit(session: Session, admin: Principal, resource: str, detail: str) -> None:
    audit_in(
        session,
        admin,
        "update" if resource != "user" else "create",
        resource,
        None,
        "success",
        detail,
    )


@router.post("/users", status_code=201, summary="Create a user (admin)")
def create(store: StoreDep, admin: Admin, body: UserIn) -> dict[str, Any]:
    try:
        with store.transaction() as session:
            user = create_user(session, body.username, body.password, body.role)
            _admin_audit(session, admin, "user", f"user {user.username} role {user.role}")
            return _user_dict(user)
    except UserError as exc:
        status = 409 if "exists" in str(exc) else 422
        raise ApiError.field(status, "invalid_user", exc.field, str(exc)) from None


@router.get("/users", summary="List users (admin)")
def list_users(store: StoreDep, _admin: Admin) -> list[dict[str, Any]]:
    with store.transaction() as session:
        return [
            _user_dict(u) for u in session.execute(select(User).order_by(User.username)).scalars()
        ]


@router.patch("/users/{username}", summary="Change a user's role or activation (admin)")
def update_user(
    store: StoreDep,
    admin: Admin,
    username: Username,
    body: UserPatch,
) -> dict[str, Any]:
    with store.transaction() as session:
        user = find_user(session, username)
        if user is None:
            raise ApiError.field(404, "not_found", "username", f"no user {username[:100]!r}")
        changes = []
        if body.role is not None and body.role != user.role:
            changes.append(f"role {user.role} -> {body.role}")
            user.role = body.role
        if body.active is not None and body.active != user.active:
            changes.append("activated" if body.active else "deactivated")
            set_active(session, user, body.active)
        if changes:
            _admin_audit(
                session, admin, "user.update", f"user {user.username}: " + ", ".join(changes)
            )
        return _user_dict(user)


@router.post("/users/{username}/tokens", status_code=201, summary="Issue an API token (admin)")
def create_token(
    store: StoreDep,
    admin: Admin,
    username: Username,
    body: Annotated[TokenIn | None, Body()] = None,
) -> dict[str, Any]:
    body = body or TokenIn()
    with store.transaction() as session:
        user = find_user(session, username)
        if user is None:
            raise ApiError.field(404, "not_found", "username", f"no user {username!r}")
        lifetime = timedelta(days=body.days) if body.days is not None else None
        issued = issue_token(session, user, body.name, lifetime)
        _admin_audit(session, admin, "token", f"token {issued.token_id} issued to {user.username}")
    return {
        "access_token": issued.token,
        "token_type": "bearer",
        "token_id": issued.token_id,
        "expires_at": format_time(issued.expires_at) if issued.expires_at else None,
    }


@router.get("/tokens", summary="List tokens, never their secrets (admin)")
def list_tokens(store: StoreDep, _admin: Admin) -> list[dict[str, Any]]:
    with store.transaction() as session:
        tokens = session.execute(select(ApiToken).order_by(ApiToken.pk)).scalars()
        return [_token_dict(t) for t in tokens]


@router.delete("/tokens/{token_id}", summary="Revoke a token (admin, or the token's owner)")
def revoke(
    store: StoreDep,
    principal: Viewer,
    token_id: Annotated[str, Path(max_length=32, pattern="^[0-9a-f]{1,32}$")],
) -> dict[str, Any]:
    with store.transaction() as session:
        token = session.execute(
            select(ApiToken).where(ApiToken.token_id == token_id)
        ).scalar_one_or_none()
        if token is None or (
            not principal.allowed("admin") and token.user.username != principal.username
        ):
            raise ApiError.field(404, "not_found", "token_id", f"no token {token_id!r}")
        try:
            token = revoke_token(session, token_id)
        except UserError as exc:  # pragma: no cover - checked above
            raise ApiError.field(404, "not_found", exc.field, str(exc)) from None
        audit_in(
            session, principal, "update", "token", None, "success", f"token {token_id} revoked"
        )
        return _token_dict(token)
