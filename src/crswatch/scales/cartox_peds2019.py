"""Paediatric CARTOX CRS grading (Mahadeo 2019).

Citation: Mahadeo KM, Khazal SJ, Abdel-Azim H, et al. Management guidelines for paediatric
patients receiving chimeric antigen receptor T cell therapy. Nat Rev Clin Oncol
2019;16(1):45-63 [R: the co-authors, volume and pages are recalled; the DOI is the spec's
source URL]. doi:10.1038/s41571-018-0075-2.  Table 2 (CRS grading) and the paediatric
definitions (hypotension by age), verified in shared/spec/clinical-criteria.md §1.8 [V].  The
adult scale it adapts (Neelapu 2018) is ``cartox2018``.

Time semantics: graded at an evaluation time T from the clinical state at T (crswatch.state):
fever is the highest attributable temperature in [T - 24 h, T]; hypotension the lowest SBP in
[T - 24 h, T] and fluid boluses those given in [T - 24 h, T]; vasopressors, oxygen and
ventilation are what is running at T; transfusions for coagulopathy those given in [T - 24 h,
T]; organ toxicity is the worst CTCAE v4.03 grade among the results of [T - 48 h, T].

Interpretations (numbered; each is a parameter or a criterion note):

1. Grade 1 is temperature >= 38.0 °C.  Grades 2-4 hold at "any temperature": fever is not
   required.  Grade 1 organ toxicity is compatible with grade 1 ("grade <= 1 organ toxicity")
   but does not make it.
2. Hypotension is the Mahadeo 2019 definition, computed by the state from the age at T: SBP <
   70 + 2 x age (completed years) for ages 1-10, SBP < 90 mm Hg above 10 years (and < 70 mm Hg
   under one year, an interpretation of the state).  The scale is graded at any age; it was
   written for children.
3. "Hypotension that responds to IV fluids" is hypotension with no vasopressor running (the fluid
   boluses shown as evidence; "responds" is not in the record); "low-dose vasopressor" is exactly
   one vasopressor running without a sustained high dose: grade 2.
4. "High-dose or multiple vasopressors": a high dose is Lee 2014 Table 3 (seed 003) held without a
   break for >= 3 hours (``high_dose_sustained``); that Mahadeo 2019 uses Lee's adult thresholds
   is [R] (they are absolute rates, not weight-based).  "Multiple" is >= 2 vasopressors,
   vasopressin included.  Both are grade 3.
5. "Persistent hypotension despite fluid resuscitation and multiple vasopressors" (grade 4) is
   ambiguous between 3 and 4: the state knows hypotension in [T - 24 h, T], >= 1 fluid bolus and
   >= 2 vasopressors running, but not that the hypotension persisted despite them.
6. Oxygen: "SpO2 < 90% on room air (FiO2 requirement < 40% to keep SpO2 > 88%)" is oxygen short
   of positive pressure at an FiO2 < 40 % (grade 2); "FiO2 requirement >= 40% and/or BiPAP to keep
   SpO2 > 88%" is an FiO2 >= 40 % or non-invasive positive pressure (grade 3).  CPAP counts with
   BiPAP: grade 4 names only "invasive mechanical ventilation".  The FiO2 is measured, else
   estimated from a nasal cannula's flow by ``StateParameters.fio2_rule`` (discrepancy D5); any
   oxygen at an unknown FiO2 is at least grade 2 and grade 3 cannot be excluded.  An SpO2 < 90 %
   on room air without oxygen given is not derivable (the state has no saturation) and is not a
   criterion; the saturation targets are not checked (oxygen given is oxygen needed).  An
   estimate is graded over the range of both published conversions
   (``StateParameters.fio2_estimate_range``): where one gives below 40 % and the other 40 % or
   more (5 to under 6 L/min: 30 % and 40-43 %) the result is ambiguous, 2-3, with both values as
   evidence.  A charted FiO2 always wins.
7. "Requirement for invasive mechanical ventilation": grade 4.  BiPAP is grade 3 here and grade 4
   under ASTCT (discrepancy register §8 D4).
8. Organ toxicity as in ``cartox2018`` (interpretation 7 there): the worst CTCAE v4.03 grade of
   the 48-hour window, read in two halves, transaminitis and every other organ; grade 4
   transaminitis (> 20 x ULN) is grade 3; grade 4 toxicity of another organ is grade 4.
9. Coagulopathy as in ``cartox2018`` (interpretation 8 there): a measured fibrinogen is organ
   toxicity; a transfusion of FFP, cryoprecipitate or fibrinogen concentrate is ambiguous between
   not counting and grade 3.
10. Table 2 grades 1-4: there is no grade 5 criterion (a CRS death is graded by the findings
    before it).
"""

