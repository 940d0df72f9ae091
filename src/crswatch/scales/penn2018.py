"""Penn CRS grading scale (Porter 2018).

Citation: Porter D, Frey N, Wood PA, Weng Y, Grupp SA. Grading of cytokine release syndrome
associated with the CAR T cell therapy tisagenlecleucel. J Hematol Oncol 2018;11:35.
doi:10.1186/s13045-018-0571-y.  The grading table as tabulated in Liu 2018 Table 1, with the
grade 3 clauses completed from PMC9368621 Table 1, verified in shared/spec/clinical-criteria.md
§1.6 [V] ("CPAP or BiPAP" in grade 3 is [R]: PMC9368621 says "non-invasive ventilation").  The
earlier UPENN/CHOP version (Frey 2016) is the separate scale ``upenn_chop2016``.

Time semantics: graded at an evaluation time T from the clinical state at T (crswatch.state):
fever is the highest attributable temperature in [T - 24 h, T]; hypotension the lowest SBP in
[T - 24 h, T] and fluid boluses those given in [T - 24 h, T]; vasopressors and respiratory
support are what is running at T; transfusions for coagulopathy those given in [T - 24 h, T];
organ toxicity is the worst CTCAE v4.03 grade among the results of [T - 48 h, T].

Interpretations (numbered; each is a parameter or a criterion note):

1. Grade 1, "Mild reaction: treated with supportive care such as antipyretics and antiemetics",
   is fever >= 38.0 °C, the one sign of a mild reaction a record measures.  Fever is not
   required for grades 2-5 (clinical-criteria §1.6, "Key Penn properties").
2. Not derivable from a timeline, so not criteria (documented, never guessed): hospitalization,
   "fevers with associated neutropenia", "need for IV therapies" other than fluid boluses, and
   the clinician's attribution "related to CRS and not attributable to any other condition"
   beyond the ``cause: other`` of each event.
3. "Hypotension treated with IV fluids (defined as multiple fluid boluses for blood pressure
   support)" is hypotension (SBP below the age threshold in [T - 24 h, T]) with >= 2 fluid
   boluses in [T - 24 h, T]: grade 3.  Hypotension with one bolus, fluids short of "multiple",
   is grade 2 (clinical-criteria §1.10: "2, or 3 if multiple fluid boluses").  Boluses with an
   unknown SBP cannot be graded (the SBP is missing).
4. "Low-dose vasopressors" is any vasopressor running (vasopressin included) without a sustained
   high dose: grade 3.  "High-dose vasopressors" is Lee 2014 Table 3 (seed 003) held without a
   break for >= 3 hours (``high_dose_sustained``): grade 4.  That Penn uses Lee's definition is
   [R] (clinical-criteria §1.5: "I believe the Penn thresholds are the same as Lee2014's"); a
   JITC trial footnote [V] confirms only that Penn's high dose covers vasopressin,
   norepinephrine, dopamine, phenylephrine and epinephrine.  A high dose held < 3 h is low dose.
5. "Hypoxia requiring supplemental oxygen (nasal cannula oxygen, high-flow oxygen, CPAP or
   BiPAP)" is any oxygen device other than room air short of invasive ventilation, whatever the
   flow or FiO2: grade 3.  "Mechanical ventilation" is invasive ventilation: grade 4.
6. "Coagulopathy requiring fresh frozen plasma or cryoprecipitate or fibrinogen concentrate" is
   an attributable transfusion of one of those products in [T - 24 h, T]: grade 3.  A low
   fibrinogen without a transfusion is not graded (Penn names the treatment, not a value).
7. Organ dysfunction reads CTCAE v4.03 grades: creatinine (``creatinine_v4``) and LFTs
   (``lft_v4``, the worst of ALT, AST and bilirubin).  Grade 2 creatinine or grade 3 LFTs: grade
   2; grade 3 creatinine or grade 4 LFTs: grade 3.  Grade 4 creatinine is not listed: it is at
   least the grade 3 of "grade 3 creatinine" and possibly 4 ("life-threatening complications
   such as ..."), so ambiguous 3-4 (clinical-criteria §6.3 D14).  Other organs (fibrinogen,
   ejection fraction) are not named by Penn and do not count.  A criterion is undecided only when
   a term it names was not measured in the window (missing is not normal); the completeness of
   the whole organ panel is not required.
8. Grade 5 is death not attributed to another cause after CRS onset (the first fever after the
   infusion), as for the other scales.
"""

from __future__ import annotations

import polars as pl

from crswatch.scales._compare import compare
from crswatch.scales._criteria import Criterion, Scale, numbered_items
from crswatch.scales._shared import (
    CREATININE_LFT_INPUTS,
    FLUID_INPUTS,
    any_low_dose_pressor_criterion,
    creatinine_g3_or_lft_g4_criterion,
    creatinine_g4_criterion,
    death_criterion,
    fever_criterion,
    high_dose_criterion,
    invasive_ventilation_criterion,
    supplemental_oxygen_criterion,
)

__all__ = ["CRITERIA", "SCALE"]

_REF = "Porter 2018 (Penn) grading table, as tabulated in Liu 2018 Table 1 and PMC9368621 Table 1"
_ID = "penn2018"
_HIGH_DOSE_NOTE = (
    "High dose: Lee 2014 Table 3 held >= 3 h (seed 003_f311ac7ac5f2c496.txt) [R: that Penn's "
    "high-dose definition is Lee's is recalled, not verified] (interpretation 4)."
)
_ORGAN_NOTE = "CTCAE v4.03 creatinine and worst of ALT, AST, bilirubin (interpretation 7)."

