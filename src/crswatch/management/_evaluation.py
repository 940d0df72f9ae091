"""One timeline's engine results, each computed once and shared by everything that reads them.

A recommendation alone asks the engines for the same timeline's frames up to nine times (grades
at T, the trajectory, the state at T, the HLH screens, and grades around each tocilizumab and
corticosteroid dose), and the dashboard's patient page asks again for its headline grades, its
grade table, its HLH panel and its chart.  Building the frames (``to_frames``) is the largest
single cost on long records (about 0.3-0.8 s for 60,000 events), so an evaluation builds them
once, runs the state engine once for every time asked for together, grades every scale on that
state, and keeps the trajectory and the screens it computed (decision 0024).

Results are those of the public engines, not approximations: the state engine evaluates each
``(patient_id, at)`` row on its own, so a state table of several times holds the same rows as
one table per time; a trajectory's change points are found per scale, so the all-scale
trajectory filtered to some scales is that of those scales.  ``tests/web/test_performance_paths``
compares both paths on simulated patients.  Not thread-safe: one evaluation per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import polars as pl

from crswatch.episodes import trajectory_of_frames
from crswatch.hlh import HLHScreens, screen_frame, screen_results
from crswatch.scales import PatientGrades, grade_state, select_scales
from crswatch.state import StateParameters, clinical_state
from crswatch.timeline import Timeline, to_frames

__all__ = ["TimelineEvaluation"]

_AT = pl.Datetime("us", "UTC")


class TimelineEvaluation:
    """The frames, graded states, trajectories and HLH screens of one timeline, on demand.

    ``params`` (default: the defaults) are the state parameters of every result.
    """

    def __init__(self, timeline: Timeline, params: StateParameters | None = None) -> None:
        self.timeline = timeline
        self.params = params or StateParameters()
        self._frames: tuple[pl.DataFrame, pl.DataFrame] | None = None
        self._graded: dict[datetime, tuple[PatientGrades, dict[str, Any]]] = {}
        self._trajectories: dict[tuple[str, ...] | None, pl.DataFrame] = {}
        self._screens: dict[datetime, HLHScreens] = {}

    @property
    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """``to_frames([timeline])``: the patients and events frames."""
        if self._frames is None:
            self._frames = to_frames([self.timeline])
        return self._frames

    def _times(self, moments: Sequence[datetime]) -> pl.DataFrame:
        return pl.DataFrame(
            {"patient_id": [self.timeline.patient.id] * len(moments), "at": list(moments)},
            schema={"patient_id": pl.String(), "at": _AT},
        )

    def prepare(self, moments: Iterable[datetime]) -> None:
        """Grade every scale at each of ``moments`` not graded yet, in one state-engine pass."""
        missing = sorted(set(moments) - set(self._graded))
        if not missing:
            return
        patients, events = self.frames
        state = clinical_state(patients, events, self._times(missing), self.params)
        graded = grade_state(state, params=self.params)
        for grades, row in zip(graded, state.iter_rows(named=True), strict=True):
            self._graded[row["at"]] = (grades, row)

    def grades(self, at: datetime) -> PatientGrades:
        """Every CRS and ICANS scale at ``at`` (as ``grade_timelines([timeline], at=at)``)."""
        self.prepare([at])
        return self._graded[at][0]

    def state(self, at: datetime) -> dict[str, Any]:
        """The clinical state at ``at`` as a row (as ``state_of([timeline], at=at).row(0)``)."""
        self.prepare([at])
        return self._graded[at][1]

    def trajectory(self, scales: Sequence[str] | None = None) -> pl.DataFrame:
        """The change-point trajectory on ``scales`` (selectors; default every scale).

        Once the every-scale trajectory is computed it answers any subset (filtered).
        """
        key = None if scales is None else tuple(scales)
        if key in self._trajectories:
            return self._trajectories[key]
        everything = self._trajectories.get(None)
        if everything is not None and key is not None:
            wanted = [(scale.kind, scale.id) for scale in select_scales(key)]
            kinds = pl.Series([kind for kind, _ in wanted], dtype=pl.String())
            ids = pl.Series([scale for _, scale in wanted], dtype=pl.String())
            pairs = pl.DataFrame({"kind": kinds, "scale": ids})
            found = everything.join(pairs, on=["kind", "scale"], how="semi", maintain_order="left")
        else:
            patients, events = self.frames
            found = trajectory_of_frames(patients, events, scales=key, params=self.params)
        self._trajectories[key] = found
        return found

    def screens(self, at: datetime) -> HLHScreens:
        """Every HLH/MAS screen at ``at`` (as ``screen_timelines([timeline], at)[0]``)."""
        if at not in self._screens:
            patients, events = self.frames
            (self._screens[at],) = screen_results(screen_frame(patients, events, self._times([at])))
        return self._screens[at]
