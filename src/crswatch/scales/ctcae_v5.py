"""CTCAE v5.0 "Cytokine release syndrome" (MedDRA 10052015).

Citation: National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE)
version 5.0, 27 November 2017, term "Cytokine release syndrome", as verified in
shared/spec/clinical-criteria.md §1.2 [V-2] (two copies of the CTCAE 5.0 term spreadsheet).
No DOI: CTCAE is an NCI publication without one; the version and the MedDRA code identify it.
Not the ASTCT 2019 table, which some reviews print under the heading "CTCAE 5.0" (discrepancy
D3; ``astct2019`` is a separate scale).  Project notes behind the interpretations (not shown to
clinicians): clinical-criteria §1.10, §1.11, §6.3 D6-D8 and D11, discrepancy D5.

Time semantics: graded at an evaluation time T from the clinical state at T (crswatch.state):
fever is the highest attributable temperature in [T - 24 h, T], hypotension the lowest SBP in
[T - 24 h, T]; vasopressors and respiratory support are what is running at T.

Interpretations (numbered; each is a parameter or a criterion note):

1. Fever is >= 38.0 °C (the CTCAE "Fever" term, grade 1 38.0-39.0 °C).  It is grade 1 and not
   required for grades 2-4, which name hypotension and hypoxia only.
2. "Hypotension responding to fluids" is hypotension (SBP below the age threshold) with no
   vasopressor running; "managed with one pressor" is exactly one vasopressor running,
   vasopressin included, at any dose.
3. "Hypoxia responding to < 40% O2" and "requiring >= 40% O2" read the FiO2 of the oxygen running
   at T: measured, else estimated from a nasal cannula's flow by the chosen flow-to-FiO2 conversion
   (the setting fio2_rule).  A 6 L/min cannula (about 44 %) is therefore grade 3 (ASTCT 2019: grade
   2): the estimate is a named, configurable setting echoed in the result, and the result warns
   that the FiO2 was estimated; it is a question of data, not of the scale's wording.  Any oxygen
   at an unknown FiO2 is at least grade 2, and grade 3 cannot be excluded: the FiO2 is reported
   missing.  An estimate is graded over the range of both published conversions (the setting
   fio2_estimate_range): a 6 L/min cannula is 44 % and 40 %, grade 3 by both; where one gives below
   40 % and the other 40 % or more (5 to under 6 L/min: 30 % and 40-43 %) the result is ambiguous,
   2-3, with both values as evidence.  A charted FiO2 always wins.
4. Grade 4, "Life-threatening consequences; urgent intervention indicated", names no finding.
   Invasive mechanical ventilation is grade 4 (intubation is the CTCAE example of an urgent
   intervention, "Hypoxia" term grade 4).  More than one vasopressor (vasopressin included) is
   beyond "one pressor" and is ambiguous between 3 and 4.  CPAP or BiPAP is ambiguous between the
   grade its FiO2 gives (2 or 3) and 4 (the term names no positive pressure).
5. Organ toxicity does not enter the CRS grade (the navigational note sends organ dysfunction
   to its own terms).
6. Grade 5 is death not attributed to another cause after CRS onset (the first fever after the
   infusion).
"""

from __future__ import annotations

from crswatch.scales._compare import compare
from crswatch.scales._criteria import Criterion, Scale, numbered_items
from crswatch.scales._shared import (
    ON_OXYGEN,
    PRESSOR_INPUTS,
    death_criterion,
    fever_criterion,
    fio2_at_least_40_criterion,
    fio2_below_40_criterion,
    fio2_estimates_straddle_40_criterion,
    hypotension_fluids_criterion,
    invasive_ventilation_criterion,
    multiple_pressors_criterion,
    noninvasive_ventilation_criterion,
)

__all__ = ["CRITERIA", "SCALE"]

_REF = "CTCAE v5.0, Cytokine release syndrome (MedDRA 10052015)"
_ID = "ctcae_v5"
_FIO2_NOTE = "FiO2 measured, else estimated from a nasal cannula's flow (interpretation 3)."
_G4 = "Life-threatening consequences; urgent intervention indicated"

CRITERIA: tuple[Criterion, ...] = (
    fever_criterion(
        _ID,
        source_text="Fever with or without constitutional symptoms",
        source_ref=f"{_REF}, grade 1",
        note="Fever >= 38.0 °C (interpretation 1).",
    ),
    hypotension_fluids_criterion(
        "ctcae_v5.hypotension.g2",
        2,
        source_text="Hypotension responding to fluids",
        source_ref=f"{_REF}, grade 2",
        note="Hypotension with no vasopressor running (interpretation 2).",
    ),
    fio2_below_40_criterion(
        _ID,
        oxygen=ON_OXYGEN,
        source_text="Hypoxia responding to <40% O2",
        source_ref=f"{_REF}, grade 2",
        note=_FIO2_NOTE,
    ),
    Criterion(
        id="ctcae_v5.hypotension.g3",
        grade=3,
        domain="hypotension",
        test=compare("pressors_running", "==", 1),
        inputs=PRESSOR_INPUTS,
        source_text="Hypotension managed with one pressor",
        source_ref=f"{_REF}, grade 3",
        note="Exactly one vasopressor, vasopressin included, any dose (interpretation 2).",
    ),
    fio2_at_least_40_criterion(
        _ID,
        oxygen=ON_OXYGEN,
        source_text="Hypoxia requiring >= 40% O2",
        source_ref=f"{_REF}, grade 3",
        note=_FIO2_NOTE,
    ),
    fio2_estimates_straddle_40_criterion(
        _ID,
        oxygen=ON_OXYGEN,
        source_text="Hypoxia requiring >= 40% O2",
        source_ref=f"{_REF}, grade 3",
        interpretation=3,
    ),
    multiple_pressors_criterion(
        "ctcae_v5.hypotension.g4",
        3,
        grade_high=4,
        source_text=_G4,
        source_ref=f"{_REF}, grades 3-4",
        note=(
            "More than one pressor is beyond 'one pressor' (3); whether it is an urgent "
            "intervention for life-threatening consequences (4) is not said (interpretation 4)."
        ),
    ),
    noninvasive_ventilation_criterion(
        "ctcae_v5.hypoxia.g4.noninvasive",
        2,
        grade_high=4,
        source_text=_G4,
        source_ref=f"{_REF}, grades 2-4",
        note=(
            "CPAP/BiPAP: the FiO2 criteria give the lower bound; whether it is an urgent "
            "intervention (4) is not said (interpretation 4)."
        ),
    ),
    invasive_ventilation_criterion(
        _ID,
        source_text=_G4,
        source_ref=f"{_REF}, grade 4; CTCAE 'Hypoxia' grade 4: 'e.g., tracheotomy or intubation'",
        note="Invasive mechanical ventilation (interpretation 4).",
    ),
    death_criterion(_ID, source_ref=f"{_REF}, grade 5", interpretation=6),
)

SCALE = Scale(
    id="ctcae_v5",
    version="5.0",
    title="CTCAE v5.0 Cytokine release syndrome",
    citation=(
        "National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE) "
        "version 5.0, November 27, 2017: Cytokine release syndrome (MedDRA 10052015)"
    ),
    doi=None,
    kind="crs",
    criteria=CRITERIA,
    interpretations=numbered_items(__doc__),
)
