"""Reading and writing timelines by path, whatever their form (JSON, CSV/Parquet pair, FHIR)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from crswatch.errors import TimelineFormatError
from crswatch.io._json import load_json, read_json_document, write_json
from crswatch.io._tabular import iter_table_results, write_tables
from crswatch.timeline import IngestReport, ReadResult, Timeline

__all__ = ["Format", "detect_output_format", "iter_read", "read_path", "write_path"]

Format = Literal["json", "csv", "parquet", "fhir"]
FORMATS: tuple[Format, ...] = ("json", "csv", "parquet", "fhir")


def _is_bundle(document: Any) -> bool:
    return isinstance(document, Mapping) and document.get("resourceType") == "Bundle"


def iter_read(path: str | Path) -> Iterator[ReadResult]:
    """Read timelines part by part: a whole JSON file at once, a sharded table set per shard.

    Use it for cohorts too large to hold at once; each part has its own report.
    """
    path = Path(path)
    if not path.exists():
        raise TimelineFormatError("no such file or directory", path=str(path))
    if path.is_file() and path.suffix == ".json":
        document = load_json(path)
        if _is_bundle(document):
            from crswatch.io.fhir import read_bundle

            yield read_bundle(document, source=str(path))
        else:
            yield read_json_document(document, source=str(path))
        return
    yield from iter_table_results(path)


def read_path(path: str | Path) -> ReadResult:
    """Every timeline at ``path`` with one merged ingest report."""
    timelines: list[Timeline] = []
    report = IngestReport(source=str(path))
    for part in iter_read(path):
        timelines.extend(part.timelines)
        report.merge(part.report)
    return ReadResult(timelines, report)


def detect_output_format(path: Path, to: str | None) -> Format:
    """The output format: ``to`` when given, else from the name (``.fhir.json``, ``.json``)."""
    if to is not None:
        if to not in FORMATS:
            raise TimelineFormatError(f"--to {to!r} must be one of {', '.join(FORMATS)}")
        return to
    name = path.name.lower()
    if name.endswith((".fhir.json", ".bundle.json")):
        return "fhir"
    if name.endswith(".json"):
        return "json"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".csv"):
        return "csv"
    raise TimelineFormatError(
        "cannot tell the output format from the name; use .json, .fhir.json, or a directory "
        "with --to csv|parquet",
        path=str(path),
    )


def write_path(timelines: Iterable[Timeline], path: str | Path, *, to: str | None = None) -> Path:
    """Write timelines as ``to`` (or the format the name implies); returns what was written.

    Tables go into a directory (``patients.csv`` and ``events.csv``); a ``.csv`` or ``.parquet``
    name is taken as that directory's name without the suffix.
    """
    path = Path(path)
    fmt = detect_output_format(path, to)
    timelines = list(timelines)
    if fmt == "json":
        write_json(timelines, path)
        return path
    if fmt == "fhir":
        from crswatch.io.fhir import timelines_to_bundle

        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            json.dump(timelines_to_bundle(timelines), handle, indent=1, ensure_ascii=False)
            handle.write("\n")
        return path
    directory = path.with_suffix("") if path.suffix in (".csv", ".parquet") else path
    write_tables(timelines, directory, suffix=f".{fmt}")
    return directory
