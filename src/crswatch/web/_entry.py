"""Bedside entry: the forms, and typed values turned into timeline events.

An entry becomes raw ``crswatch.timeline/1`` event records (entry time, item, value, unit,
``source`` naming the user) that go through :func:`crswatch.timeline.build_timeline` like any
other input (units converted, plausibility bounds checked).  Every issue is mapped back to the
form field it came from, with a message naming the field and the typed value; the form is shown
again with what was typed.  Which items each form offers comes from the vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

from crswatch.timeline import (
    Event,
    IngestReport,
    Timeline,
    build_timeline,
    format_time,
    vocabulary,
)

__all__ = [
    "CAPD_ANSWERS",
    "CAPD_ITEMS",
    "ENGAGER_ACTIONS",
    "ENTRY_FORMS",
    "FUTURE_TOLERANCE",
    "EntryForm",
    "EntryResult",
    "FormField",
    "build_entry",
    "capd_points",
    "time_value",
]

FieldKind = Literal["number", "select", "datetime"]
#: An entry may be timed at most this far after "now" (clock skew between bedside devices).
FUTURE_TOLERANCE = timedelta(minutes=5)
_TIME = "time"


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    label: str
    kind: FieldKind = "number"
    #: The vocabulary item this field records (None: a control such as a drug choice).
    item: str | None = None
    #: The unit sent with the value (a fixed unit), or None when ``unit_field`` chooses it.
    unit: str | None = None
    unit_field: str | None = None
    options: tuple[str, ...] = ()
    step: str = "any"
    hint: str = ""


@dataclass(frozen=True, slots=True)
class EntryForm:
    kind: str
    title: str
    fields: tuple[FormField, ...]
    note: str = ""

    def field(self, name: str) -> FormField:
        return next(f for f in self.fields if f.name == name)


def _items(group: str, *, exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(
        name for name, spec in vocabulary().items() if spec.group == group and name not in exclude
    )


def _codes(item: str) -> tuple[str, ...]:
    return vocabulary()[item].values


def _quantity(name: str, label: str, *, step: str = "any") -> FormField:
    spec = vocabulary()[name]
    hint = f"{spec.low:g}–{spec.high:g} {spec.unit}" if spec.low is not None else ""
    return FormField(name, label, item=name, unit=spec.unit, step=step, hint=hint)


def _score(name: str, label: str) -> FormField:
    spec = vocabulary()[name]
    return FormField(name, label, item=name, step="1", hint=f"0–{spec.high:g} points")


PRESSORS = _items("hemodynamic", exclude=("fluid_bolus",))
DRUGS = _items("drug")
_PRESSOR_UNITS = ("ug/min", "ug/kg/min", "U/min")
_DRUG_UNITS = ("mg", "mg/kg", "mg/m2")
PRESSOR_ACTIONS = ("start", "change", "stop")
#: Actions on a continuous T-cell-engager infusion (blinatumomab): hold and stop both record a
#: rate of 0 (the timeline contract has no separate "discontinued" marker; decision 0051).
ENGAGER_ACTIONS = ("hold", "restart", "stop")
ENGAGER_INFUSIONS = ("blinatumomab",)
#: The CAPD's eight items (Traube 2014; the CHOP Delirium Clinical Pathway's wording, verified in
#: research/criteria-verification.md §2d) and each answer's points: items 1-4 are scored in
#: reverse (Never 4 ... Always 0), items 5-8 directly (Never 0 ... Always 4); total 0-32.
CAPD_ANSWERS = ("never", "rarely", "sometimes", "often", "always")
CAPD_ITEMS: tuple[tuple[str, str, bool], ...] = (
    ("capd_eye_contact", "1. Does the child make eye contact with the caregiver?", True),
    ("capd_purposeful", "2. Are the child's actions purposeful?", True),
    ("capd_aware", "3. Is the child aware of his/her surroundings?", True),
    ("capd_communicates", "4. Does the child communicate needs and wants?", True),
    ("capd_restless", "5. Is the child restless?", False),
    ("capd_inconsolable", "6. Is the child inconsolable?", False),
    ("capd_underactive", "7. Is the child underactive — very little movement while awake?", False),
    (
        "capd_slow_response",
        "8. Does it take the child a long time to respond to interactions?",
        False,
    ),
)


def capd_points(answer: str, reverse: bool) -> int:
    """One CAPD item's points from its answer (``never`` ... ``always``)."""
    index = CAPD_ANSWERS.index(answer)
    return 4 - index if reverse else index


