"""Trajectories and episodes: onset, peak, resolution, re-escalation (on ASTCT 2019)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import polars as pl

from crswatch.episodes import episodes_from_trajectory, peak_grades, trajectory
from tests.builders import at, ev, timeline

COURSE = [
    ev(24, "temperature", 37.0, "Cel"),
    ev(24, "sbp", 120, "mm[Hg]"),
    ev(48, "temperature", 38.9, "Cel"),  # onset: grade 1
    ev(48, "sbp", 118, "mm[Hg]"),
    ev(52, "sbp", 82, "mm[Hg]"),
    ev(52, "norepinephrine", 6, "ug/min"),  # grade 3
    ev(54, "tocilizumab", 560, "mg"),
    ev(60, "norepinephrine", 0, "ug/min"),
    ev(60, "temperature", 37.1, "Cel"),
    ev(60, "sbp", 112, "mm[Hg]"),
    ev(84, "temperature", 36.9, "Cel"),
    ev(84, "sbp", 121, "mm[Hg]"),  # hypotension at 52 h has left the 24 h window: graded 0
    ev(100, "temperature", 36.8, "Cel"),
    ev(100, "sbp", 118, "mm[Hg]"),
    ev(100, "o2_device", "nasal_cannula"),  # after the waiver: grade 2 without fever
    ev(100, "o2_flow", 2, "L/min"),
    ev(110, "o2_device", "room_air"),
    ev(110, "temperature", 36.7, "Cel"),
    ev(110, "sbp", 119, "mm[Hg]"),
]


def test_trajectory_lists_changes_only() -> None:
    table = trajectory([timeline(COURSE)], scales=["astct2019"])
    signature = table.select("status", "lower", "upper").rows()
    assert all(a != b for a, b in itertools.pairwise(signature))
    assert table.filter(pl.col("at") == at(52))["grade"].to_list() == [3]


def test_episodes_onset_peak_resolution_and_reescalation() -> None:
    table = trajectory([timeline(COURSE)], scales=["astct2019"])
    first, second = episodes_from_trajectory(table)
    assert (first.onset, first.peak_grade, first.peak_at) == (at(48), 3, at(52))
    # After tocilizumab fever is waived, so the hypotension of 52 h keeps grade 2 until it leaves
    # the 24 h window: resolution is reported at 76 h, the instant it leaves (the state shown is
    # the one just after, when the lowest SBP is 112), not at an artificial 76 h + 1 us.
    assert first.resolution == at(76)
    assert (second.onset, second.peak_grade, second.resolution) == (at(100), 2, at(110))
    assert second.duration_hours == 10.0


def test_peak_grades_per_scale() -> None:
    table = trajectory([timeline(COURSE)], scales=["astct2019"])
    assert peak_grades(table).row(0, named=True)["peak_grade"] == 3


def test_grid_trajectory_is_aligned_to_therapy_start() -> None:
    table = trajectory(
        [timeline(COURSE)], scales=["astct2019"], every=timedelta(hours=6), changes_only=False
    )
    offsets = {(t - at(0)).total_seconds() % (6 * 3600) for t in table["at"].to_list()}
    assert offsets == {0.0}


def test_nothing_is_evaluated_after_the_last_event() -> None:
    # Issue 14 defect 3: an infusion without an end is not carried past the record.  The
    # norepinephrine started at 49 h would pass 24 cumulative hours (MSKCC 3) at 73 h, and the
    # labs' 48 h window would close at 96 h; the record ends at 50 h.
    events = [
        ev(48, "temperature", 39.0, "Cel"),
        ev(48, "sbp", 82, "mm[Hg]"),
        ev(48, "alt", 30, "U/L"),
        ev(49, "norepinephrine", 5, "ug/min"),
        ev(50, "sbp", 96, "mm[Hg]"),
    ]
    table = trajectory([timeline(events)], scales=["mskcc2018", "lee2014"], changes_only=False)
    assert table["at"].max() == at(50)
    assert peak_grades(table).filter(pl.col("scale") == "mskcc2018")["peak_grade"].item() == 2
    # Asked up to a later time, the trajectory goes on to it (and no further).
    later = trajectory([timeline(events)], scales=["mskcc2018"], until=at(80))
    assert later["at"].max() <= at(80)
    assert later.filter(pl.col("at") == at(73))["grade"].to_list() == [3]


def test_reported_times_carry_no_artificial_offset() -> None:
    table = trajectory([timeline(COURSE)])
    assert all(moment.microsecond == 0 for moment in table["at"].to_list())
    (first, _) = episodes_from_trajectory(trajectory([timeline(COURSE)], scales=["astct2019"]))
    assert first.duration_hours == 28.0


def test_an_arrival_at_the_instant_of_an_expiry_shows_the_state_from_then_on() -> None:
    # The hypotension of 10 h leaves its 24 h window at 34 h, when a normal SBP arrives: one row
    # at 34 h with the state from 34 h on (fever only: grade 1), not two rows at one time.
    events = [
        ev(10, "temperature", 38.6, "Cel"),
        ev(10, "sbp", 82, "mm[Hg]"),
        ev(34, "temperature", 38.5, "Cel"),
        ev(34, "sbp", 120, "mm[Hg]"),
        ev(35, "sbp", 118, "mm[Hg]"),
    ]
    table = trajectory([timeline(events)], scales=["astct2019"])
    assert table.filter(pl.col("at") >= at(10)).select("at", "grade").rows() == [
        (at(10), 2),
        (at(34), 1),
    ]
    # The record's last instant keeps its closed window: at 34 h with nothing after it, the
    # hypotension of 10 h still counts (as grading at 34 h does).
    short = trajectory([timeline(events[:4])], scales=["astct2019"], changes_only=False)
    assert short.filter(pl.col("at") == at(34))["grade"].to_list() == [2]
