"""The patient view's panels: the values, their agreement with the engines, and the partials."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path
from typing import Any

import jinja2
import pytest

from crswatch.hlh import screen_timelines
from crswatch.management import recommend
from crswatch.scales import grade_notation, grade_timelines
from crswatch.timeline import Timeline
from crswatch.web._charts import timeline_chart
from crswatch.web._panels import PatientPanels, patient_panels
from tests.builders import at, ev, timeline
from tests.golden._harness import GoldenCase, load_cases

GOLDEN = Path(__file__).parents[1] / "golden"
STATIC = Path(__file__).parents[2] / "src" / "crswatch" / "web" / "static"


@pytest.fixture(scope="module")
def footnote() -> GoldenCase:
    """ASTCT footnote: 39.5 °C, one vasopressor, low-flow cannula is ASTCT grade 3."""
    (case,) = [c for c in load_cases(GOLDEN) if c.id == "P1-astct-footnote-example"]
    return case


@pytest.fixture(scope="module")
def footnote_panels(footnote: GoldenCase) -> PatientPanels:
    return patient_panels(footnote.timeline, at=footnote.at)


def blinatumomab_record(**patient: Any) -> Timeline:
    return timeline(
        [
            ev(-1, "dexamethasone", 20, "mg"),
            ev(0, "blinatumomab", 9, "ug/d"),
            ev(6, "temperature", 39.8, "Cel"),
            ev(30, "temperature", 38.9, "Cel"),
        ],
        therapy={"kind": "blinatumomab", "start": "2024-01-01T08:00:00Z"},
        **patient,
    )


@pytest.fixture(scope="module")
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("crswatch.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


# --- the scale-disagreement table -------------------------------------------------------


def test_disagreement_table_matches_the_golden_case(
    footnote: GoldenCase, footnote_panels: PatientPanels
) -> None:
    rows = {row.scale_id: row for row in footnote_panels.grades if row.syndrome == "CRS"}
    assert rows["astct2019"].shown == "3"
    for scale_id, expected in footnote.expected.items():
        row = rows[scale_id]
        if "grade" in expected:
            status = expected.get("status", "graded")
            assert (row.status, row.grade) == (status, expected["grade"]), scale_id
        else:
            assert row.status == expected["status"], scale_id
            assert [row.lower, row.upper] == expected["bounds"], scale_id
        assert sorted(row.criteria_met) == sorted(expected["criteria_met"]), scale_id


def test_deciding_criterion_is_the_papers_wording(footnote_panels: PatientPanels) -> None:
    rows = {(row.syndrome, row.scale_id): row for row in footnote_panels.grades}
    astct = rows[("CRS", "astct2019")]
    assert astct.deciding_id == "astct2019.hypotension.g3"
    assert astct.deciding == "Hypotension requiring a vasopressor with or without vasopressin"
    assert astct.deciding_source == "Lee 2019 (ASTCT), CRS grading table"
    assert rows[("CRS", "ctcae_v4")].deciding_id == "ctcae_v4.hypotension.g4"
    assert rows[("CRS", "mskcc2018")].deciding_id == "mskcc2018.hypotension.g2"
    # Lee 2014 is provisionally 2 (decision 0026): the low-dose pressor sets the grade, organ
    # toxicity (no liver labs) could raise it to 4.
    lee = rows[("CRS", "lee2014")]
    assert lee.shown == "2 (provisional, ≤ 4)"
    assert lee.deciding_id == "lee2014.hypotension.g2.low_dose"
    assert "Grade 4 organ toxicity (excluding transaminitis)" in lee.undecided
    assert any("ALT, AST" in phrase for phrase in lee.missing)
    icans = rows[("ICANS", "astct2019")]
    assert (icans.status, icans.lower, icans.upper) == ("not_assessable", 0, 4)
    assert icans.missing == ("ICE score, level of consciousness: none in the last 24 h",)
    # Nothing met: no deciding criterion, every criterion that could apply is listed.
    assert (icans.deciding, icans.deciding_id) == ("no criterion met", None)
    assert "ICE score 7-9" in icans.undecided and "Awakens to voice" in icans.undecided


def test_every_scale_is_listed_once(footnote_panels: PatientPanels) -> None:
    keys = [(row.syndrome, row.scale_id) for row in footnote_panels.grades]
    assert len(keys) == len(set(keys)) == 10
    assert keys[0] == ("CRS", "astct2019") and keys[-1] == ("ICANS", "astct2019")
    assert footnote_panels.crs_agreement == (
        "CRS grades 2 to 4 across 9 scales (on record: 2, 3, 4); 5 provisional"
    )


def test_panels_equal_the_engines_at_the_same_moment(
    footnote: GoldenCase, footnote_panels: PatientPanels
) -> None:
    (graded,) = grade_timelines([footnote.timeline], at=footnote.at)
    for row in footnote_panels.grades:
        result = (graded.crs if row.syndrome == "CRS" else graded.icans)[row.scale_id]
        assert (row.status, row.grade, (row.lower, row.upper)) == (
            result.status,
            result.grade,
            result.bounds,
        )
    advice = recommend(footnote.timeline, footnote.at, with_regimen=False)
    assert [a.text for a in footnote_panels.recommendations.actions] == [
        a.text for a in advice.actions
    ]
    (screens,) = screen_timelines([footnote.timeline], footnote.at)
    assert [s.status for s in footnote_panels.hlh.screens] == [
        r.status for r in screens.results.values()
    ]


def test_default_moment_is_the_last_event(footnote: GoldenCase) -> None:
    record = footnote.timeline
    assert patient_panels(record).at == record.events[-1].time
    before = patient_panels(record, at=at(72 + 0.5))
    rows = {row.scale_id: row for row in before.grades if row.syndrome == "CRS"}
    assert before.at_text == "2024-01-04T08:30:00Z"
    assert before.day == 3.02
    assert rows["astct2019"].grade == 2  # hypotension without a vasopressor yet


# --- recommendations, screens and biomarkers ---------------------------------------------


def test_recommendations_carry_doses_and_sources(footnote_panels: PatientPanels) -> None:
    rec = footnote_panels.recommendations
    assert rec.ruleset_id == "astct_era"
    assert rec.chosen_by == "the default for CAR T"
    assert rec.crs == "3 (ASTCT consensus CRS grading)"
    toci = [a for a in rec.actions if a.category == "anti-IL-6 therapy"]
    # ACTEMRA label: 8 mg/kg x 70 kg = 560 mg, now (issue 15: a sentence, clinical units).
    assert toci and toci[0].dose.startswith("Tocilizumab 560 mg IV over 60 minutes, now")
    assert toci[0].dose_basis == "8 mg/kg × 70 kg = 560 mg"
    assert toci[0].dose_allowed is True
    assert all(a.reference and a.verification for a in rec.actions)
    assert all(a.sources for a in rec.actions)  # every citation links to the sources page
    assert [a.priority for a in rec.actions] == sorted(a.priority for a in rec.actions)
    assert rec.tocilizumab.startswith("0 doses given; indicated: Tocilizumab 560 mg")
    assert rec.legend and "provisional" in " ".join(rec.legend)


def test_hlh_screens_label_iechs_unverified(footnote_panels: PatientPanels) -> None:
    screens = {s.screen: s for s in footnote_panels.hlh.screens}
    assert list(screens) == ["hlh2004", "hscore", "carhlh", "iechs"]
    assert screens["iechs"].verified is False
    assert screens["iechs"].label.endswith("(not verified)")
    assert screens["iechs"].label.startswith("IEC-HS")
    assert all(s.verified for k, s in screens.items() if k != "iechs")
    assert all(s.sources for s in screens.values())
    assert screens["hlh2004"].criteria_met == ("Fever",)
    assert footnote_panels.hlh.any_met is False


def test_hlh_course_says_when_a_screen_was_first_met(environment: jinja2.Environment) -> None:
    # clinical-criteria §6.3 D34 (tests/hlh/golden/carhlh.yaml): ferritin 15,000 ng/mL with
    # grade 3 AST and creatinine meets carHLH.
    record = timeline(
        [
            ev(24, "temperature", 38.6, "Cel"),
            ev(96, "ferritin", 15000, "ng/mL"),
            ev(96, "ast", 250, "U/L", ref_high=40),
            ev(96, "creatinine", 4.0, "mg/dL", ref_high=1.2),
            ev(100, "temperature", 37.6, "Cel"),
        ]
    )
    quick = patient_panels(record)
    assert quick.hlh.first_met_computed is False
    assert {s.screen: s.first_met for s in quick.hlh.screens}["carhlh"] is None
    full = patient_panels(record, hlh_course=True)
    screens = {s.screen: s for s in full.hlh.screens}
    assert full.hlh.first_met_computed is True
    assert screens["carhlh"].status == "met"
    assert screens["carhlh"].first_met == "2024-01-05T08:00:00Z"
    assert full.hlh.any_met is True
    page = environment.get_template("patient/_panels.html").render(panels=full)
    assert "met (first met 2024-01-05T08:00:00Z)" in _text(page)


def test_biomarker_kinetics_and_flags() -> None:
    record = timeline(
        [
            ev(-12, "ferritin", 885, "ng/mL"),
            ev(24, "ferritin", 4000, "ng/mL"),
            ev(48, "ferritin", 22544, "ng/mL"),
            ev(24, "crp", 80, "mg/L"),
            ev(48, "crp", 160, "mg/L"),
        ]
    )
    bio = patient_panels(record).biomarkers
    rows = {row.item: row for row in bio.analytes}
    assert set(rows) == {"ferritin", "crp"}
    assert rows["ferritin"].n == 3
    assert rows["ferritin"].fold_change == round(22544 / 885, 1)  # shown to 1 decimal
    assert rows["ferritin"].peak == "22,544 (day 2.0)"
    assert rows["ferritin"].baseline == "885 (day -0.5)"
    assert any(f.item == "ferritin" and "10,000" in f.message for f in bio.flags)
    assert all(f.source for f in bio.flags)
    assert bio.crp_peak == "CRP peak not yet passed"
    assert "Nägele et al., Exp Hematol Oncol 2017" in bio.lod_rule  # a citation, not a file


# --- blinatumomab --------------------------------------------------------------------------


def test_regimen_panel_only_for_blinatumomab(footnote_panels: PatientPanels) -> None:
    assert footnote_panels.regimen is None
    panels = patient_panels(blinatumomab_record())
    regimen = panels.regimen
    assert regimen is not None and regimen.error is None
    assert regimen.state == "infusing"
    assert (regimen.cycle, regimen.cycle_day) == (1, 2)
    assert regimen.rate == "9 µg/day"
    assert regimen.dose_due.startswith("9 µg/day")
    assert regimen.label_source
    assert panels.recommendations.ruleset_id == "blinatumomab_label"


def test_regimen_panel_says_why_it_could_not_be_computed() -> None:
    record = blinatumomab_record()
    light = dataclasses.replace(record, patient=dataclasses.replace(record.patient, weight_kg=None))
    regimen = patient_panels(light).regimen
    assert regimen is not None
    assert regimen.error and "weight" in regimen.error


# --- the partials --------------------------------------------------------------------------


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)))


def test_panels_partial_renders_tables_and_labels(
    environment: jinja2.Environment, footnote_panels: PatientPanels
) -> None:
    page = environment.get_template("patient/_panels.html").render(panels=footnote_panels)
    for section in ("panel-disagreement", "panel-recommendations", "panel-hlh", "panel-biomarkers"):
        assert f'id="{section}"' in page
    assert 'id="panel-regimen"' not in page
    row = re.search(r'<tr data-scale="crs.astct2019"[^>]*>(.*?)</tr>', page, re.S)
    assert row is not None
    cells = _text(row.group(1))
    assert "ASTCT consensus CRS grading (2019)" in cells
    assert " 3 " in cells
    assert "Hypotension requiring a vasopressor with or without vasopressin" in cells
    assert "Lee 2019 (ASTCT), CRS grading table" in cells
    assert 'data-status="provisional"' in page
    text = _text(page)
    assert "2 (provisional, ≤ 4)" in text
    # Lee 2014's grade in the shared notation (crswatch.scales.grade_notation): 2 to 4.
    lee = next(r for r in footnote_panels.grades if r.scale_id == "lee2014")
    assert (lee.lower, lee.upper) == (2, 4)
    assert lee.shown == grade_notation(lee.grade, lee.status, 2, 4) and lee.shown in text
    # The legend of the notation under the grade table.
    assert "0–2 (not assessable): the documented findings fix no grade" in text
    assert "unverified" in text
    assert "Tocilizumab 560 mg IV over 60 minutes, now" in text
    assert 'href="/sources#actemra-label"' in page  # citations link to the sources page
    assert "Hines 2023" in text


def test_panels_partial_renders_the_regimen(environment: jinja2.Environment) -> None:
    panels = patient_panels(blinatumomab_record(), at=at(30))
    page = environment.get_template("patient/_panels.html").render(panels=panels)
    assert 'id="panel-regimen"' in page
    assert "infusing, cycle 1 day 2" in _text(page)


def test_panels_partial_escapes_record_text(environment: jinja2.Environment) -> None:
    # The contract no longer admits such an id (docs/decisions/0036); escaping is still the
    # page's own defence, so the record is built around the reader.
    valid = timeline([ev(1, "temperature", 38.4, "Cel")])
    record = dataclasses.replace(valid, patient=dataclasses.replace(valid.patient, id="<b>P&1</b>"))
    page = environment.get_template("patient/_panels.html").render(panels=patient_panels(record))
    assert "<b>P&1</b>" not in page
    assert "&lt;b&gt;P&amp;1&lt;/b&gt;" in page


def test_chart_partials_carry_the_spec_as_json(
    environment: jinja2.Environment, footnote: GoldenCase
) -> None:
    from crswatch.episodes import trajectory

    spec = timeline_chart(footnote.timeline, trajectory([footnote.timeline]))
    page = environment.get_template("patient/_chart_timeline.html").render(spec=spec)
    match = re.search(r"data-vega-spec='([^']*)'", page)
    assert match is not None
    assert json.loads(html.unescape(match.group(1))) == spec
    for name in ("_chart_timeline.html", "_chart_cytokines.html"):
        empty = environment.get_template(f"patient/{name}").render(spec=None)
        assert "data-vega-spec" not in empty


def test_chart_script_contract() -> None:
    script = (STATIC / "crswatch-charts.js").read_text(encoding="utf-8")
    assert 'vegaEmbed(el, spec, { actions: false, renderer: "svg" })' in script
    assert '"data-rendered", "true"' in script
    assert '"data-render-error"' in script
    assert '"htmx:afterSwap"' in script
    assert "DOMContentLoaded" in script


def test_a_record_without_events_still_has_panels(environment: jinja2.Environment) -> None:
    record = timeline([])
    panels = patient_panels(record)
    assert panels.at_text == "2024-01-01T08:00:00Z"  # the therapy start, as the commands
    assert all(row.status != "graded" for row in panels.grades if row.syndrome == "CRS")
    assert panels.crs_agreement == "CRS grades 0 to 4 across 9 scales; 9 not decided"
    assert panels.biomarkers.analytes == ()
    page = environment.get_template("patient/_panels.html").render(panels=panels)
    assert "No laboratory results yet." in page
