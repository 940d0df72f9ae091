"""CARTOX (MD Anderson) CRS grading for adults (Neelapu 2018).

Citation: Neelapu SS, Tummala S, Kebriaei P, et al. Chimeric antigen receptor T-cell therapy -
assessment and management of toxicities. Nat Rev Clin Oncol 2018;15(1):47-62.
doi:10.1038/nrclinonc.2017.148.  The CRS grading table as tabulated in PMC7006459 Table 2 and
the "MDACC" column of Liu 2018 Table 1, verified in shared/spec/clinical-criteria.md §1.8
[V-2].  The paediatric adaptation (Mahadeo 2019) is the separate scale ``cartox_peds2019``.

Time semantics: graded at an evaluation time T from the clinical state at T (crswatch.state):
fever is the highest attributable temperature in [T - 24 h, T]; hypotension the lowest SBP in
[T - 24 h, T]; vasopressors, oxygen and ventilation are what is running at T; transfusions for
coagulopathy those given in [T - 24 h, T]; organ toxicity is the worst CTCAE v4.03 grade among
the results of [T - 48 h, T].

Interpretations (numbered; each is a parameter or a criterion note):

1. Fever is >= 38.0 °C (grade 1, "Temperature >= 38 °C").  Fever is not required for grades 2-5.
2. "Hypotension (SBP < 90 mm Hg) responsive to IV fluids" is hypotension (SBP below the age
   threshold: < 90 mm Hg above 10 years) with no vasopressor running: grade 2, the fluid boluses
   shown as evidence ("responsive" is not in the record; read as Lee 2014, whose wording CARTOX
   keeps).  "Low-dose vasopressors" is exactly one vasopressor running without a sustained high
   dose: grade 2.
3. "High-dose or multiple vasopressors": a high dose is Lee 2014 Table 3 (seed 003) held without
   a break for >= 3 hours (``high_dose_sustained``; that CARTOX uses Lee's table is [R]); a high
   dose held < 3 h is still low dose.  "Multiple" is >= 2 vasopressors, vasopressin included
   (clinical-criteria §6.3 D6: norepinephrine + vasopressin is CARTOX 3).  Both are grade 3.
4. "Life-threatening hypotension" (grade 4) is not derivable from a timeline beyond the other
   criteria: no data item marks hypotension as life-threatening, so it is documented here and is
   not a criterion (high-dose or multiple vasopressors stay grade 3).
5. "Hypoxia needing FiO2 < 40% / >= 40%" reads the FiO2 of the oxygen running at T (any device
   short of positive pressure): measured, else estimated from a nasal cannula's flow by
   ``StateParameters.fio2_rule`` (clinical-criteria §1.11, discrepancy D5: a 6 L/min cannula is
   about 44 %, grade 3, and the result warns that it was estimated).  Any oxygen at an unknown
   FiO2 is at least grade 2 and grade 3 cannot be excluded (the FiO2 is reported missing).  The
   target saturation ("for SaO2 > 90%") is not checked: oxygen given is oxygen needed.  An
   estimate is graded over the range of both published conversions
   (``StateParameters.fio2_estimate_range``): where one gives below 40 % and the other 40 % or
   more (5 to under 6 L/min: 30 % and 40-43 %) the result is ambiguous, 2-3, with both values as
   evidence.  A charted FiO2 always wins.
6. "Needing ventilator support" is any positive pressure, CPAP and BiPAP included: grade 4
   (clinical-criteria §1.10 "BiPAP / CPAP: CARTOX (adult) 4", §6.3 D11 "4 (adult)").
7. Organ toxicity is the worst CTCAE v4.03 grade among the organ laboratory results of the
   48-hour window (``organ_tox_v4_*``: transaminases, bilirubin, creatinine and acute kidney
   injury, fibrinogen, ejection fraction; not cytopenias), read in two halves as for Lee 2014,
   whose organ clauses CARTOX keeps: transaminitis (``transaminitis_v4``) and every other organ
   (``organ_tox_v4_max_excl_transaminitis``).  Grading reads the organs that were measured
   (``organ_tox_v4_complete`` and ``organ_tox_v4_missing`` are shown, not required), but a
   criterion stays undecided until both halves have a result (missing is not normal).  Grade 4
   transaminitis is grade 3; grade 4 toxicity of any other organ is grade 4.
8. Coagulopathy: a measured fibrinogen is organ toxicity ("Fibrinogen decreased", in the organ
   maximum).  A transfusion of FFP, cryoprecipitate or fibrinogen concentrate is not named by
   CARTOX (clinical-criteria §6.3 D17 "organ tox (amb)"): it is ambiguous between not counting
   (0) and grade 3 (Lee 2014's text puts coagulopathy among grade 3 organ toxicities; Penn puts
   "coagulopathy requiring FFP or cryoprecipitate" at 3).  A measured fibrinogen is graded as
   organ toxicity whatever was transfused, so grade 3 or worse makes the grade certain.
9. Grade 5 is death not attributed to another cause after CRS onset (the first fever after the
   infusion), as for the other scales.
"""

from __future__ import annotations

import polars as pl

from crswatch.scales._criteria import Criterion, Scale, numbered_items
from crswatch.scales._shared import (
    ON_OXYGEN_SHORT_OF_POSITIVE_PRESSURE,
    coagulopathy_transfusion_criterion,
    death_criterion,
    fever_criterion,
    fio2_at_least_40_criterion,
    fio2_below_40_criterion,
    fio2_estimates_straddle_40_criterion,
    high_dose_criterion,
    hypotension_fluids_criterion,
    multiple_pressors_criterion,
    one_low_dose_pressor_criterion,
    organ_v4_criterion,
    transaminitis_g4_criterion,
)

