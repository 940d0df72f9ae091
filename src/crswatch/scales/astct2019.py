"""ASTCT 2019 consensus grading of cytokine release syndrome.

Citation: Lee DW, Santomasso BD, Locke FL, et al. ASTCT consensus grading for cytokine release
syndrome and neurologic toxicity associated with immune effector cells. Biol Blood Marrow
Transplant 2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758.  CRS grading table and footnotes,
as verified in shared/spec/clinical-criteria.md §1.9 [V-2].  Project notes behind the
interpretations (not shown to clinicians): discrepancy D2 (resolved) and the fever module of
crswatch.state (``StateParameters.fever_waiver``, ``crs_resolution_window``).

Time semantics: graded at an evaluation time T from the clinical state at T (crswatch.state):
fever is the highest attributable temperature in [T - 24 h, T]; vasopressors and respiratory
support are what is running at T.

Interpretations (numbered; each is a parameter or a criterion note):

1. Fever is required (>= 38.0 °C, not attributable to another cause) unless antipyretic or
   anticytokine therapy (e.g. tocilizumab or steroids) was given after the onset of the current CRS
   episode (the fever footnote, verified as reproduced in PMC8021214 Table 1; it names
   antipyretics, SITC 2020 does not).  The setting fever_waiver = anticytokine_or_steroid selects
   the narrower reading (SITC 2020, J Immunother Cancer 8:e001511: tocilizumab or steroids).  The
   waiver lasts until the episode resolves (24 hours without a sign of CRS, the setting
   crs_resolution_window).
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
7. Grade 5 is death not attributed to another cause after CRS onset (recalled, not verified: "death
   due to CRS in which another cause is not the principal factor").
8. Hypotension or hypoxia with a documented temperature below 38 °C, in a CRS episode that began
   with fever and has not resolved, with no antipyretic or anticytokine therapy charted, is
   ambiguous [0, grade]: the rows require fever, the footnote lifts that only after such therapy,
   and the wording does not say what an afebrile hypotension of an ongoing CRS is (an antipyretic
   is often given and not charted).  Never a silent 0.
"""

from __future__ import annotations

import polars as pl

from crswatch.scales._compare import compare, excluding_other_causes
from crswatch.scales._criteria import Criterion, Domain, Scale, numbered_items
from crswatch.scales._shared import PRESSOR_INPUTS

__all__ = ["CRITERIA", "SCALE"]

_REF = "Lee 2019 (ASTCT), CRS grading table"
_NASAL = pl.col("o2_device").is_in(["nasal_cannula", "high_flow_nasal_cannula"])
_FEVER = excluding_other_causes("temp_max_c", compare("temp_max_c", ">=", 38.0))
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

_HYPOTENSION_NO_PRESSOR = pl.col("hypotension") & (pl.col("pressors_running") == 0)
_ONE_PRESSOR = pl.col("pressors_running") >= 1
_MULTIPLE_PRESSORS = pl.col("pressors_excl_vasopressin") >= 2
_POSITIVE_PRESSURE = pl.col("positive_pressure")
#: Afebrile (documented) in an ongoing CRS episode that began with a fever, and no waiver:
#: interpretation 8.
_AFEBRILE_IN_EPISODE = (
    pl.col("episode_onset_at").is_not_null()
    & ~pl.col("fever_waived").fill_null(False)
    & (~_FEVER).fill_null(False)
)


def _afebrile(id_: str, grade: int, domain: Domain, test: pl.Expr, what: str) -> Criterion:
    """Hypotension or hypoxia of grade ``grade`` without fever or waiver in an ongoing episode."""
    return Criterion(
        id=f"astct2019.{id_}.afebrile_episode",
        grade=0,
        grade_high=grade,
        domain=domain,
        test=_AFEBRILE_IN_EPISODE & test,
        inputs=("temp_max_c", "fever_waived", "episode_onset_at", "crs_episode_since"),
        source_text=(
            f"{what}, afebrile, in a CRS that began with fever, no antipyretic or anticytokine "
            "therapy charted: the grade rows require fever; the footnote lifts that only after "
            "such therapy"
        ),
        source_ref=f"{_REF}; fever footnote",
        note=(
            "The wording does not decide (interpretation 8): grade 0 by the rows, grade "
            f"{grade} if an antipyretic or anticytokine drug was given and not charted."
        ),
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
        test=_FEBRILE_OR_WAIVED & _HYPOTENSION_NO_PRESSOR,
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
        test=_FEBRILE_OR_WAIVED & _ONE_PRESSOR,
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
        test=_FEBRILE_OR_WAIVED & _MULTIPLE_PRESSORS,
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
        test=_FEBRILE_OR_WAIVED & _POSITIVE_PRESSURE,
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

CRITERIA += (
    _afebrile("hypotension.g2", 2, "hypotension", _HYPOTENSION_NO_PRESSOR, "Hypotension"),
    _afebrile("hypoxia.g2", 2, "hypoxia", _LOW_FLOW, "Low-flow oxygen"),
    _afebrile("hypotension.g3", 3, "hypotension", _ONE_PRESSOR, "A vasopressor"),
    _afebrile("hypoxia.g3", 3, "hypoxia", _HIGH_FLOW_MASK, "High-flow oxygen or a mask"),
    _afebrile("hypotension.g4", 4, "hypotension", _MULTIPLE_PRESSORS, "Multiple vasopressors"),
    _afebrile("hypoxia.g4", 4, "hypoxia", _POSITIVE_PRESSURE, "Positive pressure"),
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
