"""carHLH: CAR T-cell-related HLH/MAS (Neelapu et al., Nat Rev Clin Oncol 2018, CARTOX).

Citation: Neelapu SS, Tummala S, Kebriaei P, et al. Chimeric antigen receptor T-cell therapy -
assessment and management of toxicities.  Nat Rev Clin Oncol 2018;15(1):47-62.
doi:10.1038/nrclinonc.2017.148.  Verified summary [V] (MGH White Book, shared/spec/
clinical-criteria.md §3.3): "peak ferritin >10,000 during CRS phase (typically <D5), and two of
the following: grade >=3 organ toxicities involving the liver, kidney, lung; or hemophagocytosis
in bone marrow or other organs."  The full wording is recalled [R]: "grade >=3 increase in serum
bilirubin, AST, or ALT; grade >=3 oliguria or increase in serum creatinine; grade >=3 pulmonary
oedema; presence of haemophagocytosis in bone marrow or organs ...".

Interpretations (numbered; docs/decisions/0011-hlh-screens.md):

1. Ferritin: the highest result in the CRS phase, ``[therapy_start, therapy_start +
   carhlh_crs_phase]`` (default 5 days, "typically the first 5 days"), measured at or before T;
   > 10,000 ng/mL.  A higher ferritin outside the phase is reported in a warning.
2. Organ toxicities are CTCAE grades from the state engine (``HLHParameters.ctcae_version``,
   default v4.03 as in CARTOX 2018), the worst in [T - window, T]: liver = bilirubin, AST or
   ALT grade >= 3; kidney = creatinine or acute kidney injury grade >= 3, or grade >= 3
   oliguria (``SupplementaryFindings``); lung = grade >= 3 pulmonary oedema
   (``SupplementaryFindings``: no timeline item); haemophagocytosis = the finding.  Each is
   undecided while one of its inputs is unknown and none is met.
3. "Subsequently develop" is not enforced as an order in time: the organ toxicities count
   whenever they fall in the window (a labelled reading; the verified summary has no order).
4. carHLH was defined for CAR T-cell therapy; for other therapies the result carries a warning.
"""

from __future__ import annotations

import polars as pl

from crswatch.hlh._criteria import Criterion, Part, finding, threshold
from crswatch.hlh._params import HLHParameters
from crswatch.hlh._result import ScreenResult
from crswatch.hlh._screen import Row, all_of, all_of_status, columns_for
from crswatch.scales._compare import compare

__all__ = ["ID", "TITLE", "VERSION", "columns", "criteria", "decide", "status"]

ID = "carhlh"
VERSION = "Neelapu 2018"
TITLE = "carHLH (CARTOX HLH/MAS)"
_REF = "Neelapu et al., Nat Rev Clin Oncol 2018 (CARTOX), carHLH criteria"


def _grade3(part_id: str, grades: tuple[str, ...], text: str, *, oliguria: bool = False) -> Part:
    """Any of ``grades`` >= 3 (Kleene: unknown grades leave it undecided unless one is met)."""
    test = compare(grades[0], ">=", 3.0)
    for column in grades[1:]:
        test = test | compare(column, ">=", 3.0)
    inputs = grades
    if oliguria:
        test = test | compare("oliguria_grade3", "==", 1.0)
        inputs = (*grades, "oliguria_grade3")
    return Part(id=part_id, test=test, inputs=inputs, text=text)


def criteria(params: HLHParameters | None = None) -> tuple[Criterion, ...]:
    params = params or HLHParameters()
    days = params.carhlh_crs_phase.total_seconds() / 86400
    return (
        Criterion(
            id="ferritin",
            label="Peak ferritin > 10,000 ng/mL during the CRS phase",
            parts=(
                threshold(
                    "ferritin",
                    "ferritin_crs_phase_max",
                    "ferritin",
                    ">",
                    10000.0,
                    "ng/mL",
                    text=f"> 10,000 ng/mL in the first {days:g} days",
                ),
            ),
            need=1,
            wording="peak ferritin >10,000 during CRS phase (typically <D5)",
            source_ref=f"{_REF} (verified in the MGH White Book summary)",
            tag="V",
            note="CRS phase = [therapy start, + carhlh_crs_phase] (interpretation 1).",
        ),
        Criterion(
            id="organ_involvement",
            label="Two of: liver, kidney, lung grade ≥ 3; haemophagocytosis",
            parts=(
                _grade3(
                    "liver",
                    ("bilirubin_grade", "ast_grade", "alt_grade"),
                    "bilirubin, AST or ALT CTCAE grade >= 3",
                ),
                _grade3(
                    "kidney",
                    ("creatinine_grade", "aki_grade"),
                    "creatinine or AKI CTCAE grade >= 3, or grade >= 3 oliguria",
                    oliguria=True,
                ),
                finding("lung", "pulmonary_edema_grade3", "grade >= 3 pulmonary oedema"),
                finding("hemophagocytosis", "hemophagocytosis", "in bone marrow or organs"),
            ),
            need=2,
            wording="two of the following: grade >=3 organ toxicities involving the liver, "
            "kidney, lung; or hemophagocytosis in bone marrow or other organs",
            source_ref=(
                f"{_REF} (verified in the MGH White Book summary; the organ terms of the full "
                "wording not verified)"
            ),
            tag="V",
            note="CTCAE grades of the state engine in [T - window, T] (interpretation 2).",
        ),
    )


def columns(params: HLHParameters) -> list[pl.Expr]:
    return columns_for(ID, criteria(params))


def status(params: HLHParameters) -> pl.Expr:
    """``decide``'s status as a column over :func:`columns` (the ward shows only the status)."""
    return all_of_status(ID, criteria(params))


def decide(row: Row, params: HLHParameters) -> ScreenResult:
    """The carHLH result of one row of the inputs frame."""
    outcomes, status, missing = all_of(row, ID, criteria(params))
    warnings = []
    if row.get("therapy_kind") != "car_t":
        warnings.append(
            f"carHLH was defined for CAR T-cell therapy; this patient's therapy is "
            f"{row.get('therapy_kind')!r}."
        )
    window_max = row.get("ferritin_max")
    phase_max = row.get("ferritin_crs_phase_max")
    if window_max is not None and window_max > 10000.0 and (phase_max or 0.0) <= 10000.0:
        warnings.append(
            f"Ferritin {window_max:g} ng/mL > 10,000 outside the configured CRS phase "
            f"(carhlh_crs_phase); not counted."
        )
    return ScreenResult(
        screen=ID,
        version=VERSION,
        title=TITLE,
        at=row["at"],
        status=status,
        verified=True,
        criteria=outcomes,
        cutoff="ferritin > 10,000 ng/mL in the CRS phase and >= 2 of 4 organ criteria",
        missing=tuple(missing),
        warnings=tuple(warnings),
        parameters={
            "window_hours": params.window.total_seconds() / 3600,
            "carhlh_crs_phase_hours": params.carhlh_crs_phase.total_seconds() / 3600,
            "ctcae_version": params.ctcae_version,
        },
    )
