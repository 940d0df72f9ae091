"""What the generator intends for a patient: the CRS tier and its drivers, HLH, ICANS, infection.

The scenario is drawn before anything is timed, from the patient's scenario stream, and is
written to the ground-truth table as *intent*: a scale applied to the generated timeline may
grade it differently (that is what the scales disagree about), so it is never called a grade.

CRS tier, named after the ASTCT 2019 levels (clinical-criteria §1.9):
0 no CRS; 1 fever only; 2 hypotension needing fluids and/or low-flow oxygen; 3 one vasopressor
(with or without vasopressin) and/or high-flow oxygen; 4 several vasopressors and/or positive
pressure or mechanical ventilation.

| tier | CAR T | blinatumomab |
|---|---|---|
| 0 | 30 % | 40 % |
| 1 | 40 % | 45 % |
| 2 | 15 % | 10 % |
| 3 | 10 % | 3.5 % |
| 4 | 5 % | 1.5 % |

CAR T: about 70 % CRS, mostly grade 1-2, as in published cohorts (Hay 2017: CRS 70 %, grade 1
26 %, grade 2 32 %, grade >= 3 12 %; Pennisi 2020: 82 %; clinical-criteria §6.2).  Blinatumomab:
fever in 60 % ("60 % pyrexia", seed 002 Table 1), CRS needing more than fever in 15 % (11-15 %,
seed 001) and grade >= 3 in 5 % (2-5 %, seed 001; 2 % grade 3 + 2 % grade 4, seed 002).

Drivers of tiers 2-4: hypotension is the driver in three of four patients and oxygen in about
half; the other component is at most one tier lower.  Vasopressin joins a single vasopressor in
25 % and several in 40 %.  Positive pressure at tier 4 is mechanical ventilation in 60 %.

HLH-like course (seed 000; carHLH, clinical-criteria §3.3) only with CRS of tier >= 2: 4 %,
18 % and 35 % at tiers 2, 3 and 4, which is about 4 % of CAR T patients (the "3-5 %" minority)
and 1.5 % on blinatumomab.  HLH-like patients always get tocilizumab (seed 000).

ICANS: the product's share (see ``_therapy``; 25 % on blinatumomab, where seed 002 Table 1
reports neurological events in 52 % and grade 3 in 11 %), scaled by the CRS tier (ICANS seldom
comes without CRS) so that the product share is kept on average.  Intended ICANS grade mix
35/30/25/10 % for grades 1-4 on CAR T, 35/25/30/10 % on blinatumomab; at most grade 2 without CRS.

Treatment intent: tocilizumab on CAR T in 8 % of tier 1 (fever persisting > 3 days, CARTOX,
clinical-criteria §4.4), 55 % of tier 2 (90 % if high-risk: Lee 2014, §4.1) and all of tiers
3-4; on blinatumomab in 10 %, 60 % and 100 % of tiers 2-4 (steroids are the mainstay, seed 001;
tocilizumab reversed seed 000's HLH).  Steroids in 15 %, 60 %, 100 % of CAR T tiers 2-4 and in
30 %, 100 %, 100 % on blinatumomab (label: dexamethasone for grade >= 3).

Other: 6 % have a documented infection with fever (``cause: other``; seed 003 case 3 had
*Streptococcus mitis* bacteraemia on day 1); 8 % of tier 4 die of CRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from crswatch.simulate._demographics import Demographics

__all__ = [
    "HYPOTENSION_LEVELS",
    "OXYGEN_LEVELS",
    "Scenario",
    "TherapyChoice",
    "draw_kind",
    "draw_scenario",
]

TherapyChoice = Literal["car_t", "blinatumomab", "bispecific", "mixed"]
#: Share of CAR T patients in a mixed cohort.
MIXED_CAR_T_SHARE = 0.6

CRS_TIER_MIX = {
    "car_t": (0.30, 0.40, 0.15, 0.10, 0.05),
    "blinatumomab": (0.40, 0.45, 0.10, 0.035, 0.015),
    # Step-up bispecifics: CRS mostly grade 1-2, rarely 3, grade 4 not simulated (issue 20:
    # "CRS mostly grade 1-2 after the first step-up doses, as the labels' trials report").
    "bispecific": (0.35, 0.45, 0.17, 0.03, 0.0),
}
HLH_GIVEN_TIER = (0.0, 0.0, 0.04, 0.18, 0.35)
ICANS_TIER_FACTOR = (0.3, 1.0, 1.3, 1.6, 1.9)
ICANS_GRADE_MIX = {
    "car_t": (0.35, 0.30, 0.25, 0.10),
    "blinatumomab": (0.35, 0.25, 0.30, 0.10),
    "bispecific": (0.60, 0.30, 0.10, 0.0),
}
BLINATUMOMAB_ICANS_SHARE = 0.25
INFECTION_SHARE = 0.06
DEATH_GIVEN_TIER_4 = 0.08
TOCILIZUMAB_GIVEN_TIER = {
    "car_t": (0.0, 0.08, 0.55, 1.0, 1.0),
    "blinatumomab": (0.0, 0.0, 0.1, 0.6, 1.0),
    "bispecific": (0.0, 0.05, 0.5, 1.0, 1.0),
}
STEROIDS_GIVEN_TIER = {
    "car_t": (0.0, 0.0, 0.15, 0.6, 1.0),
    "blinatumomab": (0.0, 0.0, 0.3, 1.0, 1.0),
    "bispecific": (0.0, 0.0, 0.2, 0.8, 1.0),
}

HYPOTENSION_LEVELS = ("none", "fluids", "one_pressor", "multiple_pressors")
OXYGEN_LEVELS = ("none", "low_flow", "high_flow", "positive_pressure", "ventilation")


@dataclass(frozen=True, slots=True)
class Scenario:
    """The intended course before timing; levels index the ``*_LEVELS`` names."""

    kind: str
    crs_tier: int
    hypotension: int
    vasopressin: bool
    oxygen: int
    hlh_like: bool
    icans_grade: int
    infection: bool
    tocilizumab: bool
    steroids: bool
    died: bool

    @property
    def label(self) -> str:
        """A short readable summary, e.g. ``tier3:one_pressor+vasopressin+low_flow``."""
        parts = []
        if self.hypotension:
            parts.append(HYPOTENSION_LEVELS[self.hypotension])
        if self.vasopressin:
            parts.append("vasopressin")
        if self.oxygen:
            parts.append(OXYGEN_LEVELS[self.oxygen])
        if not parts:
            parts.append("fever" if self.crs_tier else "no_crs")
        text = f"tier{self.crs_tier}:{'+'.join(parts)}"
        if self.hlh_like:
            text += "/hlh_like"
        if self.icans_grade:
            text += f"/icans{self.icans_grade}"
        if self.infection:
            text += "/infection"
        if self.died:
            text += "/died"
        return text


def draw_kind(rng: np.random.Generator, therapy: TherapyChoice) -> str:
    if therapy == "mixed":
        return "car_t" if rng.random() < MIXED_CAR_T_SHARE else "blinatumomab"
    return therapy


def _draw_drivers(rng: np.random.Generator, tier: int) -> tuple[int, int]:
    """(hypotension level, oxygen level) whose maximum is ``tier``."""
    if tier <= 1:
        return 0, 0
    # Hypotension and oxygen level k both mean tier k + 1, except that oxygen levels 3
    # (positive pressure) and 4 (ventilation) are both tier 4.
    pressure_driver = rng.random() < 0.75
    oxygen_driver = rng.random() < 0.5
    if not pressure_driver and not oxygen_driver:
        pressure_driver = True
    top_oxygen = tier - 1 if tier < 4 else (4 if rng.random() < 0.6 else 3)
    # A component that does not drive the tier is absent or at most one tier lower.
    hypotension = tier - 1 if pressure_driver else int(rng.integers(0, tier - 1))
    oxygen = top_oxygen if oxygen_driver else int(rng.integers(0, tier - 1))
    return hypotension, oxygen


def draw_scenario(
    rng: np.random.Generator, kind: str, patient: Demographics, icans_share: float
) -> Scenario:
    """Draw the intent for one patient; ``icans_share`` is the product's (or regimen's) share."""
    mix = CRS_TIER_MIX[kind]
    tier = int(rng.choice(5, p=mix))
    hypotension, oxygen = _draw_drivers(rng, tier)
    vasopressin = hypotension >= 2 and rng.random() < (0.25 if hypotension == 2 else 0.4)
    hlh_like = bool(rng.random() < HLH_GIVEN_TIER[tier])

    norm = sum(share * factor for share, factor in zip(mix, ICANS_TIER_FACTOR, strict=True))
    icans_probability = min(0.95, icans_share * ICANS_TIER_FACTOR[tier] / norm)
    icans_grade = 0
    if rng.random() < icans_probability:
        icans_grade = 1 + int(rng.choice(4, p=ICANS_GRADE_MIX[kind]))
        if tier == 0:
            icans_grade = min(icans_grade, 2)
    infection = bool(rng.random() < INFECTION_SHARE)

    tocilizumab_probability = TOCILIZUMAB_GIVEN_TIER[kind][tier]
    if kind == "car_t" and tier == 2 and patient.high_risk:
        tocilizumab_probability = 0.9
    tocilizumab = hlh_like or bool(rng.random() < tocilizumab_probability)
    steroids = bool(rng.random() < STEROIDS_GIVEN_TIER[kind][tier])
    died = tier == 4 and bool(rng.random() < DEATH_GIVEN_TIER_4)
    return Scenario(
        kind=kind,
        crs_tier=tier,
        hypotension=hypotension,
        vasopressin=bool(vasopressin),
        oxygen=oxygen,
        hlh_like=hlh_like,
        icans_grade=icans_grade,
        infection=infection,
        tocilizumab=tocilizumab,
        steroids=steroids,
        died=died,
    )
