"""Read endpoints mirroring the command-line JSON: grade, trajectory, episodes, recommendations,
HLH, biomarkers, blinatumomab status and the step-up bispecific regimen status, for one stored
patient."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, get_args

import polars as pl
from fastapi import APIRouter, Query, Request, Response

from crswatch.api._deps import SettingsDep, StoreDep, Viewer, audit
from crswatch.api._errors import ApiError
from crswatch.api.routes._patients import (
    NOT_MODIFIED,
    CacheDep,
    PatientId,
    conditional_read,
    read_frames,
    read_timeline,
)
from crswatch.biomarkers import BiomarkerParameters, cytokine_profile, kinetics
from crswatch.episodes import (
    assessment_gaps,
    episodes_from_trajectory,
    peak_grades,
    trajectory,
)
from crswatch.errors import InputError
from crswatch.hlh import HLHParameters, SupplementaryFindings, screen_course, screen_timelines
from crswatch.management import recommend
from crswatch.regimens import (
    LABEL_VERSIONS,
    StatusParameters,
    blinatumomab_not_applicable,
    blinatumomab_status,
    regimen_status,
)
from crswatch.scales import grade_state, select_scales
from crswatch.state import (
    FeverWaiver,
    PreparedState,
    StateParameters,
    prepare_state,
    prepared_state_at,
)
from crswatch.store import Principal, Store
from crswatch.timeline import Timeline, format_time, parse_time

router = APIRouter(tags=["analysis"])

At = Annotated[
    str | None,
    Query(max_length=64, description="Evaluation time, ISO 8601 with offset (default: last event)"),
]
Scales = Annotated[
    list[str] | None,
    Query(max_length=50, description="Scale (repeat): a CRS id, or icans.<id>; default: all"),
]
FeverWaiverQuery = Annotated[
    FeverWaiver,
    Query(
        description=(
            "What lifts the ASTCT fever requirement after CRS onset: "
            f"{' or '.join(get_args(FeverWaiver))} (default: antipyretic or anticytokine "
            "therapy, the ASTCT 2019 footnote)"
        )
    ),
]
_DEFAULT_WAIVER: FeverWaiver = "antipyretic_or_anticytokine"
_DURATION = re.compile(r"^(\d{1,6}(?:\.\d{1,6})?)([mhd])$")
#: The finest trajectory grid: charted observations are minutes apart at the closest.
MIN_EVERY = timedelta(minutes=5)
MAX_EVERY = timedelta(days=30)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}


def _at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_time(text, "at")
    except InputError as exc:
        raise ApiError.field(422, "invalid_parameter", "at", str(exc)) from None


def _analyse(
    request: Request,
    store: Store,
    principal: Principal,
    patient_id: str,
    resource: str,
    fields: str,
    compute: Callable[[Timeline], Any],
) -> Response:
    """Load, compute and audit; engine input errors become 422 naming ``fields``.

    Conditional: 304 without loading anything when the client holds this answer's ETag.
    """
    tag, unchanged = conditional_read(request, store, principal, resource, patient_id)
    if unchanged is not None:
        return unchanged
    timeline = read_timeline(store, principal, patient_id, resource)
    response = _respond(store, principal, patient_id, resource, fields, lambda: compute(timeline))
    response.headers["ETag"] = tag
    return response


def _respond(
    store: Store,
    principal: Principal,
    patient_id: str,
    resource: str,
    fields: str,
    compute: Callable[[], Any],
) -> Response:
    """Compute and audit; engine input errors become 422 naming ``fields``."""
    try:
        result = compute()
    except ApiError:
        audit(store, principal, "read", resource, patient_id, "failure", "bad parameter")
        raise
    except (InputError, LookupError, ValueError) as exc:
        audit(store, principal, "read", resource, patient_id, "failure", "bad parameter")
        raise ApiError.field(422, "invalid_parameter", fields, str(exc)) from None
    audit(store, principal, "read", resource, patient_id, "success")
    # Serialised exactly as the command line's --json (datetimes and dates via str()).
    body = json.dumps(result, ensure_ascii=False, default=str)
    return Response(body, media_type="application/json")


def _grade_frames(
    patients: pl.DataFrame,
    events: pl.DataFrame,
    at: datetime | None,
    scales: list[str] | None,
    params: StateParameters,
    prepared: PreparedState,
) -> dict[str, Any]:
    """``grade_timelines([timeline], at=, scales=)[0].to_dict()`` from the timeline's frames.

    The same state and grading: the state at one time (``at``, by default the last event, or
    the therapy start when there is none, as ``grade_timelines`` chooses), then every scale.
    ``prepared``: ``prepare_state`` of the same frames and ``params`` (kept per stored version).
    """
    utc = pl.Datetime("us", "UTC")
    if at is not None:
        moment = pl.lit(at).cast(utc)
    elif events.height:
        moment = pl.lit(events["time"].max()).cast(utc)
    else:
        moment = pl.col("therapy_start")
    times = patients.select("patient_id", moment.alias("at"))
    state = prepared_state_at(prepared, times)
    return grade_state(state, scales=scales, params=params)[0].to_dict()


FHIR_JSON = "application/fhir+json"


def _wants_fhir(request: Request) -> bool:
    return FHIR_JSON in request.headers.get("accept", "").lower()


def _grade_fhir(
    request: Request,
    store: Store,
    principal: Principal,
    patient_id: str,
    moment: datetime | None,
    scale: list[str] | None,
    params: StateParameters | None = None,
) -> Response:
    """The patient, its data and its grades and HLH/MAS alerts as a FHIR R4 Bundle."""
    from crswatch.io.fhir import results_to_bundle  # import on use, as the JSON path

    response = _analyse(
        request,
        store,
        principal,
        patient_id,
        "grade",
        "scale",
        lambda t: results_to_bundle([t], at=moment, scales=scale, params=params),
    )
    response.headers["content-type"] = FHIR_JSON
    return response


@router.get(
    "/patients/{patient_id}/grade",
    summary="CRS and ICANS on every scale at a time",
    responses=NOT_MODIFIED,
    description=(
        f"JSON by default; with `Accept: {FHIR_JSON}`, a FHIR R4 Bundle of the patient's data, "
        "each grade as an Observation and each HLH/MAS screen met as a DetectedIssue."
    ),
)
def grade(
    request: Request,
    store: StoreDep,
    principal: Viewer,
    cache: CacheDep,
    patient_id: PatientId,
    at: At = None,
    scale: Scales = None,
    fever_waiver: FeverWaiverQuery = _DEFAULT_WAIVER,
) -> Any:
    moment = _at(at)
    params = StateParameters(fever_waiver=fever_waiver)
    if _wants_fhir(request):
        return _grade_fhir(request, store, principal, patient_id, moment, scale, params)
    tag, unchanged = conditional_read(request, store, principal, "grade", patient_id)
    if unchanged is not None:
        return unchanged
    # Frames from the app's cache (reloaded whenever the stored patient changed), and the
    # result kept for this exact stored version, time and scale list (decision 0025).
    marker, (patients, events) = read_frames(store, principal, cache, patient_id, "grade")
    key = ("grade", moment, None if scale is None else tuple(scale), fever_waiver)

    def prepared() -> PreparedState:
        # What no time changes, kept for the stored version: each new ``at`` then costs only
        # the state at that time and the grading (decision 0071).  The scales are checked
        # first, so a bad request computes nothing.
        select_scales(scale)
        kept: PreparedState = cache.result(
            patient_id,
            marker,
            ("prepared state", fever_waiver),
            lambda: prepare_state(patients, events, params),
        )
        return kept

    response = _respond(
        store,
        principal,
        patient_id,
        "grade",
        "scale",
        lambda: cache.result(
            patient_id,
            marker,
            key,
            lambda: _grade_frames(patients, events, moment, scale, params, prepared()),
        ),
    )
    response.headers["ETag"] = tag
    return response


def _every(text: str | None) -> timedelta | None:
    if text is None:
        return None
    match = _DURATION.match(text)
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)] if match else 0.0
    if not match or not MIN_EVERY.total_seconds() <= seconds <= MAX_EVERY.total_seconds():
        raise ApiError.field(
            422,
            "invalid_parameter",
            "every",
            "a duration such as 30m, 4h or 1d (at least 5m, at most 30d)",
        )
    return timedelta(seconds=seconds)


def _check_rows(timeline: Timeline, grid: timedelta, limit: int) -> None:
    """422 naming ``every`` when the grid over the timeline's span would exceed ``limit`` rows."""
    start = timeline.patient.therapy.start
    times = [start, *(e.time for e in timeline.events), *(e.end for e in timeline.events if e.end)]
    rows = int((max(times) - min(times)) / grid) + 1
    if rows > limit:
        raise ApiError.field(
            422,
            "invalid_parameter",
            "every",
            f"a {grid} grid over this timeline gives {rows} evaluation times, more than the "
            f"{limit} allowed; choose a coarser grid",
        )


