"""A patient page that cannot draw one part still draws the rest (issue 18, point 7).

Each builder of the patient view is made to raise in turn: the page is still 200 with every
other chart and panel, the broken one says so in clinical words with the request id, and the
log names the part, the error's type and the request id only (never the error's text, which
may quote patient values)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from crswatch.store import ingest_timelines
from crswatch.web import _charts, _pages, _panels
from tests.builders import ev, timeline
from tests.web.conftest import Dashboard

#: What marks each part on the page when it is drawn.
MARKERS = {
    "headline grades": 'id="crs-now"',
    "clinical course chart": 'id="chart-timeline"',
    "cytokine chart": 'id="chart-cytokines"',
    "table of every scale": 'class="cw-table cw-disagreement"',
    "recommendation panel": 'class="cw-ruleset"',
    "HLH/MAS screen panel": 'class="cw-table cw-screens"',
    "biomarker panel": 'class="cw-table cw-kinetics"',
}

#: The builder each part is drawn by (module, attribute), and the part's clinical name.
BUILDERS = [
    (_pages, "_grades", "headline grades"),
    (_charts, "timeline_chart", "clinical course chart"),
    (_charts, "cytokine_chart", "cytokine chart"),
    (_panels, "_scale_row", "table of every scale"),
    (_panels, "_recommendation_panel", "recommendation panel"),
    (_panels, "_hlh_panel", "HLH/MAS screen panel"),
    (_panels, "_biomarker_panel", "biomarker panel"),
    (_panels, "_regimen_panel", "regimen panel"),
    (_panels, "bispecific_panel", "bispecific regimen panel"),
]

SECRET = "ferritin 22544 ng/mL of W-CYTO"
PATIENT = "/ward/patients/W-CYTO"


@pytest.fixture
def ward(dashboard: Dashboard) -> Dashboard:
    """The test ward plus a patient with every part drawn: a shocked CAR T patient whose IL-6
    was measured (the ward's own patients have no cytokine results)."""
    record = timeline(
        [
            ev(-2, "il6", 4, "pg/mL"),
            ev(2, "temperature", 36.8, "Cel"),
            ev(20, "temperature", 39.2, "Cel"),
            ev(22, "tocilizumab", 560, "mg"),
            ev(24, "ferritin", 15000, "ng/mL"),
            ev(24, "il6", 900, "pg/mL"),
            ev(26, "norepinephrine", 8, "ug/min"),
            ev(28, "sbp", 96, "mm[Hg]"),
        ],
        patient_id="W-CYTO",
        therapy={"kind": "car_t", "product": "axicabtagene ciloleucel",
                 "start": "2024-01-01T08:00:00Z"},
    )  # fmt: skip
    with dashboard.store.transaction() as session:
        ingest_timelines(session, [record])
    dashboard.login("viewer")
    return dashboard


def _raiser(*_args: object, **_kwargs: object) -> Callable[..., object]:
    raise ValueError(SECRET)


def test_every_part_is_drawn_on_an_ordinary_page(ward: Dashboard) -> None:
    page = ward.client.get(PATIENT)
    assert page.status_code == 200
    assert [part for part, marker in MARKERS.items() if marker not in page.text] == []
    assert "could not be drawn" not in page.text


@pytest.mark.parametrize(("module", "name", "part"), BUILDERS, ids=[b[2] for b in BUILDERS])
def test_a_part_that_raises_leaves_the_rest_of_the_page(
    ward: Dashboard,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    module: object,
    name: str,
    part: str,
) -> None:
    monkeypatch.setattr(module, name, _raiser)
    with caplog.at_level(logging.INFO):
        page = ward.client.get(PATIENT)
    assert page.status_code == 200
    request_id = page.headers["x-request-id"]
    message = (
        f"The {part} could not be drawn; the error has been logged with request id {request_id}."
    )
    assert page.text.count(message) == 1
    assert 'role="alert"' in page.text
    missing = [other for other, marker in MARKERS.items() if marker not in page.text]
    assert missing == ([part] if part in MARKERS else [])
    # The log: the part, the error type and the request id; never the error's text.
    logged = [r.getMessage() for r in caplog.records if "not drawn" in r.getMessage()]
    assert logged == [f"patient view: {part} not drawn: ValueError (request {request_id})"]
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("crswatch")]
    assert not any("22544" in line or "W-CYTO" in line for line in ours)
    # The read is still audited as a success: the record was shown.
    with ward.store.transaction() as session:
        from sqlalchemy import select

        from crswatch.store import AuditRecord

        last = session.execute(select(AuditRecord).order_by(AuditRecord.pk.desc())).scalar()
        assert last is not None and (last.resource, last.outcome) == (
            "dashboard.patient",
            "success",
        )


def test_outside_a_request_errors_still_propagate(monkeypatch: pytest.MonkeyPatch) -> None:
    # The command line and the engines' tests see the error itself, not a message.
    from tests.web.ward import NOW, make_ward

    record = next(t for t in make_ward() if t.patient.id == "W-SHOCK")
    monkeypatch.setattr(_panels, "_hlh_panel", _raiser)
    with pytest.raises(ValueError, match="22544"):
        _panels.patient_panels(record, at=NOW)
    with pytest.raises(ValueError, match="22544"):
        _pages.patient_data(record, NOW)
