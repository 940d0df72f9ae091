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
   target saturation ("for SaO2 > 90%") is not checked: oxygen given is oxygen needed.
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

from crswatch.scales._compare import compare
from crswatch.scales._criteria import Criterion, Scale, numbered_items

__all__ = ["CRITERIA", "SCALE"]

_REF = "Neelapu 2018 (CARTOX) CRS grading, as tabulated in PMC7006459 Table 2 and Liu 2018 Table 1"
_HIGH_DOSE_NOTE = (
    "High dose: Lee 2014 Table 3 held >= 3 h (seed 003_f311ac7ac5f2c496.txt) [R: that CARTOX "
    "uses Lee's definition is recalled, not verified] (interpretation 3)."
)
#: Oxygen short of positive pressure (positive pressure is grade 4 here).
_ON_OXYGEN = (pl.col("o2_device") != "room_air") & ~pl.col("positive_pressure")
#: FiO2 below 40 %, or unknown (any oxygen is at least grade 2; grade 3 is then undecided).
_FIO2_BELOW_40_OR_UNKNOWN = compare("fio2_pct", "<", 40.0) | pl.col("fio2_pct").is_null()
_OXYGEN_INPUTS = ("o2_device", "fio2_pct", "fio2_source")
_PRESSOR_INPUTS = (
    "pressors_running",
    "norepinephrine_ug_min",
    "epinephrine_ug_min",
    "phenylephrine_ug_min",
    "dopamine_ug_kg_min",
    "vasopressin_u_min",
)
_HIGH_DOSE_INPUTS = (
    *_PRESSOR_INPUTS,
    "ne_equivalent_ug_min",
    "high_dose_now",
    "high_dose_since",
    "high_dose_sustained",
)
_ORGAN_INPUTS = (
    "organ_tox_v4_max_excl_transaminitis",
    "transaminitis_v4",
    "organ_tox_v4_complete",
    "organ_tox_v4_missing",
)


