"""The limit-of-detection rule of seed 004 (Nägele 2017): below LOD -> LOD/2, flagged."""

from __future__ import annotations

import polars as pl
import pytest

from crswatch.biomarkers import cytokine_profile, kinetics, stat_value, stat_value_expr
from tests.builders import at, ev, timeline


def test_below_lod_is_half_the_lod_and_flagged() -> None:
    value = stat_value(20.0, "below_lod")
    assert (value.value, value.reported, value.censored) == (10.0, 20.0, "below_lod")
    assert value.flag is not None and "LOD/2" in value.flag
    assert value.to_dict() == {
        "value": 10.0,
        "reported": 20.0,
        "censored": "below_lod",
        "flag": value.flag,
    }


def test_above_uloq_keeps_the_limit_as_a_lower_bound() -> None:
    value = stat_value(5000.0, "above_uloq")
    assert value.value == 5000.0 and value.flag is not None and "lower bound" in value.flag


def test_uncensored_values_are_used_as_reported() -> None:
    value = stat_value(125.0, None)  # at the LLOQ: seed 004 "included as such"
    assert (value.value, value.flag) == (125.0, None)
    assert "censored" not in value.to_dict()


def test_unknown_censoring_code_is_rejected() -> None:
    with pytest.raises(ValueError, match="censored="):
        stat_value(1.0, "below_lloq")


def test_polars_expression_matches_the_scalar_rule() -> None:
    frame = pl.DataFrame(
        {"value_num": [20.0, 5000.0, 125.0], "censored": ["below_lod", "above_uloq", None]}
    )
    assert frame.select(stat_value_expr())["stat_value"].to_list() == [10.0, 5000.0, 125.0]


def test_censored_baseline_gives_a_flagged_fold_change() -> None:
    events = [
        ev(-1, "il6", 20, "pg/mL", censored="below_lod"),
        ev(24, "il6", 500, "pg/mL"),
    ]
    profile = cytokine_profile(timeline(events), at(24))
    [il6] = profile.cytokines
    assert il6.baseline is not None and il6.baseline.value == 10.0
    assert il6.fold(il6.peak) == 50.0
    document = il6.to_dict()
    assert document["fold_change_uses_censored_baseline"] is True
    assert document["baseline"]["flag"].startswith("below LOD 20")


def test_kinetics_counts_censored_results_and_uses_half_the_lod() -> None:
    events = [
        ev(-1, "il6", 20, "pg/mL", censored="below_lod"),
        ev(6, "il6", 40, "pg/mL"),
    ]
    il6 = next(a for a in kinetics(timeline(events)).analytes if a.item == "il6")
    assert il6.fold_change == 4.0
    assert il6.to_dict()["censored_results"] == 1
