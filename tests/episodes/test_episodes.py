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
    # the 24 h window: resolution is 1 us after 76 h, when the lowest SBP becomes 112.
    assert first.resolution == at(76) + timedelta(microseconds=1)
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
