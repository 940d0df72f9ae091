"""Canonical timelines: the data contract ``crswatch.timeline/1``, units and validation."""

from crswatch.timeline._frame import EVENT_FRAME_SCHEMA, PATIENT_FRAME_SCHEMA, to_frames
from crswatch.timeline._limits import (
    MAX_PATIENT_ID_LENGTH,
    MAX_TEXT_LENGTH,
    PATIENT_ID_PATTERN,
    TimeWindow,
    patient_id_problem,
)
from crswatch.timeline._model import FORMAT, Event, Patient, Therapy, Timeline, format_time
from crswatch.timeline._parse import (
    ReadResult,
    build_timeline,
    check_document,
    parse_time,
    unknown_field_note,
)
from crswatch.timeline._report import IngestIssue, IngestReport
from crswatch.timeline._response import RESPONSES, ResponseCode, is_responder, response_codes
from crswatch.timeline._units import Conversion, conversion_for
from crswatch.timeline._vocabulary import NOT_ASSESSED, ItemSpec, item_spec, molar_mass, vocabulary

__all__ = [
    "EVENT_FRAME_SCHEMA",
    "FORMAT",
    "MAX_PATIENT_ID_LENGTH",
    "MAX_TEXT_LENGTH",
    "NOT_ASSESSED",
    "PATIENT_FRAME_SCHEMA",
    "PATIENT_ID_PATTERN",
    "RESPONSES",
    "Conversion",
    "Event",
    "IngestIssue",
    "IngestReport",
    "ItemSpec",
    "Patient",
    "ReadResult",
    "ResponseCode",
    "Therapy",
    "TimeWindow",
    "Timeline",
    "build_timeline",
    "check_document",
    "conversion_for",
    "format_time",
    "is_responder",
    "item_spec",
    "molar_mass",
    "parse_time",
    "patient_id_problem",
    "response_codes",
    "to_frames",
    "unknown_field_note",
    "vocabulary",
]
