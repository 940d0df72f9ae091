"""``screen_statuses`` (the statuses as columns) gives each screen's ``decide`` status.

The ward shows only whether a screen is met (decision 0073); it reads the statuses as columns
over the screen frame instead of building every criterion's outcome row by row.  Each row of
the frame is compared with ``screen_results``' flags: the golden cases at every event time, with
their parameters and findings (both routes of HLH-2004, every status of every screen), and the
demo ward every six hours of its records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from crswatch.hlh import (
    SCREENS,
    HLHParameters,
    SupplementaryFindings,
    screen_frame,
    screen_results,
    screen_statuses,
)
from crswatch.simulate import demo_ward
from crswatch.timeline import Timeline, to_frames
from tests.hlh._golden import HLHCase, load_cases

CASES = load_cases()
_AT = pl.Datetime("us", "UTC")


def _compare(frame: pl.DataFrame, params: HLHParameters | None = None) -> Counter[str]:
    """Assert every row's statuses are the flags; count the statuses seen, per screen."""
    statuses = screen_statuses(frame, params)
    assert statuses.columns == ["patient_id", "at", *SCREENS]
    seen: Counter[str] = Counter()
    results = screen_results(frame, params)
    for result, row in zip(results, statuses.iter_rows(named=True), strict=True):
        assert (row["patient_id"], row["at"]) == (result.patient_id, result.at)
        assert {screen: row[screen] for screen in SCREENS} == result.flags, row
        seen.update(f"{screen}:{status}" for screen, status in result.flags.items())
    return seen


def _every_event_time(timeline: Timeline, at: datetime | None) -> pl.DataFrame:
    moments = {event.time for event in timeline.events} | {timeline.patient.therapy.start}
    if at is not None:
        moments.add(at)
    return pl.DataFrame(
        {"patient_id": [timeline.patient.id] * len(moments), "at": sorted(moments)},
        schema={"patient_id": pl.String(), "at": _AT},
    )


@pytest.mark.parametrize("case", CASES, ids=[f"{c.file}:{c.id}" for c in CASES])
def test_golden_cases_statuses_are_decides(case: HLHCase) -> None:
    patients, events = to_frames([case.timeline])
    times = _every_event_time(case.timeline, case.at)
    frame = screen_frame(patients, events, times, case.params, case.findings)
    _compare(frame, case.params)


def _variants(case: HLHCase) -> list[tuple[HLHParameters, SupplementaryFindings]]:
    """The case as given, with IEC-HS's timing recorded either way, and with its proxy rule."""
    params, findings = case.params, case.findings
    return [
        (params, findings),
        (params, replace(findings, iechs_timing=True)),
        (params, replace(findings, iechs_timing=False)),
        (params.with_(iechs_temporal_rule="after_crs_therapy"), findings),
    ]


def test_every_status_of_every_screen_is_compared() -> None:
    seen: Counter[str] = Counter()
    for case in CASES:
        patients, events = to_frames([case.timeline])
        times = _every_event_time(case.timeline, case.at)
        for params, findings in _variants(case):
            frame = screen_frame(patients, events, times, params, findings)
            seen += _compare(frame, params)
    expected = {f"{s}:{v}" for s in SCREENS for v in ("met", "not_met", "not_assessable")}
    assert expected <= set(seen), sorted(expected - set(seen))


@pytest.mark.parametrize("molecular", [True, False, None])
def test_hlh2004s_molecular_route(molecular: bool | None) -> None:
    (case,) = [c for c in CASES if c.expected.get("hlh2004")][:1]
    patients, events = to_frames([case.timeline])
    findings = SupplementaryFindings(hlh_molecular_diagnosis=molecular)
    times = _every_event_time(case.timeline, case.at)
    _compare(screen_frame(patients, events, times, findings=findings))


def test_the_demo_ward_every_six_hours() -> None:
    clock = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)
    ward = demo_ward(clock=clock)
    patients, events = to_frames(ward)
    grid = pl.datetime_range(
        clock - timedelta(days=21), clock, timedelta(hours=6), time_zone="UTC", eager=True
    )
    times = patients.select("patient_id").join(pl.DataFrame({"at": grid.cast(_AT)}), how="cross")
    seen = _compare(screen_frame(patients, events, times))
    assert seen["hscore:met"] + seen["carhlh:met"] + seen["hlh2004:met"] > 0, seen
