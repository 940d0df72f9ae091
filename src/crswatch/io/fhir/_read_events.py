"""FHIR R4 resources to raw timeline events (Observation, MedicationAdministration, Procedure,
DeviceUseStatement).

Each resource becomes zero or more raw event objects shaped like the timeline JSON ``events``
(``time``, ``item``, ``value``, ``unit``, ``end``, ``ref_low``, ``ref_high``, ``censored``,
``cause``, ``id``, ``source``): values stay in the unit they were sent in, and the timeline reader
converts and validates them, as it does for JSON.  What cannot be mapped (an unknown code, a
missing time, a value of the wrong type) is a :class:`Problem` naming the element path.

Codes are resolved through the local systems first-class (``urn:crswatch:item``,
``urn:crswatch:value``) and the code map; when a resource's codings name different things the
resource is rejected, never settled by picking one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crswatch.io.fhir._codemap import PATIENT_FIELDS, CodeMap, CodeMapRow
from crswatch.io.fhir._elements import (
    Problem,
    codings,
    concept_text,
    extension,
    mapping,
    period_or_time,
    quantity,
    ratio,
    sequence,
)
from crswatch.io.fhir._read_patient import BodyMeasure, body_measure
from crswatch.io.fhir._urls import (
    EVENT_ID_SYSTEM,
    EXT_CAUSE,
    EXT_CENSORED,
    EXT_REFERENCE_RANGE,
    EXT_SOURCE,
    EXT_VALUE,
    ITEM_SYSTEM,
    VALUE_SYSTEM,
)
from crswatch.timeline import NOT_ASSESSED, ItemSpec, vocabulary

__all__ = ["MAPPERS", "SKIPPED_STATUSES", "Context", "Outcome", "is_rate_item", "skip_reason"]

Outcome = dict[str, Any] | BodyMeasure | Problem
#: Resolves a Reference element (held by a resource) to the resource it points to.
Resolver = Callable[[Any, Mapping[str, Any], str], Mapping[str, Any]]

#: Statuses that say the resource is not a fact about the patient: not read, and counted.
SKIPPED_STATUSES: dict[str, frozenset[str]] = {
    "Observation": frozenset({"cancelled", "entered-in-error"}),
    "MedicationAdministration": frozenset({"not-done", "entered-in-error"}),
    "Procedure": frozenset({"not-done", "entered-in-error", "preparation"}),
    "DeviceUseStatement": frozenset({"entered-in-error", "intended"}),
}
_COMPARATORS = {"<": "below_lod", ">": "above_uloq"}
#: dataAbsentReason codes meaning the assessment was not done (a score is then not_assessed).
_NOT_DONE = frozenset({"not-performed", "not-asked"})
#: The item a bare ``urn:crswatch:value`` code of a Procedure or device belongs to.
_RESPIRATORY_SUPPORT = "o2_device"


@dataclass(frozen=True, slots=True)
class Context:
    codemap: CodeMap
    resolve: Resolver
    #: ``ResourceType/id`` (or the fullUrl) of the resource being read, for messages.
    label: str


@dataclass(frozen=True, slots=True)
class _Target:
    """What a CodeableConcept names: an item (or patient field), and the value if it names one."""

    item: str
    value_code: str | None
    rows: tuple[CodeMapRow, ...]


def skip_reason(resource_type: str, resource: Mapping[str, Any]) -> str | None:
    """Why a resource is not read at all (it states nothing about the patient), or None."""
    status = resource.get("status")
    if isinstance(status, str) and status in SKIPPED_STATUSES[resource_type]:
        return f"status {status!r}"
    if (
        resource_type == "Observation"
        and "hasMember" in resource
        and "component" not in resource
        and "dataAbsentReason" not in resource
        and not any(key.startswith("value") for key in resource)
    ):
        # A grouping panel (vital signs 85353-1): its members are Observations of their own.
        return "panel of hasMember references, read through its members"
    return None


def is_rate_item(spec: ItemSpec) -> bool:
    """Infusions are rates (per minute, per day); everything else given is a dose."""
    return spec.unit is not None and spec.unit.rsplit("/", 1)[-1] in ("min", "h", "d")


def _keys(found: list[tuple[str, str]], concept: Any) -> list[str]:
    if found:
        return [f"{system}|{code}" for system, code in found]
    text = concept_text(concept)
    return [f"(text)|{text}"] if text else ["(no code)|"]


def _all_codings(concept: Any, field: str) -> list[tuple[str, str]]:
    # R4 gives Device.type as one CodeableConcept; R5 made it a list; accept either.
    if isinstance(concept, list):
        return [
            pair
            for index, part in enumerate(concept)
            for pair in codings(part, f"{field}[{index}]")
        ]
    return codings(concept, field)


def _resolve(concept: Any, field: str, ctx: Context, *, value_item: str | None = None) -> _Target:
    found = _all_codings(concept, field)
    targets: dict[tuple[str, str | None], list[CodeMapRow]] = {}
    for system, code in found:
        if system == ITEM_SYSTEM and (code in vocabulary() or code in PATIENT_FIELDS):
            targets.setdefault((code, None), [])
        elif system == VALUE_SYSTEM and value_item is not None:
            if code in vocabulary()[value_item].values:
                targets.setdefault((value_item, code), [])
        else:
            for row in ctx.codemap.lookup(system, code):
                targets.setdefault((row.item, row.value_code), []).append(row)
    if not targets:
        keys = _keys(found, concept)
        raise Problem(
            "unknown_code",
            field,
            keys[0] if len(keys) == 1 else keys,
            "no coding is in the code map or the crswatch vocabulary",
            codes=keys,
        )
    if len(targets) > 1:
        named = sorted(f"{item}={value}" if value else item for item, value in targets)
        raise Problem(
            "bad_value", field, _keys(found, concept), f"the codings name different things: {named}"
        )
    (item, value_code), rows = next(iter(targets.items()))
    return _Target(item, value_code, tuple(rows))


def _resolve_value(item: str, concept: Any, field: str, ctx: Context) -> str:
    """The value of a coded item from a valueCodeableConcept (local code or code map)."""
    found = codings(concept, field)
    values: set[str] = set()
    for system, code in found:
        if system == VALUE_SYSTEM:
            values.add(code)  # checked against the item's values by the timeline reader
        for row in ctx.codemap.lookup(system, code):
            if row.item == item and row.value_code is not None:
                values.add(row.value_code)
    if not values:
        keys = _keys(found, concept)
        raise Problem(
            "unknown_code",
            field,
            keys[0] if len(keys) == 1 else keys,
            f"no coding is a known value of {item!r}",
            codes=keys,
        )
    if len(values) > 1:
        raise Problem(
            "bad_value", field, sorted(values), f"the codings name different values of {item!r}"
        )
    return values.pop()


# ------------------------------------------------------------------------------ shared parts


def _base(resource: Mapping[str, Any], resource_type: str) -> dict[str, Any]:
    """Provenance and flags every event of the resource carries."""
    raw: dict[str, Any] = {}
    identifiers = sequence(resource.get("identifier"), f"{resource_type}.identifier")
    for identifier in identifiers:
        if isinstance(identifier, Mapping) and identifier.get("system") == EVENT_ID_SYSTEM:
            raw["id"] = identifier.get("value")
            break
    else:
        # Evidence then points back to the source system's resource.
        if isinstance(resource.get("id"), str):
            raw["id"] = f"{resource_type}/{resource['id']}"
    source = extension(resource, EXT_SOURCE, f"{resource_type}.extension")
    if source is not None:
        raw["source"] = source[1]
    else:
        meta = mapping(resource.get("meta"), f"{resource_type}.meta")
        if meta is not None and meta.get("source") is not None:
            raw["source"] = meta["source"]
    for url, key in ((EXT_CAUSE, "cause"), (EXT_CENSORED, "censored")):
        given = extension(resource, url, f"{resource_type}.extension")
        if given is not None:
            raw[key] = given[1]
    return raw


def _finish(raw: dict[str, Any], resource: Mapping[str, Any], resource_type: str) -> dict[str, Any]:
    """Reference limits of a resource with no referenceRange element (written as an extension)."""
    reference = extension(resource, EXT_REFERENCE_RANGE, f"{resource_type}.extension")
    if reference is not None:
        _reference_limits(raw, reference[1], f"{resource_type}.extension")
    return raw


def _reference_limits(raw: dict[str, Any], span: Any, field: str, unit: str | None = None) -> None:
    """ref_low / ref_high from a Range or referenceRange; its unit must be the value's."""
    body = mapping(span, field, required=True)
    assert body is not None
    for bound, key in (("low", "ref_low"), ("high", "ref_high")):
        if body.get(bound) is None:
            continue
        number, bound_unit, _ = quantity(body[bound], f"{field}.{bound}")
        expected = unit if unit is not None else raw.get("unit")
        if bound_unit is not None and expected is not None and bound_unit != expected:
            raise Problem(
                "bad_value",
                f"{field}.{bound}.code",
                bound_unit,
                f"the reference range must be in the value's unit {expected!r}",
            )
        raw[key] = number


