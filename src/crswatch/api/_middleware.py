"""ASGI middleware: request-size limit (413), per-address rate limit (429), request log, error
shield and security headers.

The request log names the request id, the method, the route template
(``/patients/{patient_id}/grade``, never the concrete path), the status and the duration: no
patient identifiers or values.  An unexpected exception is logged as its type and the request id
only: no traceback (it would carry SQL parameters and patient records), and it is not re-raised
to the server, which would print one.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from crswatch.api._errors import error_body

__all__ = [
    "BodyLimitMiddleware",
    "ErrorShieldMiddleware",
    "RateLimitMiddleware",
    "RequestLogMiddleware",
    "SecurityHeadersMiddleware",
    "client_address",
    "request_id",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("crswatch.api")
_REQUEST_ID = "crswatch.request_id"


def request_id(scope: Scope) -> str:
    """This request's id (also sent back as ``X-Request-ID``), made on first use."""
    value = scope.get(_REQUEST_ID)
    if not isinstance(value, str):
        value = uuid.uuid4().hex[:16]
        scope[_REQUEST_ID] = value
    return value


def client_address(scope: Scope, trusted_proxies: tuple[str, ...] = ()) -> str:
    """The client's address: the connection's peer, or, only when that peer is a configured
    trusted proxy, the nearest untrusted address in ``X-Forwarded-For``."""
    client = scope.get("client")
    peer = str(client[0]) if client else "-"
    if not trusted_proxies or not _within(peer, trusted_proxies):
        return peer
    forwarded = [
        part.strip()
        for name, value in scope.get("headers", [])
        if name == b"x-forwarded-for"
        for part in value.decode("latin-1").split(",")
    ]
    for hop in reversed(forwarded):
        if not _within(hop, trusted_proxies):
            return hop if _valid(hop) else peer
    return peer


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _within(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)


async def _reply(send: Send, status: int, code: str, message: str, **headers: str) -> None:
    body = json.dumps(error_body(status, code, message)).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    raw_headers += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


class _BodyTooLargeError(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await _reply(send, 413, "body_too_large", self._message())
                    return
        received = 0
        started = False
        replied = False

        async def counted() -> Message:
            nonlocal received, replied
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # A chunked body (no Content-Length) grew too large: answer 413 here, since
                    # the framework turns an error while reading a body into its own 400.
                    if not started and not replied:
                        replied = True
                        await _reply(send, 413, "body_too_large", self._message())
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if replied:
                return  # the 413 is already sent; the framework's own answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking_send)
        except _BodyTooLargeError:
            if not started and not replied:
                await _reply(send, 413, "body_too_large", self._message())

    def _message(self) -> str:
        return f"request body larger than {self.max_bytes} bytes"


class RateLimitMiddleware:
    """A fixed one-minute window per client address.

    Never keyed on a header the client chooses (a random ``Authorization`` header used to give
    every request a fresh bucket); ``X-Forwarded-For`` counts only from a trusted proxy.
    """

    def __init__(
        self, app: ASGIApp, per_minute: int, trusted_proxies: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.per_minute = per_minute
        self.trusted_proxies = trusted_proxies
        self._lock = threading.Lock()
        self._window = 0
        self._counts: dict[str, int] = {}

    def _key(self, scope: Scope) -> str:
        return client_address(scope, self.trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.per_minute <= 0:
            await self.app(scope, receive, send)
            return
        now = time.time()
        window = int(now // 60)
        key = self._key(scope)
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        if count > self.per_minute:
            retry = str(60 - int(now % 60))
            await _reply(send, 429, "rate_limited", "too many requests", **{"retry-after": retry})
            return
        await self.app(scope, receive, send)


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "(unmatched)")
            log.info(
                "[%s] %s %s -> %d (%.1f ms)",
                request_id(scope),
                scope.get("method"),
                template,
                status,
                (time.perf_counter() - started) * 1000,
            )


class ErrorShieldMiddleware:
    """The last line: an unexpected exception becomes a bare 500 naming the request id.

    Starlette's own error middleware answers 500 and then re-raises, and the server prints the
    traceback, with the values of every frame and SQL statement in it; this one logs the
    exception's type, the route template and the request id, and stops there.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the boundary: nothing may escape with data
            route = scope.get("route")
            log.error(
                "[%s] internal error on %s %s: %s",
                request_id(scope),
                scope.get("method"),
                getattr(route, "path", "(unmatched)"),
                type(exc).__name__,
            )
            if not started:
                await _reply(
                    send,
                    500,
                    "internal_error",
                    f"internal error (request {request_id(scope)})",
                )


#: A JSON or plain response is never a page: it may load nothing and be framed by no one.
_API_CSP = "default-src 'none'; frame-ancestors 'none'"
#: Pages without their own policy (error pages): this server's styles and scripts only.
_PAGE_CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeadersMiddleware:
    """Security headers on every response (a 403, 404 or 500 too), where the route set none.

    ``nosniff``, no framing, a content security policy, no referrer to other sites,
    ``Cache-Control: no-store`` (answers carry patient data; static files excepted),
    ``Strict-Transport-Security`` over HTTPS, and the request id.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")
        https = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                html = any(
                    name.lower() == b"content-type" and value.startswith(b"text/html")
                    for name, value in headers
                )
                wanted = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", (_PAGE_CSP if html else _API_CSP).encode()),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-request-id", request_id(scope).encode()),
                ]
                if not static:
                    wanted.append((b"cache-control", b"no-store"))
                if https:
                    wanted.append((b"strict-transport-security", b"max-age=31536000"))
                headers += [(name, value) for name, value in wanted if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
