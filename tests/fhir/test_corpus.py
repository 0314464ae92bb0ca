"""The FHIR corpus: every seeded defect is found in its category, and clean bundles get no error."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from claimflow.claims.payers import default_directory
from claimflow.claims.scrub import Category, scrub
from claimflow.integrations.fhir import load_encounter

CORPUS = Path(__file__).resolve().parents[1] / "data" / "fhir"
MANIFEST: dict[str, dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())
DIRECTORY = default_directory()
READING_CATEGORIES = {"address", "required_field", "frequency", "structure"}


def test_the_corpus_is_half_clean_and_covers_every_category() -> None:
    assert len(MANIFEST) >= 60
    clean = [name for name, meta in MANIFEST.items() if meta["defect"] is None]
    assert len(clean) * 2 >= len(MANIFEST)
    seeded = {meta["defect"]["category"] for meta in MANIFEST.values() if meta["defect"]}
    # the scrub rules' categories; tests/data/fhir_defects covers the intake's as well
    assert seeded == {category.value for category in Category} - READING_CATEGORIES
    assert sorted(path.name for path in CORPUS.glob("*.json") if path.name != "manifest.json") == sorted(
        MANIFEST
    )


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_bundle_scrubs_as_expected(name: str) -> None:
    meta = MANIFEST[name]
    encounter = load_encounter(CORPUS / name)
    known = [load_encounter(CORPUS / meta["known"])] if meta.get("known") else []
    profile = DIRECTORY.profile_for(encounter.coverage.payer_id, encounter.coverage.filing_indicator)
    result = scrub(encounter, as_of=date.fromisoformat(meta["as_of"]), profile=profile, known_claims=known)
    errors = {(finding.category.value, finding.rule) for finding in result.errors}
    if meta["defect"] is None:
        assert errors == set(), [finding.message for finding in result.errors]
    else:
        assert errors == {(meta["defect"]["category"], meta["defect"]["rule"])}, [
            finding.message for finding in result.errors
        ]
