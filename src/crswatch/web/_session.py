"""Dashboard sessions: server-side sessions behind a signed cookie, CSRF, role checks, the audit.

The cookie (Starlette ``SessionMiddleware``, itsdangerous-signed, ``HttpOnly``,
``SameSite=Strict``) holds only the secret of a session kept in the store and the session's CSRF
token.  Every request looks the session up: logout deletes it, a password change or a
deactivation deletes all of the user's, and one unused for ``Settings.session_idle_minutes``
(or older than ``login_token_hours``) has ended, so a saved cookie replayed later reads nothing.
The user is read back on every request, so a changed role takes effect at once.  Logins are
throttled per client address and username like the API's (``crswatch.store.LoginThrottle``).
CSRF: a synchronizer token bound to the session, required on every POST as the form field
``csrf_token`` or the ``X-CSRF-Token`` header (htmx sends it from ``hx-headers``), compared in
constant time (docs/decisions/0016-dashboard.md).
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from crswatch.errors import CRSWatchError
from crswatch.store import (
    SESSION_TOKEN_ID,
    LoginThrottle,
    Principal,
    Store,
    VerifyBusyError,
    append_audit,
    check_password,
    find_user,
    record_audit,
    resolve_session,
)
from crswatch.store import end_session as end_stored_session
from crswatch.store import start_session as start_stored_session
from crswatch.store._audit import Action, Outcome

if TYPE_CHECKING:  # the API package imports this one: no import cycle at run time
    from crswatch.api._settings import Settings

__all__ = [
    "COOKIE_NAME",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "CSRFError",
    "DashboardSessionMiddleware",
    "LoginAttempt",
    "LoginRequiredError",
    "RoleError",
    "attempt_login",
    "audit",
    "csrf_token",
    "current_user",
    "end_session",
    "require_user",
    "secure_cookie",
    "start_session",
    "verify_csrf",
]

COOKIE_NAME = "crswatch_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
#: The principal's token id for audit records of dashboard sessions (no API token involved).
_SESSION_TOKEN = SESSION_TOKEN_ID
#: The actor of a failed login whose typed username names no user (it may be a password).
_UNKNOWN_USER = "(unknown user)"
_LOOPBACK_NAMES = frozenset({"localhost"})


class LoginRequiredError(CRSWatchError):
    """No (valid) session: pages redirect to the login form, htmx requests get 401."""


class RoleError(CRSWatchError):
    def __init__(self, principal: Principal, role: str) -> None:
        self.principal = principal
        self.role = role
        super().__init__(f"role={principal.role!r} may not do this; {role!r} or above is required")


class CSRFError(CRSWatchError):
    """The POST's ``csrf_token`` (field or header) is missing or not this session's."""


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class DashboardSessionMiddleware:
    """``SessionMiddleware`` whose ``Secure`` flag follows ``Settings.secure_cookies``.

    ``None`` (auto) marks the cookie ``Secure`` on every request except plain HTTP to a loopback
    address (a local ``crswatch demo``): traffic that never leaves the machine has no TLS to
    protect, and clients other than Chromium and Firefox drop ``Secure`` cookies over HTTP.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        secret = settings.session_secret or secrets.token_urlsafe(32)
        common: dict[str, Any] = {
            "secret_key": secret,
            "session_cookie": COOKIE_NAME,
            "max_age": int(settings.login_token_hours * 3600),
            "same_site": "strict",
        }
        self._secure = SessionMiddleware(app, https_only=True, **common)
        self._plain = SessionMiddleware(app, https_only=False, **common)
        self._mode = settings.secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        secure = _secure_for(scope, self._mode)
        scope[_SECURE_KEY] = secure
        await (self._secure if secure else self._plain)(scope, receive, send)


_SECURE_KEY = "crswatch.secure_cookie"


def _secure_for(scope: Scope, mode: bool | None) -> bool:
    if mode is not None:
        return mode
    server = scope.get("server")
    plain_loopback = scope.get("scheme") == "http" and _loopback(server[0] if server else None)
    return not plain_loopback


def secure_cookie(request: Request) -> bool:
    """Whether this request's session cookie is ``Secure`` (a browser drops it over HTTP)."""
    return bool(request.scope.get(_SECURE_KEY, False))


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (before login too: the login form)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def verify_csrf(request: Request, form_value: Any) -> None:
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER) or (form_value if isinstance(form_value, str) else "")
    if not isinstance(expected, str) or not sent or not secrets.compare_digest(expected, sent):
        raise CSRFError("csrf_token is missing or does not match this session")


