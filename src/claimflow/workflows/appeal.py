"""AppealWorkflow: one denial appealed through the payer's levels, a child of the claim's workflow.

`run` reads as the appeal: draft the letter, a biller approves or edits it (appeal_review task), send
it, wait for the payer's decision on its timer; upheld goes to the next level within its window, and
when the levels end (last level, amount below a threshold, window closed) a manager approves the
write-off (write_off_approval task). Workflow id: `appeal-<encounter id>-<n>` (claims/ids.py); task
ids are `<appeal workflow id>:<n>`, so a task id names the workflow that resolves it. Its tasks are
kept on a TaskBoard, like the claim's.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.appeal_requests import (
        AppealLetter,
        AppealLetterRequest,
        AppealSendRequest,
        AppealSent,
    )
    from claimflow.claims import ids
    from claimflow.claims.appeals import (
        AppealDecision,
        AppealInput,
        AppealLetterRef,
        AppealOutcome,
        AppealSnapshot,
        AppealState,
        AppealTimelineEntry,
        appeal_levels,
        check_appeal_resolution,
        decision_days,
        filing_deadline,
        level_of,
        next_step,
    )
    from claimflow.claims.denials import DenialAssessment, LetterCategory, classify
    from claimflow.claims.money import ZERO
    from claimflow.claims.payers import AppealLevel
    from claimflow.claims.tasks import (
        ApproveWriteOff,
        Edit,
        Priority,
        Resubmit,
        Task,
        TaskKind,
        TaskResolution,
        Withdraw,
        WriteOff,
    )
    from claimflow.workflows import search_attributes as sa
    from claimflow.workflows.common import StepRunner
    from claimflow.workflows.taskboard import TaskBoard

REVIEW_DAYS = 2
WRITE_OFF_REVIEW_DAYS = 5
DECISION_GRACE = timedelta(days=14)
"""How long past the payer's own decision time we wait before asking a person what to do."""
URGENT_WITHIN = timedelta(days=7)


class _Withdrawn(Exception):
    """A biller withdrew the appeal."""


