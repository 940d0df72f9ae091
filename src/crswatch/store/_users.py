"""Users, passwords (Argon2id) and bearer tokens (only their SHA-256 is stored)."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from crswatch.store._models import ApiToken, User

__all__ = [
    "ROLES",
    "IssuedToken",
    "Principal",
    "UserError",
    "authenticate",
    "create_user",
    "issue_token",
    "resolve_token",
    "revoke_token",
]

#: Roles, each allowed what the ones before it are.
ROLES: tuple[str, ...] = ("viewer", "clinician", "admin")
TOKEN_PREFIX = "cw_"
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so timing does not reveal it.
_DUMMY_HASH = _hasher.hash("not-a-password")


class UserError(ValueError):
    """A user or token request that cannot be done; ``field`` names the bad input."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user and the token they presented."""

    username: str
    role: str
    token_id: str

    def allowed(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    token_id: str
    expires_at: datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_user(session: Session, username: str, password: str, role: str) -> User:
    if not _USERNAME.match(username):
        raise UserError("username", "1-100 characters of letters, digits and _ . @ -")
    if role not in ROLES:
        raise UserError("role", f"must be one of {', '.join(ROLES)}")
    if len(password) < 12:
        raise UserError("password", "at least 12 characters")
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise UserError("username", f"user {username!r} exists")
    user = User(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        active=True,
        created_at=datetime.now(UTC),
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user when the password is right and the user active, else None."""
    user = find_user(session, username)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def issue_token(
    session: Session, user: User, name: str, lifetime: timedelta | None = None
) -> IssuedToken:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    token = ApiToken(
        token_id=secrets.token_hex(8),
        token_hash=_digest(secret),
        user_pk=user.pk,
        name=name[:100],
        created_at=now,
        expires_at=now + lifetime if lifetime is not None else None,
    )
    session.add(token)
    session.flush()
    return IssuedToken(secret, token.token_id, token.expires_at)


def resolve_token(session: Session, secret: str) -> Principal | None:
    """The principal of a valid (known, unrevoked, unexpired, active-user) token."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(secret))
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= datetime.now(UTC):
        return None
    if not token.user.active:
        return None
    return Principal(token.user.username, token.user.role, token.token_id)


def revoke_token(session: Session, token_id: str) -> ApiToken:
    token = session.execute(
        select(ApiToken).where(ApiToken.token_id == token_id)
    ).scalar_one_or_none()
    if token is None:
        raise UserError("token_id", f"no token {token_id!r}")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
    return token
