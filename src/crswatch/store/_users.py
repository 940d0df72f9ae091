"""Users, passwords (Argon2id) and bearer tokens (only their SHA-256 is stored).

Argon2id parameters are pinned (t = 3 passes, m = 64 MiB, p = 4 lanes: RFC 9106's second
recommended option, argon2-cffi's default) so that a library upgrade cannot change the cost of a
login silently; at most ``VERIFY_SLOTS`` verifications run at once, so password guessing cannot
take more than that many cores from the rest of the service, and the login throttle
(``crswatch.store.LoginThrottle``) stops repeated guesses before they reach the hash at all
(docs/decisions/0037-threat-model.md).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from crswatch.store._models import ApiToken, DashboardSession, User

if TYPE_CHECKING:  # _db imports the models, not this module; the type is enough here
    from crswatch.store._db import Store

__all__ = [
    "ROLES",
    "IssuedToken",
    "Principal",
    "UserError",
    "VerifyBusyError",
    "authenticate",
    "check_password",
    "create_user",
    "issue_token",
    "password_problem",
    "resolve_token",
    "revoke_token",
    "set_active",
    "set_password",
    "unchanged_passwords",
]

#: Roles, each allowed what the ones before it are.
ROLES: tuple[str, ...] = ("viewer", "clinician", "admin")
TOKEN_PREFIX = "cw_"
_USERNAME = re.compile(r"[A-Za-z0-9_.@-]{1,100}")
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4)
#: Concurrent Argon2 verifications (each holds 64 MiB and up to 4 threads).
VERIFY_SLOTS = 2
_verify_slots = threading.BoundedSemaphore(VERIFY_SLOTS)
MIN_PASSWORD_LENGTH = 12
#: Passwords of 12 or more characters that lead breach lists (a few dozen of the most common;
#: with the length, repetition and username rules below they stop the guesses tried first).
_COMMON = frozenset(
    {
        "password1234",
        "passwordpassword",
        "password12345",
        "password123456",
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456789abc",
        "qwertyuiop12",
        "qwertyuiopasdf",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "iloveyou1234",
        "administrator",
        "administrator1",
        "changeme1234",
        "letmein12345",
        "welcome12345",
        "welcome123456",
        "trustno11234",
        "abcdefghijkl",
        "abcd12345678",
        "football1234",
        "baseball1234",
        "sunshine1234",
        "princess1234",
        "superman1234",
        "qwertyqwerty",
        "asdfghjkl123",
        "correcthorsebatterystaple",
        "crswatch1234",
        "crswatchcrswatch",
        "hospital1234",
        "clinician123",
        "clinician1234",
        "doctor123456",
        "nurse1234567",
    }
)
# A hash to verify against when the user does not exist, so timing does not reveal it.  Made
# once with ``_hasher`` (the same pinned parameters, so verifying it costs what a real one does)
# and written here: hashing it at import cost every process ~0.25 s before doing anything
# (issue 16, point 5); tests/store check that it verifies and needs no rehash.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$rzOSmlsjnSbu7xGoT9YsAA"
    "$vGiix11F9iM8gPogKTtesOKC1IUmfs4pKpOtlIvl9uM"
)


class VerifyBusyError(Exception):
    """Every password-verification slot stayed busy: the caller answers 429, never waits long."""


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
    if not _USERNAME.fullmatch(username):
        raise UserError("username", "1-100 characters of letters, digits and _ . @ -")
    if role not in ROLES:
        raise UserError("role", f"must be one of {', '.join(ROLES)}")
    problem = password_problem(password, username)
    if problem is not None:
        raise UserError("password", problem)
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


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is too weak to set, or None: length, repetition, common, the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"at least {MIN_PASSWORD_LENGTH} characters"
    folded = password.casefold()
    if len(set(folded)) < 5:
        return "too few different characters (a repeated character or pattern)"
    for period in range(1, len(folded) // 2 + 1):
        if len(folded) % period == 0 and folded[:period] * (len(folded) // period) == folded:
            return "a repeated pattern"
    if folded in _COMMON or folded.replace(" ", "") in _COMMON:
        return "one of the most common passwords"
    if username and username.casefold() in folded:
        return "contains the username"
    return None


def set_password(session: Session, user: User, password: str) -> None:
    """Set ``user``'s own new password; ends their dashboard sessions and login tokens."""
    problem = password_problem(password, user.username)
    if problem is not None:
        raise UserError("password", problem)
    now = datetime.now(UTC)
    user.password_hash = _hasher.hash(password)
    user.password_changed_at = now
    _end_logins(session, user, now)


def set_active(session: Session, user: User, active: bool) -> None:
    """Activate or deactivate ``user``; deactivation ends their sessions and login tokens."""
    user.active = active
    if not active:
        _end_logins(session, user, datetime.now(UTC))


def _end_logins(session: Session, user: User, now: datetime) -> None:
    for row in session.execute(
        select(DashboardSession).where(DashboardSession.user_pk == user.pk)
    ).scalars():
        session.delete(row)
    for token in session.execute(
        select(ApiToken).where(
            ApiToken.user_pk == user.pk, ApiToken.name == "login", ApiToken.revoked_at.is_(None)
        )
    ).scalars():
        token.revoked_at = now
    session.flush()


def unchanged_passwords(session: Session) -> list[str]:
    """Active users who never set their own password (a demo's, or the one they were given)."""
    return list(
        session.execute(
            select(User.username)
            .where(User.active.is_(True), User.password_changed_at.is_(None))
            .order_by(User.username)
        ).scalars()
    )


def find_user(session: Session, username: str) -> User | None:
    if not _USERNAME.fullmatch(username):
        return None  # never a user; and PostgreSQL refuses a NUL in a query parameter
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user when the password is right and the user active, else None.

    Raises :class:`VerifyBusyError` when no verification slot frees within a few seconds.
    """
    user = find_user(session, username)
    if not _verify_slots.acquire(timeout=5.0):
        raise VerifyBusyError
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    finally:
        _verify_slots.release()
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def check_password(store: Store, username: str, password: str) -> User | None:
    """:func:`authenticate` without holding a transaction while Argon2 runs.

    The hash is read in one short transaction and verified outside any (on SQLite every
    transaction holds the database's write lock: a login must not stall every other request
    for the half second a verification takes); a rehash is written in a second one.  Returns
    the user (detached) or None; raises :class:`VerifyBusyError` like ``authenticate``.
    """
    with store.transaction() as session:
        user = find_user(session, username)
        stored = user.password_hash if user is not None else _DUMMY_HASH
    if not _verify_slots.acquire(timeout=5.0):
        raise VerifyBusyError
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    finally:
        _verify_slots.release()
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(stored):
        with store.transaction() as session:
            fresh = find_user(session, username)
            if fresh is not None and fresh.password_hash == stored:
                fresh.password_hash = _hasher.hash(password)
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
