"""Bedside entries: typed values to validated events, and errors mapped back to their fields."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from crswatch.web import ENTRY_FORMS, EntryResult, build_entry
from crswatch.web._entry import DRUGS, PRESSORS, time_value
from tests.builders import at, ev, timeline
from tests.web.ward import make_ward

NOW = at(30)


def _entry(kind: str, **values: str) -> EntryResult:
    patient = timeline([ev(1, "temperature", 37, "Cel")], weight_kg=80.0)
    return build_entry(patient, kind, values, username="alice", now=NOW)


def test_forms_offer_the_vocabulary() -> None:
    assert list(ENTRY_FORMS) == [
        "vitals",
        "oxygen",
        "vasopressor",
        "drug",
        "neuro",
        "capd",
        "neuro_findings",
        "engager",
    ]
    assert PRESSORS == ("norepinephrine", "epinephrine", "phenylephrine", "dopamine", "vasopressin")
    assert {"tocilizumab", "dexamethasone", "methylprednisolone", "anakinra"} <= set(DRUGS)
    assert "room_air" in ENTRY_FORMS["oxygen"].field("o2_device").options


def test_vitals_become_events_in_canonical_units() -> None:
    result = _entry("vitals", temperature="101.3", temp_unit="[degF]", heart_rate="112", sbp="88")
    assert result.ok and result.errors == {}
    by_item = {e.item: e for e in result.events}
    assert by_item["temperature"].value == pytest.approx(38.5)
    assert by_item["temperature"].original_unit == "[degF]"
    assert (by_item["heart_rate"].value, by_item["sbp"].value) == (112.0, 88.0)
    assert {e.time for e in result.events} == {NOW}
    assert {e.source for e in result.events} == {"dashboard:alice"}


def test_entry_time_is_utc_and_not_in_the_future() -> None:
    assert _entry("vitals", heart_rate="90", time="2024-01-02T09:15").events[0].time == at(25.25)
    future = _entry("vitals", heart_rate="90", time="2024-01-02T15:00")
    assert future.errors["time"].startswith("time='2024-01-02T15:00': is in the future")
    assert "not a date and time" in _entry("vitals", heart_rate="90", time="noon").errors["time"]
    assert time_value(NOW) == "2024-01-02 14:00"


def test_entry_time_is_read_in_the_site_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in January
    assert time_value(NOW, berlin) == "2024-01-02 15:00"
    record = make_ward()[0]
    typed = {"heart_rate": "90", "time": "2024-01-02 10:15"}
    result = build_entry(record, "vitals", typed, username="alice", now=NOW, zone=berlin)
    assert result.events[0].time == at(25.25)  # 10:15 CET is 09:15 UTC
    # An explicit offset wins over the site's zone.
    typed["time"] = "2024-01-02T09:15+00:00"
    result = build_entry(record, "vitals", typed, username="alice", now=NOW, zone=berlin)
    assert result.events[0].time == at(25.25)


def test_errors_name_the_field_and_the_typed_value() -> None:
    result = _entry("vitals", temperature="38.1", temp_unit="Cel", spo2="0.95", heart_rate="fast")
    assert not result.ok and result.events == []
    assert result.errors["heart_rate"] == "heart_rate='fast': a number is required"
    assert result.errors["spo2"].startswith("spo2='0.95': 0.95 % is outside the plausible range")
    assert "temperature" not in result.errors
    assert result.values["heart_rate"] == "fast"  # what was typed is kept


def test_unit_errors_go_to_the_unit_field() -> None:
    # Dexamethasone may be dosed by body-surface area (weight and height given), tocilizumab not.
    assert _entry("drug", drug="dexamethasone", dose="10", dose_unit="mg/m2").ok
    toci = _entry("drug", drug="tocilizumab", dose="8", dose_unit="mg/m2")
    assert toci.errors == {
        "dose_unit": "dose_unit='mg/m2': cannot be converted to 'mg', the unit of item "
        "'tocilizumab'"
    }
    bad = _entry("vasopressor", drug="vasopressin", action="start", rate="2", rate_unit="ug/min")
    assert list(bad.errors) == ["rate_unit"]
    assert bad.errors["rate_unit"].startswith("rate_unit='ug/min':")


def test_vasopressor_actions() -> None:
    start = _entry(
        "vasopressor", drug="norepinephrine", action="start", rate="0.05", rate_unit="ug/kg/min"
    )
    assert [(e.item, e.value, e.unit) for e in start.events] == [("norepinephrine", 4.0, "ug/min")]
    stop = _entry("vasopressor", drug="dopamine", action="stop")
    assert [(e.item, e.value, e.unit) for e in stop.events] == [("dopamine", 0.0, "ug/kg/min")]
    assert _entry("vasopressor", drug="norepinephrine", action="change").errors == {
        "rate": "rate='': a rate is required to change norepinephrine"
    }
    assert "drug" in _entry("vasopressor", drug="caffeine", action="start", rate="1").errors


def test_drug_needs_a_known_drug_and_a_dose() -> None:
    assert _entry("drug", drug="tocilizumab", dose="").errors == {
        "dose": "dose='': a dose is required"
    }
    assert "drug" in _entry("drug", drug="aspirin", dose="100", dose_unit="mg").errors
    toci = _entry("drug", drug="tocilizumab", dose="8", dose_unit="mg/kg")
    assert [(e.item, e.value) for e in toci.events] == [("tocilizumab", 640.0)]


@pytest.mark.parametrize(
    ("values", "error"),
    [
        (
            {
                "ice_score": "7",
                "ice_orientation": "4",
                "ice_naming": "3",
                "ice_commands": "1",
                "ice_writing": "1",
                "ice_attention": "1",
            },
            "ice_score='7': the five items add up to 10",
        ),
        ({"ice_score": "7", "ice_naming": "3"}, "ice_score='7': give the total or all five items"),
    ],
)
def test_ice_items_and_total_must_agree(values: dict[str, str], error: str) -> None:
    assert _entry("neuro", **values).errors["ice_score"].startswith(error)


def test_neuro_items_and_consciousness() -> None:
    result = _entry(
        "neuro",
        ice_orientation="2",
        ice_naming="3",
        ice_commands="1",
        ice_writing="0",
        ice_attention="1",
        consciousness="awakens_to_voice",
    )
    assert result.ok
    assert {e.item: e.value for e in result.events}["consciousness"] == "awakens_to_voice"
    assert "whole-number score" in _entry("neuro", ice_score="7.5").errors["ice_score"]


def test_an_empty_form_is_an_error() -> None:
    assert _entry("oxygen").errors == {"o2_device": "enter at least one value"}


# --- v2 (issue 17): CAPD, neurological findings, engager infusion, the unit kept -------------


def test_capd_score_is_computed_from_the_eight_items() -> None:
    from crswatch.web._entry import CAPD_ITEMS

    def capd(first: str, last: str) -> EntryResult:
        # Items 1-4 answered ``first``, items 5-8 ``last`` (criteria-verification.md §2d).
        answers = {name: first if i < 4 else last for i, (name, _, _) in enumerate(CAPD_ITEMS)}
        return _entry("capd", **answers)

    def score(result: EntryResult) -> float:
        assert result.ok, result.errors
        (event,) = [e for e in result.events if e.item == "capd_score"]
        return float(event.value)  # type: ignore[arg-type]

    # Items 1-4 reverse-scored (Never 4 ... Always 0), items 5-8 direct (Never 0 ... Always 4).
    assert score(capd("always", "never")) == 0
    assert score(capd("never", "always")) == 32
    assert score(capd("never", "never")) == 16
    assert score(capd("sometimes", "sometimes")) == 16
    assert score(capd("often", "rarely")) == 8  # 4 x 1 + 4 x 1
    partial = _entry("capd", capd_eye_contact="never")
    assert not partial.ok and partial.errors["capd_purposeful"].startswith(
        "capd_purposeful='': answer all eight items"
    )
    alone = _entry("capd", consciousness="awakens_to_voice")
    assert [(e.item, e.value) for e in alone.events] == [("consciousness", "awakens_to_voice")]


def test_seizure_oedema_and_motor_weakness() -> None:
    result = _entry(
        "neuro_findings", seizure="repetitive", cerebral_edema="focal", motor_weakness="deep_focal"
    )
    assert result.ok, result.errors
    assert {(e.item, e.value) for e in result.events} == {
        ("seizure", "repetitive"),
        ("cerebral_edema", "focal"),
        ("motor_weakness", "deep_focal"),
    }


def test_engager_infusion_hold_restart_stop() -> None:
    for action in ("hold", "stop"):
        held = _entry("engager", drug="blinatumomab", action=action)
        assert [(e.item, e.value, e.unit) for e in held.events] == [("blinatumomab", 0, "ug/d")]
    restart = _entry("engager", drug="blinatumomab", action="restart", rate="28")
    assert [(e.item, e.value) for e in restart.events] == [("blinatumomab", 28.0)]
    missing = _entry("engager", drug="blinatumomab", action="restart")
    assert missing.errors == {"rate": "rate='': a rate is required to restart blinatumomab"}


def test_the_unit_chosen_is_kept_and_the_conversion_confirmed() -> None:
    # 0.1 µg/kg/min for the 80 kg patient of `_entry` is 8 µg/min.
    result = _entry(
        "vasopressor", drug="norepinephrine", action="start", rate="0.1", rate_unit="ug/kg/min"
    )
    assert result.ok, result.errors
    assert result.confirmation == ["norepinephrine 0.1 ug/kg/min = 8 ug/min"]
    # After the save the form is cleared but keeps the unit the user chose.
    assert result.shown_values == {"rate_unit": "ug/kg/min"}
    plain = _entry(
        "vasopressor", drug="norepinephrine", action="start", rate="5", rate_unit="ug/min"
    )
    assert plain.confirmation == ["norepinephrine 5 ug/min"]