def _organ_grade(grade: int) -> pl.Expr:
    """Worst CTCAE v4.03 organ grade is ``grade`` (either half; interpretation 7)."""
    return compare("organ_tox_v4_max_excl_transaminitis", "==", grade) | compare(
        "transaminitis_v4", "==", grade
    )


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        id="cartox2018.fever.g1",
        grade=1,
        domain="fever",
        test=compare("temp_max_c", ">=", 38.0),
        inputs=("temp_max_c",),
        source_text="Temperature >= 38 °C",
        source_ref=f"{_REF}, grade 1",
    ),
    Criterion(
        id="cartox2018.organ.g1",
        grade=1,
        domain="organ",
        test=_organ_grade(1),
        inputs=_ORGAN_INPUTS,
        source_text="Grade 1 organ toxicity",
        source_ref=f"{_REF}, grade 1",
        note="Worst CTCAE v4.03 organ grade in [T - 48 h, T] (interpretation 7).",
    ),
    Criterion(
        id="cartox2018.hypotension.g2.fluids",
        grade=2,
        domain="hypotension",
        test=pl.col("hypotension") & compare("pressors_running", "==", 0),
        inputs=("sbp_min", "sbp_threshold", "hypotension", "fluid_boluses_n", "pressors_running"),
        source_text="Hypotension (SBP < 90 mm Hg) responsive to IV fluids",
        source_ref=f"{_REF}, grade 2",
        note="Hypotension with no vasopressor running (interpretation 2).",
    ),
    Criterion(
        id="cartox2018.hypotension.g2.low_dose",
        grade=2,
        domain="hypotension",
        test=compare("pressors_running", "==", 1) & ~pl.col("high_dose_sustained"),
        inputs=_HIGH_DOSE_INPUTS,
        source_text="Hypotension responsive to ... low-dose vasopressors",
        source_ref=f"{_REF}, grade 2",
        note="Exactly one vasopressor, not at a sustained high dose. " + _HIGH_DOSE_NOTE,
    ),
    Criterion(
        id="cartox2018.hypoxia.g2",
        grade=2,
        domain="hypoxia",
        test=_ON_OXYGEN & _FIO2_BELOW_40_OR_UNKNOWN,
        inputs=_OXYGEN_INPUTS,
        source_text="Hypoxia requiring FiO2 < 40% for SaO2 > 90%",
        source_ref=f"{_REF}, grade 2",
        note="FiO2 measured, else estimated from a nasal cannula's flow (interpretation 5).",
    ),
    Criterion(
        id="cartox2018.organ.g2",
        grade=2,
        domain="organ",
        test=_organ_grade(2),
        inputs=_ORGAN_INPUTS,
        source_text="Grade 2 organ toxicity",
        source_ref=f"{_REF}, grade 2",
        note="Worst CTCAE v4.03 organ grade in [T - 48 h, T] (interpretation 7).",
    ),
    Criterion(
        id="cartox2018.hypotension.g3.high_dose",
        grade=3,
        domain="hypotension",
        test=pl.col("high_dose_sustained"),
        inputs=_HIGH_DOSE_INPUTS,
        source_text="Hypotension needing high-dose ... vasopressors",
        source_ref=f"{_REF}, grade 3; high dose: Lee 2014 Table 3 [R]",
        note=_HIGH_DOSE_NOTE,
    ),
    Criterion(
        id="cartox2018.hypotension.g3.multiple",
        grade=3,
        domain="hypotension",
        test=compare("pressors_running", ">=", 2),
        inputs=_PRESSOR_INPUTS,
        source_text="Hypotension needing ... multiple vasopressors",
        source_ref=f"{_REF}, grade 3",
        note="Two or more vasopressors, vasopressin included (interpretation 3).",
    ),
    Criterion(
        id="cartox2018.hypoxia.g3",
        grade=3,
        domain="hypoxia",
        test=_ON_OXYGEN & compare("fio2_pct", ">=", 40.0),
        inputs=_OXYGEN_INPUTS,
        source_text="Hypoxia requiring FiO2 >= 40%",
        source_ref=f"{_REF}, grade 3",
        note="FiO2 measured, else estimated from a nasal cannula's flow (interpretation 5).",
    ),
    Criterion(
        id="cartox2018.organ.g3",
        grade=3,
        domain="organ",
        test=_organ_grade(3),
        inputs=_ORGAN_INPUTS,
        source_text="Grade 3 organ toxicity",
        source_ref=f"{_REF}, grade 3",
        note="Worst CTCAE v4.03 organ grade in [T - 48 h, T] (interpretation 7).",
    ),
    Criterion(
        id="cartox2018.organ.g3.transaminitis",
        grade=3,
        domain="organ",
        test=compare("transaminitis_v4", "==", 4),
        inputs=("transaminitis_v4",),
        source_text="Grade 4 transaminitis",
        source_ref=f"{_REF}, grade 3",
        note="ALT or AST > 20 x ULN (CTCAE v4.03) is grade 3, not 4.",
    ),
    Criterion(
        id="cartox2018.coagulopathy.transfusion",
        grade=0,
        grade_high=3,
        domain="coagulopathy",
        test=compare("coagulopathy_transfusions_n", ">=", 1),
        inputs=("coagulopathy_transfusions_n",),
        source_text="Coagulopathy is not named (organ toxicity?)",
        source_ref=f"{_REF}; clinical-criteria.md §6.3 D17 'organ tox (amb)'",
        note=(
            "FFP, cryoprecipitate or fibrinogen concentrate in [T - 24 h, T]: ambiguous between "
            "not counting and grade 3; a measured fibrinogen is graded apart (interpretation 8)."
        ),
    ),
    Criterion(
        id="cartox2018.hypoxia.g4",
        grade=4,
        domain="hypoxia",
        test=pl.col("positive_pressure"),
        inputs=("o2_device",),
        source_text="Needing ventilator support",
        source_ref=f"{_REF}, grade 4; clinical-criteria.md §1.10, §6.3 D11 '4 (adult)'",
        note="CPAP, BiPAP or invasive ventilation (interpretation 6).",
    ),
    Criterion(
        id="cartox2018.organ.g4",
        grade=4,
        domain="organ",
        test=compare("organ_tox_v4_max_excl_transaminitis", "==", 4),
        inputs=_ORGAN_INPUTS,
        source_text="Grade 4 organ toxicity except grade 4 transaminitis",
        source_ref=f"{_REF}, grade 4",
        note="Worst CTCAE v4.03 grade of an organ other than ALT and AST (interpretation 7).",
    ),
    Criterion(
        id="cartox2018.death.g5",
        grade=5,
        domain="death",
        test=pl.col("death_attributable") & pl.col("onset_at").is_not_null(),
        inputs=("death", "death_attributable", "onset_at"),
        source_text="Death",
        source_ref=f"{_REF}, grade 5",
        note="Death not attributed to another cause after CRS onset (interpretation 9).",
    ),
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
