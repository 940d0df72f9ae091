"""The shared-work paths of the dashboard give exactly what the straightforward paths give.

Decision 0024 made the patient page build one ``TimelineEvaluation`` (frames once, one state
pass for every time, the trajectory and HLH screens shared) and the ward grade now and 24 h ago
in one pass.  Here each result is recomputed the straightforward way, one public engine call
per question as the code did before, on simulated demo-ward patients chosen for what they
exercise (tocilizumab and corticosteroids given more than 24 h ago, an HLH picture, ICANS, a
blinatumomab patient on the label's rule set), and compared field by field.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crswatch.episodes import trajectory
from crswatch.hlh import hlh_flags, screen_timelines
from crswatch.management import TimelineEvaluation, gather_facts, get_ruleset, recommend
from crswatch.management._engine import DEFAULT_RULESET
from crswatch.management._facts import _episodes_at_least, _peak
from crswatch.scales import grade_timelines
from crswatch.simulate import demo_ward
from crswatch.state import state_of
from crswatch.timeline import Timeline
from crswatch.web import _charts, _panels
from crswatch.web._pages import DEFAULT_SCALE, patient_data
from crswatch.web._ward import ICANS_SCALE, GradeCell, _blinatumomab_alert, up_to, ward_rows

CLOCK = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
#: ventilated (2 tocilizumab, 4 steroid doses), HLH-like, blinatumomab held on a pressor,
#: ICANS with 12 steroid doses.
CHOSEN = ("ward-02", "ward-04", "ward-06", "ward-23")


@pytest.fixture(scope="module")
def ward() -> list[Timeline]:
    return demo_ward(clock=CLOCK)


@pytest.fixture(scope="module", params=CHOSEN)
def record(request: pytest.FixtureRequest, ward: list[Timeline]) -> Timeline:
    (found,) = [t for t in ward if t.patient.id == request.param]
    return up_to(found, CLOCK)


def _lower(timeline: Timeline, at: datetime, scale: str) -> int:
    result = grade_timelines([timeline], at=at, scales=[scale])[0].crs.get(scale)
    return 0 if result is None else int(result.bounds[0])


def _straightforward_facts(
    timeline: Timeline, at: datetime, crs: str, icans: str
) -> dict[str, Any]:
    """The engine-derived facts, one public call per question (the code before decision 0024)."""
    selector = f"icans.{icans}"
    graded = grade_timelines([timeline], at=at, scales=[crs, selector])[0]
    low, high = graded.crs[crs].bounds
    ilow, ihigh = graded.icans[icans].bounds
    path = trajectory([timeline], scales=[crs, selector])
    state = state_of([timeline], at=at).row(0, named=True)

    def no_improvement(times: list[datetime]) -> bool | None:
        matured = [t for t in times if t <= at - timedelta(hours=24)]
        if not matured:
            return None
        before = _lower(timeline, matured[-1] - timedelta(minutes=1), crs)
        after = _lower(timeline, matured[-1] + timedelta(hours=24), crs)
        return after >= before and after > 0

    facts = gather_facts(timeline, at, crs, icans)  # for the steroid dose times only
    week = at - timedelta(days=7)
    return {
        "crs_grade": low,
        "crs_upper": high,
        "crs_status": graded.crs[crs].status,
        "icans_grade": ilow,
        "icans_upper": ihigh,
        "icans_status": graded.icans[icans].status,
        "crs_peak_7d": max(_peak(path, "crs", crs, week, at), low),
        "icans_peak_7d": max(_peak(path, "icans", icans, week, at), ilow),
        "crs_episodes_grade2": _episodes_at_least(path, crs, 2, at),
        "fever": state.get("fever"),
        "hypotension": state.get("hypotension"),
        "pressors_running": int(state.get("pressors_running") or 0),
        "positive_pressure": bool(state.get("positive_pressure")),
        "invasive_ventilation": bool(state.get("invasive_ventilation")),
        "hlh": {name: str(status) for name, status in hlh_flags(timeline, at).items()},
        "no_improvement_24h_after_tocilizumab": no_improvement(
            [e.time for e in timeline.of("tocilizumab") if e.time <= at]
        ),
        "no_improvement_24h_on_steroids": no_improvement([t for t, _, _ in facts.steroids.doses]),
    }


def _moments(timeline: Timeline) -> list[datetime]:
    """Now, and two days before now (inside the course, after the doses matured or not)."""
    start = timeline.patient.therapy.start
    return [CLOCK, max(CLOCK - timedelta(days=2), start)]


def test_facts_with_a_shared_evaluation_are_the_straightforward_ones(record: Timeline) -> None:
    ruleset = get_ruleset(DEFAULT_RULESET[record.patient.therapy.kind])
    evaluation = TimelineEvaluation(record)
    evaluation.trajectory()  # as the page: the every-scale trajectory first, then filtered
    for moment in _moments(record):
        expected = _straightforward_facts(record, moment, ruleset.crs_scale, ruleset.icans_scale)
        shared = gather_facts(
            record, moment, ruleset.crs_scale, ruleset.icans_scale, evaluation=evaluation
        )
        alone = gather_facts(record, moment, ruleset.crs_scale, ruleset.icans_scale)
        assert shared == alone
        assert {name: getattr(shared, name) for name in expected} == expected


def test_the_page_is_the_straightforward_page(record: Timeline) -> None:
    data = patient_data(record, CLOCK)
    # Headline grades: the two scales graded alone.
    alone = grade_timelines([record], at=CLOCK, scales=[DEFAULT_SCALE, ICANS_SCALE])[0]
    assert data["grades"]["crs_main"] == alone.crs[DEFAULT_SCALE]
    assert data["grades"]["icans"] == alone.icans[ICANS_SCALE.split(".", 1)[1]]
    # Charts: from the trajectory computed on its own.
    alone_chart = _charts.timeline_chart(record, trajectory([record]), now=CLOCK, zone=UTC)
    assert data["timeline_spec"] == alone_chart
    assert data["cytokine_spec"] == _charts.cytokine_chart(record, now=CLOCK, zone=UTC)
    # Panels: every part from its own engine call.
    panels = data["panels"]
    assert panels == _panels.patient_panels(record, at=CLOCK)
    (graded,) = grade_timelines([record], at=CLOCK)
    rows = tuple(
        _panels._scale_row(syndrome, scale_id, result)
        for syndrome, results in (("crs", graded.crs), ("icans", graded.icans))
        for scale_id, result in results.items()
    )
    assert panels.grades == rows
    assert panels.recommendations == _panels._recommendation_panel(
        recommend(record, CLOCK, with_regimen=False)
    )
    (screens,) = screen_timelines([record], CLOCK)
    assert panels.hlh.any_met == screens.any_met
    assert panels.hlh.screens == tuple(
        _panels._screen_row(screen_id, result, None)
        for screen_id, result in screens.results.items()
    )
    assert panels.biomarkers == _panels._biomarker_panel(record, CLOCK)
    assert panels.regimen == _panels._regimen_panel(record, CLOCK)
    # Through the template's eyes too: the same plain values.
    assert dataclasses.asdict(panels) == dataclasses.asdict(
        _panels.patient_panels(record, at=CLOCK)
    )


def test_the_ward_rows_are_the_straightforward_rows(ward: list[Timeline]) -> None:
    rows = {row.patient_id: row for row in ward_rows(ward, CLOCK)}
    current = [up_to(t, CLOCK) for t in ward]
    scales = [DEFAULT_SCALE, ICANS_SCALE]
    icans = ICANS_SCALE.split(".", 1)[1]
    now = grade_timelines(current, at=CLOCK, scales=scales)
    then = grade_timelines(current, at=CLOCK - timedelta(hours=24), scales=scales)
    flags = {s.patient_id: s.flags for s in screen_timelines(current, CLOCK)}
    assert len(rows) == len(ward)
    for timeline, at_now, at_then in zip(current, now, then, strict=True):
        row = rows[timeline.patient.id]
        assert row.crs == GradeCell.of(at_now.crs[DEFAULT_SCALE])
        assert row.icans == GradeCell.of(at_now.icans[icans])
        assert row.crs_trend.then == GradeCell.of(at_then.crs[DEFAULT_SCALE])
        assert row.icans_trend.then == GradeCell.of(at_then.icans[icans])
        met = [name for name, status in flags[timeline.patient.id].items() if status == "met"]
        hlh = [alert for alert in row.alerts if alert.code == "hlh"]
        assert [alert.detail for alert in hlh] == (["met: " + ", ".join(met)] if met else [])
        blina = [alert for alert in row.alerts if alert.code == "blinatumomab"]
        alone = _blinatumomab_alert(timeline, CLOCK)
        assert blina == ([] if alone is None else [alone])
