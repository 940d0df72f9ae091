"""The engine: choose a rule set, gather the facts at T, evaluate every rule, return actions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from crswatch.errors import UnknownCodeError
from crswatch.management import astct_era, bispecific_labels, blinatumomab_label, lee2014
from crswatch.management._dosing import DosingOptions, tocilizumab_dose
from crswatch.management._evaluation import TimelineEvaluation
from crswatch.management._facts import Facts, describe, gather_facts
from crswatch.management._model import CATEGORIES, Action, Rule, RuleSet, plain
from crswatch.scales import grade_notation, grade_on_record
from crswatch.state import StateParameters
from crswatch.timeline import Timeline, format_time

__all__ = [
    "DEFAULT_RULESET",
    "RECOMMENDATION_SCHEMA",
    "RULESETS",
    "Recommendation",
    "evaluate",
    "get_ruleset",
    "recommend",
]

#: The schema version of ``Recommendation.to_dict()``.
RECOMMENDATION_SCHEMA = "crswatch.recommendation/1"

RULESETS: Mapping[str, RuleSet] = MappingProxyType(
    {
        ruleset.id: ruleset
        for ruleset in (
            lee2014.RULESET,
            astct_era.RULESET,
            blinatumomab_label.RULESET,
            *bispecific_labels.RULESETS.values(),
        )
    }
)

#: The default rule set per therapy kind (decision 0014): the label for blinatumomab, the
#: ASTCT-graded guidance for CAR T and other engagers, Lee 2014 (agent-agnostic) otherwise.
#: A bispecific whose product has a label rule set gets that one (decision 0043).
DEFAULT_RULESET = MappingProxyType(
    {
        "car_t": "astct_era",
        "bispecific": "astct_era",
        "blinatumomab": "blinatumomab_label",
        "tcr_t": "lee2014",
        "other": "lee2014",
    }
)


def get_ruleset(ruleset_id: str) -> RuleSet:
    """The rule set ``ruleset_id``; raises :class:`UnknownCodeError` naming the known ids."""
    try:
        return RULESETS[ruleset_id]
    except KeyError:
        raise UnknownCodeError(ruleset_id, f"the rule sets ({', '.join(RULESETS)})") from None


@dataclass(frozen=True, slots=True)
class Recommendation:
    """Every action of one rule set for one patient at T, with the facts and running totals."""

    patient_id: str
    at: datetime
    ruleset: RuleSet
    chosen_by: str
    facts: Facts
    actions: tuple[Action, ...]
    warnings: tuple[str, ...]
    #: The blinatumomab regimen engine's status at T (``crswatch.regimens``), when requested.
    regimen: dict[str, Any] | None = None

    @property
    def action_ids(self) -> tuple[str, ...]:
        return tuple(action.id for action in self.actions)

    @property
    def tocilizumab_indicated(self) -> bool:
        """Whether an action of the rule set recommends tocilizumab now (issue 15, point 1)."""
        return any(
            action.dose is not None and action.dose.drug == "tocilizumab" for action in self.actions
        )

    def totals(self) -> dict[str, Any]:
        f = self.facts
        toci: dict[str, Any] = {
            "doses_given": len(f.tocilizumab_given),
            "mg_total": round(f.tocilizumab_mg_total, 3),
            "times": [format_time(t) for t in f.tocilizumab_given],
            "doses_last_24h": sum(1 for t in f.tocilizumab_given if t > f.at - timedelta(hours=24)),
        }
        toci["indicated"] = self.tocilizumab_indicated
        # The next dose only where the rule set recommends tocilizumab: a dose shown for a
        # patient who has no indication reads like one (issue 15, point 1).
        if f.weight_kg is not None and self.tocilizumab_indicated:
            check = tocilizumab_dose(
                f.weight_kg, at=f.at, given=f.tocilizumab_given, options=f.dosing
            )
            toci["next_dose"] = {
                "dose_mg": check.dose_mg,
                "exact_mg": check.exact_mg,
                "allowed": check.allowed,
                "exhausted": check.exhausted,
                "next_allowed_at": (
                    format_time(check.next_allowed_at)
                    if check.next_allowed_at is not None
                    else None
                ),
                "reasons": list(check.reasons),
                "text": check.summary,
            }
        return {"tocilizumab": toci, "corticosteroids": f.steroids.to_dict()}

    def to_dict(self) -> dict[str, Any]:
        f = self.facts
        return {
            "schema": RECOMMENDATION_SCHEMA,
            "patient_id": self.patient_id,
            "at": format_time(self.at),
            "ruleset": self.ruleset.to_dict(),
            "ruleset_chosen_by": self.chosen_by,
            "grades": {
                "crs": _grade_dict(
                    f.crs_scale, f.crs_grade, f.crs_upper, f.crs_status, f.crs_missing
                )
                | {"peak_7d": f.crs_peak_7d},
                "icans": _grade_dict(
                    self.ruleset.icans_scale,
                    f.icans_grade,
                    f.icans_upper,
                    f.icans_status,
                    f.icans_missing,
                )
                | {"peak_7d": f.icans_peak_7d},
            },
            "hlh": dict(f.hlh),
            "state": plain(
                {
                    "fever": f.fever,
                    "hypotension": f.hypotension,
                    "pressors_running": f.pressors_running,
                    "hemodynamically_unstable": f.hemodynamically_unstable,
                    "positive_pressure": f.positive_pressure,
                    "invasive_ventilation": f.invasive_ventilation,
                    "anc": f.anc,
                    "anc_at": f.anc_at,
                    "neutropenic": f.neutropenic,
                    "seizures": f.seizures,
                    "blinatumomab_running": f.blinatumomab_running,
                }
            ),
            "actions": [action.to_dict() for action in self.actions],
            "totals": self.totals(),
            "regimen": self.regimen,
            "warnings": list(self.warnings),
        }


#: Why a dose is not allowed now, in the words of its source.
_REFUSALS = {
    "min_interval_8h": "doses at least 8 hours apart",
    "max_3_per_24h": "at most 3 doses in 24 hours, a guideline limit",
    "max_4_total": "the first dose and up to 3 additional doses",
}


def _grade_dict(
    scale: str, lower: int, upper: int, status: str, missing: tuple[str, ...]
) -> dict[str, Any]:
    grade = lower if status in ("graded", "provisional") else None
    return {
        "scale": scale,
        "grade": grade_on_record(grade, status) if status != "not_graded" else None,
        "status": status,
        "bounds": [lower, upper],
        "notation": grade_notation(grade, status, lower, upper)
        if status != "not_graded"
        else "not graded",
        "missing": list(missing),
    }


def _text(rule: Rule, facts: Facts) -> str:
    parts = [rule.text] if rule.text else []
    if rule.detail is not None:
        detail = rule.detail(facts)
        if detail:
            parts.append(detail)
    if rule.paediatric and facts.child:
        parts.append(rule.paediatric)
    return " ".join(parts)


def _timing(rule: Rule, action_dose: Any) -> tuple[str, int | None]:
    """The action's timing; a refused dose is never "now" (issue 15, point 2)."""
    if action_dose is None or action_dose.allowed:
        return rule.timing, None
    # Not now: when the dose becomes allowed, or never again.  Priority 2: not an act now.
    return action_dose.when, 2


