"""FHIR R4 intake: a Bundle holding one Claim and what it references becomes a claimflow Encounter."""

from claimflow.integrations.fhir.bundle import encounter_from_bundle, read_bundle
from claimflow.integrations.fhir.errors import IntakeError
from claimflow.integrations.fhir.intake import encounter_from_json, load_encounter, read_document, read_file
from claimflow.integrations.fhir.result import IntakeResult

__all__ = [
    "IntakeError",
    "IntakeResult",
    "encounter_from_bundle",
    "encounter_from_json",
    "load_encounter",
    "read_bundle",
    "read_document",
    "read_file",
]
