"""ICANS trajectories and episodes beside CRS, and the assessment-frequency check.

The course follows seed 003_f311ac7ac5f2c496.txt (Lee 2014), case 3: CRS from day 4 with
pressors to day 10, and encephalopathy on its own clock from day 9, resolved by day 13 (an
11-year-old: the CAPD path).  CAPD values, times of day and levels of consciousness are assumed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl

from crswatch.episodes import (
    TRAJECTORY_SCHEMA,
    assessment_gaps,
    episodes_from_trajectory,
    peak_grades,
    trajectory,
)
from crswatch.state import StateParameters
from tests.builders import at, ev, timeline

DAY = 24.0
CHILD: dict[str, Any] = {"age_years": 11, "weight_kg": 36, "height_cm": 145}
CAPD_TIMES = [d * DAY + h for d in range(1, 15) for h in (0.0, 12.0)]
CAPD = {9 * DAY: 14, 9 * DAY + 12: 12, 10 * DAY: 6, 10 * DAY + 12: 4}
CONSCIOUSNESS = {9 * DAY: "awakens_to_voice", 9 * DAY + 12: "awakens_to_voice"}
COURSE = [
    *[ev(t, "capd_score", CAPD.get(t, 0)) for t in CAPD_TIMES],
    *[ev(t, "consciousness", CONSCIOUSNESS.get(t, "alert")) for t in CAPD_TIMES],
    ev(4 * DAY, "temperature", 39.2, "Cel"),
    ev(5 * DAY, "temperature", 39.6, "Cel"),
    ev(5 * DAY, "sbp", 70, "mm[Hg]"),
    ev(5 * DAY + 1, "dopamine", 5, "ug/kg/min"),
    ev(5 * DAY + 3, "tocilizumab", 288, "mg"),
    ev(10 * DAY, "dopamine", 0, "ug/kg/min"),
    ev(11 * DAY, "temperature", 37.0, "Cel"),
    ev(11 * DAY, "sbp", 104, "mm[Hg]"),
]


def _course() -> pl.DataFrame:
    return trajectory([timeline(COURSE, **CHILD)], scales=["astct2019", "icans.astct2019"])


def test_trajectory_carries_the_syndrome_beside_the_scale() -> None:
    table = _course()
    assert table.columns == list(TRAJECTORY_SCHEMA)
    assert set(table["kind"].unique()) == {"crs", "icans"}
    assert set(table["scale"].unique()) == {"astct2019"}


def test_icans_runs_on_its_own_clock_after_crs() -> None:
    found = episodes_from_trajectory(_course())
    (crs,) = [e for e in found if e.kind == "crs"]
    (icans,) = [e for e in found if e.kind == "icans"]
    # CRS: fever on day 4, one pressor from day 5 (grade 3), graded 0 on day 11 (afebrile,
    # normotensive, no pressor since day 10).
    assert (crs.onset, crs.peak_grade, crs.peak_at) == (at(4 * DAY), 3, at(5 * DAY + 1))
    assert crs.resolution == at(11 * DAY)
    # ICANS starts on day 9, four days after the CRS peak, while CRS is settling: CAPD 14 and
    # lethargy (3), CAPD 4 on day 10 evening (1), CAPD 0 and alert on day 11 (0).
    assert (icans.onset, icans.peak_grade, icans.peak_at) == (at(9 * DAY), 3, at(9 * DAY))
    assert icans.resolution == at(11 * DAY)
    assert icans.onset - crs.peak_at == timedelta(days=4, hours=-1)
    assert icans.to_dict()["kind"] == "icans"


def test_peak_grades_are_per_syndrome() -> None:
    peaks = {(r["kind"], r["scale"]): r["peak_grade"] for r in peak_grades(_course()).to_dicts()}
    assert peaks == {("crs", "astct2019"): 3, ("icans", "astct2019"): 3}


def test_a_trajectory_without_kind_is_read_as_crs() -> None:
    legacy = _course().filter(pl.col("kind") == "crs").drop("kind")
    (episode,) = episodes_from_trajectory(legacy)
    assert episode.kind == "crs"


def test_no_gap_when_assessed_twice_daily() -> None:
    assert assessment_gaps([timeline(COURSE, **CHILD)]) == []


def test_gap_flagged_only_while_crs_is_active() -> None:
    # Drop the CAPD of day 6 08:00 and day 6 20:00: 36 h without an assessment during CRS.
    dropped = {6 * DAY, 6 * DAY + 12}
    events = [
        e
        for e in COURSE
        if not (e["item"] in ("capd_score", "consciousness") and _hours(e["time"]) in dropped)
    ]
    (gap,) = assessment_gaps([timeline(events, **CHILD)])
    assert gap.last_assessment == at(5 * DAY + 12)
    assert gap.overdue_from == at(6 * DAY + 1)  # 13 h (the interval) after the last one
    assert (gap.until, gap.assessed_at_end, gap.hours_without) == (at(7 * DAY), True, 36.0)
    # The same hole after CRS has resolved is not flagged.
    late = {13 * DAY, 13 * DAY + 12}
    quiet = [
        e
        for e in COURSE
        if not (e["item"] in ("capd_score", "consciousness") and _hours(e["time"]) in late)
    ]
    assert assessment_gaps([timeline(quiet, **CHILD)]) == []
    # A longer interval tolerates the 24 h hole.
    params = StateParameters().with_(neuro_assessment_interval=timedelta(hours=36))
    assert assessment_gaps([timeline(events, **CHILD)], params=params) == []


def test_gap_before_any_assessment_counts_from_the_therapy_start() -> None:
    events = [ev(30, "temperature", 38.5, "Cel"), ev(40, "temperature", 38.7, "Cel")]
    (gap,) = assessment_gaps([timeline(events)])
    assert gap.last_assessment is None
    # CRS stays active while the 40 h fever is in its 24 h window, but the record ends at 40 h
    # and nothing is evaluated after it (issue 14 defect 3; was until 64 h and 1 us).
    assert (gap.overdue_from, gap.assessed_at_end) == (at(30), False)
    assert gap.until == at(40)
    assert gap.to_dict()["hours_without"] == 40.0


def _hours(stamp: str) -> float:
    from crswatch.timeline import parse_time

    return (parse_time(stamp, "time") - at(0)).total_seconds() / 3600
