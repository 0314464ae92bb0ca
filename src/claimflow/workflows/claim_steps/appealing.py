"""Appealing a denial: an AppealWorkflow child goes through the payer's levels; the payer's answers
reach this claim (the inbox routes by patient control number) and are forwarded to the child."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.claims import ids
    from claimflow.claims.appeals import (
        AppealDecision,
        AppealInput,
        decision_from_notice,
        decision_from_readjudication,
    )
    from claimflow.claims.denials import DenialAssessment
    from claimflow.claims.events import AppealNotice, Remittance835
    from claimflow.claims.lifecycle import ClaimState
    from claimflow.claims.remittance import ClaimStatusCode
    from claimflow.workflows.appeal import AppealWorkflow
    from claimflow.workflows.claim_steps.context import ClaimContext, ClaimWrittenOff
    from claimflow.workflows.claim_steps.posting import post

APPEAL_ANSWERS = (AppealNotice, Remittance835)


async def appeal(c: ClaimContext, remittance: Remittance835, assessment: DenialAssessment) -> bool:
    """True when the appeal overturned the denial; False when it did not and the denial goes to a
    person. Raises ClaimWrittenOff when a manager approved writing it off."""
    record = c.record
    record.appeals += 1
    c.set_state(ClaimState.APPEALING, "appeal", f"appealing: {assessment.summary}")
    child = await workflow.start_child_workflow(
        AppealWorkflow.run,
        AppealInput(
            claim=c.claim(),
            payer=c.payer,
            payment=remittance.payment,
            remittance_date=record.remittance_date or workflow.now().date(),
            proof=c.filing_proof(),
            managers=record.managers,
        ),
        id=ids.appeal_workflow_id(record.encounter.encounter_id, record.appeals),
    )
    pending = record.pending_events
    while not child.done():
        await workflow.wait_condition(
            lambda: child.done() or any(isinstance(e, APPEAL_ANSWERS) for e in pending)
        )
        for event in [e for e in pending if isinstance(e, APPEAL_ANSWERS)]:
            pending.remove(event)
            decision = await _decision_in(c, event)
            if decision is not None and not child.done():
                await child.signal(AppealWorkflow.decision, decision)
    outcome = await child
    c.note("appeal", outcome.reason)
    if outcome.written_off:
        raise ClaimWrittenOff(f"appeal ended: {outcome.reason}")
    if outcome.overturned:
        c.set_state(ClaimState.ADJUDICATED, "appeal", f"overturned: {outcome.amount_recovered} recovered")
    return outcome.overturned


async def _decision_in(c: ClaimContext, event: AppealNotice | Remittance835) -> AppealDecision | None:
    """An upheld notice as it is; an 835 after an appeal is posted, and is the overturn."""
    if isinstance(event, AppealNotice):
        try:
            return decision_from_notice(event.notice)
        except ValueError as unreadable:
            c.note("appeal", f"unreadable decision notice: {unreadable}")
            return None
    payment = await post(c, event)
    c.record.last_payment = payment
    if payment.status is ClaimStatusCode.REVERSAL:
        return None  # the take-back before the re-adjudication: posted, nothing to decide yet
    return decision_from_readjudication(payment, event.payment_date or workflow.now().date())