def evaluate(ruleset: RuleSet, facts: Facts) -> tuple[Action, ...]:
    """Every rule of ``ruleset`` that holds on ``facts``, as actions, most urgent first."""
    actions = []
    for rule in ruleset.rules:
        if not rule.when(facts):
            continue
        dose = rule.dose(facts) if rule.dose is not None else None
        timing, priority = _timing(rule, dose)
        text = _text(rule, facts)
        if dose is not None and dose.exhausted:
            text = (
                f"{dose.when[:1].upper()}{dose.when[1:]}: the label allows no further dose; "
                f"consider corticosteroids as this rule set advises. {text}"
            )
        elif dose is not None and not dose.allowed:
            why = "; ".join(
                _REFUSALS.get(reason.split(":", 1)[0], reason) for reason in dose.reasons
            )
            text = f"{dose.text[:-1]} (not now: {why}). {text}"
        actions.append(
            Action(
                id=rule.id,
                priority=priority or rule.priority,  # type: ignore[arg-type]
                category=rule.category,
                text=text,
                timing=timing,
                dose=dose,
                because=rule.because,
                facts=describe(facts, rule.reads),
                source=ruleset.source(rule),
            )
        )
    order = {category: n for n, category in enumerate(CATEGORIES)}
    return tuple(sorted(actions, key=lambda a: (a.priority, order[a.category], a.id)))


