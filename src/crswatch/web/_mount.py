"""Mounting the dashboard on the service's FastAPI application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from crswatch.web._pages import router
from crswatch.web._session import (
    CSRFError,
    DashboardSessionMiddleware,
    LoginRequiredError,
    RoleError,
    audit,
    csrf_token,
)
from crswatch.web._templates import STATIC_DIR, templates
from crswatch.web._zone import site_zone

if TYPE_CHECKING:  # the API package imports this one: no import cycle at run time
    from crswatch.api._settings import Settings

__all__ = ["mount_dashboard"]


async def _login_required(request: Request, _exc: Exception) -> Response:
    if request.headers.get("hx-request") == "true":
        # htmx follows HX-Redirect with a full page load (an expired session mid-refresh).
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _forbidden(status: int, message: str) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handler(request: Request, exc: Exception) -> Response:
        principal = getattr(exc, "principal", None)
        if isinstance(exc, RoleError) and principal is not None:
            # A refused action is audited like any other (who, what, refused); no patient data.
            await run_in_threadpool(
                audit,
                request.app.state.store,
                principal.username,
                principal.role,
                "execute",
                f"dashboard{request.url.path.replace('/', '.')}",
                request.path_params.get("patient_id"),
                "failure",
                f"refused: needs role {getattr(exc, 'role', '?')}",
            )
        context = {
            "status": status,
            "message": str(exc) if isinstance(exc, RoleError) else message,
            "csrf": csrf_token(request),
            "user": getattr(exc, "principal", None),
        }
        return templates.TemplateResponse(request, "error.html", context, status_code=status)

    return handler


def mount_dashboard(app: FastAPI) -> None:
    """Add the dashboard's pages, static files, session cookie and error pages to ``app``."""
    settings: Settings = app.state.settings
    # Resolved once: a wrong zone name fails at start-up, naming the setting (decision 0050).
    app.state.site_zone = site_zone(settings.site_timezone)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(DashboardSessionMiddleware, settings=settings)
    app.add_exception_handler(LoginRequiredError, _login_required)
    app.add_exception_handler(RoleError, _forbidden(403, "forbidden"))
    app.add_exception_handler(
        CSRFError,
        _forbidden(403, "csrf_token is missing or does not match this session; reload the page"),
    )
