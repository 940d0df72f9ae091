"""order-select / order-sign: draft tocilizumab and corticosteroid orders against the checks.

Tocilizumab: the ordered dose, interval and number of doses against the US label check
(:func:`crswatch.management.tocilizumab_dose`: mg/kg by weight band, 800 mg per infusion, 8 h
between doses, 3 in 24 h, 4 in total), with the doses already given in the record.
Corticosteroids: the ordered dose, as dexamethasone equivalent
(:func:`crswatch.management.dexamethasone_equivalent`), against the highest corticosteroid dose
the management rule set gives at the current grades (:func:`crswatch.management.recommend`); a
lower dose (a taper) agrees.  A card only when the order disagrees, with the allowed dose as a
suggestion that updates the draft MedicationRequest; nothing when it agrees.  An order that
cannot be checked (no weight, a dose unit other than mass) gets an ``info`` card saying why.
Decisions: docs/decisions/0046-cds-hooks-service.md.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crswatch.api.cds_hooks._cards import CARD_TOPIC_SYSTEM, Indicator, card
from crswatch.errors import InputError
from crswatch.io.fhir import load_codemap
from crswatch.management import (
    STEROID_EQUIVALENCE,
    TOCILIZUMAB_LABEL,
    Recommendation,
    dexamethasone_equivalent,
    tocilizumab_dose,
)
from crswatch.scales import grade_notation
from crswatch.timeline import format_time, parse_time

__all__ = ["DraftOrder", "check_order", "draft_orders"]

_ITEM_SYSTEM = "urn:crswatch:item"
_CHECKED = frozenset({"tocilizumab", *STEROID_EQUIVALENCE})
_MASS_TO_MG = {"mg": 1.0, "g": 1000.0, "ug": 0.001, "[ug]": 0.001, "mcg": 0.001}
_PERIOD_HOURS = {"min": 1 / 60, "h": 1.0, "d": 24.0, "wk": 168.0}
_UCUM = "http://unitsofmeasure.org"
_TIMING_RULES = frozenset({"min_interval_8h", "max_3_per_24h", "max_4_total"})


@dataclass(frozen=True, slots=True)
class DraftOrder:
    """A draft MedicationRequest for a drug crswatch checks, as far as it could be read."""

    resource: Mapping[str, Any]
    reference: str
    drug: str
    dose_mg: float | None
    #: Why the dose could not be read (unit, missing quantity), when it could not.
    dose_problem: str | None
    interval_hours: float | None
    count: int | None
    authored: datetime | None


def _drug(resource: Mapping[str, Any]) -> str | None:
    concept = resource.get("medicationCodeableConcept")
    if not isinstance(concept, Mapping):
        return None
    codemap = load_codemap()
    for coding in concept.get("coding") or ():
        if not isinstance(coding, Mapping):
            continue
        system, code = coding.get("system"), coding.get("code")
        if not isinstance(system, str) or not isinstance(code, str):
            continue
        if system == _ITEM_SYSTEM and code in _CHECKED:
            return code
        for row in codemap.lookup(system, code):
            if row.item in _CHECKED:
                return row.item
    return None


def _dose(dosage: Mapping[str, Any], weight_kg: float | None) -> tuple[float | None, str | None]:
    for rate in dosage.get("doseAndRate") or ():
        quantity = rate.get("doseQuantity") if isinstance(rate, Mapping) else None
        if not isinstance(quantity, Mapping):
            continue
        value = quantity.get("value")
        unit = quantity.get("code") or quantity.get("unit")
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            return None, f"doseQuantity.value={value!r} is not a positive number"
        if unit in _MASS_TO_MG:
            return float(value) * _MASS_TO_MG[unit], None
        if unit == "mg/kg":
            if weight_kg is None:
                return None, "the dose is per kg and no body weight is documented"
            return round(float(value) * weight_kg, 1), None
        return None, f"doseQuantity unit={unit!r} is not a mass (mg, g) or mg/kg"
    return None, "the order has no doseQuantity"


def _timing(dosage: Mapping[str, Any]) -> tuple[float | None, int | None]:
    timing = dosage.get("timing")
    repeat = timing.get("repeat") if isinstance(timing, Mapping) else None
    if not isinstance(repeat, Mapping):
        return None, None
    count = repeat.get("count") if isinstance(repeat.get("count"), int) else None
    period, unit = repeat.get("period"), repeat.get("periodUnit")
    frequency = repeat.get("frequency", 1)
    interval = None
    if (
        isinstance(period, int | float)
        and unit in _PERIOD_HOURS
        and isinstance(frequency, int)
        and frequency > 0
    ):
        interval = float(period) * _PERIOD_HOURS[unit] / frequency
    return interval, count


def draft_orders(
    context: Mapping[str, Any], selected_only: bool, weight_kg: float | None
) -> list[DraftOrder]:
    """The checked drugs' MedicationRequests in ``draftOrders`` (order-select: the selected)."""
    bundle = context.get("draftOrders")
    if not isinstance(bundle, Mapping):
        raise InputError("context.draftOrders: a Bundle of draft orders is required")
    selections = context.get("selections")
    chosen = set(selections) if selected_only and isinstance(selections, list) else None
    orders = []
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, Mapping) or resource.get("resourceType") != "MedicationRequest":
            continue
        reference = f"MedicationRequest/{resource.get('id')}"
        if chosen is not None and reference not in chosen:
            continue
        drug = _drug(resource)
        if drug is None:
            continue
        dosages = resource.get("dosageInstruction") or [{}]
        dosage = dosages[0] if isinstance(dosages[0], Mapping) else {}
        dose_mg, problem = _dose(dosage, weight_kg)
        interval, count = _timing(dosage)
        authored = None
        if isinstance(resource.get("authoredOn"), str):
            try:
                authored = parse_time(resource["authoredOn"], "MedicationRequest.authoredOn")
            except InputError:
                authored = None
        orders.append(
            DraftOrder(resource, reference, drug, dose_mg, problem, interval, count, authored)
        )
    return orders