__all__ = ["CRITERIA", "SCALE"]

_REF = "Neelapu 2018 (CARTOX) CRS grading, as tabulated in PMC7006459 Table 2 and Liu 2018 Table 1"
_ID = "cartox2018"
_HIGH_DOSE_NOTE = (
    "High dose: Lee 2014 Table 3 held >= 3 h (seed 003_f311ac7ac5f2c496.txt) [R: that CARTOX "
    "uses Lee's definition is recalled, not verified] (interpretation 3)."
)
_FIO2_NOTE = "FiO2 measured, else estimated from a nasal cannula's flow (interpretation 5)."
_ORGAN_NOTE = "Worst CTCAE v4.03 organ grade in [T - 48 h, T] (interpretation 7)."

CRITERIA: tuple[Criterion, ...] = (
    fever_criterion(_ID, source_text="Temperature >= 38 °C", source_ref=f"{_REF}, grade 1"),
    organ_v4_criterion(
        _ID,
        1,
        source_text="Grade 1 organ toxicity",
        source_ref=f"{_REF}, grade 1",
        note=_ORGAN_NOTE,
    ),
    hypotension_fluids_criterion(
        "cartox2018.hypotension.g2.fluids",
        2,
        source_text="Hypotension (SBP < 90 mm Hg) responsive to IV fluids",
        source_ref=f"{_REF}, grade 2",
        note="Hypotension with no vasopressor running (interpretation 2).",
    ),
    one_low_dose_pressor_criterion(
        _ID,
        source_text="Hypotension responsive to ... low-dose vasopressors",
        source_ref=f"{_REF}, grade 2",
        note="Exactly one vasopressor, not at a sustained high dose. " + _HIGH_DOSE_NOTE,
    ),
    fio2_below_40_criterion(
        _ID,
        oxygen=ON_OXYGEN_SHORT_OF_POSITIVE_PRESSURE,
        source_text="Hypoxia requiring FiO2 < 40% for SaO2 > 90%",
        source_ref=f"{_REF}, grade 2",
        note=_FIO2_NOTE,
    ),
    organ_v4_criterion(
        _ID,
        2,
        source_text="Grade 2 organ toxicity",
        source_ref=f"{_REF}, grade 2",
        note=_ORGAN_NOTE,
    ),
    high_dose_criterion(
        "cartox2018.hypotension.g3.high_dose",
        3,
        source_text="Hypotension needing high-dose ... vasopressors",
        source_ref=f"{_REF}, grade 3; high dose: Lee 2014 Table 3 [R]",
        note=_HIGH_DOSE_NOTE,
    ),
    multiple_pressors_criterion(
        "cartox2018.hypotension.g3.multiple",
        3,
        source_text="Hypotension needing ... multiple vasopressors",
        source_ref=f"{_REF}, grade 3",
        note="Two or more vasopressors, vasopressin included (interpretation 3).",
    ),
    fio2_at_least_40_criterion(
        _ID,
        oxygen=ON_OXYGEN_SHORT_OF_POSITIVE_PRESSURE,
        source_text="Hypoxia requiring FiO2 >= 40%",
        source_ref=f"{_REF}, grade 3",
        note=_FIO2_NOTE,
    ),
    fio2_estimates_straddle_40_criterion(
        _ID,
        oxygen=ON_OXYGEN_SHORT_OF_POSITIVE_PRESSURE,
        source_text="Hypoxia requiring FiO2 >= 40%",
        source_ref=f"{_REF}, grade 3",
        interpretation=5,
    ),
    organ_v4_criterion(
        _ID,
        3,
        source_text="Grade 3 organ toxicity",
        source_ref=f"{_REF}, grade 3",
        note=_ORGAN_NOTE,
    ),
    transaminitis_g4_criterion(
        _ID, source_text="Grade 4 transaminitis", source_ref=f"{_REF}, grade 3"
    ),
    coagulopathy_transfusion_criterion(
        _ID,
        source_ref=(
            f"{_REF}: the table grades organ toxicity by CTCAE and names no coagulopathy or "
            "transfusion"
        ),
        interpretation=8,
    ),
    Criterion(
        id="cartox2018.hypoxia.g4",
        grade=4,
        domain="hypoxia",
        test=pl.col("positive_pressure"),
        inputs=("o2_device",),
        source_text="Needing ventilator support",
        source_ref=f"{_REF}, grade 4 ('needing ventilator support', adults)",
        note="CPAP, BiPAP or invasive ventilation (interpretation 6).",
    ),
    organ_v4_criterion(
        _ID,
        4,
        source_text="Grade 4 organ toxicity except grade 4 transaminitis",
        source_ref=f"{_REF}, grade 4",
        note="Worst CTCAE v4.03 grade of an organ other than ALT and AST (interpretation 7).",
    ),
    death_criterion(_ID, source_ref=f"{_REF}, grade 5", interpretation=9),
)

SCALE = Scale(
    id="cartox2018",
    version="2018",
    title="CARTOX CRS grading, adults (Neelapu 2018)",
    citation=(
        "Neelapu SS, Tummala S, Kebriaei P, et al. Chimeric antigen receptor T-cell therapy - "
        "assessment and management of toxicities. Nat Rev Clin Oncol 2018;15(1):47-62"
    ),
    doi="10.1038/nrclinonc.2017.148",
    kind="crs",
    criteria=CRITERIA,
    interpretations=numbered_items(__doc__),
)
