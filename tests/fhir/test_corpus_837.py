"""Every clean bundle of the FHIR corpus becomes an 837 that pyx12 accepts."""

from __future__ import annotations

from datetime import datetime

import pytest

from claimflow.claims.claim import Claim
from claimflow.claims.x12 import write_837
from claimflow.claims.x12.writer import Envelope
from claimflow.integrations.fhir import load_encounter
from tests.fhir.test_corpus import CORPUS, MANIFEST
from tests.x12.oracle import pyx12_errors

CLEAN = sorted(name for name, meta in MANIFEST.items() if meta["defect"] is None)


@pytest.mark.parametrize("name", CLEAN)
def test_clean_bundle_837_passes_pyx12(name: str) -> None:
    encounter = load_encounter(CORPUS / name)
    claim = Claim(encounter=encounter, patient_control_number=encounter.encounter_id)
    envelope = Envelope(
        sender_id="CLAIMFLOW",
        receiver_id="SMPCLEARING",
        interchange_control_number=4242,
        created=datetime(2026, 11, 2, 9, 30),
    )
    assert pyx12_errors(write_837([claim], envelope)) == []
