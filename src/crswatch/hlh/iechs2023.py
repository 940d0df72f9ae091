"""IEC-HS: immune effector cell-associated HLH-like syndrome (Hines et al., ASTCT 2023).

Citation: Hines MR, Knight TE, McNerney KO, et al. Immune effector cell-associated
hemophagocytic lymphohistiocytosis-like syndrome.  Transplant Cell Ther 2023;29(7):438.e1-16.
doi:10.1016/j.jtct.2023.03.006.  **Unverified**: only the term and its framing were verified
(shared/spec/clinical-criteria.md §3.4 [V]); the criteria below are recalled [R] and could not
be checked against the paper (§9).  Every row is tagged ``R`` and the result has
``verified: false``; this is a clearly labelled rule set, not the published table.

Rows (each [R]):

A. Ferritin > 2 x ULN or > 2 x the baseline at the time of infusion ("and/or rapidly rising").
B. Onset with resolving CRS or a worsening inflammatory response after initial improvement with
   CRS-directed therapy.
C. At least one of: haemophagocytosis in marrow or tissue; new or worsening cytopenias;
   coagulopathy with hypofibrinogenaemia (< 150 mg/dL); elevated transaminases; elevated LDH.

Interpretations (numbered; docs/decisions/0011-hlh-screens.md):

1. ULN is the result's own ``ref_high`` (ferritin has no default: reference ranges differ
   tenfold between children and adults); ALT, AST and LDH fall back on
   ``HLHParameters.default_uln`` and say so.  Baseline: the last result in
   [therapy_start - baseline_window, therapy_start].  The factor is
   ``iechs_ferritin_factor`` (2).
2. "Rapidly rising" has no definition in the available sources and is not evaluated; ferritin
   kinetics (doubling time) are reported by ``crswatch biomarkers``.
3. B is a judgement of the clinical course: it comes from ``SupplementaryFindings.iechs_timing``.
   With ``iechs_temporal_rule="after_crs_therapy"`` a labelled crswatch proxy also counts it met
   when an anti-cytokine drug (tocilizumab, siltuximab, anakinra) was given before the ferritin
   result of A (never "not met": resolving CRS needs no drug).  Corticosteroids are left out of
   the proxy: they are given as premedication (blinatumomab).
4. "New or worsening cytopenias" (labelled rule): the lowest haemoglobin, platelets or ANC in the
   window is below its LLN and below its pre-therapy baseline.
5. Elevated means above the ULN (> 1 x ULN); hypofibrinogenaemia < 150 mg/dL as recalled.
6. The IEC-HS severity grading (1-5) is made of clinical descriptions (bleeding, transfusion,
   intubation) and is not computed.
"""

from __future__ import annotations

import polars as pl

from crswatch.hlh._criteria import Criterion, Part, finding, threshold
from crswatch.hlh._params import HLHParameters
from crswatch.hlh._result import ScreenResult
from crswatch.hlh._screen import Row, all_of, all_of_status, columns_for
from crswatch.scales._compare import compare

__all__ = ["ID", "TITLE", "VERSION", "columns", "criteria", "decide", "status"]

ID = "iechs"
VERSION = "Hines 2023 (recalled, unverified)"
TITLE = "IEC-HS (immune effector cell-associated HLH-like syndrome)"
_REF = (
    "Hines et al., Transplant Cell Ther 2023 (ASTCT IEC-HS), criteria as recalled: not "
    "verified against the publication"
)


def _ratio(column: str, limit: str) -> pl.Expr:
    return pl.col(column) / pl.col(limit)


def _lineage(name: str) -> pl.Expr:
    below_lln = compare(_ratio(f"{name}_min", f"{name}_min_lln"), "<", 1.0)
    below_baseline = compare(_ratio(f"{name}_min", f"{name}_baseline"), "<", 1.0)
    return below_lln & below_baseline


