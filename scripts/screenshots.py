"""Screenshots of the dashboard at a desktop and a phone size, in docs/screenshots/.

``ward.png`` and ``patient.png`` (1360 px wide), ``ward-phone.png`` and ``patient-phone.png``
(390 × 844, a phone).  Serves the dashboard (uvicorn on 127.0.0.1, a free port) over a temporary
SQLite store holding the synthetic demo ward (``crswatch.simulate.demo_ward``, fixed seed and
clock, so the pictures are reproducible), logs in with Debian's headless chromium through
Playwright and saves the ward and the most severe patient's view.

    python scripts/screenshots.py [--out docs/screenshots] [--patients 24]

Needs the test extras (``pip install -e '.[test]'``: Playwright) and ``chromium`` on PATH.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from crswatch.api import Settings
from crswatch.simulate import DEMO_SEED, demo_ward
from crswatch.store import Store, create_user, ingest_timelines

# The browser tests' live server and Chromium flags, so the pictures come from the same setup.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.web.browser import CHROMIUM_ARGS, live_server

#: The ward's clock: fixed, so that the same pictures come out every time.
CLOCK = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
USER, PASSWORD = "screenshots", "screenshots-password"
#: The patient picture's height (pixels from the top of the page).
PATIENT_HEIGHT = 2600
#: The pictures' viewports: name suffix, width, height.
SIZES = (("", 1360, 900), ("-phone", 390, 844))
#: The site's zone in the pictures (the demo ward's clock is UTC).
ZONE = "UTC"


def take(out: Path, patients: int) -> list[Path]:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not on PATH (apt-get install chromium)")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'crswatch.db'}")
        with store.transaction() as session:
            create_user(session, USER, PASSWORD, "clinician")
            ingest_timelines(session, demo_ward(patients, seed=DEMO_SEED, clock=CLOCK))
        settings = Settings(rate_limit_per_minute=0, dashboard_now=CLOCK, site_timezone=ZONE)
        written: list[Path] = []
        try:
            with live_server(store, settings) as url, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                for suffix, width, height in SIZES:
                    written += _pictures(
                        browser.new_page(viewport={"width": width, "height": height}),
                        url,
                        out,
                        suffix,
                    )
                browser.close()
        finally:
            store.dispose()
    return written


def _pictures(page: Page, url: str, out: Path, suffix: str) -> list[Path]:
    """The ward and the most severe patient's view at the page's viewport size."""
    width = page.viewport_size["width"] if page.viewport_size else 1360
    page.set_default_timeout(60_000)
    page.goto(f"{url}/login")
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#ward-table tbody tr[data-patient]")
    ward = out / f"ward{suffix}.png"
    page.screenshot(path=str(ward), full_page=True)
    page.click("#ward-table tbody tr[data-patient] a")
    page.wait_for_selector("#chart-timeline [data-rendered='true']")
    page.click("#details-vasopressor summary")  # show one entry form open
    page.wait_for_timeout(300)  # let the last SVG layout settle
    patient = out / f"patient{suffix}.png"
    # The top of the view (header, grades, entry, figures); the panels below are long tables
    # that would make the picture too large to commit.
    height = min(PATIENT_HEIGHT, page.evaluate("document.body.scrollHeight"))
    page.screenshot(
        path=str(patient), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height}
    )
    page.context.close()
    return [ward, patient]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--patients", type=int, default=24)
    args = parser.parse_args(argv)
    for path in take(args.out, args.patients):
        sys.stdout.write(f"wrote {path} ({path.stat().st_size // 1024} KiB)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
