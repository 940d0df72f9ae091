"""ASTCT 2019 consensus grading of cytokine release syndrome.

Citation: Lee DW, Santomasso BD, Locke FL, et al. ASTCT consensus grading for cytokine release
syndrome and neurologic toxicity associated with immune effector cells. Biol Blood Marrow
Transplant 2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758.  CRS grading table and footnotes,
as verified in shared/spec/clinical-criteria.md §1.9 [V-2].

Time semantics: graded at an evaluation time T from the clinical state at T (crswatch.state):
fever is the highest attributable temperature in [T - 24 h, T]; vasopressors and respiratory
support are what is running at T.

Interpretations (numbered; each is a parameter or a criterion note):

1. Fever is required (>= 38.0 °C, not attributable to another cause) unless anti-cytokine therapy
   or corticosteroids were given after CRS onset (the fever footnote); antipyretics lift it only
   when ``StateParameters.antipyretics_waive_fever`` is set (discrepancy D2).
2. The grade is the more severe of hypotension and hypoxia (footnote †); fever alone is grade 1.
3. Vasopressin never counts toward "multiple vasopressors": norepinephrine + vasopressin is grade
   3; two non-vasopressin vasopressors are grade 4.  Vasopressin alone is "a vasopressor" (3).
4. Nasal cannula oxygen is low flow at <= 6 L/min (grade 2) and high flow at > 6 L/min (grade 3),
   whatever the device is called (footnote ‡ defines both by the flow).  A nasal cannula with no
   flow recorded is at least grade 2 and may be 3 (the flow is reported missing); a high-flow
   cannula with no flow recorded is grade 3.  Blow-by is low flow.
5. Hypotension is SBP below the age threshold (< 90 mm Hg for adults; ASTCT gives none, PMC8021214
   adds SBP < 90; the paediatric definition follows Mahadeo 2019), lowest in [T - 24 h, T].
6. Organ toxicities "do not influence CRS grading": no organ criterion exists here.
7. Grade 5 is death not attributed to another cause after CRS onset ([R]: "death due to CRS in
   which another cause is not the principal factor").
"""

from __future__ import annotations

import polars as pl

from crswatch.scales._compare import compare
from crswatch.scales._criteria import Criterion, Scale, numbered_items
from crswatch.scales._shared import PRESSOR_INPUTS

__all__ = ["CRITERIA", "SCALE"]

_REF = "Lee 2019 (ASTCT), CRS grading table"
_NASAL = pl.col("o2_device").is_in(["nasal_cannula", "high_flow_nasal_cannula"])
_FEVER = compare("temp_max_c", ">=", 38.0)
#: Kleene OR: waived (never null) or febrile; null when no temperature and not waived.
_FEBRILE_OR_WAIVED = pl.col("fever_waived") | _FEVER
_FEVER_INPUTS = ("temp_max_c", "fever_waived", "waiver_at")

_LOW_FLOW = (pl.col("o2_device") == "blow_by") | (
    _NASAL
    & (
        compare("o2_flow_l_min", "<=", 6.0)
        | ((pl.col("o2_device") == "nasal_cannula") & pl.col("o2_flow_l_min").is_null())
    )
)
_HIGH_FLOW_MASK = pl.col("o2_device").is_in(
    ["face_mask", "non_rebreather_mask", "venturi_mask"]
) | (
    _NASAL
    & pl.when(pl.col("o2_flow_l_min").is_null())
    # No flow recorded: a high-flow cannula is high flow; a plain cannula cannot be told.
    .then(pl.when(pl.col("o2_device") == "high_flow_nasal_cannula").then(True).otherwise(None))
    .otherwise(compare("o2_flow_l_min", ">", 6.0))
)

CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        id="astct2019.fever.g1",
        grade=1,
        domain="fever",
        test=_FEVER,
        inputs=("temp_max_c",),
        source_text="Temperature >= 38 °C",
        source_ref=f"{_REF}; fever footnote: 'not attributable to any other cause'",
    ),
    Criterion(
        id="astct2019.hypotension.g2",
        grade=2,
        domain="hypotension",
        test=_FEBRILE_OR_WAIVED & pl.col("hypotension") & (pl.col("pressors_running") == 0),
        inputs=(*_FEVER_INPUTS, "sbp_min", "sbp_threshold", "hypotension", "pressors_running"),
        source_text="Hypotension not requiring vasopressors (with fever)",
        source_ref=_REF,
        note="Hypotension: SBP below the age threshold (interpretation 5).",
    ),
    Criterion(
        id="astct2019.hypoxia.g2",
        grade=2,
        domain="hypoxia",
        test=_FEBRILE_OR_WAIVED & _LOW_FLOW,
        inputs=(*_FEVER_INPUTS, "o2_device", "o2_flow_l_min"),
        source_text=(
            "Hypoxia requiring low-flow nasal cannula or blow-by; low-flow nasal cannula is "
            "oxygen delivered at <= 6 L/minute"
        ),
        source_ref=f"{_REF}, footnote ‡",
    ),
    Criterion(
        id="astct2019.hypotension.g3",
        grade=3,
        domain="hypotension",
        test=_FEBRILE_OR_WAIVED & (pl.col("pressors_running") >= 1),
        inputs=(*_FEVER_INPUTS, *PRESSOR_INPUTS),
        source_text="Hypotension requiring a vasopressor with or without vasopressin",
        source_ref=_REF,
    ),
    Criterion(
        id="astct2019.hypoxia.g3",
        grade=3,
        domain="hypoxia",
        test=_FEBRILE_OR_WAIVED & _HIGH_FLOW_MASK,
        inputs=(*_FEVER_INPUTS, "o2_device", "o2_flow_l_min"),
        source_text=(
            "Hypoxia requiring high-flow nasal cannula (> 6 L/minute), facemask, nonrebreather "
            "mask, or Venturi mask"
        ),
        source_ref=f"{_REF}, footnote ‡",
    ),
    Criterion(
        id="astct2019.hypotension.g4",
        grade=4,
        domain="hypotension",
        test=_FEBRILE_OR_WAIVED & (pl.col("pressors_excl_vasopressin") >= 2),
        inputs=(
            *_FEVER_INPUTS,
            "pressors_excl_vasopressin",
            "norepinephrine_ug_min",
            "epinephrine_ug_min",
            "phenylephrine_ug_min",
            "dopamine_ug_kg_min",
        ),
        source_text="Hypotension requiring multiple vasopressors (excluding vasopressin)",
        source_ref=_REF,
    ),
    Criterion(
        id="astct2019.hypoxia.g4",
        grade=4,
        domain="hypoxia",
        test=_FEBRILE_OR_WAIVED & pl.col("positive_pressure"),
        inputs=(*_FEVER_INPUTS, "o2_device"),
        source_text=(
            "Hypoxia requiring positive pressure (e.g., CPAP, BiPAP, intubation and mechanical "
            "ventilation)"
        ),
        source_ref=_REF,
    ),
    Criterion(
        id="astct2019.death.g5",
        grade=5,
        domain="death",
        test=pl.col("death_attributable") & pl.col("onset_at").is_not_null(),
        inputs=("death", "death_attributable", "onset_at"),
        source_text="Death due to CRS in which another cause is not the principal factor",
        source_ref="Lee 2019 (ASTCT), grade 5 definition [R: wording not verified]",
    ),
)

SCALE = Scale(
    id="astct2019",
    version="2019",
    title="ASTCT consensus CRS grading",
    citation=(
        "Lee DW, et al. ASTCT consensus grading for cytokine release syndrome and neurologic "
        "toxicity associated with immune effector cells. Biol Blood Marrow Transplant "
        "2019;25:625-638"
    ),
    doi="10.1016/j.bbmt.2018.12.758",
    kind="crs",
    criteria=CRITERIA,
    interpretations=numbered_items(__doc__),
    # The CRS-context rule is this paper's own definition of CRS: before it holds, grade 0.
    crs_context="definition",
)
