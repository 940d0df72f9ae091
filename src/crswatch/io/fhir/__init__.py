"""FHIR R4 Bundles in and out (placeholder until the FHIR module lands)."""