_ENTRY_FORMS: dict[str, EntryForm] = {
    form.kind: form
    for form in (
        EntryForm(
            "vitals",
            "Vital signs",
            (
                FormField("temperature", "Temperature", item="temperature", unit_field="temp_unit"),
                FormField("temp_unit", "unit", "select", options=("Cel", "[degF]")),
                _quantity("heart_rate", "Heart rate"),
                _quantity("sbp", "Systolic BP"),
                _quantity("dbp", "Diastolic BP"),
                _quantity("map", "MAP"),
                _quantity("resp_rate", "Respiratory rate"),
                _quantity("spo2", "SpO2"),
            ),
        ),
        EntryForm(
            "oxygen",
            "Oxygen",
            (
                FormField(
                    "o2_device", "Device", "select", item="o2_device", options=_codes("o2_device")
                ),
                _quantity("o2_flow", "Flow"),
                _quantity("fio2", "FiO2"),
            ),
        ),
        EntryForm(
            "vasopressor",
            "Vasopressor",
            (
                FormField("drug", "Drug", "select", options=PRESSORS),
                FormField("action", "Action", "select", options=PRESSOR_ACTIONS),
                FormField("rate", "Rate", unit_field="rate_unit"),
                FormField("rate_unit", "unit", "select", options=_PRESSOR_UNITS),
            ),
            note="Stop records a rate of 0; a change records the new rate from the entry time.",
        ),
        EntryForm(
            "drug",
            "Drug given",
            (
                FormField("drug", "Drug", "select", options=DRUGS),
                FormField("dose", "Dose", unit_field="dose_unit"),
                FormField("dose_unit", "unit", "select", options=_DRUG_UNITS),
            ),
        ),
        EntryForm(
            "capd",
            "CAPD (children under 12)",
            (
                *(
                    FormField(name, label, "select", options=CAPD_ANSWERS)
                    for name, label, _reverse in CAPD_ITEMS
                ),
                FormField(
                    "consciousness",
                    "Level of consciousness",
                    "select",
                    item="consciousness",
                    options=_codes("consciousness"),
                ),
            ),
            note="Cornell Assessment of Pediatric Delirium (Traube et al., Crit Care Med 2014): "
            "answer all eight items; the score (0-32, items 1-4 scored in reverse) is computed "
            "and recorded. ASTCT 2019 assesses ICANS in children under 12 with the CAPD instead "
            "of ICE; a score of 9 or more is delirium.",
        ),
        EntryForm(
            "neuro_findings",
            "Seizure, oedema, motor weakness",
            (
                FormField(
                    "seizure", "Seizure", "select", item="seizure", options=_codes("seizure")
                ),
                FormField(
                    "cerebral_edema",
                    "Cerebral oedema (imaging)",
                    "select",
                    item="cerebral_edema",
                    options=_codes("cerebral_edema"),
                ),
                FormField(
                    "motor_weakness",
                    "Motor weakness",
                    "select",
                    item="motor_weakness",
                    options=_codes("motor_weakness"),
                ),
                FormField(
                    "icp_sign",
                    "Sign of raised ICP",
                    "select",
                    item="icp_sign",
                    options=_codes("icp_sign"),
                ),
            ),
            note="The ASTCT 2019 ICANS domains beside ICE: deep focal motor weakness and diffuse "
            "oedema are grade 4 findings, focal oedema grade 3.",
        ),
        EntryForm(
            "engager",
            "T-cell engager infusion",
            (
                FormField("drug", "Infusion", "select", options=ENGAGER_INFUSIONS),
                FormField("action", "Action", "select", options=ENGAGER_ACTIONS),
                FormField("rate", "Rate on restart", unit="ug/d", hint="µg/day"),
            ),
            note="Hold and stop record a rate of 0 from the entry time; restart records the new "
            "rate. The regimen panel applies the label's interruption rules.",
        ),
        EntryForm(
            "neuro",
            "ICE and consciousness",
            (
                _score("ice_orientation", "Orientation"),
                _score("ice_naming", "Naming"),
                _score("ice_commands", "Commands"),
                _score("ice_writing", "Writing"),
                _score("ice_attention", "Attention"),
                _score("ice_score", "ICE total"),
                FormField(
                    "consciousness",
                    "Level of consciousness",
                    "select",
                    item="consciousness",
                    options=_codes("consciousness"),
                ),
            ),
            note="Give the five ICE items, or the total (ASTCT 2019 ICE, 10 points).",
        ),
    )
}


