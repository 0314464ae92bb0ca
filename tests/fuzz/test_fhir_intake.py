"""The FHIR intake on damaged Bundles: an IntakeError listing the problems or an Encounter, never
another exception, never a hang."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from claimflow.claims.encounter import Encounter
from claimflow.integrations.fhir import IntakeError, load_encounter
from tests.fuzz.harness import Tally, fuzz_settings
from tests.fuzz.mutations import bundles, mutated_bundles

pytestmark = pytest.mark.slow


def test_intake_answers_every_damaged_bundle_with_its_problems_or_an_encounter(tmp_path: Path) -> None:
    corpus = bundles()
    assert len(corpus) > 50
    tally = Tally("FHIR intake")
    visit = tmp_path / "visit.json"

    def outcome(data: bytes) -> str:
        visit.write_bytes(data)
        try:
            encounter = load_encounter(visit)
        except IntakeError as exc:
            assert exc.problems and all(problem.strip() for problem in exc.problems), exc
            return "IntakeError"
        Encounter.model_validate(encounter.model_dump())
        return "read"

    @fuzz_settings()
    @given(mutated_bundles(corpus))
    def one_input(data: bytes) -> None:
        tally.run(lambda: outcome(data))

    one_input()
    tally.check_count()
