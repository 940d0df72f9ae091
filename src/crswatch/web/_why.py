"""Why a grade is what it is, in the patient's own values and times, and what leaves it open.

Pure: a :class:`~crswatch.scales.GradeResult` in, plain values out.  The deciding criterion's
evidence (``GradeResult.deciding``) carries the state values it read and the source events
(``item@time``); each known value becomes a :class:`Finding` such as "norepinephrine 8 µg/min"
since 10:00 or "Tmax 39.5 °C" at 08:00.  A value this module does not know is never dropped:
the criterion's own wording stands in for it.  For a provisional, not-assessable or ambiguous
grade, :func:`open_question` says in words what is missing or undecided (``missing``,
``undecided``, ``bounds``).  Decision: docs/decisions/0049-why-at-a-glance.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Literal

from crswatch.scales import STATUS_LABELS, Evidence, GradeResult
from crswatch.timeline import parse_time

__all__ = [
    "Finding",
    "deciding_findings",
    "finding_text",
    "input_label",
    "open_question",
    "short_time",
]

#: How a finding's time is written: a reading ``(08:00)``, a running rate ``since 10:00``, an
#: action ``at 21:11``.
Relation = Literal["reading", "since", "at"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One deciding finding: "norepinephrine 8 µg/min" ``since`` 10:00."""

    text: str
    at: datetime | None = None
    relation: Relation = "reading"


def short_time(moment: datetime, zone: tzinfo, now: datetime | None = None) -> str:
    """``08:00`` on the day of ``now`` (in ``zone``), else ``1 Mar 08:00``."""
    local = moment.astimezone(zone)
    if now is not None and now.astimezone(zone).date() == local.date():
        return local.strftime("%H:%M")
    return f"{local.day} {local.strftime('%b %H:%M')}"


def finding_text(finding: Finding, zone: tzinfo, now: datetime | None = None) -> str:
    """The finding as one phrase: ``Tmax 39.5 °C (08:00)``, ``NE 8 µg/min since 10:00``."""
    if finding.at is None:
        return finding.text
    when = short_time(finding.at, zone, now)
    if finding.relation == "reading":
        return f"{finding.text} ({when})"
    return f"{finding.text} {finding.relation} {when}"


def _number(value: float) -> str:
    return f"{value:g}"


def _event_times(evidence: Evidence) -> dict[str, datetime]:
    """The latest source event time per item (evidence events are ``item@ISO time``)."""
    times: dict[str, datetime] = {}
    for ref in evidence.events:
        item, _, stamp = ref.partition("@")
        if not stamp:
            continue
        try:
            moment = parse_time(stamp, "event")
        except ValueError:  # an id that is not ``item@time``: no time to show
            continue
        if item not in times or moment > times[item]:
            times[item] = moment
    return times


#: Vasoactive rate columns of the state (``crswatch.state``): drug, unit as people write it.
_PRESSOR_COLUMNS = (
    ("norepinephrine_ug_min", "norepinephrine", "µg/min"),
    ("epinephrine_ug_min", "epinephrine", "µg/min"),
    ("phenylephrine_ug_min", "phenylephrine", "µg/min"),
    ("dopamine_ug_kg_min", "dopamine", "µg/kg/min"),
    ("vasopressin_u_min", "vasopressin", "U/min"),
)
_CODE_WORDS = {
    "nasal_cannula": "nasal cannula",
    "high_flow_nasal_cannula": "high-flow nasal cannula",
    "mechanical_ventilation": "mechanical ventilation",
    "awakens_spontaneously": "awakens spontaneously",
    "awakens_to_voice": "awakens to voice",
    "awakens_to_tactile": "awakens only to touch",
    "unarousable": "unarousable",
    "focal_resolved": "focal, resolved",
    "generalized_resolved": "generalised, resolved",
    "nonconvulsive_resolved": "non-convulsive, resolved",
    "prolonged": "prolonged (> 5 min)",
    "repetitive": "repetitive",
    "deep_focal": "deep focal",
    "cn6_palsy": "cranial nerve VI palsy",
    "cushing_triad": "Cushing's triad",
}


def _words(code: Any) -> str:
    text = str(code)
    return _CODE_WORDS.get(text, text.replace("_", " "))


Reader = Callable[[Mapping[str, Any], Mapping[str, datetime]], list[Finding]]


def _pressors(values: Mapping[str, Any], times: Mapping[str, datetime]) -> list[Finding]:
    found = []
    for column, drug, unit in _PRESSOR_COLUMNS:
        rate = values.get(column)
        if isinstance(rate, int | float) and rate > 0:
            found.append(Finding(f"{drug} {_number(rate)} {unit}", times.get(drug), "since"))
    return found


def _oxygen(values: Mapping[str, Any], times: Mapping[str, datetime]) -> list[Finding]:
    device = values.get("o2_device")
    if device is None or device == "room_air":
        return []
    text = _words(device)
    flow = values.get("o2_flow_l_min")
    if isinstance(flow, int | float):
        text += f" {_number(flow)} L/min"
    fio2 = values.get("fio2_pct")
    if isinstance(fio2, int | float):
        text += f", FiO2 {_number(fio2)} %"
    return [Finding(text, times.get("o2_device") or times.get("o2_flow"), "since")]


def _sbp(values: Mapping[str, Any], times: Mapping[str, datetime]) -> list[Finding]:
    sbp = values.get("sbp_min")
    if not isinstance(sbp, int | float) or values.get("hypotension") is False:
        return []
    return [Finding(f"SBP {_number(sbp)} mmHg", times.get("sbp"))]


