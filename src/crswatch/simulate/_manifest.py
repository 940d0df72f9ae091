"""The manifest of a written cohort: what was generated, how, and where each shard is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crswatch.timeline import FORMAT

__all__ = ["GENERATOR_VERSION", "MANIFEST_FORMAT", "CohortManifest", "ShardInfo"]

MANIFEST_FORMAT = "crswatch.simulated_cohort/1"
#: Bumped whenever the same seed would give different patients.
GENERATOR_VERSION = "1"
TRUTH_NOTE = (
    "truth/ holds the generator's intent per patient (intended_* columns, onset and treatment "
    "times); it is not a grade computed from the timeline, and scales may grade differently"
)


@dataclass(frozen=True, slots=True)
class ShardInfo:
    """One shard: its three files (relative to the cohort directory) and what they hold."""

    index: int
    patients: str
    events: str
    truth: str
    first_patient: int
    n_patients: int
    n_events: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "patients": self.patients,
            "events": self.events,
            "truth": self.truth,
            "first_patient": self.first_patient,
            "n_patients": self.n_patients,
            "n_events": self.n_events,
        }


@dataclass(frozen=True, slots=True)
class CohortManifest:
    """What :func:`crswatch.simulate.write_cohort` wrote."""

    path: Path
    output: Literal["json", "parquet"]
    seed: int
    n: int
    therapy: str
    vitals_every_seconds: float
    shard_size: int | None
    shards: tuple[ShardInfo, ...]
    n_events: int
    patients_by_therapy: dict[str, int] = field(default_factory=dict)
    generator_version: str = GENERATOR_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The ``manifest.json`` content (the output path is left out: a cohort can be moved)."""
        return {
            "format": MANIFEST_FORMAT,
            "timeline_format": FORMAT,
            "generator": "crswatch.simulate",
            "generator_version": self.generator_version,
            "numpy_version": np.__version__,
            "output": self.output,
            "seed": self.seed,
            "n": self.n,
            "therapy": self.therapy,
            "vitals_every_seconds": self.vitals_every_seconds,
            "shard_size": self.shard_size,
            "counts": {
                "patients": self.n,
                "events": self.n_events,
                "patients_by_therapy": dict(sorted(self.patients_by_therapy.items())),
            },
            "shards": [shard.to_dict() for shard in self.shards],
            "truth": TRUTH_NOTE,
        }

    def write(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle, indent=1, ensure_ascii=False)
            handle.write("\n")
