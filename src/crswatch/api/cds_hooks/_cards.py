"""CDS Hooks cards: the shape the 2.0 spec fixes, and the patient-view cards of crswatch.

A grade card per scale the site chose (CRS and ICANS): the summary gives the grade in the shared
notation (``grade_notation``), the indicator follows the grade on record (``grade_on_record``:
3 or more ``critical``, 1-2 ``warning``, 0 ``info``; an undecided grade is ``warning`` when at
least grade 1 is established, else ``info``), and the markdown detail gives the deciding
criterion in the scale's words, the criteria that could not be decided, the data missing, and
the full citation.  An HLH/MAS screen that is met is a ``critical`` card of its own.
Decisions: docs/decisions/0046-cds-hooks-service.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

from crswatch.api.cds_hooks._data import PREFETCH_LABELS, PatientData
from crswatch.hlh import CriterionOutcome, ScreenResult
from crswatch.scales import (
    ALL_SCALES,
    STATUS_LABELS,
    GradeResult,
    grade_notation,
    grade_on_record,
)
from crswatch.timeline import format_time

__all__ = [
    "CARD_TOPIC_SYSTEM",
    "SUMMARY_LIMIT",
    "Indicator",
    "card",
    "dashboard_link",
    "engine_error_card",
    "grade_card",
    "indicator_for",
    "missing_lines",
    "screen_card",
    "unreadable_card",
]

Indicator = Literal["info", "warning", "critical"]
#: The spec's "<140-character summary".
SUMMARY_LIMIT = 139
#: crswatch's own code system for card topics (what a card is about).
CARD_TOPIC_SYSTEM = "urn:crswatch:cds-hooks:topic"
_SYNDROME_NAMES = {"crs": "CRS", "icans": "ICANS"}


def _meaning(result: GradeResult) -> str:
    """The legend line of the notation (``GRADE_LEGEND``) with this result's own numbers."""
    lower, upper = result.bounds
    if result.status == "provisional":
        return (
            f"Grade {result.grade} on the documented findings; inputs not yet documented could "
            f"raise it to {upper} (see what is missing)."
        )
    if result.status == "ambiguous":
        return f"The scale's wording does not decide between grades {lower} and {upper}."
    if result.status == "not_assessable":
        return (
            f"The documented findings fix no grade; it lies between {lower} and {upper} "
            "(see what is missing)."
        )
    return ""


def _summary(text: str) -> str:
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1].rstrip() + "…"


def card(
    summary: str,
    indicator: Indicator,
    detail: str,
    source: Mapping[str, Any],
    *,
    links: Sequence[Mapping[str, Any]] = (),
    suggestions: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """One card; ``uuid`` lets feedback name it (a fresh UUID per card issued)."""
    out: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "summary": _summary(summary),
        "indicator": indicator,
        "detail": detail,
        "source": dict(source),
    }
    if suggestions:
        out["suggestions"] = [dict(s) for s in suggestions]
        out["selectionBehavior"] = "at-most-one"
    if links:
        out["links"] = [dict(link) for link in links]
    return out


def indicator_for(result: GradeResult) -> Indicator:
    """Urgency by the grade on record; an undecided grade by its established lower bound."""
    grade = grade_on_record(result.grade, result.status)
    level = grade if grade is not None else result.bounds[0]
    if grade is not None and level >= 3:
        return "critical"
    if level >= 1 or (grade is None and result.bounds[1] >= 3):
        return "warning"
    return "info"


def missing_lines(data: PatientData) -> list[str]:
    """Markdown bullets naming the data the EHR did not send and that could not be read."""
    return [f"- {PREFETCH_LABELS.get(key, key)}: {reason}" for key, reason in data.missing.items()]


def _source(label: str, topic: str, display: str, doi: str | None = None) -> dict[str, Any]:
    source: dict[str, Any] = {
        "label": label,
        "topic": {"system": CARD_TOPIC_SYSTEM, "code": topic, "display": display},
    }
    if doi:
        source["url"] = f"https://doi.org/{doi}"
    return source


#: State values shown beside the deciding finding, in clinical words and units; the others
#: (flags, internal columns) are not shown, the criterion's wording says what they mean.
_SHOWN_VALUES: Mapping[str, str] = {
    "temp_max_c": "highest temperature {} °C",
    "sbp_min": "lowest systolic blood pressure {} mm Hg",
    "pressors_running": "vasopressors running: {}",
    "o2_flow_l_min": "oxygen flow {} L/min",
    "fio2_pct": "FiO2 {} %",
    "ice_score": "ICE score {}/10",
    "capd_score": "CAPD score {}",
}


def _values(values: Mapping[str, Any]) -> str:
    shown = []
    for key, template in _SHOWN_VALUES.items():
        value = values.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            shown.append(template.format(f"{value:g}"))
    return "; ".join(shown)


