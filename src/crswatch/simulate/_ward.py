"""A synthetic ward at a common clock: patients at different stages of their course, cut at now.

``demo_ward(24)`` is what ``crswatch demo`` loads.  Each bed is a *stage* (on a vasopressor,
ventilated, HLH-like, ICANS, just infused, resolving, blinatumomab after the step-up, a child
with fever, ...).  A stage picks, deterministically, the first simulated patient of the seed's
CAR T or blinatumomab cohort whose intent fits it (``PatientTruth``: tier, drivers, HLH, ICANS,
regimen, age) and whose events show the stage (e.g. a vasopressor start), and names the moment
of the course to show (e.g. 45 minutes after that start).  The whole record is then shifted so
that this moment is the ward clock, and cut there: a ward has no future data, so every event
after the clock is dropped and an infusion or device still running keeps no ``end``.

The stages come in order of importance, so the guaranteed mix holds from 12 beds on: at the
clock at least three patients are at ASTCT CRS grade 3-4 (on a vasopressor, on high-flow
oxygen, ventilated, plus blinatumomab interrupted on a vasopressor), one HLH-like (ferritin
> 10,000 ng/mL), two with ICANS, three on blinatumomab and two on a step-up bispecific (one
myeloma, one lymphoma); the rest are grade 0-2.  The graders
are not run here: ``tests/simulate/test_ward.py`` checks the mix with the real engines
(docs/decisions/0018-demo-ward.md).

The stage search uses the generator's own records (``simulate_record``: intent plus columns) so
that rejected candidates cost no validation; the chosen patient is built through the readers'
validator like every simulated timeline (``to_timeline``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np

from crswatch.errors import CRSWatchError
from crswatch.simulate._events import NO_TIME, PatientEvents
from crswatch.simulate._patient import EPOCH, SimulatedPatient, simulate_record, to_timeline
from crswatch.simulate._response import DrawnResponse
from crswatch.simulate._truth import PatientTruth
from crswatch.simulate._truth_grades import SyndromeKind, TruthSpan, grade_at
from crswatch.timeline import Event, Timeline

__all__ = ["DEMO_SEED", "WARD_VITALS_EVERY", "WardBed", "demo_ward", "ward_beds", "ward_stages"]

#: The default seed of the demo ward.
DEMO_SEED = 20241121
#: Vital signs hourly, as on a ward watching for CRS (the cohort default of 4 h would leave the
#: dashboard's 24-hour trend with six points).
WARD_VITALS_EVERY = timedelta(hours=1)
#: How many candidates a stage may look at before the generator is declared unable to give it.
MAX_CANDIDATES = 5000

_US = timedelta(microseconds=1)
_PRESSORS = ("norepinephrine", "epinephrine", "phenylephrine", "dopamine", "vasopressin")
_HIGH_FLOW = ("high_flow_nasal_cannula", "face_mask", "non_rebreather_mask", "venturi_mask")
_HLH_FINDINGS = ("splenomegaly", "hepatomegaly", "hemophagocytosis")

Kind = Literal["car_t", "blinatumomab", "bispecific"]
Moment = Callable[[Timeline, PatientTruth], datetime | None]


@dataclass(frozen=True, slots=True)
class Stage:
    """One bed: which patient fits it (intent, age) and which moment of the course to show."""

    name: str
    therapy: Kind
    fits: Callable[[SimulatedPatient], bool]
    moment: Moment


# --- what a candidate must be --------------------------------------------------------------


def _adult(patient: SimulatedPatient) -> bool:
    return patient.demographics.age_years >= 18


def _child(patient: SimulatedPatient) -> bool:
    return patient.demographics.age_years < 18


def _all(*tests: Callable[[SimulatedPatient], bool]) -> Callable[[SimulatedPatient], bool]:
    return lambda patient: all(test(patient) for test in tests)


def _tier(low: int, high: int | None = None) -> Callable[[SimulatedPatient], bool]:
    top = low if high is None else high
    return lambda patient: low <= patient.truth.intended_crs_tier <= top


def _truth(test: Callable[[PatientTruth], bool]) -> Callable[[SimulatedPatient], bool]:
    return lambda patient: test(patient.truth)


def _alive(patient: SimulatedPatient) -> bool:
    return not patient.truth.died


# --- when to show it -------------------------------------------------------------------------


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _inside(timeline: Timeline, moment: datetime | None) -> datetime | None:
    """``moment`` to the minute, or None when it falls outside the record."""
    if moment is None or not timeline.events:
        return None
    moment = _minute(moment)
    if not timeline.events[0].time <= moment <= timeline.events[-1].time:
        return None
    return moment


def _while_running(
    timeline: Timeline, items: tuple[str, ...], test: Callable[[Event], bool], settle: timedelta
) -> datetime | None:
    """``settle`` after the first event of ``items`` passing ``test``, while it still runs.

    It runs until its ``end`` or the next event of the same item (timeline.md §3); the moment
    is at most half-way there, so the ward sees it running.
    """
    events = timeline.of(*items)
    for number, event in enumerate(events):
        if not test(event):
            continue
        stops = [e.time for e in events[number + 1 :] if e.item == event.item][:1]
        if event.end is not None:
            stops.append(event.end)
        wait = min(settle, (min(stops) - event.time) / 2) if stops else settle
        if wait < timedelta(minutes=10):
            continue
        return _inside(timeline, event.time + wait)
    return None


def _on_pressor(timeline: Timeline, _: PatientTruth) -> datetime | None:
    return _while_running(
        timeline,
        _PRESSORS,
        lambda e: isinstance(e.value, float) and e.value > 0,
        timedelta(hours=1),
    )


def _on_device(devices: tuple[str, ...]) -> Moment:
    def moment(timeline: Timeline, _: PatientTruth) -> datetime | None:
        return _while_running(
            timeline, ("o2_device",), lambda e: e.value in devices, timedelta(hours=2)
        )

    return moment


def _after_start(hours: float) -> Moment:
    def moment(timeline: Timeline, _: PatientTruth) -> datetime | None:
        return _inside(timeline, timeline.patient.therapy.start + timedelta(hours=hours))

    return moment


def _after_onset(hours: float) -> Moment:
    def moment(timeline: Timeline, truth: PatientTruth) -> datetime | None:
        if truth.crs_onset is None:
            return None
        return _inside(timeline, truth.crs_onset + timedelta(hours=hours))

    return moment


def _after_first(item: str, hours: float) -> Moment:
    def moment(timeline: Timeline, _: PatientTruth) -> datetime | None:
        events = timeline.of(item)
        return _inside(timeline, events[0].time + timedelta(hours=hours)) if events else None

    return moment


def _after_last(item: str, hours: float) -> Moment:
    def moment(timeline: Timeline, _: PatientTruth) -> datetime | None:
        events = timeline.of(item)
        return _inside(timeline, events[-1].time + timedelta(hours=hours)) if events else None

    return moment


def _after_step(hours: float) -> Moment:
    """``hours`` after the second blinatumomab dose start (the step-up)."""

    def moment(timeline: Timeline, _: PatientTruth) -> datetime | None:
        doses = timeline.of("blinatumomab")
        return _inside(timeline, doses[1].time + timedelta(hours=hours)) if len(doses) > 1 else None

    return moment


def _after_dose(number: int, hours: float) -> Moment:
    """``hours`` after dose ``number`` (1 = the first) of the patient's bispecific product."""

    def moment(timeline: Timeline, truth: PatientTruth) -> datetime | None:
        doses = timeline.of(truth.product)
        if len(doses) < number:
            return None
        return _inside(timeline, doses[number - 1].time + timedelta(hours=hours))

    return moment


