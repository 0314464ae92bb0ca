"""Closing: a claim with nothing left to collect closes, and keeps listening for the payer's late
word (a reversal, a re-adjudication) through the payer's reopen window, so the money it moves is
posted and billed, not left unmatched in the exceptions. The window is long: the claim continues as
new after a late remittance when its history has grown long."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.claims.events import Remittance835
    from claimflow.claims.lifecycle import ClaimState
    from claimflow.workflows.claim_steps import adjudication, billing
    from claimflow.workflows.claim_steps.context import ClaimContext, ContinueAsNew


async def close(c: ClaimContext) -> None:
    record = c.record
    if record.reopen_until is None:
        c.set_state(ClaimState.CLOSED, "closed", "nothing left to collect")
    if record.self_pay:
        return
    if record.dunning.sent:  # continued as new while billing what a late remittance left
        await _bill_what_is_left(c)
    window = timedelta(days=c.payer.reopen_window_days)
    if record.reopen_until is None:
        record.reopen_until = workflow.now() + window
    while (event := await c.next_event(Remittance835, record.reopen_until - workflow.now())) is not None:
        c.note("835", "remittance after closing")
        due_before = record.patient_due
        if not await adjudication.settle(c, event):
            await adjudication.submit_until_paid(c)
        if record.patient_due > due_before:
            await _bill_what_is_left(c)
        else:
            c.set_state(ClaimState.CLOSED, "closed", "late remittance posted")
        record.reopen_until = workflow.now() + window
        if c.continue_as_new_due():
            raise ContinueAsNew


async def _bill_what_is_left(c: ClaimContext) -> None:
    await billing.bill_patient(c)
    c.set_state(ClaimState.CLOSED, "closed", "late remittance posted")
