"""HLH-2004 diagnostic criteria (Henter et al., Pediatr Blood Cancer 2007;48:124-31).

Citation: Henter JI, Horne A, Arico M, et al. HLH-2004: Diagnostic and therapeutic guidelines for
hemophagocytic lymphohistiocytosis.  doi:10.1002/pbc.21039.  As verified in
shared/spec/clinical-criteria.md §3.1 [V-2] (bloodjournal 391697; PMC4227502 T2; JITC 8418;
highlighthlh.com).  The diagnosis is (1) a molecular diagnosis consistent with HLH **or** (2) at
least 5 of 8 criteria.

Interpretations (numbered; docs/decisions/0011-hlh-screens.md):

1. Operators as in the original (discrepancy D8): >= for triglycerides, ferritin and sCD25, <=
   for fibrinogen, < for the cytopenias.  Reviews printing >/< are not followed.
2. Fever (discrepancy D7): the original says only "Fever".  crswatch uses the highest temperature
   in the window >= ``HLHParameters.hlh2004_fever_c`` (default 38.5 °C, as the later adaptations
   and the register recommend), and every result carries a warning saying so.
3. Thresholds published in SI units are converted to the canonical unit with the reader's own
   conversion: triglycerides 3.0 mmol/L = 265.71 mg/dL (triolein molar mass 885.7 g/mol; the
   paper's "265 mg/dL" is a rounding, so 265.0-265.7 mg/dL is below the threshold), fibrinogen
   1.5 g/L = 150 mg/dL, haemoglobin 90 g/L = 9.0 g/dL (100 g/L = 10 g/dL in infants under 4
   weeks), platelets 100 x 10^9/L = 100 x 10^3/uL, neutrophils 1.0 x 10^9/L = 1.0 x 10^3/uL,
   ferritin 500 ug/L = 500 ng/mL.  "Fasting" triglycerides: the fasting state is not recorded;
   the result says so.
4. Neutrophils: when no ANC was measured in the window, a WBC < 1.0 x 10^3/uL shows that the
   neutrophils were < 1.0 too (the ANC cannot exceed the WBC); a labelled rule.  A WBC >= 1.0
   tells nothing.
5. sCD25 >= 2400 U/mL is read only from ``il2r`` results in U/mL.  Results in pg/mL (multiplex
   panels, seed 000) cannot be converted to U/mL and leave the criterion not assessable; the
   result says so.
6. NK-cell activity and the molecular diagnosis are not timeline items: they come from
   :class:`crswatch.hlh.SupplementaryFindings`; unrecorded is not assessable.
7. Status: met when the molecular route is met or >= 5 criteria are met; not met only when the
   molecular route is not met (tested, negative) **and** fewer than 5 criteria can still be met;
   otherwise not assessable (missing is not normal).  ``routes`` gives each route's status.
8. Cytopenias are expected after lymphodepleting chemotherapy; with CAR T therapy a met
   cytopenia criterion carries a warning (decision 0006 §2).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from crswatch.hlh._criteria import Criterion, Part, finding, threshold
from crswatch.hlh._params import HLHParameters
from crswatch.hlh._result import ScreenResult, ScreenStatus
from crswatch.hlh._screen import Row, columns_for, outcome, status_of
from crswatch.scales._compare import compare

__all__ = ["ID", "NEEDED", "TITLE", "VERSION", "columns", "criteria", "decide", "status"]

ID = "hlh2004"
VERSION = "Henter 2007"
TITLE = "HLH-2004 diagnostic criteria"
NEEDED = 5
_REF = "Henter et al., Pediatr Blood Cancer 2007 (HLH-2004), diagnostic criteria"


def _hemoglobin(params: HLHParameters) -> Part:
    adult = threshold("hb", "hemoglobin_min", "hemoglobin", "<", 90.0, "g/L")
    infant = threshold("hb_infant", "hemoglobin_min", "hemoglobin", "<", 100.0, "g/L")
    is_infant = compare("age_days", "<", params.hlh2004_infant_days).fill_null(False)
    return Part(
        id="hemoglobin",
        test=pl.when(is_infant).then(infant.test).otherwise(adult.test),
        inputs=("hemoglobin_min",),
        shown=("age_days",),
        text="< 90 g/L (infants < 4 weeks: < 100 g/L)",
        conversion=f"{adult.conversion}; {infant.conversion}",
    )


def _neutrophils() -> Part:
    anc = threshold("anc", "anc_min", "anc", "<", 1.0, "10*9/L")
    wbc = threshold("wbc", "wbc_min", "wbc", "<", 1.0, "10*9/L")
    inferred = pl.when(wbc.test).then(pl.lit(True)).otherwise(pl.lit(None, pl.Boolean))
    return Part(
        id="neutrophils",
        test=pl.coalesce(anc.test, inferred),
        inputs=("anc_min", "wbc_min"),
        text="< 1.0 x 10^9/L (without an ANC: WBC < 1.0 x 10^9/L, labelled rule)",
        conversion=anc.conversion,
    )


def criteria(params: HLHParameters | None = None) -> tuple[Criterion, ...]:
    """The 8 criteria of route (2), as data (the fever threshold is a parameter, D7)."""
    params = params or HLHParameters()
    fever_c = params.hlh2004_fever_c
    return (
        Criterion(
            id="fever",
            label="Fever",
            parts=(
                threshold(
                    "temperature",
                    "temperature_max",
                    "temperature",
                    ">=",
                    fever_c,
                    "Cel",
                    text=f">= {fever_c:g} °C (crswatch rule; the original says 'Fever')",
                ),
            ),
            need=1,
            wording="Fever",
            source_ref=f"{_REF}, criterion 1 (fever threshold as read by crswatch)",
            tag="rule",
            note="The original has no threshold; >= 38.5 °C is a later adaptation.",
        ),
        Criterion(
            id="splenomegaly",
            label="Splenomegaly",
            parts=(finding("splenomegaly", "splenomegaly", "present"),),
            need=1,
            wording="Splenomegaly",
            source_ref=f"{_REF}, criterion 2",
            tag="V-2",
        ),
        Criterion(
            id="cytopenias",
            label="Cytopenias affecting ≥ 2 of 3 lineages",
            parts=(
                _hemoglobin(params),
                threshold("platelets", "platelets_min", "platelets", "<", 100.0, "10*9/L"),
                _neutrophils(),
            ),
            need=2,
            wording=(
                "Cytopenias (affecting >=2 of 3 lineages in the peripheral blood): hemoglobin "
                "<90 g/L (in infants <4 weeks: hemoglobin <100 g/L); platelets <100 x 10^9/L; "
                "neutrophils <1.0 x 10^9/L"
            ),
            source_ref=f"{_REF}, criterion 3",
            tag="V-2",
            note="Neutrophils may be inferred from WBC < 1.0 (interpretation 4).",
        ),
        Criterion(
            id="triglycerides_fibrinogen",
            label="Hypertriglyceridemia and/or hypofibrinogenemia",
            parts=(
                threshold(
                    "triglycerides",
                    "triglycerides_max",
                    "triglycerides",
                    ">=",
                    3.0,
                    "mmol/L",
                    text=">= 3.0 mmol/L (>= 265 mg/dL), fasting",
                ),
                threshold("fibrinogen", "fibrinogen_min", "fibrinogen", "<=", 1.5, "g/L"),
            ),
            need=1,
            wording=(
                "Hypertriglyceridemia and/or hypofibrinogenemia: fasting triglycerides >=3.0 "
                "mmol/L (i.e., >=265 mg/dL); fibrinogen <=1.5 g/L"
            ),
            source_ref=f"{_REF}, criterion 4",
            tag="V-2",
            note="Fasting state not recorded (interpretation 3).",
        ),
        Criterion(
            id="hemophagocytosis",
            label="Hemophagocytosis in bone marrow, spleen or lymph nodes",
            parts=(finding("hemophagocytosis", "hemophagocytosis", "present"),),
            need=1,
            wording="Hemophagocytosis in bone marrow or spleen or lymph nodes; no evidence of "
            "malignancy",
            source_ref=f"{_REF}, criterion 5",
            tag="V-2",
            note="'No evidence of malignancy' cannot be checked from the timeline.",
        ),
        Criterion(
            id="nk_activity",
            label="Low or absent NK-cell activity",
            parts=(finding("nk_activity_low", "nk_activity_low", "low or absent"),),
            need=1,
            wording="Low or absent NK-cell activity (according to local laboratory reference)",
            source_ref=f"{_REF}, criterion 6",
            tag="V-2",
            note="From SupplementaryFindings.nk_activity_low (not a timeline item).",
        ),
        Criterion(
            id="ferritin",
            label="Ferritin ≥ 500 µg/L",
            parts=(threshold("ferritin", "ferritin_max", "ferritin", ">=", 500.0, "ug/L"),),
            need=1,
            wording="Ferritin >=500 ug/L",
            source_ref=f"{_REF}, criterion 7",
            tag="V-2",
        ),
        Criterion(
            id="scd25",
            label="Soluble CD25 (sIL-2R) ≥ 2400 U/mL",
            parts=(
                Part(
                    id="scd25",
                    test=compare("il2r_u_ml_max", ">=", 2400.0),
                    inputs=("il2r_u_ml_max",),
                    shown=("il2r_pg_ml_max",),
                    text=">= 2400 U/mL",
                ),
            ),
            need=1,
            wording="Soluble CD25 (i.e., soluble IL-2 receptor) >=2400 U/mL",
            source_ref=f"{_REF}, criterion 8",
            tag="V-2",
            note="U/mL only; pg/mL results cannot be converted (interpretation 5).",
        ),
    )


def columns(params: HLHParameters) -> list[pl.Expr]:
    """The criteria columns over the inputs frame."""
    return columns_for(ID, criteria(params))


def _missing_inputs(row: Row, item: Criterion) -> list[str]:
    missing: list[str] = []
    for part in item.parts:
        if row.get(f"{ID}.{item.id}.{part.id}") is None:
            missing += [name for name in part.inputs if row.get(name) is None]
    return sorted(set(missing))


def status(params: HLHParameters) -> pl.Expr:
    """``decide``'s status as a column over :func:`columns` (the ward shows only the status).

    The same two routes: the criteria (met, unknown counted as ``decide`` counts them) and the
    molecular diagnosis.
    """
    flags = [pl.col(f"{ID}.{item.id}") for item in criteria(params)]
    met = pl.sum_horizontal([flag.fill_null(False).cast(pl.Int32) for flag in flags])
    unknown = pl.sum_horizontal([flag.is_null().cast(pl.Int32) for flag in flags])
    molecular = pl.col("hlh_molecular_diagnosis")
    criteria_met = met >= NEEDED
    criteria_not_met = (met + unknown) < NEEDED
    return status_of(
        criteria_met | molecular.fill_null(False),
        criteria_not_met & molecular.not_().fill_null(False),
    )


def decide(row: Row, params: HLHParameters) -> ScreenResult:
    """The HLH-2004 result of one row of the inputs frame."""
    rows = criteria(params)
    outcomes = tuple(outcome(row, ID, item) for item in rows)
    met = sum(1 for o in outcomes if o.met is True)
    unknown = sum(1 for o in outcomes if o.met is None)
    molecular = row.get("hlh_molecular_diagnosis")
    criteria_route: ScreenStatus = (
        "met" if met >= NEEDED else "not_met" if met + unknown < NEEDED else "not_assessable"
    )
    molecular_route: ScreenStatus = (
        "met" if molecular is True else "not_met" if molecular is False else "not_assessable"
    )
    status: ScreenStatus
    if "met" in (criteria_route, molecular_route):
        status = "met"
    elif criteria_route == "not_met" and molecular_route == "not_met":
        status = "not_met"
    else:
        status = "not_assessable"
    missing = [
        f"{item.id} ({', '.join(_missing_inputs(row, item)) or 'undecided'})"
        for item, result in zip(rows, outcomes, strict=True)
        if result.met is None
    ]
    if molecular is None:
        missing.append("molecular_diagnosis (hlh_molecular_diagnosis)")
    warnings = [
        f"Fever read as temperature >= {params.hlh2004_fever_c:g} °C: the original criterion is "
        "'Fever' without a threshold (the setting hlh2004_fever_c)."
    ]
    if row.get("triglycerides_max") is not None:
        warnings.append("Triglycerides: fasting state is not recorded; the result was used as is.")
    if row.get("il2r_u_ml_max") is None and row.get("il2r_pg_ml_max") is not None:
        warnings.append(
            "sIL-2R was reported in pg/mL only; HLH-2004's 2400 U/mL cannot be compared "
            "(the units are not interconvertible)."
        )
    if row.get("age_days") is None and row.get("hemoglobin_min") is not None:
        warnings.append("Age unknown: the haemoglobin threshold for age >= 4 weeks was used.")
    if row.get("therapy_kind") == "car_t" and row.get(f"{ID}.cytopenias"):
        warnings.append(
            "Cytopenias are expected after lymphodepleting chemotherapy; HLH-2004 was not "
            "derived in CAR T-cell recipients."
        )
    return ScreenResult(
        screen=ID,
        version=VERSION,
        title=TITLE,
        at=row["at"],
        status=status,
        verified=True,
        criteria=outcomes,
        score=met,
        score_bounds=(met, met + unknown),
        cutoff=f">= {NEEDED} of 8 criteria, or a molecular diagnosis consistent with HLH",
        missing=tuple(missing),
        warnings=tuple(warnings),
        parameters=_parameters(params),
        routes={"molecular": molecular_route, "criteria": criteria_route},
    )


def _parameters(params: HLHParameters) -> dict[str, Any]:
    shown = params.to_dict()
    return {
        key: shown[key]
        for key in ("window_hours", "hlh2004_fever_c", "hlh2004_infant_days")
        if key in shown
    }
