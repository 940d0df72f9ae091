"""Biomarkers: kinetics (CRP, ferritin, fibrinogen, IL-6, D-dimer, LDH, transaminases), cytokine
profiles with the LOD rule and the HLH pattern, and pre-treatment risk (EASIX family, disease
burden, CAR-HEMATOTOX behind an unverified flag).  Decisions: docs/decisions/0012-biomarkers.md.
"""

from crswatch.biomarkers._common import Flag, Point
from crswatch.biomarkers._cytokines import (
    CYTOKINES_SCHEMA,
    EXPECTED_HIGH,
    EXPECTED_NORMAL,
    CytokineCourse,
    CytokineProfile,
    HLHPattern,
    cytokine_profile,
)
from crswatch.biomarkers._kinetics import (
    ANALYTES,
    KINETICS_SCHEMA,
    Analyte,
    BiomarkerKinetics,
    CRPPeakSignal,
    Kinetics,
    crp_peak_signal,
    kinetics,
)
from crswatch.biomarkers._lod import LOD_RULE, StatValue, stat_value, stat_value_expr
from crswatch.biomarkers._params import BiomarkerParameters
from crswatch.biomarkers._risk import (
    RISK_SCHEMA,
    DiseaseBurden,
    PretreatmentRisk,
    RiskScore,
    pretreatment_risk,
)

__all__ = [
    "ANALYTES",
    "CYTOKINES_SCHEMA",
    "EXPECTED_HIGH",
    "EXPECTED_NORMAL",
    "KINETICS_SCHEMA",
    "LOD_RULE",
    "RISK_SCHEMA",
    "Analyte",
    "BiomarkerKinetics",
    "BiomarkerParameters",
    "CRPPeakSignal",
    "CytokineCourse",
    "CytokineProfile",
    "DiseaseBurden",
    "Flag",
    "HLHPattern",
    "Kinetics",
    "Point",
    "PretreatmentRisk",
    "RiskScore",
    "StatValue",
    "crp_peak_signal",
    "cytokine_profile",
    "kinetics",
    "pretreatment_risk",
    "stat_value",
    "stat_value_expr",
]
