"""Determinism: a seed fixes the cohort, patient i does not depend on n, shards or the interval."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from crswatch.simulate import iter_cohort, simulate_patient, write_cohort


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_same_seed_gives_the_same_timeline() -> None:
    for index in (0, 7, 123):
        first = simulate_patient(index, seed=5)
        again = simulate_patient(index, seed=5)
        assert first == again
        assert first.to_dict() == again.to_dict()


def test_a_different_seed_or_index_gives_a_different_patient() -> None:
    reference = simulate_patient(3, seed=5).to_dict()
    assert simulate_patient(3, seed=6).to_dict() != reference
    assert simulate_patient(4, seed=5).to_dict() != reference


def test_iter_cohort_yields_the_patients_of_simulate_patient() -> None:
    streamed = list(iter_cohort(6, seed=9, therapy="car_t"))
    assert [timeline.patient.id for timeline in streamed] == [
        f"S9C-{index:06d}" for index in range(6)
    ]
    assert streamed[4] == simulate_patient(4, seed=9, therapy="car_t")


def test_same_seed_writes_byte_identical_shards_and_manifest(tmp_path: Path) -> None:
    write_cohort(tmp_path / "a", 45, seed=77, shard_size=20)
    write_cohort(tmp_path / "b", 45, seed=77, shard_size=20)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(first) == [
        "events/part-00000.parquet",
        "events/part-00001.parquet",
        "events/part-00002.parquet",
        "manifest.json",
        "patients/part-00000.parquet",
        "patients/part-00001.parquet",
        "patients/part-00002.parquet",
        "truth/part-00000.parquet",
        "truth/part-00001.parquet",
        "truth/part-00002.parquet",
        "truth_grades/part-00000.parquet",
        "truth_grades/part-00001.parquet",
        "truth_grades/part-00002.parquet",
    ]
    assert first == second
    write_cohort(tmp_path / "c", 45, seed=78, shard_size=20)
    assert _files(tmp_path / "c")["events/part-00000.parquet"] != first["events/part-00000.parquet"]


def test_patient_is_the_same_whatever_the_cohort_and_shard_size(tmp_path: Path) -> None:
    write_cohort(tmp_path / "small", 12, seed=31, shard_size=5)
    write_cohort(tmp_path / "large", 30, seed=31, shard_size=13)
    small = pl.read_parquet(tmp_path / "small" / "events")
    large = pl.read_parquet(tmp_path / "large" / "events")
    shared = small["patient_id"].unique().sort()
    assert shared.len() == 12
    assert large.filter(pl.col("patient_id").is_in(shared.implode())).equals(small)
    small_truth = pl.read_parquet(tmp_path / "small" / "truth").drop("shard")
    large_truth = pl.read_parquet(tmp_path / "large" / "truth").drop("shard")
    assert large_truth.head(12).equals(small_truth)


def test_the_vital_sign_interval_changes_only_the_vital_signs(tmp_path: Path) -> None:
    write_cohort(tmp_path / "four", 25, seed=8, vitals_every=timedelta(hours=4))
    write_cohort(tmp_path / "one", 25, seed=8, vitals_every=timedelta(hours=1))
    assert pq.read_table(tmp_path / "four" / "truth").equals(
        pq.read_table(tmp_path / "one" / "truth")
    )
    vitals = ["temperature", "sbp", "dbp", "map", "heart_rate", "resp_rate", "spo2"]
    four = pl.read_parquet(tmp_path / "four" / "events")
    one = pl.read_parquet(tmp_path / "one" / "events")
    assert four.filter(~pl.col("item").is_in(vitals)).equals(
        one.filter(~pl.col("item").is_in(vitals))
    )
    # About four times as many vital signs at hourly charting.
    ratio = one.filter(pl.col("item") == "sbp").height / four.filter(pl.col("item") == "sbp").height
    assert 3.5 < ratio < 4.2
