"""The patient view's step-up bispecific regimen panel: its values and its partial."""

from __future__ import annotations

import html
import re

import jinja2
import pytest

from crswatch.regimens import regimen_status
from crswatch.timeline import Timeline
from crswatch.web._bispecific_panel import bispecific_panel
from crswatch.web._panels import patient_panels
from tests.builders import at, ev, timeline


def mosunetuzumab_on_six_litres() -> Timeline:
    """Fever and 6 L/min by cannula after step-up dose 1: ASTCT grade 2, label grade 3."""
    vitals = [
        ev(10, "temperature", 38.7, "Cel"),
        ev(10, "sbp", 118, "mm[Hg]"),
        ev(10, "spo2", 95, "%"),
    ]
    return timeline(
        [
            ev(-2, "dexamethasone", 20, "mg"),
            ev(0, "mosunetuzumab", 1, "mg"),
            *vitals,
            ev(11, "o2_device", "nasal_cannula"),
            ev(11, "o2_flow", 6, "L/min"),
        ],
        therapy={"kind": "bispecific", "product": "mosunetuzumab", "start": "2024-01-01T08:00:00Z"},
    )


@pytest.fixture(scope="module")
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("crswatch.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def _text(markup: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)))


def test_panel_values_are_the_regimen_status() -> None:
    record = mosunetuzumab_on_six_litres()
    panel = bispecific_panel(record, at(12))
    status = regimen_status(record, at(12)).to_dict()
    assert panel is not None and panel.error is None
    assert panel.product == "mosunetuzumab (LUNSUMIO)"
    assert panel.state == status["state"].replace("_", " ")
    assert [row.name for row in panel.doses] == ["step-up dose 1", "next: step-up dose 2"]
    assert panel.doses[0].given == "1 mg"
    assert "diphenhydramine: missing" in panel.doses[0].premedication
    assert panel.label_reading.startswith("Label reading: CRS grade 3")
    assert panel.grades.startswith("CRS 2")
    assert any("not verified" in text for text in panel.actions)
    assert panel.unverified


def test_panel_only_for_step_up_bispecifics() -> None:
    car_t = timeline([ev(1, "temperature", 38.4, "Cel")])
    assert bispecific_panel(car_t, at(2)) is None
    other = timeline(
        [ev(1, "temperature", 38.4, "Cel")],
        therapy={"kind": "bispecific", "product": "tebentafusp", "start": "2024-01-01T08:00:00Z"},
    )
    assert bispecific_panel(other, at(2)) is None


def test_partial_renders_monitoring_window(environment: jinja2.Environment) -> None:
    record = timeline(
        [ev(-2, "dexamethasone", 16, "mg"), ev(0, "teclistamab", 4.8, "mg")],
        therapy={"kind": "bispecific", "product": "teclistamab", "start": "2024-01-01T08:00:00Z"},
        weight_kg=80.0,
    )
    panels = patient_panels(record, at=at(3))
    assert panels.bispecific is not None
    page = environment.get_template("patient/_panels.html").render(panels=panels)
    assert 'id="panel-bispecific"' in page
    text = _text(page)
    assert "in monitoring window until 2024-01-03T08:00:00Z" in text
    assert "None" not in text
