"""FHIR R4 Bundle -> Encounter: the mapping, any resource order, and errors that name entry and path."""

from __future__ import annotations

import json
import random
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from claimflow.claims.encounter import ClaimFilingIndicator, ClaimKind, EntityType, Relationship
from claimflow.integrations.fhir import IntakeError, encounter_from_bundle, load_encounter
from tests.fhir.make_corpus import INSTITUTIONAL_TEMPLATES, Case, Item, build

DAY = date(2026, 9, 14)


def professional(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": "t",
        "payer": "SMPHMO",
        "patient": 0,
        "service_date": DAY,
        "diagnoses": ["E119", "I10"],
        "items": [
            Item("99214", "165.00", dx=[2, 1], modifiers=["25"]),
            Item("36415", "12.00", quantity=2, dx=[1]),
            Item("72148", "980.00", dx=[1]),
        ],
        "pre_auth": "AUTH555",
        "place": "22",
    }
    return build(Case(**{**fields, **changes}), 7)


def entry_of(bundle: dict[str, Any], kind: str) -> tuple[int, dict[str, Any]]:
    return next(
        (i, e["resource"]) for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == kind
    )


def problems(bundle: dict[str, Any]) -> list[str]:
    with pytest.raises(IntakeError) as caught:
        encounter_from_bundle(bundle, "test.json")
    return caught.value.problems


def test_a_professional_claim_maps_every_field() -> None:
    encounter = encounter_from_bundle(professional())
    assert encounter.encounter_id == "claim-007" and encounter.kind is ClaimKind.PROFESSIONAL
    patient = encounter.patient
    assert (patient.last_name, patient.first_name, patient.birth_date, patient.sex) == (
        "RIVERA",
        "ANA",
        date(1973, 6, 15),
        "F",
    )
    assert patient.address is not None and patient.address.postal_code == "60601"
    cover = encounter.coverage
    assert (cover.payer_id, cover.payer_name, cover.filing_indicator) == (
        "SMPHMO",
        "Summit Health HMO",
        ClaimFilingIndicator.HMO,
    )
    assert cover.member_id.startswith("HMO") and cover.group_number == "GRP0007"
    assert encounter.relationship is Relationship.SELF and encounter.subscriber is None
    billing = encounter.billing_provider
    assert billing.entity_type is EntityType.ORGANIZATION and billing.tax_id == "360000007"
    assert billing.taxonomy == "207Q00000X" and billing.address is not None
    assert billing.address.postal_code == "606114212"
    rendering = encounter.rendering_provider
    assert rendering is not None and rendering.entity_type is EntityType.PERSON
    assert (rendering.name, rendering.first_name, rendering.taxonomy) == ("CHEN", "MEI", "207Q00000X")
    assert encounter.diagnoses == ["E119", "I10"]
    assert encounter.place_of_service == "22" and encounter.service_date == DAY
    first, second, third = encounter.service_lines
    assert (first.procedure_code, first.modifiers, first.diagnosis_pointers) == ("99214", ["25"], [2, 1])
    assert (second.units, second.charge) == (Decimal(2), Decimal("24.00"))
    assert third.place_of_service is None  # the claim's own
    assert encounter.prior_authorization == "AUTH555"
    assert encounter.reported_total_charge == Decimal("1169.00")


def test_resources_may_come_in_any_order() -> None:
    bundle = professional()
    expected = encounter_from_bundle(bundle)
    for seed in range(5):
        shuffled = json.loads(json.dumps(bundle))
        random.Random(seed).shuffle(shuffled["entry"])
        assert encounter_from_bundle(shuffled) == expected


def test_references_resolve_by_full_url() -> None:
    encounter = encounter_from_bundle(professional(full_urls=True))
    assert encounter.coverage.payer_id == "SMPHMO"


def test_a_dependent_brings_the_subscriber() -> None:
    encounter = encounter_from_bundle(professional(dependent=True))
    assert encounter.relationship is Relationship.CHILD
    assert encounter.subscriber is not None and encounter.subscriber.first_name == "ANA"
    assert encounter.patient.first_name == "SAM"