def _num(value: float) -> str:
    return f"{value:g}"


def _source(label: str, topic: str, display: str) -> dict[str, Any]:
    return {
        "label": label,
        "topic": {"system": CARD_TOPIC_SYSTEM, "code": topic, "display": display},
    }


def _corrected(
    order: DraftOrder, dose_mg: float, min_interval_h: float | None, max_count: int | None
) -> dict[str, Any]:
    """The draft MedicationRequest with the allowed dose (and interval and count)."""
    resource = copy.deepcopy(dict(order.resource))
    dosages = resource.setdefault("dosageInstruction", [{}])
    dosage = dosages[0]
    dosage["doseAndRate"] = [
        {"doseQuantity": {"value": dose_mg, "unit": "mg", "system": _UCUM, "code": "mg"}}
    ]
    repeat = dosage.setdefault("timing", {}).setdefault("repeat", {})
    if (
        min_interval_h is not None
        and order.interval_hours is not None
        and order.interval_hours < min_interval_h
    ):
        repeat.update({"frequency": 1, "period": min_interval_h, "periodUnit": "h"})
    if max_count is not None and order.count is not None and order.count > max_count:
        repeat["count"] = max_count
    if not repeat:
        del dosage["timing"]
    return resource


def _suggestion(label: str, action: dict[str, Any]) -> dict[str, Any]:
    return {"label": label, "uuid": str(uuid.uuid4()), "isRecommended": True, "actions": [action]}


def _info(order: DraftOrder, why: str) -> dict[str, Any]:
    name = order.drug
    return card(
        f"{name.capitalize()} dose not checked: {why}",
        "info",
        f"crswatch could not check this {name} order: {why}.",
        _source("crswatch dose check", "dose-check", "Dose check"),
    )


def _check_tocilizumab(
    order: DraftOrder, recommendation: Recommendation, at: datetime
) -> dict[str, Any] | None:
    weight = recommendation.facts.weight_kg
    if weight is None:
        return _info(order, "no body weight is documented")
    if order.dose_mg is None:
        return _info(order, order.dose_problem or "no dose")
    given = [t for t in recommendation.facts.tocilizumab_given if t <= at]
    check = tocilizumab_dose(weight, at=at, given=given, requested_mg=order.dose_mg)
    label = TOCILIZUMAB_LABEL
    problems = list(check.reasons)
    min_h = label.min_interval / timedelta(hours=1)
    if order.interval_hours is not None and order.interval_hours < min_h:
        problems.append(
            f"min_interval_8h: ordered every {_num(order.interval_hours)} h; doses must be at "
            f"least {_num(min_h)} h apart"
        )
    remaining = max(0, label.max_total - len(given))
    if order.count is not None and order.count > remaining:
        problems.append(
            f"max_4_total: {order.count} doses ordered, {len(given)} already given; at most "
            f"{label.max_total} in total"
        )
    if not problems:
        return None
    # A dose refused for its timing (too soon, too many) cannot be corrected by its size.
    timing_refused = any(not ok and rule in _TIMING_RULES for rule, ok, _detail in check.checks)
    basis = f"{_num(check.mg_per_kg)} mg/kg x {_num(weight)} kg"
    if check.cap_applied:
        basis += f", capped at {_num(label.max_mg_per_dose)} mg"
    lines = [
        f"**Tocilizumab order** ({_num(order.dose_mg)} mg) disagrees with the US label check "
        f"at {format_time(at)}:",
        "",
        *[f"- {problem.split(': ', 1)[-1]}" for problem in problems],
        "",
        f"Label dose for {_num(weight)} kg: **{_num(check.dose_mg)} mg IV over 60 minutes** "
        f"({basis}). Doses already given: {len(given)}"
        + (f", last at {format_time(given[-1])}" if given else "")
        + ".",
        "",
        f"Source: {label.reference}.",
    ]
    suggestions = []
    if timing_refused:
        indicator: Indicator = "critical"
        summary = "Tocilizumab not allowed now by the label: " + (
            f"next dose allowed at {format_time(check.next_allowed_at)}"
            if check.next_allowed_at is not None
            else "the 4-dose maximum is reached"
        )
        suggestions.append(
            _suggestion(
                "Remove this tocilizumab order",
                {
                    "type": "delete",
                    "description": "Remove the draft tocilizumab order (not allowed now)",
                    "resourceId": order.reference,
                },
            )
        )
    else:
        indicator = "warning"
        summary = (
            f"Tocilizumab order disagrees with the label: allowed {_num(check.dose_mg)} mg "
            f"({basis})"
        )
        corrected = _corrected(order, check.dose_mg, min_h, remaining)
        suggestions.append(
            _suggestion(
                f"Change to tocilizumab {_num(check.dose_mg)} mg IV (label dose)",
                {
                    "type": "update",
                    "description": (
                        f"Set the dose to {_num(check.dose_mg)} mg"
                        f", at least {_num(min_h)} h apart, at most {remaining} dose(s)"
                    ),
                    "resource": corrected,
                },
            )
        )
    source = _source("ACTEMRA (tocilizumab) US prescribing information", "dose-check", "Dose check")
    return card(summary, indicator, "\n".join(lines), source, suggestions=suggestions)


