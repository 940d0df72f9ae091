"""Doses of the drugs and fluids given around CRS, by body size (all in canonical units).

- tocilizumab: 8 mg/kg (12 mg/kg below 30 kg), at most 800 mg (label, clinical-criteria §4.2;
  seeds 000 and 003 gave 8 mg/kg);
- dexamethasone for CRS or ICANS: 10 mg, children 0.5 mg/kg up to 10 mg (clinical-criteria §4.3
  G3; seed 002);
- dexamethasone for blinatumomab CRS grade 3-4: 8 mg, children 5 mg/m² up to 8 mg, every 8 h for
  3 days (BLINCYTO label, clinical-criteria §4.6);
- dexamethasone premedication for blinatumomab: 20 mg, children 5 mg/m² up to 20 mg, 1 h before
  the first dose and each step (label, §4.6); prednisone 100 mg before an MRD cycle (§4.6 [R]);
- methylprednisolone for grade 4: 500 mg, children 1 mg/kg, every 12 h (§4.3 G4; seed 002: 2
  mg/kg/day);
- anakinra for an HLH-like course: 100 mg, children 2 mg/kg (an assumption, IEC-HS practice);
- etoposide: 150 mg/m² (HLH-94, as in the vocabulary's rationale);
- acetaminophen: 1000 mg from 50 kg, else 15 mg/kg (clinical-criteria §4.3: 650-1000 mg).
"""

from __future__ import annotations

from crswatch.simulate._demographics import Demographics

__all__ = [
    "acetaminophen_mg",
    "anakinra_mg",
    "blinatumomab_crs_dexamethasone_mg",
    "dexamethasone_mg",
    "etoposide_mg",
    "methylprednisolone_mg",
    "premedication_dexamethasone_mg",
    "tocilizumab_mg",
]


def tocilizumab_mg(patient: Demographics) -> float:
    per_kg = 12.0 if patient.weight_kg < 30.0 else 8.0
    return float(min(800.0, round(per_kg * patient.weight_kg)))


def dexamethasone_mg(patient: Demographics) -> float:
    return 10.0 if not patient.child else min(10.0, round(0.5 * patient.weight_kg, 1))


def blinatumomab_crs_dexamethasone_mg(patient: Demographics) -> float:
    return 8.0 if patient.weight_kg >= 45.0 else min(8.0, round(5.0 * patient.bsa_m2, 1))


def premedication_dexamethasone_mg(patient: Demographics) -> float:
    return 20.0 if not patient.child else min(20.0, round(5.0 * patient.bsa_m2, 1))


def methylprednisolone_mg(patient: Demographics) -> float:
    return 500.0 if not patient.child else float(max(1.0, round(patient.weight_kg)))


def anakinra_mg(patient: Demographics) -> float:
    return (
        100.0 if not patient.child else float(min(100.0, max(1.0, round(2.0 * patient.weight_kg))))
    )


def etoposide_mg(patient: Demographics) -> float:
    return float(round(150.0 * patient.bsa_m2))


def acetaminophen_mg(patient: Demographics) -> float:
    if patient.weight_kg >= 50.0:
        return 1000.0
    return float(min(1000.0, max(10.0, round(15.0 * patient.weight_kg / 10.0) * 10.0)))