def _fever(values: Mapping[str, Any], times: Mapping[str, datetime]) -> list[Finding]:
    found = []
    tmax = values.get("temp_max_c")
    if isinstance(tmax, int | float):
        found.append(Finding(f"Tmax {_number(tmax)} °C", times.get("temperature")))
    waived_at = values.get("waiver_at")
    if values.get("fever_waived") is True:
        drug = next(
            (item for item, moment in times.items() if moment == waived_at), "antipyretic therapy"
        )
        moment = waived_at if isinstance(waived_at, datetime) else None
        found.append(Finding(f"fever waived after {_words(drug)}", moment, "at"))
    return found


def _neuro(values: Mapping[str, Any], times: Mapping[str, datetime]) -> list[Finding]:
    found = []
    ice = values.get("ice_score")
    if isinstance(ice, int | float):
        ice_time = times.get("ice_score") or min(
            (moment for item, moment in times.items() if item.startswith("ice_")), default=None
        )
        found.append(Finding(f"ICE {_number(ice)}/10", ice_time))
    capd = values.get("capd_score")
    if isinstance(capd, int | float):
        found.append(Finding(f"CAPD {_number(capd)}", times.get("capd_score")))
    consciousness = values.get("consciousness")
    if consciousness is not None and consciousness != "alert":
        found.append(Finding(_words(consciousness), times.get("consciousness")))
    for column, label in (
        ("seizure", "seizure"),
        ("motor_weakness", "motor weakness"),
        ("cerebral_edema", "cerebral oedema"),
        ("icp_sign", "raised ICP sign"),
    ):
        code = values.get(column)
        if code is not None and code != "none":
            found.append(Finding(f"{label}: {_words(code)}", times.get(column)))
    return found


#: Readers by evidence domain; a domain without one falls back to the criterion's wording.
_READERS: tuple[Reader, ...] = (_pressors, _oxygen, _sbp, _fever, _neuro)


def _findings_of(evidence: Evidence) -> list[Finding]:
    times = _event_times(evidence)
    found = [finding for reader in _READERS for finding in reader(evidence.values, times)]
    if not found:
        # A criterion this module has no words for (organ toxicity, a derived flag): its own
        # wording, timed by its latest source event.
        latest = max(times.values(), default=None)
        found.append(Finding(evidence.rule, latest))
    return found


def deciding_findings(result: GradeResult) -> tuple[Finding, ...]:
    """The findings of the met criteria that set the grade; empty when none is met.

    The deciding criterion (``GradeResult.deciding``) first, then every other met criterion of
    the same grade (ICE 5 *and* awakens to voice both make ICANS 2), without repeats.
    """
    deciding = result.deciding
    if deciding is None or deciding.met is not True:
        return ()
    same = [e for e in result.evidence if e.met and e.grade == deciding.grade and e != deciding]
    return tuple(dict.fromkeys(f for e in (deciding, *same) for f in _findings_of(e)))


#: Clinical words for state inputs named in ``GradeResult.missing``.
_INPUT_LABELS = {
    "temp_max_c": "temperature",
    "temperature": "temperature",
    "sbp_min": "systolic blood pressure",
    "sbp": "systolic blood pressure",
    "ice_score": "ICE score",
    "capd_score": "CAPD score",
    "consciousness": "level of consciousness",
    "seizure": "seizure assessment",
    "motor_weakness": "motor examination",
    "cerebral_edema": "neuroimaging for cerebral oedema",
    "icp_sign": "signs of raised intracranial pressure",
    "o2_device": "oxygen support",
    "o2_flow_l_min": "oxygen flow",
    "fio2_pct": "FiO2",
    "spo2": "SpO2",
    "ejection_fraction": "ejection fraction",
    "lvef_baseline": "baseline ejection fraction",
    "creatinine": "creatinine",
    "fluid_boluses_n": "fluid boluses",
}


def input_label(name: str) -> str:
    """A missing input in clinical words (``ice_score`` is "ICE score"); an entry already in
    words (the grading engine may name inputs as phrases) is kept as it is."""
    return _INPUT_LABELS.get(name, name.replace("_", " "))


def _listing(words: Sequence[str]) -> str:
    return "; ".join(dict.fromkeys(words))


def open_question(result: GradeResult) -> str:
    """What leaves a grade open, in words; empty for a graded result.

    provisional: which inputs are not documented and how high they could take the grade;
    not assessable: what is missing and the range; ambiguous: the wording that does not decide.
    """
    lower, upper = result.bounds
    missing = _listing([input_label(name) for name in result.missing])
    undecided = list(dict.fromkeys(e.rule for e in result.undecided))
    if result.status == "graded":
        return ""
    if result.status == "provisional":
        what = f"missing {missing}" if missing else "inputs not documented"
        return f"{STATUS_LABELS['provisional']}: {what}; could be up to grade {upper}"
    if result.status == "not_assessable":
        what = f"missing {missing}" if missing else "no finding decides the grade"
        return f"{STATUS_LABELS['not_assessable']}: {what}; grade between {lower} and {upper}"
    # ambiguous: the scale's wording does not decide between the bounds.
    reason = f" ({'; '.join(undecided)})" if undecided else ""
    deciding = result.deciding
    if not reason and deciding is not None:
        reason = f" ({deciding.rule})"
    return (
        f"{STATUS_LABELS['ambiguous']}: the scale's wording does not decide between grade "
        f"{lower} and {upper}{reason}"
    )