from __future__ import annotations

import polars as pl

from crswatch.scales._compare import compare
from crswatch.scales._criteria import Criterion, Scale, numbered_items
from crswatch.scales._shared import (
    FLUID_INPUTS,
    HYPOTENSION_NO_PRESSOR,
    ON_OXYGEN_SHORT_OF_POSITIVE_PRESSURE,
    PRESSOR_INPUTS,
    coagulopathy_transfusion_criterion,
    fever_criterion,
    fio2_at_least_40_criterion,
    fio2_below_40_criterion,
    fio2_estimates_straddle_40_criterion,
    high_dose_criterion,
    invasive_ventilation_criterion,
    multiple_pressors_criterion,
    noninvasive_ventilation_criterion,
    one_low_dose_pressor_criterion,
    organ_v4_criterion,
    transaminitis_g4_criterion,
)

__all__ = ["CRITERIA", "SCALE"]

_REF = "Mahadeo 2019 (paediatric CARTOX), Table 2"
_ID = "cartox_peds2019"
_HIGH_DOSE_NOTE = (
    "High dose: Lee 2014 Table 3 held >= 3 h (seed 003_f311ac7ac5f2c496.txt) [R: that Mahadeo "
    "2019 uses Lee's adult thresholds is recalled, not verified] (interpretation 4)."
)
_HYPOTENSION_INPUTS = ("age_at", *FLUID_INPUTS)
_ORGAN_NOTE = "Worst CTCAE v4.03 organ grade in [T - 48 h, T] (interpretation 8)."

