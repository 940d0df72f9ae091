"""crswatch's results as FHIR R4: each grade an Observation, each alert a DetectedIssue.

The Bundle (``collection``) holds the source data as ``timelines_to_bundle`` writes it, then per
patient one Observation per scale graded and one DetectedIssue per HLH/MAS screen that is met,
so every reference resolves inside the Bundle.  The mapping (docs/decisions/0047):

- ``Observation.code``: ``urn:crswatch:grade`` | ``crs.astct2019`` (syndrome and scale);
  ``valueInteger`` the grade on record (graded, or provisional with ``status`` ``preliminary``);
  an ambiguous or not-assessable grade has no value but ``dataAbsentReason`` ``unknown``;
  ``component`` gives the lower and upper bound, ``interpretation`` the status in the shared
  notation, ``method`` the scale's citation, ``note`` the deciding criterion in the paper's words
  and the data missing.
- ``derivedFrom``: the source Observations behind the criteria met (FHIR R4 allows only
  Observation and a few document types there); MedicationAdministration and Procedure sources
  (vasopressors, oxygen) are referenced in the extension ``urn:crswatch:fhir:extension:evidence``.
- ``DetectedIssue``: ``code`` ``urn:crswatch:alert`` | ``hlh.<screen>``, ``severity`` ``high``,
  ``evidence.detail`` the sources of the criteria met, ``detail`` the criteria in words.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from crswatch.hlh import ScreenResult, screen_timelines
from crswatch.io.fhir._codemap import CodeMap
from crswatch.io.fhir._urls import DATA_ABSENT_REASON, OBSERVATION_CATEGORY
from crswatch.io.fhir._write import _urn, timelines_to_bundle
from crswatch.scales import (
    ALL_SCALES,
    STATUS_LABELS,
    GradeResult,
    grade_notation,
    grade_on_record,
    grade_timelines,
)
from crswatch.state import StateParameters
from crswatch.timeline import Timeline, format_time

__all__ = [
    "ALERT_SYSTEM",
    "EXT_EVIDENCE",
    "GRADE_BOUND_SYSTEM",
    "GRADE_STATUS_SYSTEM",
    "GRADE_SYSTEM",
    "RESULT_ID_SYSTEM",
    "results_to_bundle",
]

#: crswatch's code systems for results (code = ``<syndrome>.<scale id>``, a status, a bound).
GRADE_SYSTEM = "urn:crswatch:grade"
GRADE_STATUS_SYSTEM = "urn:crswatch:grade-status"
GRADE_BOUND_SYSTEM = "urn:crswatch:grade-bound"
ALERT_SYSTEM = "urn:crswatch:alert"
RESULT_ID_SYSTEM = "urn:crswatch:result-id"
EXT_EVIDENCE = "urn:crswatch:fhir:extension:evidence"
_SYNDROMES = {"crs": "CRS", "icans": "ICANS"}
#: Observation.derivedFrom targets FHIR R4 allows among what the writer emits.
_DERIVABLE = frozenset({"Observation"})


def _stamp(moment: datetime) -> str:
    # The evidence reference format of crswatch.state (``item@YYYY-MM-DDTHH:MM:SSZ``).
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Sources:
    """Evidence references (event id, or ``item@time``) to the source resources' fullUrls."""

    def __init__(self, timeline: Timeline, key: str, bundle_types: Mapping[str, str]) -> None:
        self._url: dict[str, str] = {}
        self.types = bundle_types
        for index, event in enumerate(timeline.events):
            url = _urn(key, "event", index)
            if event.id is not None:
                self._url.setdefault(event.id, url)
            self._url.setdefault(f"{event.item}@{_stamp(event.time)}", url)

    def urls(self, refs: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(self._url[r] for r in refs if r in self._url))


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _grade_observation(
    syndrome: str, result: GradeResult, subject: str, sources: _Sources, url: str
) -> dict[str, Any]:
    scale = ALL_SCALES[f"{syndrome}.{result.scale}"]
    name = _SYNDROMES.get(syndrome, syndrome.upper())
    lower, upper = result.bounds
    notation = grade_notation(result.grade, result.status, lower, upper)
    on_record = grade_on_record(result.grade, result.status)
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": [{"system": RESULT_ID_SYSTEM, "value": url.rsplit(":", 1)[-1]}],
        "status": "preliminary" if result.status == "provisional" else "final",
        "category": [{"coding": [_coding(OBSERVATION_CATEGORY, "survey")]}],
        "code": {
            "coding": [
                _coding(GRADE_SYSTEM, f"{syndrome}.{result.scale}", f"{name} grade, {scale.title}")
            ],
            "text": f"{name} grade ({scale.title})",
        },
        "subject": {"reference": subject},
        "effectiveDateTime": format_time(result.at),
    }
    if on_record is not None:
        resource["valueInteger"] = on_record
    else:
        resource["dataAbsentReason"] = {
            "coding": [_coding(DATA_ABSENT_REASON, "unknown", "Unknown")],
            "text": f"grade {notation}",
        }
    resource["interpretation"] = [
        {
            "coding": [
                _coding(
                    GRADE_STATUS_SYSTEM,
                    result.status,
                    STATUS_LABELS.get(result.status, result.status),
                )
            ],
            "text": notation,
        }
    ]
    resource["method"] = {"text": scale.citation}
    resource["component"] = [
        {
            "code": {"coding": [_coding(GRADE_BOUND_SYSTEM, bound, f"{bound} bound of the grade")]},
            "valueInteger": value,
        }
        for bound, value in (("lower", lower), ("upper", upper))
    ]
    refs = [ref for e in result.evidence if e.met for ref in e.events]
    urls = sources.urls(refs)
    derived = [u for u in urls if sources.types.get(u) in _DERIVABLE]
    others = [u for u in urls if sources.types.get(u) not in _DERIVABLE]
    if derived:
        resource["derivedFrom"] = [{"reference": u} for u in derived]
    if others:
        resource["extension"] = [
            {"url": EXT_EVIDENCE, "valueReference": {"reference": u}} for u in others
        ]
    notes = []
    deciding = result.deciding
    if deciding is not None:
        notes.append(f"Deciding criterion: {deciding.rule} (source: {deciding.source_ref}).")
    else:
        notes.append("No criterion of the scale is met.")
    undecided = list(dict.fromkeys(e.rule for e in result.undecided))
    if undecided:
        notes.append("Could raise the grade, not decided: " + "; ".join(undecided) + ".")
    if result.missing:
        notes.append("Missing data: " + ", ".join(dict.fromkeys(result.missing)) + ".")
    resource["note"] = [{"text": text} for text in notes]
    return resource