def criteria(params: HLHParameters | None = None) -> tuple[Criterion, ...]:
    params = params or HLHParameters()
    factor = params.iechs_ferritin_factor
    timing = compare("iechs_timing", "==", 1.0)
    if params.iechs_temporal_rule == "after_crs_therapy":
        proxy = pl.when(pl.col("anti_cytokine_first_time") < pl.col("ferritin_max_time")).then(
            pl.lit(True)
        )
        timing = pl.coalesce(timing, proxy)
    lineages = _lineage("hemoglobin") | _lineage("platelets") | _lineage("anc")
    transaminases = compare(_ratio("ast_max", "ast_max_uln"), ">", 1.0) | compare(
        _ratio("alt_max", "alt_max_uln"), ">", 1.0
    )
    return (
        Criterion(
            id="ferritin",
            label=f"Ferritin > {factor:g} x ULN or > {factor:g} x baseline",
            parts=(
                Part(
                    id="x_uln",
                    test=compare(_ratio("ferritin_max", "ferritin_max_uln"), ">", factor),
                    inputs=("ferritin_max",),
                    text=f"> {factor:g} x ULN (the result's ref_high)",
                ),
                Part(
                    id="x_baseline",
                    test=compare(_ratio("ferritin_max", "ferritin_baseline"), ">", factor),
                    inputs=("ferritin_max", "ferritin_baseline"),
                    text=f"> {factor:g} x the pre-infusion baseline",
                ),
            ),
            need=1,
            wording="elevated ferritin (>2x ULN or >2x baseline at time of infusion) and/or "
            "rapidly rising",
            source_ref=_REF,
            tag="R",
            note="'Rapidly rising' is not evaluated (interpretation 2).",
        ),
        Criterion(
            id="timing",
            label="Onset with resolving CRS or worsening after initial improvement",
            parts=(
                Part(
                    id="timing",
                    test=timing,
                    inputs=("iechs_timing",),
                    shown=("anti_cytokine_first_time",),
                    text="clinician's judgement"
                    + (
                        " (or proxy: anti-cytokine drug before the ferritin result)"
                        if params.iechs_temporal_rule == "after_crs_therapy"
                        else ""
                    ),
                ),
            ),
            need=1,
            wording="onset with resolving CRS or worsening inflammatory response after initial "
            "improvement with CRS-directed therapy",
            source_ref=_REF,
            tag="R",
            note="SupplementaryFindings.iechs_timing (interpretation 3).",
        ),
        Criterion(
            id="features",
            label="At least one HLH-like feature",
            parts=(
                finding("hemophagocytosis", "hemophagocytosis", "in bone marrow or tissue"),
                Part(
                    id="cytopenias",
                    test=lineages,
                    inputs=(
                        "hemoglobin_min",
                        "hemoglobin_baseline",
                        "platelets_min",
                        "platelets_baseline",
                        "anc_min",
                        "anc_baseline",
                    ),
                    text="new or worsening: below the LLN and below the baseline (labelled rule)",
                ),
                threshold(
                    "hypofibrinogenemia", "fibrinogen_min", "fibrinogen", "<", 150.0, "mg/dL"
                ),
                Part(
                    id="transaminases",
                    test=transaminases,
                    inputs=("ast_max", "alt_max"),
                    text="ALT or AST > ULN",
                ),
                Part(
                    id="ldh",
                    test=compare(_ratio("ldh_max", "ldh_max_uln"), ">", 1.0),
                    inputs=("ldh_max",),
                    text="> ULN",
                ),
            ),
            need=1,
            wording="hemophagocytosis in bone marrow or tissue; new or worsening cytopenias; "
            "coagulopathy with hypofibrinogenemia (<150 mg/dL); elevated transaminases; "
            "elevated LDH",
            source_ref=_REF,
            tag="R",
        ),
    )


def columns(params: HLHParameters) -> list[pl.Expr]:
    return columns_for(ID, criteria(params))


def status(params: HLHParameters) -> pl.Expr:
    """``decide``'s status as a column over :func:`columns` (the ward shows only the status)."""
    return all_of_status(ID, criteria(params))


def decide(row: Row, params: HLHParameters) -> ScreenResult:
    """The IEC-HS result (labelled, unverified) of one row of the inputs frame."""
    outcomes, status, missing = all_of(row, ID, criteria(params))
    warnings = [
        "IEC-HS criteria are recalled, not verified against Hines et al. 2023: "
        "labelled rules, not the published table.",
    ]
    if row.get("ferritin_max") is not None and row.get("ferritin_max_uln") is None:
        warnings.append("Ferritin has no reference range (ref_high): the x ULN route is open.")
    return ScreenResult(
        screen=ID,
        version=VERSION,
        title=TITLE,
        at=row["at"],
        status=status,
        verified=False,
        criteria=outcomes,
        cutoff="ferritin criterion and timing criterion and >= 1 feature",
        missing=tuple(missing),
        warnings=tuple(warnings),
        parameters={
            "window_hours": params.window.total_seconds() / 3600,
            "baseline_window_hours": params.baseline_window.total_seconds() / 3600,
            "iechs_ferritin_factor": params.iechs_ferritin_factor,
            "iechs_temporal_rule": params.iechs_temporal_rule,
            "default_uln": dict(params.default_uln),
            "default_lln": dict(params.default_lln),
        },
    )
