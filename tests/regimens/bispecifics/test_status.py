"""Regimen status: a course with a CRS or ICANS event at each grade whose label action is verified.

Grade courses are given as points (ASTCT 2019 grades on record, as ``grade_points`` produces
them) so that each case isolates the label rule; ``test_status_graded.py`` grades real records.
Expected actions quote shared/research/criteria-verification.md §5.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from crswatch.regimens import GradedPoint, regimen_status
from crswatch.timeline import Timeline
from tests.builders import START, at, ev, timeline


def point(hours: float, crs: int, icans: int = 0) -> GradedPoint:
    return GradedPoint(at(hours), crs, "graded", (crs, crs), icans, "graded", (icans, icans))


def course(product: str, doses: list[tuple[float, float]], **patient: Any) -> Timeline:
    events = [ev(h, product, mg, "mg") for h, mg in doses]
    events += [ev(h - 2, "dexamethasone", 16, "mg") for h, _ in doses]
    therapy = {"kind": "bispecific", "product": product, "start": "2024-01-01T08:00:00Z"}
    return timeline(events, therapy=therapy, **patient)


def status(tl: Timeline, hours: float, points: list[GradedPoint], **kw: Any) -> dict[str, Any]:
    return regimen_status(tl, at(hours), points=points, **kw).to_dict()


def actions(payload: dict[str, Any]) -> list[tuple[str, int, bool]]:
    return [(a["syndrome"], a["grade"], a["verified"]) for a in payload["label_actions"]]


ELRANATAMAB = [(0.0, 12.0)]


# --- elranatamab: CRS grades 1, 2 and 3 (first occurrence) are verified ------------------------


def test_elranatamab_grade1_withholds_until_resolved_then_pretreat() -> None:
    tl = course("elranatamab", ELRANATAMAB)
    points = [point(0, 0), point(10, 1), point(30, 0)]
    during = status(tl, 20, points)
    assert during["state"] == "withheld"
    assert actions(during) == [("crs", 1, True)]
    assert "Withhold elranatamab until CRS resolves." in during["label_actions"][0]["actions"]
    assert during["next_dose"]["hold"] == "withhold until CRS and ICANS resolve (label)"
    after = status(tl, 40, points)
    assert after["state"] == "on_treatment"
    assert after["next_dose"]["name"] == "step-up dose 2"
    assert after["next_dose"]["due"] == "2024-01-04T08:00:00Z"
    assert after["next_dose"]["label_notes"] == [
        "administer pretreatment medications before the next dose"
    ]


def test_elranatamab_grade2_monitor_daily_after_next_dose() -> None:
    payload = status(course("elranatamab", ELRANATAMAB), 20, [point(0, 0), point(10, 2)])
    assert payload["state"] == "withheld"
    assert actions(payload) == [("crs", 2, True)]
    assert payload["label_actions"][0]["complete"] is False
    assert "monitor daily for 48 hours" in payload["next_dose"]["label_notes"][0]


def test_elranatamab_grade3_first_occurrence_is_verified() -> None:
    payload = status(course("elranatamab", ELRANATAMAB), 20, [point(0, 0), point(10, 3)])
    assert actions(payload) == [("crs", 3, True)]
    assert payload["label_actions"][0]["occurrence"] == "first"
    assert payload["state"] == "withheld"


def test_elranatamab_recurrent_grade3_is_not_verified() -> None:
    tl = course("elranatamab", [(0.0, 12.0), (72.0, 32.0)])
    points = [point(0, 0), point(10, 3), point(40, 0), point(80, 3)]
    payload = status(tl, 90, points)
    assert actions(payload) == [("crs", 3, False)]
    assert "not verified" in payload["label_actions"][0]["note"]
    assert "ASTCT-era rule set" in payload["label_actions"][0]["note"]


def test_elranatamab_grade4_falls_back_with_a_note() -> None:
    payload = status(course("elranatamab", ELRANATAMAB), 20, [point(0, 0), point(10, 4)])
    assert actions(payload) == [("crs", 4, False)]
    assert "ASTCT-era" in payload["next_dose"]["hold"]
    assert payload["state"] == "on_treatment"


# --- epcoritamab: CRS grades 1-2 verified, grade 3 partly -------------------------------------


def test_epcoritamab_grade1_and_grade2() -> None:
    tl = course("epcoritamab", [(0.0, 0.16)])
    one = status(tl, 20, [point(0, 0), point(10, 1)], indication="dlbcl")
    assert actions(one) == [("crs", 1, True)]
    assert one["state"] == "withheld"
    two = status(tl, 20, [point(0, 0), point(10, 2)], indication="dlbcl")
    assert actions(two) == [("crs", 2, True)]
    assert "premedicate" in two["next_dose"]["label_notes"][0]
    resolved = status(tl, 50, [point(0, 0), point(10, 2), point(30, 0)], indication="dlbcl")
    assert resolved["state"] == "on_treatment"
    assert resolved["next_dose"]["dose_mg"] == 0.8


def test_epcoritamab_grade3_is_truncated_and_says_so() -> None:
    payload = status(
        course("epcoritamab", [(0.0, 0.16)]), 20, [point(0, 0), point(10, 3)], indication="dlbcl"
    )
    assert actions(payload) == [("crs", 3, True)]
    action = payload["label_actions"][0]
    assert action["complete"] is False
    assert "truncated" in action["note"]


# --- glofitamab: CRS grade 1, resolved for 72 hours before the next dose -----------------------


def test_glofitamab_grade1_needs_72_hours_resolved() -> None:
    tl = course("glofitamab", [(7 * 24.0, 2.5)])
    points = [point(0, 0), point(7 * 24 + 10, 1), point(7 * 24 + 20, 0)]
    held = status(tl, 7 * 24 + 20 + 71, points)
    assert actions(held) == [("crs", 1, True)]
    assert held["state"] == "withheld"
    assert held["next_dose"]["not_before"] == "2024-01-12T04:00:00Z"
    released = status(tl, 7 * 24 + 20 + 72, points)
    assert released["state"] == "on_treatment"
    assert released["next_dose"]["name"] == "step-up dose 2"


def test_glofitamab_grade2_action_is_not_verified() -> None:
    payload = status(
        course("glofitamab", [(7 * 24.0, 2.5)]), 7 * 24 + 12, [point(0, 0), point(7 * 24 + 10, 2)]
    )
    assert actions(payload) == [("crs", 2, False)]


# --- tarlatamab: CRS grades 1-2 verified ---------------------------------------------------------


def test_tarlatamab_grade1_and_grade2() -> None:
    tl = course("tarlatamab", [(0.0, 1.0)])
    one = status(tl, 12, [point(0, 0), point(8, 1)])
    assert actions(one) == [("crs", 1, True)]
    assert one["label_actions"][0]["actions"] == [
        "Withhold tarlatamab until the event resolves, then resume at the next scheduled dose."
    ]
    two = status(tl, 12, [point(0, 0), point(8, 2)])
    assert actions(two) == [("crs", 2, True)]
    assert "cardiac telemetry" in " ".join(two["label_actions"][0]["actions"])
    assert two["next_dose"]["label_notes"] == ["monitor for 22 to 24 hours when resuming"]


# --- teclistamab: ICANS grades 1-2 verified; CRS not ------------------------------------------


def test_teclistamab_icans_grade1_and_grade2() -> None:
    tl = course("teclistamab", [(0.0, 4.8)], weight_kg=80.0)
    one = status(tl, 20, [point(0, 0), point(10, 0, icans=1)])
    assert actions(one) == [("icans", 1, True)]
    assert one["state"] == "withheld"
    two = status(tl, 20, [point(0, 0), point(10, 0, icans=2)])
    assert actions(two) == [("icans", 2, True)]
    assert "dexamethasone 10 mg" in two["label_actions"][0]["actions"][0]
    assert two["next_dose"]["label_notes"] == ["hospitalize for 48 hours following the next dose"]


def test_teclistamab_crs_is_not_verified() -> None:
    payload = status(course("teclistamab", [(0.0, 4.8)], weight_kg=80.0), 20, [point(10, 1)])
    assert actions(payload) == [("crs", 1, False)]
    assert payload["label_actions"][0]["general"][0].startswith("Boxed warning")


# --- dosing, windows, premedication --------------------------------------------------------------


def test_monitoring_window_boundaries() -> None:
    tl = course("teclistamab", [(0.0, 4.8)], weight_kg=80.0)
    inside = status(tl, 47.99, [point(0, 0)])
    assert inside["monitoring"]["now"] is True
    assert inside["monitoring"]["until"] == "2024-01-03T08:00:00Z"
    # The window is [dose, dose + 48 h): at 48 h the stay is over.
    assert status(tl, 48, [point(0, 0)])["monitoring"]["now"] is False


def test_elranatamab_second_step_up_has_a_24_hour_stay() -> None:
    tl = course("elranatamab", [(0.0, 12.0), (72.0, 32.0)])
    payload = status(tl, 80, [point(0, 0)])
    assert payload["monitoring"]["until"] == "2024-01-05T08:00:00Z"
    assert payload["next_dose"]["name"] == "first treatment dose"
    assert payload["next_dose"]["due"] == "2024-01-08T08:00:00Z"
    assert payload["next_step_up"] is None


def test_teclistamab_step_up_2_later_than_7_days_is_a_deviation() -> None:
    tl = course("teclistamab", [(0.0, 4.8), (8 * 24.0, 24.0)], weight_kg=80.0)
    payload = status(tl, 8 * 24 + 1, [point(0, 0)])
    kinds = [d["kind"] for d in payload["deviations"]]
    assert kinds == ["dose_later_than_label_allows"]
    assert "NOT FOUND" in payload["deviations"][0]["detail"]


def test_teclistamab_step_up_2_at_7_days_is_allowed() -> None:
    tl = course("teclistamab", [(0.0, 4.8), (7 * 24.0, 24.0)], weight_kg=80.0)
    assert status(tl, 7 * 24 + 1, [point(0, 0)])["deviations"] == []


def test_overdue_dose_says_the_restart_rule_is_unverified() -> None:
    tl = course("elranatamab", ELRANATAMAB)
    payload = status(tl, 6 * 24, [point(0, 0)])
    assert any("overdue" in n and "not verified" in n for n in payload["notes"])


def test_missing_premedication_and_wrong_dose_are_deviations() -> None:
    therapy = {"kind": "bispecific", "product": "teclistamab", "start": "2024-01-01T08:00:00Z"}
    tl = timeline([ev(0, "teclistamab", 8.0, "mg")], therapy=therapy, weight_kg=80.0)
    payload = status(tl, 2, [point(0, 0)])
    assert sorted(d["kind"] for d in payload["deviations"]) == [
        "dose_differs_from_plan",
        "premedication_missing",
    ]
    premeds = payload["doses_given"][0]["premedication"]
    assert [p["state"] for p in premeds] == ["missing", "missing"]


def test_not_started_and_completed() -> None:
    therapy = {"kind": "bispecific", "product": "epcoritamab", "start": "2024-01-02T08:00:00Z"}
    waiting = timeline([ev(0, "temperature", 36.8, "Cel")], therapy=therapy)
    payload = status(waiting, 1, [point(0, 0)], indication="fl")
    assert payload["state"] == "not_started"
    assert payload["next_dose"]["due"] == "2024-01-02T08:00:00Z"
    doses = [(0.0, 0.16), (7 * 24.0, 0.8), (14 * 24.0, 3.0), (21 * 24.0, 48.0)]
    done = status(course("epcoritamab", doses), 22 * 24, [point(0, 0)], indication="fl")
    assert done["state"] == "course_completed"
    assert done["next_dose"] is None


def test_product_is_found_from_the_doses() -> None:
    tl = timeline([ev(0, "mosunetuzumab", 1, "mg")])
    assert regimen_status(tl, at(1), points=[point(0, 0)]).product.id == "mosunetuzumab"


def test_no_product_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no bispecific T-cell engager dose"):
        regimen_status(timeline([ev(0, "temperature", 37, "Cel")]), points=[])


def test_status_time_defaults_to_the_last_event() -> None:
    tl = course("elranatamab", ELRANATAMAB)
    found = regimen_status(tl, points=[point(0, 0)])
    assert found.at == datetime.fromisoformat("2024-01-01T08:00:00+00:00")
    assert found.given[0].time == START


def test_glofitamab_obinutuzumab_pretreatment() -> None:
    therapy = {"kind": "bispecific", "product": "glofitamab", "start": "2024-01-01T08:00:00Z"}
    given = timeline(
        [ev(-7 * 24, "obinutuzumab", 1000, "mg"), ev(0, "glofitamab", 2.5, "mg")],
        therapy=therapy,
    )
    payload = status(given, 1, [point(0, 0)])
    assert [(p["drug"], p["state"]) for p in payload["pretreatment"]] == [("obinutuzumab", "given")]
    assert payload["pretreatment"][0]["days_before_first_dose"] == 7
    missing = timeline([ev(0, "glofitamab", 2.5, "mg")], therapy=therapy)
    kinds = [d["kind"] for d in status(missing, 1, [point(0, 0)])["deviations"]]
    assert kinds == ["pretreatment_missing"]


def test_antihistamine_premedication_is_read_from_the_record() -> None:
    therapy = {"kind": "bispecific", "product": "mosunetuzumab", "start": "2024-01-01T08:00:00Z"}
    tl = timeline(
        [
            ev(-2, "dexamethasone", 20, "mg"),
            ev(-1, "antihistamine", 50, "mg"),
            ev(0, "mosunetuzumab", 1, "mg"),
        ],
        therapy=therapy,
    )
    premeds = status(tl, 1, [point(0, 0)])["doses_given"][0]["premedication"]
    assert {p["drug"]: p["state"] for p in premeds} == {
        "dexamethasone or methylprednisolone": "given",
        "diphenhydramine": "given",
        "acetaminophen": "missing",
    }


MOSUNETUZUMAB_TO_CYCLE_3 = [(0.0, 1.0), (7 * 24.0, 2.0), (14 * 24.0, 60.0), (21 * 24.0, 60.0),
                            (42 * 24.0, 30.0)]  # fmt: skip


def test_mosunetuzumab_premedication_from_cycle_3_only_after_crs() -> None:
    # LUNSUMIO: premedication for cycles 1-2; from cycle 3 for CRS of any grade with the
    # previous dose.
    tl = course("mosunetuzumab", MOSUNETUZUMAB_TO_CYCLE_3)
    last = 42 * 24
    quiet = status(tl, last + 72, [point(0, 0)])
    assert quiet["next_dose"]["cycle"] == 4
    assert quiet["premedication_due"] == []
    after_crs = status(tl, last + 72, [point(0, 0), point(last + 20, 1), point(last + 40, 0)])
    drugs = [p["drug"] for p in after_crs["premedication_due"]]
    assert drugs == ["dexamethasone or methylprednisolone", "diphenhydramine", "acetaminophen"]
