"""Dashboard sessions: a signed cookie naming the user, a CSRF token, role checks, the audit.

The cookie (Starlette ``SessionMiddleware``, itsdangerous-signed, ``HttpOnly``,
``SameSite=Strict``) holds only the username and the session's CSRF token; the user is read
back from the store on every request, so a deactivated user or a changed role takes effect at
once.  CSRF: a synchronizer token bound to the session, required on every POST as the form
field ``csrf_token`` or the ``X-CSRF-Token`` header (htmx sends it from ``hx-headers``), compared
in constant time (docs/decisions/0016-dashboard.md).
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import TYPE_CHECKING, Any

from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from crswatch.errors import CRSWatchError
from crswatch.store import Principal, Store, find_user, record_audit
from crswatch.store._audit import Action, Outcome

if TYPE_CHECKING:  # the API package imports this one: no import cycle at run time
    from crswatch.api._settings import Settings

__all__ = [
    "COOKIE_NAME",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "CSRFError",
    "DashboardSessionMiddleware",
    "LoginRequiredError",
    "RoleError",
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
_SESSION_TOKEN = "dashboard-session"
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


def start_session(request: Request, username: str) -> None:
    """Log in: a fresh session (and CSRF token), so a token seen before login is useless."""
    request.session.clear()
    request.session["user"] = username
    request.session["csrf"] = secrets.token_urlsafe(32)


def end_session(request: Request) -> None:
    request.session.clear()


def current_user(request: Request, store: Store) -> Principal | None:
    username = request.session.get("user")
    if not isinstance(username, str):
        return None
    with store.transaction() as session:
        user = find_user(session, username)
        if user is None or not user.active:
            return None
        return Principal(username=user.username, role=user.role, token_id=_SESSION_TOKEN)


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
