"""How a sandbox payer decides a claim it is secondary or tertiary on: from the earlier payers'
adjudication the 837 restates (2320 AMT*D and CAS, 2430 SVD and CAS), never from a script.

Per line, the payer computes what it would allow (its fee schedule) and what it would pay as
primary, then pays, by its coordination method, up to its allowed amount (standard) or that primary
payment (non-duplication) minus what the earlier payers paid, and never more than the patient was
left to pay. The 835 line says OA-23 for the earlier payers' payments, PR for what is still the
patient's, CO-45 for the rest. A secondary claim without the earlier payers' adjudication is
denied CO-22 (MA04), as real payers do.
"""

from __future__ import annotations

from decimal import Decimal

from claimflow.claims.claim import Claim
from claimflow.claims.encounter import ServiceLine
from claimflow.claims.money import ZERO, money_sum
from claimflow.claims.other_payers import LineAdjudication, OtherPayer, PayerResponsibility
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    ClaimPayment,
    ClaimStatusCode,
    ServicePayment,
)
from claimflow.integrations.sandbox import adjudication
from claimflow.integrations.sandbox.adjudication import Adjudication, ClaimContext
from claimflow.integrations.sandbox.config import CoordinationMethod

CARC_OTHER_PAYER = "22"
"""This care may be covered by another payer per coordination of benefits."""
RARC_PRIMARY_PAYMENT_MISSING = "MA04"
"""Secondary payment cannot be considered without the identity of or payment information from the
primary payer."""

STATUS_BY_RESPONSIBILITY = {
    PayerResponsibility.PRIMARY: ClaimStatusCode.PRIMARY,
    PayerResponsibility.SECONDARY: ClaimStatusCode.SECONDARY,
    PayerResponsibility.TERTIARY: ClaimStatusCode.TERTIARY,
}


def adjudicate_coordinated(claim: Claim, context: ClaimContext) -> Adjudication:
    """Decide a claim billed to this payer as secondary or tertiary (SBR01 S or T)."""
    earlier = claim.earlier_payers
    missing = not earlier or any(payer.adjudication is None for payer in earlier)
    whole_claim = CARC_OTHER_PAYER if missing else adjudication.claim_denial(claim, context)
    plan = context.payer.plan_of(context.member)
    deductible_left = max(ZERO, plan.deductible - context.deductible_met)
    lines: list[ServicePayment] = []
    for index, line in enumerate(claim.encounter.service_lines):
        number = index + 1
        reason = whole_claim or adjudication.line_denial(claim, index, context)
        decided = [] if missing else [_line_of(payer, number) for payer in earlier]
        if reason is None and any(found is None for found in decided):
            reason = CARC_OTHER_PAYER  # an earlier payer said nothing about this line
        if reason:
            lines.append(_denied(line, reason))
            continue
        own, _ = adjudication.paid_line(line, context.payer, plan, deductible_left, takes_copay=False)
        lines.append(_coordinated_line(line, own, [d for d in decided if d is not None], context))
    payment = adjudication.claim_payment(claim, context, lines, whole_claim)
    if payment.status is not ClaimStatusCode.DENIED:
        payment = payment.model_copy(update={"status": STATUS_BY_RESPONSIBILITY[claim.responsibility]})
    if whole_claim == CARC_OTHER_PAYER:
        payment = payment.model_copy(update={"remarks": [RARC_PRIMARY_PAYMENT_MISSING]})
    # what a secondary pays does not count toward the member's deductible with this payer
    return Adjudication(payment=payment, deductible_applied=ZERO)


def _line_of(payer: OtherPayer, number: int) -> LineAdjudication | None:
    assert payer.adjudication is not None
    return payer.adjudication.line(number)


def _denied(line: ServiceLine, reason: str) -> ServicePayment:
    payment = adjudication.denied_line(line, reason)
    if reason == CARC_OTHER_PAYER:
        return payment.model_copy(update={"remarks": [RARC_PRIMARY_PAYMENT_MISSING]})
    return payment


def _coordinated_line(
    line: ServiceLine, own: ServicePayment, decided: list[LineAdjudication], context: ClaimContext
) -> ServicePayment:
    earlier_paid = money_sum(found.paid for found in decided)
    latest = decided[-1]
    patient_left = latest.adjusted(AdjustmentGroup.PATIENT_RESPONSIBILITY)
    allowed = own.allowed_amount if own.allowed_amount is not None else own.paid
    ceiling = allowed if context.payer.coordination.method is CoordinationMethod.STANDARD else own.paid
    paid = max(ZERO, min(ceiling - earlier_paid, patient_left))
    adjustments: list[Adjustment] = []
    if earlier_paid:
        adjustments.append(
            Adjustment(
                group=AdjustmentGroup.OTHER, reason=adjudication.CARC_PRIOR_PAYER_IMPACT, amount=earlier_paid
            )
        )
    adjustments += _still_the_patients(latest, patient_left - paid)
    written_off = line.charge - paid - money_sum(a.amount for a in adjustments)
    if written_off:
        adjustments.append(
            Adjustment(
                group=AdjustmentGroup.CONTRACTUAL, reason=adjudication.CARC_FEE_SCHEDULE, amount=written_off
            )
        )
    return own.model_copy(update={"paid": paid, "adjustments": adjustments})


def _still_the_patients(latest: LineAdjudication, left: Decimal) -> list[Adjustment]:
    """What the patient still owes after this payer, under the earlier payer's own PR reasons
    (deductible, coinsurance, copay) in their order."""
    found: list[Adjustment] = []
    for earlier in latest.adjustments:
        if left <= 0:
            break
        if earlier.group is not AdjustmentGroup.PATIENT_RESPONSIBILITY or earlier.amount <= 0:
            continue
        share = min(earlier.amount, left)
        found.append(
            Adjustment(group=AdjustmentGroup.PATIENT_RESPONSIBILITY, reason=earlier.reason, amount=share)
        )
        left -= share
    return found


def forwards(payment: ClaimPayment) -> ClaimPayment:
    """The payer's payment as it reads once the payer forwarded the claim to the next payer itself:
    CLP02 19/20 (processed and forwarded) and MA18 among the claim's remarks."""
    forwarded = {
        ClaimStatusCode.PRIMARY: ClaimStatusCode.PRIMARY_FORWARDED,
        ClaimStatusCode.SECONDARY: ClaimStatusCode.SECONDARY_FORWARDED,
        ClaimStatusCode.TERTIARY: ClaimStatusCode.TERTIARY_FORWARDED,
    }
    remarks = [*payment.remarks, "MA18"] if "MA18" not in payment.remarks else payment.remarks
    return payment.model_copy(
        update={"status": forwarded.get(payment.status, payment.status), "remarks": remarks}
    )
