"""The HTTP side: ``/cds-services`` discovery, the service calls and feedback, JWT and audit.

Every call is authenticated (the EHR's JWT, ``aud`` = the URL called) before its body is read,
and audited, failures included: actor = the JWT issuer (or "unauthenticated"), role
``cds-client``, resource ``cds-hooks/<service id>``.  Request errors name the field
(``{"error": {..., "issues": [{"field", "reason"}]}}``, as the rest of the API); a service that
can neither get nor fetch the Patient answers 412 (the spec's Precondition Failed).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from crswatch.api._errors import ApiError
from crswatch.api.cds_hooks._auth import (
    ClientAuthError,
    ClientIdentity,
    JtiCache,
    verify_client_jwt,
)
from crswatch.api.cds_hooks._feedback import parse_feedback, store_feedback
from crswatch.api.cds_hooks._hooks import PreconditionFailedError, answer_hook
from crswatch.api.cds_hooks._services import SERVICES, discovery
from crswatch.api.cds_hooks._settings import CdsHooksSettings
from crswatch.errors import InputError
from crswatch.store import Store, record_audit
from crswatch.store._audit import Action, Outcome

__all__ = ["build_router"]

log = logging.getLogger("crswatch.api.cds_hooks")
_BY_ID = {service.id: service for service in SERVICES}
_ROLE = "cds-client"


def _audit(
    store: Store,
    client: ClientIdentity | None,
    action: Action,
    resource: str,
    patient_id: str | None,
    outcome: Outcome,
    detail: str = "",
) -> None:
    actor = client.issuer if client is not None else "unauthenticated"
    record_audit(
        store,
        actor=actor[:100],
        role=_ROLE,
        action=action,
        resource=resource[:40],
        patient_id=patient_id[:200] if patient_id else None,
        outcome=outcome,
        detail=detail,
    )


def _bad(field: str, message: str) -> ApiError:
    return ApiError.field(400, "invalid_request", field, message)


def _check_call(service_id: str, hook: str, body: Any) -> str:
    """The patient id of a valid service call body; raises naming the first bad field."""
    if not isinstance(body, Mapping):
        raise _bad("body", "a JSON object is required")
    if body.get("hook") != hook:
        raise _bad("hook", f"hook={body.get('hook')!r}; service {service_id!r} answers {hook!r}")
    instance = body.get("hookInstance")
    try:
        uuid.UUID(str(instance))
    except ValueError:
        raise _bad("hookInstance", f"hookInstance={instance!r} is not a UUID") from None
    if "fhirAuthorization" in body and not isinstance(body.get("fhirServer"), str):
        raise _bad("fhirServer", "required when fhirAuthorization is given")
    authorization = body.get("fhirAuthorization")
    if authorization is not None and (
        not isinstance(authorization, Mapping)
        or not isinstance(authorization.get("access_token"), str)
        or authorization.get("token_type") != "Bearer"
    ):
        raise _bad("fhirAuthorization", "an object with access_token and token_type 'Bearer'")
    context = body.get("context")
    if not isinstance(context, Mapping):
        raise _bad("context", "an object is required")
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id or len(patient_id) > 200:
        raise _bad("context.patientId", f"patientId={patient_id!r} is required")
    if hook in ("order-select", "order-sign"):
        if not isinstance(context.get("draftOrders"), Mapping):
            raise _bad("context.draftOrders", "a Bundle of draft orders is required")
        if hook == "order-select" and not isinstance(context.get("selections"), list):
            raise _bad("context.selections", "an array of order references is required")
    prefetch = body.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, Mapping):
        raise _bad("prefetch", "an object of prefetch keys is required")
    return patient_id


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise _bad("body", "not JSON") from None


def build_router(settings: CdsHooksSettings) -> APIRouter:
    """The ``/cds-services`` routes for ``settings`` (already enabled)."""
    router = APIRouter(tags=["cds-hooks"])
    seen = JtiCache()

    def base(request: Request) -> str:
        return settings.base_url or str(request.base_url).rstrip("/")

    def authenticate(
        request: Request, audiences: tuple[str, ...], resource: str, patient_id: str | None = None
    ) -> ClientIdentity:
        store: Store = request.app.state.store
        try:
            return verify_client_jwt(
                request.headers.get("Authorization"), audiences, settings, seen
            )
        except ClientAuthError as exc:
            _audit(store, None, "execute", resource, patient_id, "failure", str(exc))
            raise ApiError(
                401,
                "unauthenticated",
                str(exc),
                [{"field": exc.field, "reason": exc.reason}],
                headers={"WWW-Authenticate": "Bearer"},
            ) from None

    @router.get("/cds-services", summary="CDS Hooks discovery: the services and their prefetch")
    def list_services(request: Request) -> dict[str, Any]:
        client = authenticate(request, (f"{base(request)}/cds-services",), "cds-hooks/discovery")
        _audit(request.app.state.store, client, "read", "cds-hooks/discovery", None, "success")
        return discovery()

    @router.post("/cds-services/{service_id}", summary="Call a CDS service (the EHR's hook)")
    async def call_service(service_id: str, request: Request) -> JSONResponse:
        store: Store = request.app.state.store
        service = _BY_ID.get(service_id)
        if service is None:
            raise ApiError.field(404, "not_found", "service_id", f"no CDS service {service_id!r}")
        resource = f"cds-hooks/{service_id}"
        client = authenticate(request, (f"{base(request)}/cds-services/{service_id}",), resource)
        body = await _json(request)
        try:
            patient_id = _check_call(service_id, service.hook, body)
        except ApiError as exc:
            _audit(store, client, "execute", resource, None, "failure", exc.message)
            raise
        now = settings.now or datetime.now(UTC)
        link_base = settings.dashboard_url or str(request.base_url).rstrip("/")
        transport = getattr(request.app.state, "cds_hooks_fhir_transport", None)
        try:
            cards = await run_in_threadpool(
                answer_hook, service.hook, body, settings, now, link_base, transport
            )
        except PreconditionFailedError as exc:
            _audit(store, client, "execute", resource, patient_id, "failure", str(exc))
            raise ApiError(
                412, "precondition_failed", str(exc), [{"field": "prefetch", "reason": str(exc)}]
            ) from None
        except InputError as exc:
            _audit(store, client, "execute", resource, patient_id, "failure", str(exc))
            raise _bad("context", str(exc)) from None
        detail = f"hook={service.hook} hookInstance={body['hookInstance']} cards={len(cards)}"
        _audit(store, client, "execute", resource, patient_id, "success", detail)
        return JSONResponse({"cards": cards})

    @router.post(
        "/cds-services/{service_id}/feedback", summary="What the clinician did with the cards"
    )
    async def feedback(service_id: str, request: Request) -> dict[str, Any]:
        store: Store = request.app.state.store
        if service_id not in _BY_ID:
            raise ApiError.field(404, "not_found", "service_id", f"no CDS service {service_id!r}")
        resource = f"cds-hooks/{service_id}/feedback"
        url = f"{base(request)}/cds-services/{service_id}"
        # The spec names the endpoint called as the audience; some EHRs send the service's.
        client = authenticate(request, (f"{url}/feedback", url), resource)
        body = await _json(request)
        try:
            items = parse_feedback(body)
        except InputError as exc:
            _audit(store, client, "create", resource, None, "failure", str(exc))
            field = str(exc).split(":", 1)[0].split("=", 1)[0]
            raise _bad(field, str(exc)) from None
        count = await run_in_threadpool(store_feedback, store, service_id, client, items)
        outcomes = ", ".join(f"{i.card}:{i.outcome}" for i in items)
        _audit(store, client, "create", resource, None, "success", f"feedback {outcomes}")
        return {"stored": count}

    return router
