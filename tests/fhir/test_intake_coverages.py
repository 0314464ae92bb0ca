"""FHIR intake of several coverages: Claim.insurance sequence and focal, Coverage.order."""

from __future__ import annotations

import copy
from typing import Any

from claimflow.claims.encounter import ClaimFilingIndicator
from claimflow.integrations.fhir import encounter_from_bundle
from tests.fhir.test_intake import entry_of, problems, professional

SOPT_MEDICARE = "1"
SOPT_MEDICAID = "2"


def with_coverage(
    bundle: dict[str, Any], payer_id: str, sopt: str, sequence: int, *, order: int | None = None
) -> dict[str, Any]:
    """`bundle` with one more Coverage (of a new payer Organization) on the Claim at `sequence`."""
    bundle = copy.deepcopy(bundle)
    _, coverage = entry_of(bundle, "Coverage")
    _, claim = entry_of(bundle, "Claim")
    payer_reference = coverage["payor"][0]["reference"]
    payer = next(
        e["resource"]
        for e in bundle["entry"]
        if payer_reference.endswith(f"/{e['resource']['id']}")
        and e["resource"]["resourceType"] == "Organization"
    )
    new_payer = copy.deepcopy(payer) | {"id": f"payer-{payer_id}", "name": f"PAYER {payer_id}"}
    new_payer["identifier"] = [{**payer["identifier"][0], "value": payer_id}]
    new_coverage = copy.deepcopy(coverage) | {"id": f"cov-{payer_id}", "subscriberId": f"{payer_id}0001"}
    new_coverage["type"] = {"coding": [{**coverage["type"]["coding"][0], "code": sopt}]}
    new_coverage["payor"] = [{"reference": f"Organization/payer-{payer_id}"}]
    if order is not None:
        new_coverage["order"] = order
    for resource in (new_payer, new_coverage):
        bundle["entry"].append(
            {
                "fullUrl": f"https://ehr.example.org/fhir/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
            }
        )
    claim["insurance"].append(
        {"sequence": sequence, "focal": False, "coverage": {"reference": f"Coverage/cov-{payer_id}"}}
    )
    return bundle


def test_coverages_come_in_the_order_of_the_insurance_sequence() -> None:
    bundle = with_coverage(professional(), "SMPMCD", SOPT_MEDICAID, 3)
    bundle = with_coverage(bundle, "SMPMCR", SOPT_MEDICARE, 2)
    encounter = encounter_from_bundle(bundle)
    assert [c.payer_id for c in encounter.coverages] == ["SMPHMO", "SMPMCR", "SMPMCD"]
    assert [c.filing_indicator for c in encounter.other_coverages] == [
        ClaimFilingIndicator.MEDICARE_B,
        ClaimFilingIndicator.MEDICAID,
    ]
    assert encounter.other_coverages[0].member_id == "SMPMCR0001"
    assert encounter.prior_authorization == "AUTH555"  # the primary's


def test_a_listed_coverage_order_puts_it_first_where_sequences_tie() -> None:
    bundle = with_coverage(professional(), "SMPMCR", SOPT_MEDICARE, 1, order=1)
    primary = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Coverage")
    primary["order"] = 2
    assert [c.payer_id for c in encounter_from_bundle(bundle).coverages] == ["SMPMCR", "SMPHMO"]


def test_a_single_coverage_has_no_others() -> None:
    assert encounter_from_bundle(professional()).other_coverages == []


def test_more_than_three_coverages_is_a_problem_that_says_what_to_do() -> None:
    bundle = professional()
    for sequence, payer_id in enumerate(["SMPMCR", "SMPMCD", "SMPBCX"], start=2):
        bundle = with_coverage(bundle, payer_id, SOPT_MEDICAID, sequence)
    found = problems(bundle)
    assert any("4 coverages" in p and "at most 3" in p for p in found)


def test_a_problem_in_a_secondary_coverage_names_that_coverage() -> None:
    bundle = with_coverage(professional(), "SMPMCR", SOPT_MEDICARE, 2)
    coverage = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == "cov-SMPMCR")
    del coverage["subscriberId"]
    assert any("(Coverage/cov-SMPMCR).subscriberId is missing" in p for p in problems(bundle))
