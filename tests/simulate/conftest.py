"""Simulated cohorts shared by the simulate tests: written once per session, read with Polars."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from crswatch.simulate import write_cohort

#: Realism is judged on 400 patients per therapy (the issue's example size).
REALISM_PATIENTS = 400
REALISM_SEED = 2024
PRESSORS = ("norepinephrine", "epinephrine", "phenylephrine", "dopamine")


@dataclass(frozen=True)
class Cohort:
    """A written cohort; events carry ``hours`` after the therapy start and a numeric ``number``."""

    root: Path
    events: pl.DataFrame
    patients: pl.DataFrame
    truth: pl.DataFrame

    @property
    def size(self) -> int:
        return self.patients.height

    def share(self, patient_ids: pl.Series | pl.DataFrame) -> float:
        """The share of the cohort's patients among ``patient_ids``."""
        frame = patient_ids if isinstance(patient_ids, pl.DataFrame) else patient_ids.to_frame()
        return frame.select(pl.first().n_unique()).item() / self.size

    def of(self, *items: str) -> pl.DataFrame:
        return self.events.filter(pl.col("item").is_in(items))


def load_cohort(root: Path) -> Cohort:
    patients = pl.read_parquet(root / "patients")
    truth = pl.read_parquet(root / "truth")
    starts = patients.select(pl.col("id").alias("patient_id"), "therapy_kind", "therapy_start")
    events = (
        pl.read_parquet(root / "events")
        .join(starts, on="patient_id")
        .with_columns(
            ((pl.col("time") - pl.col("therapy_start")).dt.total_seconds() / 3600.0).alias("hours"),
            pl.col("value").cast(pl.Float64, strict=False).alias("number"),
        )
    )
    return Cohort(root, events, patients, truth)


@pytest.fixture(scope="session")
def car_t_cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    root = tmp_path_factory.mktemp("simulate") / "car_t"
    write_cohort(root, REALISM_PATIENTS, seed=REALISM_SEED, therapy="car_t", shard_size=150)
    return load_cohort(root)


@pytest.fixture(scope="session")
def blinatumomab_cohort(tmp_path_factory: pytest.TempPathFactory) -> Cohort:
    root = tmp_path_factory.mktemp("simulate") / "blinatumomab"
    write_cohort(root, REALISM_PATIENTS, seed=REALISM_SEED, therapy="blinatumomab", shard_size=150)
    return load_cohort(root)
