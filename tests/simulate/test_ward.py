"""``demo_ward``: the mix at the clock, graded by the real engines; cut, shift and determinism."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crswatch.hlh import screen_timelines
from crswatch.io import read_path, write_path
from crswatch.scales import grade_timelines
from crswatch.simulate import DEMO_SEED, demo_ward, ward_stages
from crswatch.timeline import Timeline

CLOCK = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
HLH_SCREENS = ("carhlh", "hlh2004", "hscore")


@dataclass(frozen=True)
class Mix:
    crs: list[int | None]
    icans: list[int | None]
    hlh_like: list[str]
    blinatumomab: int
    children: int


def mix_at(ward: list[Timeline], clock: datetime) -> Mix:
    graded = grade_timelines(ward, at=clock, scales=["astct2019", "icans.astct2019"])
    screens = screen_timelines(ward, at=clock)
    hlh_like = []
    for timeline, screened in zip(ward, screens, strict=True):
        positive = any(screened.results[screen].status == "met" for screen in HLH_SCREENS)
        ferritin = max(float(e.value) for e in timeline.of("ferritin") if e.time <= clock)
        if positive and ferritin > 10_000:
            hlh_like.append(timeline.patient.id)
    return Mix(
        crs=[g.crs["astct2019"].grade for g in graded],
        icans=[g.icans["astct2019"].grade for g in graded],
        hlh_like=hlh_like,
        blinatumomab=sum(t.patient.therapy.kind == "blinatumomab" for t in ward),
        children=sum((t.patient.age_years or 99) < 18 for t in ward),
    )


def assert_guaranteed(mix: Mix) -> None:
    assert sum(grade in (3, 4) for grade in mix.crs) >= 3, mix.crs
    assert len(mix.hlh_like) >= 1
    assert sum(grade is not None and grade >= 1 for grade in mix.icans) >= 2, mix.icans
    assert mix.blinatumomab >= 3
    assert sum(grade in (0, 1) for grade in mix.crs) >= 2, mix.crs


@pytest.fixture(scope="module")
def ward() -> list[Timeline]:
    return demo_ward(24, clock=CLOCK)


def test_the_default_ward_has_the_guaranteed_mix_at_the_clock(ward: list[Timeline]) -> None:
    mix = mix_at(ward, CLOCK)
    assert_guaranteed(mix)
    # The beds named for a grade have it (ASTCT 2019, graded at the clock).
    stage = dict(zip(ward_stages(24), mix.crs, strict=True))
    assert stage["on a vasopressor"] == 3
    assert stage["high-flow oxygen"] == 3
    assert stage["ventilated"] == 4
    assert stage["blinatumomab held, on a pressor"] == 3
    assert stage["just infused"] == 0
    assert stage["day-1 fever"] == 1
    icans = dict(zip(ward_stages(24), mix.icans, strict=True))
    assert icans["ICANS"] is not None and icans["ICANS"] >= 2
    assert mix.hlh_like == ["ward-04"]
    assert sum(grade in (0, 1) for grade in mix.crs) >= 10
    assert mix.children >= 3
    # Different stages: the days since infusion or first dose spread over the course.
    days = {(CLOCK - t.patient.therapy.start).days for t in ward}
    assert len(days) >= 8 and max(days) >= 10


@pytest.mark.parametrize("seed", [1, 7])
def test_the_mix_holds_for_other_seeds_from_twelve_beds(seed: int) -> None:
    small = demo_ward(12, seed=seed, clock=CLOCK)
    assert_guaranteed(mix_at(small, CLOCK))


def test_a_smaller_ward_is_the_first_beds_of_a_larger_one(ward: list[Timeline]) -> None:
    assert demo_ward(12, clock=CLOCK) == ward[:12]


def test_no_event_after_the_clock_and_running_infusions_stay_open(ward: list[Timeline]) -> None:
    for timeline in ward:
        assert timeline.patient.therapy.start <= CLOCK
        assert timeline.events[-1].time <= CLOCK
        assert all(e.end is None or e.end <= CLOCK for e in timeline.events)
    # The blinatumomab infusions that run at the clock have no end (the ward cannot know it).
    running = [
        t.patient.id
        for t in ward
        if (doses := t.of("blinatumomab")) and doses[-1].end is None and doses[-1].time <= CLOCK
    ]
    assert len(running) >= 3
    # Vital signs are hourly and reach the clock: the last temperature is within 2 hours.
    for timeline in ward:
        assert CLOCK - timeline.of("temperature")[-1].time <= timedelta(hours=2)


def test_ids_are_readable_and_the_ward_is_deterministic(ward: list[Timeline]) -> None:
    assert [t.patient.id for t in ward] == [f"ward-{n:02d}" for n in range(1, 25)]
    assert demo_ward(24, seed=DEMO_SEED, clock=CLOCK) == ward
    assert demo_ward(3, seed=DEMO_SEED + 1, clock=CLOCK) != ward[:3]


def test_another_clock_shifts_every_record_by_the_same_offset(ward: list[Timeline]) -> None:
    shift = timedelta(days=1, minutes=7)
    later = demo_ward(8, clock=CLOCK + shift)
    for before, after in zip(ward[:8], later, strict=True):
        assert after.patient.therapy.start - before.patient.therapy.start == shift
        assert [e.time - shift for e in after.events] == [e.time for e in before.events]
        assert [e.value for e in after.events] == [e.value for e in before.events]


def test_the_clock_defaults_to_now_to_the_minute() -> None:
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    (timeline,) = demo_ward(1)
    after = datetime.now(UTC)
    assert before - timedelta(hours=2) <= timeline.events[-1].time <= after
    assert timeline.events[-1].time.second == 0


def test_the_ward_validates_with_nothing_rejected(ward: list[Timeline], tmp_path: Path) -> None:
    path = write_path(ward, tmp_path / "ward.json")
    result = read_path(path)
    assert result.report.ok and not result.report.issues
    assert result.timelines == ward


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"patients": 0}, "patients=0"),
        ({"patients": 2, "seed": -1}, "seed=-1"),
        ({"patients": 2, "clock": datetime(2026, 1, 1)}, "clock="),
    ],
)
def test_bad_arguments_name_the_field(arguments: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        demo_ward(**arguments)  # type: ignore[arg-type]


def test_the_ward_has_a_myeloma_and_a_lymphoma_bispecific(ward: list[Timeline]) -> None:
    from crswatch.regimens import regimen_status

    beds = dict(zip(ward_stages(24), ward, strict=True))
    myeloma = beds["myeloma bispecific, after step-up dose 2"]
    lymphoma = beds["lymphoma bispecific with CRS"]
    assert myeloma.patient.therapy.product in ("teclistamab", "elranatamab", "talquetamab")
    assert lymphoma.patient.therapy.product in ("epcoritamab", "glofitamab", "mosunetuzumab")
    # The myeloma bed is inside the label's stay after step-up dose 2 (20 h after it).
    status = regimen_status(myeloma, CLOCK)
    assert status.in_monitoring
    assert status.deviations == ()
    crs = regimen_status(lymphoma, CLOCK).to_dict()["grades"]["crs"]["grade"]
    assert crs in (1, 2)
