"""835 balancing at line, claim and file level (DOMAIN.md), as findings that never refuse a file.

Pure: it works on a Remittance however it was built, so the reader reports what a payer sent and the
payer sandbox proves that every 835 it writes adds up.
"""

from __future__ import annotations

from claimflow.claims.money import ZERO, money_sum
from claimflow.claims.remittance import (
    BalancingFinding,
    BalancingLevel,
    ClaimPayment,
    Remittance,
    ServicePayment,
)


def line_findings(claim: ClaimPayment, number: int, line: ServicePayment) -> list[BalancingFinding]:
    """SVC02 charge − SVC03 paid = the sum of that line's CAS amounts."""
    expected = line.charge - line.paid
    actual = line.adjusted
    if expected == actual:
        return []
    return [
        BalancingFinding(
            level=BalancingLevel.LINE,
            patient_control_number=claim.patient_control_number,
            line_number=number,
            expected=expected,
            actual=actual,
            message=(
                f"claim {claim.patient_control_number} line {number} ({line.procedure_code}): charge "
                f"{line.charge} − paid {line.paid} = {expected}, but its adjustments total {actual}"
            ),
        )
    ]


def claim_findings(claim: ClaimPayment) -> list[BalancingFinding]:
    """Every line's finding, then CLP03 − CLP04 = every CAS amount at claim and line level.

    The sums are line.adjusted and claim.adjusted() added up once (the same additions in the same
    order): a large 835 balances thousands of lines, and nearly all of them balance."""
    found: list[BalancingFinding] = []
    amounts = [adjustment.amount for adjustment in claim.adjustments]
    for number, line in enumerate(claim.service_lines, start=1):
        line_amounts = [adjustment.amount for adjustment in line.adjustments]
        amounts += line_amounts
        if line.charge - line.paid != sum(line_amounts, ZERO):
            found += line_findings(claim, number, line)
    expected = claim.charge - claim.paid
    actual = sum(amounts, ZERO)
    if expected != actual:
        found.append(
            BalancingFinding(
                level=BalancingLevel.CLAIM,
                patient_control_number=claim.patient_control_number,
                expected=expected,
                actual=actual,
                message=(
                    f"claim {claim.patient_control_number}: charge {claim.charge} − paid {claim.paid} = "
                    f"{expected}, but claim and line adjustments total {actual}"
                ),
            )
        )
    return found


def file_findings(remittance: Remittance) -> list[BalancingFinding]:
    """BPR02 = the sum of CLP04 − the sum of PLB amounts (PLB amounts reduce the payment)."""
    expected = money_sum(claim.paid for claim in remittance.claims) - remittance.provider_adjusted
    actual = remittance.payment_amount
    if expected == actual:
        return []
    return [
        BalancingFinding(
            level=BalancingLevel.FILE,
            expected=expected,
            actual=actual,
            message=(
                f"payment {actual} (BPR02) differs from claims paid "
                f"{money_sum(c.paid for c in remittance.claims)} − provider adjustments "
                f"{remittance.provider_adjusted} = {expected}"
            ),
        )
    ]


def balancing_findings(remittance: Remittance) -> list[BalancingFinding]:
    """Every balancing fault of a remittance: lines and claims in order, then the file total."""
    return [f for claim in remittance.claims for f in claim_findings(claim)] + file_findings(remittance)


def with_findings(remittance: Remittance) -> Remittance:
    """The remittance with `findings` recomputed from its amounts."""
    return remittance.model_copy(update={"findings": balancing_findings(remittance)})
