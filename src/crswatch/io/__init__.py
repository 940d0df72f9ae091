"""Readers and writers: JSON, CSV/Parquet table pairs and FHIR R4 Bundles, all to one timeline."""

from crswatch.io._frames import FrameResult, iter_frames, read_frames, read_table_frames
from crswatch.io._json import read_json_document, timelines_to_json
from crswatch.io._paths import Format, detect_output_format, iter_read, read_path, write_path
from crswatch.io._tabular import (
    EVENT_SCHEMA,
    PATIENT_SCHEMA,
    TablePair,
    find_table_pairs,
    read_table_pair,
    timelines_to_tables,
    write_tables,
)
from crswatch.io.fhir import read_bundle, timelines_to_bundle

__all__ = [
    "EVENT_SCHEMA",
    "PATIENT_SCHEMA",
    "Format",
    "FrameResult",
    "TablePair",
    "detect_output_format",
    "find_table_pairs",
    "iter_frames",
    "iter_read",
    "read_bundle",
    "read_frames",
    "read_json_document",
    "read_path",
    "read_table_frames",
    "read_table_pair",
    "timelines_to_bundle",
    "timelines_to_json",
    "timelines_to_tables",
    "write_path",
    "write_tables",
]
