"""The patient view's Vega-Lite specs: structure, data values, thinning and schema validity."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

import jsonschema
import polars as pl
import pytest

from crswatch.episodes import TRAJECTORY_SCHEMA, trajectory
from crswatch.scales import ALL_SCALES
from crswatch.timeline import Event, Patient, Therapy, Timeline
from crswatch.web._chart_data import band_label
from crswatch.web._charts import (
    GRADE_COLOURS,
    MAX_POINTS,
    VEGA_LITE_SCHEMA,
    cytokine_chart,
    timeline_chart,
)
from tests.builders import ev, timeline


@cache
def _validator() -> jsonschema.Draft7Validator:
    # The Vega-Lite v6 schema Altair ships: validation needs no network.
    path = resources.files("altair") / "vegalite" / "v6" / "schema" / "vega-lite-schema.json"
    return jsonschema.Draft7Validator(json.loads(path.read_text(encoding="utf-8")))


def assert_valid(spec: dict[str, Any]) -> None:
    errors = sorted(_validator().iter_errors(spec), key=lambda e: list(e.absolute_path))
    assert not errors, [(list(e.absolute_path), e.message[:300]) for e in errors[:5]]


def course() -> Timeline:
    """Seed 000-like course: baseline labs, fever, one pressor, cannula then ventilator."""
    return timeline(
        [
            ev(-24, "ferritin", 885, "ng/mL"),
            ev(-24, "fibrinogen", 455, "mg/dL"),
            ev(-20, "il6", 5, "pg/mL"),
            ev(-20, "il10", 20, "pg/mL", censored="below_lod"),
            ev(0, "car_t_infusion", 1e8),
            ev(30, "il6", 681, "pg/mL"),
            ev(30, "il10", 5338, "pg/mL"),
            ev(48, "ferritin", 22544, "ng/mL"),
            ev(50, "fibrinogen", 100, "mg/dL"),
            ev(50, "crp", 120, "mg/L"),
            ev(52, "temperature", 101.3, "[degF]"),
            ev(60, "temperature", 38.2, "Cel"),
            ev(72, "temperature", 39.5, "Cel"),
            ev(72, "sbp", 82, "mm[Hg]"),
            ev(73, "norepinephrine", 8, "ug/min"),
            ev(73, "o2_device", "nasal_cannula"),
            ev(73, "o2_flow", 2, "L/min"),
            ev(74, "tocilizumab", 560, "mg"),
            ev(75, "dexamethasone", 10, "mg"),
            ev(80, "o2_device", "mechanical_ventilation"),
            ev(90, "norepinephrine", 0, "ug/min"),
            ev(100, "il6", 40, "pg/mL"),
        ]
    )


@pytest.fixture(scope="module")
def seeded() -> tuple[Timeline, pl.DataFrame, dict[str, Any]]:
    record = course()
    table = trajectory([record])
    return record, table, timeline_chart(record, table)


def panel(spec: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [p for p in spec["vconcat"] if p["name"] == name]
    return found


def test_timeline_spec_is_valid_vega_lite_v6(seeded: Any) -> None:
    _, _, spec = seeded
    assert spec["$schema"] == VEGA_LITE_SCHEMA
    assert_valid(spec)


def test_schema_validation_catches_a_broken_spec(seeded: Any) -> None:
    broken = json.loads(json.dumps(seeded[2]))
    broken["vconcat"][0]["layer"][0]["mark"]["type"] = "blob"
    assert list(_validator().iter_errors(broken))


def test_panels_share_one_time_axis(seeded: Any) -> None:
    _, _, spec = seeded
    names = [p["name"] for p in spec["vconcat"]]
    assert names == [
        "temperature",
        "ferritin",
        "fibrinogen",
        "crp",
        "il6",
        "sbp",
        "support",
        "grades",
    ]
    domains = {
        json.dumps(layer["encoding"]["x"]["scale"]["domain"])
        for p in spec["vconcat"]
        for layer in p["layer"]
        if "x" in layer["encoding"]
    }
    assert len(domains) == 1
    low, high = json.loads(domains.pop())
    assert low == -1  # the baseline labs a day before the infusion
    assert high > 100 / 24  # past the last event at 100 h
    grade_x = panel(spec, "grades")["layer"][0]["encoding"]["x"]
    assert grade_x["axis"]["title"] == "Day since infusion (day 0 = CAR T infusion), with the date"


def test_units_are_canonical_and_in_axis_titles(seeded: Any) -> None:
    _, _, spec = seeded
    titles = {p["name"]: p["layer"][0]["encoding"]["y"]["axis"]["title"] for p in spec["vconcat"]}
    assert titles["temperature"] == "Temperature (°C)"
    assert titles["ferritin"] == "Ferritin (ng/mL, log)"
    assert titles["fibrinogen"] == "Fibrinogen (mg/dL)"
    assert titles["crp"] == "CRP (mg/L)"
    assert titles["sbp"] == "SBP (mmHg)"
    # 101.3 [degF] is drawn as 38.5 °C.
    assert [row["max"] for row in spec["datasets"]["temperature"]] == [38.5, 38.2, 39.5]


def test_maximum_temperature_per_24h(seeded: Any) -> None:
    _, _, spec = seeded
    tmax = spec["datasets"]["temperature_max_24h"]
    assert [(row["period"], row["value"], row["day"]) for row in tmax] == [
        # Drawn when measured (decision 0051): 38.5 at 52 h beats 38.2 at 60 h; 39.5 at 72 h.
        ("day 2", 38.5, round(52 / 24, 5)),
        ("day 3", 39.5, 3.0),
    ]
    assert tmax[1]["time"] == "2024-01-04T08:00:00Z"


def test_labs_keep_values_and_times(seeded: Any) -> None:
    _, _, spec = seeded
    ferritin = spec["datasets"]["ferritin"]
    assert [(row["day"], row["value"]) for row in ferritin] == [(-1.0, 885.0), (2.0, 22544.0)]
    assert panel(spec, "ferritin")["layer"][0]["encoding"]["y"]["scale"] == {"type": "log"}
    assert [row["value"] for row in spec["datasets"]["fibrinogen"]] == [455.0, 100.0]


def test_bars_for_vasoactives_oxygen_and_ventilation(seeded: Any) -> None:
    _, _, spec = seeded
    high = panel(spec, "grades")["layer"][0]["encoding"]["x"]["scale"]["domain"][1]
    bars = {(row["lane"], row["kind"]): row for row in spec["datasets"]["intervals"]}
    pressor = bars[("vasoactive: norepinephrine", "vasoactive")]
    assert (pressor["start"], pressor["end"]) == (round(73 / 24, 5), round(90 / 24, 5))
    assert pressor["label"] == "norepinephrine 8 µg/min"
    cannula = bars[("oxygen", "nasal_cannula")]
    assert (cannula["start"], cannula["end"]) == (round(73 / 24, 5), round(80 / 24, 5))
    ventilator = bars[("ventilation", "mechanical_ventilation")]
    assert ventilator["to"] == "running"
    assert ventilator["end"] == high
    colours = panel(spec, "support")["layer"][0]["encoding"]["color"]["scale"]
    assert colours["domain"] == ["vasoactive", "nasal_cannula", "mechanical_ventilation"]


def test_markers_for_drugs_and_infusions(seeded: Any) -> None:
    _, _, spec = seeded
    markers = {row["drug"]: row for row in spec["datasets"]["markers"]}
    assert markers["tocilizumab"]["dose"] == "560 mg"
    assert markers["tocilizumab"]["day"] == round(74 / 24, 5)
    assert markers["dexamethasone"]["lane"] == "corticosteroid"
    assert markers["car_t_infusion"]["lane"] == "T-cell engager dose"
    assert markers["car_t_infusion"]["day"] == 0.0


def test_one_grade_band_per_scale_from_the_trajectory(seeded: Any) -> None:
    _, table, spec = seeded
    rows = spec["datasets"]["grades"]
    # Clinical labels, never scale ids (the scale's title without its authors).
    expected = [band_label(s.title) for s in ALL_SCALES.values()]
    assert expected[0] == "ASTCT consensus CRS grading"
    assert list(dict.fromkeys(row["band"] for row in rows)) == expected
    assert panel(spec, "grades")["layer"][0]["encoding"]["y"]["scale"]["domain"] == expected
    high = panel(spec, "grades")["layer"][0]["encoding"]["x"]["scale"]["domain"][1]
    for band in expected:
        mine = [row for row in rows if row["band"] == band]
        # Intervals tile the band: each ends where the next starts, the last at the edge.
        assert all(a["end"] == b["start"] for a, b in pairwise(mine))
        assert mine[-1]["end"] == high
    astct = table.filter((pl.col("kind") == "crs") & (pl.col("scale") == "astct2019"))
    assert (
        len([row for row in rows if row["band"] == "ASTCT consensus CRS grading"]) == astct.height
    )
    # From the pressor (73 h) ASTCT CRS is 3 on this record until the cannula turns into a
    # ventilator (80 h, positive pressure: grade 4).
    astct_rows = {row["start"]: row for row in rows if row["band"] == "ASTCT consensus CRS grading"}
    assert astct_rows[round(72 / 24, 5)]["fill"] == "2"  # SBP 82 before any pressor
    assert (astct_rows[round(73 / 24, 5)]["fill"], astct_rows[round(73 / 24, 5)]["grade"]) == (
        "3",
        "3",
    )
    assert astct_rows[round(80 / 24, 5)]["fill"] == "4"
    assert astct_rows[round(80 / 24, 5)]["from"] == "2024-01-04T16:00:00Z"


def test_undecided_grades_are_marked_with_bounds(seeded: Any) -> None:
    _, _, spec = seeded
    rows = spec["datasets"]["grades"]
    open_ = [row for row in rows if row["fill"] in ("ambiguous", "not_assessable")]
    assert open_
    for row in open_:
        assert row["grade"].endswith(f"({row['status']})")  # the shared notation
        assert row["grade"].startswith(f"{row['lower']}–{row['upper']} ")
    icans = [row for row in rows if row["band"] == "ASTCT consensus ICANS grading"]
    assert icans[0]["fill"] == "not_assessable"
    assert icans[0]["text"] == "0-4"  # long enough to carry its bounds in the bar
    bars = panel(spec, "grades")["layer"][0]
    assert bars["encoding"]["color"]["scale"]["domain"] == list(GRADE_COLOURS)
    assert "not_assessable" in bars["encoding"]["stroke"]["condition"]["test"]
    assert GRADE_COLOURS["not_assessable"] != GRADE_COLOURS["0"]


def test_scale_selection(seeded: Any) -> None:
    record, table, _ = seeded
    spec = timeline_chart(record, table, scales=["astct2019", "icans.astct2019"])
    bands = list(dict.fromkeys(row["band"] for row in spec["datasets"]["grades"]))
    assert bands == ["ASTCT consensus CRS grading", "ASTCT consensus ICANS grading"]
    assert_valid(spec)


def test_minimal_record_still_draws() -> None:
    record = timeline([ev(1, "temperature", 37.0, "Cel")])
    empty = pl.DataFrame(schema=trajectory([record]).schema).select(TRAJECTORY_SCHEMA)
    spec = timeline_chart(record, empty)
    assert [p["name"] for p in spec["vconcat"]] == ["temperature", "grades"]
    assert spec["datasets"]["grades"] == []
    assert_valid(spec)


def _month_of_vitals() -> Timeline:
    """30 days of temperature and SBP every 5 minutes (8,640 each), one spike, one dip."""
    start = datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
    events = []
    for n in range(30 * 288):
        moment = start + timedelta(minutes=5 * n)
        temperature = 40.1 if n == 1000 else 37.0 + (n % 7) * 0.1
        sbp = 70.0 if n == 5000 else 120.0 - (n % 5)
        events.append(Event(moment, "temperature", temperature, "Cel"))
        events.append(Event(moment, "sbp", sbp, "mm[Hg]"))
    patient = Patient(id="M", therapy=Therapy(kind="car_t", start=start), weight_kg=70.0)
    return Timeline(patient, tuple(events))


def test_a_month_of_five_minute_vitals_is_binned_hourly() -> None:
    record = _month_of_vitals()
    spec = timeline_chart(record, trajectory([record], scales=["astct2019"]))
    temperature = spec["datasets"]["temperature"]
    sbp = spec["datasets"]["sbp"]
    assert len(temperature) == len(sbp) == 720 <= MAX_POINTS
    assert {row["n"] for row in temperature} == {12}
    # Extremes survive the thinning: the one 40.1 °C and the one SBP of 70.
    assert max(row["max"] for row in temperature) == 40.1
    assert min(row["min"] for row in sbp) == 70.0
    spike_day = 1000 * 5 / 60 / 24
    (tmax,) = [row for row in spec["datasets"]["temperature_max_24h"] if row["value"] == 40.1]
    assert tmax["period"] == f"day {int(spike_day)}"
    assert len(spec["datasets"]["temperature_max_24h"]) == 30
    size = len(json.dumps(spec))
    assert size < 400_000, size
    assert_valid(spec)


def test_short_series_are_drawn_as_recorded(seeded: Any) -> None:
    _, _, spec = seeded
    assert [row["n"] for row in spec["datasets"]["sbp"]] == [1]
    assert "range per" not in panel(spec, "sbp")["layer"][0]["encoding"]["y"]["axis"]["title"]


# --- cytokines -------------------------------------------------------------------------


def test_cytokine_chart_is_none_without_cytokines() -> None:
    record = timeline([ev(1, "temperature", 38.4, "Cel"), ev(2, "ferritin", 900, "ng/mL")])
    assert cytokine_chart(record) is None


def test_cytokine_fold_change_with_the_lod_rule(seeded: Any) -> None:
    record, _, _ = seeded
    spec = cytokine_chart(record)
    assert spec is not None
    assert_valid(spec)
    rows = spec["datasets"]["cytokines"]
    by = {(row["cytokine"], row["day"]): row for row in rows}
    il6 = by[("il6", 1.25)]
    assert il6["y"] == pytest.approx(681 / 5)
    # il10 baseline below a LOD of 20 pg/mL: half the LOD (10) is the baseline (seed 004).
    baseline = by[("il10", round(-20 / 24, 5))]
    assert baseline["censored"] is True
    assert baseline["value"] == 10.0 and baseline["reported"] == 20.0
    assert "LOD/2" in baseline["flag"]
    assert by[("il10", 1.25)]["y"] == pytest.approx(5338 / 10)
    assert spec["layer"][0]["encoding"]["y"]["scale"] == {"type": "log"}
    assert spec["layer"][0]["encoding"]["y"]["axis"]["title"] == "Fold change from baseline (log)"
    assert spec["datasets"]["tocilizumab"] == [
        {"day": round(74 / 24, 5), "time": "2024-01-04T10:00:00Z", "dose": "560 mg"}
    ]


def test_cytokines_without_baseline_show_concentrations() -> None:
    record = timeline([ev(30, "il6", 681, "pg/mL"), ev(60, "il6", 90, "pg/mL")])
    spec = cytokine_chart(record)
    assert spec is not None
    assert_valid(spec)
    assert [row["y"] for row in spec["datasets"]["cytokines"]] == [681.0, 90.0]
    assert spec["layer"][0]["encoding"]["y"]["axis"]["title"] == "Concentration (log)"


def test_blinatumomab_axis_and_infusion_bar() -> None:
    therapy = {"kind": "blinatumomab", "start": "2024-01-01T08:00:00Z"}
    record = timeline(
        [
            ev(0, "blinatumomab", 9, "ug/d", end_hours=36),
            ev(6, "temperature", 39.8, "Cel"),
            ev(48, "temperature", 37.1, "Cel"),
        ],
        therapy=therapy,
    )
    spec = timeline_chart(record, trajectory([record]))
    (bar,) = spec["datasets"]["intervals"]
    assert (bar["lane"], bar["start"], bar["end"]) == ("blinatumomab", 0.0, 1.5)
    assert bar["label"] == "blinatumomab 9 ug/d"
    x = panel(spec, "grades")["layer"][0]["encoding"]["x"]
    assert x["axis"]["title"] == "Day since first dose (day 0 = first dose), with the date"


def test_the_chart_ends_with_the_record() -> None:
    # A 28-day infusion recorded with its planned end, observed for 6 h: the bar stops at the
    # axis edge (its end stays in the tooltip) and no grade after the last event is drawn; the
    # trajectory itself ends at the last event (docs/decisions/0030: was past the record).
    record = timeline(
        [ev(0, "blinatumomab", 9, "ug/d", end_hours=28 * 24), ev(6, "temperature", 39.8, "Cel")],
        therapy={"kind": "blinatumomab", "start": "2024-01-01T08:00:00Z"},
    )
    table = trajectory([record])
    assert table["at"].max() <= record.events[-1].time  # nothing past the record
    spec = timeline_chart(record, table)
    high = panel(spec, "grades")["layer"][0]["encoding"]["x"]["scale"]["domain"][1]
    assert high == round(6 / 24 + 1 / 24, 5)
    (bar,) = spec["datasets"]["intervals"]
    assert bar["end"] == high
    assert bar["to"] == "2024-01-29T08:00:00Z"
    assert max(row["start"] for row in spec["datasets"]["grades"]) <= 6 / 24


def test_a_record_without_events_draws_only_the_grade_bands() -> None:
    record = timeline([])
    spec = timeline_chart(record, trajectory([record]))
    assert [p["name"] for p in spec["vconcat"]] == ["grades"]
    assert {row["start"] for row in spec["datasets"]["grades"]} == {0.0}
    assert_valid(spec)
    assert cytokine_chart(record) is None


# --- v2 (issue 17; decision 0051): the now line, nothing after now, labels, ICE/CAPD track ---


def _with_now() -> tuple[Timeline, dict[str, Any], float]:
    """The seed 000-like course seen at 85 h: the ventilator and norepinephrine still run."""
    from crswatch.web._ward import up_to
    from tests.builders import at

    record = up_to(course(), at(85))
    neuro = timeline(
        [
            *[
                {k: v for k, v in e.to_dict().items() if k in ("time", "item", "value", "unit")}
                for e in record.events
                if e.item != "car_t_infusion"
            ],
            ev(76, "ice_score", 6),
            ev(82, "ice_score", 2),
            ev(82, "consciousness", "awakens_to_voice"),
        ]
    )
    spec = timeline_chart(neuro, trajectory([neuro]), now=at(85), zone=UTC)
    return neuro, spec, round(85 / 24, 5)


def test_now_line_in_every_panel_and_nothing_after_now() -> None:
    _, spec, now_day = _with_now()
    assert_valid(spec)
    low, high = panel(spec, "grades")["layer"][0]["encoding"]["x"]["scale"]["domain"]
    assert low < now_day < high
    for each in spec["vconcat"]:
        rules = [
            layer
            for layer in each["layer"]
            for layer in layer.get("layer", [layer])
            if layer.get("mark", {}).get("type") == "rule"
            and layer.get("data", {}).get("values", [{}])[0].get("label") == "now"
        ]
        assert [r["data"]["values"][0]["day"] for r in rules] == [now_day], each["name"]
    # Nothing is drawn after now: the running bars and the last grade stop at the now line.
    bars = spec["datasets"]["intervals"]
    assert max(row["end"] for row in bars) == now_day
    assert max(row["end"] for row in spec["datasets"]["grades"]) == now_day
    for name, rows in spec["datasets"].items():
        days = [row[key] for row in rows for key in ("day", "start") if key in row]
        assert all(day <= now_day for day in days), name


def test_bars_and_markers_are_labelled_with_rate_flow_and_dose() -> None:
    _, spec, _ = _with_now()
    labels = {row["label"] for row in spec["datasets"]["intervals"]}
    assert {"norepinephrine 8 µg/min", "nasal cannula 2 L/min", "mechanical ventilation"} <= labels
    support = panel(spec, "support")
    texts = [
        layer["encoding"]["text"]["field"]
        for layer in support["layer"]
        if "text" in layer.get("encoding", {})
    ]
    assert texts == ["label", "label", "dose", "dose"]  # left or right of the bar or marker
    doses = {(row["what"], row["dose"]) for row in spec["datasets"]["markers"]}
    assert ("tocilizumab", "560 mg") in doses and ("dexamethasone", "10 mg") in doses


def test_ice_track_and_time_axis_labels() -> None:
    _, spec, _ = _with_now()
    neuro = spec["datasets"]["neuro"]
    assert [(r["tool"], r["value"]) for r in neuro if r["tool"] == "ICE"] == [
        ("ICE", 6.0),
        ("ICE", 2.0),
    ]
    assert [r["text"] for r in neuro if r["tool"] == "consciousness"] == ["awakens to voice"]
    assert panel(spec, "neuro")["layer"][0]["encoding"]["y"]["scale"]["domain"] == [0, 10.0]
    # The shared axis: whole and half days, labelled "day N" with the date (site zone).
    x = panel(spec, "grades")["layer"][0]["encoding"]["x"]["axis"]
    assert x["tickMinStep"] == 0.5 and "utcFormat" in x["labelExpr"]
    assert "'day '" in x["labelExpr"]
