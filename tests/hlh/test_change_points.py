"""Between two of ``screen_change_points`` (on one UTC date) the screens' inputs do not change.

The ward keeps the screens' statuses per interval between change points (decision 0073), so
the claim is checked where it could fail: at every change point, a microsecond before and
after it, half way to the next one and at random instants, the whole screen frame (inputs,
criteria, statuses) equals the frame at the interval's first instant on that date, every
column but ``at``.  Records: the golden cases, the demo ward, the tests' simulated ward, and
a record with dialysis periods (an ``end``).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import polars as pl
import pytest

from crswatch.hlh import HLHParameters, screen_change_points, screen_frame, screen_statuses
from crswatch.simulate import demo_ward
from crswatch.timeline import Timeline, to_frames
from tests.builders import ev, timeline
from tests.hlh._golden import load_cases
from tests.web.ward import NOW, simulated_ward

_AT = pl.Datetime("us", "UTC")
_TICK = timedelta(microseconds=1)


def _anchor(points: list[datetime], moment: datetime) -> datetime | None:
    """The first instant of ``moment``'s interval on its UTC date (None: before every point)."""
    before = [p for p in points if p <= moment]
    if not before:
        return None
    midnight = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return max(before[-1], midnight)


def _check(timelines: list[Timeline], params: HLHParameters, *, samples: int = 40) -> int:
    patients, events = to_frames(timelines)
    points = screen_change_points(events, params)
    rng = random.Random(73)
    left: list[tuple[str, datetime]] = []
    right: list[tuple[str, datetime]] = []
    for (pid,), rows in points.group_by("patient_id", maintain_order=True):
        moments: list[datetime] = rows["at"].to_list()
        candidates = set(rng.sample(moments, min(len(moments), samples)))
        for point in list(candidates):
            candidates |= {point - _TICK, point + _TICK}
        for first, second in pairwise(moments):
            if rng.random() < samples / max(len(moments), 1):
                candidates.add(first + (second - first) / 2)
        span = (moments[-1] - moments[0]) + timedelta(days=4)
        candidates |= {moments[0] + span * rng.random() for _ in range(samples)}
        for moment in sorted(candidates):
            anchor = _anchor(moments, moment)
            if anchor is not None and anchor != moment:
                left.append((str(pid), moment))
                right.append((str(pid), anchor))
    assert left

    def frame(pairs: list[tuple[str, datetime]]) -> pl.DataFrame:
        times = pl.DataFrame(
            {"patient_id": [p for p, _ in pairs], "at": [m for _, m in pairs]},
            schema={"patient_id": pl.String(), "at": _AT},
        ).with_row_index("_pair")
        computed = screen_frame(patients, events, times.select("patient_id", "at"), params)
        statuses = screen_statuses(computed, params).drop("patient_id", "at")
        whole = pl.concat([computed, statuses.rename(lambda c: f"status:{c}")], how="horizontal")
        # The frame has one row per distinct (patient, at): back to one per pair.
        return times.join(whole, on=["patient_id", "at"], how="left").sort("_pair").drop("at")

    at_moment, at_anchor = frame(left), frame(right)
    assert at_moment.equals(at_anchor)
    return len(left)


@pytest.mark.parametrize("params", [HLHParameters(), HLHParameters(window=timedelta(hours=30))])
def test_the_demo_ward(params: HLHParameters) -> None:
    ward = demo_ward(clock=datetime(2024, 3, 20, 12, 0, tzinfo=UTC))
    assert _check(ward, params) > 1000


def test_the_simulated_ward() -> None:
    assert _check(simulated_ward(6, seed=7, now=NOW), HLHParameters()) > 100


def test_the_golden_cases() -> None:
    # One record at a time: patient ids repeat across the case files.
    for record in [case.timeline for case in load_cases()]:
        _check([record], HLHParameters(), samples=10)


def test_dialysis_with_an_end_and_a_child() -> None:
    events = [
        ev(-24, "creatinine", 0.8, "mg/dL"),
        ev(20, "creatinine", 4.2, "mg/dL"),
        ev(30, "dialysis", True, end_hours=50),
        ev(40, "ferritin", 15000, "ng/mL"),
        ev(41, "hemoglobin", 9.5, "g/dL"),
        ev(45, "bilirubin", 4.0, "mg/dL"),
        ev(60, "dialysis", False),
        ev(90, "dialysis", True, end_hours=95),
    ]
    child = timeline(events, birth_date="2024-02-10", age_years=None)
    assert _check([child], HLHParameters(), samples=60) > 50