def _check_corticosteroid(
    order: DraftOrder, recommendation: Recommendation
) -> dict[str, Any] | None:
    if order.dose_mg is None:
        return _info(order, order.dose_problem or "no dose")
    ruleset = recommendation.ruleset
    dosed = [
        a
        for a in recommendation.actions
        if a.category == "corticosteroid"
        and a.dose is not None
        and a.dose.drug in STEROID_EQUIVALENCE
    ]
    f = recommendation.facts
    crs = grade_notation(f.crs_grade, f.crs_status, f.crs_grade, f.crs_upper)
    icans = grade_notation(f.icans_grade, f.icans_status, f.icans_grade, f.icans_upper)
    grades = f"CRS grade {crs}, ICANS grade {icans}"
    if not dosed:
        return card(
            f"No corticosteroid for CRS or ICANS at the current grades ({ruleset.title})",
            "info",
            f"{ruleset.title} gives no corticosteroid at {format_time(recommendation.at)} "
            f"({grades}). If this {order.drug} order is for another indication (premedication, "
            f"another diagnosis), this card does not apply.\n\nSource: {ruleset.citation}.",
            _source(f"crswatch: {ruleset.title}", "dose-check", "Dose check"),
        )
    ordered_dex = dexamethasone_equivalent(order.drug, order.dose_mg)
    top = max(dosed, key=lambda a: dexamethasone_equivalent(a.dose.drug, a.dose.dose_mg))  # type: ignore[union-attr]
    assert top.dose is not None
    allowed_dex = dexamethasone_equivalent(top.dose.drug, top.dose.dose_mg)
    if ordered_dex <= allowed_dex * 1.01:
        return None
    if top.dose.drug == order.drug:
        allowed_mg = top.dose.dose_mg
    else:
        allowed_mg = round(
            allowed_dex * STEROID_EQUIVALENCE[order.drug] / STEROID_EQUIVALENCE["dexamethasone"], 1
        )
    lines = [
        f"**{order.drug.capitalize()} {_num(order.dose_mg)} mg per dose** is above the highest "
        f"corticosteroid dose {ruleset.title} gives at {format_time(recommendation.at)} "
        f"({grades}):",
        "",
        f"- {top.dose.drug} {_num(top.dose.dose_mg)} mg {top.dose.route}, {top.dose.timing} "
        f"({top.text})",
        f"- as dexamethasone equivalent: ordered {_num(round(ordered_dex, 2))} mg, "
        f"recommended {_num(round(allowed_dex, 2))} mg",
        "",
        f"Source: {top.source.reference}. Equivalence: glucocorticoid anti-inflammatory "
        "potency (FDA prednisolone label equivalence table).",
    ]
    corrected = _corrected(order, allowed_mg, None, None)
    suggestion = _suggestion(
        f"Change to {order.drug} {_num(allowed_mg)} mg per dose",
        {
            "type": "update",
            "description": f"Set the {order.drug} dose to {_num(allowed_mg)} mg",
            "resource": corrected,
        },
    )
    return card(
        f"{order.drug.capitalize()} {_num(order.dose_mg)} mg is above the {_num(allowed_mg)} mg "
        f"{ruleset.title} gives now",
        "warning",
        "\n".join(lines),
        _source(f"crswatch: {ruleset.title}", "dose-check", "Dose check"),
        suggestions=[suggestion],
    )


def check_order(
    order: DraftOrder, recommendation: Recommendation, now: datetime
) -> dict[str, Any] | None:
    """The card for one draft order, or None when it agrees with the check."""
    at = order.authored or now
    if order.drug == "tocilizumab":
        return _check_tocilizumab(order, recommendation, at)
    return _check_corticosteroid(order, recommendation)
