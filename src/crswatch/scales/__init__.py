"""Published grading scales, one module each, criteria as data, evaluated over the state."""

from crswatch.scales._api import PatientGrades, grade_timelines
from crswatch.scales._compare import compare
from crswatch.scales._criteria import Criterion, Scale
from crswatch.scales._docs import render_markdown, write_docs
from crswatch.scales._grade import grade_frame, grade_results
from crswatch.scales._registry import CRS_SCALES, get_scale
from crswatch.scales._result import RESULT_SCHEMA, Evidence, GradeResult

__all__ = [
    "CRS_SCALES",
    "RESULT_SCHEMA",
    "Criterion",
    "Evidence",
    "GradeResult",
    "PatientGrades",
    "Scale",
    "compare",
    "get_scale",
    "grade_frame",
    "grade_results",
    "grade_timelines",
    "render_markdown",
    "write_docs",
]
