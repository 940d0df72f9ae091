"""A hypothesis fuzz of the ingest body (issue 18): documents near the contract, with any field
replaced by any JSON value (NaN, Infinity, 400-digit integers, NUL, long text, nesting); no
answer is a 5xx, and a refused batch stores nothing."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from crswatch.store import EventRow, PatientRow
from tests.api.conftest import Api
from tests.conftest import BASE_DOCUMENT

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        ["", "\x00", "a/b", "x" * 5000, "2024-03-02T08:00:00Z", "0001-01-01T00:00:00Z"]
    ),
    st.sampled_from(["9999-12-31T23:59:59+14:00", "NaN", "1e400", "Cel", "car_t", "temperature"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
PATIENT_KEYS = ["id", "age_years", "weight_kg", "height_cm", "sex", "high_risk", "therapy", "vaule"]
EVENT_KEYS = [
    "time",
    "item",
    "value",
    "unit",
    "end",
    "ref_low",
    "ref_high",
    "censored",
    "cause",
    "id",
]


@st.composite
def documents(draw: st.DrawFn) -> Any:
    document: Any = copy.deepcopy(BASE_DOCUMENT)
    document["patient"]["id"] = draw(st.sampled_from(["F-1", "F-2"]))
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(["patient", "therapy", "event", "top"]))
        value = draw(VALUES)
        patient = document.get("patient")
        events = document.get("events")
        if where == "patient" and isinstance(patient, dict):
            patient[draw(st.sampled_from(PATIENT_KEYS))] = value
        elif where == "therapy" and isinstance(patient, dict):
            therapy = patient.get("therapy")
            if isinstance(therapy, dict):
                therapy[draw(st.sampled_from(["kind", "start", "product"]))] = value
        elif where == "event" and isinstance(events, list) and events:
            event = events[draw(st.integers(0, len(events) - 1))]
            if isinstance(event, dict):
                event[draw(st.sampled_from(EVENT_KEYS))] = value
        else:
            document[draw(st.sampled_from(["format", "patient", "events"]))] = value
    if draw(st.booleans()):
        document = [document, copy.deepcopy(document)]  # a batch, sometimes of one patient twice
    return document


def _counts(api: Api) -> tuple[int, int]:
    with api.store.transaction() as session:
        return (
            session.execute(select(func.count()).select_from(PatientRow)).scalar_one(),
            session.execute(select(func.count()).select_from(EventRow)).scalar_one(),
        )


def test_fuzzed_ingest_bodies_get_no_5xx(api: Api) -> None:
    headers = {**api.headers("clinician"), "content-type": "application/json"}
    failures: list[str] = []

    @given(documents())
    @settings(
        max_examples=120,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def run(document: Any) -> None:
        body = json.dumps(document, allow_nan=True)
        before = _counts(api)
        response = api.client.post("/events/timeline", content=body.encode(), headers=headers)
        if response.status_code >= 500:
            failures.append(f"{response.status_code}: {body[:300]}")
        elif response.status_code != 200 and _counts(api) != before:
            failures.append(f"refused ({response.status_code}) but stored: {body[:300]}")

    run()
    assert not failures, failures[:5]
