"""ASTCT 2019 consensus grading of immune effector cell-associated neurotoxicity syndrome (ICANS).

Citation: Lee DW, Santomasso BD, Locke FL, et al. ASTCT consensus grading for cytokine release
syndrome and neurologic toxicity associated with immune effector cells. Biol Blood Marrow
Transplant 2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758.  ICANS grading for adults and
children aged 12 and over (ICE-based) with its footnotes, and for children under 12
(CAPD-based), as verified in shared/spec/clinical-criteria.md §2.1-2.4 [V-2]; the published
examples are §6.1 P2-P4, P6 and P7.  The registry key is ``icans.astct2019`` (the CRS table of
the same paper is ``astct2019``).

Time semantics: graded at an evaluation time T from the neurological state at T
(crswatch.state, ``_neuro``): the latest ICE, CAPD and level of consciousness in
[T - neuro_window, T] (24 h); seizures, motor findings, oedema and ICP signs recorded in
[T - neuro_finding_window, T] (24 h), or while running when recorded with an end.

Interpretations (numbered; each is a parameter or a criterion note):

1. The grade is the most severe domain (ICE or CAPD, level of consciousness, seizure, motor
   findings, raised ICP / cerebral oedema) not attributable to any other cause: every criterion
   is evaluated and the maximum taken.  Grade 0 needs an ICE or CAPD showing none; without an
   assessment in the window ICANS is not assessable.
2. ICE from its items: an item not assessed makes the total a range (the item at 0 to the item
   at its maximum), never 0 and never full marks.  An ICE band is met when even the best
   possible total lies in it and undecided when only a worse total would, so the bounds stay
   tight: items adding up to 6 with attention not assessed is ICE 6-7, grade 1-2.
3. ICE 0 while awake (any level of consciousness but unarousable) is grade 3, "awake with
   global aphasia" (footnote *); ICE 0 or not performed while unarousable is grade 4.  ICE 0
   with no level of consciousness charted is grade 3-4, not assessable.
4. Level of consciousness: alert is normal; awakens spontaneously 1, to voice 2, only to
   tactile stimulus 3, unarousable or needing vigorous or repetitive stimuli 4.  A depressed
   level recorded under sedating medication (a ``sedation`` event) or with ``cause: other`` is
   excluded (footnote †).  An ICE or CAPD recorded under sedation can rule ICANS out (a normal
   score) but never in (undecided).  With no level charted in the window, a completed ICE (at
   least 1 point) or a scored CAPD is taken as not depressed (``consciousness_from_assessment``;
   the result warns).
5. Path by the age at T: ICE from 12 years, CAPD under 12.  A CAPD without an ICE at 12 or
   more is graded on the CAPD path (ASTCT: "or older patients with developmental delay").  Age
   unknown: the path of the one assessment kind recorded, with a warning; both or neither:
   not assessable.
6. CAPD (children): 1-8 is grade 1 (grade 2 when the child awakens only to voice: the
   consciousness domain decides), 9 or more grade 3, unable to perform CAPD (not assessed while
   unarousable) grade 4.  CAPD 0 is no ICANS from that domain: discrepancy D11 is read with the
   ASTCT table's "1-8" rather than MDedge's "<9", and MDedge's "CAPD < 9 and awakens
   spontaneously" as the table's separate domains, the most severe deciding.  The table has no
   baseline: a child whose baseline CAPD is 1-8 grades 1.
7. Seizures: any clinical seizure, focal or generalized, that resolves rapidly, or a
   nonconvulsive seizure on EEG that resolves with intervention, is grade 3; a prolonged
   (> 5 min) seizure, or repetitive seizures without return to baseline in between, grade 4.
8. Motor findings: only deep focal motor weakness (hemiparesis, paraparesis) counts, grade 4.
   Mild or non-focal weakness, tremor and myoclonus do not influence ICANS (footnote ‡: they
   are graded by CTCAE v5.0); aphasia counts only through the ICE score.
9. Raised ICP / oedema: focal or local oedema on neuroimaging is grade 3; diffuse oedema,
   decerebrate or decorticate posturing, cranial nerve VI palsy, papilledema or Cushing's triad
   grade 4.  While an intracranial haemorrhage is recorded, oedema and ICP signs are excluded
   (footnote §: haemorrhage "with or without associated edema" is not a neurotoxicity feature).
10. Grade 5 is an attributable death after ICANS signs ([R]: "death due to ICANS when there is
    no other principal factor").  The timeline does not say whether CRS or ICANS was the
    principal factor, so one attributable death after both is grade 5 on both scales.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from crswatch.scales._compare import compare
from crswatch.scales._criteria import Criterion, Scale, numbered_items
from crswatch.timeline import format_time

__all__ = ["CRITERIA", "SCALE"]

_REF = "Lee 2019 (ASTCT), ICANS grading for adults and children >= 12"
_REF_CHILD = "Lee 2019 (ASTCT), ICANS grading for children < 12 (CAPD)"
_NULL = pl.lit(None, dtype=pl.Boolean)
_ADULT = pl.col("icans_path") == "adult"
_CHILD = pl.col("icans_path") == "child"
_RESOLVED_SEIZURES = ["focal_resolved", "generalized_resolved", "nonconvulsive_resolved"]
_SEVERE_SEIZURES = ["prolonged", "repetitive"]
_LOC_EXCLUDED = pl.col("consciousness_basis").is_in(
    ["other_cause", "sedation", "assumed_not_depressed"]
)
_NO_ICH = ~pl.col("intracranial_hemorrhage")

_ICE_INPUTS = ("icans_path", "ice_score", "ice_low", "ice_high", "ice_items", "ice_basis")
_CAPD_INPUTS = ("icans_path", "capd_score", "capd_status", "capd_basis")
_LOC_INPUTS = ("consciousness", "consciousness_basis")


def _counts(basis: str) -> pl.Expr:
    """An assessment's weight: excluded (other cause), undecided (under sedation), or counted."""
    return (
        pl.when(pl.col(basis) == "other_cause")
        .then(pl.lit(False))
        .when(pl.col(basis) == "sedation")
        .then(_NULL)
        .otherwise(pl.lit(True))
    )


