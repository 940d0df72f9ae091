"""Malformed elements are reported, never raised, and every event is counted."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from crswatch.errors import TimelineFormatError
from crswatch.io.fhir import read_bundle, timelines_to_bundle
from tests.io.fhir.conftest import (
    LOINC,
    SNOMED,
    bundle,
    concept,
    full_timeline,
    medication_administration,
    observation,
    patient,
    quantity,
)

_THIRD_PARTY = [
    observation(
        "bp",
        "85354-9",
        component=[
            {"code": concept(LOINC, "8480-6"), "valueQuantity": quantity(84, "mm[Hg]")},
            {"code": concept(LOINC, "8462-4"), "valueQuantity": quantity(45, "mm[Hg]")},
        ],
    ),
    medication_administration(
        "ne",
        "7512",
        {"rateRatio": {"numerator": quantity(0.05, "ug/kg"), "denominator": quantity(1, "min")}},
    ),
    {
        "fullUrl": "urn:uuid:dev",
        "resource": {"resourceType": "Device", "type": concept(SNOMED, "336623009")},
    },
    {
        "resource": {
            "resourceType": "DeviceUseStatement",
            "status": "completed",
            "subject": {"reference": "Patient/p1"},
            "device": {"reference": "urn:uuid:dev"},
            "timingPeriod": {"start": "2024-03-02T12:30:00Z", "end": "2024-03-02T14:00:00Z"},
        }
    },
]
_WRITTEN = timelines_to_bundle([full_timeline()])["entry"][:30]
SAMPLE = bundle(patient(), *_THIRD_PARTY, *_WRITTEN)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


PATHS = _paths(SAMPLE)[1:]
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=True),
    st.sampled_from(
        ["", "x", "2024-03-02T08:00:00", "2024-03-02T08:00:60Z", "2024", "#d", "Patient/p1"]
    ),
    st.just([]),
    st.just({}),
    st.just([{"a": 1}]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PATHS), JUNK), min_size=1, max_size=3))
def test_junk_anywhere_is_reported_not_raised(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    document = copy.deepcopy(SAMPLE)
    for path, junk in changes:
        node: Any = document
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = junk
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    try:
        result = read_bundle(document)
    except TimelineFormatError:
        return
    report = result.report
    assert report.events_read == report.events_accepted + report.events_rejected
    assert sum(len(timeline.events) for timeline in result.timelines) == report.events_accepted
