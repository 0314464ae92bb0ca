"""AppealWorkflow: one denial appealed through the payer's levels, a child of the claim's workflow.

`run` reads as the appeal: draft the letter, a biller approves or edits it (appeal_review task), send
it, wait for the payer's decision on its timer; upheld goes to the next level within its window, and
when the levels end (last level, amount below a threshold, window closed) a manager approves the
write-off (write_off_approval task). Workflow id: `appeal-<encounter id>-<n>` (claims/ids.py); task
ids are `<appeal workflow id>:<n>`, so a task id names the workflow that resolves it. Its tasks are
kept on a TaskBoard, like the claim's. Its state is one AppealRecord; while it waits months for
a payer's decision it continues as new, the record carried, when its history grows long.
"""

from __future__ import annotations

from datetime import datetime, timedelta
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
        AppealRecord,
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
CONTINUE_AS_NEW_WHILE_AWAITING = "appeal-continue-as-new-awaiting-decision"
"""Patch id: appeals started before it waited for every decision in one run."""


class _Withdrawn(Exception):
    """A biller withdrew the appeal."""


class _ContinueAsNew(Exception):
    """The wait for a decision goes on in a fresh run, the record carried."""


@workflow.defn(name=ids.WorkflowType.APPEAL)
class AppealWorkflow:
    @workflow.init
    def __init__(self, input: AppealInput) -> None:
        self._input = input
        self._appeal_id = workflow.info().workflow_id
        self._claim_id = ids.claim_workflow_id(input.claim.encounter.encounter_id)
        self._assessment: DenialAssessment = classify(input.payment)
        self._category: LetterCategory | None = self._assessment.letter
        self._r = input.record or AppealRecord(
            level=appeal_levels(input.payer)[0], level_from=input.remittance_date
        )
        self._board = TaskBoard(
            self._appeal_id,
            self._r.tasks,
            note=self._note,
            checker=partial(check_appeal_resolution, managers=input.managers),
        )
        self._steps = StepRunner(self._note)

    # ------------------------------------------------------------------ the appeal
    @workflow.run
    async def run(self, input: AppealInput) -> AppealOutcome:
        workflow.upsert_search_attributes([sa.PAYER_ID.value_set(input.payer.payer_id)])
        if input.record is None:
            try:
                self._r.level = level_of(input.payer, input.start_level)
            except ValueError as wrong:
                raise ApplicationError(str(wrong), type="InvalidAppealInput", non_retryable=True) from None
        else:
            self._board.publish()
        category = self._category
        try:
            if category is None:
                outcome = self._end(
                    AppealState.CLOSED, f"nothing to appeal: {self._assessment.summary}", overturned=False
                )
            else:
                outcome = await self.appeal_through_levels(category)
        except _ContinueAsNew:
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(input.model_copy(update={"record": self._r}))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return outcome

    async def appeal_through_levels(self, category: LetterCategory) -> AppealOutcome:
        r = self._r
        while True:
            if r.decision_due_at is None:  # this level's appeal is not sent yet
                r.deadline = filing_deadline(r.level, r.level_from)
                self._note("level", f"level {r.level.level} ({r.level.name}) due by {r.deadline}")
                if workflow.now().date() > r.deadline:
                    return await self.write_off(f"the window for a {r.level.name} closed on {r.deadline}")
                try:
                    await self.prepare_and_send(category)
                except _Withdrawn as withdrawn:
                    return self._end(
                        AppealState.WITHDRAWN, f"withdrawn: {withdrawn}", overturned=False, withdrawn=True
                    )
            decision = await self.await_decision()
            if decision is None:
                return await self.write_off("the payer never decided the appeal")
            if decision.overturned:
                r.recovered += decision.paid_amount
                return self._end(
                    AppealState.OVERTURNED,
                    f"overturned at level {r.level.level}; paid {decision.paid_amount}",
                    overturned=True,
                )
            step = next_step(
                self._input.payer,
                r.level.level,
                decision.decision_date,
                self._in_controversy,
                workflow.now().date(),
            )
            if step.level is None:
                return await self.write_off(step.stop_reason or "no further appeal level")
            self._note("upheld", f"level {r.level.level} upheld; next: {step.level.name}")
            r.level = step.level
            r.level_from = decision.decision_date

    async def prepare_and_send(self, category: LetterCategory) -> None:
        """Draft the letter, have a biller approve or edit it, send it. Raises _Withdrawn."""
        self._set_state(AppealState.IN_REVIEW, "letter", f"drafting the {category} letter")
        revision = 1
        letter = await self._render(category, None, revision)
        problem = None if letter else f"the letter could not be drafted: {self._steps.last_failure}"
        while True:
            resolution = await self._review(letter, problem)
            if isinstance(resolution, Withdraw):
                raise _Withdrawn(resolution.reason)
            if isinstance(resolution, Edit):
                revision += 1
                paragraphs = [p.strip() for p in resolution.argument.split("\n\n") if p.strip()]
                letter = await self._render(category, paragraphs, revision)
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
        """The payer's decision, on the payer's clock; past it a person decides how long to wait.
        A long wait continues as new (raises _ContinueAsNew) with the record; it resumes here."""
        r = self._r
        if r.decision_due_at is None:
            self._set_state(AppealState.AWAITING_DECISION, "sent", f"waiting for the {r.level.name} decision")
            self._wait_for_decision(
                timedelta(days=decision_days(self._input.payer, r.level)) + DECISION_GRACE
            )
        while True:
            if self._continue_as_new_due():
                raise _ContinueAsNew
            if await self._decision_within(self._until_decision_due()):
                decision = r.unread.pop(0)
                r.decisions.append(decision)
                r.decision_due_at = None
                verdict = "overturned" if decision.overturned else "upheld"
                self._note("decision", f"level {r.level.level} {verdict} on {decision.decision_date}")
                return decision
            due_at, priority = self._due(TaskKind.NO_RESPONSE, REVIEW_DAYS)
            task = self._board.open(
                TaskKind.NO_RESPONSE,
                f"no decision on the {r.level.name} after {r.decision_wait_days} days",
                [f"appeals sent: {', '.join(r.sent)}", "inquire again, resend, or write off"],
                due_at=due_at,
                priority=priority,
                assignee="billing",
            )
            resolution = await self._board.wait(
                task, escalated_priority=Priority.URGENT, ends_when=lambda: bool(r.unread)
            )
            if resolution is None:
                continue  # the decision arrived while the task was open
            if isinstance(resolution, WriteOff):
                r.decision_due_at = None
                return None
            if isinstance(resolution, Resubmit) and r.letters:
                await self._send(r.letters[-1])
            self._wait_for_decision(timedelta(days=decision_days(self._input.payer, r.level)))

    async def write_off(self, why: str) -> AppealOutcome:
        """The appeals ended unpaid: a manager approves the write-off or rejects it."""
        amount = self._in_controversy
        self._set_state(AppealState.WRITE_OFF_PENDING, "write-off", f"{why}; {amount} to write off")
        resolution = await self._ask(
            TaskKind.WRITE_OFF_APPROVAL,
            f"appeals ended ({why}): approve writing off {amount}",
            [
                why,
                f"levels tried: {', '.join(map(str, self._r.levels_tried)) or 'none'}",
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
            if decision.appeal_id in self._r.decided:
                return
            self._r.decided.append(decision.appeal_id)
        elif self._r.state is not AppealState.AWAITING_DECISION or self._r.unread:
            return
        self._r.unread.append(decision)

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
            state=self._r.state,
            level=self._r.level.level,
            level_name=self._r.level.name,
            filing_deadline=self._r.deadline,
            letter_category=self._category,
            amount_at_stake=self._in_controversy,
            argument="\n\n".join(self._r.argument),
            appeals_sent=list(self._r.sent),
            letters=list(self._r.letters),
            decisions=list(self._r.decisions),
            tasks=list(self._r.tasks),
            timeline=list(self._r.timeline),
        )

    # ------------------------------------------------------------------ steps
    async def _render(
        self, category: LetterCategory, argument: list[str] | None, revision: int
    ) -> AppealLetter | None:
        letter = await self._steps.attempt(
            catalog.RENDER_APPEAL_LETTER,
            AppealLetterRequest(
                appeal_id=self._appeal_id,
                claim=self._input.claim,
                payer=self._input.payer,
                payment=self._input.payment,
                category=category,
                level=self._r.level,
                revision=revision,
                letter_date=workflow.now().date(),
                remittance_date=self._input.remittance_date,
                proof=self._input.proof,
                argument=argument,
                enclosures=self._input.enclosures,
            ),
        )
        if letter is not None:
            self._r.letters.append(letter.ref)
            self._r.argument = letter.argument
            self._note("letter", f"level {letter.ref.level} revision {letter.ref.revision} rendered")
        return letter

    async def _review(self, letter: AppealLetter | None, problem: str | None) -> TaskResolution:
        details = [problem] if problem else []
        if letter is not None:
            details += [f"letter: {letter.ref.pdf_path}", f"in dispute: {letter.amount_in_dispute}"]
        details.append(f"file by {self._r.deadline}")
        return await self._ask(
            TaskKind.APPEAL_REVIEW,
            f"review the {self._category} appeal ({self._r.level.name}) before {self._r.deadline}",
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
                attempt=len(self._r.sent) + 1,
                payer_claim_number=self._input.payment.payer_claim_number,
                patient_control_number=self._input.claim.patient_control_number,
            ),
        )
        if receipt is not None:
            self._r.sent.append(receipt.clearinghouse_appeal_id)
            if self._r.level.level not in self._r.levels_tried:
                self._r.levels_tried.append(self._r.level.level)
            self._note("sent", f"level {ref.level} appeal {receipt.clearinghouse_appeal_id} sent")
        return receipt

    def _wait_for_decision(self, wait: timedelta) -> None:
        self._r.decision_due_at = workflow.now() + wait
        self._r.decision_wait_days = wait.days

    def _until_decision_due(self) -> timedelta:
        due = self._r.decision_due_at
        return due - workflow.now() if due is not None else timedelta(0)

    def _continue_as_new_due(self) -> bool:
        """The history is long (or the server suggests it): the wait goes on in a fresh run. An
        appeal already waiting past the limit before the patch waits on as it did."""
        info = workflow.info()
        long = (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > self._input.history_limit
        )
        return long and workflow.patched(CONTINUE_AS_NEW_WHILE_AWAITING)

    async def _decision_within(self, wait: timedelta) -> bool:
        """A decision is heard (maybe already) within `wait`; a wait already over heard none."""
        if self._r.unread:
            return True
        if wait <= timedelta(0):
            return False
        try:
            await workflow.wait_condition(lambda: bool(self._r.unread), timeout=wait)
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------------ helpers
    @property
    def _in_controversy(self) -> Decimal:
        """What is still unpaid of the amount the denial put at stake."""
        return max(self._assessment.amount_at_stake - self._r.recovered, ZERO)

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
            amount_recovered=self._r.recovered,
            levels_tried=list(self._r.levels_tried),
            written_off=written_off is not None,
            written_off_amount=written_off if written_off is not None else ZERO,
            withdrawn=withdrawn,
            letters=list(self._r.letters),
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
        if self._r.deadline is None or kind is not TaskKind.APPEAL_REVIEW:
            return due, Priority.NORMAL
        last_day = datetime(
            self._r.deadline.year, self._r.deadline.month, self._r.deadline.day, tzinfo=now.tzinfo
        )
        priority = Priority.URGENT if last_day - now < URGENT_WITHIN else Priority.NORMAL
        return max(min(due, last_day), now), priority

    def _note(self, step: str, outcome: str) -> None:
        self._r.timeline.append(AppealTimelineEntry(at=workflow.now(), step=step, outcome=outcome))
        workflow.upsert_search_attributes([sa.LAST_PROGRESS_AT.value_set(workflow.now())])

    def _set_state(self, state: AppealState, step: str, outcome: str) -> None:
        self._r.state = state
        self._note(step, outcome)
