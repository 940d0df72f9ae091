"""Blinatumomab rules table, plan validation, cytoreduction and status inputs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crswatch.regimens import (
    LABEL_VERSIONS,
    RULES,
    SOURCES,
    GradeCourse,
    StatusParameters,
    assess_cytoreduction,
    blinatumomab_status,
    get_label_version,
    plan_blinatumomab,
)
from tests.builders import ev, timeline


def test_every_rule_names_a_known_source_tag_and_label_version() -> None:
    ids = [entry.id for entry in RULES]
    assert len(ids) == len(set(ids))
    for entry in RULES:
        assert entry.source in SOURCES
        assert entry.tag in ("V", "V-2", "R", "derived", "seed")
        assert set(entry.label_versions) <= set(LABEL_VERSIONS)
        assert entry.to_dict()["citation"]
    unverified = {entry.id for entry in RULES if not entry.verified}
    assert {"crs.scale", "neuro.scale"} <= unverified
    # Verified after round 1 (criteria-verification §5: US label, MRD-positive section,
    # "premedicate with prednisone 100 mg IV or equivalent ... 1 hour prior").
    assert "premed.mrd" not in unverified


def test_label_versions_differ_where_d13_says() -> None:
    current, older = get_label_version("current"), get_label_version("2015")
    assert current.crs_g3_dexamethasone_course and not older.crs_g3_dexamethasone_course
    assert (current.restart_premedication_operator, older.restart_premedication_operator) == (
        ">=",
        ">",
    )
    with pytest.raises(ValueError, match="label_version='2019'"):
        get_label_version("2019")


@pytest.mark.parametrize(
    ("marrow", "blood", "expected"),
    [
        (55.0, None, True),  # D43
        (None, 16_000.0, True),  # D43
        (50.0, 1_000.0, True),  # ">= 50 %"
        (49.9, 15_000.0, False),  # "> 15,000/uL": exactly 15,000 is not over
        (30.0, None, None),  # unknown, not normal
    ],
)
def test_cytoreduction_d43(
    marrow: float | None, blood: float | None, expected: bool | None
) -> None:
    assert assess_cytoreduction(marrow, blood).recommended is expected


def test_plan_rejects_bad_inputs_by_name() -> None:
    with pytest.raises(ValueError, match="weight_kg=0"):
        plan_blinatumomab(0)
    with pytest.raises(ValueError, match="needs the BSA"):
        plan_blinatumomab(30.0)
    with pytest.raises(ValueError, match="setting='xyz'"):
        plan_blinatumomab(70.0, setting="xyz")
    with pytest.raises(ValueError, match="regimen='nope'"):
        plan_blinatumomab(70.0, regimen="nope")


def test_plan_uses_mosteller_and_times() -> None:
    start = datetime(2024, 1, 1, 8, tzinfo=UTC)
    plan = plan_blinatumomab(30.0, height_cm=130.0, start=start, age_years=40).to_dict()
    assert plan["bsa_m2"] == pytest.approx((130.0 * 30.0 / 3600) ** 0.5, abs=1e-4)
    first = plan["cycles"][0]
    assert first["premedications"][0]["time"] == "2024-01-01T07:00:00Z"
    assert first["segments"][1]["start"] == "2024-01-08T08:00:00Z"
    assert plan["cycles"][1]["start"] == "2024-02-12T08:00:00Z"  # day 43


def test_plan_without_age_warns_and_eu_child_premedication() -> None:
    assert plan_blinatumomab(70.0).warnings == ("age not given: adult premedication planned",)
    child = plan_blinatumomab(20.0, bsa_m2=0.8, age_years=6, region="eu").to_dict()
    premeds = child["cycles"][0]["premedications"]
    assert [(p["dose_mg"], p["rule"]) for p in premeds] == [
        (8.0, "premed.child.eu"),
        (4.0, "premed.child.eu"),
    ]


def test_status_before_the_first_dose_and_missing_weight() -> None:
    record = timeline([ev(-2, "temperature", 37.0, "Cel")])
    courses = [GradeCourse("crs", "astct2019"), GradeCourse("icans", "astct2019")]
    status = blinatumomab_status(record, courses=courses)
    assert status.state == "not_started"
    assert status.dose_due["dose_ug_per_day"] == 9.0
    assert status.next_premedication is not None
    assert any("no grade during therapy" in w for w in status.warnings) is False
    no_weight = timeline([ev(0, "blinatumomab", 9, "ug/d")], weight_kg=None, height_cm=None)
    with pytest.raises(ValueError, match="weight_kg is needed"):
        blinatumomab_status(no_weight, courses=courses)


def test_status_without_grades_warns_instead_of_assuming_normal() -> None:
    record = timeline([ev(0, "blinatumomab", 9, "ug/d")])
    status = blinatumomab_status(record, courses=[], params=StatusParameters())
    assert any("no crs grade course" in w for w in status.warnings)
    assert status.to_dict()["parameters"]["crs_scale"] == "astct2019"


def test_crs_scale_is_configurable() -> None:
    record = timeline([ev(-1, "dexamethasone", 20, "mg"), ev(0, "blinatumomab", 9, "ug/d"),
                       ev(30, "temperature", 38.5, "Cel")])  # fmt: skip
    status = blinatumomab_status(record, params=StatusParameters(crs_scale="ctcae_v4"))
    assert status.to_dict()["parameters"]["crs_scale"] == "ctcae_v4"
    assert not any("no crs grade course" in w for w in status.warnings)