#: The forms in the order the page offers them.
ENTRY_FORMS: dict[str, EntryForm] = {
    kind: _ENTRY_FORMS[kind]
    for kind in (
        "vitals",
        "oxygen",
        "vasopressor",
        "drug",
        "neuro",
        "capd",
        "neuro_findings",
        "engager",
    )
}


@dataclass(slots=True)
class EntryResult:
    """The events of a valid entry, or the errors by form field (and what was typed)."""

    form: EntryForm
    values: dict[str, str]
    events: list[Event] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.events)

    @property
    def shown_values(self) -> dict[str, str]:
        """What the form shows again: everything typed after an error; after a save only the
        units chosen (the next entry keeps the user's unit; decision 0051)."""
        if not self.ok:
            return self.values
        units = {f.unit_field for f in self.form.fields if f.unit_field}
        return {name: value for name, value in self.values.items() if name in units}

    @property
    def confirmation(self) -> list[str]:
        """Each saved event as entered and, when converted, as stored: ``norepinephrine 0.08
        ug/kg/min = 6.544 ug/min``."""
        lines = []
        for event in self.events:
            stored = _shown(event.value, event.unit)
            if event.original_unit is not None and (
                event.original_unit != event.unit or event.original_value != event.value
            ):
                entered = _shown(event.original_value, event.original_unit)
                lines.append(f"{event.item.replace('_', ' ')} {entered} = {stored}")
            else:
                lines.append(f"{event.item.replace('_', ' ')} {stored}")
        return lines


def _shown(value: Any, unit: str | None) -> str:
    text = (
        f"{value:g}"
        if isinstance(value, int | float) and not isinstance(value, bool)
        else (str(value).replace("_", " "))
    )
    return f"{text} {unit}" if unit else text