def _product(*names: str) -> Callable[[SimulatedPatient], bool]:
    return lambda patient: patient.product in names


_MYELOMA = ("teclistamab", "elranatamab", "talquetamab")
_LYMPHOMA = ("epcoritamab", "glofitamab", "mosunetuzumab")


def _hlh_like(timeline: Timeline, _: PatientTruth) -> datetime | None:
    """After the ferritin peak (> 10,000 ng/mL) and the first HLH finding charted after it.

    carHLH and HLH-2004 ask for ferritin above 10,000 ng/mL and 500 ng/mL (clinical-criteria
    §3), HScore for organomegaly among its points, so a bed that shows HLH needs the peak and
    a finding (splenomegaly, hepatomegaly or haemophagocytosis) in the screens' 72-hour window:
    at most 48 h apart here, leaving a day for the dashboard's clock to move on.
    """
    ferritin = timeline.of("ferritin")
    findings = [e for e in timeline.of(*_HLH_FINDINGS) if e.value is True]
    if not ferritin or not findings:
        return None
    peak = max(ferritin, key=lambda e: float(e.value))
    if float(peak.value) <= 10_000.0:
        return None
    moment = max(peak.time + timedelta(hours=1), findings[0].time + timedelta(minutes=30))
    if moment - peak.time > timedelta(hours=48):
        return None
    return _inside(timeline, moment)


