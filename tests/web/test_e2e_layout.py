"""The dashboard v2 in a real headless Chromium at a desktop and a phone size (issue 17).

Each page is checked at 1440×900 and 390×844: content (the deciding findings, the zone, the now
line, the ICE track), layout (nothing wider than the viewport: no horizontal scrolling) and
accessibility (axe-core, WCAG 2.1 A/AA rules: no serious or critical violation).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from crswatch.api import Settings
from crswatch.store import Store
from tests.web.browser import CHROMIUM_ARGS, chromium_path, live_server
from tests.web.conftest import fill_store
from tests.web.ward import NOW, PASSWORD

pytestmark = pytest.mark.slow

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
#: axe-core rule tags of WCAG 2.0 and 2.1, levels A and AA.
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('layout') / 'crswatch.db'}")
    fill_store(store)
    # A site zone other than UTC: every page must convert and name it.
    settings = Settings(rate_limit_per_minute=0, dashboard_now=NOW, site_timezone="Europe/Berlin")
    with live_server(store, settings) as url:
        yield url
    store.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(params=sorted(SIZES))
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


def _login(page: Page, base_url: str, role: str, target: str = "/ward") -> None:
    page.goto(f"{base_url}/login?next={target}")
    page.fill("#username", role)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base_url}{target}")


def _no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > width + 1
                           && getComputedStyle(e).position !== 'absolute'
                           && e.getClientRects().length)
              .map(e => e.tagName + '.' + e.className + '#' + e.id);
            return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
        }"""
    )
    assert overflow["scroll"] <= overflow["width"], overflow
    assert overflow["wide"] == [], overflow


def _accessible(page: Page) -> None:
    results: Any = Axe().run(page, options=WCAG_AA)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], bad


def test_login_page(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/login")
    expect(page.locator("#username")).to_be_visible()
    _no_horizontal_scroll(page)
    _accessible(page)


def test_ward_says_why_and_fits_the_screen(page: Page, base_url: str) -> None:
    _login(page, base_url, "clinician")
    shock = page.locator('tr[data-patient="W-SHOCK"]')
    # The deciding findings in the patient's values and times, in the site's zone (CET = UTC+1).
    expect(shock.locator('[data-why="crs"]')).to_contain_text("norepinephrine 8 µg/min since 11:00")
    expect(shock.locator('[data-why="crs"]')).to_contain_text("Tmax 39.2 °C (05:00)")
    expect(shock.locator('[data-open="icans"]')).to_contain_text("missing ICE score")
    expect(shock.locator('[data-seen="neuro"]')).to_have_attribute("data-stale", "true")
    expect(page.locator("#ward-caption")).to_contain_text("Europe/Berlin (CET)")
    expect(page.locator("#ward-caption")).to_contain_text("2024-01-02 15:00 CET")
    _no_horizontal_scroll(page)
    _accessible(page)
    # Changing the scale swaps caption and grades together.
    page.select_option("#scale", "lee2014")
    expect(page.locator("#ward-table")).to_have_attribute("data-scale", "lee2014")
    expect(page.locator("#ward-caption")).to_contain_text("Lee")


def test_patient_page_grades_figure_and_layout(page: Page, base_url: str) -> None:
    _login(page, base_url, "clinician", "/ward/patients/W-ICANS")
    expect(page.locator('#icans-now [data-why="icans"]')).to_contain_text("ICE 5/10 (13:30)")
    expect(page.locator('#crs-now [data-why="crs"]')).to_contain_text("Tmax 38.3 °C")
    chart = page.locator("#chart-timeline [data-vega-spec]")
    expect(chart).to_have_attribute("data-rendered", "true")
    # The now line is drawn, labelled, at the right end of the plotted time.
    now_label = page.locator("#chart-timeline svg text", has_text="now").first
    expect(now_label).to_be_visible()
    # The ICE track is present (its axis title), and the table view holds its values.
    expect(page.locator("#chart-timeline svg text", has_text="ICE score").first).to_be_visible()
    expect(page.locator("#chart-timeline-table")).to_contain_text("ICE / CAPD")
    _no_horizontal_scroll(page)
    _accessible(page)


def test_entry_form(page: Page, base_url: str) -> None:
    _login(page, base_url, "clinician", "/ward/patients/W-FEVER/entries/vitals")
    expect(page.locator("label[for=vitals-time]")).to_contain_text("Europe/Berlin")
    _no_horizontal_scroll(page)
    _accessible(page)


def test_viewer_has_no_entry(page: Page, base_url: str) -> None:
    _login(page, base_url, "viewer", "/ward/patients/W-SHOCK")
    expect(page.locator("#crs-now")).to_be_visible()
    expect(page.locator("a[href*='/entries/'], .entry form")).to_have_count(0)
    page.goto(f"{base_url}/ward/patients/W-SHOCK/entries/vitals")
    expect(page.locator("main")).to_contain_text("clinician")
