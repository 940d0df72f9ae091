"""ASGI middleware: request-size limit (413), per-token rate limit (429), request log.

The request log names the method, the route template (``/patients/{patient_id}/grade``, never
the concrete path), the status and the duration: no patient identifiers or values.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from crswatch.api._errors import error_body

__all__ = ["BodyLimitMiddleware", "RateLimitMiddleware", "RequestLogMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("crswatch.api")


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

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking_send)
        except _BodyTooLargeError:
            if not started:
                await _reply(send, 413, "body_too_large", self._message())

    def _message(self) -> str:
        return f"request body larger than {self.max_bytes} bytes"


class RateLimitMiddleware:
    """A fixed one-minute window per bearer token (or per client address)."""

    def __init__(self, app: ASGIApp, per_minute: int) -> None:
        self.app = app
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._window = 0
        self._counts: dict[str, int] = {}

    def _key(self, scope: Scope) -> str:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                return hashlib.sha256(value).hexdigest()
        client = scope.get("client")
        return f"addr:{client[0] if client else '-'}"

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
                "%s %s -> %d (%.1f ms)",
                scope.get("method"),
                template,
                status,
                (time.perf_counter() - started) * 1000,
            )
