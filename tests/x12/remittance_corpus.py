"""Generated, varied payer responses (balanced 835s, 277CAs for our claims): pyx12 test input and bench load.

Deterministic from a seed, so a failure names the remittance that caused it. Every remittance
balances at line, claim and file level unless the caller breaks it on purpose.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from claimflow.claims.claim import Claim
from claimflow.claims.encounter import Address
from claimflow.claims.money import CENT, money_sum
from claimflow.claims.npi import make_npi
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    BankAccount,
    ClaimPayment,
    ClaimStatusCode,
    Party,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)
from claimflow.claims.responses import ClaimAcknowledgement, ClaimStatusDetail, StatusInfo
from claimflow.claims.x12.writer import Envelope

PROCEDURES = ["99213", "99214", "99203", "93000", "36415", "81002", "71046", "J1885", "G0008", "97110"]
MODIFIERS = ["25", "59", "LT", "RT", "26", "TC", "XU", "GT"]
CONTRACTUAL = ["45", "97", "59", "253"]
DENIALS = ["16", "50", "96", "197", "29", "18"]
REMARKS = ["N130", "M15", "MA130", "N381", "M80", "N20"]
FILING = ["ZZ", "MB", "MC", "12", "16", "HM"]


def envelope(control: int = 1) -> Envelope:
    return Envelope(
        sender_id="PAYERSANDBOX",
        receiver_id="CLAIMFLOW",
        interchange_control_number=control,
        group_control_number=control,
        created=datetime(2026, 3, 2, 9, 30),
    )


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) * CENT


def _line(rng: random.Random, day: date, status: ClaimStatusCode) -> ServicePayment:
    charge = _money(rng, 40, 900)
    adjustments: list[Adjustment] = []
    if status is ClaimStatusCode.DENIED:
        paid = Decimal("0.00")
        adjustments.append(
            Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason=rng.choice(DENIALS), amount=charge)
        )
    else:
        allowed = (charge * Decimal(rng.randint(40, 100)) / 100).quantize(CENT)
        patient = (allowed * Decimal(rng.choice([0, 0, 10, 20])) / 100).quantize(CENT)
        paid = allowed - patient
        if charge > allowed:
            adjustments.append(
                Adjustment(
                    group=AdjustmentGroup.CONTRACTUAL, reason=rng.choice(CONTRACTUAL), amount=charge - allowed
                )
            )
        if patient:
            reasons = rng.sample(["1", "2", "3"], rng.randint(1, 2))
            first = (patient / 2).quantize(CENT) if len(reasons) == 2 else patient
            adjustments.append(
                Adjustment(group=AdjustmentGroup.PATIENT_RESPONSIBILITY, reason=reasons[0], amount=first)
            )
            if len(reasons) == 2:
                adjustments.append(
                    Adjustment(
                        group=AdjustmentGroup.PATIENT_RESPONSIBILITY,
                        reason=reasons[1],
                        amount=patient - first,
                    )
                )
    units = Decimal(rng.randint(1, 3))
    code = rng.choice(PROCEDURES)
    recoded = rng.random() < 0.1
    return ServicePayment(
        procedure_code=code,
        modifiers=rng.sample(MODIFIERS, rng.randint(0, 2)),
        charge=charge,
        paid=paid,
        units=units,
        original_units=units if rng.random() < 0.3 else None,
        submitted_procedure_code=rng.choice(PROCEDURES) if recoded else None,
        service_date=day,
        line_control_number=f"L{rng.randint(1, 10**8)}",
        allowed_amount=charge - adjustments[0].amount
        if adjustments and status is not ClaimStatusCode.DENIED
        else None,
        adjustments=adjustments,
        remarks=rng.sample(REMARKS, 1) if status is ClaimStatusCode.DENIED else [],
    )


def claim_payment(rng: random.Random, number: int) -> ClaimPayment:
    """One claim: paid, denied or reversed, 1 to 12 lines, sometimes a claim-level adjustment."""
    status = rng.choices(
        [
            ClaimStatusCode.PRIMARY,
            ClaimStatusCode.SECONDARY,
            ClaimStatusCode.DENIED,
            ClaimStatusCode.REVERSAL,
        ],
        weights=[70, 10, 15, 5],
    )[0]
    day = date(2026, 1, 1) + timedelta(days=rng.randint(0, 50))
    lines = [_line(rng, day, status) for _ in range(rng.randint(1, 12))]
    claim_adjustments: list[Adjustment] = []
    if status is not ClaimStatusCode.DENIED and rng.random() < 0.15:
        claim_adjustments.append(Adjustment(group=AdjustmentGroup.OTHER, reason="94", amount=Decimal("0.00")))
    sign = Decimal(-1) if status is ClaimStatusCode.REVERSAL else Decimal(1)
    if sign < 0:
        lines = [
            line.model_copy(
                update={
                    "charge": -line.charge,
                    "paid": -line.paid,
                    "allowed_amount": None,
                    "adjustments": [a.model_copy(update={"amount": -a.amount}) for a in line.adjustments],
                }
            )
            for line in lines
        ]
    patient = money_sum(
        a.amount
        for line in lines
        for a in line.adjustments
        if a.group is AdjustmentGroup.PATIENT_RESPONSIBILITY
    )
    return ClaimPayment(
        patient_control_number=f"PCN{number:07d}",
        status=status,
        charge=money_sum(line.charge for line in lines),
        paid=money_sum(line.paid for line in lines),
        patient_responsibility=patient if patient else None,
        filing_indicator=rng.choice(FILING),
        payer_claim_number=f"PCL{rng.randint(10**9, 10**10)}",
        facility_type="11",
        frequency="1",
        adjustments=claim_adjustments,
        service_lines=lines,
        remarks=rng.sample(REMARKS, rng.randint(0, 2)),
        patient_last_name=rng.choice(["DOE", "ROE", "SMITH", "NGUYEN", "GARCIA"]),
        patient_first_name=rng.choice(["JANE", "JOHN", "ALEX", "SAM"]),
        member_id=f"M{rng.randint(10**7, 10**8)}",
        service_date=day,
        received_date=day + timedelta(days=rng.randint(1, 20)),
    )


def remittance(rng: random.Random, first_claim: int, claims: int) -> Remittance:
    """A balanced remittance: ACH, check or no payment, sometimes a provider-level adjustment."""
    payments = [claim_payment(rng, first_claim + i) for i in range(claims)]
    npi = make_npi(f"{rng.randint(10**8, 10**9 - 1)}")
    plb = []
    if rng.random() < 0.3:
        plb.append(
            ProviderAdjustment(
                provider_id=npi,
                fiscal_period_end=date(2026, 12, 31),
                reason=rng.choice(["WO", "L6", "FB"]),
                reference=f"R{rng.randint(1000, 9999)}",
                amount=_money(rng, -20, 20),
            )
        )
    total = money_sum(c.paid for c in payments) - money_sum(p.amount for p in plb)
    method = "NON" if total == 0 else rng.choice(["ACH", "CHK"])
    return Remittance(
        payment_amount=total,
        payment_method=method,
        payment_date=date(2026, 3, 2),
        trace_number=f"TR{rng.randint(10**8, 10**9)}",
        payer_identifier="1" + f"{rng.randint(10**8, 10**9 - 1)}",
        production_date=date(2026, 3, 1),
        payer=Party(
            name="SANDBOX HEALTH PLAN",
            id="SBX01",
            id_qualifier="2U",
            address=Address(line1="1 PAYER WAY", city="HARTFORD", state="CT", postal_code="061030000"),
            contact_name="EDI SUPPORT",
            contact_phone="8005550199",
        ),
        payee=Party(
            name="RIVERSIDE CLINIC",
            id=npi,
            id_qualifier="XX",
            address=Address(line1="20 MAIN ST", city="SPRINGFIELD", state="IL", postal_code="62701"),
        ),
        payer_account=BankAccount(routing_number="021000021", account_number="1234567")
        if method == "ACH"
        else None,
        payee_account=BankAccount(routing_number="071000013", account_number="7654321")
        if method == "ACH"
        else None,
        claims=payments,
        provider_adjustments=plb,
    )


def remittances(seed: int, total_claims: int, per_remittance: int = 25) -> list[Remittance]:
    """Remittances holding `total_claims` claims between them."""
    rng = random.Random(seed)
    made, number = [], 0
    while number < total_claims:
        count = min(per_remittance, total_claims - number)
        made.append(remittance(rng, number, count))
        number += count
    return made


def claim_acknowledgement(claims: list[Claim], seed: int) -> ClaimAcknowledgement:
    """The 277CA a payer returns for a batch of our claims: most accepted, some rejected."""
    rng = random.Random(seed)
    details = []
    for claim in claims:
        encounter = claim.encounter
        rejected = rng.random() < 0.2
        statuses = (
            [
                StatusInfo(
                    category="A7", code=rng.choice(["562", "21", "33"]), entity=rng.choice(["85", "IL", None])
                )
            ]
            if rejected
            else [StatusInfo(category=rng.choice(["A1", "A2"]), code="20")]
        )
        if rejected and rng.random() < 0.3:
            statuses.append(StatusInfo(category="A3", code="21"))
        lines = encounter.service_lines
        end = max(line.service_date_end or line.service_date for line in lines)
        details.append(
            ClaimStatusDetail(
                patient_control_number=claim.patient_control_number,
                payer_claim_number=None if rejected else f"PCL{rng.randint(10**9, 10**10)}",
                statuses=statuses,
                status_date=date(2026, 3, 2),
                total_charge=claim.total_charge,
                service_date=encounter.service_date,
                service_date_end=end if end != encounter.service_date else None,
                patient_last_name=encounter.patient.last_name,
                patient_first_name=encounter.patient.first_name,
                member_id=encounter.coverage.member_id,
                provider_name=encounter.billing_provider.name,
                provider_npi=encounter.billing_provider.npi,
                bill_type=encounter.institutional.type_of_bill if encounter.institutional else None,
            )
        )
    return ClaimAcknowledgement(
        payer_id=claims[0].encounter.coverage.payer_id,
        payer_name=claims[0].encounter.coverage.payer_name,
        receipt_date=date(2026, 3, 1),
        process_date=date(2026, 3, 2),
        trace_number=f"RCPT{seed:06d}",
        receiver_name="CLAIMFLOW",
        receiver_id="CLAIMFLOW",
        receiver_trace=f"BATCH{seed:04d}",
        claims=details,
    )
