"""The dashboard over HTTP (TestClient): login, CSRF, roles, ward, patient view, entries."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crswatch.api import Settings, create_app
from crswatch.store import AuditRecord, Store, load_timeline, verify_chain
from tests.web.conftest import Dashboard, csrf_of
from tests.web.ward import NOW, PASSWORD

HX = {"HX-Request": "true"}


def _audit(store: Store) -> list[AuditRecord]:
    with store.transaction() as session:
        return list(session.execute(select(AuditRecord).order_by(AuditRecord.pk)).scalars())


def _crs_now(html: str) -> str:
    found = re.search(r'id="crs-now">.*?data-status="(\w+)"(?: data-grade="(\d)")?', html, re.S)
    assert found, "no CRS grade on the page"
    return found.group(2) or found.group(1)


def test_logged_out_pages_redirect_to_login(dashboard: Dashboard) -> None:
    response = dashboard.client.get("/ward?scale=lee2014", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fward%3Fscale%3Dlee2014"
    # htmx requests (the 30 s refresh) are told to reload to the login page instead.
    fragment = dashboard.client.get("/ward/rows", headers=HX, follow_redirects=False)
    assert (fragment.status_code, fragment.headers["hx-redirect"]) == (401, "/login")
    assert dashboard.client.get("/", follow_redirects=False).headers["location"] == "/ward"


def test_login_sets_a_session_cookie_and_logout_ends_it(dashboard: Dashboard) -> None:
    page = dashboard.client.get("/login")
    response = dashboard.client.post(
        "/login",
        data={
            "username": "viewer",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/ward/patients/W-CALM",
        },
        follow_redirects=False,
    )
    assert (response.status_code, response.headers["location"]) == (303, "/ward/patients/W-CALM")
    cookie = response.headers["set-cookie"].lower()
    assert "crswatch_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    ward = dashboard.client.get("/ward")
    assert ward.status_code == 200 and "viewer" in ward.text
    assert (ward.headers["cache-control"], ward.headers["x-frame-options"]) == ("no-store", "DENY")
    policy = ward.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-eval'" in policy and "frame-ancestors 'none'" in policy
    logout = dashboard.client.post(
        "/logout", data={"csrf_token": csrf_of(ward.text)}, follow_redirects=False
    )
    assert logout.headers["location"] == "/login"
    assert dashboard.client.get("/ward", follow_redirects=False).status_code == 303
    actions = [(r.actor, r.resource, r.outcome) for r in _audit(dashboard.store)]
    assert ("viewer", "dashboard.login", "success") in actions
    assert ("viewer", "dashboard.logout", "success") in actions


def test_wrong_password_keeps_the_username(dashboard: Dashboard) -> None:
    page = dashboard.client.get("/login")
    response = dashboard.client.post(
        "/login",
        data={"username": "viewer", "password": "nope", "csrf_token": csrf_of(page.text)},
    )
    assert response.status_code == 401
    assert "unknown user or wrong password" in response.text
    assert 'value="viewer"' in response.text
    assert _audit(dashboard.store)[-1].outcome == "failure"


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example", "/\t/evil.example", "/\\evil.example"]
)
def test_open_redirects_are_refused(dashboard: Dashboard, target: str) -> None:
    page = dashboard.client.get("/login")
    response = dashboard.client.post(
        "/login",
        data={
            "username": "viewer",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": target,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/ward"


def test_posts_without_or_with_a_wrong_csrf_token_are_rejected(dashboard: Dashboard) -> None:
    page = dashboard.client.get("/login")
    no_token = dashboard.client.post("/login", data={"username": "viewer", "password": PASSWORD})
    assert no_token.status_code == 403 and "csrf_token" in no_token.text
    token = dashboard.login("clinician")
    entry = {"drug": "norepinephrine", "action": "start", "rate": "5", "rate_unit": "ug/min"}
    url = "/ward/patients/W-FEVER/entries/vasopressor"
    assert dashboard.client.post(url, data=entry).status_code == 403
    assert dashboard.client.post(url, data={**entry, "csrf_token": "forged"}).status_code == 403
    assert dashboard.client.post(url, data=entry, headers={"X-CSRF-Token": "x"}).status_code == 403
    # The login page's token is replaced at login: a token seen before login is useless.
    stale = dashboard.client.post(url, data={**entry, "csrf_token": csrf_of(page.text)})
    assert stale.status_code == 403
    with dashboard.store.transaction() as session:
        stored = load_timeline(session, "W-FEVER")
    assert stored is not None and not stored.of("norepinephrine")
    # The header form (what htmx sends from hx-headers) is accepted.
    ok = dashboard.client.post(url, data=entry, headers={**HX, "X-CSRF-Token": token})
    assert ok.status_code == 200


def test_entries_need_the_clinician_role(dashboard: Dashboard) -> None:
    token = dashboard.login("viewer")
    url = "/ward/patients/W-FEVER/entries/vitals"
    response = dashboard.client.post(url, data={"csrf_token": token, "heart_rate": "90"})
    assert response.status_code == 403 and "clinician" in response.text
    refused = dashboard.client.get(url)
    assert refused.status_code == 403 and "Back to the ward" in refused.text
    # Each refusal is audited: who, what, refused, for which patient.
    failures = [r for r in _audit(dashboard.store) if r.outcome == "failure"]
    assert [(r.actor, r.patient_id) for r in failures[-2:]] == [("viewer", "W-FEVER")] * 2
    assert failures[-1].resource == "dashboard.ward.patients.W-FEVER.entries.vitals"
    # A viewer is offered no entry: no links, no forms.
    view = dashboard.client.get("/ward/patients/W-FEVER")
    assert view.status_code == 200
    assert "/entries/" not in view.text and "<form" not in view.text.split("</header>", 1)[1]


def test_ward_page_and_fragment(dashboard: Dashboard) -> None:
    dashboard.login("viewer")
    page = dashboard.client.get("/ward")
    assert page.status_code == 200
    order = re.findall(r'<tr class="sev-\d" data-patient="([^"]+)"', page.text)
    assert order == ["W-SHOCK", "W-ICANS", "W-TOCI4", "W-FEVER", "W-CALM"]
    assert 'hx-trigger="every 30s"' in page.text and 'hx-get="/ward/rows"' in page.text
    assert "2024-01-02 14:00 UTC" in page.text  # the settings' "now"
    assert "Ferritin &gt; 10,000" in page.text and "Toci 4/4" in page.text
    fragment = dashboard.client.get("/ward/rows?scale=lee2014", headers=HX)
    assert fragment.text.lstrip().startswith('<section id="ward-table"')
    assert "<html" not in fragment.text
    lee = re.search(
        r'data-patient="W-SHOCK".*?data-kind="crs" data-status="(\w+)"', fragment.text, re.S
    )
    assert lee and lee.group(1) == "provisional"
    assert dashboard.client.get("/ward?scale=nope").status_code == 422
    resources = [r.resource for r in _audit(dashboard.store)]
    assert resources.count("dashboard.ward") == 3  # login's landing page, the page, the fragment


def test_patient_view(dashboard: Dashboard) -> None:
    dashboard.login("clinician")
    page = dashboard.client.get("/ward/patients/W-SHOCK")
    assert page.status_code == 200
    assert _crs_now(page.text) == "3"
    assert "data-vega-spec=" in page.text and 'id="panel-disagreement"' in page.text
    for kind in ("vitals", "oxygen", "vasopressor", "drug", "neuro"):
        assert f'action="/ward/patients/W-SHOCK/entries/{kind}"' in page.text
    assert dashboard.client.get("/ward/patients/NOPE").status_code == 404
    reads = [(r.resource, r.patient_id) for r in _audit(dashboard.store)]
    assert ("dashboard.patient", "W-SHOCK") in reads
    assert verify_chain(_audit(dashboard.store)).ok


def test_vasopressor_entry_is_stored_and_regraded(dashboard: Dashboard) -> None:
    token = dashboard.login("clinician")
    url = "/ward/patients/W-FEVER/entries/vasopressor"
    assert _crs_now(dashboard.client.get("/ward/patients/W-FEVER").text) == "1"
    response = dashboard.client.post(
        url,
        data={
            "csrf_token": token,
            "drug": "norepinephrine",
            "action": "start",
            "rate": "0.1",
            "rate_unit": "ug/kg/min",
            "time": "",
        },
        headers=HX,
    )
    assert response.status_code == 200
    # The fragment: the cleared form with a confirmation, and the regraded panel out of band.
    assert "Saved 1 event (norepinephrine 0.1 ug/kg/min = 7 ug/min" in response.text
    assert (
        'id="grade-panel" class="card grades" aria-label="Grades now" hx-swap-oob="true"'
        in response.text
    )
    assert _crs_now(response.text) == "3"
    assert '<section class="card charts" id="charts" hx-swap-oob="true">' in response.text
    assert '<section class="panels" id="panels" hx-swap-oob="true">' in response.text
    with dashboard.store.transaction() as session:
        stored = load_timeline(session, "W-FEVER")
    assert stored is not None
    (event,) = stored.of("norepinephrine")
    assert (event.time, event.value, event.unit) == (NOW, 7.0, "ug/min")  # 0.1 x 70 kg
    assert (event.original_value, event.original_unit) == ("0.1", "ug/kg/min")
    assert event.source == "dashboard:clinician"
    assert len(stored.events) == 9 + 1  # nothing stored before was lost
    last = _audit(dashboard.store)[-1]
    assert (last.action, last.resource, last.patient_id, last.outcome) == (
        "create",
        "dashboard.entry.vasopressor",
        "W-FEVER",
        "success",
    )
    # Stopping it records a rate of 0 at the new time.
    stop = dashboard.client.post(
        url,
        data={
            "csrf_token": token,
            "drug": "norepinephrine",
            "action": "stop",
            "time": "2024-01-02T14:05",
        },
        headers=HX,
    )
    assert stop.status_code == 200 and "norepinephrine 0 ug/min" in stop.text


def test_invalid_entry_keeps_what_was_typed(dashboard: Dashboard) -> None:
    token = dashboard.login("clinician")
    url = "/ward/patients/W-FEVER/entries/vitals"
    data = {
        "csrf_token": token,
        "temperature": "101",
        "temp_unit": "Cel",
        "heart_rate": "88",
        "time": "2024-01-02T13:30",
    }
    for headers in (HX, {}):
        response = dashboard.client.post(url, data=data, headers=headers)
        assert response.status_code == 422
        assert "temperature=&#39;101&#39;: 101 Cel is outside the plausible range 25-45 Cel" in (
            response.text
        )
        assert 'value="101"' in response.text and 'value="88"' in response.text
        assert 'value="2024-01-02T13:30"' in response.text
        # Nothing saved: nothing else on the page changes.
        assert ("hx-swap-oob" in response.text) is False
    with dashboard.store.transaction() as session:
        stored = load_timeline(session, "W-FEVER")
    assert stored is not None and not stored.of("heart_rate")  # nothing of the entry stored
    last = _audit(dashboard.store)[-1]
    assert (last.outcome, last.detail) == ("failure", "rejected: temperature")


def test_full_page_entry_redirects_after_saving(dashboard: Dashboard) -> None:
    token = dashboard.login("clinician")
    response = dashboard.client.post(
        "/ward/patients/W-CALM/entries/neuro",
        data={"csrf_token": token, "ice_score": "6", "consciousness": "awakens_to_voice"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ward/patients/W-CALM?saved=neuro#entry-neuro"
    page = dashboard.client.get(response.headers["location"])
    assert 'id="icans-now"' in page.text
    icans = re.search(r'id="icans-now">.*?data-grade="(\d)"', page.text, re.S)
    assert icans and icans.group(1) == "2"


def test_conflicting_entry_is_reported_on_the_time_field(dashboard: Dashboard) -> None:
    token = dashboard.login("clinician")
    url = "/ward/patients/W-FEVER/entries/vitals"
    # W-FEVER has a temperature of 38.6 at 2024-01-02 12:00 already.
    data = {"csrf_token": token, "temperature": "37.0", "time": "2024-01-02T12:00"}
    no_unit = dashboard.client.post(url, data=data, headers=HX)
    assert no_unit.status_code == 422
    assert "temp_unit=&#39;&#39;: a UCUM unit is required for item &#39;temperature&#39;" in (
        no_unit.text
    )
    response = dashboard.client.post(url, data={**data, "temp_unit": "Cel"}, headers=HX)
    assert response.status_code == 422
    assert "stored events are never overwritten" in response.text


def test_secure_cookie_by_default_off_loopback(ward_store: Store) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(create_app(ward_store, Settings(rate_limit_per_minute=0)))
    page = client.get("/login")
    assert "secure" in page.headers["set-cookie"].lower()
    assert "session cookie is sent only over HTTPS" in page.text  # plain HTTP off loopback
    loopback = TestClient(
        create_app(ward_store, Settings(rate_limit_per_minute=0)), base_url="http://127.0.0.1"
    )
    local = loopback.get("/login")
    assert "secure" not in local.headers["set-cookie"].lower()
    assert "only over HTTPS" not in local.text


def test_static_vendor_files_are_served(dashboard: Dashboard) -> None:
    for name in (
        "htmx-2.0.11.min.js",
        "vega-6.4.0.min.js",
        "vega-lite-6.5.0.min.js",
        "vega-embed-7.3.0.min.js",
    ):
        response = dashboard.client.get(f"/static/vendor/{name}")
        assert response.status_code == 200 and len(response.content) > 10_000
    assert dashboard.client.get("/static/crswatch.css").status_code == 200


def test_dashboard_is_not_in_the_openapi_document(dashboard: Dashboard) -> None:
    paths = dashboard.client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith(("/ward", "/login", "/logout"))]
    assert "/patients/{patient_id}/grade" in paths
