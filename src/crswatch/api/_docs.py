"""The API's documentation page, served offline.

FastAPI's default ``/docs`` loads Swagger UI from a CDN, and ``/redoc`` ReDoc likewise: neither
works on a hospital network without internet access.  Here ``/docs`` serves Swagger UI's files
from the ``swagger-ui-bundle-v2`` package (Swagger UI 5, which reads the OpenAPI 3.1 document
FastAPI writes) under ``/docs/assets``; ReDoc is not offered (decision 0052).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

__all__ = ["DOCS_ASSETS", "mount_docs"]

#: Where Swagger UI's JavaScript and CSS are served from (this server, never a CDN).
DOCS_ASSETS = "/docs/assets"


def mount_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (Swagger UI from the installed package) on ``app``."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui")
    oauth_redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · API",
            swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=f"{root}{oauth_redirect}",
        )

    @app.get(oauth_redirect, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