def _ice_band(low: int, high: int) -> pl.Expr:
    """Kleene: the ICE total (``ice_low``-``ice_high``) is in ``low``-``high``.

    Met when even the best possible total (``ice_high``) is in the band, so the grade is at least
    this band's; false when the best total is worse (a worse band is met) or the worst total is
    better; otherwise undecided.
    """
    best, worst = pl.col("ice_high"), pl.col("ice_low")
    return (
        pl.when(best.is_null())
        .then(_NULL)
        .when((best >= low) & (best <= high))
        .then(pl.lit(True))
        .when((best < low) | (worst > high))
        .then(pl.lit(False))
        .otherwise(_NULL)
    )


def _loc(code: str) -> pl.Expr:
    """The level of consciousness is ``code`` and counts (not excluded, not assumed)."""
    return pl.when(_LOC_EXCLUDED).then(pl.lit(False)).otherwise(pl.col("consciousness") == code)


def _ice(grade: int, low: int, high: int, text: str, note: str | None = None) -> Criterion:
    return Criterion(
        id=f"astct2019.icans.ice.g{grade}",
        grade=grade,
        domain="ice",
        test=_ADULT & _counts("ice_basis") & _ice_band(low, high),
        inputs=_ICE_INPUTS,
        source_text=text,
        source_ref=f"{_REF}, ICE score row",
        note=note,
    )


def _consciousness(grade: int, code: str, text: str, ref: str) -> Criterion:
    return Criterion(
        id=f"astct2019.icans.consciousness.g{grade}",
        grade=grade,
        domain="consciousness",
        test=_loc(code),
        inputs=_LOC_INPUTS,
        source_text=text,
        source_ref=ref,
    )


_LOC_REF = (
    f"{_REF}, depressed level of consciousness row and footnote †; {_REF_CHILD} (same levels)"
)

