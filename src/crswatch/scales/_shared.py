"""Building blocks that several CRS scale modules share: state inputs, tests and criterion rows.

Only what is the same to the letter across papers lives here.  Each factory fixes what the
scales have in common (the domain, the test over state columns, the inputs shown as evidence)
and takes what a paper words for itself (its id, grade, source text, source reference and
note), so every scale module still lists each of its criteria, one call per row.
"""

from __future__ import annotations

import polars as pl

from crswatch.scales._compare import compare, excluding_other_causes
from crswatch.scales._criteria import Criterion

__all__ = [
    "CREATININE_LFT_INPUTS",
    "FIO2_AT_LEAST_40",
    "FIO2_BELOW_40_OR_UNKNOWN",
    "FIO2_ESTIMATES_STRADDLE_40",
    "FLUID_INPUTS",
    "HIGH_DOSE_INPUTS",
    "HYPOTENSION_NO_PRESSOR",
    "ON_OXYGEN",
    "ON_OXYGEN_SHORT_OF_POSITIVE_PRESSURE",
    "ORGAN_V4_INPUTS",
    "OXYGEN_INPUTS",
    "PRESSOR_INPUTS",
    "any_low_dose_pressor_criterion",
    "coagulopathy_transfusion_criterion",
    "creatinine_g3_or_lft_g4_criterion",
    "creatinine_g4_criterion",
    "death_criterion",
    "fever_criterion",
    "fio2_at_least_40_criterion",
    "fio2_below_40_criterion",
    "fio2_estimates_straddle_40_criterion",
    "high_dose_criterion",
    "hypotension_fluids_criterion",
    "invasive_ventilation_criterion",
    "multiple_pressors_criterion",
    "noninvasive_ventilation_criterion",
    "one_low_dose_pressor_criterion",
    "organ_v4_criterion",
    "supplemental_oxygen_criterion",
    "transaminitis_g4_criterion",
]

# -- Inputs: state columns shown as evidence (and reported missing when null) -------------------

#: The vasopressors running at T and their doses.
PRESSOR_INPUTS = (
    "pressors_running",
    "norepinephrine_ug_min",
    "epinephrine_ug_min",
    "phenylephrine_ug_min",
    "dopamine_ug_kg_min",
    "vasopressin_u_min",
)
#: The vasopressors and the Lee 2014 Table 3 high-dose state.
HIGH_DOSE_INPUTS = (
    *PRESSOR_INPUTS,
    "ne_equivalent_ug_min",
    "high_dose_now",
    "high_dose_since",
    "high_dose_sustained",
)
#: The oxygen running at T and its FiO2 (measured or estimated): the FiO2 shown, the lowest and
#: highest value the record allows (the estimators' range for a cannula without a charted FiO2).
OXYGEN_INPUTS = ("o2_device", "fio2_pct", "fio2_low_pct", "fio2_high_pct", "fio2_source")
#: The inputs of an estimated FiO2 whose estimators disagree: the flow and both estimates.
FIO2_ESTIMATE_INPUTS = (
    "o2_device",
    "o2_flow_l_min",
    "fio2_low_pct",
    "fio2_high_pct",
    "fio2_pct",
    "fio2_source",
)
#: Hypotension (SBP below the age threshold) and the fluid boluses of [T - 24 h, T].
FLUID_INPUTS = ("sbp_min", "sbp_threshold", "hypotension", "fluid_boluses_n")
#: The two halves of the worst CTCAE v4.03 organ grade (transaminitis, everything else);
#: completeness and the terms not assessed are shown as evidence.
ORGAN_V4_INPUTS = (
    "organ_tox_v4_max_excl_transaminitis",
    "transaminitis_v4",
    "organ_tox_v4_complete",
    "organ_tox_v4_missing",
)
#: CTCAE v4.03 creatinine and the worst of ALT, AST and bilirubin.
CREATININE_LFT_INPUTS = ("creatinine_v4", "lft_v4")

# -- Tests: Kleene-logical expressions over state columns ----------------------------------------

