"""The output directory of ``crswatch cohort grade``: part files and the manifest, both atomic.

Each shard's part files are written under a temporary name and renamed into place; only then is
the shard marked done in ``manifest.json`` (itself replaced atomically).  A crash therefore leaves
every shard either done with all its part files, or not done (its part files, if any, are
rewritten by the next run).  Only the process that owns the manifest writes it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from crswatch.cohort._schema import COHORT_FORMAT, TABLES
from crswatch.errors import CohortOutputError

__all__ = [
    "MANIFEST",
    "Manifest",
    "part_name",
    "prepare_output",
    "remove_stale_parts",
    "shard_key",
    "write_json_atomic",
    "write_shard",
]

MANIFEST = "manifest.json"
#: Manifest fields that must agree for a run to resume an existing output.
_IDENTITY = ("format", "source", "scales", "params")

Manifest = dict[str, Any]


def shard_key(shard: int) -> str:
    return f"{shard:05d}"


def part_name(shard: int) -> str:
    return f"part-{shard_key(shard)}.parquet"


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON to a temporary sibling, flush it to disk, then rename it over ``path``."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1, ensure_ascii=False)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def write_shard(out: Path, shard: int, tables: Mapping[str, pl.DataFrame]) -> None:
    """Write one shard's part file in every table folder, each atomically (temp name + rename)."""
    for table in TABLES:
        folder = out / table
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / part_name(shard)
        temporary = folder / f".{final.name}.tmp-{os.getpid()}"
        tables[table].write_parquet(temporary, compression="zstd", statistics=True)
        temporary.replace(final)


def shard_complete(out: Path, shard: int) -> bool:
    """True when every table folder has this shard's part file."""
    return all((out / table / part_name(shard)).is_file() for table in TABLES)


def remove_stale_parts(out: Path, shards: set[int]) -> None:
    """Delete leftovers a reader globbing a table folder would pick up by mistake.

    Part files of shards the input no longer has (it shrank between a run and its resumption),
    and temporary files of a crashed run.
    """
    for table in TABLES:
        folder = out / table
        if not folder.is_dir():
            continue
        for child in folder.iterdir():
            stem = child.name.removeprefix("part-").removesuffix(".parquet")
            temporary = child.name.startswith(".part-") and ".tmp-" in child.name
            stale = child.name.startswith("part-") and stem.isdigit() and int(stem) not in shards
            if temporary or stale:
                child.unlink()


def prepare_output(out: Path, identity: Manifest, *, overwrite: bool) -> Manifest | None:
    """Check ``out`` before a run; the existing manifest to resume from, or ``None``.

    An output made from another source, scales or parameters is refused (``CohortOutputError``
    naming the field and both values) unless ``overwrite``, which deletes it first.  A path that
    exists but is not a cohort output is never deleted.
    """
    if not out.exists():
        return None
    manifest_path = out / MANIFEST
    existing: Manifest | None = None
    if manifest_path.is_file():
        try:
            existing = json.loads(manifest_path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise CohortOutputError(f"unreadable {MANIFEST} ({exc})", path=str(out)) from None
    if not isinstance(existing, dict) or existing.get("format") != COHORT_FORMAT:
        if out.is_dir() and not any(out.iterdir()):
            return None
        raise CohortOutputError(
            f"exists and is not a {COHORT_FORMAT} output; choose another path", path=str(out)
        )
    if overwrite:
        shutil.rmtree(out)
        return None
    for name in _IDENTITY:
        if existing.get(name) != identity[name]:
            raise CohortOutputError(
                f"was made with {name}={existing.get(name)!r}, this run has "
                f"{name}={identity[name]!r}; rerun with --overwrite to replace it",
                path=str(out),
            )
    return existing
