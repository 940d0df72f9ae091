"""ICANS grading properties: a worse domain never lowers the grade; an unassessed ICE item never
raises or lowers it silently; time shifts and grouping patients change nothing."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crswatch.scales import ICANS_SCALES, GradeResult, grade_frame, grade_timelines
from crswatch.state import state_of
from tests.builders import at, ev, timeline

SCALE = ICANS_SCALES["astct2019"]
ITEM_POINTS = {
    "ice_orientation": 4,
    "ice_naming": 3,
    "ice_commands": 1,
    "ice_writing": 1,
    "ice_attention": 1,
}
# Each domain is a chain from normal to most severe; a scenario picks one level per domain.
ICE = [10, 9, 7, 6, 3, 2, 0]
CAPD = [0, 1, 8, 9, 20]
CONSCIOUSNESS = [
    "alert",
    "awakens_spontaneously",
    "awakens_to_voice",
    "awakens_to_tactile",
    "unarousable",
]
SEIZURE = [None, "focal_resolved", "generalized_resolved", "repetitive"]
MOTOR = [None, "none", "mild", "deep_focal"]
EDEMA = [None, "none", "focal", "diffuse"]
ICP = [None, "cn6_palsy"]
DOMAINS: dict[str, list[Any]] = {
    "assessment": ICE,  # ICE for adults, CAPD (same number of levels is not needed) for children
    "consciousness": CONSCIOUSNESS,
    "seizure": SEIZURE,
    "motor": MOTOR,
    "edema": EDEMA,
    "icp": ICP,
}
SCENARIO = st.fixed_dictionaries(
    {name: st.integers(0, len(levels) - 1) for name, levels in DOMAINS.items()}
)
AGES = st.sampled_from([7, 50])


def _assessment_levels(age: int) -> list[Any]:
    return CAPD if age < 12 else ICE


def _events(scenario: dict[str, int], age: int, shift: float = 0) -> list[dict[str, Any]]:
    t = 48 + shift
    levels = _assessment_levels(age)
    value = levels[min(scenario["assessment"], len(levels) - 1)]
    events = [
        ev(t, "capd_score" if age < 12 else "ice_score", value),
        ev(t, "consciousness", CONSCIOUSNESS[scenario["consciousness"]]),
    ]
    for domain, item in (
        ("seizure", "seizure"),
        ("motor", "motor_weakness"),
        ("edema", "cerebral_edema"),
        ("icp", "icp_sign"),
    ):
        code = DOMAINS[domain][scenario[domain]]
        if code is not None:
            events.append(ev(t - 2, item, code))
    return events


def _bounds(scenario: dict[str, int], age: int, shift: float = 0) -> tuple[Any, ...]:
    state = state_of([timeline(_events(scenario, age, shift), age_years=age)], at=at(49 + shift))
    row = grade_frame(SCALE, state).row(0, named=True)
    return (row["grade"], row["status"], row["lower"], row["upper"])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCENARIO, AGES, st.sampled_from(sorted(DOMAINS)), st.data())
def test_a_worse_domain_never_lowers_the_grade(
    scenario: dict[str, int], age: int, domain: str, data: st.DataObject
) -> None:
    top = len(DOMAINS[domain]) - 1
    if domain == "assessment":
        top = len(_assessment_levels(age)) - 1
    if scenario[domain] >= top:
        return
    worse = dict(scenario)
    worse[domain] = data.draw(st.integers(scenario[domain] + 1, top), label="worse level")
    _, _, low_before, high_before = _bounds(scenario, age)
    _, _, low_after, high_after = _bounds(worse, age)
    context = (age, domain, scenario, worse, (low_before, high_before), (low_after, high_after))
    assert low_after >= low_before, context
    assert high_after >= high_before, context


ITEMS = st.fixed_dictionaries({name: st.integers(0, top) for name, top in ITEM_POINTS.items()})
UNASSESSED = st.sets(st.sampled_from(sorted(ITEM_POINTS)), min_size=1)


def _ice_result(
    items: dict[str, int], consciousness: str, unassessed: set[str], omit: bool
) -> GradeResult:
    events = [ev(48, "consciousness", consciousness)]
    for name, value in items.items():
        if name not in unassessed:
            events.append(ev(48, name, value))
        elif not omit:
            events.append(ev(48, name, "not_assessed"))
    (graded,) = grade_timelines([timeline(events)], at=at(49), scales=["icans.astct2019"])
    return graded.icans["astct2019"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ITEMS, st.sampled_from(CONSCIOUSNESS), UNASSESSED, st.booleans())
def test_an_unassessed_item_never_changes_the_grade_silently(
    items: dict[str, int], consciousness: str, unassessed: set[str], omit: bool
) -> None:
    full = _ice_result(items, consciousness, set(), omit)
    partial = _ice_result(items, consciousness, unassessed, omit)
    context = (items, consciousness, sorted(unassessed), full.to_dict(), partial.to_dict())
    assert full.status == "graded" and full.grade is not None, context
    # Never lowered or raised: the full-data grade is always inside the partial bounds ...
    low, high = partial.bounds
    assert low <= full.grade <= high, context
    # ... and never silent: a warning names the items, and an open range names them as missing.
    if omit and unassessed == set(ITEM_POINTS):
        # Nothing charted at all is no ICE assessment, not an itemised one.
        assert partial.status == "graded" or any("ICE score" in m for m in partial.missing), context
        return
    named = [w for w in partial.warnings if "ICE items not assessed" in w]
    assert named and all(item in named[0] for item in unassessed), context
    if partial.status == "graded":
        assert partial.grade == full.grade, context
    else:
        # Provisional when the assessed items fix a grade (decision 0026), else not assessable;
        # either way the missing items are named, and nothing else is.
        assert partial.status in ("provisional", "not_assessable"), context
        names = {item.removeprefix("ice_") for item in unassessed}
        for phrase in partial.missing:
            assert "level of consciousness" in phrase or any(n in phrase for n in names), context
        assert any(n in phrase for phrase in partial.missing for n in names), context


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SCENARIO, AGES, st.integers(-2000, 2000))
def test_shifting_every_time_changes_nothing(
    scenario: dict[str, int], age: int, shift_hours: int
) -> None:
    assert _bounds(scenario, age) == _bounds(scenario, age, shift_hours)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(SCENARIO, AGES), min_size=2, max_size=4))
def test_cohort_path_equals_one_patient_path(scenarios: list[tuple[dict[str, int], int]]) -> None:
    timelines = [
        timeline(_events(s, age), patient_id=f"P{i}", age_years=age)
        for i, (s, age) in enumerate(scenarios)
    ]
    together = grade_frame(SCALE, state_of(timelines, at=at(49))).sort("patient_id")
    for i, one in enumerate(timelines):
        alone = grade_frame(SCALE, state_of([one], at=at(49)))
        assert together.filter(together["patient_id"] == f"P{i}").equals(alone)
