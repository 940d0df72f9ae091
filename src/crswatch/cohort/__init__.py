"""Cohorts at scale: the same grading kernel over patient shards, locally or on Spark.

``grade_cohort`` writes the ``crswatch.cohort/1`` directory (docs/decisions/0019-cohort-grade.md)
and ``read_cohort`` opens it for readers; ``grade_shard`` is the kernel both engines run.
``write_report`` and ``registry_rows`` / ``write_registry_csv`` read it: incidence, agreement,
re-grading and PD summaries, and registry-shaped export (docs/decisions/0020).

The names are loaded on first use (PEP 562), as the package root's are (decision 0056): a
spawned cohort worker, which unpickles ``grade_source`` from ``_shard``, then imports the kernel
and its reader, not the report, agreement, export and Spark modules (decision 0077).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crswatch._lazy import lazy_names

if TYPE_CHECKING:
    from crswatch.cohort._agreement import (
        Agreement,
        Regrade,
        cross_scale_agreement,
        follow_up_peaks,
        incidence,
        onset_and_duration,
        pair_agreement,
        regrade,
        same_grade_everywhere,
        time_to_tocilizumab,
    )
    from crswatch.cohort._export import (
        REGISTRY_FORMATS,
        registry_fields,
        registry_rows,
        reporting_periods,
        write_registry_csv,
    )
    from crswatch.cohort._grade import ENGINES, CohortSummary, Engine, grade_cohort
    from crswatch.cohort._kernel import (
        LAB_GROUPS,
        TREATMENT_CATEGORIES,
        grade_shard,
        grade_shard_arrow,
        treatment_category,
    )
    from crswatch.cohort._pd import (
        DEFAULT_ULN,
        NOMINAL_GRID,
        cmax_by_regimen,
        cmax_per_dose_step,
        nominal_summary,
    )
    from crswatch.cohort._read import CohortResult, read_cohort
    from crswatch.cohort._report import write_report
    from crswatch.cohort._report_data import CohortReport, build_report
    from crswatch.cohort._schema import COHORT_FORMAT, TABLE_SCHEMAS, TABLES
    from crswatch.cohort._shard import ShardOutcome
    from crswatch.cohort._sources import DEFAULT_SHARD_SIZE
    from crswatch.cohort._spark import SparkUnavailableError, spark_session

__all__ = [
    "COHORT_FORMAT",
    "DEFAULT_SHARD_SIZE",
    "DEFAULT_ULN",
    "ENGINES",
    "LAB_GROUPS",
    "NOMINAL_GRID",
    "REGISTRY_FORMATS",
    "TABLES",
    "TABLE_SCHEMAS",
    "TREATMENT_CATEGORIES",
    "Agreement",
    "CohortReport",
    "CohortResult",
    "CohortSummary",
    "Engine",
    "Regrade",
    "ShardOutcome",
    "SparkUnavailableError",
    "build_report",
    "cmax_by_regimen",
    "cmax_per_dose_step",
    "cross_scale_agreement",
    "follow_up_peaks",
    "grade_cohort",
    "grade_shard",
    "grade_shard_arrow",
    "incidence",
    "nominal_summary",
    "onset_and_duration",
    "pair_agreement",
    "read_cohort",
    "registry_fields",
    "registry_rows",
    "regrade",
    "reporting_periods",
    "same_grade_everywhere",
    "spark_session",
    "time_to_tocilizumab",
    "treatment_category",
    "write_registry_csv",
    "write_report",
]

#: The lazily loaded names and the module each comes from.
_LAZY = {
    "Agreement": "crswatch.cohort._agreement",
    "Regrade": "crswatch.cohort._agreement",
    "cross_scale_agreement": "crswatch.cohort._agreement",
    "follow_up_peaks": "crswatch.cohort._agreement",
    "incidence": "crswatch.cohort._agreement",
    "onset_and_duration": "crswatch.cohort._agreement",
    "pair_agreement": "crswatch.cohort._agreement",
    "regrade": "crswatch.cohort._agreement",
    "same_grade_everywhere": "crswatch.cohort._agreement",
    "time_to_tocilizumab": "crswatch.cohort._agreement",
    "REGISTRY_FORMATS": "crswatch.cohort._export",
    "registry_fields": "crswatch.cohort._export",
    "registry_rows": "crswatch.cohort._export",
    "reporting_periods": "crswatch.cohort._export",
    "write_registry_csv": "crswatch.cohort._export",
    "CohortSummary": "crswatch.cohort._grade",
    "ENGINES": "crswatch.cohort._grade",
    "Engine": "crswatch.cohort._grade",
    "grade_cohort": "crswatch.cohort._grade",
    "LAB_GROUPS": "crswatch.cohort._kernel",
    "TREATMENT_CATEGORIES": "crswatch.cohort._kernel",
    "grade_shard": "crswatch.cohort._kernel",
    "grade_shard_arrow": "crswatch.cohort._kernel",
    "treatment_category": "crswatch.cohort._kernel",
    "DEFAULT_ULN": "crswatch.cohort._pd",
    "NOMINAL_GRID": "crswatch.cohort._pd",
    "cmax_by_regimen": "crswatch.cohort._pd",
    "cmax_per_dose_step": "crswatch.cohort._pd",
    "nominal_summary": "crswatch.cohort._pd",
    "CohortResult": "crswatch.cohort._read",
    "read_cohort": "crswatch.cohort._read",
    "write_report": "crswatch.cohort._report",
    "CohortReport": "crswatch.cohort._report_data",
    "build_report": "crswatch.cohort._report_data",
    "COHORT_FORMAT": "crswatch.cohort._schema",
    "TABLES": "crswatch.cohort._schema",
    "TABLE_SCHEMAS": "crswatch.cohort._schema",
    "ShardOutcome": "crswatch.cohort._shard",
    "DEFAULT_SHARD_SIZE": "crswatch.cohort._sources",
    "SparkUnavailableError": "crswatch.cohort._spark",
    "spark_session": "crswatch.cohort._spark",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
