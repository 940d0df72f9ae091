"""The simulator's intended grades over time (issue 19, point 8): ground truth for the engines."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from crswatch.episodes import peak_grades, trajectory
from crswatch.simulate import TRUTH_GRADES_SCHEMA, ward_beds, write_cohort
from crswatch.simulate._patient import simulate_record, to_timeline
from crswatch.simulate._truth_grades import _ice_grade, _linear_ice, grade_at

RECORDS = [simulate_record(index, 11, "mixed", 4.0) for index in range(40)]


@pytest.mark.parametrize("record", RECORDS[:12], ids=lambda r: r.patient_id)
def test_spans_are_consecutive_and_peak_at_the_intended_tiers(record: object) -> None:
    from crswatch.simulate._patient import SimulatedPatient

    assert isinstance(record, SimulatedPatient)
    truth = record.truth
    for kind, tier in (("crs", truth.intended_crs_tier), ("icans", truth.intended_icans_tier)):
        spans = [s for s in record.grades if s.kind == kind]
        assert spans and all(a.end == b.start for a, b in itertools.pairwise(spans))
        assert all(a.grade != b.grade for a, b in itertools.pairwise(spans))
        assert max(s.grade for s in spans) == tier
    if truth.crs_onset is not None:
        onset = (truth.crs_onset - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()
        hours = (onset * 1e6 - record.start_us) / 3.6e9
        assert grade_at(record.grades, "crs", hours - 0.5) == 0
        assert grade_at(record.grades, "crs", hours + 0.1) >= 1


def test_ice_bands_of_a_linear_recovery() -> None:
    # From the grade 3 nadir (ICE 1) back to 10 over 9 h: ICE 3 after 2 h, 7 after 6 h.
    assert _linear_ice(0.0, 9.0, 1.0, 10.0) == [(0.0, 2.0, 3), (2.0, 6.0, 2), (6.0, 9.0, 1)]
    assert [_ice_grade(s) for s in (10, 9, 7, 6, 3, 2, 0)] == [0, 1, 1, 2, 2, 3, 3]


def test_the_engine_finds_the_intended_peak_grade_in_most_patients() -> None:
    # The intended spans are coarse at their edges (the first reading above a threshold, a
    # scale's windows), so peaks, not times, are compared: ASTCT 2019 CRS and ICANS.
    table = trajectory([to_timeline(r) for r in RECORDS], scales=["astct2019", "icans.astct2019"])
    peaks = {(r["patient_id"], r["kind"]): r["peak_grade"] for r in peak_grades(table).to_dicts()}
    for kind in ("crs", "icans"):
        agree = sum(
            peaks[r.patient_id, kind] == max(s.grade for s in r.grades if s.kind == kind)
            for r in RECORDS
        )
        assert agree >= 36, (kind, agree)


def test_a_cohort_directory_holds_the_intended_grades(tmp_path: Path) -> None:
    write_cohort(tmp_path / "cohort", 5, seed=3, therapy="car_t", shard_size=5)
    table = pl.read_parquet(tmp_path / "cohort" / "truth_grades" / "part-00000.parquet")
    assert table.columns == TRUTH_GRADES_SCHEMA.names
    assert table["patient_id"].n_unique() == 5
    assert set(table["kind"]) == {"crs", "icans"}
    assert (table["end"] > table["start"]).all()


def test_ward_labels_describe_the_patient_at_the_clock() -> None:
    clock = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    for bed in ward_beds(24, clock=clock):
        hours = (clock - bed.timeline.patient.therapy.start).total_seconds() / 3600
        crs = grade_at(bed.grades, "crs", hours) or 0
        icans = grade_at(bed.grades, "icans", hours) or 0
        assert bed.now.startswith(f"CRS {crs}" if crs else ("CRS over", "no CRS")), bed.now
        assert (f"ICANS {icans}" in bed.now) == (icans >= 1), bed.now
