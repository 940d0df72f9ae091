"""The screens' inputs from one query are the inputs of the plan before (decision 0073).

``screen_inputs`` chooses every input's event in one windowed sort and group-by instead of one
join, sort and group-by per input; ``tests/hlh/inputs_reference.py`` keeps the code before
verbatim.  The frames must be equal, column for column (names, order, types, nulls, values):
the golden cases at every event time under several parameter sets, the demo ward every six
hours of its records, the tests' simulated ward, and records built to tie values and times.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from crswatch.hlh import HLHParameters, SupplementaryFindings, screen_inputs
from crswatch.simulate import demo_ward
from crswatch.timeline import Timeline, to_frames
from tests.builders import ev, timeline
from tests.hlh._golden import load_cases
from tests.hlh.inputs_reference import reference_screen_inputs
from tests.web.ward import NOW, simulated_ward

CASES = load_cases()
_AT = pl.Datetime("us", "UTC")
PARAMETERS = [
    HLHParameters(),
    HLHParameters(
        window=timedelta(hours=24),
        baseline_window=timedelta(days=3),
        carhlh_crs_phase=timedelta(days=2),
        ctcae_version="v5.0",
        default_uln={"alt": 35.0},
        default_lln={},
    ),
]


def _every_event_time(timelines: list[Timeline], extra: list[datetime]) -> pl.DataFrame:
    ids, moments = [], []
    for item in timelines:
        times = {event.time for event in item.events} | {item.patient.therapy.start, *extra}
        times |= {t + timedelta(hours=72) for t in list(times)}  # windows closing
        ids += [item.patient.id] * len(times)
        moments += sorted(times)
    return pl.DataFrame(
        {"patient_id": ids, "at": moments}, schema={"patient_id": pl.String(), "at": _AT}
    )


def _assert_same(
    timelines: list[Timeline],
    times: pl.DataFrame,
    params: HLHParameters | None = None,
    findings: dict[str, SupplementaryFindings] | None = None,
) -> None:
    patients, events = to_frames(timelines)
    new = screen_inputs(patients, events, times, params, findings)
    old = reference_screen_inputs(patients, events, times, params, findings)
    assert new.schema == old.schema
    assert new.equals(old), new.join(old, on=["patient_id", "at"], how="anti")


@pytest.mark.parametrize("params", PARAMETERS, ids=["default", "changed"])
def test_the_golden_cases_at_every_event_time(params: HLHParameters) -> None:
    for case in CASES:
        times = _every_event_time([case.timeline], [case.at] if case.at else [])
        findings = {case.timeline.patient.id: case.findings}
        _assert_same([case.timeline], times, params, findings)


def test_the_demo_ward_every_six_hours() -> None:
    clock = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
    ward = demo_ward(clock=clock)
    grid = pl.datetime_range(
        clock - timedelta(days=21), clock, timedelta(hours=6), time_zone="UTC", eager=True
    )
    times = pl.DataFrame({"patient_id": [t.patient.id for t in ward]}).join(
        pl.DataFrame({"at": grid.cast(_AT)}), how="cross"
    )
    for params in PARAMETERS:
        _assert_same(ward, times, params)


def test_the_simulated_ward_at_every_event_time() -> None:
    ward = simulated_ward(6, seed=73, now=NOW)
    _assert_same(ward, _every_event_time(ward, [NOW]))


def test_ties_units_censoring_and_limits() -> None:
    """Equal values at different times (the latest wins), censored results, sIL-2R in two
    units, reference limits given, absent and zero, findings recorded twice."""
    events = [
        ev(-48, "ferritin", 900, "ng/mL"),
        ev(-24, "ferritin", 900, "ng/mL", ref_high=300),
        ev(-24, "platelets", 140, "10*3/uL", ref_low=0),
        ev(10, "ferritin", 12000, "ng/mL", censored="above_uloq"),
        ev(20, "ferritin", 12000, "ng/mL"),
        ev(20, "fibrinogen", 90, "mg/dL"),
        ev(30, "fibrinogen", 90, "mg/dL"),
        ev(30, "platelets", 20, "10*3/uL", censored="below_lod"),
        ev(30, "il2r", 2600, "U/mL"),
        ev(31, "il2r", 9000, "pg/mL"),
        ev(40, "ast", 300, "U/L", ref_high=35),
        ev(40, "alt", 200, "U/L"),
        ev(40, "ldh", 900, "U/L", ref_high=0),
        ev(44, "splenomegaly", True),
        ev(50, "splenomegaly", False),
        ev(50, "temperature", 39.5, "Cel"),
        ev(52, "temperature", 39.5, "Cel"),
        ev(60, "tocilizumab", 560, "mg"),
        ev(61, "creatinine", 3.9, "mg/dL"),
    ]
    record = timeline(events)
    times = _every_event_time([record], [])
    for params in PARAMETERS:
        _assert_same([record], times, params)


def test_no_events_and_an_unknown_patient() -> None:
    record = timeline([])
    times = pl.DataFrame(
        {"patient_id": [record.patient.id, "nobody"], "at": [NOW, NOW]},
        schema={"patient_id": pl.String(), "at": _AT},
    )
    _assert_same([record], times)
