"""Lee 2014 revised CRS grading (the "NCI consensus" grading).

Citation: Lee DW, Gardner R, Porter DL, et al. Current concepts in the diagnosis and management
of cytokine release syndrome. Blood 2014;124(2):188-195. doi:10.1182/blood-2014-05-552729.
Table 2 ("CRS revised grading system"; "Grades 2-4 refer to CTCAE v4.0 grading") and Table 3
("High-dose vasopressors (all doses are required for >=3 hours)"), read in the seed
shared/seeds/003_f311ac7ac5f2c496.txt; shared/spec/clinical-criteria.md §1.5.  The erratum (Blood
2015;126(8):1048) concerns treatment doses, not the grading.  The project notes behind the
interpretations (not shown to clinicians): clinical-criteria §1.5, §1.10, §1.11, §6.3 D11 and
discrepancies D1 and D5.

Time semantics: graded at an evaluation time T from the clinical state at T (crswatch.state):
fever is the highest attributable temperature in [T - 24 h, T]; hypotension the lowest SBP in
[T - 24 h, T]; vasopressors, oxygen and ventilation are what is running at T; organ toxicity is
the worst CTCAE v4.03 grade among the laboratory results of [T - 48 h, T].

Interpretations (numbered; each is a parameter or a criterion note):

1. Fever is >= 38.0 °C (Lee 2014 gives no number; the CTCAE fever grade 1 and ASTCT threshold) and
   gives grade 1, the only grade 1 symptom a record measures.  Fever is not required for grades 2-4
   (Lee 2014, Table 2).
2. "Oxygen requirement" is the FiO2 of the oxygen running at T: measured, else estimated from a
   nasal cannula's flow by the chosen flow-to-FiO2 conversion (the setting fio2_rule): a 6 L/min
   cannula is about 44 %, grade 3 (ASTCT 2019: grade 2), and the result warns that it was
   estimated.  Any oxygen at an unknown FiO2 is at least grade 2, and grade 3 cannot be excluded:
   the FiO2 is reported missing.  Grade 3 is ">= 40 %" (Frey 2016, Table 2, prints "< 40%", a
   typo).  An estimate is graded over the range of both published conversions (the setting
   fio2_estimate_range): where one gives below 40 % and the other 40 % or more (5 to under 6 L/min:
   30 % and 40-43 %) the record does not decide, and the result is ambiguous, 2-3, with both values
   as evidence.  A charted FiO2 always wins.
3. "Hypotension responsive to fluids" is hypotension (SBP below the age threshold) with no
   vasopressor running; "low dose of one vasopressor" is exactly one vasopressor running without
   a sustained high dose.  Vasopressin counts as a vasopressor: norepinephrine + vasopressin is
   "multiple vasopressors" (grade 3).
4. "High dose" is Lee 2014 Table 3 (Blood 124:188) held without a break for >= 3 hours (monotherapy
   norepinephrine >= 20 ug/min, dopamine >= 10 ug/kg/min, phenylephrine >= 200 ug/min, epinephrine
   >= 10 ug/min; on vasopressin a norepinephrine equivalent >= 10 ug/min; combinations >= 20
   ug/min, by the VASST equation as printed, mixed units included).  A high dose held for less than
   3 hours is still a low dose (grade 2).
5. "Ventilator support" is certain for invasive mechanical ventilation (grade 4).  CPAP and BiPAP
   are ambiguous between 3 and 4 (Lee 2014 does not say whether they are "ventilator support"):
   they are at least grade 3 because Lee 2014 puts "patients who require more than low flow oxygen"
   in grade 3.
6. Organ toxicity is the worst CTCAE v4.03 grade (Table 2 footnote) among the organ laboratory
   results of the 48-hour window (transaminases, bilirubin, creatinine and acute kidney injury,
   fibrinogen, ejection fraction; not cytopenias).  Grading reads the organs that were measured and
   does not wait for every one (whether the panel is complete is shown, not required), but it needs
   a transaminase and one other organ result: without them the grades they could give stay open and
   the result is not assessable (missing is not normal), however normal the rest of the record.
   Coagulopathy is organ toxicity (Lee 2014: "grade 3 organ toxicity, including but not limited to
   coagulopathy, renal, or cardiac dysfunction"), graded by fibrinogen; a transfusion is not itself
   a criterion.  Grade 4 transaminitis is grade 3; grade 4 toxicity of any other organ is grade 4.
7. Grade 5 is death not attributed to another cause after CRS onset (the first fever after the
   infusion), as for the other scales.
"""

from __future__ import annotations

from crswatch.scales._criteria import Criterion, Scale, numbered_items
from crswatch.scales._shared import (
    ON_OXYGEN,
    death_criterion,
    fever_criterion,
    fio2_at_least_40_criterion,
    fio2_below_40_criterion,
    fio2_estimates_straddle_40_criterion,
    high_dose_criterion,
    hypotension_fluids_criterion,
    invasive_ventilation_criterion,
    multiple_pressors_criterion,
    noninvasive_ventilation_criterion,
    one_low_dose_pressor_criterion,
    organ_v4_criterion,
    transaminitis_g4_criterion,
)

