"""UPENN/CHOP CRS grading (Frey & Porter 2016, Table 2).

Citation: Frey N, Porter D. Cytokine release syndrome with novel therapeutics for acute
lymphoblastic leukemia. Hematology Am Soc Hematol Educ Program 2016;2016(1):567-572.
doi:10.1182/asheducation-2016.1.567 [R: the DOI is recalled; the seed text does not print it].
Table 2, "Grading schemes for cytokine release syndrome", UPENN/CHOP row, read in the seed
shared/seeds/002_dd8dc9d889f2c92a.txt and verified in shared/spec/clinical-criteria.md §1.6 [V].
The seed's text grades its worked example: "hypotension requiring low-dose pressors ... grade 3
CRS on the UPENN/CHOP scale" (§6.1 P5).  The later Penn scale (Porter 2018) is ``penn2018``.
Project notes behind the interpretations (not shown to clinicians): clinical-criteria §6.1 P5 and
§6.3 D14; state columns ``high_dose_sustained``, ``creatinine_v4``, ``lft_v4``.

Time semantics: graded at an evaluation time T from the clinical state at T (crswatch.state):
fever is the highest attributable temperature in [T - 24 h, T]; hypotension the lowest SBP in
[T - 24 h, T] and fluid boluses those given in [T - 24 h, T]; vasopressors and respiratory
support are what is running at T; organ toxicity is the worst CTCAE v4.03 grade among the
results of [T - 48 h, T].

Interpretations (numbered; each is a parameter or a criterion note):

1. Grade 1, "Mild reaction treated with supportive care only", is fever >= 38.0 °C, the one sign
   of a mild reaction a record measures.  Fever is not required for grades 2-4.
2. Not derivable from a timeline, so not criteria (documented, never guessed): "requiring
   intravenous therapies or parenteral nutrition", "requiring hospitalization", "hospitalization
   for CRS or febrile neutropenia", and the attribution "related to CRS" beyond each event charted
   as due to another cause.
3. "Hypotension treated with intravenous fluids" is hypotension (SBP below the age threshold in
   [T - 24 h, T]) with at least one fluid bolus in [T - 24 h, T]: grade 3.  Unlike Penn 2018,
   the 2016 table does not ask for "multiple" boluses.  Boluses with an unknown SBP cannot be
   graded (the SBP is missing).
4. "Low-dose pressors" is any vasopressor running (vasopressin included) without a sustained high
   dose: grade 3 (Frey & Porter 2016: "hypotension requiring low-dose pressors ... grade 3 CRS on
   the UPENN/CHOP scale").  "High-dose vasoactives" is Lee 2014 Table 3 (Blood 124:188) held
   without a break for >= 3 hours: grade 4.  Frey 2016 defines no high dose; that UPENN/CHOP and
   Penn use Lee's is recalled, not verified.
5. "Hypoxemia requiring oxygenation, bilevel positive airway pressure, or continuous positive
   airway pressure" is grade 3: any oxygen device other than room air, short of invasive
   ventilation.  "Mechanical ventilation" is invasive ventilation: grade 4.
6. Organ dysfunction reads CTCAE v4.03 grades of creatinine and liver function tests (the worst of
   ALT, AST and bilirubin).  "Mild signs of organ dysfunction (creatinine <= grade 2 or liver
   function tests <= grade 3)" is creatinine grade 1-2 or LFTs grade 1-3 (grade 0 is no sign of
   dysfunction): grade 2.  "Grade 3 creatinine or grade 4 liver function tests": grade 3.  Grade 4
   creatinine is not listed: at least 3, possibly 4 ("life-threatening complications, including
   ..."), so ambiguous 3-4 (as for Penn 2018).  Coagulopathy, fibrinogen and ejection fraction are
   not named and do not count.  A criterion is undecided only when a term it names was not measured
   in the window; the completeness of the whole organ panel is not required.
7. The table has grades 1-4 only: there is no grade 5 criterion (a CRS death is graded by the
   findings before it).
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
    fever_criterion,
    high_dose_criterion,
    invasive_ventilation_criterion,
    supplemental_oxygen_criterion,
)

__all__ = ["CRITERIA", "SCALE"]

_REF = (
    "Frey 2016 (Hematology ASH Educ Program 2016:567), Table 2 (Grading schemes for CRS), "
    "UPENN/CHOP"
)
_ID = "upenn_chop2016"
_HIGH_DOSE_NOTE = (
    "High dose: Lee 2014 Table 3 (Blood 124:188) held >= 3 h [R: Frey 2016 defines no high "
    "dose; that UPENN/CHOP uses Lee's is recalled, not verified] (interpretation 4)."
)

CRITERIA: tuple[Criterion, ...] = (
    fever_criterion(
        _ID,
        source_text="Mild reaction treated with supportive care only",
        source_ref=f"{_REF}, grade 1",
        note="Fever >= 38.0 °C is the measured sign of a mild reaction (interpretation 1).",
    ),
    Criterion(
        id="upenn_chop2016.organ.g2",
        grade=2,
        domain="organ",
        test=(compare("creatinine_v4", ">=", 1) & compare("creatinine_v4", "<=", 2))
        | (compare("lft_v4", ">=", 1) & compare("lft_v4", "<=", 3)),
        inputs=CREATININE_LFT_INPUTS,
        source_text=(
            "Mild signs of organ dysfunction (creatinine ≤grade 2 or liver function tests ≤grade 3)"
        ),
        source_ref=f"{_REF}, grade 2",
        note="CTCAE v4.03 creatinine grade 1-2 or LFTs grade 1-3 (interpretation 6).",
    ),
    Criterion(
        id="upenn_chop2016.hypotension.g3.fluids",
        grade=3,
        domain="hypotension",
        test=pl.col("hypotension") & compare("fluid_boluses_n", ">=", 1),
        inputs=FLUID_INPUTS,
        source_text="Hypotension treated with intravenous fluids",
        source_ref=f"{_REF}, grade 3",
        note="Hypotension with >= 1 fluid bolus in [T - 24 h, T] (interpretation 3).",
    ),
    any_low_dose_pressor_criterion(
        _ID,
        source_text="Hypotension treated with ... low-dose pressors",
        source_ref=(
            f"{_REF}, grade 3; text: 'hypotension requiring low-dose pressors ... grade 3 CRS on "
            "the UPENN/CHOP scale'"
        ),
        note="Any vasopressor, vasopressin included, without a sustained high dose. "
        + _HIGH_DOSE_NOTE,
    ),
    supplemental_oxygen_criterion(
        _ID,
        source_text=(
            "Hypoxemia requiring oxygenation, bilevel positive airway pressure, or continuous "
            "positive airway pressure"
        ),
        source_ref=f"{_REF}, grade 3",
        note="Any oxygen short of invasive ventilation, whatever the flow (interpretation 5).",
    ),
    creatinine_g3_or_lft_g4_criterion(
        _ID,
        source_text=(
            "Moderate signs of organ dysfunction (grade 3 creatinine or grade 4 liver function "
            "tests) related to CRS"
        ),
        source_ref=f"{_REF}, grade 3",
        note="CTCAE v4.03 creatinine and worst of ALT, AST, bilirubin (interpretation 6).",
    ),
    creatinine_g4_criterion(
        _ID,
        source_text=(
            "Grade 4 creatinine is not listed (grade 3: 'grade 3 creatinine'; grade 4: "
            "'life-threatening complications, including ...')"
        ),
        source_ref=f"{_REF}, grades 3 and 4",
        note="Ambiguous between 3 and 4 (interpretation 6).",
    ),
    high_dose_criterion(
        "upenn_chop2016.hypotension.g4",
        4,
        source_text=(
            "Life-threatening complications, including hypotension requiring high-dose vasoactives"
        ),
        source_ref=f"{_REF}, grade 4; high dose: Lee 2014 Table 3 (recalled, not verified)",
        note=_HIGH_DOSE_NOTE,
    ),
    invasive_ventilation_criterion(
        _ID,
        source_text=(
            "Life-threatening complications, including ... hypoxemia requiring mechanical "
            "ventilation"
        ),
        source_ref=f"{_REF}, grade 4",
        note="Invasive mechanical ventilation (interpretation 5).",
    ),
)

SCALE = Scale(
    id="upenn_chop2016",
    version="2016",
    title="UPENN/CHOP CRS grading (Frey & Porter 2016)",
    citation=(
        "Frey N, Porter D. Cytokine release syndrome with novel therapeutics for acute "
        "lymphoblastic leukemia. Hematology Am Soc Hematol Educ Program 2016;2016(1):567-572 "
        "(Table 2, UPENN/CHOP)"
    ),
    doi="10.1182/asheducation-2016.1.567",
    kind="crs",
    criteria=CRITERIA,
    interpretations=numbered_items(__doc__),
)
