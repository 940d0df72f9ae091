"""Published grading scales, one module each, criteria as data, evaluated over the state."""

from crswatch.scales._api import (
    CRS_ACTIVITY_SCALE,
    PatientGrades,
    grade_patient_frames,
    grade_state,
    grade_timelines,
    with_crs_activity,
)
from crswatch.scales._compare import compare
from crswatch.scales._criteria import SCALE_KINDS, Criterion, CrsContext, Scale, ScaleKind
from crswatch.scales._docs import render_markdown, write_docs
from crswatch.scales._grade import (
    crs_established,
    grade_frame,
    grade_frames,
    grade_results,
    grade_results_of,
    state_columns,
    thresholds_by_item,
)
from crswatch.scales._notation import GRADE_LEGEND, STATUS_LABELS, grade_notation, grade_on_record
from crswatch.scales._registry import (
    ALL_SCALES,
    CRS_SCALES,
    ICANS_SCALES,
    get_scale,
    select_scales,
)
from crswatch.scales._result import CRS_CONTEXT_ID, RESULT_SCHEMA, Evidence, GradeResult

__all__ = [
    "ALL_SCALES",
    "CRS_ACTIVITY_SCALE",
    "CRS_CONTEXT_ID",
    "CRS_SCALES",
    "GRADE_LEGEND",
    "ICANS_SCALES",
    "RESULT_SCHEMA",
    "SCALE_KINDS",
    "STATUS_LABELS",
    "Criterion",
    "CrsContext",
    "Evidence",
    "GradeResult",
    "PatientGrades",
    "Scale",
    "ScaleKind",
    "compare",
    "crs_established",
    "get_scale",
    "grade_frame",
    "grade_frames",
    "grade_notation",
    "grade_on_record",
    "grade_patient_frames",
    "grade_results",
    "grade_results_of",
    "grade_state",
    "grade_timelines",
    "render_markdown",
    "select_scales",
    "state_columns",
    "thresholds_by_item",
    "with_crs_activity",
    "write_docs",
]
