"""The content of what the sandbox sends back, as domain models: 277CA, 277 and 835.

Pure builders; the engine decides when, the X12 writers decide how it looks on the wire.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date

from claimflow.claims.claim import Claim
from claimflow.claims.money import ZERO, money_sum
from claimflow.claims.remittance import ClaimPayment, Party, ProviderAdjustment, Remittance
from claimflow.claims.responses import ClaimAcknowledgement, ClaimStatusDetail, StatusInfo
from claimflow.claims.x12.remittance835 import filing_indicator_for_835
from claimflow.integrations.sandbox.config import Payer

ACCEPTED = StatusInfo(category="A2", code="20")
"""277CA: accepted into adjudication."""
SUBSCRIBER_NOT_FOUND = StatusInfo(category="A3", code="33")
WRONG_PAYER = StatusInfo(category="A3", code="116")
ORIGINAL_NOT_FOUND = StatusInfo(category="A7", code="35")
NOISE_REJECTIONS = (
    StatusInfo(category="A7", code="562", entity="85"),
    StatusInfo(category="A7", code="187"),
    StatusInfo(category="A6", code="145", entity="82"),
)
"""Front-end rejections the noise draws from: billing NPI, dates of service, rendering taxonomy."""


def payer_tax_identifier(payer_id: str) -> str:
    """TRN03: '1' and a stable made-up 9-digit EIN for a sandbox payer."""
    digest = int(hashlib.sha256(payer_id.encode()).hexdigest(), 16)
    return f"1{digest % 10**9:09d}"


def claim_detail(
    claim: Claim, status: StatusInfo, payer_claim_number: str | None, day: date
) -> ClaimStatusDetail:
    encounter = claim.encounter
    last_day = max((line.service_date_end or line.service_date) for line in encounter.service_lines)
    return ClaimStatusDetail(
        patient_control_number=claim.patient_control_number,
        payer_claim_number=None if status.rejected else payer_claim_number,
        statuses=[status],
        status_date=day,
        total_charge=claim.total_charge,
        service_date=encounter.service_date,
        service_date_end=last_day if last_day != encounter.service_date else None,
        patient_last_name=encounter.patient.last_name,
        patient_first_name=encounter.patient.first_name,
        member_id=encounter.coverage.member_id,
        provider_name=encounter.billing_provider.name,
        provider_npi=encounter.billing_provider.npi,
        bill_type=encounter.institutional.type_of_bill.lstrip("0") if encounter.institutional else None,
    )


def claim_acknowledgement(
    payer_id: str,
    payer_name: str,
    details: Sequence[ClaimStatusDetail],
    *,
    received: date,
    processed: date,
    trace_number: str,
    receiver: str,
    batch_id: str | None,
) -> ClaimAcknowledgement:
    return ClaimAcknowledgement(
        payer_id=payer_id,
        payer_name=payer_name,
        receipt_date=received,
        process_date=processed,
        claims=list(details),
        trace_number=trace_number,
        receiver_name=receiver,
        receiver_id=receiver,
        receiver_trace=batch_id,
    )


def remittance(
    payer: Payer,
    payee: Party,
    claims: Sequence[ClaimPayment],
    provider_adjustments: Sequence[ProviderAdjustment],
    *,
    day: date,
    trace_number: str,
) -> Remittance:
    """An 835 whose payment is exactly the claims' payments less the provider adjustments."""
    mapped = [
        c.model_copy(update={"filing_indicator": filing_indicator_for_835(c.filing_indicator or "ZZ")})
        for c in claims
    ]
    amount = money_sum(c.paid for c in mapped) - money_sum(p.amount for p in provider_adjustments)
    return Remittance(
        payment_amount=amount,
        credit_debit="C",
        payment_method="CHK" if amount > ZERO else "NON",
        payment_date=day,
        trace_number=trace_number,
        payer_identifier=payer_tax_identifier(payer.id),
        production_date=day,
        payer=Party(
            name=payer.name,
            id=payer.id,
            id_qualifier="XV",
            address=payer.address,
            contact_name="EDI SUPPORT",
            contact_phone=payer.contact_phone,
        ),
        payee=payee,
        claims=mapped,
        provider_adjustments=list(provider_adjustments),
    )


def payee_of(claim: Claim) -> Party:
    provider = claim.encounter.billing_provider
    return Party(name=provider.name, id=provider.npi, id_qualifier="XX", address=provider.address)