def _bispecific_status(timeline: Timeline, at: datetime) -> tuple[dict[str, Any] | None, str]:
    # Imported on use, as for blinatumomab: the regimen status has its own grading pass.
    from crswatch.regimens import regimen_status

    try:
        status = regimen_status(timeline, at)
    except ValueError as exc:
        return None, f"bispecific regimen status not computed: {exc}"
    payload = status.to_dict()
    keys = ("schema", "product", "state", "next_dose", "monitoring", "grades",
            "label_actions", "deviations", "notes", "label")  # fmt: skip
    return {key: payload[key] for key in keys}, ""


def _regimen_status(timeline: Timeline, at: datetime) -> tuple[dict[str, Any] | None, str]:
    # Imported on use: the regimen engine is a sibling package with its own grading pass.
    from crswatch.regimens import blinatumomab_status

    try:
        status = blinatumomab_status(timeline, at)
    except ValueError as exc:
        return None, f"blinatumomab regimen status not computed: {exc}"
    payload = status.to_dict()
    keys = ("schema", "state", "cycle", "cycle_day", "current_rate_ug_per_day", "dose_due",
            "next_premedication", "actions", "warnings", "label")  # fmt: skip
    return {key: payload[key] for key in keys if key in payload}, ""


def recommend(
    timeline: Timeline,
    at: datetime | None = None,
    ruleset: str | None = None,
    *,
    crs_scale: str | None = None,
    with_regimen: bool = True,
    evaluation: TimelineEvaluation | None = None,
    params: StateParameters | None = None,
    dosing: DosingOptions | None = None,
) -> Recommendation:
    """What to do at ``at`` (default: the last event) for one patient, by one rule set.

    ``ruleset`` defaults by therapy kind (:data:`DEFAULT_RULESET`); ``crs_scale`` overrides the
    scale the rule set reads CRS grades from (e.g. ``ctcae_v4`` for the 2014 blinatumomab label).
    With ``with_regimen`` and a blinatumomab patient, the regimen engine's status at T
    (cycle, dose due, premedication, its label actions) is attached as a cross-check.
    ``evaluation`` (a :class:`TimelineEvaluation` of this timeline) shares the engines' results
    with the caller's other questions (the dashboard's patient page); without one, ``params``
    (state parameters, e.g. the ASTCT fever waiver) set how the grades are computed.
    ``dosing`` carries the site's dosing rules (whole-vial rounding of tocilizumab; off by
    default).
    """
    if evaluation is None:
        evaluation = TimelineEvaluation(timeline, params)
    kind = timeline.patient.therapy.kind
    label = (
        bispecific_labels.ruleset_for(timeline.patient.therapy.product)
        if kind == "bispecific"
        else None
    )
    if ruleset:
        chosen, chosen_by = get_ruleset(ruleset), "user"
    elif label is not None:
        chosen, chosen_by = (
            get_ruleset(label),
            f"default for bispecific product {label.removesuffix('_label')}",
        )
    else:
        chosen = get_ruleset(DEFAULT_RULESET[kind])
        chosen_by = f"default for therapy kind {kind}"
    moment = at or (timeline.events[-1].time if timeline.events else timeline.patient.therapy.start)
    scale = crs_scale or chosen.crs_scale
    facts = gather_facts(
        timeline, moment, scale, chosen.icans_scale, evaluation=evaluation, dosing=dosing
    )
    actions = evaluate(chosen, facts)
    warnings = list(facts.warnings)
    dosed = {rule.id: rule for rule in chosen.rules if rule.dose is not None}
    for action in actions:
        rule = dosed.get(action.id)
        if rule is None or action.dose is not None:
            continue
        if facts.child and rule.paediatric:
            continue  # the action itself says why no dose is given for a child
        warnings.append(
            f"No dose computed for '{action.text.split(':')[0].split('.')[0]}': the body "
            "weight, body-surface area or age it needs is not recorded."
        )
    regimen = None
    if with_regimen and kind == "blinatumomab":
        regimen, problem = _regimen_status(timeline, moment)
        if problem:
            warnings.append(problem)
    elif with_regimen and label is not None:
        regimen, problem = _bispecific_status(timeline, moment)
        if problem:
            warnings.append(problem)
    return Recommendation(
        regimen=regimen,
        patient_id=timeline.patient.id,
        at=moment,
        ruleset=chosen,
        chosen_by=chosen_by,
        facts=facts,
        actions=actions,
        warnings=tuple(warnings),
    )
