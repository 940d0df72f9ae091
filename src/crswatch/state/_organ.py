"""Organ-toxicity grades (CTCAE v4.03 and v5.0) from laboratory results at T.

Source: shared/spec/clinical-criteria.md §1.4, read in the NCI term spreadsheets (CTCAE v4.03
and v5.0, "Investigations" and "Renal and urinary disorders").  The CRS scales use these grades:
Lee 2014 ("grade 2 organ toxicity", "grade 3 organ toxicity or grade 4 transaminitis", "grade 4
organ toxicity (excluding transaminitis)", §1.5), Penn and UPENN/CHOP ("grade 2 creatinine or
grade 3 LFTs", "grade 4 LFTs or grade 3 creatinine", §1.6) and CARTOX (§1.8).  The thresholds
are the rows of :data:`ORGAN_CRITERIA` (operator as CTCAE writes it, basis, CTCAE wording);
:func:`meets` is the one comparison; a grade is the highest grade whose criterion holds, never a
first-match ladder.  The reasons are in docs/decisions/0006-organ-toxicity.md.

Columns (grades are Int8 0-4, null when nothing could be graded: missing is never 0):

- per term and version: ``alt_v4``, ``ast_v4``, ``bilirubin_v4``, ``creatinine_v4``,
  ``fibrinogen_v4``, ``ejection_fraction_v4``, ``aki_v4`` and the same with ``_v5``;
  ``dialysis_v4`` (AKI grade 4 "dialysis indicated": 4 when recorded in the window, else 0, as
  for every intervention) with ``dialysis_ref``.
- per lab (``alt``, ``ast``, ``bilirubin``, ``creatinine``, ``fibrinogen``, ``lvef``): the
  worst result (``alt_u_l``, ``ast_u_l``, ``bilirubin_mg_dl``, ``creatinine_mg_dl``,
  ``fibrinogen_mg_dl``, ``lvef_pct``) with ``_time`` and ``_ref``; the limit it was graded against
  (``_uln``/``_lln``, ``_uln_source``/``_lln_source``: ``reference_range`` or ``default``) and
  the ratio (``_x_uln``/``_x_lln``); the baseline (``_baseline``, ``_baseline_ref``,
  ``_baseline_source``: ``pre_therapy`` or ``none``; ``_baseline_abnormal`` where v5 asks) and
  the change from it (``_x_baseline``, ``creatinine_increase_mg_dl``,
  ``fibrinogen_decrease_pct``, ``lvef_drop_points``).  Ratios are rounded to 9 decimals, as
  compared.
- per version: ``transaminitis_v4`` (ALT, AST), ``lft_v4`` (ALT, AST, bilirubin),
  ``organ_tox_v4_max`` (every term), ``organ_tox_v4_max_excl_transaminitis`` (every term but
  ALT and AST), each the highest *known* grade; ``organ_tox_v4_missing`` (terms without a grade
  and baselines the version's criteria use but that are unknown) and ``organ_tox_v4_complete``
  (nothing missing: the maximum is a full assessment, not a bound); the same with ``_v5``.

Interpretation choices (numbered as in the decision record):

1. Worst result: every attributable result (``cause: other`` excluded) in
   ``[T - lab_window, T]`` is graded on its own and the term's grade is the highest.  The
   result reported is the one that set the v4 grade (ties: v5 grade, then the larger ratio to
   the ULN (increases) or smaller value or ratio to the LLN (decreases), then the latest).
   Results before the therapy start count too: this is the state at T; onset is the scales'.
2. Limits: a result's own ``ref_high`` (``ref_low`` for fibrinogen), else
   ``params.default_uln`` / ``default_lln``, and the columns say which.  With neither, the
   result is not graded (null), never taken as normal.
3. Baseline: the last result of the same lab, whatever its ``cause`` (attribution concerns
   findings after the therapy, and before it nothing is CRS), in ``[therapy_start -
   lab_baseline_window, therapy_start]``.  No fallback to a result after the therapy start: it
   may already carry the toxicity, and a raised baseline lowers every "x baseline" grade and,
   in v5, switches the liver terms to the baseline route (an understated toxicity).  A baseline
   is used only for results measured after it and shown only at or after its time.
4. Criteria joined by ";" or "or" are alternatives: the grade is the highest over those that can
   be evaluated (a route needing an unknown baseline cannot).  v5 ALT, AST and bilirubin are
   *conditional* ("x ULN if baseline was normal; x baseline if baseline was abnormal"), as is
   the v5 fibrinogen decrease ("if abnormal": a baseline below the LLN); abnormal means above
   the baseline result's ULN (below its LLN).  With no baseline, the normal-baseline (x ULN)
   criteria apply: an abnormal baseline could only lower the grade, so this is the safe side,
   and the missing baseline is listed in ``organ_tox_v5_missing``.
5. Boundaries as printed: ">3.0 - 5.0 x ULN" starts above 3.0; an unprefixed lower bound is
   inclusive ("1.5 - 3.0 x baseline", "Cr 1.5 - 2.0 x baseline", "25 - <50% decrease", "75%
   decrease").  Overlaps go to the higher grade (AKI "1.5 - 2.0" and "2 - 3": 2.0 is grade 2).
   Gaps: EF "50 - 40%" and "39 - 20%" are read on the whole-number scale EF is reported on (G2
   <= 50, G3 < 40); the v4 EF drop "10 - 19%" / ">20%" leaves exactly 20 in grade 2 (v5 writes
   ">=20%").  Ratios and differences are rounded to 9 decimals before the comparison.
6. v4.03 literal readings kept: creatinine ">1 - 1.5 x baseline" (any rise above baseline) and
   fibrinogen "<25% decrease from baseline" (any fall) are grade 1.
7. EF drop from baseline is in absolute percentage points (60 % to 48 % is a 12-point drop).
8. AKI v4: G1 "increase of >0.3 mg/dL" over the baseline or >= 1.5 x baseline, G2 >= 2 x, G3
   > 3 x or > 4.0 mg/dL, G4 dialysis.  AKI v5 has no laboratory criterion: G3 "hospitalization
   indicated", G4 "dialysis indicated", so it is 4 with dialysis, else 0.  In both versions
   "hospitalization indicated" and "life-threatening" are clinical judgements no data carry,
   and are not graded (every CAR T patient is in hospital).  AKI is graded when the kidney was
   assessed (a creatinine in the window, or dialysis), else null.
9. Dialysis is an intervention, recorded when given (decision 0005 §3): an attributable
   ``true`` record overlapping the window (``time <= T`` and ``end``, else ``time``, ``>= T -
   lab_window``) gives ``dialysis_v4`` 4, anything else 0 (``cause: other``, e.g. chronic
   dialysis for end-stage renal disease, does not count).
10. Organ toxicity for the CRS scales: liver (ALT, AST, bilirubin), kidney (creatinine, AKI),
    coagulation (fibrinogen) and heart (ejection fraction).  Not cytopenias: lymphodepletion
    makes grade 3-4 cytopenias expected in nearly every patient, so counting them would make
    nearly every patient Lee grade 4; nor ALP or GGT (no scale names them; add rows to extend).
11. Censored results (``below_lod``, ``above_uloq``) are graded at their limit, a bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Literal

import polars as pl

from crswatch.state._common import KEYS, event_ref
from crswatch.state._parameters import StateParameters

__all__ = [
    "ORGAN_CRITERIA",
    "ORGAN_ITEMS",
    "OrganCriterion",
    "meets",
    "organ_points",
    "organ_state",
]

Version = Literal["v4.03", "v5.0"]
Operator = Literal[">", ">=", "<", "<="]
#: What a threshold is compared with: the result over its ULN or LLN, over the baseline, the
#: result itself, its fall from baseline in % or points, its rise in mg/dL, or a dialysis record
#: (1 when dialysis is recorded in the window).
Basis = Literal[
    "uln",
    "lln",
    "baseline",
    "absolute",
    "decrease_pct",
    "increase_from_baseline",
    "drop_from_baseline",
    "dialysis",
]
#: When a criterion applies: always, or only for a normal (or unknown) or abnormal baseline.
Condition = Literal["any", "baseline_normal", "baseline_abnormal"]

#: Ratios and differences are rounded to this many decimals before any comparison, so that
#: 3.0000000000000004 from float division does not cross a "> 3.0" boundary.
DECIMALS = 9


@dataclass(frozen=True, slots=True)
class OrganCriterion:
    """One CTCAE clause: ``measure(basis) operator threshold`` gives at least ``grade``."""

    term: str
    version: Version
    grade: int
    operator: Operator
    threshold: float
    basis: Basis
    wording: str
    condition: Condition = "any"


def _liver_rows(term: str) -> tuple[OrganCriterion, ...]:
    # ALT and AST are two CTCAE terms with the same criteria.
    c = OrganCriterion
    # fmt: off
    return (
        c(term, "v4.03", 1, ">", 1.0, "uln", ">ULN - 3.0 x ULN"),
        c(term, "v4.03", 2, ">", 3.0, "uln", ">3.0 - 5.0 x ULN"),
        c(term, "v4.03", 3, ">", 5.0, "uln", ">5.0 - 20.0 x ULN"),
        c(term, "v4.03", 4, ">", 20.0, "uln", ">20.0 x ULN"),
        c(term, "v5.0", 1, ">", 1.0, "uln", ">ULN - 3.0 x ULN if baseline was normal",
          "baseline_normal"),
        c(term, "v5.0", 1, ">=", 1.5, "baseline", "1.5 - 3.0 x baseline if baseline was abnormal",
          "baseline_abnormal"),
        c(term, "v5.0", 2, ">", 3.0, "uln", ">3.0 - 5.0 x ULN if baseline was normal",
          "baseline_normal"),
        c(term, "v5.0", 2, ">", 3.0, "baseline", ">3.0 - 5.0 x baseline if baseline was abnormal",
          "baseline_abnormal"),
        c(term, "v5.0", 3, ">", 5.0, "uln", ">5.0 - 20.0 x ULN if baseline was normal",
          "baseline_normal"),
        c(term, "v5.0", 3, ">", 5.0, "baseline",
          ">5.0 - 20.0 x baseline if baseline was abnormal", "baseline_abnormal"),
        c(term, "v5.0", 4, ">", 20.0, "uln", ">20.0 x ULN if baseline was normal",
          "baseline_normal"),
        c(term, "v5.0", 4, ">", 20.0, "baseline", ">20.0 x baseline if baseline was abnormal",
          "baseline_abnormal"),
    )
    # fmt: on


_C = OrganCriterion
#: CTCAE v4.03 and v5.0 organ-toxicity criteria (clinical-criteria.md §1.4), one row per clause.
# fmt: off
ORGAN_CRITERIA: tuple[OrganCriterion, ...] = (
    *_liver_rows("alt"),
    *_liver_rows("ast"),
    # Blood bilirubin increased
    _C("bilirubin", "v4.03", 1, ">", 1.0, "uln", ">ULN - 1.5 x ULN"),
    _C("bilirubin", "v4.03", 2, ">", 1.5, "uln", ">1.5 - 3.0 x ULN"),
    _C("bilirubin", "v4.03", 3, ">", 3.0, "uln", ">3.0 - 10.0 x ULN"),
    _C("bilirubin", "v4.03", 4, ">", 10.0, "uln", ">10.0 x ULN"),
    _C("bilirubin", "v5.0", 1, ">", 1.0, "uln", ">ULN - 1.5 x ULN if baseline was normal",
       "baseline_normal"),
    _C("bilirubin", "v5.0", 1, ">", 1.0, "baseline",
       "> 1.0 - 1.5 x baseline if baseline was abnormal", "baseline_abnormal"),
    _C("bilirubin", "v5.0", 2, ">", 1.5, "uln", ">1.5 - 3.0 x ULN if baseline was normal",
       "baseline_normal"),
    _C("bilirubin", "v5.0", 2, ">", 1.5, "baseline",
       ">1.5 - 3.0 x baseline if baseline was abnormal", "baseline_abnormal"),
    _C("bilirubin", "v5.0", 3, ">", 3.0, "uln", ">3.0 - 10.0 x ULN if baseline was normal",
       "baseline_normal"),
    _C("bilirubin", "v5.0", 3, ">", 3.0, "baseline",
       ">3.0 - 10.0 x baseline if baseline was abnormal", "baseline_abnormal"),
    _C("bilirubin", "v5.0", 4, ">", 10.0, "uln", ">10.0 x ULN if baseline was normal",
       "baseline_normal"),
    _C("bilirubin", "v5.0", 4, ">", 10.0, "baseline",
       ">10.0 x baseline if baseline was abnormal", "baseline_abnormal"),
    # Creatinine increased
    _C("creatinine", "v4.03", 1, ">", 1.0, "baseline", ">1 - 1.5 x baseline"),
    _C("creatinine", "v4.03", 1, ">", 1.0, "uln", ">ULN - 1.5 x ULN"),
    _C("creatinine", "v4.03", 2, ">", 1.5, "baseline", ">1.5 - 3.0 x baseline"),
    _C("creatinine", "v4.03", 2, ">", 1.5, "uln", ">1.5 - 3.0 x ULN"),
    _C("creatinine", "v4.03", 3, ">", 3.0, "baseline", ">3.0 baseline"),
    _C("creatinine", "v4.03", 3, ">", 3.0, "uln", ">3.0 - 6.0 x ULN"),
    _C("creatinine", "v4.03", 4, ">", 6.0, "uln", ">6.0 x ULN"),
    _C("creatinine", "v5.0", 1, ">", 1.0, "uln", ">ULN - 1.5 x ULN"),
    _C("creatinine", "v5.0", 2, ">", 1.5, "baseline", ">1.5 - 3.0 x baseline"),
    _C("creatinine", "v5.0", 2, ">", 1.5, "uln", ">1.5 - 3.0 x ULN"),
    _C("creatinine", "v5.0", 3, ">", 3.0, "baseline", ">3.0 x baseline"),
    _C("creatinine", "v5.0", 3, ">", 3.0, "uln", ">3.0 - 6.0 x ULN"),
    _C("creatinine", "v5.0", 4, ">", 6.0, "uln", ">6.0 x ULN"),
    # Acute kidney injury (creatinine rows graded per result; dialysis per evaluation time)
    _C("aki", "v4.03", 1, ">", 0.3, "increase_from_baseline",
       "Creatinine level increase of >0.3 mg/dL"),
    _C("aki", "v4.03", 1, ">=", 1.5, "baseline", "creatinine 1.5 - 2.0 x above baseline"),
    _C("aki", "v4.03", 2, ">=", 2.0, "baseline", "Creatinine 2 - 3 x above baseline"),
    _C("aki", "v4.03", 3, ">", 3.0, "baseline", "Creatinine >3 x baseline"),
    _C("aki", "v4.03", 3, ">", 4.0, "absolute", "or >4.0 mg/dL"),
    _C("aki", "v4.03", 4, ">=", 1.0, "dialysis",
       "Life-threatening consequences; dialysis indicated"),
    _C("aki", "v5.0", 4, ">=", 1.0, "dialysis",
       "Life-threatening consequences; dialysis indicated"),
    # Fibrinogen decreased
    _C("fibrinogen", "v4.03", 1, "<", 1.0, "lln", "<1.0 - 0.75 x LLN"),
    _C("fibrinogen", "v4.03", 1, ">", 0.0, "decrease_pct", "or <25% decrease from baseline"),
    _C("fibrinogen", "v4.03", 2, "<", 0.75, "lln", "<0.75 - 0.5 x LLN"),
    _C("fibrinogen", "v4.03", 2, ">=", 25.0, "decrease_pct", "or 25 - <50% decrease from baseline"),
    _C("fibrinogen", "v4.03", 3, "<", 0.5, "lln", "<0.5 - 0.25 x LLN"),
    _C("fibrinogen", "v4.03", 3, ">=", 50.0, "decrease_pct", "or 50 - <75% decrease from baseline"),
    _C("fibrinogen", "v4.03", 4, "<", 0.25, "lln", "<0.25 x LLN"),
    _C("fibrinogen", "v4.03", 4, ">=", 75.0, "decrease_pct", "or 75% decrease from baseline"),
    _C("fibrinogen", "v4.03", 4, "<", 50.0, "absolute", "or absolute value <50 mg/dL"),
    _C("fibrinogen", "v5.0", 1, "<", 1.0, "lln", "<1.0 - 0.75 x LLN"),
    _C("fibrinogen", "v5.0", 1, ">", 0.0, "decrease_pct",
       "if abnormal, <25% decrease from baseline", "baseline_abnormal"),
    _C("fibrinogen", "v5.0", 2, "<", 0.75, "lln", "<0.75 - 0.5 x LLN"),
    _C("fibrinogen", "v5.0", 2, ">=", 25.0, "decrease_pct",
       "if abnormal, 25 - <50% decrease from baseline", "baseline_abnormal"),
    _C("fibrinogen", "v5.0", 3, "<", 0.5, "lln", "<0.5 - 0.25 x LLN"),
    _C("fibrinogen", "v5.0", 3, ">=", 50.0, "decrease_pct",
       "if abnormal, 50 - <75% decrease from baseline", "baseline_abnormal"),
    _C("fibrinogen", "v5.0", 4, "<", 0.25, "lln", "<0.25 x LLN"),
    _C("fibrinogen", "v5.0", 4, ">=", 75.0, "decrease_pct",
       "if abnormal, 75% decrease from baseline", "baseline_abnormal"),
    _C("fibrinogen", "v5.0", 4, "<", 50.0, "absolute", "absolute value <50 mg/dL"),
    # Ejection fraction decreased (no grade 1)
    _C("ejection_fraction", "v4.03", 2, "<=", 50.0, "absolute",
       "Resting ejection fraction (EF) 50 - 40%"),
    _C("ejection_fraction", "v4.03", 2, ">=", 10.0, "drop_from_baseline",
       "10 - 19% drop from baseline"),
    _C("ejection_fraction", "v4.03", 3, "<", 40.0, "absolute",
       "Resting ejection fraction (EF) 39 - 20%"),
    _C("ejection_fraction", "v4.03", 3, ">", 20.0, "drop_from_baseline",
       ">20% drop from baseline"),
    _C("ejection_fraction", "v4.03", 4, "<", 20.0, "absolute",
       "Resting ejection fraction (EF) <20%"),
    _C("ejection_fraction", "v5.0", 2, "<=", 50.0, "absolute",
       "Resting ejection fraction (EF) 50 - 40%"),
    _C("ejection_fraction", "v5.0", 2, ">=", 10.0, "drop_from_baseline",
       "10 - 19% drop from baseline"),
    _C("ejection_fraction", "v5.0", 3, "<", 40.0, "absolute",
       "Resting ejection fraction (EF) 39 - 20%"),
    _C("ejection_fraction", "v5.0", 3, ">=", 20.0, "drop_from_baseline",
       ">=20% drop from baseline"),
    _C("ejection_fraction", "v5.0", 4, "<", 20.0, "absolute",
       "Resting ejection fraction (EF) <20%"),
)
# fmt: on

_SUFFIX: dict[Version, str] = {"v4.03": "v4", "v5.0": "v5"}
_GRADE = pl.Int8


@dataclass(frozen=True, slots=True)
class _Lab:
    """A laboratory item graded by one CTCAE term."""

    term: str  # the grade columns' stem
    item: str  # the event item
    unit: str  # the value column's unit suffix
    limit: Literal["uln", "lln"] | None
    baseline_change: str  # the column for the change from baseline
    change_basis: Basis

    @property
    def increases(self) -> bool:
        return self.limit == "uln"


_LABS = (
    _Lab("alt", "alt", "u_l", "uln", "alt_x_baseline", "baseline"),
    _Lab("ast", "ast", "u_l", "uln", "ast_x_baseline", "baseline"),
    _Lab("bilirubin", "bilirubin", "mg_dl", "uln", "bilirubin_x_baseline", "baseline"),
    _Lab("creatinine", "creatinine", "mg_dl", "uln", "creatinine_x_baseline", "baseline"),
    _Lab("fibrinogen", "fibrinogen", "mg_dl", "lln", "fibrinogen_decrease_pct", "decrease_pct"),
    _Lab("ejection_fraction", "lvef", "pct", None, "lvef_drop_points", "drop_from_baseline"),
)
_ITEMS = tuple(lab.item for lab in _LABS)
#: The laboratory items organ toxicity is graded from (their window expiry moves the state).
ORGAN_ITEMS = _ITEMS
#: Terms in the summaries, and the ones that are transaminitis.
_TERMS = (*(lab.term for lab in _LABS), "aki")
_TRANSAMINITIS = ("alt", "ast")
_LFT = ("alt", "ast", "bilirubin")
_BASELINE_ITEM = {"aki": "creatinine"} | {lab.term: lab.item for lab in _LABS}

#: The per-result column each basis reads.
_MEASURE: dict[Basis, str] = {
    "uln": "_x_uln",
    "lln": "_x_lln",
    "baseline": "_x_baseline",
    "absolute": "value_num",
    "decrease_pct": "_decrease_pct",
    "increase_from_baseline": "_increase",
    "drop_from_baseline": "_drop",
    "dialysis": "_dialysis",
}
_BASELINE_BASES: frozenset[Basis] = frozenset(
    {"baseline", "decrease_pct", "increase_from_baseline", "drop_from_baseline"}
)


def meets(measure: pl.Expr, operator: Operator, threshold: float) -> pl.Expr:
    """``measure operator threshold`` after rounding to :data:`DECIMALS` (null stays null)."""
    value = measure.round(DECIMALS)
    if operator == ">":
        return value > threshold
    if operator == ">=":
        return value >= threshold
    if operator == "<":
        return value < threshold
    return value <= threshold


def _rows(term: str, version: Version, *, dialysis: bool) -> list[OrganCriterion]:
    return [
        row
        for row in ORGAN_CRITERIA
        if row.term == term and row.version == version and (row.basis == "dialysis") == dialysis
    ]


def _applies(condition: Condition) -> pl.Expr:
    abnormal = pl.col("_abnormal").fill_null(False)  # unknown baseline: normal-baseline rows
    if condition == "baseline_abnormal":
        return abnormal
    if condition == "baseline_normal":
        return ~abnormal
    return pl.lit(True)


@cache
def _grade_of(term: str, version: Version, *, dialysis: bool) -> pl.Expr:
    """``_grade`` of a term's criteria, built once (expressions are immutable; building the
    organ state's some hundred of them is a fixed cost of every state computation)."""
    return _grade(_rows(term, version, dialysis=dialysis))


