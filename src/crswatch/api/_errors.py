"""Error responses: ``{"error": {"status", "code", "message", "issues": [{"field", ...}]}}``.

Every 4xx names the bad field; a 5xx says nothing about the request (and the log line names
only the route template and the exception type, never patient data).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from crswatch.timeline import IngestIssue

__all__ = ["ApiError", "error_body", "install_error_handlers", "route_template"]

log = logging.getLogger("crswatch.api")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        issues: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.issues = list(issues)
        self.headers = headers
        self.extra = extra

    @classmethod
    def field(cls, status: int, code: str, field: str, message: str) -> ApiError:
        return cls(status, code, f"{field}: {message}", [{"field": field, "reason": message}])

    @classmethod
    def from_issues(
        cls, status: int, code: str, message: str, issues: Sequence[IngestIssue], **extra: Any
    ) -> ApiError:
        return cls(status, code, message, [issue.to_dict() for issue in issues], **extra)


def error_body(
    status: int, code: str, message: str, issues: Sequence[dict[str, Any]] = (), **extra: Any
) -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "code": code,
            "message": message,
            "issues": list(issues),
            **extra,
        }
    }


def route_template(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(unmatched)"


def _location(loc: Sequence[Any]) -> str:
    parts = [str(part) for part in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if rest else where
    return ".".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.status, exc.code, exc.message, exc.issues, **exc.extra),
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        issues = [
            {"field": _location(error.get("loc", ())), "reason": str(error.get("msg", ""))}
            for error in exc.errors()
        ]
        fields = ", ".join(sorted({issue["field"] for issue in issues}))
        return JSONResponse(
            error_body(422, "invalid_request", f"invalid request: {fields}", issues),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(exc.status_code, code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "internal error on %s %s: %s",
            request.method,
            route_template(request),
            type(exc).__name__,
        )
        return JSONResponse(error_body(500, "internal_error", "internal error"), status_code=500)
