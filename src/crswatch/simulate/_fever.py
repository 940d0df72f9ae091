"""Fever: antipyretic doses, and the temperature excess over the patient's baseline.

- A fever spell rises to its peak within the first hour, swings ±0.3 °C with a 6-hour period and
  falls over its last 2 hours.  The first reading of a spell (its ``start``) is a spot reading of
  at least 38.1 °C: the moment the fever is found (ASTCT: temperature >= 38.0 °C).
- Three patients in four are charted with acetaminophen during a spell: a first dose 15-60
  minutes after the fever is found, then every 6-8 h while it lasts, lowering the temperature by
  up to 0.8 °C for about 4 h (clinical-criteria §4.3 and §4.4: antipyretics for grade 1).
- Readings where only an infection fever is active carry ``cause: other`` (timeline.md §3).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from crswatch.simulate._course import FeverSpell
from crswatch.simulate._demographics import Demographics
from crswatch.simulate._doses import acetaminophen_mg
from crswatch.simulate._events import EventLog, FloatArray

__all__ = ["ANTIPYRETIC_SHARE", "fever_excess", "plan_antipyretics"]

ANTIPYRETIC_SHARE = 0.75


def plan_antipyretics(
    rng: np.random.Generator, spells: Sequence[FeverSpell], patient: Demographics, log: EventLog
) -> list[float]:
    """Append acetaminophen doses for the spells; return their times."""
    times: list[float] = []
    if not spells or rng.random() >= ANTIPYRETIC_SHARE:
        return times
    for spell in sorted(spells, key=lambda spell: spell.start):
        dose = spell.start + float(rng.uniform(0.25, 1.0))
        while dose < spell.end and (not times or dose - times[-1] >= 6.0):
            times.append(dose)
            dose += float(rng.uniform(6.0, 8.0))
    log.add("antipyretic", times, acetaminophen_mg(patient))
    return times


def _spell_shape(t: FloatArray, spell: FeverSpell, baseline: float) -> FloatArray:
    rise = np.clip((t - spell.start) / 1.0, 0.0, 1.0)
    fall = np.clip((spell.end - t) / 2.0, 0.0, 1.0)
    swing = 0.85 + 0.15 * np.cos(2.0 * np.pi * (t - spell.start) / 6.0)
    inside = (t >= spell.start) & (t <= spell.end)
    amplitude = max(spell.peak - baseline, 0.5)
    # Just after the start the reading already exceeds 38 °C: the spell begins when it is found.
    floor = np.where(t - spell.start < 1.0, 38.2 - baseline, 0.0)
    return np.where(
        inside, np.maximum(amplitude * np.minimum(rise, fall) * swing, floor * fall), 0.0
    )


def fever_excess(
    t: FloatArray, spells: Sequence[FeverSpell], antipyretics: Sequence[float], baseline: float
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Degrees above ``baseline`` at times ``t``, and whether only an infection explains them."""
    attributable = np.zeros_like(t)
    other = np.zeros_like(t)
    for spell in spells:
        shape = _spell_shape(t, spell, baseline)
        if spell.other:
            other = np.maximum(other, shape)
        else:
            attributable = np.maximum(attributable, shape)
    excess = np.maximum(attributable, other)
    for dose in antipyretics:
        after = t - dose
        excess = excess - np.where(after > 0.0, 0.8 * np.exp(-(((after - 2.0) / 1.5) ** 2)), 0.0)
    only_other = (other > attributable) & (other > 0.0)
    return excess, only_other
