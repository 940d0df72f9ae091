"""The cohort writer: shards by patient, a manifest, ground truth, streaming, progress, errors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest

from crswatch.io import EVENT_SCHEMA, PATIENT_SCHEMA
from crswatch.simulate import GENERATOR_VERSION, TRUTH_SCHEMA, ShardInfo, _writer, write_cohort
from crswatch.simulate._patient import SimulatedPatient


def test_shards_manifest_and_truth(tmp_path: Path) -> None:
    root = tmp_path / "cohort"
    manifest = write_cohort(root, 23, seed=3, therapy="mixed", shard_size=10)
    assert [shard.n_patients for shard in manifest.shards] == [10, 10, 3]
    assert [shard.first_patient for shard in manifest.shards] == [0, 10, 20]
    document = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    assert document["format"] == "crswatch.simulated_cohort/1"
    assert document["generator_version"] == GENERATOR_VERSION
    assert (document["seed"], document["n"], document["therapy"]) == (3, 23, "mixed")
    assert document["vitals_every_seconds"] == 4 * 3600
    assert document["counts"]["patients"] == 23
    assert sum(document["counts"]["patients_by_therapy"].values()) == 23
    assert "not a grade" in document["truth"]
    assert [shard["events"] for shard in document["shards"]] == [
        f"events/part-0000{number}.parquet" for number in range(3)
    ]

    seen: set[str] = set()
    events_total = 0
    for shard in manifest.shards:
        patients = pl.read_parquet(root / shard.patients)
        events = pl.read_parquet(root / shard.events)
        truth = pl.read_parquet(root / shard.truth)
        assert patients.height == truth.height == shard.n_patients
        assert events.height == shard.n_events
        ids = set(patients["id"])
        # Every event of a patient is in the patient's shard: patients are never split.
        assert set(events["patient_id"]) == ids
        assert ids.isdisjoint(seen)
        seen |= ids
        assert truth["patient_id"].to_list() == patients["id"].to_list()
        assert (truth["shard"] == shard.index).all()
        events_total += events.height
    assert len(seen) == 23
    assert events_total == manifest.n_events == document["counts"]["events"]


def test_tables_use_the_io_schemas(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    manifest = write_cohort(tmp_path / "cohort", 4, seed=1, shard_size=4)
    shard = manifest.shards[0]
    assert pq.read_schema(tmp_path / "cohort" / shard.patients).equals(PATIENT_SCHEMA)
    assert pq.read_schema(tmp_path / "cohort" / shard.events).equals(EVENT_SCHEMA)
    assert pq.read_schema(tmp_path / "cohort" / shard.truth).equals(TRUTH_SCHEMA)


def test_truth_is_consistent_with_the_events(tmp_path: Path) -> None:
    write_cohort(tmp_path / "cohort", 60, seed=21, therapy="car_t", shard_size=60)
    truth = pl.read_parquet(tmp_path / "cohort" / "truth")
    events = pl.read_parquet(tmp_path / "cohort" / "events")
    toci = events.filter(pl.col("item") == "tocilizumab").group_by("patient_id").len()
    joined = truth.join(toci, on="patient_id", how="left").with_columns(pl.col("len").fill_null(0))
    assert (joined["len"] == joined["tocilizumab_doses"]).all()
    assert set(truth["intended_hypotension"]) <= {
        "none",
        "fluids",
        "one_pressor",
        "multiple_pressors",
    }
    assert (truth.filter(pl.col("intended_crs_tier") == 0)["crs_onset"].is_null()).all()
    assert (truth.filter(pl.col("intended_crs_tier") > 0)["crs_onset"].is_not_null()).all()


def test_write_cohort_streams_shard_by_shard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    generated: list[int] = []
    flushed: list[tuple[int, int]] = []
    simulate = _writer.simulate_record
    write_shard = _writer._write_shard

    def counting_simulate(index: int, seed: int, therapy: str, hours: float) -> SimulatedPatient:
        generated.append(index)
        return simulate(index, seed, therapy, hours)  # type: ignore[arg-type]

    def recording_write(
        root: Path, number: int, first: int, patients: Sequence[SimulatedPatient]
    ) -> ShardInfo:
        # How many patients exist when this shard is written: never more than this shard's.
        flushed.append((len(generated), len(patients)))
        return write_shard(root, number, first, patients)

    monkeypatch.setattr(_writer, "simulate_record", counting_simulate)
    monkeypatch.setattr(_writer, "_write_shard", recording_write)
    write_cohort(tmp_path / "cohort", 17, seed=2, shard_size=5)
    assert flushed == [(5, 5), (10, 5), (15, 5), (17, 2)]
    assert generated == list(range(17))


def test_progress_counts_every_patient(tmp_path: Path) -> None:
    reported: list[int] = []
    write_cohort(tmp_path / "cohort", 130, seed=2, shard_size=60, progress=reported.append)
    assert sum(reported) == 130
    assert len(reported) >= 3 and max(reported) <= 60
    json_reported: list[int] = []
    write_cohort(tmp_path / "small.json", 3, seed=2, progress=json_reported.append)
    assert json_reported == [1, 1, 1]


def test_a_single_patient_json_is_one_timeline(tmp_path: Path) -> None:
    manifest = write_cohort(tmp_path / "one.json", 1, seed=2, therapy="blinatumomab")
    document = json.loads((tmp_path / "one.json").read_text(encoding="utf-8"))
    assert document["patient"]["therapy"]["kind"] == "blinatumomab"
    assert manifest.patients_by_therapy == {"blinatumomab": 1}


def test_write_cohort_refuses_a_used_directory_and_bad_arguments(tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "old.txt").write_text("x", encoding="utf-8")
    with pytest.raises(FileExistsError, match="not an empty directory"):
        write_cohort(used, 2, seed=1)
    with pytest.raises(ValueError, match="shard_size=0"):
        write_cohort(tmp_path / "a", 2, seed=1, shard_size=0)
    with pytest.raises(ValueError, match="n=0"):
        write_cohort(tmp_path / "b", 0, seed=1)
    with pytest.raises(ValueError, match="therapy='tcr_t'"):
        write_cohort(tmp_path / "c", 2, seed=1, therapy="tcr_t")  # type: ignore[arg-type]
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert write_cohort(empty, 2, seed=1).n == 2