@router.get(
    "/patients/{patient_id}/trajectory",
    summary="Grade over time, per scale",
    responses=NOT_MODIFIED,
)
def trajectory_route(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: Viewer,
    patient_id: PatientId,
    every: Annotated[str | None, Query(max_length=16, description="A grid, e.g. 1h")] = None,
    scale: Scales = None,
    all_rows: Annotated[bool, Query(description="Every evaluation time")] = False,
    fever_waiver: FeverWaiverQuery = _DEFAULT_WAIVER,
) -> Any:
    grid = _every(every)
    params = StateParameters(fever_waiver=fever_waiver)

    def compute(timeline: Timeline) -> Any:
        if grid is not None:
            _check_rows(timeline, grid, settings.max_trajectory_rows)
        table = trajectory(
            [timeline], scales=scale, every=grid, changes_only=not all_rows, params=params
        )
        table = table.with_columns(pl.col("at").map_elements(format_time, return_dtype=pl.String))
        return table.to_dicts()

    return _analyse(request, store, principal, patient_id, "trajectory", "scale", compute)


def _block(found: list[Any], peaks: pl.DataFrame, kind: str) -> dict[str, Any]:
    rows = peaks.filter(pl.col("kind") == kind).to_dicts()
    return {
        "peak": {row["scale"]: row["peak_grade"] for row in rows},
        "peak_upper": {row["scale"]: row["peak_upper"] for row in rows},
        "episodes": [e.to_dict() for e in found if e.kind == kind],
    }


