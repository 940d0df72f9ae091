"""The ward's 30 s refresh answers 304 when nothing it shows changed (decision 0057)."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timedelta

from httpx import Response
from sqlalchemy import select

from crswatch.io import read_json_document
from crswatch.store import AuditRecord, ingest_timelines, load_timeline
from tests.web.conftest import Dashboard
from tests.web.ward import NOW

HX = {"HX-Request": "true"}


def _rows(dashboard: Dashboard, tag: str | None = None, scale: str = "astct2019") -> Response:
    headers = dict(HX)
    if tag is not None:
        headers["If-None-Match"] = tag
    response: Response = dashboard.client.get(f"/ward/rows?scale={scale}", headers=headers)
    return response


def _at(dashboard: Dashboard, moment: datetime) -> None:
    """Move the dashboard's clock (the settings' "now")."""
    state = dashboard.client.app.state  # type: ignore[attr-defined]
    state.settings = dataclasses.replace(state.settings, dashboard_now=moment)


def _append_fever(dashboard: Dashboard) -> None:
    with dashboard.store.transaction() as session:
        calm = load_timeline(session, "W-CALM")
        assert calm is not None
        document = calm.to_dict()
        document["events"] = [
            {"time": "2024-01-02T13:40:00Z", "item": "temperature", "value": 39.1, "unit": "Cel"}
        ]
        read = read_json_document(document)
        assert read.report.ok, read.report.issues
        ingest_timelines(session, list(read.timelines))


def test_the_rows_carry_an_etag_that_the_refresh_sends_back(dashboard: Dashboard) -> None:
    dashboard.login("viewer")
    first = _rows(dashboard)
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('W/"')
    # The section asks htmx to send it with the next refresh.
    sent = re.search(r"hx-headers='([^']+)'", first.text)
    assert sent and json.loads(sent.group(1).replace("&#34;", '"')) == {"If-None-Match": tag}
    page = dashboard.client.get("/ward")
    assert f"{json.dumps({'If-None-Match': tag})}" in page.text.replace("&#34;", '"')


def test_unchanged_rows_are_a_304_without_a_body_and_audited(dashboard: Dashboard) -> None:
    dashboard.login("viewer")
    tag = _rows(dashboard).headers["etag"]
    again = _rows(dashboard, tag)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert again.headers["cache-control"] == "no-store"
    # A list, a strong form of the same tag and "*" match too (RFC 9110 weak comparison).
    assert _rows(dashboard, f'"x", {tag.removeprefix("W/")}').status_code == 304
    assert _rows(dashboard, "*").status_code == 304
    with dashboard.store.transaction() as session:
        details = [
            r.detail
            for r in session.execute(select(AuditRecord).order_by(AuditRecord.pk)).scalars()
            if r.resource == "dashboard.ward"
        ]
    assert details[-3:] == ["not modified (304), scale astct2019"] * 3


def test_a_write_changes_the_rows_tag(dashboard: Dashboard) -> None:
    dashboard.login("viewer")
    before = _rows(dashboard)
    tag = before.headers["etag"]
    _append_fever(dashboard)
    after = _rows(dashboard, tag)
    assert after.status_code == 200
    assert after.headers["etag"] != tag
    assert after.text != before.text


def test_the_next_minute_changes_it_and_a_later_second_does_not(dashboard: Dashboard) -> None:
    dashboard.login("viewer")
    tag = _rows(dashboard).headers["etag"]
    _at(dashboard, NOW + timedelta(seconds=30))  # the ward shows times to the minute
    assert _rows(dashboard, tag).status_code == 304
    _at(dashboard, NOW + timedelta(minutes=1))
    later = _rows(dashboard, tag)
    assert later.status_code == 200
    assert later.headers["etag"] != tag


def test_the_tag_is_per_scale_and_per_user(dashboard: Dashboard) -> None:
    dashboard.login("viewer")
    tag = _rows(dashboard).headers["etag"]
    assert _rows(dashboard, tag, scale="lee2014").status_code == 200
    dashboard.login("clinician")
    assert _rows(dashboard, tag).status_code == 200


def test_a_304_never_answers_a_caller_without_a_session(dashboard: Dashboard) -> None:
    dashboard.login("viewer")
    tag = _rows(dashboard).headers["etag"]
    dashboard.client.cookies.clear()
    refused = _rows(dashboard, tag)
    assert refused.status_code == 401
    assert "etag" not in refused.headers
    plain = dashboard.client.get(
        "/ward/rows", headers={"If-None-Match": tag}, follow_redirects=False
    )
    assert plain.status_code == 303 and "etag" not in plain.headers
