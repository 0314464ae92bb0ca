"""ClaimWorkflow: one encounter's claim from intake to the last cent collected.

`run` reads as the lifecycle: the named steps of `LIFECYCLE`, in order, each in its own module under
`claim_steps/`. All the claim's state is one `ClaimRecord`; the `state` query projects it, and a
claim continues as new (or starts, in tests) from it at the step it names. Where the claim needs
judgement a step asks a person through the claim's TaskBoard and waits for the resolution (a
validated Update).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.requests import PatientPaymentPosting
    from claimflow.claims import ids
    from claimflow.claims.events import PayerEvent
    from claimflow.claims.lifecycle import (
        ClaimInput,
        ClaimRecord,
        ClaimSnapshot,
        ClaimState,
        ClaimStep,
        PatientPaymentRequest,
    )
    from claimflow.claims.money import ZERO
    from claimflow.claims.tasks import Action, Task, TaskKind, TaskResolution
    from claimflow.workflows import metrics
    from claimflow.workflows.claim_steps import adjudication, billing, closing, intake
    from claimflow.workflows.claim_steps.context import ClaimContext, ClaimWrittenOff, ContinueAsNew
    from claimflow.workflows.claim_steps.filing import watch_timely_filing
    from claimflow.workflows.claim_steps.underpayments import watch_underpayments
    from claimflow.workflows.common import StepFailed, run_step
    from claimflow.workflows.taskboard import TaskBoard

Step = Callable[[ClaimContext], Awaitable[None]]

LIFECYCLE: tuple[tuple[ClaimStep, Step], ...] = (
    (ClaimStep.INTAKE, intake.validate_intake),
    (ClaimStep.ELIGIBILITY, intake.verify_eligibility),
    (ClaimStep.CODING, intake.await_coding),
    (ClaimStep.SCRUB, intake.scrub),
    (ClaimStep.PAYER, adjudication.submit_until_paid),
    (ClaimStep.PATIENT_BILLING, billing.bill_patient),
    (ClaimStep.REOPEN_WINDOW, closing.close),
)
"""The claim's life, step by step; a step that finds nothing to do (a coded encounter, a self-pay
patient, no patient balance) returns at once."""
STEP_ORDER = list(ClaimStep)

LEDGER_PATIENT_PAYMENTS = "ledger-patient-payments"
"""Patch id: claims started before it counted patient payments without posting them to the ledger."""


@workflow.defn(name=ids.WorkflowType.CLAIM)
class ClaimWorkflow:
    @workflow.init
    def __init__(self, input: ClaimInput) -> None:
        self._hold = (
            intake.IntakeHold(input.held, input.managers)
            if input.held is not None and input.record is None
            else None
        )
        """A document that cannot become a claim yet: until it is corrected, there is no record."""
        self._record: ClaimRecord
        self._claim: ClaimContext
        if self._hold is None:
            self._start(input.starting_record(), input.history_limit)
        self._patient_pending = ZERO
        """Patient payments being posted by an Update still running: they count as paid already."""

    # ------------------------------------------------------------------ the lifecycle
    def _start(self, record: ClaimRecord, history_limit: int) -> None:
        self._record = record
        self._claim = ClaimContext(record, history_limit)

    @property
    def _board(self) -> TaskBoard:
        return self._hold.board if self._hold is not None else self._claim.board

    @workflow.run
    async def run(self, input: ClaimInput) -> ClaimSnapshot:
        metrics.claim_started()
        if self._hold is not None:
            self._hold.note("intake", f"received by {input.received_by}")
            released = await self._hold.release()
            if released is None:
                return self._hold.snapshot()
            self._start(released, input.history_limit)
            self._hold = None
        claim, record = self._claim, self._record
        if input.record is None and input.held is None:
            claim.note("intake", f"received by {input.received_by}")
        if record.profile is None:
            await claim.load_payer_profile()
        else:
            claim.publish_claim()
            claim.board.publish()
        watcher = asyncio.create_task(watch_timely_filing(claim))
        contracts = asyncio.create_task(watch_underpayments(claim))
        lifecycle = asyncio.create_task(self.lifecycle())
        # A person may write the claim off from a deadline warning while it waits anywhere else.
        await workflow.wait_condition(lambda: lifecycle.done() or record.write_off_reason is not None)
        if not lifecycle.done():
            lifecycle.cancel()
            claim.set_state(ClaimState.WRITTEN_OFF, "closed", f"written off: {record.write_off_reason}")
        watcher.cancel()
        contracts.cancel()
        continues = False
        for task in (lifecycle, watcher, contracts):
            try:
                await task
            except asyncio.CancelledError:
                pass
            except ContinueAsNew:
                continues = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        if continues:
            workflow.continue_as_new(input.model_copy(update={"record": record}))
        return record.snapshot()

    async def lifecycle(self) -> None:
        """Every step from the one the record names, in order. ContinueAsNew passes through."""
        claim, record = self._claim, self._record
        try:
            for step, perform in LIFECYCLE:
                if STEP_ORDER.index(step) < STEP_ORDER.index(record.step):
                    continue
                record.step = step
                await perform(claim)
            record.step = ClaimStep.DONE
        except ClaimWrittenOff as written_off:
            record.step = ClaimStep.DONE
            claim.set_state(ClaimState.WRITTEN_OFF, "closed", f"written off: {written_off}")

    # ------------------------------------------------------------------ messages from outside
    @workflow.signal(name=ids.Signal.PAYER_EVENT)
    def payer_event(self, event: PayerEvent) -> None:
        """A 999, 277CA, 835 or appeal decision for this claim. Redelivered events are ignored."""
        if self._hold is not None:
            return  # never sent to a payer, so no payer's word can be about it
        record = self._record
        if event.event_id in record.seen_event_ids:
            return
        record.seen_event_ids.append(event.event_id)
        record.pending_events.append(event)

    @workflow.update(name=ids.Update.RESOLVE_TASK)
    def resolve_task(self, resolution: TaskResolution) -> Task:
        resolved = self._board.resolve(resolution)
        if resolved.kind is TaskKind.TIMELY_FILING_RISK and resolution.action is Action.WRITE_OFF:
            self._record.write_off_reason = resolution.reason
        return resolved

    @resolve_task.validator
    def validate_resolution(self, resolution: TaskResolution) -> None:
        self._board.validate(resolution)

    @workflow.update(name=ids.Update.RECORD_PATIENT_PAYMENT)
    async def record_patient_payment(self, payment: PatientPaymentRequest) -> ClaimSnapshot:
        """The ledger takes the payment first, so the claim never counts money the books lack; a
        payment the ledger refuses fails the Update and changes nothing."""
        record = self._record
        update = workflow.current_update_info()
        reference = payment.reference or (update.id if update else "")
        self._patient_pending += payment.amount  # while it posts, a second payment cannot overpay
        record.payment_references.append(reference)
        try:
            if workflow.patched(LEDGER_PATIENT_PAYMENTS):
                posting = PatientPaymentPosting(
                    claim=self._claim.claim(), amount=payment.amount, actor=payment.actor, reference=reference
                )
                await run_step(catalog.RECORD_PATIENT_PAYMENT, posting)
        except StepFailed as failure:
            record.payment_references.remove(reference)
            raise ApplicationError(
                f"payment {payment.amount} was not recorded, the ledger refused it ({failure}); "
                "nothing changed, record it again",
                type="PaymentNotRecorded",
            ) from None
        finally:
            self._patient_pending -= payment.amount
        record.patient_paid += payment.amount
        self._claim.note("payment", f"patient paid {payment.amount} (recorded by {payment.actor})")
        return record.snapshot()

    @record_patient_payment.validator
    def validate_patient_payment(self, payment: PatientPaymentRequest) -> None:
        if self._hold is not None:
            raise ApplicationError("claim is held at intake, not billing the patient", type="InvalidPayment")
        record = self._record
        if record.state is not ClaimState.PATIENT_BILLING:
            raise ApplicationError(
                f"claim is {record.state.value}, not waiting for a patient payment: record it on the claim "
                "that billed the patient (`claimflow claim show ID` shows its state)",
                type="InvalidPayment",
            )
        if payment.reference in record.payment_references:
            raise ApplicationError(
                f"a payment with reference {payment.reference!r} is recorded already", type="InvalidPayment"
            )
        payable = record.patient_due - self._patient_pending  # payments still posting count as paid
        if payment.amount <= ZERO or payment.amount > payable:
            raise ApplicationError(
                f"payment {payment.amount} must be more than 0 and at most the balance {payable}",
                type="InvalidPayment",
            )

    @workflow.query(name=ids.Query.STATE)
    def state(self) -> ClaimSnapshot:
        return self._hold.snapshot() if self._hold is not None else self._record.snapshot()