__all__ = ["CRITERIA", "SCALE"]

_REF = "Lee 2014, Table 2 (CRS revised grading system)"
_ID = "lee2014"
_FIO2_NOTE = "FiO2 measured, else estimated from a nasal cannula's flow (interpretation 2)."
_CTCAE_V4 = "'Grades 2-4 refer to CTCAE v4.0 grading'"

CRITERIA: tuple[Criterion, ...] = (
    fever_criterion(
        _ID,
        source_text=(
            "Symptoms are not life threatening and require symptomatic treatment only, eg, "
            "fever, nausea, fatigue, headache, myalgias, malaise"
        ),
        source_ref=f"{_REF}, grade 1",
        note="Fever >= 38.0 °C: Lee 2014 gives no number (interpretation 1).",
    ),
    hypotension_fluids_criterion(
        "lee2014.hypotension.g2.fluids",
        2,
        source_text="Hypotension responsive to fluids",
        source_ref=f"{_REF}, grade 2",
        note="Hypotension with no vasopressor running (interpretation 3).",
    ),
    one_low_dose_pressor_criterion(
        _ID,
        source_text="Hypotension responsive to ... low dose of one vasopressor",
        source_ref=f"{_REF}, grade 2",
        note="Exactly one vasopressor, not at a high dose held >= 3 h (interpretations 3, 4).",
    ),
    fio2_below_40_criterion(
        _ID,
        oxygen=ON_OXYGEN,
        source_text="Oxygen requirement <40%",
        source_ref=f"{_REF}, grade 2; text: 'low flow oxygen (<40% FiO2)'",
        note=_FIO2_NOTE,
    ),
    organ_v4_criterion(
        _ID,
        2,
        source_text="Grade 2 organ toxicity",
        source_ref=f"{_REF}, grade 2; {_CTCAE_V4}",
        note="Worst CTCAE v4.03 organ grade in [T - 48 h, T] (interpretation 6).",
    ),
    high_dose_criterion(
        "lee2014.hypotension.g3.high_dose",
        3,
        source_text=(
            "Hypotension requiring high dose vasopressors (Table 3: all doses are required for "
            ">=3 hours)"
        ),
        source_ref=f"{_REF}, grade 3; Table 3 and the VASST equation (Blood 124:188)",
        note="Lee 2014 Table 3 doses held >= 3 h (interpretation 4).",
    ),
    multiple_pressors_criterion(
        "lee2014.hypotension.g3.multiple",
        3,
        source_text="Hypotension requiring ... multiple vasopressors",
        source_ref=f"{_REF}, grade 3",
        note="Vasopressin counts as one of multiple vasopressors (interpretation 3).",
    ),
    fio2_at_least_40_criterion(
        _ID,
        oxygen=ON_OXYGEN,
        source_text="Oxygen requirement >=40%",
        source_ref=f"{_REF}, grade 3 (Frey 2016, Table 2, prints '<40%', a typo)",
        note=_FIO2_NOTE,
    ),
    fio2_estimates_straddle_40_criterion(
        _ID,
        oxygen=ON_OXYGEN,
        source_text="Oxygen requirement >=40%",
        source_ref=f"{_REF}, grade 3 (Frey 2016, Table 2, prints '<40%', a typo)",
        interpretation=2,
    ),
    organ_v4_criterion(
        _ID,
        3,
        source_text="Grade 3 organ toxicity",
        source_ref=f"{_REF}, grade 3; {_CTCAE_V4}",
        note="Coagulopathy counts, by fibrinogen (interpretation 6).",
    ),
    transaminitis_g4_criterion(
        _ID, source_text="Grade 4 transaminitis", source_ref=f"{_REF}, grade 3"
    ),
    noninvasive_ventilation_criterion(
        "lee2014.hypoxia.g4.noninvasive",
        3,
        grade_high=4,
        source_text="Requirement for ventilator support",
        source_ref=(
            f"{_REF}, grade 4; text: 'patients who require more than low flow oxygen ... "
            "should be considered grade 3'"
        ),
        note=(
            "CPAP/BiPAP: 'ventilator support' or not is not said; at least 3, possibly 4 "
            "(interpretation 5)."
        ),
    ),
    invasive_ventilation_criterion(
        _ID,
        source_text="Requirement for ventilator support",
        source_ref=f"{_REF}, grade 4; text: 'a need for mechanical ventilation'",
    ),
    organ_v4_criterion(
        _ID,
        4,
        source_text="Grade 4 organ toxicity (excluding transaminitis)",
        source_ref=f"{_REF}, grade 4",
    ),
    death_criterion(_ID, source_ref=f"{_REF}, grade 5", interpretation=7),
)

SCALE = Scale(
    id="lee2014",
    version="2014",
    title="Lee 2014 revised CRS grading (NCI consensus)",
    citation=(
        "Lee DW, Gardner R, Porter DL, et al. Current concepts in the diagnosis and management of "
        "cytokine release syndrome. Blood 2014;124(2):188-195 (Tables 2 and 3)"
    ),
    doi="10.1182/blood-2014-05-552729",
    kind="crs",
    criteria=CRITERIA,
    interpretations=numbered_items(__doc__),
)
