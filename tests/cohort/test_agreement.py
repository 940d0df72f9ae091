"""Agreement statistics on hand-built peaks tables with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from crswatch.cohort._agreement import (
    cross_scale_agreement,
    incidence,
    onset_and_duration,
    pair_agreement,
    regrade,
    same_grade_everywhere,
    time_to_tocilizumab,
)
from crswatch.errors import InputError

T0 = datetime(2024, 3, 1, 10, tzinfo=UTC)


def peaks_of(rows: list[tuple[str, str, int, int]], kind: str = "crs") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "kind": [kind] * len(rows),
            "scale": [r[1] for r in rows],
            "peak_grade": [r[2] for r in rows],
            "peak_upper": [r[3] for r in rows],
        },
        schema_overrides={"peak_grade": pl.Int32, "peak_upper": pl.Int32},
    )


def two_scale_peaks(pairs: list[tuple[int, int]]) -> pl.DataFrame:
    rows: list[tuple[str, str, int, int]] = []
    for i, (a, b) in enumerate(pairs):
        rows += [(f"P{i:03d}", "penn2018", a, a), (f"P{i:03d}", "astct2019", b, b)]
    return peaks_of(rows)


def test_kappa_matches_the_textbook_two_by_two_example() -> None:
    # Cohen's kappa, the classic 50-case example (yes/yes 20, yes/no 5, no/yes 10, no/no 15):
    # p_o = 0.7, p_e = 0.5, kappa = 0.4.  With two categories every weighting gives the same.
    pairs = [(1, 1)] * 20 + [(1, 0)] * 5 + [(0, 1)] * 10 + [(0, 0)] * 15
    result = pair_agreement(two_scale_peaks(pairs), "penn2018", "astct2019")
    assert result.patients == 50
    assert result.kappa_linear == pytest.approx(0.4)
    assert result.kappa_quadratic == pytest.approx(0.4)
    assert result.same == 35
    assert result.same_pct == 70.0


def test_weighted_kappa_three_categories_by_hand() -> None:
    # Grades (a, b): (0,0) (0,1) (1,1) (1,2) (2,2) (2,0).  Marginals a = b = 2/2/2 of 6, so the
    # expected cell is 1/9 each.  Linear weights |i-j|: observed disagreement 1+1+2 = 4 of 6;
    # expected sum of |i-j| / 9 over the 3x3 = 8/9.  kappa = 1 - (4/6)/(8/9) = 0.25.
    # Quadratic weights (i-j)^2: observed (1+1+4)/6 = 1; expected 12/9.  kappa = 1 - 9/12 = 0.25.
    pairs = [(0, 0), (0, 1), (1, 1), (1, 2), (2, 2), (2, 0)]
    result = pair_agreement(two_scale_peaks(pairs), "penn2018", "astct2019")
    assert result.kappa_linear == pytest.approx(0.25)
    assert result.kappa_quadratic == pytest.approx(0.25)
    assert result.matrix[2][0] == 1
    assert result.matrix[1][2] == 1
    assert sum(map(sum, result.matrix)) == 6


def test_quadratic_weights_forgive_near_misses_more_than_linear() -> None:
    pairs = [(0, 0), (1, 1), (2, 2), (3, 3), (1, 2), (2, 3), (3, 2), (0, 1)]
    result = pair_agreement(two_scale_peaks(pairs), "penn2018", "astct2019")
    assert result.kappa_linear is not None and result.kappa_quadratic is not None
    assert result.kappa_quadratic > result.kappa_linear > 0


def test_uncertain_peaks_are_excluded_and_counted() -> None:
    peaks = peaks_of(
        [
            ("A", "penn2018", 2, 2),
            ("A", "astct2019", 2, 2),
            ("B", "penn2018", 1, 3),  # a range on Penn: out of the pair
            ("B", "astct2019", 1, 1),
            ("C", "penn2018", 3, 3),
            ("C", "astct2019", 2, 2),
        ]
    )
    result = pair_agreement(peaks, "penn2018", "astct2019")
    assert (result.patients, result.excluded, result.same) == (2, 1, 1)
    assert result.matrix[3][2] == 1


def test_regrade_same_lower_higher_as_juliet() -> None:
    # Penn -> ASTCT in JULIET: 37 same, 23 lower, 4 higher of 64 with CRS by Penn.
    pairs = [(2, 2)] * 37 + [(3, 2)] * 22 + [(1, 0)] + [(1, 2)] * 4 + [(0, 0)] * 40 + [(0, 1)] * 7
    result = regrade(two_scale_peaks(pairs), "penn2018", "astct2019").to_dict()
    assert result["with_event"] == 64
    assert (result["same"], result["lower"], result["higher"]) == (37, 23, 4)
    assert result["same_pct"] == 57.8
    assert result["lower_pct"] == 35.9
    assert result["to_none"] == 1
    assert result["new_on_target"] == 7
    assert result["excluded"] == 0
    # Each count says which way it goes: source grade -> target grade, lower ones first.
    assert result["changes_text"] == "1 → 0: 1 (lower); 3 → 2: 22 (lower); 1 → 2: 4 (higher)"


def test_regrade_unknown_scale_is_an_input_error() -> None:
    with pytest.raises(InputError, match="scale='lee2014'"):
        regrade(two_scale_peaks([(1, 1)]), "lee2014", "astct2019")


def test_incidence_counts_uncertain_apart_never_as_zero() -> None:
    peaks = peaks_of(
        [
            ("A", "astct2019", 0, 0),
            ("B", "astct2019", 1, 1),
            ("C", "astct2019", 3, 3),
            ("D", "astct2019", 0, 2),  # not assessable: could be 0, 1 or 2
            ("E", "astct2019", 2, 4),  # certainly CRS, perhaps grade >= 3
        ]
    )
    row = incidence(peaks).row(0, named=True)
    assert row["patients"] == 5
    assert (row["grade_0"], row["grade_1"], row["grade_3"], row["uncertain"]) == (1, 1, 1, 2)
    assert row["any_grade"] == 3  # B, C, E
    assert row["any_grade_uncertain"] == 1  # D
    assert row["grade3plus"] == 1 and row["grade3plus_uncertain"] == 1
    assert row["any_grade_pct"] == 60.0


def test_same_grade_on_every_scale() -> None:
    peaks = peaks_of(
        [
            ("A", "astct2019", 2, 2),
            ("A", "lee2014", 2, 2),
            ("A", "penn2018", 2, 2),
            ("B", "astct2019", 1, 1),
            ("B", "lee2014", 2, 2),
            ("B", "penn2018", 3, 3),
            ("C", "astct2019", 0, 0),
            ("C", "lee2014", 0, 0),
            ("C", "penn2018", 0, 0),
            ("D", "astct2019", 0, 0),
            ("D", "lee2014", 0, 1),
            ("D", "penn2018", 0, 0),
        ]
    )
    result = same_grade_everywhere(peaks)
    assert result["scales"] == ["astct2019", "lee2014", "penn2018"]
    assert (result["patients"], result["excluded"]) == (3, 1)
    assert result["same_grade"] == 2 and result["same_presence"] == 3
    assert len(cross_scale_agreement(peaks)) == 3


def test_onset_duration_and_time_to_tocilizumab() -> None:
    patients = pl.DataFrame({"patient_id": ["A", "B"], "therapy_start": [T0, T0]})
    episodes = pl.DataFrame(
        {
            "patient_id": ["A", "A", "B"],
            "kind": ["crs"] * 3,
            "scale": ["astct2019"] * 3,
            "episode": [1, 2, 1],
            "onset": [
                T0 + timedelta(hours=24),
                T0 + timedelta(hours=100),
                T0 + timedelta(hours=48),
            ],
            "resolution": [T0 + timedelta(hours=72), None, T0 + timedelta(hours=60)],
            "duration_hours": [48.0, None, 12.0],
        }
    )
    row = onset_and_duration(episodes, patients).row(0, named=True)
    assert row["patients"] == 2 and row["episodes"] == 3 and row["unresolved"] == 1
    assert row["onset"]["median"] == 36.0
    assert row["duration"]["median"] == 30.0 and row["duration"]["q1"] == 21.0
    treatments = pl.DataFrame(
        {
            "patient_id": ["A", "A", "B"],
            "time": [T0 + timedelta(hours=30), T0 + timedelta(hours=40), T0 + timedelta(hours=5)],
            "item": ["tocilizumab", "tocilizumab", "dexamethasone"],
        }
    )
    toci = time_to_tocilizumab(treatments, episodes, patients)
    assert toci["patient_id"].to_list() == ["A"]
    assert toci["hours_from_start"].to_list() == [30.0]
    assert toci["hours_from_onset"].to_list() == [6.0]


def test_follow_up_peaks_ignore_the_unobserved_head_and_tail() -> None:
    from crswatch.cohort._agreement import follow_up_peaks

    def row(h: float, status: str, lower: int, upper: int) -> dict[str, object]:
        grade = lower if status == "graded" else None
        return {
            "patient_id": "A",
            "at": T0 + timedelta(hours=h),
            "kind": "crs",
            "scale": "astct2019",
            "grade": grade,
            "status": status,
            "lower": lower,
            "upper": upper,
        }

    trajectory = pl.DataFrame(
        [
            row(-20, "not_assessable", 0, 4),  # before any data: outside follow-up
            row(5, "graded", 0, 0),
            row(30, "graded", 2, 2),
            row(40, "not_assessable", 1, 3),  # a gap between assessments: it counts
            row(50, "graded", 1, 1),
            row(80, "graded", 0, 0),
            row(300, "not_assessable", 0, 4),  # monitoring stopped: outside follow-up
        ]
    )
    patients = pl.DataFrame({"patient_id": ["A"], "therapy_start": [T0]})
    peak = follow_up_peaks(trajectory, patients).row(0, named=True)
    assert (peak["peak_grade"], peak["peak_upper"]) == (2, 3)
    assert peak["follow_up_start"] == T0 + timedelta(hours=5)
    # grade 0 from 80 h held until monitoring stopped at 300 h
    assert peak["follow_up_end"] == T0 + timedelta(hours=300)
    closed = follow_up_peaks(trajectory.filter(pl.col("at") != T0 + timedelta(hours=40)), patients)
    assert closed.select("peak_grade", "peak_upper").row(0) == (2, 2)


def test_a_scale_never_graded_is_unknown_not_zero() -> None:
    peaks = peaks_of([("A", "astct2019", 1, 1)]).vstack(
        pl.DataFrame(
            {"patient_id": ["B"], "kind": ["crs"], "scale": ["astct2019"]},
        ).with_columns(peak_grade=pl.lit(None, pl.Int32), peak_upper=pl.lit(None, pl.Int32))
    )
    row = incidence(peaks).row(0, named=True)
    assert (row["grade_0"], row["uncertain"], row["any_grade_uncertain"]) == (0, 1, 1)
