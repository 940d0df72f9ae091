"""FHIR R4 Bundles in and out: a Bundle reads into timelines, timelines write out as a Bundle,
and results (grades as Observations, alerts as DetectedIssues) write out beside them.

The mapping (resources, codes, extensions) is described in docs/decisions/0003-fhir-mapping.md;
the code map from LOINC, RxNorm and SNOMED CT to crswatch items is ``codemap.csv`` in this
package, one reviewed row per code with its source.
"""

from crswatch.io.fhir._codemap import CodeMap, CodeMapRow, load_codemap
from crswatch.io.fhir._read import read_bundle
from crswatch.io.fhir._results import (
    ALERT_SYSTEM,
    GRADE_SYSTEM,
    results_to_bundle,
)
from crswatch.io.fhir._write import timelines_to_bundle

__all__ = [
    "ALERT_SYSTEM",
    "GRADE_SYSTEM",
    "CodeMap",
    "CodeMapRow",
    "load_codemap",
    "read_bundle",
    "results_to_bundle",
    "timelines_to_bundle",
]
