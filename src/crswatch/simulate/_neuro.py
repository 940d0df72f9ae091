"""Neurological assessments: ICE (or CAPD under 12), consciousness, seizures, imaging.

Choices (ASTCT 2019 ICANS tables, clinical-criteria §2):

- Assessments twice a day, at 08:00 and 20:00 (clinical-criteria §4.3: "ICE at least twice
  daily"), from the therapy start through day 7 on CAR T (day 3 on blinatumomab) and for a day
  beyond the end of CRS and of ICANS; none while the patient is ventilated and sedated.
- ICE (ages >= 12): 10 outside ICANS.  During ICANS the score falls to its worst value at the
  nadir (grade 1: 7-9; grade 2: 3-6; grade 3: 0-2; grade 4: 0 and unarousable), holds, and
  recovers linearly, so no assessment shows more than the intended grade.  Half of the patients'
  charts carry the five ICE items too (orientation 4, naming 3, commands 1, writing 1, attention
  1), which always add up to the score; attention and writing fail first, commands last.
- Consciousness is charted at each assessment during ICANS, never deeper than the score's grade
  (``awakens_to_tactile`` only at grade 3 or more, ``unarousable`` only at the grade 4 nadir), and
  ``alert`` once it is over.
- Children under 12 get CAPD instead (clinical-criteria §2.3-2.4) with consciousness at every
  assessment: baseline 0-4; grades 1-2 up to 5-8 (awakening spontaneously or to voice); grade 3
  10-20 (>= 9); at a grade 4 nadir the child is unarousable and CAPD is ``not_assessed``.
- Seizures in 25 % of grade 3 (resolving focal, generalised or nonconvulsive) and 35 % of grade 4
  (prolonged or repetitive).  Imaging for 60 % of grade >= 2: no oedema, except focal oedema in
  10 % of grade 3 and diffuse oedema in 25 % of grade 4 (half with papilloedema).  Deep focal
  motor weakness in 5 % of grade 4.
"""

from __future__ import annotations

import numpy as np

from crswatch.simulate._course import Course, Icans
from crswatch.simulate._demographics import Demographics
from crswatch.simulate._events import EventLog, FloatArray
from crswatch.simulate._kinetics import knots
from crswatch.simulate._vitals import clock_times

__all__ = ["write_neuro"]

ICE_NADIR = {1: (7, 9), 2: (3, 6), 3: (0, 2), 4: (0, 0)}
CAPD_NADIR = {1: (5, 8), 2: (5, 8), 3: (10, 20), 4: (24, 32)}
ITEM_POINTS = {
    "ice_orientation": 4,
    "ice_naming": 3,
    "ice_commands": 1,
    "ice_writing": 1,
    "ice_attention": 1,
}
ITEM_SHARE = 0.5


def _assessment_times(
    rng: np.random.Generator,
    kind: str,
    course: Course,
    crs_end: float | None,
    window: tuple[float, float],
    clock_offset: float,
    ventilation: tuple[float, float] | None,
) -> FloatArray:
    last = 7 * 24.0 if kind == "car_t" else 3 * 24.0
    if crs_end is not None:
        last = max(last, crs_end + 24.0)
    if course.icans is not None:
        last = max(last, course.icans.end + 24.0)
    times = clock_times((max(window[0], 0.5), min(window[1], last)), clock_offset, 12.0, at=8.0)
    times = times + rng.uniform(-0.5, 0.5, times.size)
    if ventilation is not None:
        times = times[(times < ventilation[0]) | (times > ventilation[1])]
    return times


def _ice_items(rng: np.random.Generator, score: int) -> dict[str, int]:
    deficit = 10 - score
    order = (
        ["ice_attention", "ice_writing"] if rng.random() < 0.5 else ["ice_writing", "ice_attention"]
    )
    order += ["ice_orientation", "ice_naming", "ice_commands"]
    items = dict(ITEM_POINTS)
    for name in order:
        lost = min(deficit, items[name])
        items[name] -= lost
        deficit -= lost
    return items


def _consciousness(rng: np.random.Generator, level: int, unarousable: bool) -> str:
    if unarousable:
        return "unarousable"
    if level >= 3:
        return "awakens_to_tactile" if rng.random() < 0.4 else "awakens_to_voice"
    if level == 2:
        return "awakens_to_voice" if rng.random() < 0.4 else "awakens_spontaneously"
    if level == 1:
        return "awakens_spontaneously" if rng.random() < 0.5 else "alert"
    return "alert"


def _ice_level(score: int) -> int:
    return 0 if score >= 10 else 1 if score >= 7 else 2 if score >= 3 else 3


