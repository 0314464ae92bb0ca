"""Claims with several coverages and the balanced decisions earlier payers made about them."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from claimflow.claims.claim import Claim
from claimflow.claims.coordination import Decision
from claimflow.claims.money import CENT, money_sum
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    ClaimPayment,
    ClaimStatusCode,
    ServicePayment,
)
from tests.factories import PAYER_IDS, ClaimFactory


def coordinated_claim(factory: ClaimFactory, coverages: int = 2, **options: object) -> Claim:
    """A factory claim whose encounter has `coverages` coverages of distinct payers, in order."""
    claim = factory.claim(**options)  # type: ignore[arg-type]
    primary = claim.encounter.coverage
    others = [payer for payer in PAYER_IDS if payer != primary.payer_id]
    chosen = factory.rng.sample(others, coverages - 1)
    encounter = claim.encounter.model_copy(
        update={"other_coverages": [factory.coverage(payer_id) for payer_id in chosen]}
    )
    return claim.model_copy(update={"encounter": encounter})


def balanced_decision(claim: Claim, rng: random.Random, position: int = 0) -> Decision:
    """A payer's 835 claim for `claim` that balances: every line split into CO-45, PR-1/PR-2 and
    paid, now and then a denied line (CO-96) and a claim-level adjustment (OA-94 taken from paid)."""
    lines: list[ServicePayment] = []
    for line in claim.encounter.service_lines:
        if rng.random() < 0.1:
            adjustments = [Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason="96", amount=line.charge)]
            paid = Decimal("0.00")
        else:
            allowed = (line.charge * Decimal(rng.choice(["0.4", "0.55", "0.8", "1"]))).quantize(CENT)
            deductible = min(allowed, Decimal(rng.choice(["0", "0", "25.00"])))
            coinsurance = ((allowed - deductible) * Decimal("0.2")).quantize(CENT)
            adjustments = [
                Adjustment(group=group, reason=reason, amount=amount)
                for group, reason, amount in (
                    (AdjustmentGroup.CONTRACTUAL, "45", line.charge - allowed),
                    (AdjustmentGroup.PATIENT_RESPONSIBILITY, "1", deductible),
                    (AdjustmentGroup.PATIENT_RESPONSIBILITY, "2", coinsurance),
                )
                if amount > 0
            ]
            paid = allowed - deductible - coinsurance
        lines.append(
            ServicePayment(
                procedure_code=line.procedure_code,
                modifiers=list(line.modifiers),
                charge=line.charge,
                paid=paid,
                revenue_code=line.revenue_code,
                units=line.units,
                service_date=line.service_date,
                adjustments=adjustments,
            )
        )
    line_paid = money_sum(line.paid for line in lines)
    claim_level = []
    if line_paid > 1 and rng.random() < 0.2:
        claim_level = [Adjustment(group=AdjustmentGroup.OTHER, reason="94", amount=Decimal("1.00"))]
    payment = ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status=[ClaimStatusCode.PRIMARY, ClaimStatusCode.SECONDARY][position],
        charge=claim.total_charge,
        paid=line_paid - money_sum(a.amount for a in claim_level),
        filing_indicator="MB",
        payer_claim_number=f"PCN{rng.randrange(10**9)}",
        adjustments=claim_level,
        service_lines=lines,
    )
    return Decision(payment, claim.encounter.service_date + timedelta(days=rng.randrange(10, 40)))


DECIDED = date(2026, 11, 20)
