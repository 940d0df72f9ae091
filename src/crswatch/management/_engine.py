"""The engine: choose a rule set, gather the facts at T, evaluate every rule, return actions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from crswatch.errors import UnknownCodeError
from crswatch.management import astct_era, bispecific_labels, blinatumomab_label, lee2014
from crswatch.management._dosing import tocilizumab_dose
from crswatch.management._evaluation import TimelineEvaluation
from crswatch.management._facts import Facts, describe, gather_facts
from crswatch.management._model import CATEGORIES, Action, RuleSet, plain
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

    def totals(self) -> dict[str, Any]:
        f = self.facts
        toci: dict[str, Any] = {
            "doses_given": len(f.tocilizumab_given),
            "mg_total": round(f.tocilizumab_mg_total, 3),
            "times": [format_time(t) for t in f.tocilizumab_given],
            "doses_last_24h": sum(1 for t in f.tocilizumab_given if t > f.at - timedelta(hours=24)),
        }
        if f.weight_kg is not None:
            check = tocilizumab_dose(f.weight_kg, at=f.at, given=f.tocilizumab_given)
            toci["next_dose_now"] = {
                "dose_mg": check.dose_mg,
                "allowed": check.allowed,
                "reasons": list(check.reasons),
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
                "crs": {
                    "scale": f.crs_scale,
                    "grade": f.crs_grade if f.crs_status == "graded" else None,
                    "status": f.crs_status,
                    "bounds": [f.crs_grade, f.crs_upper],
                    "peak_7d": f.crs_peak_7d,
                },
                "icans": {
                    "scale": self.ruleset.icans_scale,
                    "grade": f.icans_grade if f.icans_status == "graded" else None,
                    "status": f.icans_status,
                    "bounds": [f.icans_grade, f.icans_upper],
                    "peak_7d": f.icans_peak_7d,
                },
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


def evaluate(ruleset: RuleSet, facts: Facts) -> tuple[Action, ...]:
    """Every rule of ``ruleset`` that holds on ``facts``, as actions, most urgent first."""
    actions = []
    for rule in ruleset.rules:
        if not rule.when(facts):
            continue
        text = rule.text if rule.detail is None else f"{rule.text} {rule.detail(facts)}"
        actions.append(
            Action(
                id=rule.id,
                priority=rule.priority,
                category=rule.category,
                text=text,
                timing=rule.timing,
                dose=rule.dose(facts) if rule.dose is not None else None,
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
) -> Recommendation:
    """What to do at ``at`` (default: the last event) for one patient, by one rule set.

    ``ruleset`` defaults by therapy kind (:data:`DEFAULT_RULESET`); ``crs_scale`` overrides the
    scale the rule set reads CRS grades from (e.g. ``ctcae_v4`` for the 2014 blinatumomab label).
    With ``with_regimen`` and a blinatumomab patient, the regimen engine's status at T
    (cycle, dose due, premedication, its label actions) is attached as a cross-check.
    ``evaluation`` (a :class:`TimelineEvaluation` of this timeline) shares the engines' results
    with the caller's other questions (the dashboard's patient page); without one, ``params``
    (state parameters, e.g. the ASTCT fever waiver) set how the grades are computed.
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
    facts = gather_facts(timeline, moment, scale, chosen.icans_scale, evaluation=evaluation)
    actions = evaluate(chosen, facts)
    warnings = list(facts.warnings)
    dosed = {rule.id for rule in chosen.rules if rule.dose is not None}
    for action in actions:
        if action.id in dosed and action.dose is None:
            warnings.append(f"{action.id}: no dose computed (weight, BSA or age missing)")
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