@router.get(
    "/patients/{patient_id}/episodes",
    summary="CRS and ICANS episodes per scale",
    responses=NOT_MODIFIED,
)
def episodes(
    request: Request,
    store: StoreDep,
    principal: Viewer,
    patient_id: PatientId,
    scale: Scales = None,
    fever_waiver: FeverWaiverQuery = _DEFAULT_WAIVER,
) -> Any:
    params = StateParameters(fever_waiver=fever_waiver)

    def compute(timeline: Timeline) -> Any:
        table = trajectory([timeline], scales=scale, params=params)
        with_icans = any(s.kind == "icans" for s in select_scales(scale))
        gaps = assessment_gaps([timeline]) if with_icans else []
        found = episodes_from_trajectory(table)
        peaks = peak_grades(table)
        icans = _block(found, peaks, "icans")
        icans["assessment_gaps"] = [g.to_dict() for g in gaps]
        return {"patient_id": timeline.patient.id, **_block(found, peaks, "crs"), "icans": icans}

    return _analyse(request, store, principal, patient_id, "episodes", "scale", compute)


@router.get(
    "/patients/{patient_id}/recommendations",
    summary="Management actions at a time",
    responses=NOT_MODIFIED,
)
def recommendations(
    request: Request,
    store: StoreDep,
    principal: Viewer,
    patient_id: PatientId,
    at: At = None,
    ruleset: Annotated[str | None, Query(max_length=64)] = None,
    crs_scale: Annotated[str | None, Query(max_length=64)] = None,
    fever_waiver: FeverWaiverQuery = _DEFAULT_WAIVER,
) -> Any:
    moment = _at(at)
    params = StateParameters(fever_waiver=fever_waiver)
    return _analyse(
        request,
        store,
        principal,
        patient_id,
        "recommendations",
        "ruleset, crs_scale",
        lambda t: recommend(t, moment, ruleset, crs_scale=crs_scale, params=params).to_dict(),
    )


