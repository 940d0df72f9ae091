"""Published grading scales, one module each, criteria as data, evaluated over the state.

The names are loaded on first use (PEP 562), as the package root's are (decision 0056): the
scale registry and its criteria (``crswatch scales``, the docs pages) need neither the state
engine nor the grading queries, which importing ``_api`` and ``_grade`` pulls in (about
0.1 s of a command's start-up; issue 16, point 5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crswatch._lazy import lazy_names

if TYPE_CHECKING:
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
    from crswatch.scales._notation import (
        GRADE_LEGEND,
        STATUS_LABELS,
        grade_notation,
        grade_on_record,
    )
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

#: The lazily loaded names and the module each comes from.
_LAZY = {
    "CRS_ACTIVITY_SCALE": "crswatch.scales._api",
    "PatientGrades": "crswatch.scales._api",
    "grade_patient_frames": "crswatch.scales._api",
    "grade_state": "crswatch.scales._api",
    "grade_timelines": "crswatch.scales._api",
    "with_crs_activity": "crswatch.scales._api",
    "compare": "crswatch.scales._compare",
    "Criterion": "crswatch.scales._criteria",
    "CrsContext": "crswatch.scales._criteria",
    "SCALE_KINDS": "crswatch.scales._criteria",
    "Scale": "crswatch.scales._criteria",
    "ScaleKind": "crswatch.scales._criteria",
    "render_markdown": "crswatch.scales._docs",
    "write_docs": "crswatch.scales._docs",
    "crs_established": "crswatch.scales._grade",
    "grade_frame": "crswatch.scales._grade",
    "grade_frames": "crswatch.scales._grade",
    "grade_results": "crswatch.scales._grade",
    "grade_results_of": "crswatch.scales._grade",
    "state_columns": "crswatch.scales._grade",
    "thresholds_by_item": "crswatch.scales._grade",
    "GRADE_LEGEND": "crswatch.scales._notation",
    "STATUS_LABELS": "crswatch.scales._notation",
    "grade_notation": "crswatch.scales._notation",
    "grade_on_record": "crswatch.scales._notation",
    "ALL_SCALES": "crswatch.scales._registry",
    "CRS_SCALES": "crswatch.scales._registry",
    "ICANS_SCALES": "crswatch.scales._registry",
    "get_scale": "crswatch.scales._registry",
    "select_scales": "crswatch.scales._registry",
    "CRS_CONTEXT_ID": "crswatch.scales._result",
    "Evidence": "crswatch.scales._result",
    "GradeResult": "crswatch.scales._result",
    "RESULT_SCHEMA": "crswatch.scales._result",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