CRITERIA: tuple[Criterion, ...] = (
    _ice(1, 7, 9, "ICE score 7-9"),
    _ice(2, 3, 6, "ICE score 3-6"),
    _ice(
        3,
        0,
        2,
        "ICE score 0-2",
        note=(
            "Includes ICE 0 while awake: 'A patient with an ICE score of 0 may be classified as "
            "grade 3 ICANS if awake with global aphasia' (footnote *)."
        ),
    ),
    Criterion(
        id="astct2019.icans.ice.g4",
        grade=4,
        domain="ice",
        test=_ADULT & _counts("ice_basis") & (pl.col("ice_low") == 0) & _loc("unarousable"),
        inputs=(*_ICE_INPUTS, *_LOC_INPUTS),
        source_text=(
            "ICE score 0 (patient is unarousable and unable to perform ICE); 'a patient with an "
            "ICE score of 0 may be classified as grade 4 ICANS if unarousable'"
        ),
        source_ref=f"{_REF}, ICE score row and footnote *",
    ),
    Criterion(
        id="astct2019.icans.capd.g1",
        grade=1,
        domain="capd",
        test=_CHILD
        & _counts("capd_basis")
        & compare("capd_score", ">=", 1)
        & compare("capd_score", "<=", 8),
        inputs=_CAPD_INPUTS,
        source_text="CAPD score 1-8 (MDedge: 'lower than 9')",
        source_ref=(
            f"{_REF_CHILD}: the consensus table prints 'CAPD 1-8', the MDedge summary 'CAPD "
            "lower than 9'; they differ only at CAPD 0, which with normal consciousness is "
            "no ICANS"
        ),
        note="CAPD 1-8 with awakening only to voice is grade 2 through the consciousness domain.",
    ),
    Criterion(
        id="astct2019.icans.capd.g3",
        grade=3,
        domain="capd",
        test=_CHILD & _counts("capd_basis") & compare("capd_score", ">=", 9),
        inputs=_CAPD_INPUTS,
        source_text="CAPD score of 9 or higher",
        source_ref=_REF_CHILD,
    ),
    Criterion(
        id="astct2019.icans.capd.g4",
        grade=4,
        domain="capd",
        test=_CHILD
        & _counts("capd_basis")
        & (pl.col("capd_status") == "not_assessed")
        & _loc("unarousable"),
        inputs=(*_CAPD_INPUTS, *_LOC_INPUTS),
        source_text="Unable to perform CAPD",
        source_ref=_REF_CHILD,
        note="Read as CAPD recorded not_assessed while the child is unarousable.",
    ),
    _consciousness(1, "awakens_spontaneously", "Awakens spontaneously", _LOC_REF),
    _consciousness(2, "awakens_to_voice", "Awakens to voice", _LOC_REF),
    _consciousness(3, "awakens_to_tactile", "Awakens only to tactile stimulus", _LOC_REF),
    _consciousness(
        4,
        "unarousable",
        (
            "Patient is unarousable or requires vigorous or repetitive tactile stimuli to arouse. "
            "Stupor or coma"
        ),
        _LOC_REF,
    ),
    Criterion(
        id="astct2019.icans.seizure.g3",
        grade=3,
        domain="seizure",
        test=pl.col("seizure").is_in(_RESOLVED_SEIZURES),
        inputs=("seizure",),
        source_text=(
            "Any clinical seizure focal or generalized that resolves rapidly or nonconvulsive "
            "seizures on EEG that resolve with intervention"
        ),
        source_ref=f"{_REF}, seizure row; {_REF_CHILD}",
    ),
    Criterion(
        id="astct2019.icans.seizure.g4",
        grade=4,
        domain="seizure",
        test=pl.col("seizure").is_in(_SEVERE_SEIZURES),
        inputs=("seizure",),
        source_text=(
            "Life-threatening prolonged seizure (>5 min); or repetitive clinical or electrical "
            "seizures without return to baseline in between"
        ),
        source_ref=f"{_REF}, seizure row; {_REF_CHILD}",
    ),
    Criterion(
        id="astct2019.icans.motor.g4",
        grade=4,
        domain="motor",
        test=pl.col("motor_weakness") == "deep_focal",
        inputs=("motor_weakness",),
        source_text="Deep focal motor weakness such as hemiparesis or paraparesis",
        source_ref=f"{_REF}, motor findings row and footnote ‡; {_REF_CHILD}",
        note="Tremor and myoclonus do not influence ICANS grading (footnote ‡).",
    ),
    Criterion(
        id="astct2019.icans.edema.g3",
        grade=3,
        domain="icp_edema",
        test=_NO_ICH & (pl.col("cerebral_edema") == "focal"),
        inputs=("cerebral_edema", "intracranial_hemorrhage"),
        source_text="Focal/local edema on neuroimaging",
        source_ref=f"{_REF}, elevated ICP / cerebral edema row and footnote §; {_REF_CHILD}",
        note="Excluded while an intracranial hemorrhage is recorded (footnote §).",
    ),
    Criterion(
        id="astct2019.icans.edema.g4",
        grade=4,
        domain="icp_edema",
        test=_NO_ICH & (pl.col("cerebral_edema") == "diffuse"),
        inputs=("cerebral_edema", "intracranial_hemorrhage"),
        source_text="Diffuse cerebral edema on neuroimaging",
        source_ref=f"{_REF}, elevated ICP / cerebral edema row and footnote §; {_REF_CHILD}",
        note="Excluded while an intracranial hemorrhage is recorded (footnote §).",
    ),
    Criterion(
        id="astct2019.icans.icp.g4",
        grade=4,
        domain="icp_edema",
        test=_NO_ICH & (pl.col("icp_sign").list.len() > 0),
        inputs=("icp_sign", "intracranial_hemorrhage"),
        source_text=(
            "Decerebrate or decorticate posturing; or cranial nerve VI palsy; or papilledema; or "
            "Cushing's triad"
        ),
        source_ref=f"{_REF}, elevated ICP / cerebral edema row; {_REF_CHILD}",
        note="Excluded while an intracranial hemorrhage is recorded (footnote §).",
    ),
    Criterion(
        id="astct2019.icans.death.g5",
        grade=5,
        domain="death",
        test=pl.col("death_attributable") & pl.col("icans_onset_at").is_not_null(),
        inputs=("death", "death_attributable", "icans_onset_at"),
        source_text="Death due to ICANS when there is no other principal factor",
        source_ref="Lee 2019 (ASTCT), grade 5 (MDedge summary) [R: wording not verified]",
    ),
)

