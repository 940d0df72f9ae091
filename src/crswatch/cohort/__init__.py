"""Cohorts at scale: the same grading kernel over patient shards, locally or on Spark.

``grade_cohort`` writes the ``crswatch.cohort/1`` directory (docs/decisions/0019-cohort-grade.md)
and ``read_cohort`` opens it for readers; ``grade_shard`` is the kernel both engines run.
``write_report`` and ``registry_rows`` / ``write_registry_csv`` read it: incidence, agreement,
re-grading and PD summaries, and registry-shaped export (docs/decisions/0020).
"""

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
