"""ClaimWorkflow: one encounter's claim from intake to the last cent collected.

`run` reads as the lifecycle. Every wait has a deadline from the payer's profile; where the claim
needs judgement it opens a task and waits for a person's resolution (a validated Update).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime, timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.requests import (
        EligibilityRequest,
        Issue,
        PatientPaymentPosting,
        PostingRequest,
        ScrubRequest,
        StatementRequest,
        StatusRequest,
        SubmitRequest,
        TimelyFilingLetterRequest,
    )
    from claimflow.claims.appeals import (
        AppealDecision,
        AppealInput,
        TimelyFilingProof,
        decision_from_notice,
        decision_from_readjudication,
    )
    from claimflow.claims.claim import Claim, FrequencyCode
    from claimflow.claims.deadlines import ESCALATION_DAYS, timely_filing_deadline
    from claimflow.claims.denials import DenialAction, DenialAssessment, classify
    from claimflow.claims.encounter import Encounter
    from claimflow.claims.events import EventKind, PayerEvent
    from claimflow.claims.lifecycle import (
        ClaimInput,
        ClaimSnapshot,
        ClaimState,
        PatientPaymentRequest,
        TimelineEntry,
    )
    from claimflow.claims.money import ZERO
    from claimflow.claims.payers import PayerProfile
    from claimflow.claims.remittance import ClaimPayment, ClaimStatusCode
    from claimflow.claims.tasks import (
        Action,
        InvalidResolution,
        Priority,
        Task,
        TaskKind,
        TaskResolution,
        check_resolution,
    )
    from claimflow.workflows import search_attributes as sa
    from claimflow.workflows.appeal import AppealWorkflow
    from claimflow.workflows.common import (
        IO_RETRY,
        StepFailed,
        TaskHost,
        run_step,
    )


APPEAL_ANSWERS = {EventKind.APPEAL_DECISION, EventKind.REMITTANCE_835}
SETTLED = {ClaimState.CLOSED, ClaimState.WRITTEN_OFF}
LEDGER_PATIENT_PAYMENTS = "ledger-patient-payments"
"""Patch id: claims started before it counted patient payments without posting them to the ledger."""
ONE_FILING_WARNING = "one-filing-warning"
"""Patch id: claims started before it kept every timely-filing warning open, and raised all the
warnings already due at once."""


class ClaimWrittenOff(Exception):
    """A person decided this claim is not worth pursuing further; the workflow closes it."""


@workflow.defn
class ClaimWorkflow(TaskHost):
    @workflow.init
    def __init__(self, input: ClaimInput) -> None:
        self._encounter: Encounter = input.encounter
        self._claim_id = f"claim-{input.encounter.encounter_id}"
        self._state = ClaimState.INTAKE
        self._timeline: list[TimelineEntry] = []
        self._tasks: list[Task] = []
        self._events: list[PayerEvent] = []
        self._seen_events: set[str] = set()
        self._profile: PayerProfile | None = None
        self._frequency = FrequencyCode.ORIGINAL
        self._payer_claim_number: str | None = None
        self._submissions = 0
        self._submitted_at: datetime | None = None
        self._accepted_on: datetime | None = None
        self._payment: ClaimPayment | None = None
        self._paid = ZERO
        self._patient_responsibility = ZERO
        self._patient_paid = ZERO
        self._patient_pending = ZERO
        self._payment_references: set[str] = set()
        self._adjusted = ZERO
        self._self_pay = False
        self._documents: list[str] = []
        self._last_failure = ""
        self._managers = list(input.managers)
        self._last_payment: ClaimPayment | None = None
        self._remittance_date: date | None = None
        self._appeals = 0
        self._ack_999_at: datetime | None = None
        self._status_277ca: str | None = None
        self._interchange_control_number: int | None = None
        self._write_off_reason: str | None = None

    # ------------------------------------------------------------------ the lifecycle
    @workflow.run
    async def run(self, input: ClaimInput) -> ClaimSnapshot:
        self._note("intake", f"received by {input.received_by}")
        await self.load_payer_profile()
        watcher = asyncio.create_task(self.watch_timely_filing())
        lifecycle = asyncio.create_task(self.lifecycle())
        # A person may write the claim off from a deadline warning while it waits anywhere else.
        await workflow.wait_condition(lambda: lifecycle.done() or self._write_off_reason is not None)
        if not lifecycle.done():
            lifecycle.cancel()
            self._set_state(ClaimState.WRITTEN_OFF, "closed", f"written off: {self._write_off_reason}")
        watcher.cancel()
        for task in (lifecycle, watcher):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state()

    async def lifecycle(self) -> None:
        try:
            await self.validate_intake()
            await self.verify_eligibility()
            await self.await_coding()
            await self.scrub()
            if not self._self_pay:
                await self.submit_until_paid()
            await self.bill_patient()
            self._set_state(ClaimState.CLOSED, "closed", "nothing left to collect")
            if not self._self_pay:
                await self.watch_late_remittances()
        except ClaimWrittenOff as written_off:
            self._set_state(ClaimState.WRITTEN_OFF, "closed", f"written off: {written_off}")

    async def watch_late_remittances(self) -> None:
        """A closed claim keeps listening for the payer's late word (a reversal, a re-adjudication)
        through the payer's reopen window, so the money it moves is posted and billed, not left
        unmatched in the exceptions."""
        window = timedelta(days=self._payer.reopen_window_days)
        while (event := await self._next_event(EventKind.REMITTANCE_835, window)) is not None:
            self._note("835", "remittance after closing")
            due_before = self._patient_due
            if not await self.settle(event):
                await self.submit_until_paid()
            if self._patient_due > due_before:
                await self.bill_patient()
            self._set_state(ClaimState.CLOSED, "closed", "late remittance posted")

    async def load_payer_profile(self) -> None:
        self._profile = await workflow.execute_activity(
            catalog.PAYER_PROFILE.name,
            self._encounter.coverage,
            result_type=catalog.PAYER_PROFILE.result_type,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=IO_RETRY,
        )
        deadline = timely_filing_deadline(self._encounter.service_date, self._profile.timely_filing_days)
        workflow.upsert_search_attributes(
            [
                sa.PAYER_ID.value_set(self._encounter.coverage.payer_id),
                sa.BILLED_AMOUNT.value_set(float(self._encounter.total_charge)),
                sa.TIMELY_FILING_DEADLINE.value_set(
                    datetime(deadline.year, deadline.month, deadline.day, tzinfo=workflow.now().tzinfo)
                ),
            ]
        )

    async def validate_intake(self) -> None:
        """Demographics complete enough to ask the payer: otherwise a person fixes them."""
        while issues := await self._scrub_issues(["demographics", "coverage"]):
            resolution = await self._task(
                TaskKind.FIX_DEMOGRAPHICS,
                f"{len(issues)} demographic or coverage field(s) missing or invalid",
                [issue.message for issue in issues],
            )
            self._apply_correction(resolution)
        self._note("intake", "demographics complete")

    async def verify_eligibility(self) -> None:
        self._set_state(ClaimState.ELIGIBILITY, "eligibility", "270 sent")
        while True:
            result = await self._io(
                catalog.CHECK_ELIGIBILITY,
                EligibilityRequest(encounter=self._encounter, trace_number=self._trace("270")),
            )
            if result is not None and result.active:
                self._note("eligibility", "271: coverage active")
                return
            why = "coverage inactive on the date of service"
            if result is None:
                why = f"eligibility could not be checked: {self._last_failure}"
            elif result.rejections:
                why = "payer rejected the inquiry: AAA " + ", ".join(r.code for r in result.rejections)
            resolution = await self._task(TaskKind.COVERAGE_ISSUE, why, [why])
            if resolution.action is Action.SELF_PAY:
                self._self_pay = True
                self._patient_responsibility = self._encounter.total_charge
                self._note("eligibility", "patient is self-pay")
                return
            assert resolution.coverage is not None  # the validator requires it
            self._encounter = self._encounter.model_copy(update={"coverage": resolution.coverage})
            await self.load_payer_profile()

    async def await_coding(self) -> None:
        """The coding hold: the claim waits until a coder supplies diagnoses and procedures."""
        if self._encounter.is_coded:
            return
        self._set_state(ClaimState.CODING, "coding", "waiting for codes")
        resolution = await self._task(
            TaskKind.CODING,
            "encounter has no diagnosis or procedure codes",
            ["assign ICD-10-CM diagnoses and CPT/HCPCS procedures"],
            due_days=self._payer.coding_sla_days,
            escalate_to="coding-supervisor",
        )
        self._encounter = self._encounter.model_copy(
            update={"diagnoses": resolution.diagnoses, "service_lines": resolution.service_lines}
        )
        workflow.upsert_search_attributes([sa.BILLED_AMOUNT.value_set(float(self._encounter.total_charge))])
        self._note("coding", f"coded by {resolution.actor}")

    async def scrub(self) -> None:
        self._set_state(ClaimState.SCRUBBING, "scrub", "checking against code sets and payer edits")
        while errors := await self._scrub_issues(None):
            resolution = await self._task(
                TaskKind.SCRUB_FAILURE,
                f"{len(errors)} scrub error(s): " + ", ".join(sorted({e.category for e in errors})),
                [f"{e.rule}: {e.message}" + (f" (fix: {e.fix_hint})" if e.fix_hint else "") for e in errors],
            )
            if resolution.action is Action.OVERRIDE:
                self._note("scrub", f"override by {resolution.actor}: {resolution.reason}")
                return
            self._apply_correction(resolution)
        self._note("scrub", "clean")

    async def submit_until_paid(self) -> None:
        """Submit, follow the claim through 999, 277CA and 835; correct and resubmit on rejection."""
        while True:
            rejection = await self.submit() or await self.await_acknowledgements()
            if rejection is None:
                remittance = await self.await_remittance()
                if remittance is None:
                    continue  # a person chose to resubmit after payer silence
                if await self.settle(remittance):
                    return
                continue  # a corrected or rebilled claim goes out
            resolution = await self._task(TaskKind.PAYER_REJECTION, rejection, [rejection])
            if resolution.action is Action.CORRECT:
                self._apply_correction(resolution)
                await self.scrub()

    async def submit(self) -> str | None:
        """Send the 837. Returns why it could not be sent, if so."""
        self._submissions += 1
        self._events = [e for e in self._events if e.kind is EventKind.REMITTANCE_835]
        receipt = await self._io(
            catalog.SUBMIT_CLAIM,
            SubmitRequest(claim=self._claim(), attempt=self._submissions, submitted_at=workflow.now()),
        )
        if receipt is None:
            return f"the clearinghouse did not take the claim: {self._last_failure}"
        self._submitted_at = workflow.now()
        self._interchange_control_number = receipt.interchange_control_number
        self._set_state(
            ClaimState.SUBMITTED,
            "submit",
            f"837 submission {self._submissions} ({receipt.submission_id}), "
            f"frequency {self._frequency.value}",
        )
        return None

    async def await_acknowledgements(self) -> str | None:
        """The 999 and the 277CA, each within its window. Returns why the claim was rejected, if so."""
        ack = await self._next_event(EventKind.ACK_999, timedelta(hours=self._payer.ack_999_hours))
        if ack is None:
            self._note("999", f"none within {self._payer.ack_999_hours} h; waiting for the 277CA")
        elif ack.ack_status == "R":
            return "999 rejected the claim file: " + ("; ".join(ack.ack_errors) or "no detail given")
        else:
            self._ack_999_at = ack.received_at
            self._set_state(ClaimState.ACKNOWLEDGED, "999", f"accepted ({ack.ack_status})")
        claim_ack = await self._next_event(
            EventKind.CLAIM_ACK_277CA,
            timedelta(days=self._payer.ack_277ca_days),
            also=EventKind.REMITTANCE_835,
        )
        if claim_ack is None or claim_ack.claim_status is None:
            self._note("277CA", "none within the window; waiting for the remittance")
            return None
        status = claim_ack.claim_status
        if status.primary.rejected:
            return f"277CA rejected the claim: STC {status.primary.category}:{status.primary.code}"
        self._payer_claim_number = status.payer_claim_number or self._payer_claim_number
        self._accepted_on = claim_ack.received_at
        self._status_277ca = f"{status.primary.category}:{status.primary.code}"
        self._set_state(ClaimState.ACCEPTED, "277CA", f"accepted, payer claim {self._payer_claim_number}")
        return None

    async def await_remittance(self) -> PayerEvent | None:
        """The 835, on the payer's clock; silence past it calls for 276 status inquiries."""
        profile = self._payer
        wait = timedelta(days=profile.expected_adjudication_days)
        inquiries = 0
        while True:
            event = await self._next_event(EventKind.REMITTANCE_835, wait)
            if event is not None and event.payment is not None:
                self._payer_claim_number = event.payment.payer_claim_number or self._payer_claim_number
                return event
            if inquiries < profile.status_inquiries_max:
                inquiries += 1
                await self.inquire_status(inquiries)
                wait = timedelta(days=profile.status_inquiry_every_days)
                continue
            resolution = await self._task(
                TaskKind.NO_RESPONSE,
                f"no remittance after {inquiries} status inquiries",
                [f"submitted {self._submitted_at:%Y-%m-%d}" if self._submitted_at else "never submitted"],
            )
            if resolution.action is Action.RESUBMIT:
                return None
            if resolution.action is Action.WRITE_OFF:
                raise ClaimWrittenOff(resolution.reason or "no response from payer")
            inquiries = 0

    async def inquire_status(self, number: int) -> None:
        status = await self._io(
            catalog.INQUIRE_CLAIM_STATUS,
            StatusRequest(
                claim=self._claim(),
                trace_number=self._trace(f"276-{self._submissions}-{number}"),
                payer_claim_number=self._payer_claim_number,
            ),
        )
        if status is None or not status.claims:
            self._note("276", f"inquiry {number}: no answer")
            return
        detail = status.claims[0]
        self._payer_claim_number = detail.payer_claim_number or self._payer_claim_number
        self._note("276", f"inquiry {number}: 277 {detail.primary.category}:{detail.primary.code}")

    async def settle(self, remittance: PayerEvent) -> bool:
        """Post an 835 and act on what it says. True when nothing more is owed by the payer;
        False when a corrected or rebilled claim must go out."""
        while True:
            payment = await self.post(remittance)
            assessment = classify(payment, previous=self._last_payment)
            self._last_payment = payment
            self._note("835", assessment.summary)
            match assessment.action:
                case DenialAction.REPOST | DenialAction.WAIT:
                    # A reversal, or a claim the payer still reviews: the next 835 says the rest.
                    self._set_state(
                        ClaimState.ACCEPTED, "835", f"waiting for the payer: {assessment.summary}"
                    )
                    next_remittance = await self.await_remittance()
                    if next_remittance is None:
                        return False
                    remittance = next_remittance
                case DenialAction.APPEAL:
                    return await self.appeal(remittance, assessment)
                case DenialAction.BILL_OTHER_PAYER | DenialAction.VERIFY_COVERAGE:
                    return await self.rebill_coverage(assessment)
                case DenialAction.BILL_PATIENT | DenialAction.NONE:
                    self._set_state(
                        ClaimState.ADJUDICATED,
                        "835",
                        f"paid {payment.paid}, patient owes {assessment.patient_responsibility}",
                    )
                    return True
                case _:
                    return await self.correct_or_write_off(assessment)

    async def post(self, remittance: PayerEvent) -> ClaimPayment:
        """Post one claim payment to the ledger (idempotent there) and keep the totals."""
        payment = remittance.payment
        assert payment is not None
        outcome = await self._io(
            catalog.POST_PAYMENT,
            PostingRequest(
                claim_id=self._claim_id,
                payment=payment,
                trace_number=remittance.trace_number or remittance.file_id,
                payer_id=remittance.payer_id or self._encounter.coverage.payer_id,
                payment_date=remittance.payment_date or workflow.now().date(),
            ),
        )
        if outcome is None:
            await self._task(
                TaskKind.DENIAL,
                f"the remittance could not be posted: {self._last_failure}",
                [self._last_failure, "post it by hand, then resolve this task"],
            )
        else:
            self._paid += outcome.paid
            self._adjusted += outcome.adjusted
            self._patient_responsibility += outcome.patient_responsibility
        self._remittance_date = remittance.payment_date or workflow.now().date()
        return payment

    async def correct_or_write_off(self, assessment: DenialAssessment) -> bool:
        """A denial a person must correct (a replacement claim follows) or write off."""
        self._set_state(ClaimState.DENIED, "835", f"denied: {assessment.summary}")
        details = [
            f"{f.group.value}-{f.carc}: {f.carc_text}" + (f" ({f.needs})" if f.needs else "")
            for f in assessment.findings
            if f.at_stake
        ]
        resolution = await self._task(TaskKind.DENIAL, assessment.summary, details or [assessment.summary])
        if resolution.action is Action.WRITE_OFF:
            raise ClaimWrittenOff(resolution.reason or "denial written off")
        self._apply_correction(resolution)
        self._frequency = FrequencyCode.REPLACEMENT
        await self.scrub()
        return False

    async def rebill_coverage(self, assessment: DenialAssessment) -> bool:
        """Wrong or ended coverage: a person gives the right coverage (a new original claim to that
        payer follows) or makes the patient self-pay."""
        self._set_state(ClaimState.DENIED, "835", f"coverage denial: {assessment.summary}")
        resolution = await self._task(TaskKind.COVERAGE_ISSUE, assessment.summary, [assessment.summary])
        if resolution.action is Action.SELF_PAY:
            self._patient_responsibility = self._encounter.total_charge - self._paid
            return True
        assert resolution.coverage is not None
        self._encounter = self._encounter.model_copy(update={"coverage": resolution.coverage})
        self._frequency, self._payer_claim_number, self._last_payment = FrequencyCode.ORIGINAL, None, None
        await self.load_payer_profile()
        await self.verify_eligibility()
        await self.scrub()
        return False

    async def appeal(self, remittance: PayerEvent, assessment: DenialAssessment) -> bool:
        """Appeal through the payer's levels in a child workflow; the payer's answers reach this
        claim (the inbox routes by patient control number) and are forwarded to it."""
        self._appeals += 1
        self._set_state(ClaimState.APPEALING, "appeal", f"appealing: {assessment.summary}")
        child = await workflow.start_child_workflow(
            AppealWorkflow.run,
            AppealInput(
                claim=self._claim(),
                payer=self._payer,
                payment=remittance.payment,
                remittance_date=self._remittance_date or workflow.now().date(),
                proof=self._filing_proof(),
                managers=self._managers,
            ),
            id=f"appeal-{self._encounter.encounter_id}-{self._appeals}",
        )
        while not child.done():
            await workflow.wait_condition(
                lambda: child.done() or any(e.kind in APPEAL_ANSWERS for e in self._events)
            )
            for event in [e for e in self._events if e.kind in APPEAL_ANSWERS]:
                self._events.remove(event)
                decision = await self._appeal_decision(event)
                if decision is not None and not child.done():
                    await child.signal(AppealWorkflow.decision, decision)
        outcome = await child
        self._note("appeal", outcome.reason)
        if outcome.written_off:
            raise ClaimWrittenOff(f"appeal ended: {outcome.reason}")
        if outcome.overturned:
            self._set_state(
                ClaimState.ADJUDICATED, "appeal", f"overturned: {outcome.amount_recovered} recovered"
            )
            return True
        return await self.correct_or_write_off(assessment)

    async def _appeal_decision(self, event: PayerEvent) -> AppealDecision | None:
        """An upheld notice as it is; an 835 after an appeal is posted, and is the overturn."""
        if event.kind is EventKind.APPEAL_DECISION:
            try:
                return decision_from_notice(event.notice or {})
            except ValueError as unreadable:
                self._note("appeal", f"unreadable decision notice: {unreadable}")
                return None
        payment = await self.post(event)
        self._last_payment = payment
        if payment.status is ClaimStatusCode.REVERSAL:
            return None  # the take-back before the re-adjudication: posted, nothing to decide yet
        return decision_from_readjudication(payment, event.payment_date or workflow.now().date())

    async def watch_timely_filing(self) -> None:
        """30, 14 and 7 days before the timely-filing deadline, a claim the payer has not accepted
        gets a timely_filing_risk task of rising priority, with a reconsideration letter carrying
        the proof of timely filing when the claim was sent. Each warning replaces the open one, and
        a claim that arrives late gets only the most urgent warning due: one task per risk."""
        one_warning = workflow.patched(ONE_FILING_WARNING)
        deadline = timely_filing_deadline(self._encounter.service_date, self._payer.timely_filing_days)
        due = datetime(deadline.year, deadline.month, deadline.day, tzinfo=workflow.now().tzinfo)
        priorities = (Priority.NORMAL, Priority.HIGH, Priority.URGENT)
        for number, (days_before, priority) in enumerate(zip(ESCALATION_DAYS, priorities, strict=True)):
            later = ESCALATION_DAYS[number + 1 :]
            if one_warning and later and due - timedelta(days=later[0]) <= workflow.now():
                continue
            wake = due - timedelta(days=days_before)
            if wake > workflow.now():
                await workflow.sleep(wake - workflow.now())
            if self._accepted_on is not None or self._state in SETTLED:
                return
            letter = await self._io(catalog.WRITE_TIMELY_FILING_LETTER, self._filing_letter_request(deadline))
            if letter:
                self._documents.append(letter)
            if one_warning:
                self._supersede_open(TaskKind.TIMELY_FILING_RISK)
            self._open_task(
                TaskKind.TIMELY_FILING_RISK,
                f"not accepted by the payer; timely filing ends {deadline:%Y-%m-%d} ({days_before} days)",
                [f"reconsideration letter with proof of timely filing: {letter}"]
                if letter
                else ["never sent: resolve what holds the claim and submit it before the deadline"],
                due_at=due,
                priority=priority,
            )

    async def bill_patient(self) -> None:
        """Statements on the cycle: first, reminder, final notice; a patient payment settles it."""
        if self._patient_due <= ZERO:
            return
        self._set_state(ClaimState.PATIENT_BILLING, "statement", f"patient owes {self._patient_due}")
        cycle = timedelta(days=self._payer.statement_cycle_days)
        for notice in ("first", "reminder", "final"):
            today = workflow.now().date()
            path = await self._io(
                catalog.WRITE_STATEMENT,
                StatementRequest(
                    claim=self._claim(),
                    notice=notice,
                    billed=self._encounter.total_charge,
                    insurance_paid=self._paid,
                    adjusted=self._adjusted,
                    amount_due=self._patient_due,
                    patient_paid=self._patient_paid,
                    statement_date=today,
                    due_date=today + cycle,
                ),
            )
            if path:
                self._documents.append(path)
            self._note("statement", f"{notice} statement for {self._patient_due}")
            if await self._settled_within(cycle):
                self._note("statement", "settled by the patient")
                return
        resolution = await self._task(
            TaskKind.PATIENT_BALANCE,
            f"patient balance {self._patient_due} unpaid after the final notice",
            ["send to collections or write off"],
        )
        raise ClaimWrittenOff(resolution.reason or "patient balance written off")

    # ------------------------------------------------------------------ messages from outside
    @workflow.signal
    def payer_event(self, event: PayerEvent) -> None:
        """A 999, 277CA or 835 for this claim. Redelivered events are ignored."""
        if event.event_id in self._seen_events:
            return
        self._seen_events.add(event.event_id)
        self._events.append(event)

    @workflow.update
    def resolve_task(self, resolution: TaskResolution) -> Task:
        task = check_resolution(self._tasks, resolution)
        resolved = self._resolve_task(task, resolution)
        if task.kind is TaskKind.TIMELY_FILING_RISK and resolution.action is Action.WRITE_OFF:
            self._write_off_reason = resolution.reason
        return resolved

    @resolve_task.validator
    def validate_resolution(self, resolution: TaskResolution) -> None:
        try:
            check_resolution(self._tasks, resolution)
        except InvalidResolution as invalid:
            raise ApplicationError(str(invalid), type="InvalidResolution", non_retryable=True) from None

    @workflow.update
    async def record_patient_payment(self, payment: PatientPaymentRequest) -> ClaimSnapshot:
        """The ledger takes the payment first, so the claim never counts money the books lack; a
        payment the ledger refuses fails the Update and changes nothing."""
        update = workflow.current_update_info()
        assert update is not None  # this is an Update handler
        reference = payment.reference or update.id
        self._patient_pending += payment.amount  # while it posts, a second payment cannot overpay
        self._payment_references.add(reference)
        try:
            if workflow.patched(LEDGER_PATIENT_PAYMENTS):
                posting = PatientPaymentPosting(
                    claim=self._claim(), amount=payment.amount, actor=payment.actor, reference=reference
                )
                await run_step(catalog.RECORD_PATIENT_PAYMENT, posting)
        except StepFailed as failure:
            self._payment_references.discard(reference)
            raise ApplicationError(
                f"payment {payment.amount} was not recorded, the ledger refused it ({failure}); "
                "nothing changed, record it again",
                type="PaymentNotRecorded",
            ) from None
        finally:
            self._patient_pending -= payment.amount
        self._patient_paid += payment.amount
        self._note("payment", f"patient paid {payment.amount} (recorded by {payment.actor})")
        return self.state()

    @record_patient_payment.validator
    def validate_patient_payment(self, payment: PatientPaymentRequest) -> None:
        if self._state is not ClaimState.PATIENT_BILLING:
            raise ApplicationError(
                f"claim is {self._state.value}, not waiting for a patient payment", type="InvalidPayment"
            )
        if payment.reference in self._payment_references:
            raise ApplicationError(
                f"a payment with reference {payment.reference!r} is recorded already", type="InvalidPayment"
            )
        payable = self._patient_due - self._patient_pending  # payments still posting count as paid
        if payment.amount <= ZERO or payment.amount > payable:
            raise ApplicationError(
                f"payment {payment.amount} must be more than 0 and at most the balance {payable}",
                type="InvalidPayment",
            )

    @workflow.query
    def state(self) -> ClaimSnapshot:
        return ClaimSnapshot(
            claim_id=self._claim_id,
            state=self._state,
            payer_id=self._encounter.coverage.payer_id,
            patient_control_number=self._encounter.encounter_id,
            payer_claim_number=self._payer_claim_number,
            billed=self._encounter.total_charge,
            paid=self._paid,
            patient_responsibility=self._patient_responsibility,
            patient_paid=self._patient_paid,
            adjusted=self._adjusted,
            submissions=self._submissions,
            timely_filing_deadline=(
                timely_filing_deadline(self._encounter.service_date, self._profile.timely_filing_days)
                if self._profile
                else None
            ),
            accepted_on=self._accepted_on.date() if self._accepted_on else None,
            timeline=list(self._timeline),
            tasks=list(self._tasks),
            documents=list(self._documents),
            encounter=self._encounter,
        )

    # ------------------------------------------------------------------ helpers
    @property
    def _payer(self) -> PayerProfile:
        assert self._profile is not None, "the payer profile is loaded first"
        return self._profile

    @property
    def _patient_due(self) -> Decimal:
        return self._patient_responsibility - self._patient_paid

    def _claim(self) -> Claim:
        return Claim(
            encounter=self._encounter,
            patient_control_number=self._encounter.encounter_id,
            frequency=self._frequency,
            original_claim_number=self._payer_claim_number
            if self._frequency is not FrequencyCode.ORIGINAL
            else None,
        )

    def _trace(self, what: str) -> str:
        return f"{self._encounter.encounter_id}-{what}"[:50]

    async def _scrub_issues(self, categories: list[str] | None) -> list[Issue]:
        outcome = await self._io(
            catalog.SCRUB_CLAIM,
            ScrubRequest(claim=self._claim(), as_of=workflow.now().date(), categories=categories),
        )
        if outcome is None:
            # Never let a claim through unchecked: a scrubber failure is a scrub error for a person.
            return [Issue(rule="SCRUB", category="scrub", severity="error", message=self._last_failure)]
        if outcome.fixes:
            self._encounter = outcome.encounter
            self._note("scrub", "fixed: " + "; ".join(outcome.fixes))
        return list(outcome.errors)

    def _apply_correction(self, resolution: TaskResolution) -> None:
        if resolution.encounter is not None:
            if resolution.encounter.encounter_id != self._encounter.encounter_id:
                # The claim keeps its identity; a correction changes its content only.
                self._encounter = resolution.encounter.model_copy(
                    update={"encounter_id": self._encounter.encounter_id}
                )
            else:
                self._encounter = resolution.encounter
        self._note("correction", f"corrected by {resolution.actor}")

    async def _next_event(
        self, kind: EventKind, timeout: timedelta, also: EventKind | None = None
    ) -> PayerEvent | None:
        """The next event of `kind` within `timeout`. When `also` arrives first, stop waiting."""

        def arrived() -> bool:
            return any(e.kind in (kind, also) for e in self._events)

        try:
            await workflow.wait_condition(arrived, timeout=timeout)
        except TimeoutError:
            return None
        for event in self._events:
            if event.kind is kind:
                self._events.remove(event)
                return event
        return None

    async def _settled_within(self, cycle: timedelta) -> bool:
        try:
            await workflow.wait_condition(lambda: self._patient_due <= ZERO, timeout=cycle)
        except TimeoutError:
            return False
        return True

    async def _task(
        self,
        kind: TaskKind,
        reason: str,
        details: list[str],
        *,
        due_days: int = 2,
        escalate_to: str | None = None,
    ) -> TaskResolution:
        """Open a task and wait for a person's resolution. Past its due date it is escalated."""
        task = self._open_task(kind, reason, details, due_at=workflow.now() + timedelta(days=due_days))

        def resolved() -> bool:
            return not self._current(task.id).is_open

        try:
            await workflow.wait_condition(resolved, timeout=task.due_at - workflow.now())
        except TimeoutError:
            assignee = escalate_to or "billing-manager"
            self._change_task(
                task.id,
                f"{kind.value} {task.id} overdue: escalated to {assignee}",
                priority=Priority.HIGH,
                assignee=assignee,
            )
            await workflow.wait_condition(resolved)
        resolution = self._current(task.id).resolution
        assert resolution is not None
        return resolution

    def _supersede_open(self, kind: TaskKind) -> None:
        """Close the open tasks of this kind on the system's behalf: a newer one replaces them."""
        for task in [t for t in self._tasks if t.kind is kind and t.is_open]:
            self._close_unresolved(task.id, f"{kind.value} {task.id} superseded by a newer one")

    def _open_task(
        self,
        kind: TaskKind,
        reason: str,
        details: list[str],
        *,
        due_at: datetime,
        priority: Priority = Priority.NORMAL,
    ) -> Task:
        return self._add_task(
            Task(
                id=f"{self._claim_id}:{len(self._tasks) + 1}",
                kind=kind,
                reason=reason,
                details=details,
                created_at=workflow.now(),
                due_at=due_at,
                priority=priority,
                assignee="coding" if kind is TaskKind.CODING else "billing",
            )
        )

    def _filing_proof(self) -> TimelyFilingProof:
        return TimelyFilingProof(
            submitted_at=self._submitted_at,
            ack_999_at=self._ack_999_at,
            accepted_277ca_at=self._accepted_on,
            status_277ca=self._status_277ca,
            interchange_control_number=self._interchange_control_number,
            payer_claim_number=self._payer_claim_number,
        )

    def _filing_letter_request(self, deadline: date) -> TimelyFilingLetterRequest:
        return TimelyFilingLetterRequest(
            claim=self._claim(),
            payer=self._payer,
            proof=self._filing_proof(),
            deadline=deadline,
            letter_date=workflow.now().date(),
        )

    def _note(self, step: str, outcome: str) -> None:
        self._timeline.append(TimelineEntry(at=workflow.now(), step=step, outcome=outcome))
        workflow.upsert_search_attributes([sa.LAST_PROGRESS_AT.value_set(workflow.now())])

    def _set_state(self, state: ClaimState, step: str, outcome: str) -> None:
        self._state = state
        self._note(step, outcome)
        workflow.upsert_search_attributes([sa.CLAIM_STATE.value_set(state.value)])
