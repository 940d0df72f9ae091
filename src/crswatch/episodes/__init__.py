"""Trajectories (grade over time) and episodes (onset, peak, resolution) for every scale."""

from crswatch.episodes._assessments import AssessmentGap, assessment_gaps
from crswatch.episodes._episodes import (
    Episode,
    episodes_from_trajectory,
    peak_grades,
    peak_status,
)
from crswatch.episodes._trajectory import TRAJECTORY_SCHEMA, trajectory, trajectory_of_frames

__all__ = [
    "TRAJECTORY_SCHEMA",
    "AssessmentGap",
    "Episode",
    "assessment_gaps",
    "episodes_from_trajectory",
    "peak_grades",
    "peak_status",
    "trajectory",
    "trajectory_of_frames",
]
