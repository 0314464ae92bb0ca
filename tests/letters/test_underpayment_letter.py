"""The underpayment letter: the contract line, the contracted and allowed amounts and the shortfall of
each underpaid line, from a paid 835 (no denial), as HTML and PDF."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claimflow.claims.contracts import PosClass
from claimflow.claims.payers import default_directory
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    ClaimPayment,
    ClaimStatusCode,
    ServicePayment,
)
from claimflow.claims.underpayment import find_underpayments
from claimflow.letters import AppealCategory, AppealData, Practice, render_appeal
from tests.factories import ClaimFactory
from tests.letters.pdf import pdf_text, shows


def test_the_letter_states_the_contract_rate_and_the_shortfall() -> None:
    base = ClaimFactory(41).claim(lines=1, dependent=False)
    day = date(2026, 10, 1)
    line = base.encounter.service_lines[0].model_copy(
        update={
            "procedure_code": "99213",
            "modifiers": [],
            "units": Decimal(1),
            "charge": Decimal("150.00"),
            "service_date": day,
        }
    )
    coverage = base.encounter.coverage.model_copy(
        update={"payer_id": "SMPHMO", "payer_name": "Summit Health HMO"}
    )
    encounter = base.encounter.model_copy(
        update={"service_lines": [line], "service_date": day, "coverage": coverage, "place_of_service": "11"}
    )
    claim = base.model_copy(update={"encounter": encounter})
    payment = ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status=ClaimStatusCode.PRIMARY,
        charge=Decimal("150.00"),
        paid=Decimal("92.00"),
        payer_claim_number="HMO77120",
        service_lines=[
            ServicePayment(
                procedure_code="99213",
                charge=Decimal("150.00"),
                paid=Decimal("92.00"),
                units=Decimal(1),
                service_date=day,
                allowed_amount=Decimal("112.00"),
                adjustments=[
                    Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason="45", amount=Decimal("38.00")),
                    Adjustment(
                        group=AdjustmentGroup.PATIENT_RESPONSIBILITY, reason="3", amount=Decimal("20.00")
                    ),
                ],
            )
        ],
    )
    contract = default_directory().contracts["SMPHMO"]
    assert contract.unit_rate("99213", [], PosClass.NON_FACILITY, day) is not None
    found = find_underpayments(claim, payment, contract)
    data = AppealData.for_claim(
        claim,
        payment,
        category=AppealCategory.UNDERPAYMENT,
        practice=Practice.from_provider(claim.encounter.billing_provider, phone="(303) 555-0199"),
        letter_date=date(2026, 11, 2),
        enclosures=["Remittance advice (835) for the claim"],
        signer_name="Billing Office",
        underpaid=found,
    )
    assert data.amount_in_dispute == Decimal("6.00") and not data.denials
    letter = render_appeal(data)
    assert letter.template == "appeal_underpayment.html.j2"
    text = pdf_text(letter.pdf)
    for value in (
        "HMO77120",
        "below the contracted rate",
        "$118.00 per unit, effective 2026-01-01",
        "$112.00",
        "$6.00",
    ):
        assert shows(text, value), value
    assert "None" not in letter.html


def test_an_underpayment_letter_needs_its_lines() -> None:
    claim = ClaimFactory(42).claim(lines=1, dependent=False)
    with pytest.raises(ValueError, match="needs underpaid"):
        AppealData.for_claim(
            claim,
            None,
            category=AppealCategory.UNDERPAYMENT,
            practice=Practice.from_provider(claim.encounter.billing_provider, phone="(303) 555-0199"),
            letter_date=date(2026, 11, 2),
            enclosures=["Remittance advice"],
            signer_name="Billing Office",
        )
