"""What each hook answers, given the request body: the cards, or a precondition failure."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from crswatch.api.cds_hooks._cards import (
    dashboard_link,
    engine_error_card,
    grade_card,
    screen_card,
    unreadable_card,
)
from crswatch.api.cds_hooks._data import PREFETCH_LABELS, PatientData, gather_patient_data
from crswatch.api.cds_hooks._orders import check_order, draft_orders
from crswatch.api.cds_hooks._settings import CdsHooksSettings
from crswatch.errors import CRSWatchError
from crswatch.hlh import screen_timelines
from crswatch.management import recommend
from crswatch.scales import grade_timelines

__all__ = ["PreconditionFailedError", "answer_hook"]

log = logging.getLogger("crswatch.api.cds_hooks")


class PreconditionFailedError(CRSWatchError):
    """The data needed could be neither prefetched nor read (the spec's 412)."""


def _data(
    body: Mapping[str, Any],
    patient_id: str,
    settings: CdsHooksSettings,
    transport: httpx.BaseTransport | None,
) -> PatientData:
    data = gather_patient_data(
        body, patient_id, transport=transport, timeout=settings.fhir_timeout_seconds
    )
    if not data.has_patient:
        reason = data.missing.get("patient", "")
        raise PreconditionFailedError(
            f"prefetch.patient: {PREFETCH_LABELS['patient']} was not sent and could not be "
            f"read ({reason})"
        )
    return data


def _patient_view(
    data: PatientData, settings: CdsHooksSettings, now: datetime, link_base: str
) -> list[dict[str, Any]]:
    if data.timeline is None:
        return [unreadable_card(data)]
    timeline = data.timeline
    links = [dashboard_link(link_base, timeline.patient.id)]
    grades = grade_timelines([timeline], at=now, scales=list(settings.scales))[0]
    cards = [grade_card("crs", result, data, links) for result in grades.crs.values()]
    cards += [grade_card("icans", result, data, links) for result in grades.icans.values()]
    screens = screen_timelines([timeline], now)[0]
    cards += [screen_card(r, links) for r in screens.results.values() if r.status == "met"]
    return cards


def _orders(
    body: Mapping[str, Any], data: PatientData, selected_only: bool, now: datetime
) -> list[dict[str, Any]]:
    context = body["context"]
    if data.timeline is None:
        # Without a readable record the weight and the doses given are unknown: say so for
        # each checked order rather than pass it silently.
        orders = draft_orders(context, selected_only, None)
        return [unreadable_card(data)] if orders else []
    orders = draft_orders(context, selected_only, data.timeline.patient.weight_kg)
    if not orders:
        return []
    recommendation = recommend(data.timeline, now)
    return [c for order in orders if (c := check_order(order, recommendation, now)) is not None]


def answer_hook(
    hook: str,
    body: Mapping[str, Any],
    settings: CdsHooksSettings,
    now: datetime,
    link_base: str,
    transport: httpx.BaseTransport | None = None,
) -> list[dict[str, Any]]:
    """The cards for one call of ``hook`` (the body was checked for its required fields)."""
    patient_id = body["context"]["patientId"]
    data = _data(body, patient_id, settings, transport)
    try:
        if hook == "patient-view":
            return _patient_view(data, settings, now, link_base)
        return _orders(body, data, hook == "order-select", now)
    except (CRSWatchError, ValueError, LookupError) as exc:
        # An engine that refuses this record (an input it cannot use) must not cost the EHR
        # its answer: one card says what could not be computed, and the log names the error.
        log.warning("CDS Hooks %s: engine error %s", hook, type(exc).__name__)
        return [engine_error_card(str(exc))]