def write_neuro(
    rng: np.random.Generator,
    kind: str,
    grade: int,
    patient: Demographics,
    course: Course,
    crs_end: float | None,
    window: tuple[float, float],
    clock_offset: float,
    ventilation: tuple[float, float] | None,
    log: EventLog,
) -> None:
    """Append the assessments and neurological events of one patient."""
    times = _assessment_times(rng, kind, course, crs_end, window, clock_offset, ventilation)
    icans = course.icans if grade else None
    if patient.age_years < 12:
        _capd(rng, grade, icans, times, log)
    else:
        _ice(rng, grade, icans, times, log)
    if icans is not None:
        _events(rng, grade, icans, log)


def _ice(
    rng: np.random.Generator, grade: int, icans: Icans | None, times: FloatArray, log: EventLog
) -> None:
    scores = np.full(times.shape, 10.0)
    unarousable = np.zeros(times.shape, dtype=bool)
    if icans is not None:
        low, high = ICE_NADIR[grade]
        nadir = float(rng.integers(low, high + 1))
        path = knots(
            times,
            [icans.onset - 0.5, icans.onset, icans.nadir, icans.recovery, icans.end],
            [10.0, (10.0 + nadir) / 2.0, nadir, nadir, 10.0],
        )
        scores = np.ceil(path - 1e-9)
        if grade == 4:
            unarousable = (times >= icans.nadir) & (times <= icans.recovery)
            scores[unarousable] = 0.0
    log.add("ice_score", times, scores)
    if rng.random() < ITEM_SHARE:
        items = [_ice_items(rng, int(score)) for score in scores]
        for name in ITEM_POINTS:
            log.add(name, times, [float(entry[name]) for entry in items])
    if icans is not None:
        during = (times >= icans.onset) & (times <= icans.end)
        states = [
            _consciousness(rng, _ice_level(int(score)), bool(flat))
            for score, flat in zip(scores[during], unarousable[during], strict=True)
        ]
        after = times[times > icans.end][:1]
        log.add_codes(
            "consciousness",
            np.concatenate([times[during], after]),
            [*states, *["alert"] * after.size],
        )


def _capd(
    rng: np.random.Generator, grade: int, icans: Icans | None, times: FloatArray, log: EventLog
) -> None:
    baseline = float(rng.integers(0, 5))
    scores = np.full(times.shape, baseline)
    states = ["alert"] * times.size
    if icans is not None:
        low, high = CAPD_NADIR[grade]
        worst = float(rng.integers(low, high + 1))
        path = knots(
            times,
            [icans.onset - 0.5, icans.nadir, icans.recovery, icans.end],
            [baseline, worst, worst, baseline],
        )
        scores = np.floor(path)
        worst_state = {
            1: "awakens_spontaneously",
            2: "awakens_to_voice",
            3: "awakens_to_voice",
            4: "unarousable",
        }[grade]
        for number, time in enumerate(times):
            if icans.nadir <= time <= icans.recovery:
                states[number] = worst_state
            elif icans.onset <= time <= icans.end:
                states[number] = "awakens_spontaneously"
    unarousable = np.array([state == "unarousable" for state in states], dtype=bool)
    log.add("capd_score", times[~unarousable], scores[~unarousable])
    log.add_codes("capd_score", times[unarousable], "not_assessed")
    log.add_codes("consciousness", times, states)


def _events(rng: np.random.Generator, grade: int, icans: Icans, log: EventLog) -> None:
    if grade == 3 and rng.random() < 0.25:
        kind = ("focal_resolved", "generalized_resolved", "nonconvulsive_resolved")[
            int(rng.integers(3))
        ]
        log.add_codes("seizure", [icans.nadir + float(rng.uniform(-6.0, 6.0))], kind)
    if grade == 4 and rng.random() < 0.35:
        kind = "prolonged" if rng.random() < 0.5 else "repetitive"
        log.add_codes("seizure", [icans.nadir + float(rng.uniform(-6.0, 6.0))], kind)
    if grade >= 2 and rng.random() < 0.6:
        imaged = icans.onset + float(rng.uniform(12.0, 48.0))
        finding = "none"
        if grade == 3 and rng.random() < 0.1:
            finding = "focal"
        if grade == 4 and rng.random() < 0.25:
            finding = "diffuse"
            if rng.random() < 0.5:
                log.add_codes("icp_sign", [imaged + 0.5], "papilledema")
        log.add_codes("cerebral_edema", [imaged], finding)
    if grade == 4 and rng.random() < 0.05:
        log.add_codes("motor_weakness", [icans.nadir], "deep_focal")
