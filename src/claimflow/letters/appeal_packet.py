"""The appeal packet: from a denied claim, its 835 claim payment and the denial assessment to the
letter's data (letters/appeal.py), with the category's evidence and a drafted argument that a biller
approves or replaces.

The drafted argument names what the reviewer looks for (the medical record for medical necessity,
the separate service for bundling, the 999/277CA dates for timely filing, the authorization
number), since a letter without it is upheld however well it reads.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from claimflow.claims.appeals import TimelyFilingProof
from claimflow.claims.claim import Claim
from claimflow.claims.deadlines import timely_filing_deadline
from claimflow.claims.denials import DenialAssessment, DenialFinding, LetterCategory
from claimflow.claims.payers import AppealLevel, PayerProfile
from claimflow.claims.remittance import ClaimPayment
from claimflow.letters.appeal import (
    AppealCategory,
    AppealData,
    AuthorizationDetails,
    BundlingDetails,
    CodingCorrection,
    FilingProof,
)
from claimflow.letters.practice import LetterModel, Practice

DISTINCT_SERVICE_MODIFIERS = ("59", "XE", "XS", "XP", "XU", "25")
"""Modifiers that mark a service as separate from another on the same day (NCCI-associated)."""


class MissingEvidence(ValueError):
    """The letter cannot be written: the evidence its category needs is not on the claim."""


class AppealPacket(LetterModel):
    """What the letter needs beyond the claim and its payment."""

    claim: Claim
    payment: ClaimPayment
    assessment: DenialAssessment
    payer: PayerProfile
    category: LetterCategory
    level: AppealLevel
    practice: Practice
    letter_date: date
    remittance_date: date
    remittance_trace_number: str | None = None
    proof: TimelyFilingProof = Field(default_factory=TimelyFilingProof)
    argument: list[str] | None = Field(default=None, description="the biller's paragraphs; None: the draft")
    enclosures: list[str] = Field(default_factory=list, description="besides those of the category")


def build_appeal(packet: AppealPacket) -> AppealData:
    """The letter's data, or MissingEvidence saying what to add to the claim."""
    findings = packet.assessment.findings_for(packet.category) or [
        f for f in packet.assessment.findings if f.at_stake
    ]
    argument = packet.argument or draft_argument(packet.category, findings, packet)
    category = AppealCategory(packet.category.value)
    return AppealData.for_claim(
        packet.claim,
        packet.payment,
        category=category,
        practice=packet.practice,
        letter_date=packet.letter_date,
        enclosures=_enclosures(packet) + packet.enclosures,
        signer_name=packet.practice.billing_contact,
        argument=argument,
        remittance_date=packet.remittance_date,
        remittance_trace_number=packet.remittance_trace_number,
        request_type=f"Request for {packet.level.name}",
        level=packet.level.level,
        filing_proof=_filing_proof(packet) if category is AppealCategory.TIMELY_FILING else None,
        authorization=_authorization(packet) if category is AppealCategory.AUTHORIZATION else None,
        bundling=_bundling(packet, findings, argument) if category is AppealCategory.BUNDLING else None,
        coding=_coding(findings, packet) if category is AppealCategory.CODING else None,
    )


def draft_argument(
    category: LetterCategory, findings: list[DenialFinding], packet: AppealPacket
) -> list[str]:
    """The argument claimflow drafts for a biller to approve or replace."""
    codes = ", ".join(dict.fromkeys(f.code for f in findings)) or "the denial"
    services = _services(findings, packet)
    match category:
        case LetterCategory.MEDICAL_NECESSITY:
            return [
                f"The payer denied {services} under {codes} as not medically necessary. The enclosed "
                "medical record (progress notes and the provider's assessment) documents the patient's "
                "symptoms, findings and the treatment plan that made the service medically necessary on "
                "the date of service.",
                "The service meets the payer's coverage criteria for the documented diagnoses; we ask the "
                "reviewer to read the clinical notes with those criteria.",
            ]
        case LetterCategory.BUNDLING:
            return [
                f"{services} was a separate and distinct procedure from the other services that day, "
                "performed for a different problem and documented separately in the enclosed medical "
                "record.",
            ]
        case LetterCategory.TIMELY_FILING:
            return [
                f"The claim was denied under {codes} for the time limit for filing. The 999 and 277CA "
                "acknowledgements listed above show that the clearinghouse and the payer received it "
                "within the filing limit (timely filing).",
            ]
        case LetterCategory.AUTHORIZATION:
            number = packet.claim.encounter.prior_authorization or "on file"
            return [
                f"The payer denied {services} under {codes} for a missing authorization. Authorization "
                f"{number} was obtained before the service and covers the services billed.",
            ]
        case LetterCategory.CODING:
            return [
                f"The payer denied {services} under {codes} for its coding. The enclosed medical record "
                "supports the code and level of service billed.",
            ]


