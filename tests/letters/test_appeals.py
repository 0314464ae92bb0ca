"""Appeal letters: every category renders with realistic data, and the PDF's text holds the claim
number, each CARC and its published text, the evidence and the enclosures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claimflow.claims.carc import carc_text, rarc_text
from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.encounter import Address
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    ClaimPayment,
    ClaimStatusCode,
    ServicePayment,
)
from claimflow.letters import (
    AppealCategory,
    AppealData,
    AuthorizationDetails,
    BundlingDetails,
    CodingCorrection,
    FilingProof,
    Practice,
    render_appeal,
)
from tests.factories import ClaimFactory
from tests.letters.pdf import pdf_text, shows

D = Decimal
CO, PR = AdjustmentGroup.CONTRACTUAL, AdjustmentGroup.PATIENT_RESPONSIBILITY
PAYER_ADDRESS = Address(line1="PO Box 14079", city="Lexington", state="KY", postal_code="405124079")

# category -> (claim-level or line-level denial CARCs, remark codes)
DENIALS: dict[AppealCategory, tuple[list[str], list[str]]] = {
    AppealCategory.MEDICAL_NECESSITY: (["50"], ["N115"]),
    AppealCategory.BUNDLING: (["97"], ["M15"]),
    AppealCategory.TIMELY_FILING: (["29"], []),
    AppealCategory.AUTHORIZATION: (["197"], ["N54"]),
    AppealCategory.CODING: (["4", "11"], ["M76"]),
}

# category -> phrases of its evidence and framing that its letter must show
EVIDENCE: dict[AppealCategory, list[str]] = {
    AppealCategory.MEDICAL_NECESSITY: ["not medically necessary", "six weeks of conservative treatment"],
    AppealCategory.BUNDLING: ["modifier 59", "separate session on a different site"],
    AppealCategory.TIMELY_FILING: [
        "90 days",
        "000004711",
        "IK5 status A",
        "STC A1:20",
        "Proof of timely filing",
    ],
    AppealCategory.AUTHORIZATION: ["PA7730215", "reference call 55810"],
    AppealCategory.CODING: ["-25", "separately identifiable service"],
}


def claim_with_two_lines() -> Claim:
    claim = ClaimFactory(31).claim(frequency=FrequencyCode.ORIGINAL, lines=2, dependent=False)
    coverage = claim.encounter.coverage.model_copy(update={"payer_address": PAYER_ADDRESS})
    return claim.model_copy(update={"encounter": claim.encounter.model_copy(update={"coverage": coverage})})


def denied_payment(claim: Claim, carcs: list[str], remarks: list[str]) -> ClaimPayment:
    """The second line denied in full with the category's CARCs; the first paid with CO-45 and PR-2."""
    first, second = claim.encounter.service_lines
    shares = [second.charge - D("0.01") * (len(carcs) - 1)] + [D("0.01")] * (len(carcs) - 1)
    return ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status=ClaimStatusCode.PRIMARY,
        charge=claim.total_charge,
        paid=first.charge - D("20.00"),
        payer_claim_number="2026091100417",
        remarks=remarks[:1],
        service_lines=[
            ServicePayment(
                procedure_code=first.procedure_code,
                charge=first.charge,
                paid=first.charge - D("20.00"),
                service_date=first.service_date,
                adjustments=[
                    Adjustment(group=CO, reason="45", amount=D("12.00")),
                    Adjustment(group=PR, reason="2", amount=D("8.00")),
                ],
            ),
            ServicePayment(
                procedure_code=second.procedure_code,
                charge=second.charge,
                paid=D("0.00"),
                service_date=second.service_date,
                adjustments=[
                    Adjustment(group=CO, reason=carc, amount=share)
                    for carc, share in zip(carcs, shares, strict=True)
                ],
                remarks=remarks[1:],
            ),
        ],
    )