def _app_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _limits(request: Request) -> tuple[timedelta, timedelta]:
    settings: Settings | None = getattr(request.app.state, "settings", None)
    idle = settings.session_idle_minutes if settings is not None else 60.0
    hours = settings.login_token_hours if settings is not None else 12.0
    return timedelta(minutes=idle), timedelta(hours=hours)


def start_session(request: Request, username: str) -> None:
    """Log in: a fresh server-side session (and CSRF token), so nothing seen before is useful."""
    store = _app_store(request)
    old = request.session.get("sid")
    with store.transaction() as session:
        if isinstance(old, str):
            end_stored_session(session, old)
        user = find_user(session, username)
        if user is None:  # pragma: no cover - authenticated just now
            raise LoginRequiredError
        secret = start_stored_session(session, user)
    request.session.clear()
    request.session["sid"] = secret
    request.session["csrf"] = secrets.token_urlsafe(32)


def end_session(request: Request) -> None:
    """Log out: the stored session is deleted, so the cookie is worthless even if kept."""
    secret = request.session.get("sid")
    if isinstance(secret, str):
        with _app_store(request).transaction() as session:
            end_stored_session(session, secret)
    request.session.clear()


def current_user(request: Request, store: Store) -> Principal | None:
    secret = request.session.get("sid")
    if not isinstance(secret, str):
        return None
    idle, lifetime = _limits(request)
    with store.transaction() as session:
        user = resolve_session(session, secret, idle=idle, lifetime=lifetime)
        if user is None:
            return None
        return Principal(username=user.username, role=user.role, token_id=_SESSION_TOKEN)


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """A login's outcome: the user's name and role, or the error to show and its status."""

    username: str | None
    role: str | None
    error: str | None = None
    status: int = 200


def _throttle(request: Request) -> LoginThrottle:
    state = request.app.state
    throttle = getattr(state, "login_throttle", None)
    if not isinstance(throttle, LoginThrottle):
        throttle = LoginThrottle()
        state.login_throttle = throttle
    return throttle


def _address(request: Request) -> str:
    from crswatch.api._middleware import client_address  # the API imports this package

    settings: Settings | None = getattr(request.app.state, "settings", None)
    return client_address(request.scope, settings.trusted_proxies if settings else ())


def attempt_login(request: Request, store: Store, username: str, password: str) -> LoginAttempt:
    """Check a password behind the login throttle; audit a failure without the typed name
    unless it names a user (a password typed into the username field is never stored)."""
    throttle, address = _throttle(request), _address(request)
    wait = throttle.acquire(address, username)  # counted as a failure until it succeeds
    if wait:
        return LoginAttempt(None, None, f"too many failed logins; try again in {wait} s", 429)
    try:
        user = check_password(store, username, password)
        found = (user.username, user.role) if user is not None else None
    except VerifyBusyError:
        return LoginAttempt(None, None, "the server is busy; try again in a moment", 429)
    if found is not None:
        throttle.success(address, username)
        return LoginAttempt(*found)
    with store.transaction() as session:
        known = find_user(session, username)
        append_audit(
            session,
            actor=known.username if known is not None else _UNKNOWN_USER,
            role=known.role if known is not None else "-",
            action="execute",
            resource="dashboard.login",
            patient_id=None,
            outcome="failure",
        )
    return LoginAttempt(None, None, "unknown user or wrong password", 401)


def require_user(request: Request, store: Store, role: str = "viewer") -> Principal:
    principal = current_user(request, store)
    if principal is None:
        raise LoginRequiredError
    if not principal.allowed(role):
        raise RoleError(principal, role)
    return principal


def audit(
    store: Store,
    actor: str,
    role: str,
    action: Action,
    resource: str,
    patient_id: str | None,
    outcome: Outcome,
    detail: str = "",
) -> None:
    """One record in the hash-chained audit log (no patient values, ever, in ``detail``)."""
    record_audit(
        store,
        actor=actor,
        role=role,
        action=action,
        resource=resource,
        patient_id=patient_id,
        outcome=outcome,
        detail=detail,
    )
