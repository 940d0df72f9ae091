"""MSKCC CRS grading (Park et al., NEJM 2018).

Citation: Park JH, Rivière I, Gonen M, et al. Long-term follow-up of CD19 CAR therapy in acute
lymphoblastic leukemia. N Engl J Med 2018;378(5):449-459. doi:10.1056/NEJMoa1709919.  The CRS
grading of the trial (its Supplementary Appendix [R: not read]), as tabulated in PMC7006459
Table 2 and verified in shared/spec/clinical-criteria.md §1.7 [V].  Project notes behind the
interpretations (not shown to clinicians): clinical-criteria §1.7, §1.10, §1.11, §6.3 D5-D7, D11,
D13 and D14, discrepancy D5; state columns ``pressor_hours``, ``high_dose_sustained`` and
``refractory_hypotension``.

Time semantics: graded at an evaluation time T from the clinical state at T (crswatch.state):
fever is the highest attributable temperature in [T - 24 h, T], hypotension the lowest SBP in
[T - 24 h, T]; vasopressors and respiratory support are what is running at T; the vasopressor
duration is the cumulative time with any vasopressor running from the therapy start to T.

Interpretations (numbered; each is a parameter or a criterion note):

1. Grade 1, "Mild symptoms requiring observation or supportive care only", is fever >= 38.0 °C (the
   threshold of the other scales; MSKCC gives none) or hypotension treated without a vasopressor:
   IV fluids are supportive care and hypotension is graded only once it needs a vasopressor (the
   table lists hypotension only with vasopressors).  Fever is not required for grades 2-4.
2. "Requiring any vasopressors < 24 h / >= 24 h" is a vasopressor running at T (vasopressin
   included, any dose, any number) with the cumulative hours with any vasopressor, from the therapy
   start to T, below 24 or at least 24.  Cumulative, not continuous: an infusion stopped and
   restarted keeps counting.  At T the duration is what has elapsed, never what will: a course that
   will last 30 hours is grade 2 during its first 24.
3. "Hypotension refractory to high-dose vasopressors" (grade 4) is read from the record: MSKCC
   defines no high dose, so a high dose is Lee 2014 Table 3 (Blood 124:188) held for >= 3 hours
   (the only published operational definition among these scales), and refractory is hypotension
   (SBP below the age threshold) persisting on it: an attributable SBP below the threshold measured
   once the high dose had been held 3 hours, within the last 24 hours.  SBP measured in that period
   and none below the threshold: not refractory, graded by duration (2 under 24 cumulative hours, 3
   from 24; the high dose has restored the pressure).  No SBP measured in that period: the record
   does not say, and the result is ambiguous between the duration grade and 4.  Below that dose,
   multiple vasopressors are graded by duration.
4. "O2 < 40% / >= 40%" reads the FiO2 of the oxygen running at T: measured, else estimated from a
   nasal cannula's flow by the chosen flow-to-FiO2 conversion (the setting fio2_rule): a 6 L/min
   cannula, about 44 %, is grade 3 (ASTCT 2019: grade 2), with a warning that the FiO2 was
   estimated.  Any oxygen at an unknown FiO2 is at least grade 2 and grade 3 cannot be excluded:
   the FiO2 is reported missing.  An estimate is graded over the range of both published
   conversions (the setting fio2_estimate_range): where one gives below 40 % and the other 40 % or
   more (5 to under 6 L/min: 30 % and 40-43 %) the result is ambiguous, 2-3, with both values as
   evidence.  A charted FiO2 always wins.
5. "Mechanical ventilation" is certain for invasive mechanical ventilation (grade 4); CPAP or BiPAP
   is ambiguous between the grade its FiO2 gives (2 or 3) and 4 (MSKCC does not say whether they
   are mechanical ventilation).
6. Organ toxicity does not enter the MSKCC grade (the table names none: fever with organ toxicity
   is grade 1).
7. Grade 5 is death not attributed to another cause after CRS onset (the first fever after the
   infusion).
"""

from __future__ import annotations

import polars as pl

from crswatch.scales._compare import compare
from crswatch.scales._criteria import Criterion, Scale, numbered_items
from crswatch.scales._shared import (
    ON_OXYGEN,
    death_criterion,
    fever_criterion,
    fio2_at_least_40_criterion,
    fio2_below_40_criterion,
    fio2_estimates_straddle_40_criterion,
    hypotension_fluids_criterion,
    invasive_ventilation_criterion,
    noninvasive_ventilation_criterion,
)

__all__ = ["CRITERIA", "SCALE"]

_REF = "Park 2018 (MSKCC) CRS grading, as tabulated in PMC7006459 Table 2"
_ID = "mskcc2018"
_FIO2_NOTE = "FiO2 measured, else estimated from a nasal cannula's flow (interpretation 4)."
_PRESSOR_INPUTS = (
    "pressors_running",
    "pressor_hours",
    "norepinephrine_ug_min",
    "epinephrine_ug_min",
    "phenylephrine_ug_min",
    "dopamine_ug_kg_min",
    "vasopressin_u_min",
)
_ANY_PRESSOR = compare("pressors_running", ">=", 1)
_REFRACTORY_INPUTS = (
    *_PRESSOR_INPUTS,
    "ne_equivalent_ug_min",
    "high_dose_now",
    "high_dose_since",
    "high_dose_sustained",
    "sbp_on_high_dose",
    "sbp_threshold",
    "refractory_hypotension",
)

