"""No recommendation without a source: every rule is cited, and every action on a battery of
timelines, under every rule set, carries its rule set, version, reference and verification."""

from __future__ import annotations

import pytest

from crswatch.errors import UnknownCodeError
from crswatch.management import (
    RULESETS,
    VERIFICATION_TAGS,
    Recommendation,
    Rule,
    get_ruleset,
    recommend,
)
from tests.builders import ev, timeline
from tests.management._golden import load_management_cases

# A battery of diverse timelines (every rule set's grades, ICANS, HLH, courses), each run at its
# checked times under every rule set, plus an empty timeline.
BATTERY_IDS = (
    "M-lee-g3-neurotoxicity-first",
    "M-lee-g4-ventilated",
    "M-astct-carhlh-positive",
    "M-astct-icans4-unarousable",
    "M-blin-crs3-resolved-restart",
    "M-blin-two-seizures",
    "C-teachey2013-blinatumomab",
)


def _battery() -> list[Recommendation]:
    cases = {case.id: case for case in load_management_cases()}
    out = []
    for ruleset in RULESETS:
        for case_id in BATTERY_IDS:
            case = cases[case_id]
            out.extend(
                recommend(case.timeline, c.at, ruleset, with_regimen=False)
                for c in case.checks[-1:]
            )
        out.append(recommend(timeline([]), None, ruleset))
    return out


@pytest.fixture(scope="module")
def battery() -> list[Recommendation]:
    return _battery()


def test_every_action_has_a_source(battery: list[Recommendation]) -> None:
    actions = [action for result in battery for action in result.actions]
    assert len(actions) > 50
    for action in actions:
        source = action.source
        assert source.ruleset in RULESETS and source.version, action.id
        assert source.reference.strip(), action.id
        assert source.verification in VERIFICATION_TAGS, action.id
        assert action.id.startswith(f"{source.ruleset}."), action.id
        assert action.because.strip() and action.text.strip() and action.timing.strip()
        assert action.to_dict()["source"]["reference"] == source.reference


def test_every_rule_of_every_rule_set_is_cited() -> None:
    for ruleset in RULESETS.values():
        assert ruleset.version and ruleset.citation and ruleset.rules
        for rule in ruleset.rules:
            assert rule.reference.strip() and rule.verification in VERIFICATION_TAGS, rule.id
            assert rule.id.startswith(f"{ruleset.id}."), rule.id


def test_a_rule_without_a_source_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="no source"):
        Rule(
            id="x.y",
            category="monitoring",
            priority=2,
            when=lambda f: True,
            because="always",
            reads=(),
            text="do something",
            timing="now",
            reference="  ",
            verification="V",
        )


def test_recommendation_json_is_self_describing(battery: list[Recommendation]) -> None:
    payload = battery[0].to_dict()
    assert payload["schema"] == "crswatch.recommendation/1"
    assert {"ruleset", "grades", "actions", "totals", "warnings", "hlh"} <= set(payload)
    action = payload["actions"][0]
    assert {"id", "priority", "category", "text", "timing", "dose", "rationale", "source"} <= set(
        action
    )


def test_unknown_rule_set_names_the_known_ones() -> None:
    with pytest.raises(UnknownCodeError, match="astct_era"):
        get_ruleset("nccn2024")


def test_user_choice_overrides_the_therapy_default() -> None:
    t = timeline([ev(24, "temperature", 38.6, "Cel")])
    assert recommend(t).ruleset.id == "astct_era"
    chosen = recommend(t, None, "lee2014")
    assert chosen.ruleset.id == "lee2014" and chosen.chosen_by == "user"


def test_totals_count_doses_and_steroid_exposure() -> None:
    t = timeline(
        [
            ev(24, "temperature", 39.0, "Cel"),
            ev(25, "tocilizumab", 560, "mg"),
            ev(26, "dexamethasone", 10, "mg"),
            ev(30, "methylprednisolone", 40, "mg"),
        ]
    )
    totals = recommend(t).to_dict()["totals"]
    assert totals["tocilizumab"]["doses_given"] == 1
    assert totals["tocilizumab"]["indicated"] is False and "next_dose" not in totals["tocilizumab"]
    assert totals["corticosteroids"]["dexamethasone_equivalent_mg"] == 17.5
