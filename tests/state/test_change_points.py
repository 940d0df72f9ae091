"""Change-point evaluation gives exactly the trajectory of evaluating at every event (issue #16).

The reference is ``exhaustive=True``: the state at every event time and end and every window
expiry.  Change points leave out only instants where nothing a scale reads through a threshold
or a window can change, so every scale's trajectory of changes must be identical — on the
golden timelines, on simulated cohorts and on generated adversarial records (readings on a
threshold, exactly a window apart, at one instant, charted with another cause, children near a
birthday, vasopressors held for hours).
"""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import crswatch.state
from crswatch.episodes import trajectory_of_frames
from crswatch.scales import ALL_SCALES, grade_frame, thresholds_by_item
from crswatch.simulate import iter_cohort
from crswatch.state import StateParameters, evaluation_times, state_of
from crswatch.state._changes import DENSE_ITEMS, UNREAD_ITEMS
from crswatch.timeline import Timeline, to_frames
from tests.builders import START, ev, timeline
from tests.golden._harness import load_cases

GOLDEN = load_cases(Path(__file__).parents[1] / "golden")


def _both(
    timelines: list[Timeline], params: StateParameters | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    patients, events = to_frames(timelines)
    every = trajectory_of_frames(patients, events, params=params, exhaustive=True)
    changes = trajectory_of_frames(patients, events, params=params)
    return every, changes


def _assert_same(timelines: list[Timeline], params: StateParameters | None = None) -> None:
    every, changes = _both(timelines, params)
    assert_frame_equal(changes, every)


def test_golden_timelines_give_the_same_trajectory() -> None:
    assert len(GOLDEN) > 100
    _assert_same([case.timeline for case in GOLDEN])


@pytest.mark.parametrize(
    "params",
    [
        StateParameters(),
        StateParameters(fever_waiver="anticytokine_or_steroid", crs_resolution_window=None),
        StateParameters(fever_threshold_c=38.3, hypotension_window=timedelta(hours=6)),
    ],
    ids=["default", "reference", "other-windows"],
)
def test_simulated_cohorts_give_the_same_trajectory(params: StateParameters) -> None:
    timelines = list(iter_cohort(8, seed=5, therapy="mixed", vitals_every=timedelta(minutes=30)))
    every, changes = _both(timelines, params)
    assert_frame_equal(changes, every)
    # Not trivially quiet: grades move, and high grades are reached.
    assert changes.height > 50 and changes["lower"].max() >= 3  # type: ignore[operator]


def test_dense_vital_signs_do_not_multiply_the_evaluation_times() -> None:
    """Five-minute vital signs: the instants evaluated are a small fraction of the events."""
    timelines = list(iter_cohort(3, seed=2, therapy="car_t", vitals_every=timedelta(minutes=5)))
    patients, events = to_frames(timelines)
    every = evaluation_times(events, patients, exhaustive=True)
    changes = evaluation_times(events, patients, thresholds=thresholds_by_item())
    assert changes.height * 10 < every.height
    assert_frame_equal(
        trajectory_of_frames(patients, events),
        trajectory_of_frames(patients, events, exhaustive=True),
    )


# ---------------------------------------------------------------- generated adversarial records

_TEMPERATURES = st.sampled_from([36.8, 37.9, 37.9999999999, 38.0, 38.0000000001, 38.3, 39.5, 40.2])
_SBPS = st.sampled_from([60.0, 69.9, 70.0, 71.0, 79.0, 80.0, 89.9, 90.0, 90.1, 120.0])
_HOURS = st.sampled_from([0, 0.5, 1, 2, 3, 6, 12, 23.999, 24, 24.001, 25, 27, 48])


@st.composite
def _adversarial(draw: Any) -> Timeline:
    events: list[dict[str, Any]] = []
    t = draw(st.sampled_from([-6.0, 0.0, 2.0]))
    for _ in range(draw(st.integers(3, 14))):
        t += draw(_HOURS)
        kind = draw(st.integers(0, 9))
        cause = {"cause": "other"} if draw(st.integers(0, 6)) == 0 else {}
        if kind <= 2:
            events.append(ev(t, "temperature", draw(_TEMPERATURES), "Cel", **cause))
        elif kind <= 4:
            events.append(ev(t, "sbp", draw(_SBPS), "mm[Hg]", **cause))
        elif kind == 5:
            drug, unit, rate = draw(
                st.sampled_from(
                    [
                        ("norepinephrine", "ug/min", 25.0),
                        ("norepinephrine", "ug/min", 5.0),
                        ("norepinephrine", "ug/min", 0.0),
                        ("vasopressin", "U/min", 0.03),
                        ("epinephrine", "ug/min", 12.0),
                    ]
                )
            )
            events.append(ev(t, drug, rate, unit))
        elif kind == 6:
            device = draw(st.sampled_from(["nasal_cannula", "face_mask", "room_air", "bipap"]))
            events.append(ev(t, "o2_device", device))
            if draw(st.booleans()):
                events.append(ev(t, "o2_flow", draw(st.sampled_from([2, 6, 8])), "L/min"))
        elif kind == 7:
            drug = draw(st.sampled_from(["tocilizumab", "dexamethasone", "antipyretic"]))
            unit = {"tocilizumab": "mg/kg", "dexamethasone": "mg", "antipyretic": "mg"}[drug]
            events.append(ev(t, drug, {"tocilizumab": 8, "dexamethasone": 10}.get(drug, 650), unit))
        elif kind == 8:
            events.append(ev(t, "heart_rate", 130, "/min"))
            events.append(ev(t, "spo2", 91, "%"))
        else:
            events.append(ev(t, "ice_score", draw(st.integers(0, 10))))
    # A child a few days from a birthday (the SBP threshold and the ICANS path change with age).
    patient: dict[str, Any] = {}
    if draw(st.booleans()):
        years = draw(st.sampled_from([0, 1, 4, 9, 10, 11, 12]))
        days = draw(st.integers(-3, 3))
        born = date(2024 - years, 1, 2) + timedelta(days=days)
        patient = {"age_years": None, "birth_date": born.isoformat()}
    # One reading of an item per instant (two would be a conflict the reader reports).
    unique = {(e["time"], e["item"]): e for e in events}
    return timeline(list(unique.values()), **patient)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(_adversarial(), min_size=1, max_size=3))
