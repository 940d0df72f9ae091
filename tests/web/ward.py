"""A small deterministic ward for the dashboard tests (unit, TestClient and browser).

Built with ``tests/builders.py`` so every grade is known from the criteria, not from a
simulator's draw.  ``NOW`` is 30 h after the therapy start (2024-01-02 14:00 UTC).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from crswatch.simulate import iter_cohort
from crswatch.timeline import Timeline
from tests.builders import at, ev, timeline

__all__ = ["NOW", "PASSWORD", "make_ward", "shifted", "simulated_ward"]

NOW: datetime = at(30)
PASSWORD = "correct horse battery"


def _baseline(hours: float) -> list[dict[str, object]]:
    return [
        ev(hours, "temperature", 36.8, "Cel"),
        ev(hours, "sbp", 122, "mm[Hg]"),
        ev(hours, "spo2", 98, "%"),
        ev(hours, "o2_device", "room_air"),
    ]


def make_ward() -> list[Timeline]:
    """Five patients whose ASTCT grades at ``NOW`` are 3, ICANS 2, 1 (4 doses), 1 and 0."""
    shock = timeline(
        [
            *_baseline(2),
            ev(20, "temperature", 39.2, "Cel"),
            ev(22, "tocilizumab", 560, "mg"),
            ev(24, "ferritin", 15000, "ng/mL"),
            ev(26, "norepinephrine", 8, "ug/min"),
            ev(28, "temperature", 39.0, "Cel"),
            ev(28, "sbp", 96, "mm[Hg]"),
            ev(28, "spo2", 96, "%"),
        ],
        patient_id="W-SHOCK",
        therapy={
            "kind": "car_t",
            "product": "axicabtagene ciloleucel",
            "start": "2024-01-01T08:00:00Z",
        },
    )
    icans = timeline(
        [
            *_baseline(2),
            ev(28, "temperature", 38.3, "Cel"),
            ev(28, "sbp", 118, "mm[Hg]"),
            ev(28, "spo2", 97, "%"),
            ev(28.5, "ice_score", 5),
            ev(28.5, "consciousness", "awakens_to_voice"),
        ],
        patient_id="W-ICANS",
    )
    toci = timeline(
        [
            *_baseline(2),
            *[ev(h, "tocilizumab", 560, "mg") for h in (8, 16, 24, 29)],
            ev(28, "temperature", 38.5, "Cel"),
            ev(28, "sbp", 120, "mm[Hg]"),
            ev(28, "spo2", 97, "%"),
            ev(28.5, "ice_score", 10),
        ],
        patient_id="W-TOCI4",
    )
    fever = timeline(
        [
            *_baseline(2),
            ev(28, "temperature", 38.6, "Cel"),
            ev(28, "sbp", 118, "mm[Hg]"),
            ev(28, "spo2", 97, "%"),
            ev(28.5, "ice_score", 10),
            ev(28.5, "consciousness", "alert"),
        ],
        patient_id="W-FEVER",
    )
    calm = timeline(
        [
            *_baseline(2),
            ev(28, "temperature", 36.9, "Cel"),
            ev(28, "sbp", 121, "mm[Hg]"),
            ev(28, "spo2", 98, "%"),
            ev(28.5, "ice_score", 10),
            ev(28.5, "consciousness", "alert"),
        ],
        patient_id="W-CALM",
    )
    return [calm, fever, toci, icans, shock]


def shifted(timeline_: Timeline, start: datetime) -> Timeline:
    """The timeline moved in time so that its therapy starts at ``start`` (events alike)."""
    delta = start - timeline_.patient.therapy.start
    patient = replace(
        timeline_.patient,
        therapy=replace(timeline_.patient.therapy, start=start),
    )
    events = tuple(
        replace(e, time=e.time + delta, end=None if e.end is None else e.end + delta)
        for e in timeline_.events
    )
    return Timeline(patient, events)


def simulated_ward(n: int, *, seed: int, now: datetime) -> list[Timeline]:
    """``n`` simulated patients (``crswatch.simulate``), infused 1 to ``n`` days before ``now``."""
    return [
        shifted(t, now - timedelta(days=1 + i, hours=3))
        for i, t in enumerate(iter_cohort(n, seed=seed))
    ]
