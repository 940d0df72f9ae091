"""Validation at the reading boundary: raw records in, canonical timelines and an ingest report out.

Every reader (JSON, CSV, Parquet, FHIR) hands raw patient and event records to
:func:`build_timeline`.  Nothing is guessed: a record that cannot be read exactly is rejected
with an :class:`IngestIssue` naming the patient, the event (index and id), the field and the
value; the rest of the timeline is still read, and the report counts both.
"""

from __future__ import annotations

import contextlib
import difflib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from crswatch.errors import IngestError, InputError, TimelineFormatError, UnitError
from crswatch.timeline._limits import TimeWindow, patient_id_problem, text_problem
from crswatch.timeline._model import (
    CAUSES,
    CENSORING,
    FORMAT,
    SEXES,
    THERAPY_KINDS,
    Event,
    EventValue,
    Patient,
    Therapy,
    Timeline,
)
from crswatch.timeline._report import IngestIssue, IngestReport, IssueKind
from crswatch.timeline._response import RESPONSES
from crswatch.timeline._units import Conversion, conversion_for
from crswatch.timeline._vocabulary import NOT_ASSESSED, ItemSpec, vocabulary

__all__ = ["ReadResult", "build_timeline", "check_document", "parse_time", "unknown_field_note"]

_EVENT_FIELDS = frozenset(
    {
        "time",
        "item",
        "value",
        "unit",
        "end",
        "ref_low",
        "ref_high",
        "censored",
        "cause",
        "id",
        "source",
    }
)
_PATIENT_FIELDS = frozenset(
    {
        "id",
        "therapy",
        "age_years",
        "birth_date",
        "weight_kg",
        "height_cm",
        "bsa_m2",
        "sex",
        "high_risk",
        "response",
        "response_date",
    }
)
_THERAPY_FIELDS = frozenset({"kind", "start", "product"})
#: Patient body-size bounds (inclusive): a newborn to the heaviest recorded adults.
_PATIENT_BOUNDS: dict[str, tuple[float, float, str]] = {
    "age_years": (0.0, 120.0, "ages outside 0-120 years are entry errors"),
    "weight_kg": (0.3, 400.0, "weights outside 0.3-400 kg are entry errors (pounds sent as kg?)"),
    "height_cm": (20.0, 260.0, "heights outside 20-260 cm are entry errors (inches sent as cm?)"),
    "bsa_m2": (0.05, 4.0, "body-surface areas outside 0.05-4 m2 are entry errors"),
}
#: Units a fraction of inspired oxygen may come in (UCUM '1' is the unity).
_FRACTION_UNITS = frozenset({"1", "{fraction}", ""})


@dataclass(slots=True)
class ReadResult:
    """Timelines that were read, and the report of everything that was not."""

    timelines: list[Timeline]
    report: IngestReport

    def raise_for_issues(self) -> None:
        """Raise :class:`IngestError` with every issue when anything was rejected."""
        if self.report.issues:
            raise IngestError(self.report.issues)


class _Reject(Exception):  # noqa: N818 - internal control flow, never escapes this module
    def __init__(self, kind: IssueKind, field: str, value: Any, reason: str) -> None:
        super().__init__(reason)
        self.kind: IssueKind = kind
        self.field = field
        self.value = value
        self.reason = reason


def parse_time(value: Any, field: str = "time") -> datetime:
    """An ISO 8601 time *with* a UTC offset as an aware UTC datetime.

    Raises :class:`crswatch.errors.InputError` naming ``field`` and the value otherwise.
    """
    try:
        return _time(value, field)
    except _Reject as reject:
        raise InputError(f"{field}={value!r}: {reject.reason}") from None