CRITERIA: tuple[Criterion, ...] = (
    fever_criterion(
        _ID,
        source_text="Mild symptoms requiring observation or supportive care only",
        source_ref=f"{_REF}, grade 1",
        note="Fever >= 38.0 °C (interpretation 1).",
    ),
    hypotension_fluids_criterion(
        "mskcc2018.hypotension.g1",
        1,
        source_text="Mild symptoms requiring observation or supportive care only",
        source_ref=f"{_REF}, grade 1",
        note="Hypotension without a vasopressor is not listed; fluids are supportive care "
        "(interpretation 1).",
    ),
    Criterion(
        id="mskcc2018.hypotension.g2",
        grade=2,
        domain="hypotension",
        test=_ANY_PRESSOR & compare("pressor_hours", "<", 24.0),
        inputs=_PRESSOR_INPUTS,
        source_text="Hypotension requiring any vasopressors <24 h",
        source_ref=f"{_REF}, grade 2",
        note="Cumulative vasopressor hours from the therapy start to T (interpretation 2).",
    ),
    fio2_below_40_criterion(
        _ID,
        oxygen=ON_OXYGEN,
        source_text="Hypoxia/dyspnea requiring O2 <40%",
        source_ref=f"{_REF}, grade 2",
        note=_FIO2_NOTE,
    ),
    Criterion(
        id="mskcc2018.hypotension.g3",
        grade=3,
        domain="hypotension",
        test=_ANY_PRESSOR & compare("pressor_hours", ">=", 24.0),
        inputs=_PRESSOR_INPUTS,
        source_text="Hypotension requiring any vasopressors >=24 h",
        source_ref=f"{_REF}, grade 3",
        note="Cumulative vasopressor hours from the therapy start to T (interpretation 2).",
    ),
    fio2_at_least_40_criterion(
        _ID,
        oxygen=ON_OXYGEN,
        source_text="Hypoxia/dyspnea requiring O2 >=40%",
        source_ref=f"{_REF}, grade 3",
        note=_FIO2_NOTE,
    ),
    fio2_estimates_straddle_40_criterion(
        _ID,
        oxygen=ON_OXYGEN,
        source_text="Hypoxia/dyspnea requiring O2 >=40%",
        source_ref=f"{_REF}, grade 3",
        interpretation=4,
    ),
    Criterion(
        id="mskcc2018.hypotension.g4.refractory",
        grade=4,
        domain="hypotension",
        test=pl.col("refractory_hypotension").fill_null(False),
        inputs=_REFRACTORY_INPUTS,
        source_text="Hypotension refractory to high-dose vasopressors",
        source_ref=f"{_REF}, grade 4",
        note=(
            "SBP below the age threshold on a high dose (Lee 2014 Table 3) held >= 3 h "
            "(interpretation 3)."
        ),
    ),
    Criterion(
        id="mskcc2018.hypotension.g4",
        grade=2,
        grade_high=4,
        domain="hypotension",
        test=pl.col("high_dose_sustained") & pl.col("refractory_hypotension").is_null(),
        inputs=_REFRACTORY_INPUTS,
        source_text="Hypotension refractory to high-dose vasopressors",
        source_ref=f"{_REF}, grade 4",
        note=(
            "On a high dose (Lee 2014 Table 3) held >= 3 h with no SBP measured since it was "
            "held 3 h: refractory or not is not in the record; the duration criteria give the "
            "lower bound (interpretation 3)."
        ),
    ),
    noninvasive_ventilation_criterion(
        "mskcc2018.hypoxia.g4.noninvasive",
        2,
        grade_high=4,
        source_text="Hypoxia/dyspnea requiring mechanical ventilation",
        source_ref=f"{_REF}, grades 2-4",
        note=(
            "CPAP/BiPAP: mechanical ventilation or not is not said; the FiO2 criteria give the "
            "lower bound (interpretation 5)."
        ),
    ),
    invasive_ventilation_criterion(
        _ID,
        source_text="Hypoxia/dyspnea requiring mechanical ventilation",
        source_ref=f"{_REF}, grade 4",
    ),
    death_criterion(_ID, source_ref=f"{_REF}, grade 5", interpretation=7),
)

SCALE = Scale(
    id="mskcc2018",
    version="2018",
    title="MSKCC CRS grading (Park 2018)",
    citation=(
        "Park JH, Rivière I, Gonen M, et al. Long-term follow-up of CD19 CAR therapy in acute "
        "lymphoblastic leukemia. N Engl J Med 2018;378(5):449-459"
    ),
    doi="10.1056/NEJMoa1709919",
    kind="crs",
    criteria=CRITERIA,
    interpretations=numbered_items(__doc__),
)
