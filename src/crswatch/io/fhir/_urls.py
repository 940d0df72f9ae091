"""Code systems, identifier systems and extension URLs used by the FHIR reader and writer.

The ``urn:crswatch:`` names are crswatch's own (docs/decisions/0003-fhir-mapping.md lists them);
the others are the canonical URLs of the terminologies, as FHIR R4 names them
(hl7.org/fhir/R4/terminologies-systems.html).
"""

from __future__ import annotations

__all__ = [
    "DATA_ABSENT_REASON",
    "EVENT_ID_SYSTEM",
    "EXT_AGE_YEARS",
    "EXT_BSA_M2",
    "EXT_CAUSE",
    "EXT_CENSORED",
    "EXT_HEIGHT_CM",
    "EXT_HIGH_RISK",
    "EXT_REFERENCE_RANGE",
    "EXT_RESPONSE",
    "EXT_SOURCE",
    "EXT_THERAPY",
    "EXT_VALUE",
    "EXT_WEIGHT_KG",
    "ITEM_SYSTEM",
    "LOINC",
    "OBSERVATION_CATEGORY",
    "PATIENT_ID_SYSTEM",
    "RESOURCE_TYPES",
    "RXNORM",
    "SNOMED",
    "UCUM",
    "VALUE_SYSTEM",
]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
#: Used only as the system part of ``unknown_codes`` keys for resource types that are not read.
RESOURCE_TYPES = "http://hl7.org/fhir/resource-types"

#: Local code system: code = a crswatch item name; makes every item round-trip.
ITEM_SYSTEM = "urn:crswatch:item"
#: Local code system: code = a value of a coded item (``nasal_cannula``, ``awakens_to_voice``).
VALUE_SYSTEM = "urn:crswatch:value"
EVENT_ID_SYSTEM = "urn:crswatch:event-id"
PATIENT_ID_SYSTEM = "urn:crswatch:patient-id"

_EXTENSION = "urn:crswatch:fhir:extension:"
# Patient fields FHIR R4 has no element for.
EXT_AGE_YEARS = _EXTENSION + "age-years"
EXT_HIGH_RISK = _EXTENSION + "high-risk"
EXT_BSA_M2 = _EXTENSION + "bsa-m2"
EXT_WEIGHT_KG = _EXTENSION + "weight-kg"
EXT_HEIGHT_CM = _EXTENSION + "height-cm"
#: Complex extension; its children are ``kind`` (valueCode), ``product`` (valueString) and
#: ``start`` (valueDateTime), relative URLs as FHIR's complex extensions use.
EXT_THERAPY = _EXTENSION + "therapy"
#: Complex extension for the optional best overall response (docs/decisions/0022): children
#: ``best`` (valueCode, a code of crswatch.timeline.RESPONSES) and ``assessed`` (valueDate).
EXT_RESPONSE = _EXTENSION + "response"
# Event fields with no element in the resource they are written to.
EXT_CAUSE = _EXTENSION + "cause"
EXT_SOURCE = _EXTENSION + "source"
EXT_CENSORED = _EXTENSION + "censored"
EXT_REFERENCE_RANGE = _EXTENSION + "reference-range"
#: A non-numeric value of a free-form item (the CAR T cell dose written as text).
EXT_VALUE = _EXTENSION + "value"