def _grade(rows: list[OrganCriterion]) -> pl.Expr:
    """The highest grade among ``rows`` that hold, 0 when none does."""
    met = [
        pl.when(
            _applies(row.condition)
            & meets(pl.col(_MEASURE[row.basis]), row.operator, row.threshold)
        ).then(pl.lit(row.grade, _GRADE))
        for row in rows
    ]
    return pl.max_horizontal(met).fill_null(0).cast(_GRADE)


def _uses_baseline(term: str, version: Version) -> bool:
    return any(
        row.basis in _BASELINE_BASES or row.condition != "any"
        for row in ORGAN_CRITERIA
        if row.term == term and row.version == version
    )


def _conditional(term: str) -> bool:
    """Whether some criterion of ``term`` depends on the baseline being normal or abnormal."""
    return any(row.condition != "any" for row in ORGAN_CRITERIA if row.term == term)


def _by_item(values: dict[str, pl.Expr]) -> pl.Expr:
    """``values[item]`` for each event's item (null for other items)."""
    return pl.coalesce([pl.when(pl.col("item") == item).then(v) for item, v in values.items()])


def _limits(params: StateParameters) -> tuple[pl.Expr, pl.Expr]:
    """Each result's ULN (or LLN for decreases) and where it came from."""
    return _limits_of(_frozen(params.default_uln), _frozen(params.default_lln))


