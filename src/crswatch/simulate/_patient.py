"""One simulated patient: draw, time, generate every event, and hand back columns or a Timeline.

The order of work is fixed, and each concern draws from its own stream (``_streams``): who the
patient is, the scenario, the timed course and everything given (scenario stream); vital signs
(vitals stream); cytokines and laboratory values (labs stream); neurological assessments (neuro
stream).

Therapy starts fall on a quarter hour between 08:00 and 16:00 UTC on a day of 2024-2025.  The
record opens 24 h before the start (admission: seed 001's patient was admitted the evening
before day 1) and closes on day 14 for CAR T, day 9 for blinatumomab (the label's hospital stay
in cycle 1) or 3 days after the last dose start, extended to 2 days after CRS and ICANS have
settled (at most 30 days), or at death.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from crswatch.errors import IngestError
from crswatch.simulate._bispecific import BispecificDose, bispecific_doses, draw_bispecific
from crswatch.simulate._course import Course, plan_course, settle_icans
from crswatch.simulate._cytokines import ASSAYS, plan_cytokines, write_cytokines
from crswatch.simulate._demographics import Demographics, draw_demographics
from crswatch.simulate._drugs import write_drugs
from crswatch.simulate._events import ABOVE_ULOQ, BELOW_LOD, NO_TIME, EventLog, PatientEvents
from crswatch.simulate._fever import plan_antipyretics
from crswatch.simulate._hemodynamics import plan_hemodynamics
from crswatch.simulate._items import CODES, ITEMS, KINDS, UNITS
from crswatch.simulate._labs import write_labs
from crswatch.simulate._neuro import write_neuro
from crswatch.simulate._respiratory import plan_respiratory
from crswatch.simulate._response import DrawnResponse, draw_response
from crswatch.simulate._scenario import (
    BLINATUMOMAB_ICANS_SHARE,
    HYPOTENSION_LEVELS,
    OXYGEN_LEVELS,
    TherapyChoice,
    draw_kind,
    draw_scenario,
)
from crswatch.simulate._streams import patient_streams
from crswatch.simulate._therapy import car_t_cell_dose, draw_car_t_product, draw_regimen
from crswatch.simulate._truth import PatientTruth
from crswatch.simulate._truth_grades import TruthSpan, intended_grades
from crswatch.simulate._vitals import write_vitals
from crswatch.timeline import IngestReport, Timeline, build_timeline

__all__ = [
    "SimulatedPatient",
    "moment_of",
    "patient_id",
    "patient_record",
    "simulate_record",
    "to_timeline",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_DAY = datetime(2024, 1, 1, tzinfo=UTC)
_FIRST_DAY_US = (FIRST_DAY - EPOCH) // timedelta(microseconds=1)
_HOUR_US = 3_600_000_000
MAX_RECORD_HOURS = 30 * 24.0
_CENSORING = {BELOW_LOD: "below_lod", ABOVE_ULOQ: "above_uloq"}


@dataclass(frozen=True, slots=True)
class SimulatedPatient:
    """A patient as columns: what the shard writer consumes."""

    patient_id: str
    demographics: Demographics
    kind: str
    product: str
    start_us: int
    events: PatientEvents
    truth: PatientTruth
    #: The best overall response (patient field ``response``); ``None`` when not known.
    response: DrawnResponse | None = None
    #: The intended CRS and ICANS grades over time (hours after the start; ``_truth_grades``).
    grades: tuple[TruthSpan, ...] = ()


#: Patient i of a mixed cohort is not patient i of a CAR T cohort: the choice is in the id.
_THERAPY_LETTER = {"mixed": "M", "car_t": "C", "blinatumomab": "B", "bispecific": "T"}
#: Step-up bispecifics share blinatumomab's dose-triggered cytokine, laboratory and neurological
#: kinetics (a T-cell engager dose releases the cytokines; ``_bispecific``).
_KINETICS = {"bispecific": "blinatumomab"}
#: ICANS is uncommon on the step-up bispecifics (most labels' trials: under 10 %; assumption).
BISPECIFIC_ICANS_SHARE = 0.08


def patient_id(seed: int, therapy: TherapyChoice, index: int) -> str:
    """Stable, and unique across cohorts drawn with other seeds or therapy choices."""
    return f"S{seed}{_THERAPY_LETTER[therapy]}-{index:06d}"


def _moment(microseconds: int) -> datetime:
    return EPOCH + timedelta(microseconds=microseconds)


def moment_of(microseconds: int) -> datetime:
    """A generator time (microseconds since ``EPOCH``) as a UTC datetime."""
    return _moment(microseconds)


def _window(kind: str, course: Course, ends: list[float | None]) -> tuple[float, float]:
    last = 14 * 24.0 if kind == "car_t" else max(9 * 24.0, course.dose_starts[-1] + 72.0)
    settled = [end + 48.0 for end in ends if end is not None]
    last = min(MAX_RECORD_HOURS, max([last, *settled]))
    if course.death is not None:
        last = min(last, course.death)
    return -24.0, last


def simulate_record(
    index: int, seed: int, therapy: TherapyChoice, vitals_every_hours: float
) -> SimulatedPatient:
    """Simulate patient ``index`` of the cohort drawn with ``seed``."""
    streams = patient_streams(seed, index)
    rng = streams.scenario
    kind = draw_kind(rng, therapy)
    patient = draw_demographics(rng, kind)
    product = regimen = None
    cell_dose: float | None = None
    schedule: str | None = None
    doses: tuple[BispecificDose, ...] = ()
    if kind == "car_t":
        product = draw_car_t_product(rng, patient)
        cell_dose = car_t_cell_dose(rng, product, patient)
        product_name, icans_share = product.name, product.icans_share
    elif kind == "bispecific":
        product_name, schedule = draw_bispecific(rng)
        icans_share = BISPECIFIC_ICANS_SHARE
        doses = tuple(bispecific_doses(product_name, schedule, patient.weight_kg))
    else:
        regimen = draw_regimen(rng)
        product_name, icans_share = "blinatumomab", BLINATUMOMAB_ICANS_SHARE
    quarter_hours = int(rng.integers(8 * 4, 16 * 4))
    start_us = (
        _FIRST_DAY_US + int(rng.integers(0, 731)) * 24 * _HOUR_US + quarter_hours * _HOUR_US // 4
    )
    clock_offset = quarter_hours / 4.0
    scenario = draw_scenario(rng, kind, patient, icans_share)
    course = plan_course(rng, scenario, patient, product, regimen, doses)
    kinetics = replace(scenario, kind=_KINETICS.get(kind, kind))

    log = EventLog()
    hemodynamics = plan_hemodynamics(rng, scenario, patient, course, log)
    respiratory = plan_respiratory(rng, scenario, patient, course, log)
    course = settle_icans(rng, course, scenario.icans_grade, respiratory.ventilation)
    if course.icans is None and scenario.icans_grade:
        scenario = replace(scenario, icans_grade=0)  # it would have come after death
    write_drugs(rng, scenario, patient, course, cell_dose, log)
    antipyretics = plan_antipyretics(rng, course.fevers, patient, log)
    crs_ends = [course.fever_end, hemodynamics.end, respiratory.end]
    crs_end = max((end for end in crs_ends if end is not None), default=None)
    window = _window(kind, course, [crs_end, course.icans.end if course.icans else None])

    write_vitals(
        streams.vitals, patient, course, hemodynamics, respiratory, antipyretics, window,
        clock_offset, vitals_every_hours, log,
    )  # fmt: skip
    cytokines = plan_cytokines(streams.labs, kinetics, course)
    write_labs(streams.labs, kinetics, patient, course, cytokines, window, clock_offset, log)
    write_cytokines(streams.labs, cytokines, course, window, clock_offset, log)
    write_neuro(
        streams.neuro, kinetics.kind, scenario.icans_grade, patient, course, crs_end, window,
        clock_offset,
        respiratory.ventilation, log,
    )  # fmt: skip
    if course.death is not None:
        log.add_codes("death", [course.death], "true")
    events = log.finish(start_us, window)

    identifier = patient_id(seed, therapy, index)

    def at(hours: float | None) -> datetime | None:
        return None if hours is None else _moment(start_us + round(hours * 60.0) * 60_000_000)

    truth = PatientTruth(
        patient_id=identifier,
        index=index,
        therapy_kind=kind,
        product=product_name,
        regimen=schedule if regimen is None else regimen.name,
        scenario=scenario.label,
        intended_crs_tier=scenario.crs_tier,
        crs_onset=at(course.onset),
        escalation=at(course.escalation),
        intended_hypotension=HYPOTENSION_LEVELS[scenario.hypotension],
        intended_vasopressin=scenario.vasopressin,
        intended_oxygen=OXYGEN_LEVELS[scenario.oxygen],
        tocilizumab_doses=sum(1 for time in course.tocilizumab if time <= window[1]),
        steroids=course.steroid_start is not None,
        hlh_like=scenario.hlh_like,
        intended_icans_tier=scenario.icans_grade,
        icans_onset=at(course.icans.onset if course.icans else None),
        infection_fever=scenario.infection
        and course.infection is not None
        and course.infection.start <= window[1],
        died=course.death is not None,
        cytokine_lod_pg_ml=ASSAYS[kinetics.kind][0],
        observation_end=at(window[1]) or _moment(start_us),
    )
    # Myeloma and lymphoma response criteria are not simulated: a bispecific response is unknown.
    response = (
        None
        if kind == "bispecific"
        else draw_response(
            streams.response, kind, None if regimen is None else regimen.name, course.death
        )
    )
    # Vasopressors are hypotension levels 2-3 (HYPOTENSION_LEVELS: one or more pressors).
    support = (
        scenario.hypotension >= 2,
        hemodynamics.end,
        respiratory.end,
        respiratory.ventilation,
    )
    grades = intended_grades(course, scenario.crs_tier, scenario.icans_grade, support, window)
    return SimulatedPatient(
        identifier, patient, kind, product_name, start_us, events, truth, response, grades
    )


def _event_record(events: PatientEvents, row: int) -> dict[str, Any]:
    item = int(events.item[row])
    code = int(events.code[row])
    value: Any
    if code >= 0:
        value = CODES[code]
        if KINDS[item] == "boolean":
            value = value == "true"
    else:
        value = float(events.value[row])
    record: dict[str, Any] = {
        "time": _moment(int(events.time_us[row])),
        "item": ITEMS[item],
        "value": value,
    }
    if code < 0 and UNITS[item] is not None:
        record["unit"] = UNITS[item]
    if events.end_us[row] != NO_TIME:
        record["end"] = _moment(int(events.end_us[row]))
    if not np.isnan(events.ref_low[row]):
        record["ref_low"] = float(events.ref_low[row])
    if not np.isnan(events.ref_high[row]):
        record["ref_high"] = float(events.ref_high[row])
    if events.censored[row]:
        record["censored"] = _CENSORING[int(events.censored[row])]
    if events.cause_other[row]:
        record["cause"] = "other"
    return record


def patient_record(simulated: SimulatedPatient) -> dict[str, Any]:
    """The ``patient`` object of a simulated patient, as the timeline JSON has it."""
    patient = simulated.demographics
    record: dict[str, Any] = {
        "id": simulated.patient_id,
        "age_years": patient.age_years,
        "weight_kg": patient.weight_kg,
        "height_cm": patient.height_cm,
        "sex": patient.sex,
        "high_risk": patient.high_risk,
        "therapy": {
            "kind": simulated.kind,
            "product": simulated.product,
            "start": _moment(simulated.start_us),
        },
    }
    response = simulated.response
    if response is not None:
        record["response"] = response.code
        if response.assessed:
            assessed = _moment(simulated.start_us) + timedelta(hours=response.known_after)
            record["response_date"] = assessed.date().isoformat()
    return record


def to_timeline(simulated: SimulatedPatient) -> Timeline:
    """The validated ``Timeline`` of a simulated patient, built by the readers' own validator.

    Going through :func:`crswatch.timeline.build_timeline` keeps the rule that timelines are only
    built by the reading boundary; an issue here is a generator bug and raises ``IngestError``.
    """
    record = patient_record(simulated)
    events = simulated.events
    report = IngestReport(source="crswatch.simulate")
    timeline = build_timeline(
        record, [_event_record(events, row) for row in range(len(events))], report
    )
    if timeline is None or report.issues:
        raise IngestError(report.issues)
    return timeline