def _annotated(unit: Any, target: _Target) -> Any:
    """``ng/mL`` under LOINC 48065-7 (D-dimer FEU) is ``ng/mL{FEU}``: the code says which."""
    if not isinstance(unit, str) or "{" in unit:
        return unit
    annotations = {row.annotation for row in target.rows if row.annotation}
    return unit + annotations.pop() if len(annotations) == 1 else unit


def _timed(base: dict[str, Any], item: str, time: str, end: str | None) -> dict[str, Any]:
    raw = dict(base)
    raw["time"] = time
    raw["item"] = item
    if end is not None:
        raw["end"] = end
    return raw


def _guard(
    element: Mapping[str, Any],
    path: str,
    base: dict[str, Any],
    period: tuple[str, str | None],
    ctx: Context,
) -> Outcome:
    """One component's problem does not cost the resource's other events."""
    try:
        return _observed(element, path, base, period, ctx)
    except Problem as problem:
        return problem


# ------------------------------------------------------------------------------ Observation


def _observed(
    element: Mapping[str, Any],
    path: str,
    base: dict[str, Any],
    period: tuple[str, str | None],
    ctx: Context,
) -> Outcome:
    """One event (or body measure) from an Observation or one of its components."""
    target = _resolve(element.get("code"), f"{path}.code", ctx)
    value_keys = [key for key in element if key.startswith("value")]
    if len(value_keys) > 1:
        raise Problem("bad_value", f"{path}.value[x]", value_keys, "only one value[x] is allowed")
    if target.item in PATIENT_FIELDS:
        if value_keys != ["valueQuantity"]:
            raise Problem(
                "missing_field", f"{path}.valueQuantity", None, "body size needs a valueQuantity"
            )
        return body_measure(
            target.item, element["valueQuantity"], f"{path}.valueQuantity", period[0], ctx.label
        )
    spec = vocabulary()[target.item]
    raw = _timed(base, target.item, *period)
    if target.value_code is not None:
        # The code itself states the value (SNOMED 722742002 "breathing room air").
        stated = element.get("valueBoolean", True) if value_keys in ([], ["valueBoolean"]) else None
        if stated is not True:
            raise Problem(
                "bad_value",
                f"{path}.value[x]",
                {key: element[key] for key in value_keys},
                f"the code states {target.item}={target.value_code}; a value other than true "
                "contradicts it",
            )
        raw["value"] = target.value_code
        return raw
    if not value_keys:
        absent = codings(element.get("dataAbsentReason"), f"{path}.dataAbsentReason")
        if spec.kind == "score" and any(code in _NOT_DONE for _, code in absent):
            raw["value"] = NOT_ASSESSED
            return raw
        raise Problem(
            "missing_field",
            f"{path}.value[x]",
            [code for _, code in absent] or None,
            "the observation has no value" + (" (dataAbsentReason)" if absent else ""),
        )
    key = value_keys[0]
    field = f"{path}.{key}"
    if key == "valueQuantity":
        number, unit, comparator = quantity(element[key], field)
        raw["value"] = number
        if unit is not None:
            raw["unit"] = unit
        if comparator is not None:
            if comparator not in _COMPARATORS:
                raise Problem(
                    "bad_value",
                    f"{field}.comparator",
                    comparator,
                    "only '<' (below the limit of detection) and '>' (above the upper limit of "
                    "quantification) are read",
                )
            raw["censored"] = _COMPARATORS[comparator]
    elif key == "valueCodeableConcept" and spec.kind == "code":
        raw["value"] = _resolve_value(target.item, element[key], field, ctx)
    elif key in ("valueBoolean", "valueInteger", "valueString"):
        raw["value"] = element[key]
    else:
        raise Problem(
            "bad_value", field, element[key], f"{key} is not read for item {target.item!r}"
        )
    ranges = sequence(element.get("referenceRange"), f"{path}.referenceRange")
    if ranges:
        # The first range is the one that applies to the patient in every lab feed seen; ranges
        # per age or sex group are labelled with appliesTo and the lab lists the patient's first.
        _reference_limits(raw, ranges[0], f"{path}.referenceRange[0]", unit=raw.get("unit"))
    if "unit" in raw:
        raw["unit"] = _annotated(raw["unit"], target)
    return raw


