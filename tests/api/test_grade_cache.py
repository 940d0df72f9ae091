"""The grade route reads frames through the app's cache (decision 0025): same results, never stale.

Every response is compared with ``grade_timelines`` on the stored timeline, serialised as the
route serialises (``json.dumps(..., default=str)``); an ingest between two requests must change
the answer, and a repeated request is answered from the result kept for that exact version.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from crswatch.scales import grade_timelines
from crswatch.simulate import demo_ward, iter_cohort
from crswatch.store import (
    Store,
    TimelineCache,
    app_timeline_cache,
    ingest_timelines,
    load_timeline,
)
from crswatch.timeline import Timeline, format_time
from tests.api.conftest import Api
from tests.builders import ev, timeline

CLOCK = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def _expected(found: Timeline, **options: Any) -> Any:
    graded = grade_timelines([found], **options)[0].to_dict()
    return json.loads(json.dumps(graded, ensure_ascii=False, default=str))


def _grade(api: Api, patient_id: str, query: str = "") -> Any:
    response = api.client.get(f"/patients/{patient_id}/grade{query}", headers=api.headers("viewer"))
    assert response.status_code == 200, response.text
    return response.json()


def _cache(api: Api) -> TimelineCache:
    return app_timeline_cache(api.client.app.state)  # type: ignore[attr-defined]


def _store(store: Store, timelines: list[Timeline]) -> None:
    with store.transaction() as session:
        ingest_timelines(session, timelines)


def test_grades_equal_grade_timelines(api: Api) -> None:
    timelines = [*iter_cohort(2, seed=4), *demo_ward(4, clock=CLOCK)]
    _store(api.store, timelines)
    for found in timelines:
        pid = found.patient.id
        assert _grade(api, pid) == _expected(found)
        middle = found.events[len(found.events) // 2].time
        query = f"?at={format_time(middle)}&scale=penn2018&scale=icans.astct2019"
        assert _grade(api, pid, query) == _expected(
            found, at=middle, scales=["penn2018", "icans.astct2019"]
        )
    # A patient with no events is graded at the therapy start, as grade_timelines does.
    alone = timeline([], patient_id="EMPTY")
    _store(api.store, [alone])
    assert _grade(api, "EMPTY") == _expected(alone)


def test_an_ingest_between_two_grades_changes_the_answer(api: Api) -> None:
    calm = timeline([ev(2, "temperature", 36.9, "Cel"), ev(3, "sbp", 120, "mm[Hg]")], "G-1")
    _store(api.store, [calm])
    cache = _cache(api)
    first = _grade(api, "G-1", "?scale=astct2019")
    assert first["crs"]["astct2019"]["grade"] == 0
    # Two results computed for this stored version: the prepared record (what no time
    # changes, decision 0071) and the grade.
    assert (cache.result_misses, cache.result_hits) == (2, 0)
    assert _grade(api, "G-1", "?scale=astct2019") == first
    assert (cache.result_misses, cache.result_hits) == (2, 1)  # the same stored version
    fever = {
        "format": "crswatch.timeline/1",
        "patient": calm.patient.to_dict(),
        "events": [ev(4, "temperature", 39.1, "Cel")],
    }
    stored = api.client.post("/events/timeline", json=fever, headers=api.headers("clinician"))
    assert stored.status_code == 200, stored.text
    after = _grade(api, "G-1", "?scale=astct2019")
    assert after["crs"]["astct2019"]["grade"] == 1
    assert after["at"] != first["at"]
    assert (cache.result_misses, cache.result_hits) == (4, 1)
    # A write that bypasses the API (another process, the dashboard) is seen the same way.
    hypotension = timeline([ev(5, "sbp", 82, "mm[Hg]"), ev(5, "norepinephrine", 6, "ug/min")])
    _store(api.store, [Timeline(calm.patient, hypotension.events)])
    with api.store.transaction() as session:
        latest = load_timeline(session, "G-1")
    assert latest is not None
    now = _expected(latest, scales=["astct2019"])
    assert _grade(api, "G-1", "?scale=astct2019") == now
    assert now["crs"]["astct2019"]["grade"] >= 2


def test_errors_and_unknown_patients_are_not_cached(api: Api) -> None:
    _store(api.store, [timeline([ev(2, "temperature", 38.2, "Cel")], "G-2")])
    viewer = api.headers("viewer")
    for _ in range(2):
        bad = api.client.get("/patients/G-2/grade?scale=nope", headers=viewer)
        assert bad.status_code == 422 and bad.json()["error"]["issues"][0]["field"] == "scale"
        missing = api.client.get("/patients/nobody/grade", headers=viewer)
        assert missing.status_code == 404
    assert _cache(api).result_hits == 0


@pytest.mark.parametrize("first", ["api", "cache"])
def test_the_api_and_the_dashboard_share_one_cache(api: Api, first: str) -> None:
    found = timeline([ev(2, "temperature", 38.2, "Cel")], "G-3")
    _store(api.store, [found])
    cache = _cache(api)
    assert cache is _cache(api)
    if first == "api":
        _grade(api, "G-3")
    with api.store.transaction() as session:
        assert cache.load(session, "G-3") == found
    misses = cache.misses
    _grade(api, "G-3")
    with api.store.transaction() as session:
        assert cache.load(session, "G-3") == found
    assert cache.misses == misses  # the frames and the timeline are one entry
