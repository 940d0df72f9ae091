"""Regimen status over real records, graded by ASTCT 2019, with the label's own oxygen reading.

Mosunetuzumab (LUNSUMIO CRS table footnote, lunsumio-hcp.com): low-flow oxygen < 6 L/min,
high-flow >= 6 L/min; ASTCT 2019 (Lee 2019, footnote ‡): low-flow <= 6 L/min.  A febrile
patient on 6 L/min by nasal cannula is ASTCT grade 2 and grade 3 by the label; at 5 L/min
both read grade 2; at 7 L/min both read grade 3.
"""

from __future__ import annotations

from typing import Any

import pytest

from crswatch.regimens import regimen_status
from crswatch.timeline import Timeline
from tests.builders import at, ev, timeline

_THERAPY = {"kind": "bispecific", "product": "mosunetuzumab", "start": "2024-01-01T08:00:00Z"}


def vitals(hours: float, temperature: float) -> list[dict[str, Any]]:
    """A full set of vital signs (so the grade does not rest on undocumented inputs)."""
    return [
        ev(hours, "temperature", temperature, "Cel"),
        ev(hours, "sbp", 118, "mm[Hg]"),
        ev(hours, "spo2", 95, "%"),
    ]


def mosunetuzumab_on_oxygen(flow: float | None, device: str = "nasal_cannula") -> Timeline:
    events = [
        ev(-2, "dexamethasone", 20, "mg"),
        ev(-1, "antipyretic", 1000, "mg"),
        ev(-1, "antihistamine", 50, "mg"),
        ev(0, "mosunetuzumab", 1, "mg"),
        *vitals(4, 37.0),
        ev(4, "o2_device", "room_air"),
        *vitals(10, 38.7),
        ev(11, "o2_device", device),
    ]
    if flow is not None:
        events.append(ev(11, "o2_flow", flow, "L/min"))
    return timeline(events, therapy=_THERAPY)


def graded(tl: Timeline, hours: float) -> dict[str, Any]:
    return regimen_status(tl, at(hours)).to_dict()


def test_six_litres_by_cannula_is_grade_3_by_the_label() -> None:
    payload = graded(mosunetuzumab_on_oxygen(6.0), 12)
    assert payload["grades"]["crs"]["grade"] == 2
    reading = payload["grades"]["label_reading"]
    assert reading["differs"] is True
    assert (reading["grade"], reading["astct_grade"]) == (3, 2)
    assert "6 L/min by nasal cannula" in reading["evidence"]
    assert ">= 6 L/min" in reading["note"]
    # The label's own grade is the one its actions are looked up for (not verified here).
    assert [(a["syndrome"], a["grade"], a["verified"]) for a in payload["label_actions"]] == [
        ("crs", 3, False)
    ]


def test_six_litres_by_high_flow_cannula_is_also_read_by_flow() -> None:
    # ASTCT 2019 grades a cannula by its flow whatever it is called (<= 6 L/min: low flow).
    payload = graded(mosunetuzumab_on_oxygen(6.0, "high_flow_nasal_cannula"), 12)
    assert payload["grades"]["crs"]["grade"] == 2
    assert payload["grades"]["label_reading"]["grade"] == 3


@pytest.mark.parametrize(("flow", "astct"), [(5.0, 2), (7.0, 3)])
def test_either_side_of_six_litres_the_readings_agree(flow: float, astct: int) -> None:
    payload = graded(mosunetuzumab_on_oxygen(flow), 12)
    assert payload["grades"]["crs"]["grade"] == astct
    assert payload["grades"]["label_reading"]["differs"] is False


def test_before_fever_there_is_no_label_reading() -> None:
    payload = graded(mosunetuzumab_on_oxygen(6.0), 5)
    assert payload["grades"]["crs"]["grade"] == 0
    assert payload["grades"]["label_reading"]["differs"] is False


def test_premedication_of_cycle_1_is_checked_and_cycle_3_after_crs() -> None:
    payload = graded(mosunetuzumab_on_oxygen(6.0), 12)
    states = {p["drug"]: p["state"] for p in payload["doses_given"][0]["premedication"]}
    assert states == {
        "dexamethasone or methylprednisolone": "given",
        "diphenhydramine": "given",
        "acetaminophen": "given",
    }
    assert payload["deviations"] == []


def test_elranatamab_fever_graded_from_the_record() -> None:
    therapy = {"kind": "bispecific", "product": "elranatamab", "start": "2024-01-01T08:00:00Z"}
    tl = timeline(
        [
            ev(0, "elranatamab", 12, "mg"),
            *vitals(8, 38.4),
            ev(8, "o2_device", "room_air"),
            *vitals(30, 36.9),
            *vitals(38, 36.8),
        ],
        therapy=therapy,
    )
    during = graded(tl, 9)
    assert during["grades"]["crs"]["grade"] == 1
    assert [(a["grade"], a["verified"]) for a in during["label_actions"]] == [(1, True)]
    assert during["state"] == "withheld"
    assert during["monitoring"]["now"] is True
    assert "label_reading" not in during["grades"]
    after = graded(tl, 39)
    assert after["grades"]["crs"]["grade"] == 0
    assert after["state"] == "on_treatment"
    assert after["next_dose"]["label_notes"] == [
        "administer pretreatment medications before the next dose"
    ]