CRITERIA: tuple[Criterion, ...] = (
    fever_criterion(_ID, source_text="Temperature >= 38 °C", source_ref=f"{_REF}, grade 1"),
    Criterion(
        id="cartox_peds2019.hypotension.g2.fluids",
        grade=2,
        domain="hypotension",
        test=HYPOTENSION_NO_PRESSOR,
        inputs=(*_HYPOTENSION_INPUTS, "pressors_running"),
        source_text="Any temperature and hypotension that responds to IV fluids",
        source_ref=f"{_REF}, grade 2; hypotension: Mahadeo 2019 paediatric definitions",
        note="Hypotension by age with no vasopressor running (interpretations 2, 3).",
    ),
    one_low_dose_pressor_criterion(
        _ID,
        source_text="Any temperature and hypotension that responds to ... low-dose vasopressor",
        source_ref=f"{_REF}, grade 2",
        note="Exactly one vasopressor, not at a sustained high dose. " + _HIGH_DOSE_NOTE,
    ),
    fio2_below_40_criterion(
        _ID,
        oxygen=ON_OXYGEN_SHORT_OF_POSITIVE_PRESSURE,
        source_text=(
            "Any temperature and SpO2 < 90% on room air (FiO2 requirement < 40% to keep SpO2 > 88%)"
        ),
        source_ref=f"{_REF}, grade 2",
        note="Oxygen at an FiO2 < 40 % (or unknown); SpO2 is not checked (interpretation 6).",
    ),
    organ_v4_criterion(
        _ID,
        2,
        source_text="Any temperature and grade 2 organ toxicity",
        source_ref=f"{_REF}, grade 2",
        note=_ORGAN_NOTE,
    ),
    high_dose_criterion(
        "cartox_peds2019.hypotension.g3.high_dose",
        3,
        source_text="Any temperature and hypotension requiring high-dose ... vasopressors",
        source_ref=f"{_REF}, grade 3; high dose: Lee 2014 Table 3 [R]",
        note=_HIGH_DOSE_NOTE,
    ),
    multiple_pressors_criterion(
        "cartox_peds2019.hypotension.g3.multiple",
        3,
        source_text="Any temperature and hypotension requiring ... multiple vasopressors",
        source_ref=f"{_REF}, grade 3",
        note="Two or more vasopressors, vasopressin included (interpretation 4).",
    ),
    fio2_at_least_40_criterion(
        _ID,
        oxygen=ON_OXYGEN_SHORT_OF_POSITIVE_PRESSURE,
        source_text="Any temperature and FiO2 requirement >= 40% ... to keep SpO2 > 88%",
        source_ref=f"{_REF}, grade 3",
        note="FiO2 measured, else estimated from a nasal cannula's flow (interpretation 6).",
    ),
    fio2_estimates_straddle_40_criterion(
        _ID,
        oxygen=ON_OXYGEN_SHORT_OF_POSITIVE_PRESSURE,
        source_text="Any temperature and FiO2 requirement >= 40% ... to keep SpO2 > 88%",
        source_ref=f"{_REF}, grade 3",
        interpretation=6,
    ),
    noninvasive_ventilation_criterion(
        "cartox_peds2019.hypoxia.g3.bipap",
        3,
        source_text="Any temperature and ... BiPAP to keep SpO2 > 88%",
        source_ref=f"{_REF}, grade 3; discrepancy register §8 D4 (ASTCT: grade 4)",
        note="BiPAP or CPAP: non-invasive positive pressure (interpretations 6, 7).",
    ),
    organ_v4_criterion(
        _ID,
        3,
        source_text="Any temperature and grade 3 organ toxicity",
        source_ref=f"{_REF}, grade 3",
        note=_ORGAN_NOTE,
    ),
    transaminitis_g4_criterion(
        _ID,
        source_text="Any temperature and grade 4 transaminitis (> 20x ULN)",
        source_ref=f"{_REF}, grade 3",
    ),
    coagulopathy_transfusion_criterion(
        _ID,
        source_ref=(
            f"{_REF}: the table grades organ toxicity by CTCAE and names no coagulopathy or "
            "transfusion"
        ),
        interpretation=9,
    ),
    Criterion(
        id="cartox_peds2019.hypotension.g4.persistent",
        grade=3,
        grade_high=4,
        domain="hypotension",
        test=pl.col("hypotension")
        & compare("fluid_boluses_n", ">=", 1)
        & compare("pressors_running", ">=", 2),
        inputs=(*_HYPOTENSION_INPUTS, *PRESSOR_INPUTS),
        source_text=(
            "Any temperature and persistent hypotension despite fluid resuscitation and multiple "
            "vasopressors"
        ),
        source_ref=f"{_REF}, grade 4",
        note="Persistence is not in the record: ambiguous between 3 and 4 (interpretation 5).",
    ),
    invasive_ventilation_criterion(
        _ID,
        source_text="Any temperature and requirement for invasive mechanical ventilation",
        source_ref=f"{_REF}, grade 4",
        note="Invasive mechanical ventilation (interpretation 7).",
    ),
    organ_v4_criterion(
        _ID,
        4,
        source_text="Any temperature and grade 4 organ toxicity (except grade 4 transaminitis)",
        source_ref=f"{_REF}, grade 4",
        note="Worst CTCAE v4.03 grade of an organ other than ALT and AST (interpretation 8).",
    ),
)

SCALE = Scale(
    id="cartox_peds2019",
    version="2019",
    title="Paediatric CARTOX CRS grading (Mahadeo 2019)",
    citation=(
        "Mahadeo KM, Khazal SJ, Abdel-Azim H, et al. Management guidelines for paediatric "
        "patients receiving chimeric antigen receptor T cell therapy. Nat Rev Clin Oncol "
        "2019;16(1):45-63 (Table 2)"
    ),
    doi="10.1038/s41571-018-0075-2",
    kind="crs",
    criteria=CRITERIA,
    interpretations=numbered_items(__doc__),
)
