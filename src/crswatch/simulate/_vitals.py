"""Vital signs every ``vitals_every`` on the clock, plus spot readings when something happens.

Each patient has baselines (temperature N(36.8, 0.2) °C with a ±0.25 °C daily swing peaking at
18:00, never above 37.8 °C outside a fever spell; heart rate, blood pressure and breathing rate by
age; saturation 96-99 %).  On top of the baselines: the fever excess (``_fever``), 12 beats/min per
°C of fever and a reflex tachycardia during hypotension, the systolic ceiling of ``_hemodynamics``
(diastolic 55-65 % of systolic, MAP = DBP + (SBP - DBP)/3), and the saturation fall and extra
breaths of ``_respiratory``.

Spot readings: a temperature of at least 38.1 °C when each fever is found, the blood pressure and
heart rate when hypotension starts and after the first bolus or pressor, the saturation and
breathing rate before oxygen is started or raised.  Readings are charted a few minutes off the hour
(at most ±10 minutes, less for short intervals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from crswatch.simulate._course import Course
from crswatch.simulate._demographics import Demographics
from crswatch.simulate._events import EventLog, FloatArray
from crswatch.simulate._fever import fever_excess
from crswatch.simulate._hemodynamics import NO_CEILING, HemodynamicPlan
from crswatch.simulate._kinetics import knots
from crswatch.simulate._respiratory import RespiratoryPlan

__all__ = ["AFEBRILE_MAX", "clock_times", "write_vitals"]

#: The highest temperature charted outside a fever spell (°C).
AFEBRILE_MAX = 37.8


def clock_times(
    window: tuple[float, float], clock_offset: float, every: float, at: float = 0.0
) -> FloatArray:
    """Times (hours after the start) in ``window`` that fall on ``at + k * every`` o'clock.

    ``clock_offset`` is the hour of the day (UTC) of the therapy start.
    """
    first = math.ceil((window[0] + clock_offset - at) / every) * every + at - clock_offset
    return np.arange(first, window[1], every, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _Baseline:
    temperature: float
    heart_rate: float
    sbp: float
    diastolic_ratio: float
    resp_rate: float
    spo2: float


def _baseline(rng: np.random.Generator, patient: Demographics) -> _Baseline:
    age = patient.age_years
    if patient.child:
        heart_rate = 130.0 - 3.5 * age + rng.normal(0.0, 8.0)
        sbp = 90.0 + 1.5 * age + rng.normal(0.0, 6.0)
        resp_rate = 30.0 - age + rng.normal(0.0, 2.0)
    else:
        heart_rate = rng.normal(80.0, 9.0)
        sbp = float(np.clip(rng.normal(118.0 + 0.3 * (age - 50.0), 11.0), 98.0, 160.0))
        resp_rate = rng.uniform(14.0, 18.0)
    return _Baseline(
        temperature=float(rng.normal(36.8, 0.2)),
        heart_rate=float(heart_rate),
        sbp=float(sbp),
        diastolic_ratio=float(rng.uniform(0.55, 0.65)),
        resp_rate=float(max(resp_rate, 12.0)),
        spo2=float(rng.uniform(96.0, 99.0)),
    )


def write_vitals(
    rng: np.random.Generator,
    patient: Demographics,
    course: Course,
    hemodynamics: HemodynamicPlan,
    respiratory: RespiratoryPlan,
    antipyretics: list[float],
    window: tuple[float, float],
    clock_offset: float,
    every_hours: float,
    log: EventLog,
) -> None:
    """Append the seven vital signs on the grid and the spot readings."""
    base = _baseline(rng, patient)
    jitter = min(10.0, every_hours * 60.0 / 6.0) / 60.0
    grid = clock_times(window, clock_offset, every_hours)
    grid = grid + rng.uniform(-jitter, jitter, grid.size)

    def readings(t: FloatArray) -> dict[str, FloatArray]:
        clock = t + clock_offset
        excess, only_other = fever_excess(t, course.fevers, antipyretics, base.temperature)
        afebrile = (
            base.temperature
            + 0.25 * np.sin(2.0 * np.pi * (clock - 12.0) / 24.0)
            + rng.normal(0.0, 0.12, t.size)
        )
        # Without a fever spell no reading reaches 38 °C: a fever is always an intended one.
        temperature = np.minimum(afebrile, AFEBRILE_MAX) + excess
        temperature = np.clip(temperature, 35.0, 41.8)
        ceiling = knots(t, hemodynamics.ceiling_times, hemodynamics.ceiling_values)
        other_ceiling = knots(t, hemodynamics.other_times, hemodynamics.other_values)
        own = base.sbp + rng.normal(0.0, 7.0, t.size)
        # The ceiling is an upper limit: readings scatter below it, never above.
        below = np.abs(rng.normal(0.0, 3.0, t.size))
        sbp = np.minimum(own, np.minimum(ceiling, other_ceiling) - below)
        sbp = np.clip(sbp, 55.0, 200.0)
        dbp = np.clip(sbp * base.diastolic_ratio + rng.normal(0.0, 4.0, t.size), 25.0, sbp - 15.0)
        fall = np.maximum(base.sbp - sbp, 0.0)
        heart_rate = (
            base.heart_rate
            + 12.0 * np.maximum(temperature - 37.2, 0.0)
            + 0.5 * fall
            + rng.normal(0.0, 5.0, t.size)
        )
        breaths = knots(t, respiratory.desaturation_times, respiratory.tachypnoea_values)
        resp_rate = base.resp_rate + breaths + 1.5 * np.maximum(temperature - 37.5, 0.0)
        resp_rate = resp_rate + rng.normal(0.0, 1.5, t.size)
        desaturation = knots(t, respiratory.desaturation_times, respiratory.desaturation_values)
        spo2 = np.clip(base.spo2 - desaturation + rng.normal(0.0, 1.0, t.size), 70.0, 100.0)
        # Hypotension only an infection explains: the CRS ceiling does not bind, the other does.
        pressure_other = (
            (other_ceiling < NO_CEILING) & (ceiling >= NO_CEILING) & (sbp < base.sbp - 10.0)
        )
        return {
            "temperature": temperature,
            "temperature_other": only_other.astype(np.float64),
            "sbp": sbp,
            "dbp": dbp,
            "map": dbp + (sbp - dbp) / 3.0,
            "heart_rate": np.clip(heart_rate, 35.0, 220.0),
            "resp_rate": np.clip(resp_rate, 8.0, 60.0),
            "spo2": spo2,
            "pressure_other": pressure_other.astype(np.float64),
        }

    on_grid = readings(grid)
    log.add(
        "temperature", grid, on_grid["temperature"], cause_other=on_grid["temperature_other"] > 0.5
    )
    for item in ("sbp", "dbp", "map"):
        log.add(item, grid, on_grid[item], cause_other=on_grid["pressure_other"] > 0.5)
    for item in ("heart_rate", "resp_rate", "spo2"):
        log.add(item, grid, on_grid[item])

    spells = [spell for spell in course.fevers if window[0] <= spell.start <= window[1]]
    if spells:
        found = np.array([spell.start for spell in spells])
        values = [float(rng.uniform(38.1, max(38.2, min(spell.peak, 39.0)))) for spell in spells]
        log.add(
            "temperature", found, values, cause_other=np.array([spell.other for spell in spells])
        )
    if hemodynamics.spots:
        spot = np.array(hemodynamics.spots) + 1.0 / 60.0
        at_spot = readings(spot)
        for item in ("sbp", "dbp", "map"):
            log.add(item, spot, at_spot[item], cause_other=at_spot["pressure_other"] > 0.5)
        log.add("heart_rate", spot, at_spot["heart_rate"])
    if respiratory.spots:
        spot = np.array(respiratory.spots)
        at_spot = readings(spot)
        log.add("spo2", spot, at_spot["spo2"])
        log.add("resp_rate", spot, at_spot["resp_rate"])
