"""Billing the patient: statements on the statement cycle (first, reminders, final notice) until a
patient payment settles the balance; after the final notice a person writes it off. The cycle is the
claim's longest wait, so it continues as new between statements when its history grows long."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.requests import StatementRequest
    from claimflow.claims.lifecycle import ClaimState, Dunning
    from claimflow.claims.money import ZERO
    from claimflow.claims.tasks import TaskKind
    from claimflow.workflows.claim_steps.context import ClaimContext, ClaimWrittenOff, ContinueAsNew


async def bill_patient(c: ClaimContext) -> None:
    """A patient payment (the claim's `record_patient_payment` Update) settles the balance."""
    record = c.record
    if record.patient_due <= ZERO:
        return
    if record.dunning.sent == 0:
        c.set_state(ClaimState.PATIENT_BILLING, "statement", f"patient owes {record.patient_due}")
    cycle = timedelta(days=c.payer.statement_cycle_days)
    while record.dunning.sent < record.dunning.statements:
        await send_statement(c, cycle)
        if await _settled_within(c, cycle):
            c.note("statement", "settled by the patient")
            record.dunning = Dunning(statements=record.dunning.statements)
            return
        if c.continue_as_new_due():
            raise ContinueAsNew
    resolution = await c.ask(
        TaskKind.PATIENT_BALANCE,
        f"patient balance {record.patient_due} unpaid after the final notice",
        ["send to collections or write off"],
    )
    raise ClaimWrittenOff(resolution.reason or "patient balance written off")


async def send_statement(c: ClaimContext, cycle: timedelta) -> None:
    record = c.record
    notice = record.dunning.notice()
    today = workflow.now().date()
    path = await c.attempt(
        catalog.WRITE_STATEMENT,
        StatementRequest(
            claim=c.claim(),
            notice=notice,
            billed=record.encounter.total_charge,
            insurance_paid=record.paid,
            adjusted=record.adjusted,
            amount_due=record.patient_due,
            patient_paid=record.patient_paid,
            statement_date=today,
            due_date=today + cycle,
        ),
    )
    if path:
        record.documents.append(path)
    record.dunning = record.dunning.model_copy(update={"sent": record.dunning.sent + 1})
    c.note("statement", f"{notice} statement for {record.patient_due}")


async def _settled_within(c: ClaimContext, cycle: timedelta) -> bool:
    try:
        await workflow.wait_condition(lambda: c.record.patient_due <= ZERO, timeout=cycle)
    except TimeoutError:
        return False
    return True
