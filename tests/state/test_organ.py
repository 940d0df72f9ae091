"""CTCAE v4.03 / v5.0 organ-toxicity grades from laboratory results (state/_organ.py).

Every expected grade is read off shared/spec/clinical-criteria.md §1.4 (the CTCAE table); the
D13-D15 cases are §6.3 (criteria-derived).  Inputs go through the JSON reader, ``to_frames`` and
``clinical_state`` so that the integration is tested, not only the module.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from crswatch.io import read_json_document
from crswatch.state import StateParameters, clinical_state
from crswatch.state._organ import ORGAN_CRITERIA, meets, organ_state
from crswatch.timeline import to_frames

THERAPY_START = "2024-03-01T10:00:00Z"
AT = datetime(2024, 3, 3, 10, 0, tzinfo=UTC)
RESULT_TIME = "2024-03-03T08:00:00Z"  # 2 h before AT: inside the 48 h window
BASELINE_TIME = "2024-02-28T10:00:00Z"  # 3 days before the therapy start
UNITS = {
    "alt": "U/L",
    "ast": "U/L",
    "bilirubin": "mg/dL",
    "creatinine": "mg/dL",
    "fibrinogen": "mg/dL",
    "lvef": "%",
}
TERMS = ("alt", "ast", "bilirubin", "creatinine", "fibrinogen", "ejection_fraction", "aki")


def lab(item: str, value: float, time: str = RESULT_TIME, **extra: Any) -> dict[str, Any]:
    return {"time": time, "item": item, "value": value, "unit": UNITS[item], **extra}


def baseline(item: str, value: float, **extra: Any) -> dict[str, Any]:
    return lab(item, value, time=BASELINE_TIME, **extra)


def document(*events: dict[str, Any], patient_id: str = "P-ORG") -> dict[str, Any]:
    return {
        "format": "crswatch.timeline/1",
        "patient": {
            "id": patient_id,
            "age_years": 41,
            "therapy": {"kind": "car_t", "product": "axicabtagene", "start": THERAPY_START},
        },
        "events": list(events),
    }


def frames(*documents: dict[str, Any]) -> tuple[pl.DataFrame, pl.DataFrame]:
    read = read_json_document(list(documents), "test")
    read.raise_for_issues()
    return to_frames(read.timelines)


def states(
    *documents: dict[str, Any], at: datetime = AT, params: StateParameters | None = None
) -> pl.DataFrame:
    patients, events = frames(*documents)
    times = patients.select("patient_id", pl.lit(at).cast(pl.Datetime("us", "UTC")).alias("at"))
    return clinical_state(patients, events, times, params)


def organ(
    *events: dict[str, Any], at: datetime = AT, params: StateParameters | None = None
) -> dict[str, Any]:
    """The state row of one patient with these events, evaluated at ``at``."""
    return states(document(*events), at=at, params=params).row(0, named=True)


# --- ALT / AST (§1.4 "ALT or AST increased") -------------------------------------------------

# Default ULN 40 U/L.  v4.03: G1 ">ULN - 3.0 x ULN", G2 ">3.0 - 5.0", G3 ">5.0 - 20.0", G4 ">20.0".
ALT_BOUNDARIES = [
    (40.0, 1.0, 0),  # exactly ULN is not ">ULN"
    (40.4, 1.01, 1),
    (120.0, 3.0, 1),  # exactly 3.0 x ULN is still grade 1
    (120.4, 3.01, 2),
    (200.0, 5.0, 2),
    (200.4, 5.01, 3),
    (800.0, 20.0, 3),  # exactly 20.0 x ULN is grade 3
    (800.4, 20.01, 4),
]


@pytest.mark.parametrize(("value", "ratio", "grade"), ALT_BOUNDARIES)
def test_alt_v4_boundaries_at_below_and_above_each_threshold(
    value: float, ratio: float, grade: int
) -> None:
    row = organ(lab("alt", value))
    assert row["alt_x_uln"] == ratio
    assert row["alt_v4"] == grade
    assert (row["alt_uln"], row["alt_uln_source"]) == (40.0, "default")
    # v5.0 with a normal baseline uses the same x ULN criteria (§1.4 v5 row).
    assert organ(baseline("alt", 30.0), lab("alt", value))["alt_v5"] == grade


@pytest.mark.parametrize(("value", "ratio", "grade"), ALT_BOUNDARIES)
def test_ast_has_the_same_criteria_as_alt(value: float, ratio: float, grade: int) -> None:
    row = organ(lab("ast", value))
    assert (row["ast_x_uln"], row["ast_v4"], row["transaminitis_v4"]) == (ratio, grade, grade)


def test_uln_comes_from_the_results_reference_range_before_the_default() -> None:
    # §1.4: x ULN.  150 U/L is 3.0 x a laboratory ULN of 50 (grade 1) but 3.75 x the default 40.
    own = organ(lab("alt", 150.0, ref_high=50.0))
    assert (own["alt_uln"], own["alt_uln_source"], own["alt_x_uln"]) == (
        50.0,
        "reference_range",
        3.0,
    )
    assert own["alt_v4"] == 1
    default = organ(lab("alt", 150.0))
    assert (default["alt_uln_source"], default["alt_x_uln"], default["alt_v4"]) == (
        "default",
        3.75,
        2,
    )
    configured = StateParameters().with_(default_uln={**StateParameters().default_uln, "alt": 50.0})
    assert organ(lab("alt", 150.0), params=configured)["alt_v4"] == 1


def test_without_any_uln_the_result_is_not_graded_rather_than_normal() -> None:
    params = StateParameters().with_(default_uln={"ast": 40.0})
    row = organ(lab("alt", 900.0), params=params)
    assert row["alt_u_l"] == 900.0
    assert row["alt_v4"] is None and row["alt_v5"] is None
    assert "alt" in row["organ_tox_v4_missing"]


def test_v5_liver_grades_use_the_baseline_when_the_baseline_was_abnormal() -> None:
    # §1.4 v5: "1.5 - 3.0 x baseline if baseline abnormal"; ">3.0 - 5.0 x baseline".
    abnormal = baseline("alt", 80.0)  # ULN 40
    row = organ(abnormal, lab("alt", 160.0))
    assert (row["alt_baseline_abnormal"], row["alt_x_baseline"]) == (True, 2.0)
    assert (row["alt_v4"], row["alt_v5"]) == (2, 1)  # 4.0 x ULN; 2.0 x baseline
    assert organ(abnormal, lab("alt", 120.0))["alt_v5"] == 1  # exactly 1.5 x baseline
    assert organ(abnormal, lab("alt", 119.0))["alt_v5"] == 0
    assert organ(abnormal, lab("alt", 240.0))["alt_v5"] == 1  # exactly 3.0 x baseline
    assert organ(abnormal, lab("alt", 241.0))["alt_v5"] == 2


def test_v5_bilirubin_with_abnormal_baseline_starts_above_1_x_baseline() -> None:
    # §1.4 v5: ">1.0 - 1.5 x baseline (abnormal baseline)".  Default ULN 1.2 mg/dL.
    abnormal = baseline("bilirubin", 2.0)
    assert organ(abnormal, lab("bilirubin", 2.0))["bilirubin_v5"] == 0
    row = organ(abnormal, lab("bilirubin", 2.2))
    assert (row["bilirubin_x_baseline"], row["bilirubin_x_uln"]) == (1.1, 1.833333333)
    assert (row["bilirubin_v4"], row["bilirubin_v5"]) == (2, 1)  # v4.03 knows only x ULN


def test_v5_liver_grade_without_a_baseline_uses_the_normal_baseline_criteria() -> None:
    row = organ(lab("alt", 160.0))
    assert (row["alt_baseline_source"], row["alt_v5"]) == ("none", 2)
    assert "alt_baseline" in row["organ_tox_v5_missing"]
    assert "alt_baseline" not in row["organ_tox_v4_missing"]  # v4.03 ALT needs no baseline


@pytest.mark.parametrize(
    ("value", "grade"),
    [(1.2, 0), (1.8, 1), (1.81, 2), (3.6, 2), (3.61, 3), (12.0, 3), (12.01, 4)],
)
def test_bilirubin_v4_boundaries(value: float, grade: int) -> None:
    # §1.4: ">ULN - 1.5 x ULN", ">1.5 - 3.0", ">3.0 - 10.0", ">10.0"; ULN 1.2 mg/dL.
    assert organ(lab("bilirubin", value))["bilirubin_v4"] == grade


def test_float_noise_does_not_cross_a_boundary() -> None:
    # 2.1 / 1.4 is 1.5000000000000002 in binary floating point; CTCAE means 1.5 x ULN: grade 1
    # (">ULN - 1.5 x ULN"), not grade 2 (">1.5 - 3.0 x ULN").
    assert 2.1 / 1.4 > 1.5
    row = organ(lab("creatinine", 2.1, ref_high=1.4))
    assert (row["creatinine_x_uln"], row["creatinine_v4"]) == (1.5, 1)
    # 1.0 - 0.7 is 0.30000000000000004: not an AKI "increase of >0.3 mg/dL".
    aki = organ(baseline("creatinine", 0.7), lab("creatinine", 1.0))
    assert (aki["creatinine_increase_mg_dl"], aki["aki_v4"]) == (0.3, 0)


def test_meets_rounds_before_it_compares() -> None:
    frame = pl.DataFrame({"x": [3.0000000001, 3.000000002, None]})
    result = frame.select(gt=meets(pl.col("x"), ">", 3.0), ge=meets(pl.col("x"), ">=", 3.0))
    assert result["gt"].to_list() == [False, True, None]
    assert result["ge"].to_list() == [True, True, None]


# --- Creatinine and AKI ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "grade"),
    [(1.2, 0), (1.8, 1), (1.81, 2), (3.6, 2), (3.61, 3), (7.2, 3), (7.21, 4)],
)
def test_creatinine_x_uln_boundaries(value: float, grade: int) -> None:
    # §1.4 creatinine, ULN 1.2 mg/dL: ">1.5 - 3.0 x ULN", ">3.0 - 6.0 x ULN", ">6.0 x ULN".
    row = organ(lab("creatinine", value))
    assert (row["creatinine_v4"], row["creatinine_v5"]) == (grade, grade)


def test_d13_grade_4_transaminitis_alone_is_not_grade_4_organ_toxicity() -> None:
    # §6.3 D13: ALT 25 x ULN, everything else normal: Lee grade 3 ("grade 4 transaminitis"),
    # not grade 4 ("grade 4 organ toxicity (excluding transaminitis)").
    row = organ(
        baseline("alt", 30.0),
        baseline("ast", 30.0),
        baseline("bilirubin", 0.6),
        baseline("creatinine", 0.9),
        baseline("fibrinogen", 300.0),
        baseline("lvef", 60.0),
        lab("alt", 1000.0),
        lab("ast", 35.0),
        lab("bilirubin", 0.7),
        lab("creatinine", 0.9),
        lab("fibrinogen", 320.0),
        lab("lvef", 60.0),
    )
    assert row["alt_x_uln"] == 25.0
    assert (row["alt_v4"], row["transaminitis_v4"], row["lft_v4"]) == (4, 4, 4)
    assert row["organ_tox_v4_max"] == 4
    assert row["organ_tox_v4_max_excl_transaminitis"] == 0
    assert [row[f"{term}_v4"] for term in TERMS] == [4, 0, 0, 0, 0, 0, 0]
    assert row["organ_tox_v4_complete"] is True and row["organ_tox_v4_missing"] == []
    assert row["organ_tox_v5_complete"] is True
    assert (row["organ_tox_v5_max"], row["organ_tox_v5_max_excl_transaminitis"]) == (4, 0)


def test_d14_creatinine_7_x_uln_is_grade_4() -> None:
    # §6.3 D14: creatinine 7 x ULN -> CTCAE grade 4 (">6.0 x ULN"): Lee and CARTOX grade 4.
    row = organ(lab("creatinine", 8.4))
    assert (row["creatinine_x_uln"], row["creatinine_v4"], row["creatinine_v5"]) == (7.0, 4, 4)
    assert row["aki_v4"] == 3  # "Creatinine ... >4.0 mg/dL", even without a baseline
    assert row["organ_tox_v4_max_excl_transaminitis"] == 4
    assert row["transaminitis_v4"] is None  # no ALT/AST: unknown, not 0


def test_d15_creatinine_grade_2() -> None:
    # §6.3 D15: creatinine grade 2 (">1.5 - 3.0 x ULN"): 2.4 mg/dL is 2.0 x ULN 1.2.
    row = organ(lab("creatinine", 2.4))
    assert (row["creatinine_v4"], row["creatinine_v5"], row["organ_tox_v4_max"]) == (2, 2, 2)


def test_creatinine_against_the_pre_therapy_baseline() -> None:
    # §1.4 creatinine v4.03: ">1 - 1.5 x baseline", ">1.5 - 3.0 x baseline", ">3.0 baseline";
    # v5.0 drops the grade 1 baseline clause.  Baseline 0.5 mg/dL, ULN 1.2.
    base = baseline("creatinine", 0.5)
    within_uln = organ(base, lab("creatinine", 1.0))
    assert within_uln["creatinine_baseline"] == 0.5
    assert within_uln["creatinine_baseline_source"] == "pre_therapy"
    assert within_uln["creatinine_baseline_ref"] == f"creatinine@{BASELINE_TIME}"
    assert within_uln["creatinine_x_baseline"] == 2.0
    assert (within_uln["creatinine_v4"], within_uln["creatinine_v5"]) == (2, 2)
    slight = organ(base, lab("creatinine", 0.6))  # 1.2 x baseline, below ULN
    assert (slight["creatinine_v4"], slight["creatinine_v5"]) == (1, 0)
    tripled = organ(base, lab("creatinine", 1.5))  # exactly 3.0 x baseline
    assert (tripled["creatinine_v4"], tripled["creatinine_v5"]) == (2, 2)
    above = organ(base, lab("creatinine", 1.51))
    assert (above["creatinine_v4"], above["creatinine_v5"]) == (3, 3)


def test_baseline_is_the_last_result_at_or_before_therapy_start_within_its_window() -> None:
    at_start = organ(
        baseline("creatinine", 0.9),
        lab("creatinine", 0.5, time=THERAPY_START),
        lab("creatinine", 1.0),
    )
    assert at_start["creatinine_baseline"] == 0.5  # the last one, at the start itself counts
    after_start = organ(lab("creatinine", 0.5, time="2024-03-01T11:00:00Z"), lab("creatinine", 1.0))
    assert after_start["creatinine_baseline_source"] == "none"  # no post-therapy fallback
    assert after_start["creatinine_x_baseline"] is None
    assert after_start["creatinine_v4"] == 0  # only the x ULN route: a bound, and said so
    assert "creatinine_baseline" in after_start["organ_tox_v4_missing"]
    stale = organ(lab("creatinine", 0.5, time="2024-01-01T10:00:00Z"), lab("creatinine", 1.0))
    assert stale["creatinine_baseline_source"] == "none"  # older than lab_baseline_window


def test_baseline_counts_whatever_its_cause() -> None:
    row = organ(baseline("creatinine", 0.5, cause="other"), lab("creatinine", 1.0))
    assert (row["creatinine_baseline"], row["creatinine_v4"]) == (0.5, 2)


@pytest.mark.parametrize(
    ("value", "grade"),
    [(1.3, 0), (1.31, 1), (1.5, 1), (1.99, 1), (2.0, 2), (3.0, 2), (3.01, 3)],
)
def test_aki_v4_from_creatinine_against_baseline(value: float, grade: int) -> None:
    # §1.4 AKI v4.03: G1 "increase >0.3 mg/dL; 1.5 - 2.0 x baseline"; G2 "2 - 3 x baseline";
    # G3 ">3 x baseline".  Baseline 1.0 mg/dL.
    row = organ(baseline("creatinine", 1.0), lab("creatinine", value))
    assert row["aki_v4"] == grade
    assert row["aki_v5"] == 0  # v5.0 AKI has no creatinine criterion: dialysis only


@pytest.mark.parametrize(("value", "grade"), [(4.0, 0), (4.01, 3)])
def test_aki_v4_absolute_creatinine_above_4(value: float, grade: int) -> None:
    # §1.4 AKI v4.03 G3: "Cr >3 x baseline or >4.0 mg/dL" (no baseline needed).
    assert organ(lab("creatinine", value, ref_high=10.0))["aki_v4"] == grade


def test_dialysis_is_aki_grade_4() -> None:
    # §1.4 AKI G4: "Life-threatening; dialysis indicated" (v4.03 and v5.0).
    dialysis = {"time": "2024-03-03T06:00:00Z", "item": "dialysis", "value": True, "id": "crrt-1"}
    row = organ(dialysis, lab("creatinine", 2.4))
    assert (row["dialysis_v4"], row["dialysis_ref"], row["aki_v4"], row["aki_v5"]) == (
        4,
        "crrt-1",
        4,
        4,
    )
    assert (row["organ_tox_v4_max_excl_transaminitis"], row["organ_tox_v5_max"]) == (4, 4)
    alone = organ(dialysis)  # dialysis alone assesses the kidney
    assert (alone["aki_v4"], alone["aki_v5"], alone["creatinine_v4"]) == (4, 4, None)
    running = {**dialysis, "time": "2024-02-29T10:00:00Z", "end": "2024-03-02T10:00:00Z"}
    assert organ(running)["dialysis_v4"] == 4  # started before the window, ran into it


def test_no_dialysis_record_means_no_dialysis() -> None:
    # An intervention is recorded when given (decision 0005 §3); AKI still needs a creatinine.
    nothing = organ(lab("alt", 30.0))
    assert (nothing["dialysis_v4"], nothing["aki_v4"], nothing["aki_v5"]) == (0, None, None)
    stopped = organ({"time": "2024-03-03T06:00:00Z", "item": "dialysis", "value": False})
    assert (stopped["dialysis_v4"], stopped["aki_v4"]) == (0, None)
    chronic = {"time": "2024-03-03T06:00:00Z", "item": "dialysis", "value": True, "cause": "other"}
    row = organ(chronic, lab("creatinine", 2.4))
    assert (row["dialysis_v4"], row["aki_v4"], row["aki_v5"]) == (0, 0, 0)
    ended = {
        "time": "2024-02-29T10:00:00Z",
        "end": "2024-03-01T09:59:59Z",  # 1 s before the window opens
        "item": "dialysis",
        "value": True,
    }
    assert organ(ended)["dialysis_v4"] == 0


# --- Fibrinogen -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "grade"),
    [(200.0, 0), (199.0, 1), (150.0, 1), (149.0, 2), (100.0, 2), (99.0, 3), (50.0, 3), (49.0, 4)],
)
def test_fibrinogen_x_lln_boundaries(value: float, grade: int) -> None:
    # §1.4 fibrinogen, default LLN 200 mg/dL: "<1.0 - 0.75 x LLN", "<0.75 - 0.5", "<0.5 - 0.25",
    # "<0.25 x LLN ... or absolute <50 mg/dL" (50 is 0.25 x LLN: grade 3, not below 50).
    row = organ(lab("fibrinogen", value))
    assert (row["fibrinogen_v4"], row["fibrinogen_v5"]) == (grade, grade)
    assert row["fibrinogen_lln_source"] == "default"


@pytest.mark.parametrize(("value", "grade"), [(50.0, 3), (49.9, 4)])
def test_fibrinogen_absolute_below_50_is_grade_4(value: float, grade: int) -> None:
    # §1.4 fibrinogen G4: "absolute value <50 mg/dL".  With the laboratory LLN 150, 49.9 mg/dL is
    # 0.33 x LLN (grade 3 by ratio), so grade 4 comes from the absolute clause alone.
    row = organ(lab("fibrinogen", value, ref_low=150.0))
    assert (row["fibrinogen_lln"], row["fibrinogen_lln_source"]) == (150.0, "reference_range")
    assert (row["fibrinogen_v4"], row["fibrinogen_v5"]) == (grade, grade)


def test_fibrinogen_decrease_from_baseline_v4_literal_v5_only_if_abnormal() -> None:
    # §1.4: v4.03 "<25% decrease"/"25 - <50%"/"50 - <75%"/"75% decrease from baseline" are
    # alternatives to x LLN; v5.0 puts "if abnormal" before the % clause.
    normal = baseline("fibrinogen", 400.0)
    row = organ(normal, lab("fibrinogen", 190.0))  # 0.95 x LLN, 52.5 % decrease
    assert (row["fibrinogen_decrease_pct"], row["fibrinogen_baseline_abnormal"]) == (52.5, False)
    assert (row["fibrinogen_v4"], row["fibrinogen_v5"]) == (3, 1)
    assert organ(normal, lab("fibrinogen", 300.0))["fibrinogen_v4"] == 2  # exactly 25 %
    assert organ(normal, lab("fibrinogen", 301.0))["fibrinogen_v4"] == 1  # any fall: "<25%"
    assert organ(normal, lab("fibrinogen", 100.0))["fibrinogen_v4"] == 4  # exactly 75 %
    assert organ(normal, lab("fibrinogen", 400.0))["fibrinogen_v4"] == 0  # no fall, >= LLN
    abnormal = organ(baseline("fibrinogen", 180.0), lab("fibrinogen", 135.0))
    assert (abnormal["fibrinogen_baseline_abnormal"], abnormal["fibrinogen_decrease_pct"]) == (
        True,
        25.0,
    )
    assert abnormal["fibrinogen_v5"] == 2


# --- Ejection fraction ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "v4", "v5"),
    [(51.0, 0, 0), (50.0, 2, 2), (40.0, 2, 2), (39.0, 3, 3), (20.0, 3, 3), (19.0, 4, 4)],
)
def test_ejection_fraction_absolute_boundaries(value: float, v4: int, v5: int) -> None:
    # §1.4: "Resting EF 50 - 40%" G2, "39 - 20%" G3, "<20%" G4; there is no grade 1.
    row = organ(lab("lvef", value))
    assert (row["ejection_fraction_v4"], row["ejection_fraction_v5"]) == (v4, v5)


@pytest.mark.parametrize(
    ("base", "value", "v4", "v5"),
    [
        (70.0, 61.0, 0, 0),  # 9-point drop
        (70.0, 60.0, 2, 2),  # "10 - 19% drop from baseline"
        (75.0, 55.0, 2, 3),  # 20 points: v4.03 ">20%" not met; v5.0 ">=20%" met
        (75.0, 54.0, 3, 3),
    ],
)
def test_ejection_fraction_drop_from_baseline(base: float, value: float, v4: int, v5: int) -> None:
    row = organ(baseline("lvef", base), lab("lvef", value))
    assert row["lvef_drop_points"] == base - value
    assert (row["ejection_fraction_v4"], row["ejection_fraction_v5"]) == (v4, v5)


# --- Window, attribution, worst value, missing ----------------------------------------------


def test_the_window_is_closed_at_both_ends() -> None:
    edge = (AT - timedelta(hours=48)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert organ(lab("alt", 900.0, time=edge))["alt_v4"] == 4  # exactly T - 48 h counts
    outside = (AT - timedelta(hours=48, seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    row = organ(lab("alt", 900.0, time=outside))
    assert (row["alt_v4"], row["alt_u_l"]) == (None, None)
    later = organ(lab("alt", 900.0, time="2024-03-03T10:00:01Z"))  # after T: not yet measured
    assert later["alt_v4"] is None
    at_t = organ(lab("alt", 900.0, time="2024-03-03T10:00:00Z"))
    assert at_t["alt_v4"] == 4


def test_a_result_with_cause_other_does_not_count() -> None:
    # Measured, so not missing: grade 0 for CRS, and its value is not shown as a CRS finding.
    row = organ(lab("alt", 900.0, cause="other"))
    assert (row["alt_v4"], row["alt_u_l"]) == (0, None)
    mixed = organ(lab("alt", 900.0, cause="other"), lab("alt", 30.0, time="2024-03-03T09:00:00Z"))
    assert (mixed["alt_v4"], mixed["alt_u_l"]) == (0, 30.0)


def test_the_worst_result_in_the_window_sets_the_grade() -> None:
    row = organ(
        lab("alt", 100.0, time="2024-03-02T10:00:00Z"),
        lab("alt", 900.0, time="2024-03-02T20:00:00Z", id="lab-900"),
        lab("alt", 300.0),
        lab("fibrinogen", 180.0, time="2024-03-02T10:00:00Z"),
        lab("fibrinogen", 90.0, time="2024-03-02T20:00:00Z"),
        lab("fibrinogen", 150.0),
    )
    assert (row["alt_u_l"], row["alt_ref"], row["alt_v4"]) == (900.0, "lab-900", 4)
    assert (row["fibrinogen_mg_dl"], row["fibrinogen_v4"]) == (90.0, 3)


def test_worst_is_judged_by_grade_when_reference_ranges_differ() -> None:
    # 130 U/L over a ULN of 35 is 3.71 x (grade 2); 140 over a ULN of 56 is 2.5 x (grade 1).
    row = organ(
        lab("alt", 130.0, time="2024-03-02T10:00:00Z", ref_high=35.0),
        lab("alt", 140.0, ref_high=56.0),
    )
    assert (row["alt_v4"], row["alt_u_l"], row["alt_uln"]) == (2, 130.0, 35.0)


def test_no_labs_gives_nulls_not_zeros() -> None:
    row = organ({"time": RESULT_TIME, "item": "temperature", "value": 38.5, "unit": "Cel"})
    for term in TERMS:
        assert row[f"{term}_v4"] is None and row[f"{term}_v5"] is None
    for name in ("transaminitis", "lft", "organ_tox"):
        suffix = "_max" if name == "organ_tox" else ""
        assert row[f"{name}_v4{suffix}"] is None
    assert row["organ_tox_v4_max_excl_transaminitis"] is None
    assert row["dialysis_v4"] == 0  # an intervention: not recorded, not given
    assert row["organ_tox_v4_complete"] is False
    assert set(TERMS) <= set(row["organ_tox_v4_missing"])


def test_a_maximum_over_some_terms_is_a_bound_and_says_so() -> None:
    row = organ(lab("ast", 201.0), lab("bilirubin", 1.0))  # AST 5.03 x ULN: grade 3
    assert (row["transaminitis_v4"], row["lft_v4"], row["organ_tox_v4_max"]) == (3, 3, 3)
    assert row["organ_tox_v4_max_excl_transaminitis"] == 0  # bilirubin only
    assert row["organ_tox_v4_complete"] is False
    assert {"alt", "creatinine", "fibrinogen", "ejection_fraction", "aki"} <= set(
        row["organ_tox_v4_missing"]
    )


# --- The engine: many patients at once, and the data table ----------------------------------


def test_cohort_equals_one_patient_at_a_time_and_grades_rise_with_the_value() -> None:
    values = [30.0, 40.0, 41.0, 119.0, 120.0, 121.0, 200.0, 201.0, 799.0, 800.0, 801.0, 5000.0]
    documents = [
        document(baseline("alt", 80.0 if i % 2 else 30.0), lab("alt", v), patient_id=f"P{i:02d}")
        for i, v in enumerate(values)
    ]
    cohort = states(*documents).sort("patient_id")
    alone = pl.concat([states(doc) for doc in documents]).sort("patient_id")
    assert cohort.equals(alone)
    v4 = cohort["alt_v4"].to_list()
    assert v4 == sorted(v4) and v4[0] == 0 and v4[-1] == 4
    same_baseline = cohort.filter(pl.col("alt_baseline") == 30.0)["alt_v5"].to_list()
    assert same_baseline == sorted(same_baseline)


def test_organ_state_direct_call_has_one_row_per_time() -> None:
    patients, events = frames(document(baseline("creatinine", 1.0), lab("creatinine", 2.0)))
    times = pl.DataFrame(
        {
            "patient_id": ["P-ORG"] * 3,
            "at": [
                datetime(2024, 3, 1, 10, tzinfo=UTC),  # at the start: only the baseline in window
                AT,
                AT + timedelta(days=3),  # the 2.0 result has left the window
            ],
        }
    ).with_columns(pl.col("at").cast(pl.Datetime("us", "UTC")))
    out = (
        organ_state(times.lazy(), events.lazy(), patients.lazy(), StateParameters())
        .sort("at")
        .collect()
    )
    assert out.height == 3
    assert out["creatinine_v4"].to_list() == [0, 2, None]
    assert out["aki_v4"].to_list() == [0, 2, None]
    assert out["creatinine_baseline"].to_list() == [1.0, 1.0, 1.0]


def _downward(term: str, basis: str) -> bool:
    """Whether lower values are worse for this route (LLN ratio, EF or fibrinogen value)."""
    return basis == "lln" or (basis == "absolute" and term in {"fibrinogen", "ejection_fraction"})


def test_criteria_table_is_well_formed() -> None:
    terms = {(row.term, row.version) for row in ORGAN_CRITERIA}
    for term in TERMS:
        assert {(term, "v4.03"), (term, "v5.0")} <= terms
    routes: dict[tuple[str, str, str, str], list[tuple[int, float]]] = {}
    for row in ORGAN_CRITERIA:
        assert 1 <= row.grade <= 4 and row.wording
        # Decreases are compared downwards; increases and falls from baseline upwards.
        assert row.operator.startswith("<") == _downward(row.term, row.basis), row
        route = (row.term, row.version, row.basis, row.condition)
        routes.setdefault(route, []).append((row.grade, row.threshold))
    # Within one route, a higher grade needs a more extreme value.
    for (term, _, basis, _), steps in routes.items():
        thresholds = [threshold for _, threshold in sorted(steps)]
        assert thresholds == sorted(thresholds, reverse=_downward(term, basis)), steps