@router.get("/patients/{patient_id}/hlh", summary="HLH/MAS screens", responses=NOT_MODIFIED)
def hlh(
    request: Request,
    store: StoreDep,
    principal: Viewer,
    patient_id: PatientId,
    at: At = None,
    window_hours: Annotated[float, Query(gt=0, le=24 * 365)] = 72.0,
    fever_c: Annotated[float, Query(ge=35, le=43)] = 38.5,
    iechs_proxy: bool = False,
) -> Any:
    moment = _at(at)
    params = HLHParameters(
        window=timedelta(hours=window_hours),
        hlh2004_fever_c=fever_c,
        iechs_temporal_rule="after_crs_therapy" if iechs_proxy else "clinician",
    )
    findings = SupplementaryFindings()

    def compute(timeline: Timeline) -> Any:
        screens = screen_timelines([timeline], moment, params, findings)[0]
        document = screens.to_dict()
        document["course"] = screen_course(timeline, moment, params, findings).to_dict()
        document["supplementary_findings"] = findings.to_dict()
        return document

    return _analyse(request, store, principal, patient_id, "hlh", "at", compute)


@router.get(
    "/patients/{patient_id}/biomarkers",
    summary="Biomarker kinetics, cytokine profile",
    responses=NOT_MODIFIED,
)
def biomarkers(
    request: Request, store: StoreDep, principal: Viewer, patient_id: PatientId, at: At = None
) -> Any:
    moment = _at(at)
    params = BiomarkerParameters()

    def compute(timeline: Timeline) -> Any:
        course = kinetics(timeline, moment, params)
        profile = cytokine_profile(timeline, course.at, params)
        return {
            "schema": "crswatch.biomarker-report/1",
            "patient_id": timeline.patient.id,
            "at": course.to_dict()["at"],
            "kinetics": course.to_dict(),
            "cytokines": profile.to_dict(),
        }

    return _analyse(request, store, principal, patient_id, "biomarkers", "at", compute)


@router.get(
    "/patients/{patient_id}/blinatumomab",
    summary="Blinatumomab status from the record",
    responses=NOT_MODIFIED,
)
def blinatumomab(
    request: Request,
    store: StoreDep,
    principal: Viewer,
    patient_id: PatientId,
    at: At = None,
    label_version: Annotated[str, Query(max_length=32)] = "current",
    crs_scale: Annotated[str, Query(max_length=64)] = "astct2019",
    setting: Annotated[str, Query(pattern="^(rr|mrd)$")] = "rr",
    regimen: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    moment = _at(at)
    if label_version not in LABEL_VERSIONS:
        raise ApiError.field(
            422, "invalid_parameter", "label_version", f"one of {', '.join(LABEL_VERSIONS)}"
        )
    params = StatusParameters(
        label_version=label_version, crs_scale=crs_scale, setting=setting, regimen=regimen
    )
    return _analyse(
        request,
        store,
        principal,
        patient_id,
        "blinatumomab",
        "crs_scale, regimen",
        # A patient with no blinatumomab has no course: "not applicable", never "not started"
        # with a dose due (issue 15, point 8).
        lambda t: (
            blinatumomab_not_applicable(t, moment)
            or blinatumomab_status(t, moment, params=params).to_dict()
        ),
    )


@router.get(
    "/patients/{patient_id}/regimen",
    summary="Step-up bispecific regimen status from the record",
    responses=NOT_MODIFIED,
)
def regimen(
    request: Request,
    store: StoreDep,
    principal: Viewer,
    patient_id: PatientId,
    at: At = None,
    drug: Annotated[str | None, Query(max_length=64)] = None,
    indication: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    moment = _at(at)
    return _analyse(
        request,
        store,
        principal,
        patient_id,
        "regimen",
        "drug, indication",
        lambda t: regimen_status(t, moment, drug=drug, indication=indication).to_dict(),
    )
