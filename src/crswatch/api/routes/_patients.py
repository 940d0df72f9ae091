"""Patients (create, list, read, timeline) and events ingest (timeline JSON, CSV pair, FHIR)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from crswatch.api._deps import Clinician, SettingsDep, StoreDep, Viewer, audit, audit_in
from crswatch.api._errors import ApiError
from crswatch.errors import InputError, TimelineFormatError
from crswatch.io import read_bundle, read_json_document, read_table_pair
from crswatch.io._tabular import TablePair
from crswatch.store import (
    Principal,
    Store,
    StoreConflict,
    TimelineCache,
    app_timeline_cache,
    count_events,
    entity_tag,
    etag_matches,
    get_patient_row,
    ingest_timelines,
    list_patients,
    load_timeline,
    store_version,
)
from crswatch.store._cache import Marker
from crswatch.timeline import (
    MAX_PATIENT_ID_LENGTH,
    PATIENT_ID_PATTERN,
    IngestReport,
    ReadResult,
    Timeline,
    TimeWindow,
    build_timeline,
    format_time,
    patient_id_problem,
)

router = APIRouter(tags=["patients"])

PatientId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=MAX_PATIENT_ID_LENGTH,
        pattern=f"^{PATIENT_ID_PATTERN.pattern}$",
        description="The patient id (crswatch.timeline/1: letters, digits, '.', '_', '-').",
    ),
]


class TablesIn(BaseModel):
    """The CSV pair of shared/spec/timeline.md, as text."""

    patients_csv: str = Field(description="patients.csv (id, therapy_kind, therapy_start, ...)")
    events_csv: str = Field(description="events.csv (patient_id, time, item, value, ...)")


def _rejected(report: IngestReport) -> ApiError:
    fields = sorted({issue.field for issue in report.issues})
    return ApiError.from_issues(
        422,
        "ingest_rejected",
        f"{len(report.issues)} record(s) rejected (fields: {', '.join(fields)}); nothing stored",
        report.issues,
        report=report.to_dict(),
    )


def _patient_ids(read: ReadResult) -> list[str | None]:
    """The patients a batch names; an id outside the contract is audited as None (it may be
    10,000 characters, or hold a NUL that PostgreSQL refuses to store)."""
    ids: list[str | None] = [t.patient.id for t in read.timelines]
    ids += [i.patient_id for i in read.report.issues if i.patient_id not in ids]
    valid = [pid if pid is not None and patient_id_problem(pid) is None else None for pid in ids]
    return list(dict.fromkeys(valid)) or [None]


def _store_batch(
    store: Store, principal: Principal, reader: Callable[[], ReadResult], resource: str
) -> dict[str, Any]:
    """Read, validate and store one batch in one transaction; audit the outcome per patient."""
    try:
        read = reader()
    except InputError as exc:
        audit(store, principal, "create", resource, None, "failure", "unreadable document")
        raise ApiError.field(422, "unreadable_document", "body", str(exc)) from None
    if not read.report.ok or not read.timelines:
        for pid in _patient_ids(read):
            audit(store, principal, "create", resource, pid, "failure", "records rejected")
        if not read.report.issues:
            raise ApiError.field(422, "ingest_rejected", "body", "no patient in the document")
        raise _rejected(read.report)
    try:
        with store.transaction() as session:
            summary = ingest_timelines(session, read.timelines)
            # The data and their audit records commit together, or neither does.
            for pid in summary.patients_created:
                audit_in(session, principal, "create", resource, pid, "success")
            for timeline in read.timelines:
                if timeline.patient.id not in summary.patients_created:
                    audit_in(session, principal, "update", resource, timeline.patient.id, "success")
    except StoreConflict as exc:
        for pid in _patient_ids(read):
            audit(store, principal, "update", resource, pid, "failure", "conflict")
        raise ApiError.from_issues(
            409,
            "conflict",
            f"{len(exc.issues)} conflict(s) with stored data; nothing stored",
            exc.issues,
        ) from None
    return {**summary.to_dict(), "report": read.report.to_dict()}


@router.post("/patients", status_code=201, summary="Create a patient (crswatch.timeline/1 patient)")
def create_patient(
    store: StoreDep,
    settings: SettingsDep,
    principal: Clinician,
    record: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    report = IngestReport(source="request")
    timeline = build_timeline(record, [], report, window=settings.time_window())
    pid = report.issues[0].patient_id if report.issues else None
    if timeline is None:
        audit(store, principal, "create", "patient", pid, "failure", "invalid patient")
        raise _rejected(report)
    with store.transaction() as session:
        exists = get_patient_row(session, timeline.patient.id) is not None
        if not exists:
            ingest_timelines(session, [timeline])
            audit_in(session, principal, "create", "patient", timeline.patient.id, "success")
    if exists:
        audit(store, principal, "create", "patient", pid, "failure", "exists")
        raise ApiError.field(409, "conflict", "id", f"patient {timeline.patient.id!r} exists")
    return {"patient": timeline.patient.to_dict(), "event_count": 0}


@router.get("/patients", summary="List patients")
def patients(
    store: StoreDep,
    principal: Viewer,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> dict[str, Any]:
    with store.transaction() as session:
        rows, total = list_patients(session, limit, offset)
        items = [{"id": row.patient_id, "updated_at": format_time(row.updated_at)} for row in rows]
    audit(store, principal, "read", "patient-list", None, "success", f"{len(items)} listed")
    return {"total": total, "limit": limit, "offset": offset, "patients": items}


def _timeline_cache(request: Request) -> TimelineCache:
    return app_timeline_cache(request.app.state)


#: The app's cache of stored patients, shared with the dashboard (decision 0025).
CacheDep = Annotated[TimelineCache, Depends(_timeline_cache)]


def _not_found(store: Store, principal: Principal, patient_id: str, resource: str) -> ApiError:
    audit(store, principal, "read", resource, patient_id, "failure", "not found")
    return ApiError.field(404, "not_found", "patient_id", "no such patient")


def conditional_read(
    request: Request, store: Store, principal: Principal, resource: str, patient_id: str
) -> tuple[str, Response | None]:
    """The answer's entity tag, and a 304 when the client's ``If-None-Match`` names it.

    A patient read is a function of the stored data, the path, the query and the media type
    asked for (``Accept``): none reads the wall clock (the default time is the last event).  So
    its tag is the store's version with those (decision 0057); a matching one is answered 304
    before anything is loaded, and audited as the read it is.  Call after authentication (the
    route's principal), so that a 304 never answers a caller who may not read.
    """
    with store.transaction() as session:
        version = store_version(session)
    tag = entity_tag(
        version,
        "api",
        request.url.path,
        request.url.query,
        request.headers.get("accept", ""),
    )
    if not etag_matches(request.headers.get("if-none-match"), tag):
        return tag, None
    audit(store, principal, "read", resource, patient_id, "success", "not modified (304)")
    return tag, Response(status_code=304, headers={"ETag": tag})


def read_timeline(store: Store, principal: Principal, patient_id: str, resource: str) -> Timeline:
    """The stored timeline, or 404 (audited as a failed read)."""
    with store.transaction() as session:
        timeline = load_timeline(session, patient_id)
    if timeline is None:
        raise _not_found(store, principal, patient_id, resource)
    return timeline


def read_frames(
    store: Store, principal: Principal, cache: TimelineCache, patient_id: str, resource: str
) -> tuple[Marker, tuple[pl.DataFrame, pl.DataFrame]]:
    """The stored patient's marker and frames through the cache, or 404 (audited)."""
    with store.transaction() as session:
        found = cache.frames(session, patient_id)
    if found is None:
        raise _not_found(store, principal, patient_id, resource)
    return found


#: The 304 answer of a conditional read, for the OpenAPI document.
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {
        "description": (
            "Not modified: the If-None-Match header names this answer's ETag (nothing stored "
            "changed since)."
        )
    }
}


