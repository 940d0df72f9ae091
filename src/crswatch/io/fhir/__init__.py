"""FHIR R4 Bundles in and out: a Bundle reads into timelines, timelines write out as a Bundle.

The mapping (resources, codes, extensions) is described in docs/decisions/0003-fhir-mapping.md;
the code map from LOINC, RxNorm and SNOMED CT to crswatch items is ``codemap.csv`` in this
package, one reviewed row per code with its source.
"""

from crswatch.io.fhir._codemap import CodeMap, CodeMapRow, load_codemap
from crswatch.io.fhir._read import read_bundle
from crswatch.io.fhir._write import timelines_to_bundle

__all__ = ["CodeMap", "CodeMapRow", "load_codemap", "read_bundle", "timelines_to_bundle"]
