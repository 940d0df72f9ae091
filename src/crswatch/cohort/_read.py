"""Reading a ``crswatch.cohort/1`` output: the manifest, and each table as a lazy Polars scan."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from crswatch.cohort._output import MANIFEST, part_name
from crswatch.cohort._schema import COHORT_FORMAT, TABLE_SCHEMAS, TABLES
from crswatch.errors import TimelineFormatError

__all__ = ["CohortResult", "read_cohort"]


@dataclass(frozen=True, slots=True)
class CohortResult:
    """A graded cohort: ``manifest`` and one ``LazyFrame`` per table of the contract."""

    path: Path
    manifest: dict[str, Any]
    patients: pl.LazyFrame
    trajectory: pl.LazyFrame
    episodes: pl.LazyFrame
    peaks: pl.LazyFrame
    treatments: pl.LazyFrame
    labs: pl.LazyFrame

    @property
    def complete(self) -> bool:
        """True when every shard of the input was graded (an interrupted run is not)."""
        return all(entry.get("done") for entry in self.manifest["shards"].values())

    def table(self, name: str) -> pl.LazyFrame:
        if name not in TABLES:
            raise ValueError(f"table={name!r} must be one of {', '.join(TABLES)}")
        frame: pl.LazyFrame = getattr(self, name)
        return frame


def read_cohort(path: str | Path) -> CohortResult:
    """Open the output of ``crswatch cohort grade`` (only the shards marked done are read)."""
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise TimelineFormatError(f"not a {COHORT_FORMAT} output ({exc})", path=str(path)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != COHORT_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise TimelineFormatError(
            f"manifest format={found!r}, expected {COHORT_FORMAT!r}", path=str(path)
        )
    done = sorted(int(key) for key, entry in manifest["shards"].items() if entry.get("done"))
    scans = {name: _scan(path / name, done, TABLE_SCHEMAS[name]) for name in TABLES}
    return CohortResult(path=path, manifest=manifest, **scans)


def _scan(folder: Path, shards: list[int], schema: dict[str, pl.DataType]) -> pl.LazyFrame:
    files = [folder / part_name(shard) for shard in shards]
    if not files:
        return pl.LazyFrame(schema=schema)
    return pl.scan_parquet(files)