def _detected_issue(
    screen: ScreenResult, subject: str, sources: _Sources, url: str
) -> dict[str, Any]:
    met = [c for c in screen.criteria if c.met]
    refs = []
    for criterion in met:
        for found in criterion.observations:
            if found.ref is not None:
                refs.append(found.ref)
            if found.time is not None:
                refs.append(f"{found.item}@{_stamp(found.time)}")
    score = f", score {screen.score}" if screen.score is not None else ""
    rule = f" (decision rule: {screen.cutoff})" if screen.cutoff else ""
    lines = [f"{screen.title} ({screen.version}) is met{score}{rule}."]
    if not screen.verified:
        lines.append(
            "The criteria of this screen could not be verified in the published sources; the "
            "rules used are labelled as unverified."
        )
    lines += [f"{c.label}: {c.rule} (source: {c.source_ref})." for c in met]
    resource: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "identifier": [{"system": RESULT_ID_SYSTEM, "value": url.rsplit(":", 1)[-1]}],
        "status": "final" if screen.verified else "preliminary",
        "code": {
            "coding": [
                _coding(ALERT_SYSTEM, f"hlh.{screen.screen}", f"HLH/MAS screen met: {screen.title}")
            ],
            "text": f"HLH/MAS screen met: {screen.title}",
        },
        "severity": "high",
        "patient": {"reference": subject},
        "identifiedDateTime": format_time(screen.at),
        "detail": " ".join(lines),
    }
    urls = sources.urls(refs)
    if urls:
        resource["evidence"] = [{"detail": [{"reference": u} for u in urls]}]
    return resource


def results_to_bundle(
    timelines: Sequence[Timeline],
    *,
    at: datetime | None = None,
    scales: Sequence[str] | None = None,
    params: StateParameters | None = None,
    codemap: CodeMap | None = None,
) -> dict[str, Any]:
    """The timelines as FHIR R4, then their grades (Observation) and alerts (DetectedIssue).

    Grades and screens are computed at ``at`` (default: each patient's last event) on
    ``scales`` (selectors as ``grade_timelines``; default every CRS and ICANS scale), with the
    state ``params`` given (default: ``StateParameters()``).
    """
    timelines = list(timelines)
    bundle = timelines_to_bundle(timelines, codemap=codemap)
    types = {e["fullUrl"]: e["resource"]["resourceType"] for e in bundle["entry"]}
    grades = grade_timelines(timelines, at=at, scales=scales, params=params)
    screens = screen_timelines(timelines, at)
    occurrences: Counter[str] = Counter()
    for timeline, graded, screened in zip(timelines, grades, screens, strict=True):
        patient_id = timeline.patient.id
        # The same patient key as timelines_to_bundle, so the references meet its fullUrls.
        occurrence = occurrences[patient_id]
        occurrences[patient_id] += 1
        key = json.dumps([patient_id] if occurrence == 0 else [patient_id, occurrence])
        subject = _urn(key, "patient")
        sources = _Sources(timeline, key, types)
        stamp = format_time(graded.at)
        for syndrome, results in (("crs", graded.crs), ("icans", graded.icans)):
            for scale_id, result in results.items():
                url = _urn(key, "grade", syndrome, scale_id, stamp)
                bundle["entry"].append(
                    {
                        "fullUrl": url,
                        "resource": _grade_observation(syndrome, result, subject, sources, url),
                    }
                )
        for screen in screened.results.values():
            if screen.status != "met":
                continue
            url = _urn(key, "alert", screen.screen, stamp)
            bundle["entry"].append(
                {"fullUrl": url, "resource": _detected_issue(screen, subject, sources, url)}
            )
    return bundle