def _worst_ice(most: float, after: timedelta = timedelta(minutes=15)) -> Moment:
    """``after`` the lowest ICE score, when it is at most ``most`` (ASTCT ICANS, ICE 0-10)."""

    def moment(timeline: Timeline, _: PatientTruth) -> datetime | None:
        scores = timeline.of("ice_score")
        if not scores:
            return None
        worst = min(scores, key=lambda e: float(e.value))
        if float(worst.value) > most:
            return None
        return _inside(timeline, worst.time + after)

    return moment


# --- the beds, most important first ---------------------------------------------------------

_CAR_T: Kind = "car_t"
_BLINATUMOMAB: Kind = "blinatumomab"
_BISPECIFIC: Kind = "bispecific"

STAGES: tuple[Stage, ...] = (
    Stage(
        "on a vasopressor",
        _CAR_T,
        _all(_adult, _alive, _tier(3), _truth(lambda t: t.intended_hypotension == "one_pressor")),
        _on_pressor,
    ),
    Stage(
        "ventilated",
        _CAR_T,
        _all(_adult, _tier(4), _truth(lambda t: t.intended_oxygen == "ventilation")),
        _on_device(("mechanical_ventilation",)),
    ),
    Stage(
        "high-flow oxygen",
        _CAR_T,
        _all(_adult, _alive, _tier(3), _truth(lambda t: t.intended_oxygen == "high_flow")),
        _on_device(_HIGH_FLOW),
    ),
    Stage(
        "HLH-like",
        _CAR_T,
        _all(_adult, _alive, _tier(3, 4), _truth(lambda t: t.hlh_like)),
        _hlh_like,
    ),
    Stage(
        "ICANS",
        _CAR_T,
        _all(_adult, _truth(lambda t: t.intended_icans_tier >= 2)),
        _worst_ice(6.0),
    ),
    Stage(
        "blinatumomab held, on a pressor",
        _BLINATUMOMAB,
        _all(_adult, _alive, _tier(3), _truth(lambda t: t.intended_hypotension == "one_pressor")),
        _on_pressor,
    ),
    Stage(
        "mild ICANS",
        _CAR_T,
        _all(_adult, _truth(lambda t: t.intended_icans_tier == 1)),
        _worst_ice(9.0),
    ),
    Stage(
        "blinatumomab stepped up",
        _BLINATUMOMAB,
        _all(_tier(0, 1), _truth(lambda t: t.regimen == "label_step")),
        _after_step(20.0),
    ),
    Stage("blinatumomab first dose", _BLINATUMOMAB, _adult, _after_start(1.0)),
    Stage("child with fever", _CAR_T, _all(_child, _tier(1, 2)), _after_onset(4.0)),
    Stage("just infused", _CAR_T, _adult, _after_start(2.0)),
    # Step-up bispecifics (issue 20): a myeloma patient inside the label's stay after step-up
    # dose 2, and a lymphoma patient with CRS after an early dose.
    Stage(
        "myeloma bispecific, after step-up dose 2",
        _BISPECIFIC,
        _all(_product(*_MYELOMA), _tier(0, 1)),
        _after_dose(2, 20.0),
    ),
    Stage(
        "lymphoma bispecific with CRS",
        _BISPECIFIC,
        _all(_product(*_LYMPHOMA), _tier(1, 2)),
        _after_onset(3.0),
    ),
    Stage("day-1 fever", _CAR_T, _all(_adult, _tier(1)), _after_onset(3.0)),
    Stage(
        "fluid bolus",
        _CAR_T,
        _all(_adult, _tier(2), _truth(lambda t: t.intended_hypotension == "fluids")),
        _after_first("fluid_bolus", 1.0),
    ),
    Stage(
        "resolving after tocilizumab",
        _CAR_T,
        _all(_adult, _alive, _tier(2, 3), _truth(lambda t: t.tocilizumab_doses >= 1)),
        _after_last("tocilizumab", 36.0),
    ),
    Stage("late, recovered", _CAR_T, _all(_adult, _tier(0, 2)), _after_start(12 * 24.0)),
    Stage("blinatumomab fever", _BLINATUMOMAB, _all(_adult, _tier(1)), _after_onset(1.0)),
    Stage("child on blinatumomab", _BLINATUMOMAB, _all(_child, _tier(0, 1)), _after_start(40.0)),
    Stage("no CRS yet", _CAR_T, _all(_adult, _tier(0)), _after_start(3 * 24.0)),
    Stage(
        "low-flow oxygen",
        _CAR_T,
        _all(_adult, _tier(2), _truth(lambda t: t.intended_oxygen == "low_flow")),
        _on_device(("nasal_cannula",)),
    ),
    Stage(
        "blinatumomab flat dose",
        _BLINATUMOMAB,
        _all(_adult, _tier(0, 1), _truth(lambda t: t.regimen == "flat")),
        _after_start(4 * 24.0),
    ),
    Stage("child, recovered", _CAR_T, _all(_child, _tier(0, 2)), _after_start(10 * 24.0)),
    Stage(
        "day-2 fever on axi-cel",
        _CAR_T,
        _all(_adult, _tier(1), lambda p: p.product == "axicabtagene ciloleucel"),
        _after_onset(20.0),
    ),
    Stage(
        "ICANS, two days on",
        _CAR_T,
        _all(_adult, _truth(lambda t: t.intended_icans_tier >= 1)),
        _worst_ice(9.0, after=timedelta(hours=48)),
    ),
    Stage(
        "blinatumomab day 6",
        _BLINATUMOMAB,
        _all(_adult, _tier(0, 2)),
        _after_start(6 * 24.0),
    ),
)


