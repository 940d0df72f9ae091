"""CTCAE v4.03 "Cytokine release syndrome" (MedDRA 10052015).

Citation: National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE)
version 4.03, 14 June 2010, term "Cytokine release syndrome", as verified in
shared/spec/clinical-criteria.md §1.1 [V] (the CTCAE 4.03 term spreadsheet).
No DOI: CTCAE is an NCI publication without one; the version and the MedDRA code identify it.
Frey & Porter 2016 show this scale as "CTCAEv4 (blinatumomab)" (seed 002_dd8dc9d889f2c92a.txt).
Project notes behind the interpretations (not shown to clinicians): clinical-criteria §1.10, §6.1
P5 and §6.3 D1, D8-D10.

Time semantics: graded at an evaluation time T from the clinical state at T (crswatch.state):
fever is the highest attributable temperature in [T - 24 h, T], hypotension the lowest SBP in
[T - 24 h, T]; vasopressors and respiratory support are what is running at T.

Interpretations (numbered; each is a parameter or a criterion note):

1. Grade 4 is "pressor or ventilatory support indicated": any vasopressor running (vasopressin
   included, at any dose) and any positive pressure (CPAP, BiPAP, mechanical ventilation).  One
   low-dose pressor is therefore grade 4, as Frey & Porter 2016 (Hematology ASH Educ Program
   2016:567) grade their example of a CAR T patient on low-dose pressors.
2. Grades 1-3 turn on whether an infusion interruption or an intervention was indicated and whether
   symptoms responded promptly, recurred or were prolonged; a record does not hold these
   judgements.  A finding therefore gives a range, never a guessed grade, and the result is
   ambiguous with its bounds: fever (>= 38.0 °C, the CTCAE fever threshold) is 1 to 3; hypotension
   without a vasopressor, treated with IV fluids (a symptomatic treatment named in grade 2), is 2
   to 3 (IV fluids rule out grade 1, but "not rapidly responsive" or "recurrence" would make it 3);
   oxygen without positive pressure is an intervention, 2 to 3.
3. "Ventilatory support" is positive pressure; a high-flow nasal cannula is oxygen therapy,
   not ventilatory support (grade 2 to 3).
4. Organ toxicity is not read: the grade 3 clause "hospitalization indicated for clinical
   sequelae (e.g., renal impairment ...)" depends on why a patient is in hospital, which the
   record does not say; any CRS finding already leaves grade 3 open.
5. Grade 5 is death not attributed to another cause after CRS onset (the first fever after the
   infusion).
"""

from __future__ import annotations

import polars as pl

from crswatch.scales._compare import compare
from crswatch.scales._criteria import Criterion, Scale, numbered_items
from crswatch.scales._shared import (
    ON_OXYGEN_SHORT_OF_POSITIVE_PRESSURE,
    OXYGEN_INPUTS,
    PRESSOR_INPUTS,
    death_criterion,
    fever_criterion,
    hypotension_fluids_criterion,
)

__all__ = ["CRITERIA", "SCALE"]

_REF = "CTCAE v4.03, Cytokine release syndrome (MedDRA 10052015)"
_ID = "ctcae_v4"
_G2 = (
    "Therapy or infusion interruption indicated but responds promptly to symptomatic treatment "
    "(e.g., antihistamines, NSAIDS, narcotics, IV fluids); prophylactic medications indicated "
    "for <=24 hrs"
)
_G3 = (
    "Prolonged (e.g., not rapidly responsive to symptomatic medication and/or brief interruption "
    "of infusion); recurrence of symptoms following initial improvement; hospitalization "
    "indicated for clinical sequelae (e.g., renal impairment, pulmonary infiltrates)"
)
_G4 = "Life-threatening consequences; pressor or ventilatory support indicated"
_UNDECIDABLE = (
    "Whether an interruption or intervention was indicated, and whether the response was prompt, "
    "is not in the record (interpretation 2)."
)

CRITERIA: tuple[Criterion, ...] = (
    fever_criterion(
        _ID,
        grade_high=3,
        source_text=(
            "Mild reaction; infusion interruption not indicated; intervention not indicated "
            f"(grade 1) / {_G2} (grade 2) / {_G3} (grade 3)"
        ),
        source_ref=f"{_REF}, grades 1-3",
        note=f"Fever >= 38.0 °C: grade 1 to 3. {_UNDECIDABLE}",
    ),
    hypotension_fluids_criterion(
        "ctcae_v4.hypotension.g2",
        2,
        grade_high=3,
        source_text=f"{_G2} (grade 2) / {_G3} (grade 3)",
        source_ref=f"{_REF}, grades 2-3",
        note=f"Hypotension without a vasopressor: IV fluids, grade 2 to 3. {_UNDECIDABLE}",
    ),
    Criterion(
        id="ctcae_v4.hypoxia.g2",
        grade=2,
        grade_high=3,
        domain="hypoxia",
        test=ON_OXYGEN_SHORT_OF_POSITIVE_PRESSURE,
        inputs=OXYGEN_INPUTS,
        source_text=f"{_G2} (grade 2) / {_G3} (grade 3)",
        source_ref=f"{_REF}, grades 2-3",
        note=(
            "Oxygen without positive pressure is an intervention but not ventilatory support: "
            f"grade 2 to 3 (interpretations 2, 3). {_UNDECIDABLE}"
        ),
    ),
    Criterion(
        id="ctcae_v4.hypotension.g4",
        grade=4,
        domain="hypotension",
        test=compare("pressors_running", ">=", 1),
        inputs=PRESSOR_INPUTS,
        source_text=_G4,
        source_ref=f"{_REF}, grade 4",
        note="Any vasopressor at any dose, vasopressin included (interpretation 1).",
    ),
    Criterion(
        id="ctcae_v4.hypoxia.g4",
        grade=4,
        domain="hypoxia",
        test=pl.col("positive_pressure"),
        inputs=("o2_device",),
        source_text=_G4,
        source_ref=f"{_REF}, grade 4",
        note="Ventilatory support: CPAP, BiPAP or mechanical ventilation (interpretation 3).",
    ),
    death_criterion(_ID, source_ref=f"{_REF}, grade 5", interpretation=5),
)

SCALE = Scale(
    id="ctcae_v4",
    version="4.03",
    title="CTCAE v4.03 Cytokine release syndrome",
    citation=(
        "National Cancer Institute. Common Terminology Criteria for Adverse Events (CTCAE) "
        "version 4.03, June 14, 2010: Cytokine release syndrome (MedDRA 10052015)"
    ),
    doi=None,
    kind="crs",
    criteria=CRITERIA,
    interpretations=numbered_items(__doc__),
)