CRITERIA: tuple[Criterion, ...] = (
    fever_criterion(
        _ID,
        source_text=(
            "Mild reaction: treated with supportive care such as antipyretics and antiemetics"
        ),
        source_ref=f"{_REF}, grade 1",
        note="Fever >= 38.0 °C is the measured sign of a mild reaction (interpretation 1).",
    ),
    Criterion(
        id="penn2018.hypotension.g2.fluids",
        grade=2,
        domain="hypotension",
        test=pl.col("hypotension")
        & compare("fluid_boluses_n", ">=", 1)
        & compare("fluid_boluses_n", "<", 2),
        inputs=FLUID_INPUTS,
        source_text=(
            "Moderate reaction: hypotension treated with IV fluids short of 'multiple fluid "
            "boluses for blood pressure support' (grade 3)"
        ),
        source_ref=(
            f"{_REF}, grades 2 and 3: hypotension treated with fluids is grade 2; 'multiple "
            "fluid boluses for blood pressure support' grade 3"
        ),
        note="Hypotension with one fluid bolus, short of 'multiple' (interpretation 3).",
    ),
    Criterion(
        id="penn2018.organ.g2",
        grade=2,
        domain="organ",
        test=compare("creatinine_v4", "==", 2) | compare("lft_v4", "==", 3),
        inputs=CREATININE_LFT_INPUTS,
        source_text=(
            "Moderate reaction: some signs of organ dysfunction (e.g., grade 2 creatinine or "
            "grade 3 LFTs) related to CRS and not attributable to any other condition"
        ),
        source_ref=f"{_REF}, grade 2",
        note=_ORGAN_NOTE,
    ),
    Criterion(
        id="penn2018.hypotension.g3.fluids",
        grade=3,
        domain="hypotension",
        test=pl.col("hypotension") & compare("fluid_boluses_n", ">=", 2),
        inputs=FLUID_INPUTS,
        source_text=(
            "Hypotension treated with IV fluids (defined as multiple fluid boluses for blood "
            "pressure support)"
        ),
        source_ref=f"{_REF}, grade 3",
        note="Hypotension with >= 2 fluid boluses in [T - 24 h, T] (interpretation 3).",
    ),
    any_low_dose_pressor_criterion(
        _ID,
        source_text="Hypotension treated with ... low-dose vasopressors",
        source_ref=f"{_REF}, grade 3",
        note="Any vasopressor, vasopressin included, without a sustained high dose. "
        + _HIGH_DOSE_NOTE,
    ),
    supplemental_oxygen_criterion(
        _ID,
        source_text=(
            "Hypoxia requiring supplemental oxygen (nasal cannula oxygen, high-flow oxygen, CPAP "
            "or BiPAP)"
        ),
        source_ref=f"{_REF}, grade 3 ('CPAP or BiPAP' [R]; PMC9368621: 'non-invasive ventilation')",
        note="Any oxygen short of invasive ventilation, whatever the flow (interpretation 5).",
    ),
    Criterion(
        id="penn2018.coagulopathy.g3",
        grade=3,
        domain="coagulopathy",
        test=compare("coagulopathy_transfusions_n", ">=", 1),
        inputs=("coagulopathy_transfusions_n",),
        source_text=(
            "Coagulopathy requiring fresh frozen plasma or cryoprecipitate or fibrinogen "
            "concentrate"
        ),
        source_ref=f"{_REF}, grade 3",
        note="An attributable FFP, cryoprecipitate or fibrinogen concentrate in [T - 24 h, T] "
        "(interpretation 6).",
    ),
    creatinine_g3_or_lft_g4_criterion(
        _ID,
        source_text=(
            "Hospitalization required for management of symptoms related to organ dysfunction, "
            "including grade 4 LFTs or grade 3 creatinine related to CRS"
        ),
        source_ref=f"{_REF}, grade 3",
        note=_ORGAN_NOTE,
    ),
    creatinine_g4_criterion(
        _ID,
        source_text=(
            "Grade 4 creatinine is not listed (grade 3: 'grade 3 creatinine'; grade 4: "
            "'life-threatening complications such as ...')"
        ),
        source_ref=(
            f"{_REF}, grades 3 and 4: grade 3 lists 'grade 3 creatinine', grade 4 lists no "
            "creatinine grade"
        ),
        note="Ambiguous between 3 and 4 (interpretation 7).",
    ),
    high_dose_criterion(
        "penn2018.hypotension.g4",
        4,
        source_text=(
            "Life-threatening complications such as hypotension requiring high-dose vasopressors"
        ),
        source_ref=f"{_REF}, grade 4; high dose: Lee 2014 Table 3 [R]",
        note=_HIGH_DOSE_NOTE,
    ),
    invasive_ventilation_criterion(
        _ID,
        source_text="Life-threatening complications such as ... hypoxia requiring mechanical "
        "ventilation",
        source_ref=f"{_REF}, grade 4",
        note="Invasive mechanical ventilation (interpretation 5).",
    ),
    death_criterion(_ID, source_ref=f"{_REF}, grade 5", interpretation=8),
)

SCALE = Scale(
    id="penn2018",
    version="2018",
    title="Penn CRS grading scale (Porter 2018)",
    citation=(
        "Porter D, Frey N, Wood PA, Weng Y, Grupp SA. Grading of cytokine release syndrome "
        "associated with the CAR T cell therapy tisagenlecleucel. J Hematol Oncol 2018;11:35"
    ),
    doi="10.1186/s13045-018-0571-y",
    kind="crs",
    criteria=CRITERIA,
    interpretations=numbered_items(__doc__),
)
