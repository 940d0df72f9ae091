"""Grading properties, every scale: worse never lowers; time shifts and grouping change nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crswatch.episodes import trajectory
from crswatch.scales import CRS_SCALES, grade_frame
from crswatch.state import state_of
from crswatch.timeline import format_time
from tests.builders import at, ev, timeline

# Each dimension is a chain from mild to severe; a scenario picks one level per dimension.
TEMPERATURE = [36.5, 37.9, 38.0, 39.0, 40.5]
SBP = [120, 95, 89, 75]
PRESSORS: list[list[tuple[str, float, str]]] = [
    [],
    [("norepinephrine", 5, "ug/min")],
    [("norepinephrine", 5, "ug/min"), ("vasopressin", 0.03, "U/min")],
    [("norepinephrine", 25, "ug/min"), ("vasopressin", 0.03, "U/min")],
    [
        ("norepinephrine", 25, "ug/min"),
        ("vasopressin", 0.03, "U/min"),
        ("epinephrine", 10, "ug/min"),
    ],
]
OXYGEN: list[list[tuple[str, Any, str | None]]] = [
    [],
    [("o2_device", "nasal_cannula", None), ("o2_flow", 2, "L/min")],
    [("o2_device", "nasal_cannula", None), ("o2_flow", 6, "L/min")],
    [("o2_device", "nasal_cannula", None), ("o2_flow", 8, "L/min")],
    [("o2_device", "high_flow_nasal_cannula", None), ("o2_flow", 40, "L/min"), ("fio2", 50, "%")],
    [("o2_device", "bipap", None), ("fio2", 60, "%")],
    [("o2_device", "mechanical_ventilation", None), ("fio2", 60, "%")],
]
FLUIDS = [0, 1, 2]
DIMENSIONS = {
    "temp": TEMPERATURE,
    "sbp": SBP,
    "pressors": PRESSORS,
    "oxygen": OXYGEN,
    "fluids": FLUIDS,
}
SCENARIO = st.fixed_dictionaries(
    {name: st.integers(0, len(levels) - 1) for name, levels in DIMENSIONS.items()}
)


def _events(scenario: dict[str, int], shift_hours: float = 0) -> list[dict[str, Any]]:
    t = 48 + shift_hours
    events = [
        ev(t, "temperature", TEMPERATURE[scenario["temp"]], "Cel"),
        ev(t, "sbp", SBP[scenario["sbp"]], "mm[Hg]"),
    ]
    events += [ev(t - 4, drug, rate, unit) for drug, rate, unit in PRESSORS[scenario["pressors"]]]
    events += [ev(t - 1, item, value, unit) for item, value, unit in OXYGEN[scenario["oxygen"]]]
    events += [ev(t - 2 - n, "fluid_bolus", 500, "mL") for n in range(FLUIDS[scenario["fluids"]])]
    return events


def _grades(scenario: dict[str, int], shift_hours: float = 0) -> dict[str, tuple[Any, ...]]:
    # Every time moves, the therapy start too: CRS is established only by a fever after it
    # (docs/decisions/0023-crs-context.md).
    therapy = {"kind": "car_t", "start": format_time(at(shift_hours))}
    events = _events(scenario, shift_hours)
    state = state_of([timeline(events, therapy=therapy)], at=at(48.5 + shift_hours))
    out = {}
    for scale_id, scale in CRS_SCALES.items():
        row = grade_frame(scale, state).row(0, named=True)
        out[scale_id] = (row["grade"], row["status"], row["lower"], row["upper"])
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCENARIO, st.sampled_from(sorted(DIMENSIONS)), st.data())
def test_a_worse_input_never_lowers_a_grade(
    scenario: dict[str, int], dimension: str, data: st.DataObject
) -> None:
    top = len(DIMENSIONS[dimension]) - 1
    if scenario[dimension] == top:
        return
    worse = dict(scenario)
    worse[dimension] = data.draw(st.integers(scenario[dimension] + 1, top), label="worse level")
    before, after = _grades(scenario), _grades(worse)
    for scale_id in CRS_SCALES:
        _, _, low_before, high_before = before[scale_id]
        _, _, low_after, high_after = after[scale_id]
        assert low_after >= low_before, (
            scale_id,
            scenario,
            worse,
            before[scale_id],
            after[scale_id],
        )
        assert high_after >= high_before, (
            scale_id,
            scenario,
            worse,
            before[scale_id],
            after[scale_id],
        )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCENARIO, st.integers(-2000, 2000))
def test_shifting_every_time_changes_nothing(scenario: dict[str, int], shift_hours: int) -> None:
    assert _grades(scenario) == _grades(scenario, shift_hours)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SCENARIO, min_size=2, max_size=4))
def test_cohort_path_equals_one_patient_path(scenarios: list[dict[str, int]]) -> None:
    timelines = [timeline(_events(s), patient_id=f"P{i}") for i, s in enumerate(scenarios)]
    cohort = state_of(timelines, at=at(48.5))
    for scale in CRS_SCALES.values():
        together = grade_frame(scale, cohort).sort("patient_id")
        for i, one in enumerate(timelines):
            alone = grade_frame(scale, state_of([one], at=at(48.5)))
            assert together.filter(together["patient_id"] == f"P{i}").equals(alone)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCENARIO, st.integers(1, 72))
def test_a_trajectory_ends_at_the_last_event_with_clean_times(
    scenario: dict[str, int], extra_hours: int
) -> None:
    # Issue 14 defect 3: running infusions and open windows are not carried past the record,
    # and a reading leaving its window is reported at time + window (whole seconds here).
    events = [*_events(scenario), ev(48 + extra_hours, "temperature", 37.0, "Cel")]
    table = trajectory([timeline(events)], changes_only=False)
    assert table["at"].max() == at(48 + extra_hours)
    assert all(moment.microsecond == 0 for moment in table["at"].to_list())


def test_shift_helper_really_moves_time() -> None:
    # Guard for the property above: a shifted scenario has different event times.
    base = timeline(_events({"temp": 3, "sbp": 0, "pressors": 0, "oxygen": 0, "fluids": 0}))
    moved = timeline(_events({"temp": 3, "sbp": 0, "pressors": 0, "oxygen": 0, "fluids": 0}, 5))
    assert moved.events[0].time - base.events[0].time == timedelta(hours=5)


LABS = [
    ev(47, "alt", 30, "U/L", ref_high=40),
    ev(47, "ast", 30, "U/L", ref_high=40),
    ev(47, "bilirubin", 0.8, "mg/dL", ref_high=1.2),
    ev(47, "creatinine", 0.9, "mg/dL", ref_high=1.2),
    ev(47, "fibrinogen", 300, "mg/dL", ref_low=200),
    ev(47, "lvef", 60, "%"),
]


def _statuses(events: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    state = state_of([timeline(events)], at=at(48.5))
    out = {}
    for scale_id, scale in CRS_SCALES.items():
        row = grade_frame(scale, state).row(0, named=True)
        out[scale_id] = (row["grade"], row["status"], row["lower"], row["upper"])
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCENARIO, st.lists(st.sampled_from(range(len(LABS))), unique=True))
def test_a_provisional_grade_lies_in_its_bounds_and_labs_only_narrow_them(
    scenario: dict[str, int], charted: list[int]
) -> None:
    # Decision 0026: a provisional grade is the lower bound, below the upper; adding (normal)
    # labs never widens the bounds and never changes a graded result.
    base = _events(scenario)
    before = _statuses(base)
    after = _statuses(base + [LABS[i] for i in charted])
    for scale_id in CRS_SCALES:
        grade, status, low, high = before[scale_id]
        if status == "provisional":
            assert grade == low < high, (scale_id, before[scale_id])
        elif status == "graded":
            assert grade == low == high, (scale_id, before[scale_id])
        else:
            assert grade is None, (scale_id, before[scale_id])
        _, _, low_after, high_after = after[scale_id]
        assert low <= low_after and high_after <= high, (scale_id, before, after)
        if status == "graded":
            assert after[scale_id] == before[scale_id], (scale_id, before, after)
