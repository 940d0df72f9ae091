"""The dashboard's pages and fragments: login, ward, patient view, bedside entry.

Paths (none clashes with the REST API, and none is in its OpenAPI document): ``/`` (to the
ward), ``/login``, ``/logout``, ``/ward`` (page), ``/ward/rows`` (the htmx fragment it refreshes),
``/ward/patients/{id}`` (patient view), ``/ward/patients/{id}/entries/{kind}`` (entry form: GET a
page, POST an entry).  Every page and write is audited; heavy work runs in the thread pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from crswatch.management import TimelineEvaluation
from crswatch.references import REFERENCES
from crswatch.scales import CRS_SCALES
from crswatch.store import (
    CachedPatient,
    Principal,
    Store,
    StoreConflict,
    TimelineCache,
    app_state_object,
    app_timeline_cache,
    append_audit,
    cached_patients,
    entity_tag,
    etag_matches,
    ingest_timelines,
    list_patients,
    store_version,
)
from crswatch.timeline import MAX_PATIENT_ID_LENGTH, PATIENT_ID_PATTERN, Timeline
from crswatch.web import _charts, _panels
from crswatch.web._entry import ENTRY_FORMS, EntryResult, build_entry, time_value
from crswatch.web._isolate import PartFailure, isolated
from crswatch.web._session import (
    CSRF_FIELD,
    attempt_login,
    audit,
    csrf_token,
    current_user,
    end_session,
    require_user,
    secure_cookie,
    start_session,
    verify_csrf,
)
from crswatch.web._templates import templates
from crswatch.web._ward import (
    ICANS_SCALE,
    TIMELINE_KINDS,
    WardMemo,
    WardRecord,
    therapy_day,
    therapy_label,
    up_to,
    ward_rows_of,
)
from crswatch.web._why import deciding_findings, open_question

if TYPE_CHECKING:  # the API package imports this one: no import cycle at run time
    from crswatch.api._settings import Settings

__all__ = ["DEFAULT_SCALE", "router"]

router = APIRouter(include_in_schema=False)

DEFAULT_SCALE = "astct2019"
#: Pages hold patient data: never cached, never framed (clickjacking), no referrer elsewhere,
#: scripts and styles from this server only.  Vega compiles chart expressions with Function()
#: ('unsafe-eval') and sets inline styles; no inline script is allowed.
_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": _CSP,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
_PAGE = 500
PatientId = Annotated[
    str,
    Path(min_length=1, max_length=MAX_PATIENT_ID_LENGTH, pattern=f"^{PATIENT_ID_PATTERN.pattern}$"),
]
ScaleParam = Annotated[str, Query(max_length=64)]


# ----------------------------------------------------------------------------------- helpers


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _now(request: Request) -> datetime:
    settings: Settings = request.app.state.settings
    return settings.dashboard_now or datetime.now(UTC)


def _zone(request: Request) -> tzinfo:
    zone: tzinfo = request.app.state.site_zone
    return zone


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    status: int = 200,
    principal: Principal | None = None,
) -> Response:
    full = {
        "csrf": csrf_token(request),
        "user": principal,
        "cookie_needs_https": secure_cookie(request) and request.url.scheme != "https",
        **context,
    }
    return templates.TemplateResponse(request, name, full, status_code=status, headers=_HEADERS)


def _error(request: Request, status: int, message: str, principal: Principal | None) -> Response:
    return _render(request, "error.html", {"status": status, "message": message}, status, principal)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a scheme): no open redirect.

    Whitespace and control characters are refused too: browsers drop them from URLs, so
    ``/<TAB>/host`` would become ``//host``.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
        and not any(char.isspace() for char in target)
    ):
        return target
    return "/ward"


def _scale(scale: str | None) -> str | None:
    chosen = scale or DEFAULT_SCALE
    return chosen if chosen in CRS_SCALES else None


def _cache(request: Request) -> TimelineCache:
    """The app's timeline cache, shared with the API routes (decision 0025)."""
    return app_timeline_cache(request.app.state)


def _ward_memo(request: Request) -> WardMemo:
    """The app's ward memo (decision 0078), made on first use: one per app, as its cache."""
    return app_state_object(request.app.state, "ward_memo", WardMemo)


def _ward_records(store: Store, cache: TimelineCache) -> list[WardRecord]:
    """Every stored patient's frames through the app's cache (one marker query for the ward),
    with the ``Timeline`` only where the row's regimen engines read one, and the cache's
    results of that exact stored version as the place where the ward keeps its own."""
    with store.transaction() as session:
        ids: list[str] = []
        offset = 0
        while True:
            rows, total = list_patients(session, _PAGE, offset)
            ids += [row.patient_id for row in rows]
            offset += _PAGE
            if offset >= total:
                break
        found = cached_patients(cache, session, ids, timeline_kinds=TIMELINE_KINDS)
    return [_ward_record(cache, patient) for patient in found]


