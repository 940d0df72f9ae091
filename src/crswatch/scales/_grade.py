"""Evaluate a scale over a state table: every criterion, then the maximum — never a first match.

For each row: ``lower`` is the highest grade among criteria that are met; ``upper`` the highest
grade any criterion could give (met, or undecidable for missing data, or the ``grade_high`` of an
ambiguous criterion).  ``lower == upper`` is ``graded``.  A gap that missing data open wider than
what is documented is ``provisional`` when the documented findings fix a grade (``lower`` above
0, or the scale's founding findings documented: a temperature, or the fever waiver with a blood
pressure, for CRS; the encephalopathy assessment for ICANS) — the grade is ``lower``, the
result lists the missing inputs and ``upper`` is what they could make it — and
``not_assessable`` when they fix none.  A gap left by the wording of the scale is
``ambiguous``.  All carry the bounds (docs/decisions/0026-fever-waiver-and-provisional-grades.md).

The CRS-context rule (``StateParameters.crs_definition``, docs/decisions/0023-crs-context.md)
then holds every CRS scale below a hard grade until CRS is established at T: an attributable
fever >= 38.0 °C at or after the therapy start and at or before T (the state's ``onset_at``), or
the ASTCT fever waiver (``fever_waived``, which holds in the current CRS episode).  Not
established: the findings are not CRS by the ASTCT
2019 consensus definition, which the older scales' wording does not decide, so ``lower`` is 0
(``ambiguous`` [0, upper]; ASTCT 2019 itself, whose definition it is, grades 0).  Unknown (no
onset, no waiver and no temperature in the fever window): ``not_assessable`` [0, upper].
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from crswatch.scales._compare import compared_thresholds
from crswatch.scales._criteria import Criterion, Scale
from crswatch.scales._missing import describe_missing
from crswatch.scales._result import CRS_CONTEXT_ID, Evidence, GradeResult, Status
from crswatch.state import CrsDefinition

__all__ = [
    "CRS_CONTEXT_INPUTS",
    "INPUT_ITEMS",
    "MISSING_SUFFIX",
    "crs_established",
    "documented",
    "grade_frame",
    "grade_frames",
    "grade_results",
    "grade_results_of",
    "state_columns",
    "thresholds_by_item",
    "with_graded",
]

#: The timeline items behind a measured state column, named in ``missing`` when it is null.
#: Columns not listed here (a waiver time, an onset) may be null as a matter of fact.
_ORGAN_ITEMS = ("alt", "ast", "bilirubin", "creatinine", "fibrinogen", "lvef")
INPUT_ITEMS: dict[str, tuple[str, ...]] = {
    "temp_max_c": ("temperature",),
    "fever": ("temperature",),
    "sbp_min": ("sbp",),
    "hypotension": ("sbp",),
    "o2_flow_l_min": ("o2_flow",),
    "fio2_pct": ("fio2",),
    "fio2_measured_pct": ("fio2",),
    "alt_v4": ("alt",),
    "ast_v4": ("ast",),
    "bilirubin_v4": ("bilirubin",),
    "creatinine_v4": ("creatinine",),
    "transaminitis_v4": ("alt", "ast"),
    "lft_v4": ("alt", "ast", "bilirubin"),
    "organ_tox_v4_max": _ORGAN_ITEMS,
    "organ_tox_v4_max_excl_transaminitis": ("bilirubin", "creatinine", "fibrinogen", "lvef"),
    "ice_score": ("ice_score",),
    "capd_score": ("capd_score",),
    "consciousness": ("consciousness",),
    "icans_path": ("age",),
}


def thresholds_by_item() -> dict[str, tuple[float, ...]]:
    """Per timeline item, every threshold a scale compares a state column made from it with.

    Change-point evaluation (``crswatch.state.evaluation_times``) must tell apart readings on
    either side of each (``{"temperature": (38.0,), ...}``).
    """
    found: dict[str, set[float]] = {}
    for column, item in _READING_COLUMNS.items():
        found.setdefault(item, set()).update(compared_thresholds(column))
    return {item: tuple(sorted(values)) for item, values in found.items() if values}


#: State columns whose value is a reading of an item (a window's extreme or the latest value),
#: so a threshold on the column is a threshold on the item's readings.
_READING_COLUMNS = {
    "temp_max_c": "temperature",
    "sbp_min": "sbp",
    "o2_flow_l_min": "o2_flow",
    "fio2_pct": "fio2",
    "fio2_measured_pct": "fio2",
    "ice_score": "ice_score",
    "capd_score": "capd_score",
}


#: A state column ``{column}_missing`` (a list) names the missing inputs more precisely than
#: ``INPUT_ITEMS`` can (the ICE items not assessed), and is used whenever it is not empty.
MISSING_SUFFIX = "_missing"


#: The state columns the CRS-context rule reads (shown as its evidence values).
CRS_CONTEXT_INPUTS = ("onset_at", "fever_waived", "waiver_at", "temp_max_c")
_CONTEXT_SOURCE = (
    "Lee 2019 (ASTCT), BBMT 25:625, consensus definition of CRS: symptoms 'must include fever at "
    "the onset', following the immune therapy; fever footnote (waiver after anti-cytokine "
    "therapy or corticosteroids)"
)
_CONTEXT_RULE = (
    "CRS is established at T by an attributable fever >= 38.0 °C at or after the therapy start "
    "and at or before T in the current CRS episode, or by antipyretic or anticytokine therapy "
    "given after that onset"
)
_DEFAULT_DEFINITION: CrsDefinition = "astct2019"


def crs_established() -> pl.Expr:
    """Kleene: CRS established at T (True), not (False), or unknown (null).

    True with a fever onset since the therapy start (``onset_at``) or the ASTCT fever waiver
    (``fever_waived``, which the state only sets after that onset, so premedication does not
    count).  Otherwise null when no temperature was measured in the fever window — a fever may
    have gone unrecorded, and missing is not normal — else False.
    """
    return (
        pl.when(pl.col("onset_at").is_not_null() | pl.col("fever_waived").fill_null(False))
        .then(pl.lit(True))
        .when(_temperature_documented().not_())
        .then(pl.lit(None, dtype=pl.Boolean))
        .otherwise(pl.lit(False))
    )


def _temperature_documented() -> pl.Expr:
    """A temperature was charted in the fever window (one charted with another cause counts)."""
    return pl.col("temp_max_c").is_not_null() | (pl.col("temp_max_c_other_n") > 0)


def documented(scale: Scale) -> pl.Expr:
    """Kleene: the findings that found a grade of ``scale`` are documented at T.

    The scale's own ``documented`` expression, else for CRS a temperature in the fever window,
    or, once the fever waiver holds, a blood pressure (ASTCT 2019: fever founds every grade;
    after antipyretic or anticytokine therapy "grading is driven by hypotension and hypoxia").
    """
    if scale.documented is not None:
        return scale.documented
    sbp = pl.col("sbp_min").is_not_null() | (pl.col("sbp_min_other_n") > 0)
    return _temperature_documented() | (pl.col("fever_waived").fill_null(False) & sbp)


def _context_applies(scale: Scale, crs_definition: CrsDefinition) -> bool:
    return crs_definition == "astct2019" and scale.context_rule != "none"


def _flag(index: int) -> str:
    return f"__c{index}"


#: The columns ``_graded`` adds to the state, besides each criterion's flag ``__c{i}``.
_GRADED = (
    "__raw_lower",
    "__upper_met",
    "__upper_unknown",
    "__raw_upper",
    "__gap_from_missing",
    "__context",
    "__lower",
    "__upper",
    "__held",
    "__ambiguous_met",
    "__status",
)


#: Built stages by (scale object, definition, prefix); the scale is kept with them, so an id is
#: never taken for another scale's.
_STAGES: dict[tuple[int, str, str], tuple[Scale, list[list[pl.Expr]]]] = {}


def _graded_stages(
    scale: Scale, crs_definition: CrsDefinition, prefix: str = ""
) -> list[list[pl.Expr]]:
    """The column steps of :func:`with_graded`, their columns named ``{prefix}__...``.

    A prefix per scale lets several scales be graded in one query over the same state.  The
    expressions are built once per scale, rule and prefix and reused (Polars expressions are
    immutable): building them is a fixed cost of every grading call, about 10 ms for the ten
    scales, which the bedside pays at every request.
    """
    key = (id(scale), crs_definition, prefix)
    cached = _STAGES.get(key)
    if cached is None or cached[0] is not scale:
        cached = (scale, _build_stages(scale, crs_definition, prefix))
        _STAGES[key] = cached
    return cached[1]


def _build_stages(scale: Scale, crs_definition: CrsDefinition, prefix: str) -> list[list[pl.Expr]]:

    def col(name: str) -> pl.Expr:
        return pl.col(f"{prefix}{name}")

    # A criterion's flag is True (met), False or null (undecidable); ``when`` takes a null
    # condition as not met, as ``fill_null(False)`` did before.
    flags = [col(_flag(i)) for i in range(len(scale.criteria))]
    pairs = list(zip(flags, scale.criteria, strict=True))
    lower = pl.max_horizontal(
        pl.lit(0), *[pl.when(flag).then(c.grade).otherwise(0) for flag, c in pairs]
    )
    upper_met = pl.max_horizontal(
        pl.lit(0), *[pl.when(flag).then(c.upper).otherwise(0) for flag, c in pairs]
    )
    upper_unknown = pl.max_horizontal(
        pl.lit(0), *[pl.when(flag.is_null()).then(c.upper).otherwise(0) for flag, c in pairs]
    )
    applies = _context_applies(scale, crs_definition)
    context = crs_established() if applies else pl.lit(None, dtype=pl.Boolean)
    established = col("__context").fill_null(not applies)
    # Each bound over the criteria is computed once as a column and read by name after: the
    # query's cost is the size of its expressions, not its one row (decision 0074).
    raw_upper = pl.max_horizontal(col("__upper_met"), col("__upper_unknown"))
    if scale.context_rule == "definition":
        # Not established is a finding of the scale's own definition (grade 0, not a gap).
        upper = pl.when(col("__context").not_()).then(0).otherwise(raw_upper)
    else:
        upper = raw_upper
    return [
        [criterion.test.alias(f"{prefix}{_flag(i)}") for i, criterion in enumerate(scale.criteria)],
        [
            lower.alias(f"{prefix}__raw_lower"),
            upper_met.alias(f"{prefix}__upper_met"),
            upper_unknown.alias(f"{prefix}__upper_unknown"),
            context.alias(f"{prefix}__context"),
        ],
        [
            raw_upper.alias(f"{prefix}__raw_upper"),
            pl.when(established).then(col("__raw_lower")).otherwise(0).alias(f"{prefix}__lower"),
            upper.alias(f"{prefix}__upper"),
            (~established & (col("__raw_lower") > 0)).alias(f"{prefix}__held"),
            (col("__upper_met") > col("__raw_lower")).alias(f"{prefix}__ambiguous_met"),
            (
                (col("__upper_unknown") > pl.max_horizontal(col("__raw_lower"), col("__upper_met")))
                | (pl.lit(applies) & col("__context").is_null())
            ).alias(f"{prefix}__gap_from_missing"),
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
    """The state with every criterion's flag and the bounds and status: the one grading rule.

    ``lower``: the highest grade met; ``upper``: the highest grade any criterion could give
    (met, undecidable, or the ``grade_high`` of an ambiguous criterion).  A gap that missing data
    open wider than what is met is ``provisional`` (documented findings fix ``lower``) or
    ``not_assessable`` (they fix none); any other gap is ``ambiguous``.  Where the
    CRS-context rule applies and CRS is not established at T, ``lower`` is 0 (and, for a scale
    that defines CRS by the rule, ``upper`` too); an unknown context is a gap from missing data.
    ``__raw_lower``/``__raw_upper`` keep the scale's literal bounds, ``__context`` the rule
    (null where it does not apply).  Every added column's name starts with ``prefix``, so
    several scales can be graded in one query.
    """
    for stage in _graded_stages(scale, crs_definition, prefix):
        state = state.with_columns(stage)
    return state


def state_columns(
    scales: Iterable[Scale], *, crs_definition: CrsDefinition = _DEFAULT_DEFINITION
) -> frozenset[str]:
    """The state columns :func:`grade_frame` reads for these scales (issue #16: the state engine
    builds only the parts that give them, so ``--scale astct2019`` builds no neurological or
    organ state)."""
    columns: set[str] = set()
    for scale in scales:
        expressions = [criterion.test for criterion in scale.criteria]
        expressions.append(documented(scale))
        if _context_applies(scale, crs_definition):
            expressions.append(crs_established())
        for expression in expressions:
            columns.update(expression.meta.root_names())
    return frozenset(columns)


def grade_frame(
    scale: Scale, state: pl.DataFrame, *, crs_definition: CrsDefinition = _DEFAULT_DEFINITION
) -> pl.DataFrame:
    """Per state row: ``patient_id, at, kind, scale, grade, status, lower, upper`` (vectorized).

    ``crs_definition`` is ``StateParameters.crs_definition`` (the CRS-context rule).
    """
    return grade_frames([scale], state, crs_definition=crs_definition)


def grade_frames(
    scales: Sequence[Scale],
    state: pl.DataFrame,
    *,
    crs_definition: CrsDefinition = _DEFAULT_DEFINITION,
) -> pl.DataFrame:
    """:func:`grade_frame` of each scale, concatenated in order, from one query."""
    return pl.concat(
        [_grade_rows(scale, state.lazy(), crs_definition) for scale in scales]
    ).collect()


def _grade_rows(scale: Scale, state: pl.LazyFrame, crs_definition: CrsDefinition) -> pl.LazyFrame:
    return with_graded(state, scale, crs_definition).select(
        "patient_id",
        "at",
        pl.lit(scale.kind).alias("kind"),
        pl.lit(scale.id).alias("scale"),
        pl.when(pl.col("__status").is_in(("graded", "provisional")))
        .then(pl.col("__lower"))
        .alias("grade"),
        pl.col("__status").alias("status"),
        pl.col("__lower").alias("lower"),
        pl.col("__upper").alias("upper"),
    )


_PRESSOR_REFS = tuple(
    f"{column}_ref"
    for column in (
        "norepinephrine_ug_min",
        "epinephrine_ug_min",
        "phenylephrine_ug_min",
        "dopamine_ug_kg_min",
        "vasopressin_u_min",
    )
)
_LAB_REFS = {
    "alt": ("alt_ref", "alt_baseline_ref"),
    "ast": ("ast_ref", "ast_baseline_ref"),
    "bilirubin": ("bilirubin_ref", "bilirubin_baseline_ref"),
    "creatinine": ("creatinine_ref", "creatinine_baseline_ref"),
    "fibrinogen": ("fibrinogen_ref", "fibrinogen_baseline_ref"),
    "ejection_fraction": ("lvef_ref", "lvef_baseline_ref"),
    "aki": ("creatinine_ref", "creatinine_baseline_ref", "dialysis_ref"),
    "dialysis": ("dialysis_ref",),
}
#: Derived state columns and the reference columns of the events behind them.
_DERIVED_REFS: dict[str, tuple[str, ...]] = {
    "fever": ("temp_max_c_ref",),
    "hypotension": ("sbp_min_ref",),
    "fever_waived": ("waiver_ref",),
    "waiver_at": ("waiver_ref",),
    "onset_at": ("onset_ref",),
    "fluid_boluses_n": ("fluid_boluses_refs",),
    "coagulopathy_transfusions_n": ("coagulopathy_transfusions_refs",),
    "fio2_pct": ("fio2_measured_pct_ref", "o2_flow_l_min_ref", "o2_device_ref"),
    "positive_pressure": ("o2_device_ref",),
    "invasive_ventilation": ("o2_device_ref",),
    "death_attributable": ("death_ref",),
    **dict.fromkeys(
        (
            "pressors_running",
            "pressors_excl_vasopressin",
            "vasopressin_running",
            "ne_equivalent_ug_min",
            "high_dose_now",
            "high_dose_sustained",
            "high_dose_since",
            "pressor_hours",
        ),
        _PRESSOR_REFS,
    ),
}


def _ref_columns(column: str) -> tuple[str, ...]:
    """The columns holding references to the events behind a state column."""
    if column in _DERIVED_REFS:
        return _DERIVED_REFS[column]
    term, _, version = column.rpartition("_")
    if version in ("v4", "v5"):
        if term in _LAB_REFS:
            return _LAB_REFS[term]
        if term == "transaminitis":
            return _LAB_REFS["alt"] + _LAB_REFS["ast"]
        if term == "lft":
            return _LAB_REFS["alt"] + _LAB_REFS["ast"] + _LAB_REFS["bilirubin"]
    if column.startswith("organ_tox_"):
        return tuple(ref for refs in _LAB_REFS.values() for ref in refs)
    return (f"{column}_ref", f"{column}_refs")


def _evidence(criterion: Criterion, met: bool | None, row: dict[str, Any]) -> Evidence:
    values = {column: row.get(column) for column in criterion.inputs}
    events: list[str] = []
    for column in criterion.inputs:
        for ref_column in _ref_columns(column):
            ref = row.get(ref_column)
            if isinstance(ref, str):
                events.append(ref)
            elif isinstance(ref, list):
                events.extend(str(r) for r in ref)
    return Evidence(
        criterion_id=criterion.id,
        grade=criterion.grade,
        grade_high=criterion.grade_high,
        domain=criterion.domain,
        met=met,
        rule=criterion.source_text,
        source_ref=criterion.source_ref,
        values=values,
        events=tuple(dict.fromkeys(events)),
        note=criterion.note,
    )


def _missing(criterion: Criterion, row: dict[str, Any]) -> list[str]:
    """The measured inputs a criterion could not be decided without."""
    missing: list[str] = []
    for column in criterion.inputs:
        detail = row.get(f"{column}{MISSING_SUFFIX}")
        if isinstance(detail, list) and detail:
            missing.extend(str(item) for item in detail)
        # Only measured inputs can be missing; a null waiver or onset is a fact, and a reading
        # charted with another cause was measured (its value is excluded, not missing).
        elif column in INPUT_ITEMS and row.get(column) is None and not row.get(f"{column}_other_n"):
            missing.extend(INPUT_ITEMS[column])
    return missing


def _warnings(row: dict[str, Any], scale: Scale) -> tuple[str, ...]:
    warnings: list[str] = []
    if scale.warn is not None:
        warnings.extend(scale.warn(row))
    if scale.kind != "crs":
        return tuple(warnings)
    if row.get("age_unknown"):
        warnings.append("age unknown: the adult hypotension threshold (SBP < 90 mm Hg) was used")
    source = row.get("fio2_source")
    if (
        isinstance(source, str)
        and source.startswith("estimated")
        and any("fio2_pct" in c.inputs for c in scale.criteria)
    ):
        warnings.append(f"FiO2 was not measured; it was estimated from the cannula flow ({source})")
    return tuple(warnings)


def _context_evidence(scale: Scale, row: dict[str, Any]) -> Evidence:
    """The CRS-context rule as evidence: not established (met False) or unknown (met None)."""
    established = row["__context"]
    if scale.context_rule == "definition":
        note = (
            f"CRS not established at T: no fever since the therapy start; by {scale.id}'s own "
            "definition of CRS these findings are not CRS"
        )
    else:
        note = (
            "CRS not established at T: no fever since the therapy start (ASTCT 2019 consensus "
            "definition of CRS: fever at onset, following the immune therapy); "
            f"{scale.id}'s wording does not decide whether these findings are CRS"
        )
    if established is None:
        note = (
            "CRS establishment unknown at T: no fever onset since the therapy start on record and "
            "no temperature in the fever window (ASTCT 2019 consensus definition of CRS: fever at "
            "onset, following the immune therapy)"
        )
    events = [row[ref] for ref in ("onset_ref", "waiver_ref", "temp_max_c_ref") if row.get(ref)]
    return Evidence(
        criterion_id=CRS_CONTEXT_ID,
        grade=0,
        grade_high=None,
        domain="fever",
        met=established,
        rule=_CONTEXT_RULE,
        source_ref=_CONTEXT_SOURCE,
        values={column: row.get(column) for column in CRS_CONTEXT_INPUTS},
        events=tuple(str(event) for event in events),
        note=note,
    )


def grade_results(
    scale: Scale,
    state: pl.DataFrame,
    parameters: dict[str, Any] | None = None,
    *,
    crs_definition: CrsDefinition | None = None,
) -> list[GradeResult]:
    """Full results with evidence, one per state row (for the bedside, the CLI and the API).

    ``crs_definition`` (the CRS-context rule) defaults to the echoed ``parameters``' value, so
    the rule graded is the rule reported.
    """
    return grade_results_of([scale], state, parameters, crs_definition=crs_definition)[0]


def grade_results_of(
    scales: Sequence[Scale],
    state: pl.DataFrame,
    parameters: dict[str, Any] | None = None,
    *,
    crs_definition: CrsDefinition | None = None,
) -> list[list[GradeResult]]:
    """:func:`grade_results` of each scale, in order, from one query over the state."""
    parameters = parameters or {}
    definition: CrsDefinition = crs_definition or parameters.get(
        "crs_definition", _DEFAULT_DEFINITION
    )
    prefixes = [f"__s{index}" for index in range(len(scales))]
    graded = state.lazy()
    # Step by step, every scale's columns of one step together: each scale reads only its own
    # prefixed columns, so the steps do not interleave; four column steps instead of four a scale.
    steps = [
        _graded_stages(scale, definition, prefix)
        for scale, prefix in zip(scales, prefixes, strict=True)
    ]
    for step in zip(*steps, strict=True):
        graded = graded.with_columns([column for stage in step for column in stage])
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


def collect_row_wise(query: pl.LazyFrame) -> pl.DataFrame:
    """A grading query (columns computed row by row from the state) run as it is written.

    The query is hundreds of column expressions over a few rows (the bedside grades one): its
    cost is planning, not data.  Unoptimized on the in-memory engine it takes about a fifth
    fewer instructions than optimized on the default engine (131 against 166 million for the
    ten scales at one time, callgrind, docs/decisions/0071); the optimizer has nothing to push
    down in a query that only adds columns, and a common subexpression here is a cell.
    """
    return query.collect(engine="in-memory", optimizations=pl.QueryOptFlags.none())


def _result(
    scale: Scale, row: dict[str, Any], parameters: dict[str, Any], definition: CrsDefinition
) -> GradeResult:
    """One state row's result with its evidence, from the row and its graded columns."""
    low, high = int(row["__lower"]), int(row["__upper"])
    status: Status = row["__status"]
    evidence = []
    missing: dict[str, None] = {}
    warnings = list(_warnings(row, scale))
    ruled_out: dict[str, Evidence] = {}
    for index, criterion in enumerate(scale.criteria):
        met = row[_flag(index)]
        if met is True and (criterion.grade > 0 or criterion.upper > 0):
            evidence.append(_evidence(criterion, True, row))
        elif met is None and criterion.upper > low:
            evidence.append(_evidence(criterion, None, row))
            missing.update(dict.fromkeys(_missing(criterion, row)))
        elif met is False and criterion.grade > 0 and criterion.domain not in ruled_out:
            ruled_out[criterion.domain] = _evidence(criterion, False, row)
    if low == 0 and status in ("graded", "provisional"):
        # A 0 is never silent: per domain, the lowest criterion the findings rule out, with
        # the values that rule it out.
        met_domains = {e.domain for e in evidence if e.met is not False}
        evidence.extend(e for d, e in ruled_out.items() if d not in met_domains)
    # The rule is shown only where it held a grade back: findings that it kept from counting.
    held = row["__context"] is not True and int(row["__raw_upper"]) > 0
    if held and _context_applies(scale, definition):
        context = _context_evidence(scale, row)
        evidence.append(context)
        if context.note is not None:
            warnings.append(context.note)
        if row["__context"] is None:
            missing["temperature"] = None
    described = describe_missing(missing, parameters)
    return GradeResult(
        scale=scale.id,
        version=scale.version,
        at=row["at"],
        grade=low if status in ("graded", "provisional") else None,
        status=status,
        bounds=(low, high),
        evidence=tuple(evidence),
        missing=described,
        warnings=tuple(warnings),
        parameters=parameters,
    )