@router.get(
    "/patients/{patient_id}",
    summary="Read a patient",
    response_model=dict[str, Any],
    responses=NOT_MODIFIED,
)
def patient(
    request: Request, response: Response, store: StoreDep, principal: Viewer, patient_id: PatientId
) -> Any:
    tag, unchanged = conditional_read(request, store, principal, "patient", patient_id)
    if unchanged is not None:
        return unchanged
    with store.transaction() as session:
        row = get_patient_row(session, patient_id)
        found = None
        if row is not None:
            found = {
                "patient": row.record,
                "event_count": count_events(session, row.pk),
                "created_at": format_time(row.created_at),
                "updated_at": format_time(row.updated_at),
            }
    if found is None:
        audit(store, principal, "read", "patient", patient_id, "failure", "not found")
        raise ApiError.field(404, "not_found", "patient_id", "no such patient")
    audit(store, principal, "read", "patient", patient_id, "success")
    response.headers["ETag"] = tag
    return found


@router.get(
    "/patients/{patient_id}/timeline",
    summary="The stored timeline (crswatch.timeline/1)",
    response_model=dict[str, Any],
    responses=NOT_MODIFIED,
)
def timeline(
    request: Request, response: Response, store: StoreDep, principal: Viewer, patient_id: PatientId
) -> Any:
    tag, unchanged = conditional_read(request, store, principal, "timeline", patient_id)
    if unchanged is not None:
        return unchanged
    found = read_timeline(store, principal, patient_id, "timeline")
    audit(store, principal, "read", "timeline", patient_id, "success")
    response.headers["ETag"] = tag
    return found.to_dict()


@router.post("/events/timeline", summary="Ingest crswatch.timeline/1 JSON (one or a list)")
def ingest_timeline(
    store: StoreDep,
    settings: SettingsDep,
    principal: Clinician,
    document: Annotated[dict[str, Any] | list[Any], Body()],
) -> dict[str, Any]:
    window = settings.time_window()
    return _store_batch(
        store,
        principal,
        lambda: read_json_document(document, "request", window=window),
        "events-timeline",
    )


def _read_tables(body: TablesIn, window: TimeWindow) -> ReadResult:
    with tempfile.TemporaryDirectory(prefix="crswatch-") as directory:
        root = FilePath(directory)
        pair = TablePair(root / "patients.csv", root / "events.csv")
        pair.patients.write_text(body.patients_csv, encoding="utf-8")
        pair.events.write_text(body.events_csv, encoding="utf-8")
        try:
            read = read_table_pair(pair, window=window)
        except TimelineFormatError as exc:
            # The error names the temporary file: say which part of the body instead.
            part = "patients_csv" if exc.path == str(pair.patients) else "events_csv"
            message = str(exc).removeprefix(f"{exc.path}: ")
            raise InputError(f"{part}: {message}") from None
    read.report.source = "request"
    return read


@router.post("/events/tables", summary="Ingest the CSV pair (patients.csv, events.csv) as text")
def ingest_tables(
    store: StoreDep, settings: SettingsDep, principal: Clinician, body: TablesIn
) -> dict[str, Any]:
    window = settings.time_window()
    return _store_batch(store, principal, lambda: _read_tables(body, window), "events-tables")


@router.post("/events/fhir", summary="Ingest a FHIR R4 Bundle")
def ingest_fhir(
    store: StoreDep,
    settings: SettingsDep,
    principal: Clinician,
    bundle: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    window = settings.time_window()
    return _store_batch(
        store, principal, lambda: read_bundle(bundle, "request", window=window), "events-fhir"
    )