_PATH_WARNINGS = {
    "assumed_adult_from_ice": (
        "age unknown: graded on the ICE path (ages 12 and over) because only an ICE was recorded"
    ),
    "assumed_child_from_capd": (
        "age unknown: graded on the CAPD path (children under 12) because only a CAPD was recorded"
    ),
    "capd_at_12_or_over": (
        "CAPD without ICE at age 12 or over: graded on the CAPD path (ASTCT 2019 allows CAPD for "
        "older patients with developmental delay)"
    ),
}
_EXCLUDED = {"other_cause": "attributed to another cause", "sedation": "recorded under sedation"}


def _when(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    return format_time(value) if value is not None else "?"


def _row_warnings(row: Mapping[str, Any]) -> tuple[str, ...]:
    warnings: list[str] = []
    path_basis = row.get("icans_path_basis")
    if isinstance(path_basis, str) and path_basis in _PATH_WARNINGS:
        warnings.append(_PATH_WARNINGS[path_basis])
    elif path_basis == "age_unknown" and row.get("ice_time") and row.get("capd_time"):
        warnings.append("age unknown and both ICE and CAPD recorded: the path cannot be chosen")
    elif path_basis == "age_under_12" and row.get("ice_time") is not None:
        warnings.append("ICE recorded under age 12 is not used (ASTCT 2019: CAPD under 12)")
    for kind, column in (("ICE", "ice"), ("CAPD", "capd")):
        basis = row.get(f"{column}_basis")
        if basis == "sedation":
            warnings.append(
                f"{kind} of {_when(row, f'{column}_time')} was recorded under sedation: it can "
                "rule ICANS out but not in"
            )
        elif basis == "other_cause":
            warnings.append(
                f"{kind} of {_when(row, f'{column}_time')} is attributed to another cause: excluded"
            )
    missing_items = row.get("ice_score_missing") or []
    if row.get("ice_source") == "items" and missing_items:
        warnings.append(
            f"ICE items not assessed ({', '.join(missing_items)}): the total is "
            f"{row.get('ice_low')}-{row.get('ice_high')}, not a number"
        )
    if row.get("ice_items_disagree"):
        warnings.append(
            f"ICE total {row.get('ice_score')} disagrees with its items ({row.get('ice_items')}); "
            "the total was used"
        )
    loc_basis = row.get("consciousness_basis")
    if loc_basis == "assumed_not_depressed":
        warnings.append(
            "level of consciousness not charted: taken as not depressed because an ICE or CAPD "
            "was completed (consciousness_from_assessment)"
        )
    elif loc_basis in _EXCLUDED and row.get("consciousness") != "alert":
        warnings.append(
            f"level of consciousness '{row.get('consciousness')}' of "
            f"{_when(row, 'consciousness_time')} {_EXCLUDED[str(loc_basis)]}: excluded "
            "(ASTCT 2019 footnote †)"
        )
    excluded_seizures = int(row.get("seizure_excluded_n") or 0)
    if excluded_seizures:
        warnings.append(f"{excluded_seizures} seizure(s) attributed to another cause: excluded")
    for item in ("motor_weakness", "cerebral_edema"):
        code = row.get(f"{item}_excluded")
        if code:
            warnings.append(f"{item} '{code}' attributed to another cause: excluded")
    if int(row.get("icp_sign_excluded_n") or 0):
        warnings.append("ICP sign(s) attributed to another cause: excluded")
    if row.get("intracranial_hemorrhage"):
        warnings.append(
            "intracranial hemorrhage recorded: cerebral edema and ICP signs are excluded from "
            "ICANS grading (ASTCT 2019 footnote §)"
        )
    if int(row.get("tremor_myoclonus_n") or 0):
        warnings.append(
            "tremor or myoclonus recorded: graded by CTCAE v5.0, they do not influence ICANS "
            "(ASTCT 2019 footnote ‡)"
        )
    if row.get("crs_active") and row.get("neuro_assessment_overdue"):
        last = row.get("neuro_last_assessment_at")
        since = f"since {format_time(last)}" if last is not None else "since the therapy start"
        warnings.append(
            f"assessment overdue: no ICE or CAPD for {row.get('neuro_assessment_gap_hours'):.1f} h "
            f"({since}) while CRS is active; guidance: at least twice daily (interval "
            f"{row.get('neuro_assessment_interval_hours'):g} h)"
        )
    return tuple(warnings)


SCALE = Scale(
    id="astct2019",
    version="2019",
    title="ASTCT consensus ICANS grading",
    citation=(
        "Lee DW, et al. ASTCT consensus grading for cytokine release syndrome and neurologic "
        "toxicity associated with immune effector cells. Biol Blood Marrow Transplant "
        "2019;25:625-638"
    ),
    doi="10.1016/j.bbmt.2018.12.758",
    kind="icans",
    criteria=CRITERIA,
    interpretations=numbered_items(__doc__),
    warn=_row_warnings,
    # The grade stands on the encephalopathy assessment of the patient's path (ICE from age 12,
    # CAPD under 12): one with at least one item assessed, off sedation, documents a grade (one
    # excluded for another cause too: it was assessed).
    documented=pl.when(_ADULT)
    .then(
        (pl.col("ice_basis") == "other_cause")
        | ((pl.col("ice_basis") == "assessed") & ((pl.col("ice_high") - pl.col("ice_low")) < 10))
    )
    .when(_CHILD)
    .then(
        (pl.col("capd_basis") == "other_cause")
        | ((pl.col("capd_basis") == "assessed") & pl.col("capd_score").is_not_null())
    )
    .otherwise(pl.lit(False)),
)
