"""Shared fixtures: a minimal valid timeline document to mutate in tests."""

from __future__ import annotations

import copy
from typing import Any

import pytest

BASE_DOCUMENT: dict[str, Any] = {
    "format": "crswatch.timeline/1",
    "patient": {
        "id": "P-001",
        "age_years": 41,
        "weight_kg": 68.0,
        "height_cm": 165,
        "sex": "female",
        "high_risk": False,
        "therapy": {
            "kind": "car_t",
            "product": "tisagenlecleucel",
            "start": "2024-03-01T10:00:00Z",
        },
    },
    # The example of shared/spec/timeline.md §1, verbatim.
    "events": [
        {"time": "2024-03-02T08:00:00Z", "item": "temperature", "value": 38.7, "unit": "Cel"},
        {"time": "2024-03-02T09:00:00Z", "item": "sbp", "value": 84, "unit": "mm[Hg]"},
        {"time": "2024-03-02T09:10:00Z", "item": "fluid_bolus", "value": 1000, "unit": "mL"},
        {"time": "2024-03-02T12:00:00Z", "item": "norepinephrine", "value": 5, "unit": "ug/min"},
        {"time": "2024-03-02T20:00:00Z", "item": "norepinephrine", "value": 0, "unit": "ug/min"},
        {"time": "2024-03-02T12:30:00Z", "item": "o2_device", "value": "nasal_cannula"},
        {"time": "2024-03-02T12:30:00Z", "item": "o2_flow", "value": 2, "unit": "L/min"},
        {"time": "2024-03-02T14:00:00Z", "item": "tocilizumab", "value": 544, "unit": "mg"},
        {"time": "2024-03-02T06:00:00Z", "item": "ferritin", "value": 22544, "unit": "ng/mL"},
    ],
}


@pytest.fixture
def document() -> dict[str, Any]:
    """A fresh copy of the spec's example timeline."""
    return copy.deepcopy(BASE_DOCUMENT)


def with_event(document: dict[str, Any], **event: Any) -> dict[str, Any]:
    """The document with one more event appended (time defaults to a free slot)."""
    event.setdefault("time", "2024-03-03T00:00:00Z")
    document["events"].append(event)
    return document