#: Any oxygen running at T, positive pressure included.
ON_OXYGEN = pl.col("o2_device") != "room_air"
#: Oxygen short of positive pressure (CPAP, BiPAP and ventilation excluded).
ON_OXYGEN_SHORT_OF_POSITIVE_PRESSURE = ON_OXYGEN & ~pl.col("positive_pressure")
#: FiO2 below 40 %, or unknown (any oxygen is at least grade 2; grade 3 is then undecided): the
#: highest value the record allows is below 40 % (measured, or every estimator below 40 %).
FIO2_BELOW_40_OR_UNKNOWN = compare("fio2_high_pct", "<", 40.0) | pl.col("fio2_high_pct").is_null()
#: FiO2 of 40 % or more: the lowest value the record allows is at least 40 % (measured, or every
#: estimator at least 40 %); null (undecided, the FiO2 is missing) when nothing gives a value.
FIO2_AT_LEAST_40 = compare("fio2_low_pct", ">=", 40.0)
#: An estimated FiO2 whose estimators fall on both sides of 40 % (a 5-6 L/min cannula): the
#: record does not decide the threshold (a charted FiO2 gives low == high, never this).  False,
#: not unknown, without an FiO2: the grade-3 criterion already names the FiO2 as missing.
FIO2_ESTIMATES_STRADDLE_40 = (
    compare("fio2_low_pct", "<", 40.0) & compare("fio2_high_pct", ">=", 40.0)
).fill_null(False)
#: Hypotension with no vasopressor running.
HYPOTENSION_NO_PRESSOR = pl.col("hypotension") & compare("pressors_running", "==", 0)


def _organ_v4_grade(grade: int) -> pl.Expr:
    """The worst CTCAE v4.03 organ grade is ``grade`` (either half)."""
    return compare("organ_tox_v4_max_excl_transaminitis", "==", grade) | compare(
        "transaminitis_v4", "==", grade
    )


# -- Criteria ------------------------------------------------------------------------------------