def test_an_institutional_claim_carries_type_of_bill_and_revenue_codes() -> None:
    diagnoses, items = INSTITUTIONAL_TEMPLATES[0]
    bundle = build(Case("t", "SMPMCR", 3, DAY, list(diagnoses), list(items), institutional=True), 9)
    encounter = encounter_from_bundle(bundle)
    assert encounter.kind is ClaimKind.INSTITUTIONAL and encounter.institutional is not None
    info = encounter.institutional
    assert (info.type_of_bill, info.admission_type, info.admission_source) == ("0131", "3", "1")
    assert (info.statement_from, info.statement_to) == (DAY, DAY)
    assert info.attending_provider is not None and info.attending_provider.name == "CHEN"
    assert [line.revenue_code for line in encounter.service_lines] == ["0450", "0350"]
    assert encounter.coverage.filing_indicator is ClaimFilingIndicator.MEDICARE_A  # SOPT 1, institutional


def test_a_missing_subscriber_id_names_the_coverage_entry() -> None:
    bundle = professional()
    index, coverage = entry_of(bundle, "Coverage")
    del coverage["subscriberId"]
    assert f"Bundle.entry[{index}] (Coverage/cov-007).subscriberId is missing" in problems(bundle)[0]


def test_an_invalid_resource_names_its_path() -> None:
    bundle = professional()
    index, claim = entry_of(bundle, "Claim")
    del claim["item"][1]["productOrService"]
    assert problems(bundle) == [
        f"Bundle.entry[{index}] (Claim/claim-007).item[1].productOrService is missing"
    ]


def test_a_reference_to_an_absent_resource_is_reported() -> None:
    bundle = professional()
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Coverage"]
    index, _ = entry_of(bundle, "Claim")
    (problem,) = problems(bundle)
    assert problem.startswith(
        f"Bundle.entry[{index}] (Claim/claim-007).insurance[0].coverage refers to Coverage/"
    )
    assert "not in the Bundle" in problem


def test_every_problem_is_reported_at_once() -> None:
    bundle = professional()
    _, payer = next(
        (i, e["resource"]) for i, e in enumerate(bundle["entry"]) if "NIIP" in json.dumps(e["resource"])
    )
    payer["identifier"] = []
    _, practitioner = entry_of(bundle, "Practitioner")
    practitioner["identifier"] = []
    _, claim = entry_of(bundle, "Claim")
    claim["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["system"] = "http://snomed.info/sct"
    found = problems(bundle)
    assert len(found) == 3
    assert any("(Organization/payer-007).identifier has no payer id" in p for p in found)
    assert any("(Practitioner/prac-007).identifier has no NPI" in p for p in found)
    assert any(".diagnosis[0] has no ICD-10-CM code" in p for p in found)


def test_a_claim_id_too_long_for_clm01_is_reported() -> None:
    bundle = professional()
    index, claim = entry_of(bundle, "Claim")
    claim["id"] = "c" * 40
    assert problems(bundle)[0].startswith(f"Bundle.entry[{index}] (Claim/{'c' * 40}).id")


def test_a_bundle_without_a_claim_is_refused() -> None:
    bundle = professional()
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Claim"]
    assert "exactly one Claim with use 'claim'" in problems(bundle)[0]


def test_an_unknown_diagnosis_sequence_is_reported() -> None:
    bundle = professional()
    _, claim = entry_of(bundle, "Claim")
    claim["item"][0]["diagnosisSequence"] = [5]
    assert "item[0].diagnosisSequence 5 matches no Claim.diagnosis.sequence" in problems(bundle)[0]


def test_load_encounter_reads_encounter_json_too(tmp_path: Path) -> None:
    encounter = encounter_from_bundle(professional())
    path = tmp_path / "encounter.json"
    path.write_text(encounter.model_dump_json())
    assert load_encounter(path) == encounter


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ('{"resourceType": "Patient", "id": "p"}', "give a Bundle holding the Claim"),
        ('{"encounter_id": "e1"}', "encounter field patient Field required"),
    ],
)
def test_unreadable_input_says_why(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "input.json"
    path.write_text(text)
    with pytest.raises(IntakeError, match=message):
        load_encounter(path)
