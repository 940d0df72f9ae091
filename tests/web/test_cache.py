"""The dashboard's timeline cache: reused while the store is unchanged, never stale after writes."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from crswatch.errors import InputError
from crswatch.store import Store, TimelineCache, app_timeline_cache, ingest_timelines, load_timeline
from crswatch.timeline import Timeline, to_frames
from tests.builders import ev, timeline
from tests.web.conftest import Dashboard

HX = {"HX-Request": "true"}
EVENTS = re.compile(r"from (\d+) events")


def _stored(store: Store, patient_id: str) -> Timeline:
    with store.transaction() as session:
        found = load_timeline(session, patient_id)
    assert found is not None
    return found


def test_reads_are_the_stores_and_are_reused(ward_store: Store) -> None:
    cache = TimelineCache()
    with ward_store.transaction() as session:
        first = cache.load_many(session, ["W-SHOCK", "W-CALM", "nobody"])
        again = cache.load(session, "W-SHOCK")
        assert cache.load(session, "nobody") is None
    assert set(first) == {"W-SHOCK", "W-CALM"}
    assert first["W-SHOCK"] == _stored(ward_store, "W-SHOCK")
    assert first["W-CALM"] == _stored(ward_store, "W-CALM")
    assert again is first["W-SHOCK"]  # the same object: not loaded a second time
    assert (cache.misses, cache.hits) == (2, 1)


def test_an_appended_event_or_a_later_patient_field_invalidates(ward_store: Store) -> None:
    cache = TimelineCache()
    with ward_store.transaction() as session:
        before = cache.load(session, "W-CALM")
    assert before is not None
    added = timeline([ev(29, "temperature", 38.4, "Cel")], patient_id="W-CALM")
    with ward_store.transaction() as session:
        ingest_timelines(session, [replace(added, patient=before.patient)])
    with ward_store.transaction() as session:
        after = cache.load(session, "W-CALM")
    assert after is not None and len(after.events) == len(before.events) + 1
    assert after == _stored(ward_store, "W-CALM")
    # The response is assessed weeks later: the record changes, the events do not.
    responded = replace(before.patient, response="CR")
    with ward_store.transaction() as session:
        ingest_timelines(session, [Timeline(responded, ())])
    with ward_store.transaction() as session:
        latest = cache.load(session, "W-CALM")
    assert latest is not None and latest.patient.response == "CR"
    assert (cache.misses, cache.hits) == (3, 0)


def test_the_bound_drops_the_least_recently_used(ward_store: Store) -> None:
    sizes = {pid: len(_stored(ward_store, pid).events) for pid in ("W-SHOCK", "W-CALM")}
    cache = TimelineCache(max_events=max(sizes.values()))
    with ward_store.transaction() as session:
        cache.load(session, "W-SHOCK")
        cache.load(session, "W-CALM")  # both do not fit: W-SHOCK goes
        cache.load(session, "W-CALM")
        cache.load(session, "W-SHOCK")
    assert (cache.misses, cache.hits) == (3, 1)
    with pytest.raises(InputError, match="max_events=-1"):
        TimelineCache(max_events=-1)


def test_a_bedside_entry_is_on_the_next_page(dashboard: Dashboard) -> None:
    token = dashboard.login("clinician")
    first = dashboard.client.get("/ward/patients/W-CALM")
    assert first.status_code == 200
    (count,) = EVENTS.findall(first.text)
    cache = dashboard.client.app.state.timelines  # type: ignore[attr-defined]
    hits = cache.hits
    assert dashboard.client.get("/ward/patients/W-CALM").text == first.text
    assert cache.hits == hits + 1
    entry = {"drug": "norepinephrine", "action": "start", "rate": "5", "rate_unit": "ug/min"}
    url = "/ward/patients/W-CALM/entries/vasopressor"
    saved = dashboard.client.post(url, data=entry, headers={**HX, "X-CSRF-Token": token})
    assert saved.status_code == 200
    page = dashboard.client.get("/ward/patients/W-CALM")
    assert EVENTS.findall(page.text) == [str(int(count) + 1)]
    cached = dashboard.client.app.state.timelines  # type: ignore[attr-defined]
    with dashboard.store.transaction() as session:
        reused = cached.load(session, "W-CALM")
    assert reused == _stored(dashboard.store, "W-CALM")


def test_frames_are_the_stored_timelines_and_share_its_entry(ward_store: Store) -> None:
    cache = TimelineCache()
    with ward_store.transaction() as session:
        found = cache.frames(session, "W-SHOCK")
        timeline_after = cache.load(session, "W-SHOCK")
        assert cache.frames(session, "nobody") is None
    assert found is not None and timeline_after is not None
    marker, (patients, events) = found
    reference = to_frames([_stored(ward_store, "W-SHOCK")])
    assert patients.equals(reference[0]) and events.equals(reference[1])
    assert marker[0] == events.height == len(timeline_after.events)
    # The timeline was added to the frames' entry (a hit), then frames from a cached timeline.
    assert (cache.misses, cache.hits) == (1, 1)
    with ward_store.transaction() as session:
        cache.load(session, "W-CALM")
        again = cache.frames(session, "W-CALM")
    assert again is not None
    assert again[1][1].equals(to_frames([_stored(ward_store, "W-CALM")])[1])


def test_a_bedside_entry_invalidates_the_frames_the_api_grades(dashboard: Dashboard) -> None:
    token = dashboard.login("clinician")
    cache = app_timeline_cache(dashboard.client.app.state)  # type: ignore[attr-defined]
    with dashboard.store.transaction() as session:
        before = cache.frames(session, "W-CALM")
    assert before is not None
    entry = {"drug": "norepinephrine", "action": "start", "rate": "5", "rate_unit": "ug/min"}
    url = "/ward/patients/W-CALM/entries/vasopressor"
    saved = dashboard.client.post(url, data=entry, headers={**HX, "X-CSRF-Token": token})
    assert saved.status_code == 200
    with dashboard.store.transaction() as session:
        after = cache.frames(session, "W-CALM")
    assert after is not None
    assert after[0] != before[0]
    assert after[1][1].height == before[1][1].height + 1
    assert "norepinephrine" in after[1][1]["item"].to_list()
    assert after[1][1].equals(to_frames([_stored(dashboard.store, "W-CALM")])[1])