@workflow.defn(name=ids.WorkflowType.APPEAL)
class AppealWorkflow:
    @workflow.init
    def __init__(self, input: AppealInput) -> None:
        self._input = input
        self._appeal_id = workflow.info().workflow_id
        self._claim_id = ids.claim_workflow_id(input.claim.encounter.encounter_id)
        self._assessment: DenialAssessment = classify(input.payment)
        self._category: LetterCategory | None = self._assessment.letter
        self._state = AppealState.PREPARING
        self._level: AppealLevel = appeal_levels(input.payer)[0]
        self._deadline: date | None = None
        self._argument: list[str] = []
        self._letters: list[AppealLetterRef] = []
        self._sent: list[str] = []
        self._decisions: list[AppealDecision] = []
        self._unread: list[AppealDecision] = []
        self._decided: set[str] = set()
        self._timeline: list[AppealTimelineEntry] = []
        self._board = TaskBoard(
            self._appeal_id,
            [],
            note=self._note,
            checker=partial(check_appeal_resolution, managers=input.managers),
        )
        self._steps = StepRunner(self._note)
        self._levels_tried: list[int] = []
        self._recovered = ZERO

    # ------------------------------------------------------------------ the appeal
    @workflow.run
    async def run(self, input: AppealInput) -> AppealOutcome:
        workflow.upsert_search_attributes([sa.PAYER_ID.value_set(input.payer.payer_id)])
        try:
            self._level = level_of(input.payer, input.start_level)
        except ValueError as wrong:
            raise ApplicationError(str(wrong), type="InvalidAppealInput", non_retryable=True) from None
        if self._category is None:
            outcome = self._end(
                AppealState.CLOSED, f"nothing to appeal: {self._assessment.summary}", overturned=False
            )
        else:
            outcome = await self.appeal_through_levels(input.remittance_date)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return outcome

    async def appeal_through_levels(self, remittance_date: date) -> AppealOutcome:
        decided_on = remittance_date
        while True:
            self._deadline = filing_deadline(self._level, decided_on)
            self._note("level", f"level {self._level.level} ({self._level.name}) due by {self._deadline}")
            if workflow.now().date() > self._deadline:
                return await self.write_off(f"the window for a {self._level.name} closed on {self._deadline}")
            try:
                await self.prepare_and_send()
            except _Withdrawn as withdrawn:
                return self._end(
                    AppealState.WITHDRAWN, f"withdrawn: {withdrawn}", overturned=False, withdrawn=True
                )
            decision = await self.await_decision()
            if decision is None:
                return await self.write_off("the payer never decided the appeal")
            if decision.overturned:
                self._recovered += decision.paid_amount
                return self._end(
                    AppealState.OVERTURNED,
                    f"overturned at level {self._level.level}; paid {decision.paid_amount}",
                    overturned=True,
                )
            step = next_step(
                self._input.payer,
                self._level.level,
                decision.decision_date,
                self._in_controversy,
                workflow.now().date(),
            )
            if step.level is None:
                return await self.write_off(step.stop_reason or "no further appeal level")
            self._note("upheld", f"level {self._level.level} upheld; next: {step.level.name}")
            self._level = step.level
            decided_on = decision.decision_date

    async def prepare_and_send(self) -> None:
        """Draft the letter, have a biller approve or edit it, send it. Raises _Withdrawn."""
        self._set_state(AppealState.IN_REVIEW, "letter", f"drafting the {self._category} letter")
        revision = 1
        letter = await self._render(None, revision)
        problem = None if letter else f"the letter could not be drafted: {self._steps.last_failure}"
        while True:
            resolution = await self._review(letter, problem)
            if isinstance(resolution, Withdraw):
                raise _Withdrawn(resolution.reason)
            if isinstance(resolution, Edit):
                revision += 1
                paragraphs = [p.strip() for p in resolution.argument.split("\n\n") if p.strip()]
                letter = await self._render(paragraphs, revision)
                if letter is None:
                    problem = f"the edited letter could not be rendered: {self._steps.last_failure}"
                    continue
            if letter is None:
                problem = f"there is no letter to send yet: {self._steps.last_failure}"
                continue
            receipt = await self._send(letter)
            if receipt is not None:
                return
            problem = f"the letter could not be sent: {self._steps.last_failure}; approve to try again"

    async def await_decision(self) -> AppealDecision | None:
        """The payer's decision, on the payer's clock; past it a person decides how long to wait."""
        self._set_state(AppealState.AWAITING_DECISION, "sent", f"waiting for the {self._level.name} decision")
        wait = timedelta(days=decision_days(self._input.payer, self._level)) + DECISION_GRACE
        while True:
            if await self._decision_within(wait):
                decision = self._unread.pop(0)
                self._decisions.append(decision)
                verdict = "overturned" if decision.overturned else "upheld"
                self._note("decision", f"level {self._level.level} {verdict} on {decision.decision_date}")
                return decision
            due_at, priority = self._due(TaskKind.NO_RESPONSE, REVIEW_DAYS)
            task = self._board.open(
                TaskKind.NO_RESPONSE,
                f"no decision on the {self._level.name} after {wait.days} days",
                [f"appeals sent: {', '.join(self._sent)}", "inquire again, resend, or write off"],
                due_at=due_at,
                priority=priority,
                assignee="billing",
            )
            resolution = await self._board.wait(
                task, escalated_priority=Priority.URGENT, ends_when=lambda: bool(self._unread)
            )
            if resolution is None:
                continue  # the decision arrived while the task was open
            if isinstance(resolution, WriteOff):
                return None
            if isinstance(resolution, Resubmit) and self._letters:
                await self._send(self._letters[-1])
            wait = timedelta(days=decision_days(self._input.payer, self._level))

    async def write_off(self, why: str) -> AppealOutcome:
        """The appeals ended unpaid: a manager approves the write-off or rejects it."""
        amount = self._in_controversy
        self._set_state(AppealState.WRITE_OFF_PENDING, "write-off", f"{why}; {amount} to write off")
        resolution = await self._ask(
            TaskKind.WRITE_OFF_APPROVAL,
            f"appeals ended ({why}): approve writing off {amount}",
            [
                why,
                f"levels tried: {', '.join(map(str, self._levels_tried)) or 'none'}",
                self._assessment.summary,
            ],
            assignee="billing-manager",
            due_days=WRITE_OFF_REVIEW_DAYS,
        )
        if isinstance(resolution, ApproveWriteOff):
            return self._end(
                AppealState.WRITTEN_OFF,
                f"write-off of {amount} approved by {resolution.actor}",
                overturned=False,
                written_off=amount,
            )
        return self._end(
            AppealState.CLOSED,
            f"write-off rejected by {resolution.actor}: {resolution.reason}",
            overturned=False,
        )

    # ------------------------------------------------------------------ messages from outside
    @workflow.signal(name=ids.Signal.APPEAL_DECISION)
    def decision(self, decision: AppealDecision) -> None:
        """The payer's decision, forwarded by the claim. A redelivered decision (same appeal id) is
        ignored; one without an appeal id counts only while an appeal waits for its decision."""
        if decision.appeal_id is not None:
            if decision.appeal_id in self._decided:
                return
            self._decided.add(decision.appeal_id)
        elif self._state is not AppealState.AWAITING_DECISION or self._unread:
            return
        self._unread.append(decision)

    @workflow.update(name=ids.Update.RESOLVE_TASK)
    def resolve_task(self, resolution: TaskResolution) -> Task:
        return self._board.resolve(resolution)

    @resolve_task.validator
    def validate_resolution(self, resolution: TaskResolution) -> None:
        self._board.validate(resolution)

    @workflow.query(name=ids.Query.STATE)
    def state(self) -> AppealSnapshot:
        return AppealSnapshot(
            appeal_id=self._appeal_id,
            claim_id=self._claim_id,
            payer_id=self._input.payer.payer_id,
            state=self._state,
            level=self._level.level,
            level_name=self._level.name,
            filing_deadline=self._deadline,
            letter_category=self._category,
            amount_at_stake=self._in_controversy,
            argument="\n\n".join(self._argument),
            appeals_sent=list(self._sent),
            letters=list(self._letters),
            decisions=list(self._decisions),
            tasks=list(self._board.tasks),
            timeline=list(self._timeline),
        )

    # ------------------------------------------------------------------ steps
    async def _render(self, argument: list[str] | None, revision: int) -> AppealLetter | None:
        assert self._category is not None
        letter = await self._steps.attempt(
            catalog.RENDER_APPEAL_LETTER,
            AppealLetterRequest(
                appeal_id=self._appeal_id,
                claim=self._input.claim,
                payer=self._input.payer,
                payment=self._input.payment,
                category=self._category,
                level=self._level,
                revision=revision,
                letter_date=workflow.now().date(),
                remittance_date=self._input.remittance_date,
                proof=self._input.proof,
                argument=argument,
                enclosures=self._input.enclosures,
            ),
        )
        if letter is not None:
            self._letters.append(letter.ref)
            self._argument = letter.argument
            self._note("letter", f"level {letter.ref.level} revision {letter.ref.revision} rendered")
        return letter

    async def _review(self, letter: AppealLetter | None, problem: str | None) -> TaskResolution:
        details = [problem] if problem else []
        if letter is not None:
            details += [f"letter: {letter.ref.pdf_path}", f"in dispute: {letter.amount_in_dispute}"]
        details.append(f"file by {self._deadline}")
        return await self._ask(
            TaskKind.APPEAL_REVIEW,
            f"review the {self._category} appeal ({self._level.name}) before {self._deadline}",
            details,
            assignee="billing",
        )

    async def _send(self, letter: AppealLetter | AppealLetterRef) -> AppealSent | None:
        ref = letter.ref if isinstance(letter, AppealLetter) else letter
        receipt = await self._steps.attempt(
            catalog.SEND_APPEAL,
            AppealSendRequest(
                appeal_id=self._appeal_id,
                letter=ref,
                attempt=len(self._sent) + 1,
                payer_claim_number=self._input.payment.payer_claim_number,
                patient_control_number=self._input.claim.patient_control_number,
            ),
        )
        if receipt is not None:
            self._sent.append(receipt.clearinghouse_appeal_id)
            if self._level.level not in self._levels_tried:
                self._levels_tried.append(self._level.level)
            self._note("sent", f"level {ref.level} appeal {receipt.clearinghouse_appeal_id} sent")
        return receipt

    async def _decision_within(self, wait: timedelta) -> bool:
        try:
            await workflow.wait_condition(lambda: bool(self._unread), timeout=wait)
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------------ helpers
    @property
    def _in_controversy(self) -> Decimal:
        """What is still unpaid of the amount the denial put at stake."""
        return max(self._assessment.amount_at_stake - self._recovered, ZERO)

    def _end(
        self,
        state: AppealState,
        reason: str,
        *,
        overturned: bool,
        written_off: Decimal | None = None,
        withdrawn: bool = False,
    ) -> AppealOutcome:
        self._set_state(state, "closed", reason)
        return AppealOutcome(
            overturned=overturned,
            amount_recovered=self._recovered,
            levels_tried=list(self._levels_tried),
            written_off=written_off is not None,
            written_off_amount=written_off if written_off is not None else ZERO,
            withdrawn=withdrawn,
            letters=list(self._letters),
            reason=reason,
        )

    async def _ask(
        self, kind: TaskKind, reason: str, details: list[str], *, assignee: str, due_days: int = REVIEW_DAYS
    ) -> TaskResolution:
        """Open a task and wait for its resolution; past due it goes to a manager, urgent."""
        due_at, priority = self._due(kind, due_days)
        return await self._board.ask(
            kind,
            reason,
            details,
            due_at=due_at,
            priority=priority,
            assignee=assignee,
            escalated_priority=Priority.URGENT,
        )

    def _due(self, kind: TaskKind, due_days: int) -> tuple[datetime, Priority]:
        """A review due after the filing deadline is due on it, and urgent when that is near."""
        now = workflow.now()
        due = now + timedelta(days=due_days)
        if self._deadline is None or kind is not TaskKind.APPEAL_REVIEW:
            return due, Priority.NORMAL
        last_day = datetime(self._deadline.year, self._deadline.month, self._deadline.day, tzinfo=now.tzinfo)
        priority = Priority.URGENT if last_day - now < URGENT_WITHIN else Priority.NORMAL
        return max(min(due, last_day), now), priority

    def _note(self, step: str, outcome: str) -> None:
        self._timeline.append(AppealTimelineEntry(at=workflow.now(), step=step, outcome=outcome))
        workflow.upsert_search_attributes([sa.LAST_PROGRESS_AT.value_set(workflow.now())])

    def _set_state(self, state: AppealState, step: str, outcome: str) -> None:
        self._state = state
        self._note(step, outcome)