def evidence(category: AppealCategory, claim: Claim) -> dict[str, object]:
    first, second = claim.encounter.service_lines
    service_date = claim.encounter.service_date
    match category:
        case AppealCategory.MEDICAL_NECESSITY:
            return {
                "argument": [
                    "The patient presented with worsening symptoms despite six weeks of conservative "
                    "treatment; the enclosed notes document the failed therapy and the findings that "
                    "made the service necessary."
                ]
            }
        case AppealCategory.BUNDLING:
            return {
                "bundling": BundlingDetails(
                    column1_code=first.procedure_code,
                    column2_code=second.procedure_code,
                    modifier="59",
                    distinct_because="it was done at a separate session on a different site.",
                )
            }
        case AppealCategory.TIMELY_FILING:
            return {
                "filing_proof": FilingProof.from_acknowledgements(
                    service_date=service_date,
                    filing_limit_days=90,
                    filing_deadline=date.fromordinal(service_date.toordinal() + 90),
                    submitted_on=date.fromordinal(service_date.toordinal() + 3),
                    interchange_control_number="000004711",
                    acknowledged_999_on=date.fromordinal(service_date.toordinal() + 3),
                    accepted_277ca_on=date.fromordinal(service_date.toordinal() + 4),
                    status_277ca="A1:20",
                    payer_claim_number="2026091100417",
                )
            }
        case AppealCategory.AUTHORIZATION:
            return {
                "authorization": AuthorizationDetails(
                    authorization_number="PA7730215",
                    obtained_on=date.fromordinal(service_date.toordinal() - 10),
                    obtained_from="utilization management, reference call 55810",
                )
            }
        case AppealCategory.CODING:
            return {
                "coding": [
                    CodingCorrection(
                        procedure_code=second.procedure_code,
                        corrected_modifiers=["25"],
                        explanation="significant, separately identifiable service documented in the note.",
                    )
                ]
            }


def appeal(category: AppealCategory) -> tuple[Claim, AppealData]:
    claim = claim_with_two_lines()
    carcs, remarks = DENIALS[category]
    practice = Practice.from_provider(claim.encounter.billing_provider, phone="(303) 555-0199")
    data = AppealData.for_claim(
        claim,
        denied_payment(claim, carcs, remarks),
        category=category,
        practice=practice,
        letter_date=date(2027, 1, 12),
        enclosures=["Copy of the remittance advice", "Medical records for the date of service"],
        signer_name="Dana Whitfield",
        remittance_date=date(2027, 1, 4),
        remittance_trace_number="EFT88231",
        **evidence(category, claim),  # type: ignore[arg-type]
    )
    return claim, data


DENIAL_CATEGORIES = [category for category in AppealCategory if category is not AppealCategory.UNDERPAYMENT]
"""The categories that dispute a denial; an underpayment disputes an allowed amount (its own test)."""


@pytest.mark.parametrize("category", DENIAL_CATEGORIES)
def test_each_category_renders_claim_codes_texts_and_evidence(category: AppealCategory) -> None:
    claim, data = appeal(category)
    carcs, remarks = DENIALS[category]
    assert [denial.carc for denial in data.denials] == carcs  # CO-45 and PR-2 are not disputed
    letter = render_appeal(data)
    assert letter.template == f"appeal_{category.value}.html.j2"
    text = pdf_text(letter.pdf)
    expected = [
        "2026091100417",
        claim.patient_control_number,
        claim.encounter.coverage.member_id,
        claim.encounter.patient.last_name,
        data.practice.name,
        "Lexington, KY 40512-4079",
        "Copy of the remittance advice",
        "Dana Whitfield",
        f"${data.amount_in_dispute:,.2f}",
    ]
    for carc in carcs:
        expected += [f"CO-{carc}", f"CARC {carc}: {carc_text(carc)}"]
    expected += [f"{code}: {rarc_text(code)}" for code in remarks]
    expected += EVIDENCE[category]
    for value in expected:
        assert shows(text, value), value
    assert "None" not in letter.html


def test_timely_filing_reconsideration_before_any_835() -> None:
    claim = claim_with_two_lines()
    day = claim.encounter.service_date
    proof = FilingProof.from_acknowledgements(
        service_date=day,
        filing_limit_days=180,
        filing_deadline=date.fromordinal(day.toordinal() + 180),
        submitted_on=date.fromordinal(day.toordinal() + 2),
        acknowledged_999_on=date.fromordinal(day.toordinal() + 2),
    )
    data = AppealData.for_claim(
        claim,
        None,
        category=AppealCategory.TIMELY_FILING,
        practice=Practice.from_provider(claim.encounter.billing_provider, phone="(303) 555-0199"),
        letter_date=date.fromordinal(day.toordinal() + 150),
        enclosures=["999 acknowledgement"],
        signer_name="Dana Whitfield",
        filing_proof=proof,
    )
    text = pdf_text(render_appeal(data).pdf)
    assert "has not yet been accepted" in text and "accept the claim as timely filed" in text
    assert claim.patient_control_number in text and "not assigned" in text


def test_missing_evidence_and_false_proof_are_refused() -> None:
    _, data = appeal(AppealCategory.AUTHORIZATION)
    with pytest.raises(ValueError, match=r"authorization appeal .* needs authorization"):
        AppealData.model_validate({**data.model_dump(), "authorization": None})
    with pytest.raises(ValueError, match="not proof of timely filing"):
        FilingProof.from_acknowledgements(
            service_date=date(2026, 1, 5),
            filing_limit_days=90,
            filing_deadline=date(2026, 4, 5),
            submitted_on=date(2026, 4, 6),
        )
