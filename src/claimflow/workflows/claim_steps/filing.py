"""The timely-filing watch: 30, 14 and 7 days before the deadline, a claim the payer has not
accepted gets a timely_filing_risk task of rising priority, with a reconsideration letter carrying
the proof of timely filing when the claim was sent. It runs beside the lifecycle."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.requests import TimelyFilingLetterRequest
    from claimflow.claims.deadlines import ESCALATION_DAYS
    from claimflow.claims.tasks import Priority, TaskKind
    from claimflow.workflows.claim_steps.context import SETTLED, ClaimContext

ONE_FILING_WARNING = "one-filing-warning"
"""Patch id: claims started before it kept every timely-filing warning open, and raised all the
warnings already due at once."""
NO_WARNING_ONCE_FILED = "no-filing-warning-for-self-pay-or-paid"
"""Patch id: claims started before it warned a self-pay claim (no payer to file with) and a claim the
payer paid without a 277CA; since, the watch ends as soon as nothing is at risk."""


async def watch_timely_filing(c: ClaimContext) -> None:
    """Each warning replaces the open one, and a claim that arrives late gets only the most urgent
    warning due: one task per risk."""
    one_warning = workflow.patched(ONE_FILING_WARNING)
    if workflow.patched(NO_WARNING_ONCE_FILED) and not _at_risk(c):
        return
    deadline = c.record.timely_filing_deadline
    if deadline is None:
        return
    due = datetime(deadline.year, deadline.month, deadline.day, tzinfo=workflow.now().tzinfo)
    priorities = (Priority.NORMAL, Priority.HIGH, Priority.URGENT)
    for number, (days_before, priority) in enumerate(zip(ESCALATION_DAYS, priorities, strict=True)):
        later = ESCALATION_DAYS[number + 1 :]
        if one_warning and later and due - timedelta(days=later[0]) <= workflow.now():
            continue
        wake = due - timedelta(days=days_before)
        if wake > workflow.now():
            await workflow.sleep(wake - workflow.now())
        if c.record.accepted_on is not None or c.record.state in SETTLED:
            return
        if workflow.patched(NO_WARNING_ONCE_FILED) and not _at_risk(c):
            return
        letter = await c.attempt(
            catalog.WRITE_TIMELY_FILING_LETTER,
            TimelyFilingLetterRequest(
                claim=c.claim(),
                payer=c.payer,
                proof=c.filing_proof(),
                deadline=deadline,
                letter_date=workflow.now().date(),
            ),
        )
        if letter:
            c.record.documents.append(letter)
        if one_warning:
            c.board.supersede(TaskKind.TIMELY_FILING_RISK)
        c.board.open(
            TaskKind.TIMELY_FILING_RISK,
            f"not accepted by the payer; timely filing ends {deadline:%Y-%m-%d} ({days_before} days)",
            [f"reconsideration letter with proof of timely filing: {letter}"]
            if letter
            else ["never sent: resolve what holds the claim and submit it before the deadline"],
            due_at=due,
            priority=priority,
            assignee="billing",
        )


def _at_risk(c: ClaimContext) -> bool:
    """Not accepted, not paid, not self-pay and not settled: the deadline still matters."""
    record = c.record
    return (
        record.accepted_on is None
        and record.last_payment is None
        and not record.self_pay
        and record.state not in SETTLED
    )
