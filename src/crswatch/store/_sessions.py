"""Dashboard sessions kept server-side: logout, a password change or deactivation ends them.

The cookie carries a random session secret; the store keeps its SHA-256, the user and when the
session was last used.  A session ends when it is deleted (logout, password change, user
deactivated), when it has been idle longer than the idle timeout, or when it is older than its
absolute lifetime, whichever comes first (docs/decisions/0037-threat-model.md).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crswatch.store._models import DashboardSession, User

__all__ = ["SESSION_TOKEN_ID", "end_session", "resolve_session", "start_session"]

#: The principal's token id in audit records of dashboard sessions (no API token involved).
SESSION_TOKEN_ID = "dashboard-session"
#: last_seen_at is written at most this often (a page polls; the idle clock need not be exact).
_TOUCH = timedelta(seconds=30)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_session(session: Session, user: User) -> str:
    """A new session for ``user``; returns the secret for the cookie (stored only hashed)."""
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session.add(
        DashboardSession(
            session_hash=_digest(secret), user_pk=user.pk, created_at=now, last_seen_at=now
        )
    )
    session.flush()
    return secret


def resolve_session(
    session: Session, secret: str, *, idle: timedelta, lifetime: timedelta
) -> User | None:
    """The active user of a live session, touching its last use; None when it has ended."""
    row = session.execute(
        select(DashboardSession).where(DashboardSession.session_hash == _digest(secret))
    ).scalar_one_or_none()
    if row is None:
        return None
    now = datetime.now(UTC)
    if now - row.last_seen_at > idle or now - row.created_at > lifetime or not row.user.active:
        session.delete(row)
        return None
    if now - row.last_seen_at > _TOUCH:
        row.last_seen_at = now
    return row.user


def end_session(session: Session, secret: str) -> None:
    session.execute(
        delete(DashboardSession).where(DashboardSession.session_hash == _digest(secret))
    )
