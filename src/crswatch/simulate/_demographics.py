"""Who a simulated patient is: age, sex, height and weight consistent with age, risk flag.

Modelling choices (assumptions, not seed data, unless a seed is named):

- Mostly adults; children make up 12 % of CAR T patients (tisagenlecleucel is the paediatric
  product; seeds 002 and 003 describe children on CD19 CAR T) and 15 % of blinatumomab patients
  (seed 000 is a 7-year-old on blinatumomab).  Adults on CAR T are older (mean 58 years, as in the
  lymphoma and myeloma programmes) than adults on blinatumomab (mean 45, relapsed ALL).
- 60 % male.
- Children: height from approximate CDC 2000 median height-for-age by sex, ±4 %; weight from a
  median BMI-for-age, ±10 % (log scale).  Adults: height N(176, 7) cm men, N(162, 6.5) cm women;
  BMI log-normal with median 26 kg/m².  So weight and height always agree with age.
- ``high_risk`` (Lee 2014: older age or significant comorbidity, clinician's judgement): 60 % of
  patients aged 65 or more, 15 % of younger adults, 5 % of children.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Demographics", "draw_demographics"]

#: The step-up bispecifics are labelled for adults (myeloma, lymphoma): no children.
CHILD_SHARE = {"car_t": 0.12, "blinatumomab": 0.15, "bispecific": 0.0}
#: Youngest child treated: CAR T needs an apheresis product; blinatumomab is dosed from age 1.
CHILD_MIN_AGE = {"car_t": 3, "blinatumomab": 1, "bispecific": 18}
ADULT_AGE = {"car_t": (58.0, 12.0), "blinatumomab": (45.0, 16.0), "bispecific": (66.0, 10.0)}
MALE_SHARE = 0.6

#: Approximate CDC 2000 median height (cm) for ages 1..17.
_HEIGHT_BOYS = (76, 87, 96, 103, 110, 116, 122, 128, 134, 139, 144, 150, 157, 164, 170, 174, 176)
_HEIGHT_GIRLS = (74, 86, 95, 102, 109, 115, 121, 127, 133, 139, 145, 151, 157, 160, 162, 162, 163)
#: Approximate median BMI-for-age (kg/m2) at these ages.
_BMI_AGES = (1.0, 2.0, 5.0, 8.0, 10.0, 12.0, 14.0, 17.0)
_BMI_MEDIAN = (17.0, 16.5, 15.4, 15.9, 16.6, 17.8, 19.1, 20.7)


@dataclass(frozen=True, slots=True)
class Demographics:
    """Body size and risk at the start of therapy."""

    age_years: float
    sex: str
    height_cm: float
    weight_kg: float
    high_risk: bool

    @property
    def child(self) -> bool:
        return self.age_years < 18

    @property
    def bsa_m2(self) -> float:
        """Mosteller, as the timeline model computes it."""
        return math.sqrt(self.height_cm * self.weight_kg / 3600.0)


def draw_demographics(rng: np.random.Generator, kind: str) -> Demographics:
    """Draw one patient treated with ``kind`` (``car_t`` or ``blinatumomab``)."""
    sex = "male" if rng.random() < MALE_SHARE else "female"
    if rng.random() < CHILD_SHARE[kind]:
        age = int(rng.integers(CHILD_MIN_AGE[kind], 18))
        median = (_HEIGHT_BOYS if sex == "male" else _HEIGHT_GIRLS)[age - 1]
        height = median * (1.0 + 0.04 * float(rng.standard_normal()))
        bmi = float(np.interp(age, _BMI_AGES, _BMI_MEDIAN)) * math.exp(0.1 * rng.standard_normal())
        high_risk = bool(rng.random() < 0.05)
    else:
        mean, spread = ADULT_AGE[kind]
        age = int(np.clip(round(rng.normal(mean, spread)), 18, 85))
        height = rng.normal(176.0, 7.0) if sex == "male" else rng.normal(162.0, 6.5)
        bmi = float(np.clip(26.0 * math.exp(0.17 * rng.standard_normal()), 16.0, 45.0))
        high_risk = bool(rng.random() < (0.6 if age >= 65 else 0.15))
    height = float(np.clip(height, 60.0, 210.0))
    weight = float(np.clip(bmi * (height / 100.0) ** 2, 8.0, 180.0))
    return Demographics(
        age_years=float(age),
        sex=sex,
        height_cm=round(height, 1),
        weight_kg=round(weight, 1),
        high_risk=high_risk,
    )
