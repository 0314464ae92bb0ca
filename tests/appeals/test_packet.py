"""The appeal packet: from a denied claim and its 835 to a rendered letter of every category, whose
PDF text holds the claim numbers, each CARC with its text, the drafted argument and the evidence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from claimflow.claims.appeals import TimelyFilingProof, level_of
from claimflow.claims.carc import carc_text
from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.denials import LetterCategory, classify
from claimflow.claims.payers import default_directory
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    ClaimPayment,
    ClaimStatusCode,
    ServicePayment,
)
from claimflow.letters.appeal import render_appeal
from claimflow.letters.appeal_packet import AppealPacket, MissingEvidence, build_appeal
from claimflow.letters.practice import Practice
from tests.factories import ClaimFactory
from tests.letters.pdf import pdf_text, shows

D = Decimal
CO, PR = AdjustmentGroup.CONTRACTUAL, AdjustmentGroup.PATIENT_RESPONSIBILITY
PAYER = default_directory().profiles["SMPBCX"]

CARCS = {
    LetterCategory.MEDICAL_NECESSITY: "50",
    LetterCategory.BUNDLING: "97",
    LetterCategory.TIMELY_FILING: "29",
    LetterCategory.AUTHORIZATION: "197",
    LetterCategory.CODING: "150",
}
EVIDENCE = {
    LetterCategory.MEDICAL_NECESSITY: ["medical record", "medically necessary"],
    LetterCategory.BUNDLING: ["separate and distinct", "Column 2 (denied)"],
    LetterCategory.TIMELY_FILING: [
        "999 implementation acknowledgement",
        "277CA claim acknowledgement",
        "STC A1:20",
        "January 11, 2026",
        "interchange control number 4711",
    ],
    LetterCategory.AUTHORIZATION: ["PA-448812"],
    LetterCategory.CODING: ["Coding review", "supports"],
}


def claim() -> Claim:
    base = ClaimFactory(44).claim(frequency=FrequencyCode.ORIGINAL, lines=2, dependent=False)
    encounter = base.encounter.model_copy(update={"prior_authorization": "PA-448812"})
    return base.model_copy(update={"encounter": encounter})


def payment_denying_line_two(claim: Claim, carc: str) -> ClaimPayment:
    first, second = claim.encounter.service_lines
    return ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status=ClaimStatusCode.PRIMARY,
        charge=claim.total_charge,
        paid=first.charge - D("30.00"),
        payer_claim_number="2026113000871",
        service_lines=[
            ServicePayment(
                procedure_code=first.procedure_code,
                charge=first.charge,
                paid=first.charge - D("30.00"),
                adjustments=[
                    Adjustment(group=CO, reason="45", amount=D("10.00")),
                    Adjustment(group=PR, reason="2", amount=D("20.00")),
                ],
            ),
            ServicePayment(
                procedure_code=second.procedure_code,
                charge=second.charge,
                paid=D("0.00"),
                adjustments=[Adjustment(group=CO, reason=carc, amount=second.charge)],
            ),
        ],
    )


def packet(category: LetterCategory, the_claim: Claim, **changes: object) -> AppealPacket:
    payment = payment_denying_line_two(the_claim, CARCS[category])
    fields: dict[str, object] = {
        "claim": the_claim,
        "payment": payment,
        "assessment": classify(payment),
        "payer": PAYER,
        "category": category,
        "level": level_of(PAYER, 1),
        "practice": Practice.from_provider(the_claim.encounter.billing_provider, phone="(614) 555-0134"),
        "letter_date": date(2026, 3, 2),
        "remittance_date": date(2026, 2, 20),
        "proof": TimelyFilingProof(
            submitted_at=datetime(2026, 1, 9, 15, tzinfo=UTC),
            ack_999_at=datetime(2026, 1, 9, 16, tzinfo=UTC),
            accepted_277ca_at=datetime(2026, 1, 11, 9, tzinfo=UTC),
            status_277ca="A1:20",
            interchange_control_number=4711,
        ),
    }
    fields.update(changes)
    return AppealPacket.model_validate(fields)


@pytest.mark.parametrize("category", list(LetterCategory))
def test_every_category_renders_from_a_denied_claim(category: LetterCategory) -> None:
    the_claim = claim()
    data = build_appeal(packet(category, the_claim))
    assert classify(payment_denying_line_two(the_claim, CARCS[category])).letter is category
    text = pdf_text(render_appeal(data).pdf)
    carc = CARCS[category]
    for phrase in ["2026113000871", the_claim.patient_control_number, f"CO-{carc}", carc_text(carc)]:
        assert shows(text, phrase), f"{category}: {phrase!r} missing from the PDF"
    for phrase in EVIDENCE[category]:
        assert shows(text, phrase), f"{category}: {phrase!r} missing from the PDF"
    assert data.request_type == "Request for first-level appeal"
    assert data.amount_in_dispute == the_claim.encounter.service_lines[1].charge
    assert not shows(text, "CARC 45") and not shows(text, "CARC 2:")  # not disputed


def test_the_billers_argument_replaces_the_draft() -> None:
    edited = ["Dr. Lee examined a second, unrelated injury at a separate session."]
    data = build_appeal(packet(LetterCategory.BUNDLING, claim(), argument=edited))
    assert data.argument == edited
    assert data.bundling is not None and data.bundling.distinct_because == edited[0]


def test_missing_evidence_says_what_to_add() -> None:
    without_auth = claim()
    without_auth = without_auth.model_copy(
        update={"encounter": without_auth.encounter.model_copy(update={"prior_authorization": None})}
    )
    with pytest.raises(MissingEvidence, match="prior_authorization"):
        build_appeal(packet(LetterCategory.AUTHORIZATION, without_auth))
    with pytest.raises(MissingEvidence, match="no proof of timely filing"):
        build_appeal(packet(LetterCategory.TIMELY_FILING, claim(), proof=TimelyFilingProof()))
