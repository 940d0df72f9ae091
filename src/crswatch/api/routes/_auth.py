"""Login, users and tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, Field
from sqlalchemy import select

from crswatch.api._deps import Admin, SettingsDep, StoreDep, Viewer
from crswatch.api._errors import ApiError
from crswatch.store import (
    ApiToken,
    User,
    UserError,
    authenticate,
    create_user,
    find_user,
    issue_token,
    revoke_token,
)
from crswatch.timeline import format_time

router = APIRouter(tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=12, max_length=1024)
    role: str = Field(pattern="^(viewer|clinician|admin)$")


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


@router.post("/auth/login", summary="Exchange a username and password for a bearer token")
def login(store: StoreDep, settings: SettingsDep, body: LoginIn) -> dict[str, Any]:
    with store.transaction() as session:
        user = authenticate(session, body.username, body.password)
        if user is None:
            raise ApiError(
                401,
                "bad_credentials",
                "unknown user or wrong password",
                [{"field": "password", "reason": "unknown user or wrong password"}],
            )
        issued = issue_token(session, user, "login", timedelta(hours=settings.login_token_hours))
        role = user.role
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


@router.post("/users", status_code=201, summary="Create a user (admin)")
def create(store: StoreDep, _admin: Admin, body: UserIn) -> dict[str, Any]:
    try:
        with store.transaction() as session:
            user = create_user(session, body.username, body.password, body.role)
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


@router.post("/users/{username}/tokens", status_code=201, summary="Issue an API token (admin)")
def create_token(
    store: StoreDep,
    _admin: Admin,
    username: Annotated[str, Path(max_length=100)],
    body: Annotated[TokenIn | None, Body()] = None,
) -> dict[str, Any]:
    body = body or TokenIn()
    with store.transaction() as session:
        user = find_user(session, username)
        if user is None:
            raise ApiError.field(404, "not_found", "username", f"no user {username!r}")
        lifetime = timedelta(days=body.days) if body.days is not None else None
        issued = issue_token(session, user, body.name, lifetime)
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
    store: StoreDep, principal: Viewer, token_id: Annotated[str, Path(max_length=32)]
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
        return _token_dict(token)
