"""Reading a FHIR R4 Bundle into timelines: resolve references, group by subject, validate.

Every resource is accounted for in the ingest report: read as events, rejected with an issue
(unknown code, missing time, unresolvable subject), or named in a warning (resource types that
carry no timeline data, statuses such as ``entered-in-error``).  Events and patients then go
through :func:`crswatch.timeline.build_timeline`, so units are converted and values checked
exactly as for JSON input.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crswatch.errors import TimelineFormatError
from crswatch.io.fhir._codemap import CodeMap, load_codemap
from crswatch.io.fhir._elements import Problem, mapping
from crswatch.io.fhir._read_events import MAPPERS, Context, skip_reason
from crswatch.io.fhir._read_patient import BodyMeasure, patient_record, settle_body_size
from crswatch.io.fhir._urls import RESOURCE_TYPES
from crswatch.timeline import (
    IngestReport,
    ReadResult,
    Timeline,
    TimeWindow,
    build_timeline,
    vocabulary,
)

__all__ = ["read_bundle"]

#: Resources read only through a reference (a MedicationAdministration's drug, a device's type).
_REFERENCED = frozenset({"Medication", "Device"})
_TYPED_TAIL = re.compile(r"([A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64})(/_history/[^/]+)?$")
_SHOWN = 5


def _label(entry: Mapping[str, Any], resource: Mapping[str, Any], position: int) -> str:
    if isinstance(resource.get("id"), str):
        return f"{resource.get('resourceType')}/{resource['id']}"
    if isinstance(entry.get("fullUrl"), str):
        return str(entry["fullUrl"])
    return f"Bundle.entry[{position}]"


class _Index:
    """Bundle entries by fullUrl and by ``Type/id``, to resolve references inside the Bundle."""

    def __init__(self, resources: list[Mapping[str, Any] | None], entries: list[Any]) -> None:
        self.resources = resources
        self._by_key: dict[str, int] = {}
        for position, (entry, resource) in enumerate(zip(entries, resources, strict=True)):
            if resource is None:
                continue
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str):
                self._by_key.setdefault(full_url, position)
            if isinstance(resource.get("id"), str):
                self._by_key.setdefault(
                    f"{resource.get('resourceType')}/{resource['id']}", position
                )

    def position(self, reference: str) -> int | None:
        if reference in self._by_key:
            return self._by_key[reference]
        # An absolute URL (http://server/fhir/Patient/1) names the same resource as Patient/1.
        tail = _TYPED_TAIL.search(reference)
        return self._by_key.get(tail.group(1)) if tail else None

    def target(
        self, reference: Any, holder: Mapping[str, Any], field: str
    ) -> tuple[int | None, Mapping[str, Any]]:
        """(entry position or None for a contained resource, resource) of a Reference."""
        body = mapping(reference, field, required=True)
        assert body is not None
        target = body.get("reference")
        if not isinstance(target, str) or not target:
            raise Problem(
                "missing_field",
                f"{field}.reference",
                body.get("identifier") or body.get("display"),
                "only a literal reference to a resource in the Bundle can be followed",
            )
        if target.startswith("#"):
            for contained in holder.get("contained") or ():
                if isinstance(contained, Mapping) and contained.get("id") == target[1:]:
                    return None, contained
        else:
            position = self.position(target)
            if position is not None:
                found = self.resources[position]
                assert found is not None
                return position, found
        raise Problem("bad_value", f"{field}.reference", target, "not found in the Bundle")

    def resolve(self, reference: Any, holder: Mapping[str, Any], field: str) -> Mapping[str, Any]:
        return self.target(reference, holder, field)[1]


@dataclass(slots=True)
class _Slot:
    """One Patient and everything read for it."""

    resource: Mapping[str, Any]
    position: int
    events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    measures: list[BodyMeasure] = field(default_factory=list)
    problems: list[tuple[int, str, Problem]] = field(default_factory=list)


def read_bundle(
    document: Mapping[str, Any],
    source: str | None = None,
    *,
    codemap: CodeMap | None = None,
    window: TimeWindow | None = None,
) -> ReadResult:
    """Timelines from a FHIR R4 Bundle (JSON), one per Patient, in Bundle order.

    ``codemap`` replaces the reviewed code map shipped with crswatch (to add site codes);
    ``window`` the contract's plausible time window (:class:`~crswatch.timeline.TimeWindow`).
    Raises :class:`TimelineFormatError` when the document is not a Bundle; everything else that
    cannot be read is in the report.
    """
    if not isinstance(document, Mapping) or document.get("resourceType") != "Bundle":
        found = (
            document.get("resourceType")
            if isinstance(document, Mapping)
            else type(document).__name__
        )
        raise TimelineFormatError(f"a FHIR Bundle is required, not {found!r}", path=source)
    entries = document.get("entry", [])
    if not isinstance(entries, list):
        raise TimelineFormatError("Bundle.entry must be an array", path=source)
    codemap = codemap if codemap is not None else load_codemap()
    report = IngestReport(source=source)
    resources = [
        entry.get("resource")
        if isinstance(entry, Mapping) and isinstance(entry.get("resource"), Mapping)
        else None
        for entry in entries
    ]
    index = _Index(resources, [entry if isinstance(entry, Mapping) else {} for entry in entries])
    slots = {
        position: _Slot(resource, position)
        for position, resource in enumerate(resources)
        if resource is not None and resource.get("resourceType") == "Patient"
    }
    unsupported: Counter[str] = Counter()
    skipped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for position, resource in enumerate(resources):
        if resource is None:
            _orphan(
                report,
                Problem("bad_value", "Bundle.entry.resource", None, "the entry has no resource"),
                position,
                f"Bundle.entry[{position}]",
            )
            continue
        kind = resource.get("resourceType")
        if not isinstance(kind, str):
            kind = repr(kind)
        if kind == "Patient" or kind in _REFERENCED:
            continue
        if kind not in MAPPERS:
            unsupported[str(kind)] += 1
            report.unknown_codes[f"{RESOURCE_TYPES}|{kind}"] += 1
            continue
        label = _label(entries[position], resource, position)
        reason = skip_reason(kind, resource)
        if reason is not None:
            skipped[(kind, reason)].append(label)
            continue
        try:
            subject_position, subject = index.target(
                resource.get("subject"), resource, f"{kind}.subject"
            )
            if subject_position not in slots:
                raise Problem(
                    "bad_value",
                    f"{kind}.subject",
                    subject.get("resourceType"),
                    "the subject must be a Patient in the Bundle",
                )
            slot = slots[subject_position]
        except Problem as problem:
            _orphan(report, problem, position, label)
            continue
        try:
            outcomes = MAPPERS[kind](resource, Context(codemap, index.resolve, label))
        except Problem as problem:
            outcomes = [problem]
        for outcome in outcomes:
            if isinstance(outcome, Problem):
                slot.problems.append((position, label, outcome))
            elif isinstance(outcome, BodyMeasure):
                slot.measures.append(outcome)
            else:
                slot.events.append((position, outcome))
    timelines = [
        timeline
        for slot in slots.values()
        if (timeline := _timeline(slot, report, window)) is not None
    ]
    _warn_unread(report, unsupported, skipped)
    _warn_duplicates(timelines, report)
    return ReadResult(timelines, report)


def _orphan(report: IngestReport, problem: Problem, position: int, label: str) -> None:
    """A resource that belongs to no patient: rejected, counted as one event."""
    report.issues.append(problem.issue(None, position, label))
    report.unknown_codes.update(problem.codes)
    report.events_read += 1
    report.events_rejected += 1


def _timeline(slot: _Slot, report: IngestReport, window: TimeWindow | None) -> Timeline | None:
    try:
        record = patient_record(slot.resource, report.warnings)
    except Problem as problem:
        # The patient cannot be read, so neither can its events (as for a bad JSON patient).
        label = _label({}, slot.resource, slot.position)
        report.issues.append(problem.issue(None, slot.position, label))
        report.patients_read += 1
        report.patients_rejected += 1
        report.events_read += len(slot.events) + len(slot.problems)
        report.events_rejected += len(slot.events) + len(slot.problems)
        return None
    settle_body_size(record, slot.measures, report.warnings)
    if "therapy" not in record:
        _infer_therapy(record, [raw for _, raw in slot.events], report.warnings)
    patient_id = record.get("id") if isinstance(record.get("id"), str) else None
    for position, label, rejected in slot.problems:
        report.issues.append(rejected.issue(patient_id, position, label))
        report.unknown_codes.update(rejected.codes)
    report.events_read += len(slot.problems)
    report.events_rejected += len(slot.problems)
    return build_timeline(
        record,
        [raw for _, raw in slot.events],
        report,
        positions=[position for position, _ in slot.events],
        window=window,
    )


def _infer_therapy(
    record: dict[str, Any], events: list[dict[str, Any]], warnings: list[str]
) -> None:
    """Therapy from the T-cell engager itself when the Patient has no therapy extension.

    The first CAR T infusion, or the first non-zero blinatumomab or bispecific dose, *is* the
    therapy start; with more than one kind of engager the start is not decided here.
    """
    found: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for raw in events:
        spec = vocabulary().get(raw["item"])
        if spec is None or spec.group != "t_cell_engager" or raw.get("value") in (0, "0"):
            continue
        kind = {"car_t_infusion": "car_t", "blinatumomab": "blinatumomab"}.get(
            spec.name, "bispecific"
        )
        try:
            found[kind].append((datetime.fromisoformat(raw["time"]), spec.name))
        except (TypeError, ValueError):
            continue
    if len(found) != 1:
        if found:
            warnings.append(
                f"patient={record.get('id')!r}: no therapy extension, and the engagers given "
                f"({sorted(found)}) do not decide one therapy"
            )
        return
    kind, given = next(iter(found.items()))
    start, name = min(given)
    therapy: dict[str, Any] = {"kind": kind, "start": start.isoformat()}
    if kind == "bispecific" and len({item for _, item in given}) == 1:
        therapy["product"] = name
    record["therapy"] = therapy
    warnings.append(
        f"patient={record.get('id')!r}: no therapy extension; therapy {kind!r} starting "
        f"{therapy['start']} taken from the first {name} administration"
    )


def _warn_unread(
    report: IngestReport, unsupported: Counter[str], skipped: dict[tuple[str, str], list[str]]
) -> None:
    for kind, count in sorted(unsupported.items()):
        report.warnings.append(
            f"{count} {kind} resource(s) not read: crswatch reads Patient, Observation, "
            "MedicationAdministration, Procedure and DeviceUseStatement"
        )
    for (kind, reason), labels in sorted(skipped.items()):
        shown = ", ".join(labels[:_SHOWN]) + (" ..." if len(labels) > _SHOWN else "")
        report.warnings.append(f"{len(labels)} {kind} resource(s) not read ({reason}): {shown}")


def _warn_duplicates(timelines: list[Timeline], report: IngestReport) -> None:
    seen: set[str] = set()
    for timeline in timelines:
        if timeline.patient.id in seen:
            report.warnings.append(
                f"patient={timeline.patient.id!r} appears more than once; "
                "the timelines are kept apart"
            )
        seen.add(timeline.patient.id)