def grade_card(
    syndrome: str,
    result: GradeResult,
    data: PatientData,
    links: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The card of one CRS or ICANS scale at the evaluation time."""
    scale = ALL_SCALES[f"{syndrome}.{result.scale}"]
    name = _SYNDROME_NAMES.get(syndrome, syndrome.upper())
    lower, upper = result.bounds
    shown = grade_notation(result.grade, result.status, lower, upper)
    summary = f"{name} grade {shown} on {scale.title}"
    lines = [
        f"**{name} grade {shown}** ({STATUS_LABELS.get(result.status, result.status)}), "
        f"{scale.title}, at {format_time(result.at)}.",
        "",
    ]
    meaning = _meaning(result)
    if meaning:
        lines += [f"_{meaning}_", ""]
    deciding = result.deciding
    if deciding is not None:
        values = _values(deciding.values)
        lines.append(
            f"**Deciding finding:** {deciding.rule}" + (f" ({values})" if values else "") + "."
        )
        lines.append(f"Source: {deciding.source_ref}.")
    else:
        lines.append("**Deciding finding:** no criterion of the scale is met.")
    undecided = list(dict.fromkeys(e.rule for e in result.undecided))
    if undecided:
        lines += ["", "**Could raise the grade, not decided:**"]
        lines += [f"- {rule}" for rule in undecided]
    if result.missing:
        lines += ["", "**Missing data:**"]
        lines += [f"- {item}" for item in dict.fromkeys(result.missing)]
    if result.warnings:
        lines += ["", "**Notes:**"]
        lines += [f"- {warning}" for warning in result.warnings]
    absent = missing_lines(data)
    if absent:
        lines += ["", "**Not received from the EHR** (the grade may be incomplete):", *absent]
    if data.records_rejected:
        lines += [
            "",
            f"{data.records_rejected} record(s) in the EHR data could not be read "
            "(unknown code, missing time or implausible value).",
        ]
    lines += ["", f"Scale: {scale.citation}"]
    source = _source(f"crswatch: {scale.title}", f"{syndrome}-grade", f"{name} grade", scale.doi)
    return card(summary, indicator_for(result), "\n".join(lines), source, links=links)


def screen_card(screen: ScreenResult, links: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The alert card of an HLH/MAS screen that is met."""
    score = f", score {screen.score}" if screen.score is not None else ""
    summary = f"HLH/MAS screen positive: {screen.title}{score}"
    rule = f" (decision rule: {screen.cutoff})" if screen.cutoff else ""
    lines = [
        f"**{screen.title}** ({screen.version}) is met at {format_time(screen.at)}{score}{rule}."
    ]
    if not screen.verified:
        lines += [
            "",
            "_The criteria of this screen could not be verified in the published sources; "
            "the rules used are labelled as unverified._",
        ]
    met = [c for c in screen.criteria if c.met]
    if met:
        lines += ["", "**Criteria met:**"]
        lines += [f"- {c.label}: {_observed(c)}(criterion: {c.rule}; {c.source_ref})" for c in met]
    if screen.missing:
        lines += ["", "**Not assessable:**"]
        lines += [f"- {item.replace('_', ' ')}" for item in screen.missing]
    source = _source(f"crswatch: {screen.title}", "hlh-screen", "HLH/MAS screen")
    return card(summary, "critical", "\n".join(lines), source, links=links)


#: UCUM codes shown in conventional print (the values themselves are not converted).
_UNIT_PRINT: Mapping[str, str] = {"Cel": "°C", "10*3/uL": "×10³/µL", "10*9/L": "×10⁹/L", "ug": "µg"}


def _name(name: str) -> str:
    for suffix, word in (("_max", "highest"), ("_min", "lowest")):
        if name.endswith(suffix):
            return f"{word} {name[: -len(suffix)].replace('_', ' ')}"
    return name.replace("_", " ")


def _observed(criterion: CriterionOutcome) -> str:
    """The patient's values behind a criterion and its points (``highest ferritin 8500 ng/mL``)."""
    shown = []
    for found in criterion.observations:
        value = found.value
        if isinstance(value, bool) or value is None:
            continue
        text = f"{value:g}" if isinstance(value, int | float) else str(value)
        unit = _UNIT_PRINT.get(found.unit, found.unit) if found.unit else ""
        shown.append(f"{_name(found.name)} {text}" + (f" {unit}" if unit else ""))
    out = "; ".join(shown)
    if criterion.points is not None:
        out += f"{', ' if out else ''}{criterion.points} points"
    return f"{out} " if out else ""


def unreadable_card(data: PatientData) -> dict[str, Any]:
    """What is said when no timeline could be built from the EHR's data."""
    lines = [
        "crswatch could not read this patient's record from the EHR data, so no CRS or ICANS "
        f"grade is given. Reason: {data.unreadable or 'no patient record'}.",
    ]
    absent = missing_lines(data)
    if absent:
        lines += ["", "**Not received from the EHR:**", *absent]
    source = _source("crswatch", "data-missing", "Data missing")
    return card(
        "crswatch could not grade: patient data unreadable", "info", "\n".join(lines), source
    )


def dashboard_link(base_url: str, patient_id: str) -> dict[str, Any]:
    """The dashboard patient page (an absolute link; a SMART launch link comes later)."""
    return {
        "label": "Open the crswatch patient page",
        "url": f"{base_url.rstrip('/')}/ward/patients/{quote(patient_id, safe='')}",
        "type": "absolute",
    }


def engine_error_card(reason: str) -> dict[str, Any]:
    """What is said when the record was read but an engine could not evaluate it."""
    source = _source("crswatch", "data-missing", "Data missing")
    detail = (
        "crswatch read this patient's record but could not evaluate it, so no result is given "
        f"here. Reason: {reason}."
    )
    return card("crswatch could not evaluate this record", "info", detail, source)
