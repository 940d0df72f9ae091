"""End to end in a real headless Chromium: log in, ward, patient chart, entry, regrade, error.

The server is uvicorn on 127.0.0.1 over a temporary SQLite store holding the deterministic test
ward (``tests/web/ward.py``) and a few simulated patients.  Plain HTTP on loopback: the session
cookie is not ``Secure`` there (settings ``secure_cookies`` auto), as with ``crswatch demo``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from crswatch.api import Settings
from crswatch.store import Store, ingest_timelines
from tests.web.browser import CHROMIUM_ARGS, chromium_path, live_server
from tests.web.conftest import fill_store
from tests.web.ward import NOW, PASSWORD, simulated_ward

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("e2e")
    store = Store(f"sqlite:///{tmp / 'crswatch.db'}")
    fill_store(store)
    with store.transaction() as session:
        ingest_timelines(session, simulated_ward(3, seed=7, now=NOW))
    settings = Settings(rate_limit_per_minute=0, dashboard_now=NOW)
    with live_server(store, settings) as url:
        yield url
    store.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium_path()
    with sync_playwright() as playwright:
        # Playwright gives the browser a temporary profile of its own (no --user-data-dir).
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        # Console errors include Content-Security-Policy violations and failed loads; the 422
        # of the invalid entry is the one failure expected.
        if message.type == "error" and "status of 422" not in message.text:
            errors.append(f"{message.text} ({message.location.get('url')})")

    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", console)
    yield opened
    context.close()
    assert errors == [], f"JavaScript or console errors on the page: {errors}"


def _login(page: Page, base_url: str, role: str) -> None:
    page.goto(f"{base_url}/ward")
    expect(page).to_have_url(f"{base_url}/login?next=%2Fward")
    page.fill("#username", role)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base_url}/ward")


def test_ward_patient_chart_entry_and_error(page: Page, base_url: str) -> None:
    _login(page, base_url, "clinician")

    # The ward, graded and sorted: W-SHOCK first with ASTCT grade 3.
    rows = page.locator("#ward-table tbody tr")
    expect(rows).to_have_count(8)
    expect(rows.first).to_have_attribute("data-patient", "W-SHOCK")
    expect(page.locator('tr[data-patient="W-SHOCK"] td[data-kind="crs"]')).to_have_attribute(
        "data-grade", "3"
    )
    # The scale selector swaps the table in place (htmx), no reload.
    page.select_option("#scale", "lee2014")
    expect(page.locator("#ward-table")).to_have_attribute("data-scale", "lee2014")
    expect(page.locator('tr[data-patient="W-SHOCK"] td[data-kind="crs"]')).to_have_attribute(
        "data-status", "provisional"
    )
    page.select_option("#scale", "astct2019")
    expect(page.locator("#ward-table")).to_have_attribute("data-scale", "astct2019")

    # The patient view: fever alone is ASTCT grade 1, and the timeline chart renders.
    page.click('tr[data-patient="W-FEVER"] a')
    expect(page).to_have_url(f"{base_url}/ward/patients/W-FEVER")
    expect(page.locator("#crs-now [data-grade]")).to_have_attribute("data-grade", "1")
    chart = page.locator("#chart-timeline [data-vega-spec]")
    expect(chart).to_have_attribute("data-rendered", "true")
    assert page.locator("#chart-timeline svg").count() >= 1

    # Norepinephrine started: fever with a vasopressor is ASTCT grade 3, without a reload.
    page.click("#details-vasopressor summary")
    page.select_option("#vasopressor-drug", "norepinephrine")
    page.select_option("#vasopressor-action", "start")
    page.fill("#vasopressor-rate", "5")
    page.select_option("#vasopressor-rate_unit", "ug/min")
    page.click("#entry-vasopressor button[type=submit]")
    expect(page.locator("#entry-vasopressor .saved")).to_contain_text("norepinephrine 5 ug/min")
    expect(page.locator("#crs-now [data-grade]")).to_have_attribute("data-grade", "3")
    # The figures and panels were swapped in again with the entry, and redrawn.
    astct = page.locator('#panel-disagreement tr[data-scale="crs.astct2019"] .cw-grade-badge')
    expect(astct).to_have_text("3")
    expect(chart).to_have_attribute("data-rendered", "true")
    assert page.locator("#chart-timeline svg").count() >= 1

    # A temperature of 101 °C: the error names the field and value, what was typed stays.
    page.click("#details-vitals summary")
    page.fill("#vitals-temperature", "101")
    page.fill("#vitals-heart_rate", "92")
    page.click("#entry-vitals button[type=submit]")
    error = page.locator('#entry-vitals .error[data-field="temperature"]')
    expect(error).to_contain_text("temperature='101'")
    expect(error).to_contain_text("outside the plausible range 25-45 Cel")
    expect(page.locator("#vitals-temperature")).to_have_value("101")
    expect(page.locator("#vitals-heart_rate")).to_have_value("92")
    expect(page.locator("#crs-now [data-grade]")).to_have_attribute("data-grade", "3")


def test_viewer_sees_no_entry_button(page: Page, base_url: str) -> None:
    _login(page, base_url, "viewer")
    page.goto(f"{base_url}/ward/patients/W-CALM")
    expect(page.locator("#crs-now")).to_be_visible()
    # No entry links, no entry forms, nothing to submit but the log-out button.
    expect(page.locator(".entry-links")).to_have_count(0)
    expect(page.locator("#entries, .entry form")).to_have_count(0)
    expect(page.locator("main a[href*='/entries/']")).to_have_count(0)
    page.click("button.link")  # log out
    expect(page).to_have_url(f"{base_url}/login")


def test_missing_chromium_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.web.browser.shutil.which", lambda _name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but no chromium"):
        chromium_path()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        chromium_path()


def test_an_unchanged_ward_refresh_keeps_the_rows(page: Page, base_url: str) -> None:
    # The 30 s refresh sends the rows' ETag; a 304 must leave the table as it is (decision 0057).
    _login(page, base_url, "viewer")
    rows = page.locator("#ward-table tbody tr")
    expect(rows).to_have_count(8)
    refresh = (
        "htmx.ajax('GET', '/ward/rows', {source: '#ward-table', target: '#ward-table', "
        "swap: 'outerHTML'})"
    )
    with page.expect_response(lambda r: "/ward/rows" in r.url) as answer:
        page.evaluate(refresh)
    assert answer.value.status == 304
    assert answer.value.request.headers.get("if-none-match", "").startswith('W/"')
    page.wait_for_timeout(300)  # htmx handles the answer after the response arrives
    expect(rows).to_have_count(8)
    expect(rows.first).to_have_attribute("data-patient", "W-SHOCK")
    # Another scale is other rows: answered in full and swapped in, with their own tag.
    with page.expect_response(lambda r: "/ward/rows" in r.url) as answer:
        page.select_option("#scale", "lee2014")
    assert answer.value.status == 200
    expect(page.locator("#ward-table")).to_have_attribute("data-scale", "lee2014")
    with page.expect_response(lambda r: "/ward/rows" in r.url) as answer:
        page.evaluate(refresh)
    assert answer.value.status == 304
    page.wait_for_timeout(300)
    expect(page.locator("#ward-table")).to_have_attribute("data-scale", "lee2014")
    expect(rows).to_have_count(8)
