"""HScore for reactive haemophagocytic syndrome (Fardet et al., Arthritis Rheumatol 2014).

Citation: Fardet L, Galicier L, Lambotte O, et al. Development and validation of the HScore, a
score for the diagnosis of reactive hemophagocytic syndrome.  Arthritis Rheumatol
2014;66(9):2613-20.  doi:10.1002/art.38690.  Points table as verified in
shared/spec/clinical-criteria.md §3.2 [V-2] (Cureus PMC10101193 TAB1; PMC7589537 Tab4; the
abstract).  Maximum 337.  Best cut-off 169.

Interpretations (numbered; docs/decisions/0011-hlh-screens.md):

1. The result is the total with each variable's points and the value, unit and time behind it,
   and the published cut-off ">= 169".  **No probability**: the paper gives a curve, not a
   formula, and the logistic formula found in public code contradicts it (discrepancy D10;
   peers.md §5).  The sensitivity and specificity at 169 are not verified (D9) and not shown.
2. Boundaries as Fardet (register §3.2): temperature < 38.4 -> 0, 38.4-39.4 -> 33, > 39.4 -> 49;
   ferritin < 2000 -> 0, 2000-6000 -> 35, > 6000 -> 50; triglycerides < 1.5 -> 0, 1.5-4 -> 44,
   > 4 mmol/L -> 64; fibrinogen > 2.5 g/L -> 0, <= 2.5 -> 30; AST < 30 -> 0, >= 30 -> 19.
   Range ends are inclusive ("38.4-39.4" holds 38.4 and 39.4).
3. SI thresholds are converted with the reader's own conversion, so a result sent at the
   boundary in the published unit lands on it: triglycerides 1.5 / 4.0 mmol/L = 132.855 /
   354.28 mg/dL (triolein 885.7 g/mol; the tables' "132.7" and "354 mg/dL" are roundings),
   fibrinogen 2.5 g/L = 250 mg/dL, haemoglobin 9.2 g/dL, WBC 5000/mm3 = 5.0 x 10^3/uL,
   platelets 110,000/mm3 = 110 x 10^3/uL.
4. Worst value in [T - window, T]: the highest temperature, ferritin, triglycerides and AST;
   the lowest fibrinogen, haemoglobin, WBC and platelets.
5. Unknown inputs are never 0 points: the score is reported as a range (``score_bounds``: the
   points certain, and the most still possible).  Status: met when the certain points reach 169,
   not met when even the most possible stay below 169, otherwise not assessable.
6. "Haemophagocytosis features on bone marrow aspirate" reads the ``hemophagocytosis`` finding,
   which does not record the site (marrow, spleen or node): a labelled reading.
7. "Known underlying immunosuppression" reads the ``immunosuppressed`` finding (HIV or long-term
   immunosuppressive therapy); lymphodepleting chemotherapy is not assumed to be it.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import polars as pl

from crswatch.hlh._criteria import BandVariable, CountVariable, band, finding, threshold
from crswatch.hlh._params import HLHParameters
from crswatch.hlh._result import ScreenResult, ScreenStatus
from crswatch.hlh._screen import Row, columns_for, outcome, status_of
from crswatch.scales._compare import compare
from crswatch.timeline import conversion_for

__all__ = [
    "CUTOFF",
    "ID",
    "MAXIMUM",
    "TITLE",
    "VARIABLES",
    "VERSION",
    "columns",
    "decide",
    "status",
    "variables",
]

ID = "hscore"
VERSION = "Fardet 2014"
TITLE = "HScore (reactive haemophagocytic syndrome)"
#: Fardet 2014: the best cut-off.
CUTOFF = 169
MAXIMUM = 337
_REF = "Fardet et al., Arthritis Rheumatol 2014, HScore points table"


def _canonical(item: str, value: float, unit: str) -> tuple[float, str | None]:
    conversion = conversion_for(item, unit)
    canonical = conversion.apply(value, weight_kg=None, bsa_m2=None)
    if conversion.identity:
        return canonical, None
    via = conversion.note or f"x {conversion.factor:g}"
    return canonical, f"{value:g} {unit} = {canonical:g} {conversion.unit} ({via})"


def _three_bands(
    variable_id: str,
    label: str,
    column: str,
    item: str,
    unit: str,
    low: float,
    high: float,
    points: tuple[int, int, int],
    wording: str,
) -> BandVariable:
    """``< low -> p0; low-high -> p1; > high -> p2`` in the published unit."""
    lo, lo_how = _canonical(item, low, unit)
    hi, hi_how = _canonical(item, high, unit)
    conversion = "; ".join(how for how in (lo_how, hi_how) if how) or None
    return BandVariable(
        id=variable_id,
        label=label,
        column=column,
        bands=(
            band(points[0], f"< {low:g} {unit}", compare(column, "<", lo)),
            band(
                points[1],
                f"{low:g}-{high:g} {unit}",
                compare(column, ">=", lo),
                compare(column, "<=", hi),
            ),
            band(points[2], f"> {high:g} {unit}", compare(column, ">", hi)),
        ),
        conversion=conversion,
        wording=wording,
        source_ref=_REF,
        tag="V-2",
    )


@cache
def variables() -> tuple[BandVariable | CountVariable, ...]:
    """The points table, built on first use.

    Its SI thresholds go through the reader's unit conversion (interpretation 3), which loads
    the unit registry (about a second): done when a score is first computed, not when the
    package is imported (issue 16, point 5).
    """
    fibrinogen, fibrinogen_how = _canonical("fibrinogen", 2.5, "g/L")
    return (
        CountVariable(
            id="immunosuppression",
            label="Known underlying immunosuppression",
            parts=(finding("immunosuppressed", "immunosuppressed", "yes"),),
            points_by_count=(0, 18),
            wording="Known underlying immunosuppression (HIV positive or receiving long-term "
            "immunosuppressive therapy): no 0, yes 18",
            source_ref=_REF,
            tag="V-2",
            note="Lymphodepleting chemotherapy is not assumed to be immunosuppression "
            "(interpretation 7).",
        ),
        _three_bands(
            "temperature",
            "Temperature",
            "temperature_max",
            "temperature",
            "Cel",
            38.4,
            39.4,
            (0, 33, 49),
            "Temperature (°C): <38.4 0; 38.4-39.4 33; >39.4 49",
        ),
        CountVariable(
            id="organomegaly",
            label="Organomegaly",
            parts=(
                finding("hepatomegaly", "hepatomegaly", "present"),
                finding("splenomegaly", "splenomegaly", "present"),
            ),
            points_by_count=(0, 23, 38),
            wording="Organomegaly: no 0; hepatomegaly or splenomegaly 23; hepatomegaly and "
            "splenomegaly 38",
            source_ref=_REF,
            tag="V-2",
        ),
        CountVariable(
            id="cytopenias",
            label="Number of cytopenias",
            parts=(
                threshold("hemoglobin", "hemoglobin_min", "hemoglobin", "<=", 9.2, "g/dL"),
                threshold("wbc", "wbc_min", "wbc", "<=", 5000.0, "/mm3"),
                threshold("platelets", "platelets_min", "platelets", "<=", 110000.0, "/mm3"),
            ),
            points_by_count=(0, 0, 24, 34),
            wording="Number of cytopenias (hemoglobin <=9.2 g/dL, WBC <=5,000/mm3, platelets "
            "<=110,000/mm3): 1 lineage 0; 2 lineages 24; 3 lineages 34",
            source_ref=_REF,
            tag="V-2",
        ),
        _three_bands(
            "ferritin",
            "Ferritin",
            "ferritin_max",
            "ferritin",
            "ng/mL",
            2000.0,
            6000.0,
            (0, 35, 50),
            "Ferritin (ng/mL): <2000 0; 2000-6000 35; >6000 50",
        ),
        _three_bands(
            "triglycerides",
            "Triglycerides",
            "triglycerides_max",
            "triglycerides",
            "mmol/L",
            1.5,
            4.0,
            (0, 44, 64),
            "Triglyceride (mmol/L): <1.5 0; 1.5-4 44; >4 64",
        ),
        BandVariable(
            id="fibrinogen",
            label="Fibrinogen",
            column="fibrinogen_min",
            bands=(
                band(0, "> 2.5 g/L", compare("fibrinogen_min", ">", fibrinogen)),
                band(30, "<= 2.5 g/L", compare("fibrinogen_min", "<=", fibrinogen)),
            ),
            conversion=fibrinogen_how,
            wording="Fibrinogen (g/L): >2.5 0; <=2.5 30",
            source_ref=_REF,
            tag="V-2",
        ),
        BandVariable(
            id="ast",
            label="Serum aspartate aminotransferase",
            column="ast_max",
            bands=(
                band(0, "< 30 IU/L", compare("ast_max", "<", 30.0)),
                band(19, ">= 30 IU/L", compare("ast_max", ">=", 30.0)),
            ),
            conversion=None,
            wording="Serum aspartate aminotransferase (IU/L): <30 0; >=30 19",
            source_ref=f"{_REF} (AST >= 30 per Fardet; the Cureus table prints '>30')",
            tag="V-2",
        ),
        CountVariable(
            id="marrow_hemophagocytosis",
            label="Hemophagocytosis features on bone marrow aspirate",
            parts=(finding("hemophagocytosis", "hemophagocytosis", "yes"),),
            points_by_count=(0, 35),
            wording="Hemophagocytosis features on bone marrow aspirate: no 0; yes 35",
            source_ref=_REF,
            tag="V-2",
            note="The finding does not record the site (interpretation 6).",
        ),
    )


if TYPE_CHECKING:
    #: The points table (``variables()``), as a module attribute.
    VARIABLES: tuple[BandVariable | CountVariable, ...]


def __getattr__(name: str) -> Any:
    if name == "VARIABLES":
        return variables()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def columns(params: HLHParameters) -> list[pl.Expr]:
    """The points columns over the inputs frame (no parameter changes the table)."""
    del params
    return columns_for(ID, variables())


def status(params: HLHParameters) -> pl.Expr:
    """``decide``'s status as a column over :func:`columns` (the ward shows only the status):
    met when the certain points reach the cut-off, not met when the most possible stay below."""
    del params
    low = pl.sum_horizontal([pl.col(f"{ID}.{variable.id}.low") for variable in variables()])
    high = pl.sum_horizontal([pl.col(f"{ID}.{variable.id}.high") for variable in variables()])
    return status_of(low >= CUTOFF, high < CUTOFF)


def decide(row: Row, params: HLHParameters) -> ScreenResult:
    """The HScore of one row of the inputs frame."""
    outcomes = tuple(outcome(row, ID, variable) for variable in variables())
    low = sum(o.points_bounds[0] for o in outcomes if o.points_bounds)
    high = sum(o.points_bounds[1] for o in outcomes if o.points_bounds)
    status: ScreenStatus = (
        "met" if low >= CUTOFF else "not_met" if high < CUTOFF else "not_assessable"
    )
    missing = tuple(
        f"{o.id} ({', '.join(ob.name for ob in o.observations if ob.value is None)})"
        for o in outcomes
        if o.points is None
    )
    warnings = []
    if low != high:
        warnings.append(
            f"Score is a range {low}-{high}: unknown inputs are never scored 0 (missing is not "
            "normal)."
        )
    warnings.append(
        "HScore is not validated for IEC-HS or in the ICU (PMC7589537); its sensitivity and "
        "specificity at 169 are not verified (sources disagree) and no probability is given (the "
        "logistic formula published online contradicts Fardet 2014)."
    )
    if row.get("therapy_kind") == "car_t":
        warnings.append(
            "HScore was derived in reactive haemophagocytic syndrome, not after CAR T cells; "
            "cytopenias after lymphodepletion are expected."
        )
    return ScreenResult(
        screen=ID,
        version=VERSION,
        title=TITLE,
        at=row["at"],
        status=status,
        verified=True,
        criteria=outcomes,
        score=low,
        score_bounds=(low, high),
        cutoff=f">= {CUTOFF} (Fardet 2014 best cut-off; maximum {MAXIMUM}); no probability "
        "is computed (the logistic formula published online contradicts the paper)",
        missing=missing,
        warnings=tuple(warnings),
        parameters=_parameters(params),
    )


def _parameters(params: HLHParameters) -> dict[str, Any]:
    return {"window_hours": params.window.total_seconds() / 3600}
