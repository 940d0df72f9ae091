"""The CDS services crswatch offers and their prefetch templates (the discovery document).

The prefetch templates ask for what the FHIR reader reads (docs/decisions/0003-fhir-mapping.md
§5): the Patient (weight, height and therapy extensions), vital-sign, laboratory, survey (ICE,
RASS) and exam Observations, MedicationAdministrations (vasopressors, tocilizumab,
corticosteroids, the T-cell engager itself), Procedures (oxygen and ventilation) and
DeviceUseStatements with their Device.  The templates use the spec's recommended subset (type
search by patient, token equality) except the two ``_include`` parameters, which bring the
Medication and Device resources that administrations and device statements may reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["PREFETCH", "SERVICES", "CdsService", "discovery"]

_P = "{{context.patientId}}"

#: Prefetch key -> FHIR query template; one set for every service, so the EHR can serve them
#: from one cache.
PREFETCH: MappingProxyType[str, str] = MappingProxyType(
    {
        "patient": f"Patient/{_P}",
        "vitalSigns": f"Observation?patient={_P}&category=vital-signs",
        "laboratory": f"Observation?patient={_P}&category=laboratory",
        "assessments": f"Observation?patient={_P}&category=survey,exam",
        "medicationAdministrations": (
            f"MedicationAdministration?patient={_P}&_include=MedicationAdministration:medication"
        ),
        "procedures": f"Procedure?patient={_P}",
        "devices": f"DeviceUseStatement?patient={_P}&_include=DeviceUseStatement:device",
    }
)


@dataclass(frozen=True, slots=True)
class CdsService:
    id: str
    hook: str
    title: str
    description: str
    usage: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "title": self.title,
            "description": self.description,
            "id": self.id,
            "prefetch": dict(PREFETCH),
            "usageRequirements": self.usage,
        }


_USAGE = (
    "Patients on T-cell engaging therapy (CAR T cells, blinatumomab, bispecific antibodies). "
    "The therapy and its start are read from the crswatch therapy extension on Patient, or from "
    "the first administration of the therapy. Without prefetch, the service reads the FHIR "
    "server with the fhirAuthorization token."
)
_ORDERS = (
    "Checks draft MedicationRequests for tocilizumab against the US label (dose by weight, "
    "800 mg cap, 8 h interval, 3 doses in 24 h, 4 in total) and for corticosteroids against the "
    "dose the management rule set gives at the current grade; no card when the order agrees."
)

SERVICES: tuple[CdsService, ...] = (
    CdsService(
        id="crswatch-patient-view",
        hook="patient-view",
        title="CRS, ICANS and HLH/MAS status",
        description=(
            "Current cytokine release syndrome and ICANS grades on the site's scales, with the "
            "deciding findings and the data still missing, and HLH/MAS screen alerts."
        ),
        usage=_USAGE,
    ),
    CdsService(
        id="crswatch-order-select",
        hook="order-select",
        title="Tocilizumab and corticosteroid dose check (order selected)",
        description=_ORDERS,
        usage=_USAGE,
    ),
    CdsService(
        id="crswatch-order-sign",
        hook="order-sign",
        title="Tocilizumab and corticosteroid dose check (order signed)",
        description=_ORDERS,
        usage=_USAGE,
    ),
)


def discovery() -> dict[str, Any]:
    """The body of ``GET /cds-services``."""
    return {"services": [service.to_dict() for service in SERVICES]}