def _ward_record(cache: TimelineCache, patient: CachedPatient) -> WardRecord:
    marker = patient.marker
    keep = None if marker is None else partial(cache.result, patient.patient_id, marker)
    return WardRecord(patient.frames, patient.timeline, keep)


def _scale_choices() -> list[dict[str, str]]:
    return [{"id": scale.id, "title": scale.title} for scale in CRS_SCALES.values()]


# -------------------------------------------------------------------------------------- login


@router.get("/")
def home() -> Response:
    return RedirectResponse("/ward", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    principal = current_user(request, _store(request))
    if principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    context = {"next": _safe_next(next), "username": "", "error": ""}
    return _render(request, "login.html", context)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(_login, request, values)


def _login(request: Request, values: dict[str, str]) -> Response:
    verify_csrf(request, values.get(CSRF_FIELD))
    store = _store(request)
    username = values.get("username", "")[:100]
    target = _safe_next(values.get("next"))
    attempt = attempt_login(request, store, username, values.get("password", ""))
    role, name = attempt.role, attempt.username
    if role is None or name is None:  # throttled, or wrong (audited by attempt_login)
        context = {"next": target, "username": username, "error": attempt.error}
        return _render(request, "login.html", context, attempt.status)
    start_session(request, name)
    audit(store, name, role, "execute", "dashboard.login", None, "success")
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    verify_csrf(request, form.get(CSRF_FIELD))
    store = _store(request)
    principal = await run_in_threadpool(current_user, request, store)
    end_session(request)
    if principal is not None:
        await run_in_threadpool(
            audit,
            store,
            principal.username,
            principal.role,
            "execute",
            "dashboard.logout",
            None,
            "success",
        )
    return RedirectResponse("/login", status_code=303)


# --------------------------------------------------------------------------------------- ward


def _ward_tag(request: Request, principal: Principal, scale: str) -> str:
    """The entity tag of the ward's rows: equal tags, equal rows (decision 0057).

    The rows are a function of the stored patients (the store's version), the scale, the site
    time zone and the minute: they show times to the minute ("as of 14:05", "vitals 35 min
    ago"), and grades, ages and alerts are taken at now.  The user and role are in it too,
    so that one user's tag is never another's.  Read before the rows are computed: a tag is
    never newer than the rows it is sent with.
    """
    with _store(request).transaction() as session:
        version = store_version(session)
    minute = _now(request).astimezone(UTC).replace(second=0, microsecond=0)
    zone = str(_zone(request))
    return entity_tag(
        version, "ward", scale, minute.isoformat(), zone, principal.username, principal.role
    )


def _not_modified(request: Request, tag: str) -> bool:
    return etag_matches(request.headers.get("if-none-match"), tag)


def _ward_context(
    request: Request, principal: Principal, scale: str, tag: str | None = None
) -> dict[str, Any]:
    store = _store(request)
    now = _now(request)
    records = _ward_records(store, _cache(request))
    rows = ward_rows_of(records, now, crs_scale=scale, memo=_ward_memo(request))
    audit(
        store,
        principal.username,
        principal.role,
        "read",
        "dashboard.ward",
        None,
        "success",
        f"{len(rows)} patients, scale {scale}",
    )
    return {
        "rows": rows,
        "now": now,
        # The refresh sends it back (If-None-Match): unchanged rows come back as 304.
        "etag": tag,
        "scale": scale,
        "scale_title": CRS_SCALES[scale].title,
        "scales": _scale_choices(),
    }


@router.get("/ward")
def ward(request: Request, scale: ScaleParam = DEFAULT_SCALE) -> Response:
    principal = require_user(request, _store(request))
    chosen = _scale(scale)
    if chosen is None:
        return _error(request, 422, f"scale={scale!r} is not a CRS scale", principal)
    context = _ward_context(request, principal, chosen, _ward_tag(request, principal, chosen))
    return _render(request, "ward.html", context, 200, principal)


@router.get("/ward/rows")
def ward_table(request: Request, scale: ScaleParam = DEFAULT_SCALE) -> Response:
    principal = require_user(request, _store(request))
    chosen = _scale(scale)
    if chosen is None:
        return _error(request, 422, f"scale={scale!r} is not a CRS scale", principal)
    tag = _ward_tag(request, principal, chosen)
    if _not_modified(request, tag):
        # Nothing computed: the rows the client shows are the rows it would get (decision
        # 0057).  Still a read of patient data by this user: audited.
        audit(
            _store(request),
            principal.username,
            principal.role,
            "read",
            "dashboard.ward",
            None,
            "success",
            f"not modified (304), scale {chosen}",
        )
        return Response(status_code=304, headers={**_HEADERS, "ETag": tag})
    context = _ward_context(request, principal, chosen, tag)
    response = _render(request, "ward/_table.html", context, 200, principal)
    response.headers["ETag"] = tag
    return response


# ------------------------------------------------------------------------------ patient view


def _grades(evaluation: TimelineEvaluation, now: datetime) -> dict[str, Any]:
    """The headline grades (ASTCT CRS and ICANS), each with its deciding findings and what
    leaves it open; every scale is in the panels below."""
    # Every scale is graded at once (the panels' table reads the same state): the two
    # headline scales are picked out of it, as grading on them alone would give.
    graded = evaluation.grades(now)
    crs, icans = graded.crs[DEFAULT_SCALE], graded.icans[ICANS_SCALE.split(".", 1)[1]]
    return {
        "crs_main": crs,
        "icans": icans,
        "crs_why": deciding_findings(crs),
        "icans_why": deciding_findings(icans),
        "crs_open": open_question(crs),
        "icans_open": open_question(icans),
    }


def _place(context: dict[str, Any], name: str, built: Any) -> None:
    """``{name}_spec`` for the template, or ``{name}_failure`` when it could not be drawn."""
    failed = isinstance(built, PartFailure)
    context[f"{name}_spec"] = None if failed else built
    context[f"{name}_failure"] = built if failed else None


def _charts_for(
    evaluation: TimelineEvaluation,
    now: datetime,
    zone: tzinfo = UTC,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The figures and panels the patient view embeds (``_charts``, ``_panels``); with a
    ``request_id``, each one that raises is replaced by a :class:`PartFailure` (``_isolate``)."""
    timeline = evaluation.timeline
    context: dict[str, Any] = {"timeline_spec": None, "cytokine_spec": None}
    if timeline.events:

        def course() -> dict[str, Any]:
            # First, so that the recommendation reads its two scales' course from this one.
            table = evaluation.trajectory()
            return _charts.timeline_chart(timeline, table, now=now, zone=zone)

        _place(context, "timeline", isolated("clinical course chart", request_id, course))
        cytokines = isolated(
            "cytokine chart",
            request_id,
            lambda: _charts.cytokine_chart(timeline, now=now, zone=zone),
        )
        _place(context, "cytokine", cytokines)
    context["panels"] = _panels.patient_panels(
        timeline, at=now, evaluation=evaluation, zone=zone, request_id=request_id
    )
    return context


def patient_data(
    timeline: Timeline,
    now: datetime,
    *,
    figures: bool = True,
    zone: tzinfo = UTC,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The computed part of the patient view at ``now``: headline grades, charts and panels.

    ``timeline`` is the record as it stood at ``now`` (``up_to``).  One evaluation of it is
    shared by every part (decision 0024).  With a ``request_id`` (the dashboard's), a part
    that cannot be drawn is replaced by a message naming it and the others are still drawn
    (issue 18, point 7); without one, its error propagates.
    """
    evaluation = TimelineEvaluation(timeline)
    data = _charts_for(evaluation, now, zone, request_id) if figures else {}
    grades = isolated("headline grades", request_id, lambda: _grades(evaluation, now))
    data["grades"] = None if isinstance(grades, PartFailure) else grades
    data["grades_failure"] = grades if isinstance(grades, PartFailure) else None
    return data


def _load(request: Request, patient_id: str) -> Timeline | None:
    # Through the cache: reloaded whenever the stored record or its events changed.
    with _store(request).transaction() as session:
        return _cache(request).load(session, patient_id)


def _patient_context(
    request: Request,
    principal: Principal,
    timeline: Timeline,
    entries: Mapping[str, EntryResult] | None = None,
    *,
    figures: bool = True,
) -> dict[str, Any]:
    now = _now(request)
    current = up_to(timeline, now)
    patient = timeline.patient
    context = {
        "patient": patient,
        "pid": patient.id,
        "therapy": therapy_label(timeline),
        "day": therapy_day(timeline, now),
        "now": now,
        "events": len(current.events),
        "forms": ENTRY_FORMS,
        "entries": dict(entries or {}),
        "default_time": time_value(now, _zone(request)),
        "can_edit": principal.allowed("clinician"),
    }
    from crswatch.api._middleware import request_id  # the API imports this package

    context.update(
        patient_data(
            current,
            now,
            figures=figures,
            zone=_zone(request),
            request_id=request_id(request.scope),
        )
    )
    return context


@router.get("/ward/patients/{patient_id}")
def patient_view(request: Request, patient_id: PatientId) -> Response:
    store = _store(request)
    principal = require_user(request, store)
    timeline = _load(request, patient_id)
    if timeline is None:
        audit(
            store,
            principal.username,
            principal.role,
            "read",
            "dashboard.patient",
            patient_id,
            "failure",
            "unknown patient",
        )
        return _error(request, 404, f"patient={patient_id!r} is not in the store", principal)
    context = _patient_context(request, principal, timeline)
    audit(
        store,
        principal.username,
        principal.role,
        "read",
        "dashboard.patient",
        patient_id,
        "success",
    )
    return _render(request, "patient.html", context, 200, principal)


@router.get("/ward/patients/{patient_id}/entries/{kind}")
def entry_page(request: Request, patient_id: PatientId, kind: str) -> Response:
    store = _store(request)
    principal = require_user(request, store, "clinician")
    timeline = _load(request, patient_id) if kind in ENTRY_FORMS else None
    if timeline is None:
        return _error(request, 404, f"patient={patient_id!r} or form={kind!r} not found", principal)
    context = _patient_context(request, principal, timeline, figures=False)
    context["form"] = ENTRY_FORMS[kind]
    audit(
        store,
        principal.username,
        principal.role,
        "read",
        f"dashboard.entry.{kind}",
        patient_id,
        "success",
    )
    return _render(request, "entry.html", context, 200, principal)


@router.post("/ward/patients/{patient_id}/entries/{kind}")
async def save_entry(request: Request, patient_id: PatientId, kind: str) -> Response:
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(_save_entry, request, patient_id, kind, values)


def _store_entry(
    store: Store, timeline: Timeline, result: EntryResult, principal: Principal, resource: str
) -> None:
    """Append the entry's events and their audit record in one transaction; a conflict becomes
    the time field's error."""
    batch = Timeline(timeline.patient, tuple(result.events))
    try:
        with store.transaction() as session:
            ingest_timelines(session, [batch])
            append_audit(
                session,
                actor=principal.username,
                role=principal.role,
                action="create",
                resource=resource,
                patient_id=timeline.patient.id,
                outcome="success",
                detail=f"{len(result.events)} event(s)",
            )
    except StoreConflict as conflict:
        result.errors["time"] = "; ".join(
            f"time={issue.value!r}: {issue.reason}" for issue in conflict.issues
        )


def _save_entry(request: Request, patient_id: str, kind: str, values: dict[str, str]) -> Response:
    store = _store(request)
    principal = require_user(request, store, "clinician")
    verify_csrf(request, values.get(CSRF_FIELD))
    timeline = _load(request, patient_id) if kind in ENTRY_FORMS else None
    if timeline is None:
        return _error(request, 404, f"patient={patient_id!r} or form={kind!r} not found", principal)
    result = build_entry(
        timeline, kind, values, username=principal.username, now=_now(request), zone=_zone(request)
    )
    resource = f"dashboard.entry.{kind}"
    if result.ok:  # audited in the data's own transaction
        _store_entry(store, timeline, result, principal, resource)
    if not result.ok:  # field names only: typed values may be patient data
        audit(
            store,
            principal.username,
            principal.role,
            "create",
            resource,
            patient_id,
            "failure",
            "rejected: " + ", ".join(sorted(result.errors)),
        )
    status = 200 if result.ok else 422
    if result.ok and not _htmx(request):
        return RedirectResponse(
            f"/ward/patients/{quote(patient_id)}?saved={kind}#entry-{kind}", status_code=303
        )
    refreshed = _load(request, patient_id) or timeline
    htmx = _htmx(request)
    context = _patient_context(
        request, principal, refreshed, {kind: result}, figures=result.ok or not htmx
    )
    if htmx:
        context.update(form=result.form, entry=result, saved=result.ok)
        return _render(request, "patient/_entry_response.html", context, status, principal)
    return _render(request, "patient.html", context, status, principal)


# ------------------------------------------------------------------------------------ sources


@router.get("/sources")
def sources(request: Request) -> Response:
    """Every reference the recommendations cite, with its verification status (issue 15)."""
    principal = require_user(request, _store(request))
    rows = sorted(REFERENCES.values(), key=lambda ref: ref.short.lower())
    return _render(request, "sources.html", {"references": rows}, 200, principal)
