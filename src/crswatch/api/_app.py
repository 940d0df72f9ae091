"""The FastAPI application factory."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from crswatch.api._docs import mount_docs
from crswatch.api._errors import install_error_handlers
from crswatch.api._middleware import (
    BodyLimitMiddleware,
    ErrorShieldMiddleware,
    RateLimitMiddleware,
    RequestLogMiddleware,
    SecurityHeadersMiddleware,
)
from crswatch.api._settings import Settings
from crswatch.api.cds_hooks import CdsHooksSettings, mount_cds_hooks
from crswatch.api.routes import _analysis, _audit, _auth, _patients
from crswatch.store import LoginThrottle, Store
from crswatch.web import mount_dashboard

__all__ = ["create_app"]


def create_app(
    store: Store | None = None,
    settings: Settings | None = None,
    *,
    cds_hooks: CdsHooksSettings | None = None,
) -> FastAPI:
    """The service over ``store`` (default: the database the environment selects, migrated).

    ``cds_hooks`` (default: from ``CRSWATCH_CDS_*``) mounts the CDS Hooks service when enabled.
    """
    app = FastAPI(
        title="crswatch",
        version="0.1.0",
        description=(
            "CRS, ICANS and HLH/MAS surveillance as a service. Every endpoint but /health and "
            "/auth/login needs a bearer token; every read and write of patient data is audited."
        ),
        # Swagger UI from the installed package, not a CDN (crswatch.api._docs); no ReDoc.
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store if store is not None else Store()
    app.state.settings = settings if settings is not None else Settings.from_env()
    app.state.login_throttle = LoginThrottle(
        free=app.state.settings.login_free_failures,
        ceiling=app.state.settings.login_max_backoff_seconds,
    )
    install_error_handlers(app)
    mount_docs(app)

    @app.get("/health", tags=["health"], summary="Liveness and database reachability")
    def health() -> dict[str, Any]:
        return {"status": "ok", "database": app.state.store.dialect}

    for module in (_auth, _patients, _analysis, _audit):
        app.include_router(module.router)
    # The clinician dashboard (pages, static files, session cookie) on the same app.
    mount_dashboard(app)
    # The CDS Hooks service for the EHR (/cds-services), when enabled (off by default).
    mount_cds_hooks(app, cds_hooks)
    limits: Settings = app.state.settings
    app.add_middleware(
        RateLimitMiddleware,
        per_minute=limits.rate_limit_per_minute,
        trusted_proxies=limits.trusted_proxies,
    )
    app.add_middleware(BodyLimitMiddleware, max_bytes=limits.max_body_bytes)
    # Outermost last: headers on every answer (the shield's 500 too), the log sees the 500.
    app.add_middleware(ErrorShieldMiddleware)
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
