"""Posting an 835 claim payment to the ledger (idempotent there) and keeping the claim's totals."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.requests import PostingRequest
    from claimflow.claims.events import Remittance835
    from claimflow.claims.money import Money, money_sum
    from claimflow.claims.remittance import AdjustmentGroup, ClaimPayment
    from claimflow.claims.tasks import TaskKind
    from claimflow.workflows.claim_steps.context import ClaimContext


async def post(
    c: ClaimContext, remittance: Remittance835, *, earlier_payer: str | None = None
) -> ClaimPayment:
    """Post one claim payment; one the ledger refuses waits on a person posting it by hand.

    `earlier_payer`: the 835 is a late one from that payer, which decided before the payer billed
    now (a reversal or re-adjudication): it posts against that payer, and only what it paid counts;
    what it left the patient and wrote off are restated by the later payer's 835."""
    record, payment = c.record, remittance.payment
    outcome = await c.attempt(
        catalog.POST_PAYMENT,
        PostingRequest(
            claim_id=record.claim_id,
            payment=payment,
            trace_number=remittance.trace_number or remittance.file_id,
            payer_id=earlier_payer or remittance.payer_id or record.billed_coverage.payer_id,
            payment_date=remittance.payment_date or workflow.now().date(),
        ),
    )
    if outcome is None:
        which = f"a late remittance from {earlier_payer}" if earlier_payer else "the remittance"
        await c.ask(
            TaskKind.DENIAL,
            f"{which} could not be posted: {c.last_failure}",
            [c.last_failure, "post it by hand, then resolve this task"],
        )
    else:
        record.paid += outcome.paid
        if earlier_payer is None:
            # OA-23 on a secondary's 835 is what the earlier payers paid: counted in `paid` already
            record.adjusted += outcome.adjusted - prior_payers_paid(payment)
            record.patient_responsibility += outcome.patient_responsibility
    if earlier_payer is None:
        record.remittance_date = remittance.payment_date or workflow.now().date()
    return payment


def prior_payers_paid(payment: ClaimPayment) -> Money:
    """OA-23 (the impact of prior payers' adjudication) on a payment: what the earlier payers paid."""
    return money_sum(
        a.amount for a in payment.all_adjustments if a.group is AdjustmentGroup.OTHER and a.reason == "23"
    )