def test_adversarial_records_give_the_same_trajectory(records: list[Timeline]) -> None:
    timelines = [
        dataclasses.replace(record, patient=dataclasses.replace(record.patient, id=f"P{n}"))
        for n, record in enumerate(records)
    ]
    _assert_same(timelines)
    _assert_same(timelines, StateParameters(fever_waiver="anticytokine_or_steroid"))


# ----------------------------------------------------------------- what the reduction relies on


def test_the_state_never_reads_the_items_left_out() -> None:
    """No state module names an unread vital sign (as a string): none of them is read."""
    sources = Path(crswatch.state.__file__).parent.glob("_*.py")
    names: set[str] = set()
    for path in sources:
        if path.name == "_changes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)
    assert names.isdisjoint(UNREAD_ITEMS)
    assert set(DENSE_ITEMS) <= names


# A state at one instant whose dense-reading columns vary inside one class of every threshold.
_COLUMN_ITEMS = {"temp_max_c": "temperature", "sbp_min": "sbp"}


def _nudged(value: float, thresholds: tuple[float, ...]) -> list[float]:
    """Values on the same side of every threshold as ``value`` (both raw and rounded)."""
    candidates = [value + d for d in (-0.4, -0.05, -1e-6, 1e-6, 0.05, 0.4)]

    def side(x: float) -> tuple[bool, ...]:
        return tuple(
            flag for t in thresholds for flag in (x >= t, x > t, round(x, 9) >= t, round(x, 9) > t)
        )

    return [c for c in candidates if side(c) == side(value)]


@pytest.mark.parametrize("column", sorted(_COLUMN_ITEMS))
def test_every_scale_reads_dense_columns_only_through_known_thresholds(column: str) -> None:
    """Moving ``temp_max_c`` or ``sbp_min`` within a class never changes any scale's grade.

    The classes are those the change points use: the scales' registered thresholds and the
    state's own.  A scale comparing a dense column with an unregistered threshold fails here.
    """
    item = _COLUMN_ITEMS[column]
    own = (38.0,) if item == "temperature" else tuple(float(v) for v in range(70, 92, 2))
    thresholds = tuple(sorted({*own, *thresholds_by_item().get(item, ())}))
    events = [
        ev(0, "temperature", 38.5, "Cel"),
        ev(1, "sbp", 85, "mm[Hg]"),
        ev(1.5, "o2_device", "nasal_cannula"),
        ev(1.5, "o2_flow", 4, "L/min"),
    ]
    base = state_of([timeline(events)])
    values = (
        [35.0, 37.9, 38.0, 38.4, 39.0, 40.0, 41.0]
        if item == "temperature"
        else [55.0, 69.0, 70.0, 73.0, 85.0, 89.0, 90.0, 95.0, 140.0]
    )
    for value in values:
        for nudged in _nudged(value, thresholds):
            a = base.with_columns(pl.lit(value).alias(column))
            b = base.with_columns(pl.lit(nudged).alias(column))
            for scale in ALL_SCALES.values():
                (
                    assert_frame_equal(grade_frame(scale, a), grade_frame(scale, b)),
                    (
                        scale.id,
                        value,
                        nudged,
                    ),
                )


