"""FHIR R4 intake: a Bundle holding one Claim and what it references becomes a claimflow Encounter."""

from claimflow.integrations.fhir.bundle import encounter_from_bundle
from claimflow.integrations.fhir.errors import IntakeError
from claimflow.integrations.fhir.intake import encounter_from_json, load_encounter

__all__ = ["IntakeError", "encounter_from_bundle", "encounter_from_json", "load_encounter"]
