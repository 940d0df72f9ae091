"""Issue 15 on the dashboard: the ward's recommendation and blinatumomab panels read as a
clinician writes, and show none of the problems the issue found (checked on the test ward, a
simulated ward and a blinatumomab record), plus the sources page their citations link to."""

from __future__ import annotations

import html
import re

import jinja2
import pytest

from crswatch.references import REFERENCES
from crswatch.web._panels import PatientPanels, patient_panels
from tests.builders import ev, timeline
from tests.web.conftest import Dashboard
from tests.web.ward import NOW, make_ward, simulated_ward

#: What the issue found in the panels: internal references, code names, Python None, a
#: refused dose shown as "now", a dose shown where none is indicated.
PROBLEMS = re.compile(
    r"§|\.txt|view-large|\bseed \d|\bD\d{1,2}\b|\bNone\b|\[REFUSED|a dose now|\bug/|"
    r"min_interval_8h|max_4_total|not_started|anti il6|anti_il6|clinical-criteria|"
    r"pages not retrieved|\d\.\d{4,}"
)


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)))


@pytest.fixture(scope="module")
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("crswatch.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


@pytest.fixture(scope="module")
def ward_panels() -> dict[str, PatientPanels]:
    records = [*make_ward(), *simulated_ward(4, seed=15, now=NOW)]
    return {t.patient.id: patient_panels(t, at=NOW) for t in records}


def _section(page: str, section: str) -> str:
    found = re.search(rf'<section class="card cw-panel" id="{section}">(.*?)</section>', page, re.S)
    return _text(found.group(1)) if found else ""


def test_ward_recommendations_show_none_of_the_problems(
    environment: jinja2.Environment, ward_panels: dict[str, PatientPanels]
) -> None:
    template = environment.get_template("patient/_panels.html")
    for patient_id, panels in ward_panels.items():
        page = template.render(panels=panels)
        for section in ("panel-recommendations", "panel-regimen"):
            text = _section(page, section)
            found = PROBLEMS.search(text)
            assert found is None, (patient_id, section, found and found.group(0), text)
        for action in panels.recommendations.actions:
            if action.dose_allowed is False:
                assert not action.timing.startswith("now"), (patient_id, action.text)
                assert not action.dose.lower().startswith("tocilizumab 5"), action.dose


def test_four_doses_given_on_the_ward(ward_panels: dict[str, PatientPanels]) -> None:
    """W-TOCI4 (four doses of 560 mg, CRS grade 1 now): ACTEMRA label, the first dose and up
    to 3 additional doses; no dose is shown, and the totals say four were given."""
    rec = ward_panels["W-TOCI4"].recommendations
    assert rec.tocilizumab.startswith("4 doses given, 2,240 mg in total")
    assert "not indicated" in rec.tocilizumab
    assert not [a for a in rec.actions if a.dose.startswith("Tocilizumab")]


def test_shock_patient_dose_exactly_8_hours_after_the_last(
    ward_panels: dict[str, PatientPanels],
) -> None:
    """W-SHOCK: tocilizumab at 22 h, now 30 h: exactly 8 h later is allowed (ACTEMRA label,
    'at least 8 hours'), so the dose is due now."""
    rec = ward_panels["W-SHOCK"].recommendations
    (toci,) = [a for a in rec.actions if a.dose.startswith("Tocilizumab")]
    assert toci.dose_allowed is True and toci.dose.startswith("Tocilizumab 560 mg")


def test_calm_patient_has_no_tocilizumab_dose(ward_panels: dict[str, PatientPanels]) -> None:
    """W-CALM (CRS 0, ICE 10): no rule set indication, so no dose is shown (point 1)."""
    rec = ward_panels["W-CALM"].recommendations
    assert "not indicated" in rec.tocilizumab
    assert not [a for a in rec.actions if a.dose.startswith("Tocilizumab")]


def test_child_without_capd_is_not_told_no_action(environment: jinja2.Environment) -> None:
    """ASTCT 2019: under 12 the CAPD grades ICANS; without one the panel asks for it."""
    child = timeline([ev(24, "temperature", 37.0, "Cel"), ev(24, "sbp", 100, "mm[Hg]")],
                     age_years=8, weight_kg=25.0, height_cm=125)  # fmt: skip
    page = environment.get_template("patient/_panels.html").render(panels=patient_panels(child))
    text = _section(page, "panel-recommendations")
    assert "No action at this moment" not in text
    assert "Perform the CAPD (Cornell Assessment of Pediatric Delirium) (age 8)" in text


def test_blinatumomab_panel_in_clinical_language(environment: jinja2.Environment) -> None:
    """BLINCYTO label, CRS grade 3: interrupt; the regimen panel cites the label, not rule ids."""
    record = timeline(
        [ev(0, "blinatumomab", 9, "ug/d"), ev(24, "temperature", 38.8, "Cel"),
         ev(24, "sbp", 82, "mm[Hg]"), ev(24, "norepinephrine", 8, "ug/min"),
         ev(25, "blinatumomab", 0, "ug/d")],
        therapy={"kind": "blinatumomab", "start": "2024-01-01T08:00:00Z"},
    )  # fmt: skip
    panels = patient_panels(record)
    assert panels.regimen is not None and panels.regimen.error is None
    page = environment.get_template("patient/_panels.html").render(panels=panels)
    text = _section(page, "panel-regimen")
    assert "BLINCYTO (blinatumomab) US prescribing information" in text
    assert "µg/day" in text and PROBLEMS.search(text) is None, text
    assert "crs.g3" not in text and "BLINCYTO-current" not in text


def test_sources_page_lists_every_reference_with_its_status(dashboard: Dashboard) -> None:
    dashboard.login("viewer")
    page = dashboard.client.get("/sources")
    assert page.status_code == 200
    for ref in REFERENCES.values():
        assert f'id="{ref.id}"' in page.text
    text = _text(page.text)
    assert "not verified against the original publication" in text  # IEC-HS, Mahadeo
    assert "KYMRIAH" in text and "up to 3 additional doses" in text
    patient = dashboard.client.get("/ward/patients/W-SHOCK")
    links = set(re.findall(r'href="/sources#([\w-]+)"', patient.text))
    assert links and links <= set(REFERENCES)
