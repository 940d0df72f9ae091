"""The grading query as it was before decision 0074, kept verbatim for the identity tests.

``_build_stages`` (each bound over a scale's criteria written out wherever it is read),
``with_graded`` (four column steps a scale), ``grade_results_of`` (the scales' steps one after
another), ``with_crs_activity`` and ``grade_state`` from ``crswatch.scales`` at ``cd5631e``;
only the imports differ.  The evidence of a row (``_result``) is the package's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import polars as pl

from crswatch.scales._api import CRS_ACTIVITY_SCALE, PatientGrades, record_warnings
from crswatch.scales._criteria import Scale
from crswatch.scales._grade import (
    _DEFAULT_DEFINITION,
    _context_applies,
    _flag,
    _result,
    collect_row_wise,
    crs_established,
    documented,
)
from crswatch.scales._registry import CRS_SCALES, select_scales
from crswatch.scales._result import GradeResult
from crswatch.state import CrsDefinition, StateParameters

#: The columns ``_graded`` added to the state, besides each criterion's flag ``__c{i}``.
_GRADED = (
    "__raw_lower",
    "__raw_upper",
    "__gap_from_missing",
    "__context",
    "__lower",
    "__upper",
    "__held",
    "__ambiguous_met",
    "__status",
)


def _build_stages(scale: Scale, crs_definition: CrsDefinition, prefix: str) -> list[list[pl.Expr]]:

    def col(name: str) -> pl.Expr:
        return pl.col(f"{prefix}{name}")

    flags = [col(_flag(i)) for i in range(len(scale.criteria))]
    met = [flag.fill_null(False) for flag in flags]
    unknown = [flag.is_null() for flag in flags]
    pairs = list(zip(met, unknown, scale.criteria, strict=True))
    lower = pl.max_horizontal(
        pl.lit(0), *[pl.when(m).then(c.grade).otherwise(0) for m, _, c in pairs]
    )
    upper_met = pl.max_horizontal(
        pl.lit(0), *[pl.when(m).then(c.upper).otherwise(0) for m, _, c in pairs]
    )
    upper_unknown = pl.max_horizontal(
        pl.lit(0), *[pl.when(u).then(c.upper).otherwise(0) for _, u, c in pairs]
    )
    applies = _context_applies(scale, crs_definition)
    context = crs_established() if applies else pl.lit(None, dtype=pl.Boolean)
    established = col("__context").fill_null(not applies)
    if scale.context_rule == "definition":
        # Not established is a finding of the scale's own definition (grade 0, not a gap).
        upper = pl.when(col("__context").not_()).then(0).otherwise(col("__raw_upper"))
    else:
        upper = col("__raw_upper")
    return [
        [criterion.test.alias(f"{prefix}{_flag(i)}") for i, criterion in enumerate(scale.criteria)],
        [
            lower.alias(f"{prefix}__raw_lower"),
            pl.max_horizontal(upper_met, upper_unknown).alias(f"{prefix}__raw_upper"),
            (upper_unknown > pl.max_horizontal(lower, upper_met)).alias(
                f"{prefix}__gap_from_missing"
            ),
            context.alias(f"{prefix}__context"),
        ],
        [
            pl.when(established).then(col("__raw_lower")).otherwise(0).alias(f"{prefix}__lower"),
            upper.alias(f"{prefix}__upper"),
            (~established & (col("__raw_lower") > 0)).alias(f"{prefix}__held"),
            (upper_met > lower).alias(f"{prefix}__ambiguous_met"),
            (col("__gap_from_missing") | (pl.lit(applies) & col("__context").is_null())).alias(
                f"{prefix}__gap_from_missing"
            ),
        ],
        [
            pl.when(col("__lower") == col("__upper"))
            .then(pl.lit("graded"))
            .when(col("__gap_from_missing") & (col("__held") | col("__ambiguous_met")))
            # Missing data and a wording the findings do not decide: no grade is fixed.
            .then(pl.lit("not_assessable"))
            .when(col("__gap_from_missing"))
            .then(
                pl.when((col("__lower") > 0) | documented(scale).fill_null(False))
                .then(pl.lit("provisional"))
                .otherwise(pl.lit("not_assessable"))
            )
            .otherwise(pl.lit("ambiguous"))
            .alias(f"{prefix}__status")
        ],
    ]


def with_graded(
    state: pl.LazyFrame,
    scale: Scale,
    crs_definition: CrsDefinition = _DEFAULT_DEFINITION,
    *,
    prefix: str = "",
) -> pl.LazyFrame:
    for stage in _build_stages(scale, crs_definition, prefix):
        state = state.with_columns(stage)
    return state


def grade_results_of(
    scales: Sequence[Scale],
    state: pl.DataFrame,
    parameters: dict[str, Any] | None = None,
    *,
    crs_definition: CrsDefinition | None = None,
) -> list[list[GradeResult]]:
    parameters = parameters or {}
    definition: CrsDefinition = crs_definition or parameters.get(
        "crs_definition", _DEFAULT_DEFINITION
    )
    prefixes = [f"__s{index}" for index in range(len(scales))]
    graded = state.lazy()
    for scale, prefix in zip(scales, prefixes, strict=True):
        graded = with_graded(graded, scale, definition, prefix=prefix)
    names = [
        [(f"{prefix}{name}", name) for name in (*_GRADED, *map(_flag, range(len(scale.criteria))))]
        for scale, prefix in zip(scales, prefixes, strict=True)
    ]
    results: list[list[GradeResult]] = [[] for _ in scales]
    for row in collect_row_wise(graded).iter_rows(named=True):
        for index, scale in enumerate(scales):
            # The scale's own columns under the names the evidence reads, over the state's.
            view = row | {name: row[column] for column, name in names[index]}
            results[index].append(_result(scale, view, parameters, definition))
    return results


def with_crs_activity(state: pl.DataFrame) -> pl.DataFrame:
    """The state with ``crs_active``: the ASTCT 2019 CRS grade is at least 1 (its lower bound).

    CRS activity is a graded fact, so it is added here, above the state engine, for the ICANS
    assessment-frequency check.
    """
    # Row by row (the state has one row per patient and time), in one query.
    graded = with_graded(state.lazy(), CRS_SCALES[CRS_ACTIVITY_SCALE], prefix="__activity")
    return collect_row_wise(
        graded.select(*state.columns, (pl.col("__activity__lower") >= 1).alias("crs_active"))
    )


def grade_state(
    state: pl.DataFrame,
    *,
    scales: Sequence[str] | None = None,
    params: StateParameters | None = None,
) -> list[PatientGrades]:
    """Grade every row of a clinical state (``clinical_state``) on the requested scales.

    One :class:`PatientGrades` per ``(patient_id, at)`` row, in the state's order: a caller
    that needs several times of one patient computes the state once (the dashboard, decision
    0024).  ``params`` must be those the state was computed with (they are echoed).
    """
    params = params or StateParameters()
    chosen = select_scales(scales)
    if any(scale.kind == "icans" for scale in chosen):
        state = with_crs_activity(state)
    echoed = params.to_dict()
    per_scale = dict(
        zip(
            (scale.key for scale in chosen),
            zip(chosen, grade_results_of(chosen, state, echoed), strict=True),
            strict=True,
        )
    )
    bounds = ("therapy_start", "first_event_at")
    knows_record = all(column in state.columns for column in bounds)
    rows = state.select("patient_id", "at", *(bounds if knows_record else ())).to_dicts()
    graded = []
    for index, row in enumerate(rows):
        about_time = (
            record_warnings(row["at"], row["therapy_start"], row["first_event_at"])
            if knows_record
            else ()
        )
        by_kind: dict[str, dict[str, GradeResult]] = {"crs": {}, "icans": {}}
        for scale, results in per_scale.values():
            result = results[index]
            if about_time:
                result = replace(result, warnings=(*about_time, *result.warnings))
            by_kind[scale.kind][scale.id] = result
        graded.append(
            PatientGrades(
                patient_id=row["patient_id"],
                at=row["at"],
                crs=by_kind["crs"],
                icans=by_kind["icans"],
                warnings=about_time,
            )
        )
    return graded