def time_value(moment: datetime, zone: tzinfo = UTC) -> str:
    """A moment as the entry form's time value (``2024-03-02 15:00``) in the site's zone (the form
    names the zone)."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _entry_time(text: str, now: datetime, zone: tzinfo) -> tuple[str | None, str | None]:
    """The entry time as ISO 8601 UTC, or an error naming the field and value."""
    if not text.strip():
        return format_time(now), None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None, f"time={text!r}: not a date and time (YYYY-MM-DD HH:MM, site time)"
    # The form names the site's zone, so a time without an offset is in that zone by
    # declaration (decision 0050); stored as UTC.
    local = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
    moment = local.astimezone(UTC)
    if moment > now + FUTURE_TOLERANCE:
        return None, f"time={text!r}: is in the future (now is {format_time(now)})"
    return format_time(moment), None


def _raw(
    values: Mapping[str, str], form: EntryForm
) -> tuple[list[dict[str, Any]], list[str], dict[str, str]]:
    """Raw event records, the form field of each, and errors found before validation."""
    records: list[dict[str, Any]] = []
    fields: list[str] = []
    errors: dict[str, str] = {}

    def add(field_name: str, item: str, value: Any, unit: str | None) -> None:
        record: dict[str, Any] = {"item": item, "value": value}
        if unit:
            record["unit"] = unit
        records.append(record)
        fields.append(field_name)

    if form.kind == "vasopressor":
        drug, action, rate = (
            values.get("drug", ""),
            values.get("action", ""),
            values.get("rate", ""),
        )
        if drug not in PRESSORS:
            errors["drug"] = f"drug={drug!r}: must be one of {', '.join(PRESSORS)}"
        elif action not in PRESSOR_ACTIONS:
            errors["action"] = f"action={action!r}: must be one of {', '.join(PRESSOR_ACTIONS)}"
        elif action == "stop":
            add("rate", drug, 0, vocabulary()[drug].unit)
        elif not rate.strip():
            errors["rate"] = f"rate={rate!r}: a rate is required to {action} {drug}"
        else:
            add("rate", drug, rate.strip(), values.get("rate_unit") or None)
        return records, fields, errors
    if form.kind == "engager":
        drug, action, rate = (
            values.get("drug", ""),
            values.get("action", ""),
            values.get("rate", ""),
        )
        if drug not in ENGAGER_INFUSIONS:
            errors["drug"] = f"drug={drug!r}: must be one of {', '.join(ENGAGER_INFUSIONS)}"
        elif action not in ENGAGER_ACTIONS:
            errors["action"] = f"action={action!r}: must be one of {', '.join(ENGAGER_ACTIONS)}"
        elif action in ("hold", "stop"):
            add("rate", drug, 0, vocabulary()[drug].unit)
        elif not rate.strip():
            errors["rate"] = f"rate={rate!r}: a rate is required to restart {drug}"
        else:
            add("rate", drug, rate.strip(), vocabulary()[drug].unit)
        return records, fields, errors
    if form.kind == "capd":
        answers = {name: values.get(name, "").strip() for name, _label, _rev in CAPD_ITEMS}
        typed = [name for name, answer in answers.items() if answer]
        if typed:
            for name, _label, _reverse in CAPD_ITEMS:
                answer = answers[name]
                if answer not in CAPD_ANSWERS:
                    errors[name] = (
                        f"{name}={answer!r}: answer all eight items ({', '.join(CAPD_ANSWERS)})"
                    )
            if not errors:
                total = sum(
                    capd_points(answers[name], reverse) for name, _label, reverse in CAPD_ITEMS
                )
                add(CAPD_ITEMS[0][0], "capd_score", total, None)
        consciousness = values.get("consciousness", "").strip()
        if consciousness:
            add("consciousness", "consciousness", consciousness, None)
        if not records and not errors:
            errors[CAPD_ITEMS[0][0]] = "answer the eight CAPD items or give the consciousness"
        return records, fields, errors
    if form.kind == "drug":
        drug, dose = values.get("drug", ""), values.get("dose", "")
        if drug not in DRUGS:
            errors["drug"] = f"drug={drug!r}: must be one of {', '.join(DRUGS)}"
        elif not dose.strip():
            errors["dose"] = f"dose={dose!r}: a dose is required"
        else:
            add("dose", drug, dose.strip(), values.get("dose_unit") or None)
        return records, fields, errors
    for spec in form.fields:
        text = values.get(spec.name, "").strip()
        if spec.item is None or not text:
            continue
        unit = spec.unit if spec.unit_field is None else values.get(spec.unit_field) or None
        add(spec.name, spec.item, text, unit)
    if form.kind == "neuro":
        errors.update(_ice_consistency(values))
    if not records and not errors:
        errors[form.fields[0].name] = "enter at least one value"
    return records, fields, errors


def _ice_consistency(values: Mapping[str, str]) -> dict[str, str]:
    """Items and total together must agree (the total would otherwise silently win)."""
    items = ("ice_orientation", "ice_naming", "ice_commands", "ice_writing", "ice_attention")
    total = values.get("ice_score", "").strip()
    typed = [values.get(name, "").strip() for name in items]
    if not total or not any(typed):
        return {}
    if not all(typed):
        return {"ice_score": f"ice_score={total!r}: give the total or all five items, not a mix"}
    try:
        summed = sum(float(v) for v in typed)
        if float(total) != summed:
            return {"ice_score": f"ice_score={total!r}: the five items add up to {summed:g}"}
    except ValueError:
        return {}  # the non-number is reported on its own field by validation
    return {}


def build_entry(
    timeline: Timeline,
    kind: str,
    values: Mapping[str, str],
    *,
    username: str,
    now: datetime,
    zone: tzinfo = UTC,
) -> EntryResult:
    """Validate an entry for ``timeline``'s patient; the events or the errors by field.

    A time typed without an offset is read in ``zone`` (the site's zone the form names).
    """
    form = ENTRY_FORMS[kind]
    typed = {key: str(value) for key, value in values.items() if key != "csrf_token"}
    result = EntryResult(form, typed)
    when, time_error = _entry_time(typed.get(_TIME, ""), now, zone)
    records, fields, errors = _raw(typed, form)
    result.errors.update(errors)
    if time_error:
        result.errors[_TIME] = time_error
    if result.errors or when is None:
        return result
    source = f"dashboard:{username}"
    for record in records:
        record.update(time=when, source=source)
    report = IngestReport(source="dashboard")
    built = build_timeline(timeline.patient.to_dict(), records, report, from_text=True)
    for issue in report.issues:
        if issue.event_index is None:  # pragma: no cover - the stored patient record is valid
            result.errors[fields[0]] = issue.message
            continue
        name = fields[issue.event_index]
        if issue.field == "time":
            result.errors[_TIME] = f"time={typed.get(_TIME, '')!r}: {issue.reason}"
            continue
        unit_field = form.field(name).unit_field
        shown_name = unit_field if issue.field == "unit" and unit_field else name
        result.errors[shown_name] = f"{shown_name}={typed.get(shown_name, '')!r}: {issue.reason}"
    if not result.errors and built is not None:
        result.events = list(built.events)
    return result