def ward_stages(patients: int) -> list[str]:
    """The stage of each bed of a ward of ``patients`` (the stages repeat past the last one)."""
    return [STAGES[bed % len(STAGES)].name for bed in range(patients)]


# --- shifting and cutting --------------------------------------------------------------------


def _shift_and_cut(record: SimulatedPatient, offset_us: int, clock_us: int) -> PatientEvents:
    """The events moved by ``offset_us``, without those after the clock; open what runs on."""
    events = record.events
    time_us = events.time_us + offset_us
    keep = time_us <= clock_us
    has_end = events.end_us != NO_TIME
    end_us = np.where(has_end, events.end_us + offset_us, NO_TIME)
    # Still running at the clock: the ward does not know when it will stop.
    end_us = np.where(has_end & (end_us > clock_us), NO_TIME, end_us)
    return PatientEvents(
        item=events.item[keep],
        time_us=time_us[keep],
        value=events.value[keep],
        code=events.code[keep],
        end_us=end_us[keep],
        ref_low=events.ref_low[keep],
        ref_high=events.ref_high[keep],
        censored=events.censored[keep],
        cause_other=events.cause_other[keep],
    )


def _known_response(record: SimulatedPatient, start_us: int, clock_us: int) -> DrawnResponse | None:
    """The response if it is known at the clock (assessed on day 28: rarely on a ward)."""
    response = record.response
    if response is None or start_us + round(response.known_after * 3_600_000_000) > clock_us:
        return None
    return response