def _map_observation(resource: Mapping[str, Any], ctx: Context) -> list[Outcome]:
    base = _base(resource, "Observation")
    period = period_or_time(resource, "effective", "Observation", instant=True)
    has_value = any(key.startswith("value") for key in resource) or "dataAbsentReason" in resource
    components = sequence(resource.get("component"), "Observation.component")
    outcomes: list[Outcome] = []
    # A panel (blood pressure 85354-9) has no value of its own: only its components are read,
    # and its code need not be in the map.  Pulse oximetry has both a value and components.
    if has_value or not components:
        outcomes.append(_guard(resource, "Observation", base, period, ctx))
    for index, component in enumerate(components):
        path = f"Observation.component[{index}]"
        part = mapping(component, path, required=True)
        assert part is not None
        outcomes.append(_guard(part, path, base, period, ctx))
    return outcomes


# ------------------------------------------------------------------ MedicationAdministration


def _map_medication_administration(resource: Mapping[str, Any], ctx: Context) -> list[Outcome]:
    kind = "MedicationAdministration"
    base = _base(resource, kind)
    period = period_or_time(resource, "effective", kind)
    if "medicationReference" in resource:
        field = f"{kind}.medicationReference"
        medication = ctx.resolve(resource["medicationReference"], resource, field)
        concept, concept_field = medication.get("code"), "Medication.code"
    else:
        concept, concept_field = (
            resource.get("medicationCodeableConcept"),
            f"{kind}.medicationCodeableConcept",
        )
        if concept is None:
            raise Problem("missing_field", f"{kind}.medication[x]", None, "the drug is not given")
    target = _resolve(concept, concept_field, ctx)
    spec = vocabulary().get(target.item)
    if spec is None or target.value_code is not None or spec.kind not in ("quantity", "any"):
        raise Problem(
            "bad_value",
            concept_field,
            target.item,
            f"{target.item!r} is not a drug, infusion or dose item",
        )
    raw = _timed(base, target.item, *period)
    dosage = mapping(resource.get("dosage"), f"{kind}.dosage") or {}
    if is_rate_item(spec):
        if "rateRatio" in dosage:
            raw["value"], raw["unit"] = ratio(dosage["rateRatio"], f"{kind}.dosage.rateRatio")
        elif "rateQuantity" in dosage:
            raw["value"], unit, _ = quantity(dosage["rateQuantity"], f"{kind}.dosage.rateQuantity")
            raw["unit"] = unit
        else:
            raise Problem(
                "missing_field",
                f"{kind}.dosage.rate[x]",
                None,
                f"{target.item!r} is an infusion: a rate is required",
            )
        return [_finish(raw, resource, kind)]
    if "dose" in dosage:
        raw["value"], unit, _ = quantity(dosage["dose"], f"{kind}.dosage.dose")
        if unit is not None:
            raw["unit"] = unit
        return [_finish(raw, resource, kind)]
    text = extension(resource, EXT_VALUE, f"{kind}.extension")
    if spec.kind == "any" and text is not None:
        raw["value"] = text[1]
        return [_finish(raw, resource, kind)]
    raise Problem(
        "missing_field",
        f"{kind}.dosage.dose",
        None,
        f"{target.item!r} is given as a dose: dosage.dose is required",
    )


