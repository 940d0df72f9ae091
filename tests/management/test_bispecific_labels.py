"""Per-label rule sets of the step-up bispecifics: verified label actions, ASTCT-era fallback.

Expected actions are the label quotes of shared/research/criteria-verification.md §5.
"""

from __future__ import annotations

from typing import Any

import pytest

from crswatch.management import RULESETS, recommend
from crswatch.management.bispecific_labels import ruleset_for
from crswatch.regimens import PRODUCTS
from crswatch.timeline import Timeline
from tests.builders import ev, timeline


def on_product(product: str, *extra: dict[str, Any]) -> Timeline:
    therapy = {"kind": "bispecific", "product": product, "start": "2024-01-01T08:00:00Z"}
    events = [
        ev(0, product, 1.0, "mg"),
        ev(8, "temperature", 38.6, "Cel"),
        ev(8, "sbp", 118, "mm[Hg]"),
        ev(8, "spo2", 96, "%"),
        ev(8, "o2_device", "room_air"),
        *extra,
    ]
    return timeline(events, therapy=therapy)


def ids(product: str, *extra: dict[str, Any]) -> tuple[str, ...]:
    found = recommend(on_product(product, *extra), with_regimen=False)
    return found.action_ids


def test_every_product_has_a_label_rule_set() -> None:
    for product in PRODUCTS:
        assert f"{product}_label" in RULESETS
    assert ruleset_for("ELREXFIO") == "elranatamab_label"
    assert ruleset_for("unknown") is None


def test_elranatamab_grade1_is_the_label_and_treatment_falls_back() -> None:
    found = recommend(on_product("elranatamab"), with_regimen=False)
    assert found.ruleset.id == "elranatamab_label"
    assert found.chosen_by == "default for bispecific product elranatamab"
    label = [a for a in found.actions if a.id == "elranatamab_label.crs.grade1"]
    assert len(label) == 1
    assert label[0].source.verification == "V"
    assert label[0].source.quote is not None and "Withhold ELREXFIO" in label[0].source.quote
    assert "elranatamab_label.crs.not_verified" not in found.action_ids
    fallback = [a for a in found.actions if ".fallback.astct_era." in a.id]
    assert fallback
    assert all("not the product label" in (a.source.note or "") for a in fallback)


def test_grade_without_a_verified_row_says_so() -> None:
    # Grade 3 (a vasopressor running) for epcoritamab is verified but truncated; for glofitamab
    # it is not verified.
    pressor = ev(9, "norepinephrine", 5, "ug/min")
    assert "epcoritamab_label.crs.grade3" in ids("epcoritamab", pressor)
    glofitamab = ids("glofitamab", pressor)
    assert "glofitamab_label.crs.not_verified" in glofitamab
    assert not [i for i in glofitamab if i.startswith("glofitamab_label.crs.grade")]


def test_products_without_verified_crs_rows_fall_back_with_a_note() -> None:
    for product in ("talquetamab", "mosunetuzumab", "teclistamab"):
        found = recommend(on_product(product), with_regimen=False)
        note = [a for a in found.actions if a.id == f"{product}_label.crs.not_verified"]
        assert len(note) == 1, product
        assert "ASTCT-era rule set, not the label" in note[0].text


@pytest.mark.parametrize("product", list(PRODUCTS))
def test_label_rules_quote_the_product_data(product: str) -> None:
    rules = {rule.id: rule for rule in RULESETS[f"{product}_label"].rules}
    for action in PRODUCTS[product].actions:
        rule = rules[f"{product}_label.{action.syndrome}.grade{action.grade}"]
        assert rule.quote == action.quote
        assert rule.reference == action.source.citation


def test_regimen_status_is_attached_for_a_bispecific() -> None:
    found = recommend(on_product("elranatamab"))
    assert found.regimen is not None
    assert found.regimen["schema"] == "crswatch.regimen-status/1"
    assert found.regimen["state"] == "withheld"