def fever_criterion(
    scale_id: str,
    *,
    source_text: str,
    source_ref: str,
    note: str | None = None,
    grade_high: int | None = None,
) -> Criterion:
    """``<scale>.fever.g1``: temperature >= 38.0 °C."""
    return Criterion(
        id=f"{scale_id}.fever.g1",
        grade=1,
        grade_high=grade_high,
        domain="fever",
        test=excluding_other_causes("temp_max_c", compare("temp_max_c", ">=", 38.0)),
        inputs=("temp_max_c",),
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def hypotension_fluids_criterion(
    id: str,
    grade: int,
    *,
    source_text: str,
    source_ref: str,
    note: str,
    grade_high: int | None = None,
) -> Criterion:
    """Hypotension with no vasopressor running (fluids at most)."""
    return Criterion(
        id=id,
        grade=grade,
        grade_high=grade_high,
        domain="hypotension",
        test=HYPOTENSION_NO_PRESSOR,
        inputs=(*FLUID_INPUTS, "pressors_running"),
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def one_low_dose_pressor_criterion(
    scale_id: str, *, source_text: str, source_ref: str, note: str
) -> Criterion:
    """``<scale>.hypotension.g2.low_dose``: exactly one vasopressor, no sustained high dose."""
    return Criterion(
        id=f"{scale_id}.hypotension.g2.low_dose",
        grade=2,
        domain="hypotension",
        test=compare("pressors_running", "==", 1) & ~pl.col("high_dose_sustained"),
        inputs=HIGH_DOSE_INPUTS,
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def any_low_dose_pressor_criterion(
    scale_id: str, *, source_text: str, source_ref: str, note: str
) -> Criterion:
    """``<scale>.hypotension.g3.low_dose``: any vasopressor, no sustained high dose."""
    return Criterion(
        id=f"{scale_id}.hypotension.g3.low_dose",
        grade=3,
        domain="hypotension",
        test=compare("pressors_running", ">=", 1) & ~pl.col("high_dose_sustained"),
        inputs=HIGH_DOSE_INPUTS,
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def high_dose_criterion(
    id: str, grade: int, *, source_text: str, source_ref: str, note: str
) -> Criterion:
    """A Lee 2014 Table 3 high dose held >= 3 h (``high_dose_sustained``)."""
    return Criterion(
        id=id,
        grade=grade,
        domain="hypotension",
        test=pl.col("high_dose_sustained"),
        inputs=HIGH_DOSE_INPUTS,
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def multiple_pressors_criterion(
    id: str,
    grade: int,
    *,
    source_text: str,
    source_ref: str,
    note: str,
    grade_high: int | None = None,
) -> Criterion:
    """Two or more vasopressors running, vasopressin included."""
    return Criterion(
        id=id,
        grade=grade,
        grade_high=grade_high,
        domain="hypotension",
        test=compare("pressors_running", ">=", 2),
        inputs=PRESSOR_INPUTS,
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def fio2_below_40_criterion(
    scale_id: str, *, oxygen: pl.Expr, source_text: str, source_ref: str, note: str
) -> Criterion:
    """``<scale>.hypoxia.g2``: ``oxygen`` running at an FiO2 below 40 % or unknown."""
    return Criterion(
        id=f"{scale_id}.hypoxia.g2",
        grade=2,
        domain="hypoxia",
        test=oxygen & FIO2_BELOW_40_OR_UNKNOWN,
        inputs=OXYGEN_INPUTS,
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def fio2_at_least_40_criterion(
    scale_id: str, *, oxygen: pl.Expr, source_text: str, source_ref: str, note: str
) -> Criterion:
    """``<scale>.hypoxia.g3``: ``oxygen`` running at an FiO2 of 40 % or more."""
    return Criterion(
        id=f"{scale_id}.hypoxia.g3",
        grade=3,
        domain="hypoxia",
        test=oxygen & FIO2_AT_LEAST_40,
        inputs=OXYGEN_INPUTS,
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def fio2_estimates_straddle_40_criterion(
    scale_id: str, *, oxygen: pl.Expr, source_text: str, source_ref: str, interpretation: int
) -> Criterion:
    """``<scale>.hypoxia.g3.estimated``: ambiguous 2-3, the FiO2 estimators straddle 40 %.

    A nasal cannula without a charted FiO2 whose flow gives an FiO2 below 40 % by one shipped
    estimator and 40 % or more by the other (5 to under 6 L/min: 30 % and 40-43 %).
    """
    return Criterion(
        id=f"{scale_id}.hypoxia.g3.estimated",
        grade=2,
        grade_high=3,
        domain="hypoxia",
        test=oxygen & FIO2_ESTIMATES_STRADDLE_40,
        inputs=FIO2_ESTIMATE_INPUTS,
        source_text=source_text,
        source_ref=source_ref,
        note=(
            "FiO2 not charted: estimated from the cannula flow, it is below 40 % by one published "
            "conversion (PMC4753186 Table 3: 4 L/min 30 %, 6-8 L/min 40 %) and 40 % or more by "
            "the other (FPnotebook, low-flow oxygen: about 20 % + 4 % per L/min, 5 L/min 40 %); "
            "the record does not decide between grades 2 and "
            f"3 (interpretation {interpretation})."
        ),
    )


def supplemental_oxygen_criterion(
    scale_id: str, *, source_text: str, source_ref: str, note: str
) -> Criterion:
    """``<scale>.hypoxia.g3``: any oxygen short of invasive ventilation, whatever the flow."""
    return Criterion(
        id=f"{scale_id}.hypoxia.g3",
        grade=3,
        domain="hypoxia",
        test=ON_OXYGEN & ~pl.col("invasive_ventilation"),
        inputs=("o2_device", "o2_flow_l_min"),
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def noninvasive_ventilation_criterion(
    id: str,
    grade: int,
    *,
    source_text: str,
    source_ref: str,
    note: str,
    grade_high: int | None = None,
) -> Criterion:
    """CPAP or BiPAP: positive pressure short of invasive ventilation."""
    return Criterion(
        id=id,
        grade=grade,
        grade_high=grade_high,
        domain="hypoxia",
        test=pl.col("positive_pressure") & ~pl.col("invasive_ventilation"),
        inputs=("o2_device",),
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def invasive_ventilation_criterion(
    scale_id: str, *, source_text: str, source_ref: str, note: str | None = None
) -> Criterion:
    """``<scale>.hypoxia.g4``: invasive mechanical ventilation."""
    return Criterion(
        id=f"{scale_id}.hypoxia.g4",
        grade=4,
        domain="hypoxia",
        test=pl.col("invasive_ventilation"),
        inputs=("o2_device",),
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def organ_v4_criterion(
    scale_id: str, grade: int, *, source_text: str, source_ref: str, note: str | None = None
) -> Criterion:
    """``<scale>.organ.g<grade>``: the worst CTCAE v4.03 organ grade (``ORGAN_V4_INPUTS``).

    Grades 1-3 read either half; grade 4 reads every organ but the transaminases (grade 4
    transaminitis is grade 3: ``transaminitis_g4_criterion``).
    """
    test = (
        compare("organ_tox_v4_max_excl_transaminitis", "==", 4)
        if grade == 4
        else _organ_v4_grade(grade)
    )
    return Criterion(
        id=f"{scale_id}.organ.g{grade}",
        grade=grade,
        domain="organ",
        test=test,
        inputs=ORGAN_V4_INPUTS,
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def transaminitis_g4_criterion(scale_id: str, *, source_text: str, source_ref: str) -> Criterion:
    """``<scale>.organ.g3.transaminitis``: grade 4 transaminitis is grade 3."""
    return Criterion(
        id=f"{scale_id}.organ.g3.transaminitis",
        grade=3,
        domain="organ",
        test=compare("transaminitis_v4", "==", 4),
        inputs=("transaminitis_v4",),
        source_text=source_text,
        source_ref=source_ref,
        note="ALT or AST > 20 x ULN (CTCAE v4.03) is grade 3, not 4.",
    )


def creatinine_g3_or_lft_g4_criterion(
    scale_id: str, *, source_text: str, source_ref: str, note: str
) -> Criterion:
    """``<scale>.organ.g3``: CTCAE v4.03 grade 3 creatinine or grade 4 LFTs."""
    return Criterion(
        id=f"{scale_id}.organ.g3",
        grade=3,
        domain="organ",
        test=compare("creatinine_v4", "==", 3) | compare("lft_v4", "==", 4),
        inputs=CREATININE_LFT_INPUTS,
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def creatinine_g4_criterion(
    scale_id: str, *, source_text: str, source_ref: str, note: str
) -> Criterion:
    """``<scale>.organ.creatinine_g4``: grade 4 creatinine, unlisted: ambiguous, 3 to 4."""
    return Criterion(
        id=f"{scale_id}.organ.creatinine_g4",
        grade=3,
        grade_high=4,
        domain="organ",
        test=compare("creatinine_v4", "==", 4),
        inputs=("creatinine_v4",),
        source_text=source_text,
        source_ref=source_ref,
        note=note,
    )


def coagulopathy_transfusion_criterion(
    scale_id: str, *, source_ref: str, interpretation: int
) -> Criterion:
    """``<scale>.coagulopathy.transfusion``: an unnamed transfusion, ambiguous between 0 and 3."""
    return Criterion(
        id=f"{scale_id}.coagulopathy.transfusion",
        grade=0,
        grade_high=3,
        domain="coagulopathy",
        test=compare("coagulopathy_transfusions_n", ">=", 1),
        inputs=("coagulopathy_transfusions_n",),
        source_text="Coagulopathy is not named (organ toxicity?)",
        source_ref=source_ref,
        note=(
            "FFP, cryoprecipitate or fibrinogen concentrate in [T - 24 h, T]: ambiguous between "
            "not counting and grade 3; a measured fibrinogen is graded apart "
            f"(interpretation {interpretation})."
        ),
    )


def death_criterion(scale_id: str, *, source_ref: str, interpretation: int) -> Criterion:
    """``<scale>.death.g5``: death not attributed to another cause after CRS onset."""
    return Criterion(
        id=f"{scale_id}.death.g5",
        grade=5,
        domain="death",
        test=pl.col("death_attributable") & pl.col("onset_at").is_not_null(),
        inputs=("death", "death_attributable", "onset_at"),
        source_text="Death",
        source_ref=source_ref,
        note=(
            "Death not attributed to another cause after CRS onset "
            f"(interpretation {interpretation})."
        ),
    )