def _services(findings: list[DenialFinding], packet: AppealPacket) -> str:
    codes = list(dict.fromkeys(f.procedure_code for f in findings if f.procedure_code))
    if not codes:
        codes = [line.procedure_code for line in packet.claim.encounter.service_lines]
    return "procedure " + ", ".join(codes) if len(codes) == 1 else "procedures " + ", ".join(codes)


def _enclosures(packet: AppealPacket) -> list[str]:
    remittance = f"Remittance advice (835) of {packet.remittance_date.isoformat()}"
    match packet.category:
        case LetterCategory.MEDICAL_NECESSITY:
            return ["Medical record for the date of service (progress notes, orders, results)", remittance]
        case LetterCategory.BUNDLING:
            return ["Procedure notes documenting each service separately", remittance]
        case LetterCategory.TIMELY_FILING:
            return ["999 implementation acknowledgement", "277CA claim acknowledgement", remittance]
        case LetterCategory.AUTHORIZATION:
            return [f"Authorization {packet.claim.encounter.prior_authorization or ''}".strip(), remittance]
        case LetterCategory.CODING:
            return ["Medical record supporting the codes billed", remittance]


def _filing_proof(packet: AppealPacket) -> FilingProof:
    return filing_proof(packet.claim, packet.payer, packet.proof, packet.payment.payer_claim_number)


def filing_proof(
    claim: Claim, payer: PayerProfile, proof: TimelyFilingProof, payer_claim_number: str | None = None
) -> FilingProof:
    """The proof of timely filing from the claim's submission, 999 and 277CA dates."""
    dates = [
        d.date() for d in (proof.submitted_at, proof.ack_999_at, proof.accepted_277ca_at) if d is not None
    ]
    if not dates:
        raise MissingEvidence(
            f"claim {claim.patient_control_number}: no submission, 999 or 277CA date is recorded, "
            "so there is no proof of timely filing; attach the clearinghouse report by hand or withdraw"
        )
    encounter = claim.encounter
    limit = payer.timely_filing_days
    return FilingProof.from_acknowledgements(
        service_date=encounter.service_date,
        filing_limit_days=limit,
        filing_deadline=timely_filing_deadline(encounter.service_date, limit),
        submitted_on=proof.submitted_at.date() if proof.submitted_at else min(dates),
        interchange_control_number=str(proof.interchange_control_number)
        if proof.interchange_control_number is not None
        else None,
        acknowledged_999_on=proof.ack_999_at.date() if proof.ack_999_at else None,
        accepted_277ca_on=proof.accepted_277ca_at.date() if proof.accepted_277ca_at else None,
        status_277ca=proof.status_277ca,
        payer_claim_number=proof.payer_claim_number or payer_claim_number,
    )


def _authorization(packet: AppealPacket) -> AuthorizationDetails:
    number = packet.claim.encounter.prior_authorization
    if not number:
        raise MissingEvidence(
            f"claim {packet.claim.patient_control_number} carries no prior authorization number: "
            "add it to the encounter (prior_authorization) before appealing the authorization denial"
        )
    return AuthorizationDetails(authorization_number=number)


def _bundling(packet: AppealPacket, findings: list[DenialFinding], argument: list[str]) -> BundlingDetails:
    denied = next((f for f in findings if f.line is not None), None)
    lines = packet.claim.encounter.service_lines
    if denied is None or denied.line is None or denied.line > len(lines):
        column2 = lines[0]
    else:
        column2 = lines[denied.line - 1]
    others = [line for line in lines if line is not column2]
    if not others:
        raise MissingEvidence(
            f"claim {packet.claim.patient_control_number} has one service: a bundling denial names the "
            "service it was bundled into; check the payer's remark and the other claims of that day"
        )
    paid = {p.procedure_code for p in packet.payment.service_lines if p.paid > 0}
    column1 = next((line for line in others if line.procedure_code in paid), others[0])
    modifier = next((m for m in column2.modifiers if m in DISTINCT_SERVICE_MODIFIERS), None)
    return BundlingDetails(
        column1_code=column1.procedure_code,
        column2_code=column2.procedure_code,
        modifier=modifier,
        distinct_because=argument[0],
    )


def _coding(findings: list[DenialFinding], packet: AppealPacket) -> list[CodingCorrection]:
    """The disputed lines; a claim-level coding denial disputes every line."""
    disputed = {f.procedure_code: f.code for f in findings if f.procedure_code}
    codes = ", ".join(dict.fromkeys(f.code for f in findings))
    if not disputed:
        disputed = {line.procedure_code: codes for line in packet.claim.encounter.service_lines}
    return [
        CodingCorrection(
            procedure_code=procedure,
            explanation=f"{code}: the medical record supports {procedure} as billed",
        )
        for procedure, code in disputed.items()
    ]