# ------------------------------------------------------ instants no reading of a class marks


def _rows(table: pl.DataFrame, scale: str) -> list[tuple[float, int, str]]:
    """``(hours after the therapy start, lower, status)`` of one scale's CRS changes."""
    picked = table.filter((pl.col("scale") == scale) & (pl.col("kind") == "crs"))
    return [
        ((row["at"] - START).total_seconds() / 3600, row["lower"], row["status"])
        for row in picked.iter_rows(named=True)
    ]


def test_refractory_hypotension_starts_at_the_first_low_sbp_once_the_dose_is_sustained() -> None:
    """MSKCC grade 4: an SBP below the threshold measured after the high dose held 3 h.

    The SBPs are low throughout (one island of one class), so no island marks the instant: the
    change point is the first low SBP at or after the dose's 3 h mark (1 h + 3 h = 4 h, first
    SBP after it at 4.25 h).
    """
    events = [ev(0, "temperature", 38.6, "Cel"), ev(1, "norepinephrine", 25, "ug/min")]
    events += [ev(-2 + 0.5 * n + 0.25, "sbp", 85, "mm[Hg]") for n in range(24)]
    record = [timeline(events)]
    every, changes = _both(record)
    assert_frame_equal(changes, every)
    mskcc = _rows(changes, "mskcc2018")
    assert (4.25, 4, "graded") in mskcc
    assert all(hours >= 4.25 for hours, lower, _ in mskcc if lower == 4)


def test_a_birthday_is_an_instant_the_sbp_threshold_changes() -> None:
    """A child of 9 turning 10: the SBP threshold goes from 88 to 90 mm Hg (Mahadeo 2019).

    An SBP of 89 every hour is normal at 9 and low at 10; hypotension (ASTCT 2019 grade 2, with
    the fever) begins at the midnight the age changes, not at the next reading.  Both engines
    evaluate there (docs/decisions/0065).
    """
    birthday = START.date() + timedelta(days=2)
    born = birthday.replace(year=birthday.year - 10)
    events = [ev(h, "temperature", 38.6, "Cel") for h in range(0, 72, 6)]
    events += [ev(h + 0.5, "sbp", 89, "mm[Hg]") for h in range(0, 72)]
    record = [timeline(events, age_years=None, birth_date=born.isoformat())]
    every, changes = _both(record)
    assert_frame_equal(changes, every)
    # Age counts days / 365.25 (crswatch.state): 10 from the first day that reaches it.
    turning = next(
        d for d in (birthday + timedelta(days=k) for k in range(3)) if (d - born).days >= 3652.5
    )
    midnight = (datetime.combine(turning, time(0), tzinfo=UTC) - START).total_seconds() / 3600
    assert (midnight, 2, "graded") in _rows(changes, "astct2019")
    assert (midnight - 24, 1, "graded") not in _rows(changes, "astct2019")


def test_the_end_of_a_crs_episode_is_an_instant_even_inside_an_island() -> None:
    """The fever waiver ends with the episode, at the first sign-free reading > 24 h after the last
    sign (docs/decisions/0026): here an SBP of 120 mm Hg in an hourly run of them, which no
    island marks.  Without a temperature in the window the waiver (with the SBP) is what made
    the grade assessable; from that reading on it is not.
    """
    events = [ev(0, "temperature", 38.6, "Cel"), ev(1, "tocilizumab", 8, "mg/kg")]
    events += [ev(h + 0.5, "sbp", 120, "mm[Hg]") for h in range(60)]
    every, changes = _both([timeline(events)])
    assert_frame_equal(changes, every)
    astct = _rows(changes, "astct2019")
    assert any(hours == 24.5 for hours, _, _ in astct), astct