# --------------------------------------------------------------- Procedure, DeviceUseStatement


def _support_event(raw: dict[str, Any], target: _Target, field: str) -> dict[str, Any]:
    """A procedure or device names a value (nasal cannula) or a boolean finding (dialysis)."""
    if target.value_code is not None:
        raw["value"] = target.value_code
        return raw
    if vocabulary()[target.item].kind == "boolean":
        raw["value"] = True
        return raw
    raise Problem(
        "bad_value", field, target.item, f"{target.item!r} needs a value this resource cannot give"
    )


def _category_item(resource: Mapping[str, Any], field: str) -> str | None:
    for concept in sequence(resource.get("category"), field):
        for system, code in codings(concept, field):
            if system == ITEM_SYSTEM and code in vocabulary():
                return code
    return None


def _map_procedure(resource: Mapping[str, Any], ctx: Context) -> list[Outcome]:
    base = _base(resource, "Procedure")
    period = period_or_time(resource, "performed", "Procedure")
    value_item = _category_item(resource, "Procedure.category") or _RESPIRATORY_SUPPORT
    target = _resolve(resource.get("code"), "Procedure.code", ctx, value_item=value_item)
    if target.item in PATIENT_FIELDS:
        raise Problem("bad_value", "Procedure.code", target.item, "body size is not a procedure")
    raw = _support_event(_timed(base, target.item, *period), target, "Procedure.code")
    return [_finish(raw, resource, "Procedure")]


def _map_device_use_statement(resource: Mapping[str, Any], ctx: Context) -> list[Outcome]:
    kind = "DeviceUseStatement"
    base = _base(resource, kind)
    period = period_or_time(resource, "timing", kind)
    device = ctx.resolve(resource.get("device"), resource, f"{kind}.device")
    if device.get("resourceType") != "Device":
        raise Problem(
            "bad_value", f"{kind}.device", device.get("resourceType"), "must reference a Device"
        )
    target = _resolve(device.get("type"), "Device.type", ctx, value_item=_RESPIRATORY_SUPPORT)
    if target.item in PATIENT_FIELDS:
        raise Problem("bad_value", "Device.type", target.item, "body size is not a device")
    raw = _support_event(_timed(base, target.item, *period), target, "Device.type")
    return [_finish(raw, resource, kind)]


MAPPERS: dict[str, Callable[[Mapping[str, Any], Context], list[Outcome]]] = {
    "Observation": _map_observation,
    "MedicationAdministration": _map_medication_administration,
    "Procedure": _map_procedure,
    "DeviceUseStatement": _map_device_use_statement,
}