def _time(value: Any, field: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise _Reject("bad_time", field, value, "not an ISO 8601 date-time") from None
        if len(text) <= 10:  # a bare date parses to midnight without an offset
            raise _Reject("bad_time", field, value, "a date-time with a UTC offset is required")
    else:
        raise _Reject("bad_time", field, value, "an ISO 8601 string is required")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _Reject(
            "bad_time",
            field,
            value,
            "time has no UTC offset; add 'Z' or '+hh:mm' (it is never guessed)",
        )
    return moment.astimezone(UTC)


def _number(value: Any, field: str, *, from_text: bool) -> float:
    if isinstance(value, bool):
        raise _Reject("bad_value", field, value, "a number is required, not a boolean")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            raise _Reject("bad_value", field, value, "a finite number is required") from None
    elif from_text and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise _Reject("bad_value", field, value, "a number is required") from None
    else:
        raise _Reject("bad_value", field, value, "a number is required")
    if not math.isfinite(number):
        raise _Reject("bad_value", field, value, "a finite number is required")
    return number


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Reject("bad_value", field, value, "a non-empty string is required")
    problem = text_problem(value)
    if problem is not None:
        raise _Reject("bad_value", field, value, problem)
    return value


def _label(value: Any, field: str) -> str:
    """An identifier or source label: text, or a whole number written without quotes."""
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**18:
            raise _Reject("bad_value", field, value, "a number this long is not an identifier")
        return str(value)
    return _text(value, field)


def _windowed(value: Any, field: str, window: TimeWindow, now: datetime) -> datetime:
    moment = _time(value, field)
    problem = window.problem(moment, now)
    if problem is not None:
        raise _Reject("bad_time", field, value, problem)
    return moment


def _boolean(value: Any, field: str, *, from_text: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_text and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _Reject("bad_value", field, value, "true or false is required")


def _present(record: Mapping[str, Any], key: str) -> bool:
    value = record.get(key)
    return value is not None and not (isinstance(value, str) and value == "")


def _check_bounds(spec: ItemSpec, value: float, unit: str | None, field: str, shown: Any) -> None:
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        unit_text = f" {unit}" if unit else ""
        raise _Reject(
            "out_of_bounds",
            field,
            shown,
            f"{value:g}{unit_text} is outside the plausible range {spec.low:g}-{spec.high:g}"
            f"{unit_text} for {spec.name!r} ({spec.rationale})",
        )


# --------------------------------------------------------------------------------------- patient


def _patient_number(record: Mapping[str, Any], key: str, from_text: bool) -> float | None:
    if not _present(record, key):
        return None
    number = _number(record[key], key, from_text=from_text)
    low, high, why = _PATIENT_BOUNDS[key]
    if not low <= number <= high:
        raise _Reject("bad_patient", key, record[key], f"outside {low:g}-{high:g}: {why}")
    return number


def _build_therapy(
    record: Mapping[str, Any], window: TimeWindow, now: datetime, notes: list[str]
) -> Therapy:
    therapy = record.get("therapy")
    if not isinstance(therapy, Mapping):
        raise _Reject(
            "missing_field", "therapy", therapy, "therapy with kind and start is required"
        )
    if not _present(therapy, "kind"):
        raise _Reject(
            "missing_field", "therapy.kind", therapy.get("kind"), "therapy.kind is required"
        )
    kind = therapy["kind"]
    if kind not in THERAPY_KINDS:
        raise _Reject(
            "bad_patient", "therapy.kind", kind, f"must be one of {', '.join(THERAPY_KINDS)}"
        )
    if not _present(therapy, "start"):
        raise _Reject(
            "missing_field", "therapy.start", therapy.get("start"), "therapy.start is required"
        )
    notes.extend(
        unknown_field_note(key, _THERAPY_FIELDS, "therapy.")
        for key in therapy
        if key not in _THERAPY_FIELDS
    )
    start = _windowed(therapy["start"], "therapy.start", window, now)
    product = therapy.get("product")
    product = _text(product, "therapy.product") if _present(therapy, "product") else None
    return Therapy(kind=kind, start=start, product=product)


def _build_patient(
    record: Any, from_text: bool, window: TimeWindow, now: datetime, notes: list[str]
) -> Patient:
    if not isinstance(record, Mapping):
        raise _Reject("missing_field", "patient", record, "a patient object is required")
    if not _present(record, "id"):
        raise _Reject("missing_field", "id", record.get("id"), "patient.id is required")
    patient_id = record["id"]
    if not isinstance(patient_id, str):
        raise _Reject("bad_patient", "id", patient_id, "patient.id must be a string")
    id_problem = patient_id_problem(patient_id)
    if id_problem is not None:
        raise _Reject("bad_patient", "id", patient_id, f"patient.id: {id_problem}")
    notes.extend(
        unknown_field_note(key, _PATIENT_FIELDS) for key in record if key not in _PATIENT_FIELDS
    )
    birth_date = _patient_date(record, "birth_date")
    sex = record.get("sex")
    if sex is not None and sex != "" and sex not in SEXES:
        raise _Reject("bad_patient", "sex", sex, f"must be one of {', '.join(SEXES)}")
    high_risk = None
    if _present(record, "high_risk"):
        high_risk = _boolean(record["high_risk"], "high_risk", from_text=from_text)
    response, response_date = _response(record)
    return Patient(
        id=patient_id,
        therapy=_build_therapy(record, window, now, notes),
        age_years=_patient_number(record, "age_years", from_text),
        birth_date=birth_date,
        weight_kg=_patient_number(record, "weight_kg", from_text),
        height_cm=_patient_number(record, "height_cm", from_text),
        bsa_m2_given=_patient_number(record, "bsa_m2", from_text),
        sex=sex or None,
        high_risk=high_risk,
        response=response,
        response_date=response_date,
    )


def _patient_date(record: Mapping[str, Any], key: str) -> date | None:
    if not _present(record, key):
        return None
    try:
        return date.fromisoformat(str(record[key]))
    except ValueError:
        raise _Reject("bad_patient", key, record[key], "YYYY-MM-DD is required") from None


def _response(record: Mapping[str, Any]) -> tuple[str | None, date | None]:
    """The optional ``response`` and ``response_date`` (docs/decisions/0022-response-field.md)."""
    response = record.get("response")
    if response == "":
        response = None  # an empty table cell is an absent field, as for sex
    if response is not None and response not in RESPONSES:
        raise _Reject("bad_patient", "response", response, f"must be one of {', '.join(RESPONSES)}")
    response_date = _patient_date(record, "response_date")
    if response_date is not None and response is None:
        # A date of an assessment whose result is not given says nothing; it is not kept alone.
        raise _Reject(
            "bad_patient",
            "response_date",
            record["response_date"],
            "response_date is given without response",
        )
    return response, response_date


# ---------------------------------------------------------------------------------------- events


def _convert_quantity(
    spec: ItemSpec, value: float, unit: Any, patient: Patient
) -> tuple[float, str | None, Conversion | None]:
    """The value in the item's canonical unit, that unit, and the conversion used (if any)."""
    if spec.name == "fio2" and (unit is None or unit in _FRACTION_UNITS):
        # A fraction of inspired oxygen (0.21-1) is common in ventilator data (timeline.md §4).
        if not 0.0 <= value <= 1.0:
            raise _Reject(
                "out_of_bounds",
                "value",
                value,
                "an FiO2 without a unit (or with unit '1') is a fraction and must be within 0-1",
            )
        converted = value * 100.0
        _check_bounds(spec, converted, "%", "value", value)
        return converted, "%", Conversion("%", 100.0, note="fraction converted to %")
    if unit is None or unit == "":
        raise _Reject(
            "missing_field", "unit", unit, f"a UCUM unit is required for item {spec.name!r}"
        )
    if not isinstance(unit, str):
        raise _Reject("bad_value", "unit", unit, "a UCUM unit string is required")
    try:
        conversion = conversion_for(spec.name, unit)
    except UnitError as exc:
        kind: IssueKind = getattr(exc, "kind", "unknown_unit")
        raise _Reject(kind, "unit", unit, exc.reason) from None
    size: float | None = None
    if conversion.body == "weight":
        size = patient.weight_kg
        if size is None:
            raise _Reject(
                "missing_body_size",
                "unit",
                unit,
                f"unit {unit!r} needs the patient's weight_kg, which is missing",
            )
    elif conversion.body == "bsa":
        size = patient.bsa_m2
        if size is None:
            raise _Reject(
                "missing_body_size",
                "unit",
                unit,
                f"unit {unit!r} needs the patient's body-surface area "
                "(bsa_m2, or weight_kg and height_cm), which is missing",
            )
    converted = conversion.apply(value, weight_kg=patient.weight_kg, bsa_m2=patient.bsa_m2)
    _check_bounds(spec, converted, conversion.unit, "value", value)
    return converted, conversion.unit, conversion


def _score(spec: ItemSpec, value: Any, unit: Any, from_text: bool) -> EventValue:
    if value == NOT_ASSESSED:
        return NOT_ASSESSED
    number = _number(value, "value", from_text=from_text)
    if number != int(number):
        raise _Reject("bad_value", "value", value, f"{spec.name!r} is a whole-number score")
    if unit not in (None, "", "1", "{score}", "{points}"):
        raise _Reject("wrong_dimension", "unit", unit, f"{spec.name!r} is a score without a unit")
    _check_bounds(spec, number, None, "value", value)
    return float(int(number))


def _build_event(
    raw: Any,
    index: int,
    patient: Patient,
    report: IngestReport,
    from_text: bool,
    window: TimeWindow,
    now: datetime,
) -> Event:
    if not isinstance(raw, Mapping):
        raise _Reject("bad_value", "event", raw, "an event object is required")
    for key in ("time", "item", "value"):
        if not _present(raw, key):
            reason = f"event field {key!r} is required"
            near = [k for k in raw if k not in _EVENT_FIELDS and _suggest(k, _EVENT_FIELDS) == key]
            if near:
                reason += f"; {unknown_field_note(near[0], _EVENT_FIELDS)}"
            raise _Reject("missing_field", key, raw.get(key), reason)
    time = _windowed(raw["time"], "time", window, now)
    item = raw["item"]
    spec = vocabulary().get(item) if isinstance(item, str) else None
    if spec is None:
        report.unknown_items[str(item)] += 1
        raise _Reject(
            "unknown_item", "item", item, "not an item of the crswatch.timeline/1 vocabulary"
        )
    value: Any = raw["value"]
    unit = raw.get("unit")
    conversion: Conversion | None = None
    canonical_unit: str | None = None
    if spec.kind == "quantity":
        number = _number(value, "value", from_text=from_text)
        value, canonical_unit, conversion = _convert_quantity(spec, number, unit, patient)
    elif spec.kind == "code":
        if not isinstance(value, str) or value not in spec.values:
            raise _Reject("bad_value", "value", value, f"must be one of {', '.join(spec.values)}")
    elif spec.kind == "boolean":
        value = _boolean(value, "value", from_text=from_text)
    elif spec.kind == "score":
        value = _score(spec, value, unit, from_text)
    else:  # "any": the CAR T cell dose is kept exactly as given (a number or a short text)
        if unit is not None and unit != "":
            canonical_unit = _text(unit, "unit")
        if isinstance(value, str):
            value = _text(value, "value")
            if from_text:
                with contextlib.suppress(ValueError):
                    value = _number(float(value), "value", from_text=False)
        else:
            value = _number(value, "value", from_text=False)
            if isinstance(raw["value"], int) and not isinstance(raw["value"], bool):
                value = raw["value"] if abs(raw["value"]) < 2**53 else value

    end = _windowed(raw["end"], "end", window, now) if _present(raw, "end") else None
    if end is not None and end < time:
        raise _Reject("bad_value", "end", raw["end"], f"end is before time {raw['time']!r}")
    ref_low = _reference(raw, "ref_low", spec, conversion, patient, from_text)
    ref_high = _reference(raw, "ref_high", spec, conversion, patient, from_text)
    if ref_low is not None and ref_high is not None and ref_low > ref_high:
        raise _Reject(
            "bad_value", "ref_low", raw["ref_low"], f"ref_low is above ref_high {raw['ref_high']!r}"
        )
    censored = raw.get("censored") or None
    if censored is not None and (not isinstance(censored, str) or censored not in CENSORING):
        raise _Reject("bad_value", "censored", censored, f"must be one of {', '.join(CENSORING)}")
    cause = raw.get("cause") or None
    if cause is not None and (not isinstance(cause, str) or cause not in CAUSES):
        raise _Reject("bad_value", "cause", cause, "must be 'other' (attributable is the default)")
    event_id = _label(raw["id"], "id") if _present(raw, "id") else None
    source = _label(raw["source"], "source") if _present(raw, "source") else None
    changed = conversion is not None and not conversion.identity
    if changed:
        report.events_converted += 1
        report.conversions[f"{item}: {unit or '(none)'} -> {canonical_unit}"] += 1
    if conversion is not None and conversion.assumption:
        report.warnings.append(
            f"patient={patient.id!r} event[{index}] item={item!r}: {conversion.assumption}"
        )
    return Event(
        time=time,
        item=item,
        value=value,
        unit=canonical_unit,
        end=end,
        ref_low=ref_low,
        ref_high=ref_high,
        censored=censored,
        cause=cause,
        id=event_id,
        source=source,
        original_value=raw["value"] if changed else None,
        original_unit=unit if changed else None,
    )


def _reference(
    raw: Mapping[str, Any],
    key: str,
    spec: ItemSpec,
    conversion: Conversion | None,
    patient: Patient,
    from_text: bool,
) -> float | None:
    """A reference limit, converted like the value itself (it is given in the value's unit)."""
    if not _present(raw, key):
        return None
    if spec.kind != "quantity":
        raise _Reject("bad_value", key, raw[key], "reference ranges apply to quantities only")
    number = _number(raw[key], key, from_text=from_text)
    if conversion is None:
        return number
    return conversion.apply(number, weight_kg=patient.weight_kg, bsa_m2=patient.bsa_m2)


def _shown_id(raw: Any) -> str | None:
    """The event's id as the issue names it: at most 200 characters, never raising."""
    if not isinstance(raw, Mapping) or not _present(raw, "id"):
        return None
    value = raw["id"]
    if isinstance(value, str):
        return value[:200]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**18:
        return "(a very long number)"
    return _short_repr(value) if not isinstance(value, int) else str(value)


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an integer of more digits than Python converts to text
        return "(a very long number)"
    return text if len(text) <= 200 else text[:197] + "..."


def unknown_field_note(key: Any, known: Iterable[str], prefix: str = "") -> str:
    """``unknown field 'vaule' — did you mean 'value'?`` (the suggestion when one is close)."""
    name = str(key)[:100]
    near = _suggest(name, known)
    hint = f" — did you mean '{prefix}{near}'?" if near else ""
    return f"unknown field '{prefix}{name}'{hint}"


def _suggest(key: Any, known: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(str(key)[:100], sorted(known), n=1, cutoff=0.75)
    return found[0] if found else None


def _issue(reject: _Reject, patient_id: str | None, index: int | None, raw: Any) -> IngestIssue:
    event_id = _shown_id(raw)
    return IngestIssue(
        kind=reject.kind,
        patient_id=patient_id,
        field=reject.field,
        value=reject.value,
        reason=reject.reason,
        event_index=index,
        event_id=event_id,
    )


def _reject_conflicts(
    events: list[tuple[int, Any, Event]], patient_id: str, report: IngestReport
) -> list[Event]:
    groups: dict[tuple[str, datetime], list[tuple[int, Any, Event]]] = defaultdict(list)
    for entry in events:
        groups[(entry[2].item, entry[2].time)].append(entry)
    kept: list[Event] = []
    for (item, _), group in groups.items():
        if len(group) == 1:
            kept.append(group[0][2])
            continue
        indices = [index for index, _, _ in group]
        for index, raw, _ in group:
            report.issues.append(
                IngestIssue(
                    kind="conflict",
                    patient_id=patient_id,
                    field="time",
                    value=raw.get("time") if isinstance(raw, Mapping) else None,
                    reason=(
                        f"{len(group)} events of item {item!r} at the same time "
                        f"(events {indices}); a conflict is reported, never resolved by keeping one"
                    ),
                    event_index=index,
                    event_id=_shown_id(raw),
                )
            )
        report.events_rejected += len(group)
    return kept


def build_timeline(
    patient_record: Any,
    event_records: Iterable[Any],
    report: IngestReport,
    *,
    from_text: bool = False,
    positions: Sequence[int] | None = None,
    window: TimeWindow | None = None,
) -> Timeline | None:
    """Validate one patient and their events; issues go to ``report``.

    Returns the timeline of every accepted event, or ``None`` when the patient record itself is
    invalid (its events are then counted as rejected: they cannot be interpreted without it).
    ``from_text`` accepts numbers and booleans written as text (CSV cells); ``positions`` gives
    each event's row number in its input (default: its index in ``event_records``), used in issues.
    ``window`` bounds every time (default: the contract's, :class:`TimeWindow`); fields outside
    the contract are named in a warning, with the field meant when one is close (``vaule``).
    """
    window = window if window is not None else TimeWindow()
    now = datetime.now(UTC)
    notes: list[str] = []
    raw_events = list(event_records)
    if positions is None:
        positions = range(len(raw_events))
    report.patients_read += 1
    report.events_read += len(raw_events)
    patient_id = patient_record.get("id") if isinstance(patient_record, Mapping) else None
    try:
        patient = _build_patient(patient_record, from_text, window, now, notes)
    except _Reject as reject:
        report.issues.append(_issue(reject, _printable_id(patient_id), None, patient_record))
        report.patients_rejected += 1
        report.events_rejected += len(raw_events)
        return None
    accepted: list[tuple[int, Any, Event]] = []
    extra_fields: set[str] = set()
    for index, raw in zip(positions, raw_events, strict=True):
        try:
            event = _build_event(raw, index, patient, report, from_text, window, now)
            accepted.append((index, raw, event))
        except _Reject as reject:
            report.issues.append(_issue(reject, patient.id, index, raw))
            report.events_rejected += 1
            continue
        extra_fields.update(key for key in raw if key not in _EVENT_FIELDS)
    notes.extend(unknown_field_note(key, _EVENT_FIELDS) for key in sorted(extra_fields, key=str))
    if notes:
        report.warnings.append(
            f"patient={patient.id!r}: fields not in crswatch.timeline/1 were ignored: "
            + "; ".join(dict.fromkeys(notes))
        )
    events = _reject_conflicts(accepted, patient.id, report)
    report.events_accepted += len(events)
    return Timeline(patient=patient, events=tuple(events))


def _printable_id(patient_id: Any) -> str | None:
    if patient_id is None:
        return None
    if isinstance(patient_id, str):
        return patient_id if len(patient_id) <= 200 else patient_id[:197] + "..."
    return _short_repr(patient_id)


def check_document(document: Any, source: str | None) -> None:
    """Raise :class:`TimelineFormatError` unless ``document`` looks like one timeline."""
    if not isinstance(document, Mapping):
        raise TimelineFormatError("a timeline must be a JSON object", path=source)
    tag = document.get("format")
    if tag is None:
        raise TimelineFormatError(f"a timeline needs 'format': {FORMAT!r}", path=source)
    if tag != FORMAT:
        raise TimelineFormatError(f"format={_short_repr(tag)} is not {FORMAT!r}", path=source)
    if "patient" not in document:
        raise TimelineFormatError("a timeline needs a 'patient' object", path=source)
    events = document.get("events", [])
    if not isinstance(events, list):
        raise TimelineFormatError("'events' must be a list", path=source)
