"""ExplanationOfBenefit export (CARIN BB shapes) of claims the sandbox payers decided: each decision
one EOB, validated by fhir.resources R4B, its amounts those of the 835 to the cent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from claimflow.claims.coordination import Decision, claim_for_payer
from claimflow.claims.money import money_sum
from claimflow.claims.remittance import AdjustmentGroup
from claimflow.integrations.fhir.eob import (
    C4BB_ADJUDICATION,
    C4BB_DISCRIMINATOR,
    PROFILE_PROFESSIONAL,
    eob_bundle,
    validate,
)
from claimflow.integrations.sandbox.engine import Sandbox
from tests.factories import ClaimFactory
from tests.sandbox.helpers import MEMBERS, FakeClock, Line
from tests.sandbox.test_secondary import coordinated, decide


def amount(entries: list[dict[str, Any]], code: str) -> Decimal:
    found = [
        Decimal(str(e["amount"]["value"])) for e in entries if e["category"]["coding"][0]["code"] == code
    ]
    return money_sum(found)


def test_primary_and_secondary_decisions_export_as_two_valid_eobs(sandbox: Sandbox, clock: FakeClock) -> None:
    original = coordinated(
        ClaimFactory(5),
        ["SMPBCX", "SMPMCD"],
        [Line("99213", "150.00"), Line("36415", "20.00"), Line("70551", "900.00")],
    )
    decisions: list[Decision] = []
    for position in range(2):
        payment = decide(sandbox, clock, claim_for_payer(original, position, decisions))
        decisions.append(Decision(payment, clock.moment.date()))
    bundle = eob_bundle(original, decisions)
    validate(bundle)
    resources = [entry["resource"] for entry in bundle["entry"]]
    eobs = [r for r in resources if r["resourceType"] == "ExplanationOfBenefit"]
    assert len(eobs) == 2 and [r["resourceType"] for r in resources].count("Coverage") == 2
    for position, (eob, decision) in enumerate(zip(eobs, decisions, strict=True)):
        payment = decision.payment
        assert eob["meta"]["profile"] == [PROFILE_PROFESSIONAL]
        assert [i["focal"] for i in eob["insurance"]] == [position == 0, position == 1]
        assert eob["insurer"]["reference"].endswith(f"payer-{position + 1}")
        assert eob["identifier"][0]["value"] == payment.payer_claim_number
        items = eob["item"]
        assert money_sum(amount(i["adjudication"], "paidtoprovider") for i in items) == payment.paid
        assert amount(eob["total"], "paidtoprovider") == payment.paid
        assert Decimal(str(eob["payment"]["amount"]["value"])) == payment.paid
        assert amount(eob["total"], "memberliability") == payment.adjusted(
            AdjustmentGroup.PATIENT_RESPONSIBILITY
        )
        assert amount(eob["total"], "submitted") == original.total_charge
    # the MRI needs Blue Cross's authorization: denied CO-197, a denial reason on its line
    mri = eobs[0]["item"][2]["adjudication"]
    (reason,) = [
        e for e in mri if e["category"]["coding"][0] == {"system": C4BB_DISCRIMINATOR, "code": "denialreason"}
    ]
    assert reason["reason"]["coding"][0]["code"] == "197" and amount(mri, "noncovered") == Decimal("900.00")
    assert eobs[0]["processNote"][0]["text"] == "remark M62"
    # the secondary's 835 states what the primary paid (OA-23) as prior payer paid
    assert money_sum(amount(i["adjudication"], "priorpayerpaid") for i in eobs[1]["item"]) > 0
    assert any(e["category"]["coding"][0]["system"] == C4BB_ADJUDICATION for e in eobs[1]["total"])


def test_an_institutional_claim_exports_with_its_subtype_and_type_of_bill(
    sandbox: Sandbox, clock: FakeClock
) -> None:
    base = ClaimFactory(8).claim(payer_id="SMPMCR", institutional=True)
    coverage = base.encounter.coverage.model_copy(update={"member_id": MEMBERS["SMPMCR"]})
    claim = base.model_copy(update={"encounter": base.encounter.model_copy(update={"coverage": coverage})})
    payment = decide(sandbox, clock, claim)
    bundle = eob_bundle(claim, [Decision(payment, clock.moment.date())])
    validate(bundle)
    (eob,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ExplanationOfBenefit"
    ]
    assert eob["type"]["coding"][0]["code"] == "institutional" and eob["subType"]["coding"][0]["code"]
    categories = [i["category"]["coding"][0]["code"] for i in eob["supportingInfo"]]
    assert "typeofbill" in categories and "clmrecvddate" in categories


def test_validation_names_the_broken_resource() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "ExplanationOfBenefit", "id": "x", "status": "nonsense"}}],
    }
    with pytest.raises(ValueError, match="ExplanationOfBenefit/x"):
        validate(bundle)
