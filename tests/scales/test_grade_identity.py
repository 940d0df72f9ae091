"""The grading query of decision 0074 grades exactly as the query before it.

Each bound over a scale's criteria is now a column computed once and read by name, and the
scales' column steps are taken together; ``tests/scales/grade_reference.py`` keeps the code
before verbatim.  Compared on the golden cases' states at every event time and on simulated
patients' states at every change point, under both CRS-context rules: every graded column of
every scale (names, types, nulls, values) and every result with its evidence (``to_dict``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crswatch.scales import grade_state, with_crs_activity
from crswatch.scales._grade import with_graded
from crswatch.scales._registry import select_scales
from crswatch.simulate import iter_cohort
from crswatch.state import StateParameters, clinical_state, states_over_time
from crswatch.timeline import to_frames
from tests.golden._harness import load_cases
from tests.scales import grade_reference as reference

_AT = pl.Datetime("us", "UTC")
DEFINITIONS = ["astct2019", "scale_literal"]
#: Every scale, CRS only, ICANS only, and one CRS scale with ICANS (the activity is then added).
SELECTIONS: list[list[str] | None] = [
    None,
    ["astct2019", "lee2014", "mskcc2018"],
    ["icans.astct2019"],
    ["penn2018", "icans.astct2019"],
]


def _golden_states(params: StateParameters) -> pl.DataFrame:
    """Every golden case's state at each of its event times and its ``at``, in one call (each
    case's patient renamed by its index: cases may share an id)."""
    patients, events, times = [], [], []
    for index, case in enumerate(load_cases(Path(__file__).parents[1] / "golden")):
        case_patients, case_events = to_frames([case.timeline])
        renamed = pl.lit(f"{index:04d}")
        patients.append(case_patients.with_columns(patient_id=renamed))
        events.append(case_events.with_columns(patient_id=renamed))
        moments = {event.time for event in case.timeline.events}
        moments |= {case.timeline.patient.therapy.start, *([case.at] if case.at else [])}
        times.append(
            pl.DataFrame(
                {"patient_id": [f"{index:04d}"] * len(moments), "at": sorted(moments)},
                schema={"patient_id": pl.String(), "at": _AT},
            )
        )
    return clinical_state(
        pl.concat(patients, how="diagonal_relaxed"),
        pl.concat(events, how="diagonal_relaxed"),
        pl.concat(times),
        params,
    )


def _simulated_states(params: StateParameters) -> pl.DataFrame:
    timelines = list(iter_cohort(6, seed=5, therapy="mixed", vitals_every=timedelta(hours=1)))
    patients, events = to_frames(timelines)
    return states_over_time(patients, events, params)[1]


@pytest.fixture(scope="module")
def frames() -> list[pl.DataFrame]:
    # The state does not read the CRS-context rule (only the grading does): computed once.
    params = StateParameters()
    return [_golden_states(params), _simulated_states(params)]


@pytest.fixture(scope="module", params=DEFINITIONS)
def states(
    request: pytest.FixtureRequest, frames: list[pl.DataFrame]
) -> tuple[StateParameters, list[pl.DataFrame]]:
    return StateParameters(crs_definition=request.param), frames


def _graded_columns(scale: Any, prefix: str) -> list[str]:
    flags = [f"{prefix}__c{index}" for index in range(len(scale.criteria))]
    return [f"{prefix}{name}" for name in reference._GRADED] + flags


def test_every_graded_column_is_the_query_before(
    states: tuple[StateParameters, list[pl.DataFrame]],
) -> None:
    params, frames = states
    for state in frames:
        state = with_crs_activity(state)
        for scale in select_scales(None):
            for prefix in ("", "__s3"):
                columns = _graded_columns(scale, prefix)
                new = with_graded(state.lazy(), scale, params.crs_definition, prefix=prefix)
                old = reference.with_graded(
                    state.lazy(), scale, params.crs_definition, prefix=prefix
                )
                new_frame, old_frame = new.select(columns).collect(), old.select(columns).collect()
                assert new_frame.schema == old_frame.schema, scale.id
                assert new_frame.equals(old_frame), scale.id


def test_the_crs_activity_is_the_one_before(
    states: tuple[StateParameters, list[pl.DataFrame]],
) -> None:
    for state in states[1]:
        new, old = with_crs_activity(state), reference.with_crs_activity(state)
        assert new.schema == old.schema
        assert new.equals(old)


@pytest.mark.parametrize("scales", SELECTIONS, ids=["all", "crs", "icans", "penn+icans"])
def test_every_result_is_the_result_before(
    states: tuple[StateParameters, list[pl.DataFrame]], scales: list[str] | None
) -> None:
    params, frames = states
    for state in frames:
        new = [g.to_dict() for g in grade_state(state, scales=scales, params=params)]
        old = [g.to_dict() for g in reference.grade_state(state, scales=scales, params=params)]
        assert len(new) == state.height
        assert new == old