def _check(patients: int, seed: int, clock: datetime | None) -> datetime:
    if isinstance(patients, bool) or not isinstance(patients, int) or patients < 1:
        raise ValueError(f"patients={patients!r} must be a positive integer")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed={seed!r} must be a non-negative integer")
    if clock is None:
        return _minute(datetime.now(UTC))
    if clock.tzinfo is None:
        raise ValueError(f"clock={clock.isoformat()!r} needs a UTC offset")
    return _minute(clock.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class WardBed:
    """One bed of the ward: the patient, why the bed was chosen, and the course at the clock."""

    timeline: Timeline
    #: The stage the bed was filled for (the generator's intent that picked the patient).
    stage: str
    #: The patient at the ward clock by the generator's intended grades, e.g. ``CRS 3 (a
    #: vasopressor), ICANS 1``: what the ward should show now, never a stage label gone stale.
    now: str
    #: The intended CRS and ICANS grades over time, in hours after the therapy start.
    grades: tuple[TruthSpan, ...]


_SUPPORT_WORDS = {
    "fluids": "fluids",
    "one_pressor": "a vasopressor",
    "multiple_pressors": "vasopressors",
    "low_flow": "low-flow oxygen",
    "high_flow": "high-flow oxygen",
    "positive_pressure": "CPAP or BiPAP",
    "ventilation": "ventilated",
}


def _course_now(spans: tuple[TruthSpan, ...], truth: PatientTruth, hours: float) -> str:
    """The intended CRS and ICANS grade at ``hours`` after the start, in clinical words."""
    parts = []
    kinds: tuple[tuple[SyndromeKind, str], ...] = (("crs", "CRS"), ("icans", "ICANS"))
    for kind, name in kinds:
        grade = grade_at(spans, kind, hours) or 0
        earlier = any(s.kind == kind and s.grade >= 1 and s.end <= hours for s in spans)
        if grade >= 1:
            why = ""
            if kind == "crs" and grade == truth.intended_crs_tier >= 2:
                drivers = (truth.intended_hypotension, truth.intended_oxygen)
                why = " and ".join(_SUPPORT_WORDS[d] for d in drivers if d in _SUPPORT_WORDS)
            elif kind == "crs" and grade >= 2:
                why = "support being weaned"
            elif kind == "crs":
                why = "fever"
            parts.append(f"{name} {grade}" + (f" ({why})" if why else ""))
        elif earlier:
            parts.append(f"{name} over")
        elif kind == "crs":
            parts.append("no CRS")
    return ", ".join(parts)


def demo_ward(
    patients: int = 24, *, seed: int = DEMO_SEED, clock: datetime | None = None
) -> list[Timeline]:
    """A ward of ``patients`` at ``clock`` (default: now, UTC, to the minute); ids ``ward-01``...

    Deterministic for a seed and a clock.  Every timeline ends at or before the clock.
    """
    return [bed.timeline for bed in ward_beds(patients, seed=seed, clock=clock)]


def ward_beds(
    patients: int = 24, *, seed: int = DEMO_SEED, clock: datetime | None = None
) -> list[WardBed]:
    """The beds of :func:`demo_ward`, each with its stage and the course at the clock."""
    now = _check(patients, seed, clock)
    clock_us = (now - EPOCH) // _US
    hours = WARD_VITALS_EVERY / timedelta(hours=1)
    used: dict[Kind, set[int]] = {_CAR_T: set(), _BLINATUMOMAB: set(), _BISPECIFIC: set()}
    # Stages scan the same cohorts from the start: simulate each candidate once.
    drawn: dict[tuple[Kind, int], SimulatedPatient] = {}
    width = max(2, len(str(patients)))
    ward: list[WardBed] = []
    for bed in range(patients):
        stage = STAGES[bed % len(STAGES)]
        record, moment = _find(stage, seed, hours, used[stage.therapy], drawn)
        offset_us = clock_us - (moment - EPOCH) // _US
        placed = replace(
            record,
            patient_id=f"ward-{bed + 1:0{width}d}",
            start_us=record.start_us + offset_us,
            events=_shift_and_cut(record, offset_us, clock_us),
            response=_known_response(record, record.start_us + offset_us, clock_us),
        )
        since_start = (clock_us - placed.start_us) / 3_600_000_000
        ward.append(
            WardBed(
                to_timeline(placed),
                stage.name,
                _course_now(record.grades, record.truth, since_start),
                record.grades,
            )
        )
    return ward


def _find(
    stage: Stage,
    seed: int,
    hours: float,
    used: set[int],
    drawn: dict[tuple[Kind, int], SimulatedPatient],
) -> tuple[SimulatedPatient, datetime]:
    """The first unused patient of the stage's cohort that fits it, and the moment to show."""
    for index in range(MAX_CANDIDATES):
        if index in used:
            continue
        record = drawn.get((stage.therapy, index))
        if record is None:
            record = drawn[stage.therapy, index] = simulate_record(
                index, seed, stage.therapy, hours
            )
        if not stage.fits(record):
            continue
        moment = stage.moment(to_timeline(record), record.truth)
        if moment is None:
            continue
        used.add(index)
        return record, moment
    raise CRSWatchError(
        f"stage={stage.name!r}: no fitting patient among the first {MAX_CANDIDATES} of seed {seed}"
    )
