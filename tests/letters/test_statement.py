"""Patient statements: first, reminder and final notice render to HTML and PDF with every figure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from jinja2 import UndefinedError

from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.encounter import Relationship
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    ClaimPayment,
    ClaimStatusCode,
    ServicePayment,
)
from claimflow.letters import LetterRenderError, Notice, Practice, StatementData, render_statement
from claimflow.letters.render import ENVIRONMENT, render_html
from tests.factories import ClaimFactory
from tests.letters.pdf import pdf_text

D = Decimal


def dependant_claim() -> Claim:
    claim = ClaimFactory(21).claim(frequency=FrequencyCode.ORIGINAL, dependent=True, lines=2)
    assert claim.encounter.relationship is not Relationship.SELF
    return claim


def practice_for(claim: Claim) -> Practice:
    return Practice.from_provider(
        claim.encounter.billing_provider, phone="(614) 555-0134", payment_url="https://pay.example.org/bill"
    )


def statement(claim: Claim, payment: ClaimPayment | None = None) -> StatementData:
    billed = claim.total_charge
    paid = (billed * D("0.55")).quantize(D("0.01"))
    adjusted = (billed * D("0.30")).quantize(D("0.01"))
    return StatementData.for_claim(
        claim,
        practice=practice_for(claim),
        statement_date=date(2026, 4, 1),
        due_date=date(2026, 4, 30),
        insurance_paid=paid,
        adjusted=adjusted,
        amount_due=billed - paid - adjusted,
        payment=payment,
        first_statement_date=date(2026, 3, 2),
    )


@pytest.mark.parametrize(
    ("notice", "wording"),
    [
        (Notice.FIRST, "is your share"),
        (Notice.REMINDER, "We have not yet received payment"),
        (Notice.FINAL, "FINAL NOTICE"),
    ],
)
def test_each_notice_renders_every_figure(notice: Notice, wording: str) -> None:
    claim = dependant_claim()
    data = statement(claim)
    letter = render_statement(data, notice)
    assert letter.pdf.startswith(b"%PDF")
    text = pdf_text(letter.pdf)
    subscriber, patient = claim.encounter.insured, claim.encounter.patient
    for expected in (
        wording,
        data.practice.name,
        claim.patient_control_number,
        f"{subscriber.first_name}",  # the statement goes to the guarantor
        patient.last_name,
        claim.encounter.coverage.payer_name,
        f"${data.amount_due:,.2f}",
        f"${data.billed:,.2f}",
        "April 30, 2026",
        "https://pay.example.org/bill",
        "(614) 555-0134",
    ):
        assert expected in text, expected
    for line in claim.encounter.service_lines:
        assert line.procedure_code in text
        assert f"${line.charge:,.2f}" in text
    if notice is not Notice.FIRST:
        assert "March 2, 2026" in text  # the first statement's date
    assert "None" not in letter.html


def test_lines_show_what_insurance_did_when_the_835_lines_match() -> None:
    claim = dependant_claim()
    first, second = claim.encounter.service_lines
    payment = ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status=ClaimStatusCode.PRIMARY,
        charge=claim.total_charge,
        paid=D("0.00"),
        service_lines=[
            ServicePayment(
                procedure_code=line.procedure_code,
                charge=line.charge,
                paid=D("10.01"),
                adjustments=[
                    Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason="45", amount=D("3.03")),
                    Adjustment(
                        group=AdjustmentGroup.PATIENT_RESPONSIBILITY,
                        reason="2",
                        amount=line.charge - D("13.04"),
                    ),
                ],
            )
            for line in (first, second)
        ],
    )
    data = statement(claim, payment)
    assert data.has_line_detail
    assert [line.patient_responsibility for line in data.lines] == [
        first.charge - D("13.04"),
        second.charge - D("13.04"),
    ]
    text = pdf_text(render_statement(data).pdf)
    assert "Your share" in text and "$10.01" in text and "$3.03" in text


def test_a_statement_that_does_not_add_up_is_refused() -> None:
    claim = dependant_claim()
    with pytest.raises(ValueError, match="does not add up"):
        StatementData.for_claim(
            claim,
            practice=practice_for(claim),
            statement_date=date(2026, 4, 1),
            due_date=date(2026, 4, 30),
            insurance_paid=D("1.00"),
            adjusted=D("1.00"),
            amount_due=D("1.00"),
        )


def test_no_placeholder_is_left_unfilled() -> None:
    data = statement(dependant_claim())
    with pytest.raises(UndefinedError, match="notice"):
        render_html("statement.html.j2", data=data)
    with pytest.raises(LetterRenderError, match="None"):
        ENVIRONMENT.from_string("Dear {{ name }}").render(name=None)