def _frozen(limits: dict[str, float]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted(limits.items()))


#: The expressions below depend on the parameters only (never on the data): built once per
#: parameters and reused, as Polars expressions are immutable; building them was a fixed cost
#: of every state computation (decision 0074).
@cache
def _limits_of(
    default_uln: tuple[tuple[str, float], ...], default_lln: tuple[tuple[str, float], ...]
) -> tuple[pl.Expr, pl.Expr]:
    limits: dict[str, pl.Expr] = {}
    sources: dict[str, pl.Expr] = {}
    for lab in _LABS:
        if lab.limit is None:
            continue
        own = pl.col("ref_high" if lab.limit == "uln" else "ref_low")
        own = pl.when(own > 0).then(own)
        defaults = dict(default_uln if lab.limit == "uln" else default_lln)
        default = pl.lit(defaults.get(lab.item), pl.Float64)
        limits[lab.item] = pl.coalesce(own, default)
        sources[lab.item] = (
            pl.when(own.is_not_null())
            .then(pl.lit("reference_range"))
            .when(default.is_not_null())
            .then(pl.lit("default"))
        )
    return _by_item(limits), _by_item(sources)


def _baselines(
    events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    """Per patient and lab: the last result in [therapy_start - window, therapy_start]."""
    limit, _ = _limits(params)
    return (
        events.filter(pl.col("item").is_in(_ITEMS) & pl.col("value_num").is_not_null())
        .join(patients.select("patient_id", "therapy_start"), on="patient_id")
        .filter(
            (pl.col("time") <= pl.col("therapy_start"))
            & (pl.col("time") >= pl.col("therapy_start") - params.lab_baseline_window)
        )
        .with_columns(_ref=event_ref(), _limit=limit)
        .sort("time")
        .group_by("patient_id", "item")
        .agg(
            pl.col("value_num").last().alias("_baseline"),
            pl.col("time").last().alias("_baseline_time"),
            pl.col("_ref").last().alias("_baseline_ref"),
            pl.col("_limit").last().alias("_baseline_limit"),
        )
    )


def _graded_results(
    events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    """Every attributable lab result with its measures and its own grade per term and version."""
    measures, ratios, grades, own = _result_columns(
        _frozen(params.default_uln), _frozen(params.default_lln)
    )
    results = (
        # A result charted with another cause is measured: grade 0 for CRS (below), not missing.
        events.filter(pl.col("item").is_in(_ITEMS) & pl.col("value_num").is_not_null())
        .join(_baselines(events, patients, params), on=["patient_id", "item"], how="left")
        .with_columns(measures)
        .with_columns(ratios)
    )
    return results.with_columns(grades).with_columns(own)


@cache
def _result_columns(
    default_uln: tuple[tuple[str, float], ...], default_lln: tuple[tuple[str, float], ...]
) -> tuple[list[pl.Expr], list[pl.Expr], list[pl.Expr], list[pl.Expr]]:
    """The column steps of :func:`_graded_results`, built once per default limits."""
    limit, limit_source = _limits_of(default_uln, default_lln)
    known = pl.col("_baseline_time") <= pl.col("time")
    baseline = pl.when(known & (pl.col("_baseline") > 0)).then(pl.col("_baseline"))
    value = pl.col("value_num")
    increases = pl.col("item").is_in([lab.item for lab in _LABS if lab.increases])
    abnormal = (
        pl.when(pl.col("item").is_in([lab.item for lab in _LABS if lab.limit == "lln"]))
        .then(pl.col("_baseline") < pl.col("_baseline_limit"))
        .when(increases)
        .then(pl.col("_baseline") > pl.col("_baseline_limit"))
    )
    measures = [
        event_ref().alias("ref"),
        limit.alias("_limit"),
        limit_source.alias("_limit_source"),
        (value / baseline).alias("_x_baseline"),
        ((baseline - value) / baseline * 100).alias("_decrease_pct"),
        (value - baseline).alias("_increase"),
        (baseline - value).alias("_drop"),
        pl.when(known).then(abnormal).alias("_abnormal"),
    ]
    ratios = [
        pl.when(increases & (pl.col("_limit") > 0)).then(value / pl.col("_limit")).alias("_x_uln"),
        pl.when(~increases & (pl.col("_limit") > 0)).then(value / pl.col("_limit")).alias("_x_lln"),
    ]
    grades: list[pl.Expr] = []
    for version, suffix in _SUFFIX.items():
        for lab in _LABS:
            gradable = pl.col("_limit").is_not_null() if lab.limit else pl.lit(True)
            grade = pl.when((pl.col("item") == lab.item) & gradable).then(
                pl.when(pl.col("attributable"))
                .then(_grade_of(lab.term, version, dialysis=False))
                .otherwise(pl.lit(0, _GRADE))
            )
            grades.append(grade.alias(f"_g_{lab.term}_{suffix}"))
        aki_rows = _rows("aki", version, dialysis=False)
        grades.append(
            (
                pl.when(pl.col("item") == "creatinine").then(
                    pl.when(pl.col("attributable")).then(_grade(aki_rows)).otherwise(0)
                )
                if aki_rows
                else pl.lit(None, _GRADE)
            ).alias(f"_g_aki_{suffix}")
        )
    severity = (
        pl.when(increases).then(pl.col("_x_uln")).otherwise(-pl.coalesce(pl.col("_x_lln"), value))
    )
    own = [
        pl.coalesce([pl.col(f"_g_{lab.term}_{suffix}") for lab in _LABS]).alias(f"_own_{suffix}")
        for suffix in _SUFFIX.values()
    ]
    return measures, ratios, grades, [*own, severity.alias("_severity")]


def _dialysis(times: pl.LazyFrame, events: pl.LazyFrame, params: StateParameters) -> pl.LazyFrame:
    """1.0 when a ``true`` dialysis record overlaps the window, else 0.0 (closed-world)."""
    source = events.filter(
        (pl.col("item") == "dialysis") & pl.col("attributable") & pl.col("value_bool").is_not_null()
    ).select(
        "patient_id",
        "time",
        pl.coalesce("end", "time").alias("_until"),
        pl.col("value_bool").alias("_on"),
        event_ref().alias("_ref"),
    )
    joined = (
        times.join(source, on="patient_id", how="inner")
        .filter(
            (pl.col("time") <= pl.col("at"))
            & (pl.col("_until") >= pl.col("at") - params.lab_window)
        )
        .sort("time")
        .group_by(KEYS)
        .agg(
            pl.col("_on").any().cast(pl.Float64).alias("_dialysis"),
            pl.col("_ref").filter(pl.col("_on")).last().alias("dialysis_ref"),
        )
    )
    return times.join(joined, on=KEYS, how="left").with_columns(pl.col("_dialysis").fill_null(0.0))


def _window_results(
    times: pl.LazyFrame, events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    """Per T and lab: the grades (highest over the window) and the worst result's values."""
    graded = _graded_results(events, patients, params)
    joined = (
        times.join(graded, on="patient_id", how="inner")
        .filter(
            (pl.col("time") <= pl.col("at")) & (pl.col("time") >= pl.col("at") - params.lab_window)
        )
        # Within a group the order is kept: ``first()`` below is the worst result.
        .sort(["_own_v4", "_own_v5", "_severity", "time"], descending=True, nulls_last=True)
    )
    return times.join(joined.group_by(KEYS).agg(_window_aggs()), on=KEYS, how="left")


@cache
def _window_aggs() -> list[pl.Expr]:
    """Per T and lab, the aggregations of :func:`_window_results` (built once)."""
    aggs: list[pl.Expr] = []
    for lab in _LABS:
        # Values shown are attributable results; another cause's result only sets grade 0.
        is_lab = (pl.col("item") == lab.item) & pl.col("attributable")
        name = lab.item

        def worst(column: str, alias: str, is_lab: pl.Expr = is_lab) -> pl.Expr:
            return pl.col(column).filter(is_lab).first().alias(alias)

        aggs += [
            worst("value_num", f"{name}_{lab.unit}"),
            worst("time", f"{name}_time"),
            worst("ref", f"{name}_ref"),
            worst(_MEASURE[lab.change_basis], lab.baseline_change).round(DECIMALS),
        ]
        if lab.limit is not None:
            aggs += [
                worst("_limit", f"{name}_{lab.limit}"),
                worst("_limit_source", f"{name}_{lab.limit}_source"),
                worst(_MEASURE[lab.limit], f"{name}_x_{lab.limit}").round(DECIMALS),
            ]
        if lab.item == "creatinine":
            aggs.append(worst("_increase", "creatinine_increase_mg_dl").round(DECIMALS))
    for suffix in _SUFFIX.values():
        for term in _TERMS:
            aggs.append(pl.col(f"_g_{term}_{suffix}").max().alias(f"_lab_{term}_{suffix}"))
    return aggs


def _baseline_columns(
    times: pl.LazyFrame, events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    """Each lab's baseline as known at T, with its source and (where v5 asks) abnormality."""
    aggs, columns, dropped = _baseline_steps()
    wide = _baselines(events, patients, params).group_by("patient_id").agg(aggs)
    return times.join(wide, on="patient_id", how="left").with_columns(columns).drop(*dropped)


@cache
def _baseline_steps() -> tuple[list[pl.Expr], list[pl.Expr], list[str]]:
    """The steps of :func:`_baseline_columns` (built once): per patient each lab's baseline in a
    column, then as known at T, and the columns dropped after."""
    aggs: list[pl.Expr] = []
    for lab in _LABS:
        is_lab = pl.col("item") == lab.item
        for column in ("_baseline", "_baseline_time", "_baseline_ref", "_baseline_limit"):
            aggs.append(pl.col(column).filter(is_lab).first().alias(f"{lab.item}{column}"))
    columns: list[pl.Expr] = []
    for lab in _LABS:
        name = lab.item
        known = pl.col(f"{name}_baseline_time") <= pl.col("at")
        columns += [
            pl.when(known).then(pl.col(f"{name}_baseline")).alias(f"{name}_baseline"),
            pl.when(known).then(pl.col(f"{name}_baseline_ref")).alias(f"{name}_baseline_ref"),
            pl.when(known)
            .then(pl.lit("pre_therapy"))
            .otherwise(pl.lit("none"))
            .alias(f"{name}_baseline_source"),
        ]
        if _conditional(lab.term):
            value, limit = pl.col(f"{name}_baseline"), pl.col(f"{name}_baseline_limit")
            abnormal = value > limit if lab.increases else value < limit
            columns.append(pl.when(known).then(abnormal).alias(f"{name}_baseline_abnormal"))
    dropped = [
        *(f"{lab.item}_baseline_time" for lab in _LABS),
        *(f"{lab.item}_baseline_limit" for lab in _LABS),
    ]
    return aggs, columns, dropped


def _summaries(suffix: str, version: Version) -> list[pl.Expr]:
    def highest(terms: tuple[str, ...]) -> pl.Expr:
        return pl.max_horizontal([pl.col(f"{term}_{suffix}") for term in terms])

    missing = [
        pl.when(pl.col(f"{term}_{suffix}").is_null()).then(pl.lit(term)) for term in _TERMS
    ] + [
        pl.when(pl.col(f"{item}_baseline_source") == "none").then(pl.lit(f"{item}_baseline"))
        for item in dict.fromkeys(
            _BASELINE_ITEM[term] for term in _TERMS if _uses_baseline(term, version)
        )
    ]
    excluded = tuple(term for term in _TERMS if term not in _TRANSAMINITIS)
    return [
        highest(_TRANSAMINITIS).alias(f"transaminitis_{suffix}"),
        highest(_LFT).alias(f"lft_{suffix}"),
        highest(_TERMS).alias(f"organ_tox_{suffix}_max"),
        highest(excluded).alias(f"organ_tox_{suffix}_max_excl_transaminitis"),
        pl.concat_list(missing).list.drop_nulls().alias(f"organ_tox_{suffix}_missing"),
    ]


#: Before every instant a caller can ask for (Python's earliest ``datetime``): the organ state
#: there is the state with no lab or dialysis record known, which holds at every T before a
#: record's first change point.
_BEFORE_ANY_TIME = datetime(1, 1, 1, tzinfo=UTC)


def _change_points(
    events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    """The moments the organ state can change, and for each patient an instant before them all.

    The state at T depends on T only through which lab and dialysis records lie in the window
    (and whether a baseline, itself a lab result, is already known): it changes when a record
    enters (its time) or leaves (``time + lab_window`` and a microsecond, or ``end`` for
    dialysis), and nowhere else.  So the states at these moments are those of every T, whatever
    the evaluation times (decision 0079): computed once per record where it is prepared.
    """
    after = params.lab_window + timedelta(microseconds=1)
    records = events.filter(pl.col("item").is_in([*_ITEMS, "dialysis"]))
    return pl.concat(
        [
            records.select("patient_id", pl.col("time").alias("at")),
            records.select("patient_id", (pl.coalesce("end", "time") + after).alias("at")),
            records.select("patient_id", (pl.col("time") + after).alias("at")),
            patients.select(
                "patient_id", pl.lit(_BEFORE_ANY_TIME).cast(pl.Datetime("us", "UTC")).alias("at")
            ),
        ]
    ).unique()


def organ_points(
    events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    """The organ state at each of its change points (``_point``), for every patient: a function
    of the record alone, carried forward to any evaluation time by :func:`organ_state`."""
    points = _change_points(events, patients, params)
    return _organ_state_at(points, events, patients, params).rename({"at": "_point"})


def organ_state(
    times: pl.LazyFrame,
    events: pl.LazyFrame,
    patients: pl.LazyFrame,
    params: StateParameters,
    points: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """CTCAE v4.03 and v5.0 organ-toxicity grades at each ``(patient_id, at)`` of ``times``.

    Computed at the change points only and carried forward to every T (the state is constant
    between them): joining every T to every lab result in the window was the cost of grading
    records with 5-minute vital signs, where T is every few minutes and labs are daily
    (docs/benchmarks.md).  ``points``: :func:`organ_points` of the same record, when the caller
    keeps them (a prepared record).
    """
    keyed = times.select(KEYS)
    at_points = organ_points(events, patients, params) if points is None else points.lazy()
    return (
        keyed.sort("at")
        .join_asof(
            at_points.sort("_point"),
            left_on="at",
            right_on="_point",
            by="patient_id",
            strategy="backward",
            check_sortedness=False,
        )
        .drop("_point")
    )


def _organ_state_at(
    keyed: pl.LazyFrame, events: pl.LazyFrame, patients: pl.LazyFrame, params: StateParameters
) -> pl.LazyFrame:
    """The organ state at each ``(patient_id, at)`` of ``keyed`` (one row each)."""
    state = (
        _window_results(keyed, events, patients, params)
        .join(_dialysis(keyed, events, params), on=KEYS, how="left")
        .join(_baseline_columns(keyed, events, patients, params), on=KEYS, how="left")
    )
    for step in _state_steps():
        state = state.with_columns(step)
    return state.select(_outputs()).with_columns(_grade_casts())


@cache
def _outputs() -> list[pl.Expr]:
    return [pl.col(name) for name in KEYS + _output_columns()]


@cache
def _grade_casts() -> list[pl.Expr]:
    return [pl.col(_grade_columns()).cast(_GRADE)]


@cache
def _state_steps() -> list[list[pl.Expr]]:
    """The column steps of :func:`_organ_state_at` after its joins (built once)."""
    grades: list[pl.Expr] = []
    for version, suffix in _SUFFIX.items():
        grades += [
            pl.col(f"_lab_{lab.term}_{suffix}").alias(f"{lab.term}_{suffix}") for lab in _LABS
        ]
        grades.append(_grade_of("aki", version, dialysis=True).alias(f"_dialysis_{suffix}"))
    # The kidney is assessed when creatinine was measured or dialysis recorded in the window.
    assessed = pl.col("creatinine_mg_dl").is_not_null() | (pl.col("_dialysis") > 0)
    kidney = [
        pl.col("_dialysis_v4").alias("dialysis_v4"),
        *(
            pl.when(assessed)
            .then(pl.max_horizontal(f"_lab_aki_{suffix}", f"_dialysis_{suffix}"))
            .alias(f"aki_{suffix}")
            for suffix in _SUFFIX.values()
        ),
    ]
    summaries = [
        expr for version, suffix in _SUFFIX.items() for expr in _summaries(suffix, version)
    ]
    complete = [
        (pl.col(f"organ_tox_{suffix}_missing").list.len() == 0).alias(
            f"organ_tox_{suffix}_complete"
        )
        for suffix in _SUFFIX.values()
    ]
    return [grades, kidney, summaries, complete]


def _grade_columns() -> list[str]:
    names = [f"{term}_{suffix}" for suffix in _SUFFIX.values() for term in _TERMS]
    names.append("dialysis_v4")
    for suffix in _SUFFIX.values():
        names += [
            f"transaminitis_{suffix}",
            f"lft_{suffix}",
            f"organ_tox_{suffix}_max",
            f"organ_tox_{suffix}_max_excl_transaminitis",
        ]
    return names


def _output_columns() -> list[str]:
    names: list[str] = []
    for lab in _LABS:
        name = lab.item
        names += [f"{lab.term}_v4", f"{lab.term}_v5", f"{name}_{lab.unit}", f"{name}_time"]
        names.append(f"{name}_ref")
        if lab.limit is not None:
            names += [f"{name}_{lab.limit}", f"{name}_{lab.limit}_source"]
            names.append(f"{name}_x_{lab.limit}")
        names += [f"{name}_baseline", f"{name}_baseline_ref", f"{name}_baseline_source"]
        if _conditional(lab.term):
            names.append(f"{name}_baseline_abnormal")
        names.append(lab.baseline_change)
        if name == "creatinine":
            names.append("creatinine_increase_mg_dl")
    names += ["aki_v4", "aki_v5", "dialysis_v4", "dialysis_ref"]
    for suffix in _SUFFIX.values():
        names += [
            f"transaminitis_{suffix}",
            f"lft_{suffix}",
            f"organ_tox_{suffix}_max",
            f"organ_tox_{suffix}_max_excl_transaminitis",
            f"organ_tox_{suffix}_complete",
            f"organ_tox_{suffix}_missing",
        ]
    return names
