"""ClaimContext: what every step of a claim works with. The claim's one state record, its task
board, its step runner, and the few things steps do alike (note progress, ask a person, take the
next payer event, build the claim as it stands)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.catalog import ActivityRef
    from claimflow.activities.requests import Issue, ScrubRequest
    from claimflow.claims.appeals import TimelyFilingProof
    from claimflow.claims.claim import Claim, FrequencyCode
    from claimflow.claims.coordination import Decision, claim_for_payer, forwarded_claim
    from claimflow.claims.events import Ack999, AppealNotice, ClaimAck277CA, Remittance835
    from claimflow.claims.lifecycle import ClaimRecord, ClaimState, TimelineEntry
    from claimflow.claims.other_payers import OtherPayer
    from claimflow.claims.payers import PayerProfile
    from claimflow.claims.tasks import Correct, TaskKind, TaskResolution
    from claimflow.workflows import metrics
    from claimflow.workflows import search_attributes as sa
    from claimflow.workflows.common import IO_RETRY, Arg, Result, StepRunner
    from claimflow.workflows.taskboard import TaskBoard

Event = TypeVar("Event", Ack999, ClaimAck277CA, Remittance835, AppealNotice)

TASK_DUE_DAYS = 2
CONTINUE_AS_NEW_IN_LONG_WAITS = "continue-as-new-in-long-waits"
"""Patch id: claims started before it kept every statement cycle and late remittance in one run."""
SETTLED = frozenset({ClaimState.CLOSED, ClaimState.WRITTEN_OFF})


class ClaimWrittenOff(Exception):
    """A person decided this claim is not worth pursuing further; the workflow closes it."""


class ContinueAsNew(Exception):
    """A long wait reached a point where the claim goes on in a fresh run (its record carried)."""


class ClaimContext:
    def __init__(self, record: ClaimRecord, history_limit: int) -> None:
        self.record = record
        self.board = TaskBoard(record.claim_id, record.tasks, note=self.note)
        self.steps = StepRunner(self.note)
        self._history_limit = history_limit

    # ------------------------------------------------------------------ progress
    def note(self, step: str, outcome: str) -> None:
        self.record.timeline.append(TimelineEntry(at=workflow.now(), step=step, outcome=outcome))
        workflow.upsert_search_attributes([sa.LAST_PROGRESS_AT.value_set(workflow.now())])

    def set_state(self, state: ClaimState, step: str, outcome: str) -> None:
        self.record.state = state
        metrics.claim_state_entered(state.value)
        self.note(step, outcome)
        workflow.upsert_search_attributes([sa.CLAIM_STATE.value_set(state.value)])

    def continue_as_new_due(self) -> bool:
        """A long wait's history is long enough to go on in a fresh run. A claim whose history
        reached that point before the lifecycle continued as new goes on as it did then."""
        info = workflow.info()
        due = info.is_continue_as_new_suggested() or info.get_current_history_length() > self._history_limit
        return due and workflow.patched(CONTINUE_AS_NEW_IN_LONG_WAITS)

    # ------------------------------------------------------------------ the claim as it stands
    @property
    def payer(self) -> PayerProfile:
        profile = self.record.profile
        if profile is None:
            raise RuntimeError("the payer profile is loaded before any step that needs it")
        return profile

    def claim(self) -> Claim:
        """The claim as the billed payer receives it. With other coverages, it names them (2320/2330)
        and restates every earlier payer's decision (coordination.claim_for_payer); a payer whose
        decision the claim lacks goes without one (the payer will say so: CO-22)."""
        record = self.record
        claim = Claim(
            encounter=record.encounter,
            patient_control_number=record.encounter.encounter_id,
            frequency=record.frequency,
            original_claim_number=record.payer_claim_number
            if record.frequency is not FrequencyCode.ORIGINAL
            else None,
        )
        if not record.encounter.other_coverages:
            return claim
        decisions = {d.position: Decision(d.payment, d.decided_on) for d in record.decisions}
        position = record.payer_position
        billed = claim_for_payer(claim, 0)
        for earlier in range(position):
            decision = decisions.get(earlier)
            if decision is None:  # billed without it: the claim names the payer, not its decision
                billed = _skip_to_next(billed)
            else:  # a payer before `position` always has a next one, so the chain goes on
                billed = forwarded_claim(billed, decision) or billed
        return billed.model_copy(
            update={"frequency": claim.frequency, "original_claim_number": claim.original_claim_number}
        )

    def trace(self, what: str) -> str:
        return f"{self.record.encounter.encounter_id}-{what}"[:50]

    def filing_proof(self) -> TimelyFilingProof:
        record = self.record
        return TimelyFilingProof(
            submitted_at=record.submitted_at,
            ack_999_at=record.ack_999_at,
            accepted_277ca_at=record.accepted_on,
            status_277ca=record.status_277ca,
            interchange_control_number=record.interchange_control_number,
            payer_claim_number=record.payer_claim_number,
        )

    # ------------------------------------------------------------------ doing
    async def attempt(self, activity: ActivityRef[Arg, Result], argument: Arg) -> Result | None:
        """Run a step's activity; a lasting failure is None (see `last_failure`)."""
        return await self.steps.attempt(activity, argument)

    @property
    def last_failure(self) -> str:
        return self.steps.last_failure

    async def ask(
        self,
        kind: TaskKind,
        reason: str,
        details: list[str],
        *,
        due_days: int = TASK_DUE_DAYS,
        escalate_to: str = "billing-manager",
    ) -> TaskResolution:
        """Open a task and wait for a person's resolution; past its due date it is escalated."""
        return await self.board.ask(
            kind,
            reason,
            details,
            due_at=workflow.now() + timedelta(days=due_days),
            assignee="coding" if kind is TaskKind.CODING else "billing",
            escalate_to=escalate_to,
        )

    async def load_payer_profile(self) -> None:
        self.record.profile = await workflow.execute_activity(
            catalog.PAYER_PROFILE.name,
            self.record.billed_coverage,
            result_type=catalog.PAYER_PROFILE.result_type,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=IO_RETRY,
        )
        self.publish_claim()

    def publish_claim(self) -> None:
        """PayerId, BilledAmount and TimelyFilingDeadline: how managers find claims at risk."""
        encounter = self.record.encounter
        updates: list[SearchAttributeUpdate[Any]] = [
            sa.PAYER_ID.value_set(self.record.billed_coverage.payer_id),
            sa.BILLED_AMOUNT.value_set(float(encounter.total_charge)),
        ]
        deadline = self.record.timely_filing_deadline
        if deadline is not None:
            day = datetime(deadline.year, deadline.month, deadline.day, tzinfo=workflow.now().tzinfo)
            updates.append(sa.TIMELY_FILING_DEADLINE.value_set(day))
        else:  # self-pay: no payer to file with, so no deadline at risk
            updates.append(sa.TIMELY_FILING_DEADLINE.value_unset())
        workflow.upsert_search_attributes(updates)

    async def scrub_issues(self, categories: list[str] | None) -> list[Issue]:
        outcome = await self.attempt(
            catalog.SCRUB_CLAIM,
            ScrubRequest(claim=self.claim(), as_of=workflow.now().date(), categories=categories),
        )
        if outcome is None:
            # Never let a claim through unchecked: a scrubber failure is a scrub error for a person.
            return [Issue(rule="SCRUB", category="scrub", severity="error", message=self.last_failure)]
        if outcome.fixes:
            self.record.encounter = outcome.encounter
            self.note("scrub", "fixed: " + "; ".join(outcome.fixes))
        return list(outcome.errors)

    def apply_correction(self, resolution: Correct) -> None:
        """A person's corrected encounter. The claim keeps its identity; a correction changes its
        content only."""
        current = self.record.encounter
        corrected = resolution.encounter
        if corrected.encounter_id != current.encounter_id:
            corrected = corrected.model_copy(update={"encounter_id": current.encounter_id})
        self.record.encounter = corrected
        self.note("correction", f"corrected by {resolution.actor}")

    async def next_event(
        self, kind: type[Event], timeout: timedelta, also: type[Remittance835] | None = None
    ) -> Event | None:
        """The next event of `kind` within `timeout`. When an `also` arrives first, stop waiting."""
        pending = self.record.pending_events
        awaited = (kind,) if also is None else (kind, also)

        try:
            await workflow.wait_condition(
                lambda: any(isinstance(e, awaited) for e in pending), timeout=timeout
            )
        except TimeoutError:
            return None
        for event in pending:
            if isinstance(event, kind):
                pending.remove(event)
                return event
        return None


def _skip_to_next(claim: Claim) -> Claim:
    """The claim to the payer after the billed one when the billed one's decision is missing: the
    next payer in 2010BB, the skipped one among the other payers without an adjudication."""
    following = claim.responsibility.position + 1
    upcoming = next(p for p in claim.other_payers if p.responsibility.position == following)
    skipped = OtherPayer(coverage=claim.encounter.coverage, responsibility=claim.responsibility)
    others = sorted(
        [skipped, *(p for p in claim.other_payers if p is not upcoming)],
        key=lambda p: p.responsibility.position,
    )
    encounter = claim.encounter.model_copy(update={"coverage": upcoming.coverage})
    return claim.model_copy(
        update={"encounter": encounter, "responsibility": upcoming.responsibility, "other_payers": others}
    )
