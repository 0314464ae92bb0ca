"""bundle_from_encounter is the inverse of intake for the sandbox's scenario encounters."""

from __future__ import annotations

import json
from datetime import date

import pytest

from claimflow.claims.encounter import ClaimFilingIndicator
from claimflow.integrations.fhir import IntakeError, encounter_from_bundle
from claimflow.integrations.fhir.export import bundle_from_encounter
from claimflow.integrations.sandbox.scenarios import Scenario, Trouble, scenario_batch

SCENARIOS = scenario_batch(48, today=date(2026, 3, 2), seed=7, prefix="RT")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.encounter.encounter_id}-{s.kind.value}")
def test_round_trip(scenario: Scenario) -> None:
    bundle = json.loads(json.dumps(bundle_from_encounter(scenario.encounter)))  # stored as plain JSON
    assert encounter_from_bundle(bundle) == scenario.encounter


def test_every_trouble_is_covered() -> None:
    assert {s.kind for s in SCENARIOS} == set(Trouble)


def test_uncoded_encounter_keeps_its_date_of_service() -> None:
    uncoded = next(s.encounter for s in SCENARIOS if not s.encounter.is_coded)
    claim = next(
        e["resource"]
        for e in bundle_from_encounter(uncoded)["entry"]
        if e["resource"]["resourceType"] == "Claim"
    )
    assert "item" not in claim and "diagnosis" not in claim
    assert encounter_from_bundle(bundle_from_encounter(uncoded)).service_date == uncoded.service_date


def test_claim_without_items_or_billable_period_is_still_refused() -> None:
    uncoded = next(s.encounter for s in SCENARIOS if not s.encounter.is_coded)
    bundle = bundle_from_encounter(uncoded)
    for entry in bundle["entry"]:
        entry["resource"].pop("billablePeriod", None)
    with pytest.raises(IntakeError, match="item is missing"):
        encounter_from_bundle(bundle)


def test_indicator_without_a_payment_typology_code_is_named() -> None:
    encounter = SCENARIOS[0].encounter
    odd = encounter.model_copy(
        update={
            "coverage": encounter.coverage.model_copy(
                update={"filing_indicator": ClaimFilingIndicator.DISABILITY}
            )
        }
    )
    with pytest.raises(ValueError, match="DS has no Source of Payment Typology code"):
        bundle_from_encounter(odd)
