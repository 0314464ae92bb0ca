"""The timely-filing watch: 30, 14 and 7 days before the deadline, a claim the payer has not
accepted gets a timely_filing_risk task of rising priority, with a reconsideration letter carrying
the proof of timely filing when the claim was sent. It runs beside the lifecycle."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.requests import TimelyFilingLetterRequest
    from claimflow.claims.deadlines import ESCALATION_DAYS
    from claimflow.claims.tasks import Priority, Task, TaskKind
    from claimflow.workflows.claim_steps.context import SETTLED, ClaimContext
    from claimflow.workflows.claim_steps.coordination import FILING_PER_PAYER, crossed_over_to_billed

CLOSE_ENDED_WARNINGS = "close-ended-filing-warnings"
"""Patch id: claims started before it left a timely-filing warning open once the payer had accepted
or decided the claim, or the claim had gone on to another payer."""
ONE_FILING_WARNING = "one-filing-warning"
"""Patch id: claims started before it kept every timely-filing warning open, and raised all the
warnings already due at once."""
NO_WARNING_ONCE_FILED = "no-filing-warning-for-self-pay-or-paid"
"""Patch id: claims started before it warned a self-pay claim (no payer to file with) and a claim the
payer paid without a 277CA; since, the watch ends as soon as nothing is at risk."""


async def watch_timely_filing(c: ClaimContext) -> None:
    """Watch the deadline of the payer billed now; when the claim moves on to the next payer in
    order (or back to an earlier one), watch that payer's own deadline from then on, once its
    profile is loaded. A payer that received the claim by crossover was filed with by the earlier
    payer: nothing to watch."""
    if not workflow.patched(FILING_PER_PAYER):
        await _watch_payer(c)
        return
    while True:
        await _watch_until_payer_changes(c)


async def _watch_until_payer_changes(c: ClaimContext) -> None:
    """Watch the billed payer's deadline until the claim goes to another payer. A payer's profile is
    loaded whenever the claim goes to it (the next payer, an earlier one, a corrected coverage): a
    new profile is a new payer to watch. A warning open when the risk ends (the payer accepted or
    decided the claim, the claim settled, or it went to another payer) is closed, saying why."""
    profile = c.record.profile
    closes = workflow.patched(CLOSE_ENDED_WARNINGS)
    watch = asyncio.create_task(_watch_payer(c, crossed_over_to_billed(c)))

    def payer_changed() -> bool:
        return c.record.profile is not profile

    def risk_ended() -> bool:
        return closes and bool(_open_warnings(c)) and not _at_risk(c)

    awaited = False

    def woken() -> bool:
        return payer_changed() or risk_ended() or (watch.done() and not awaited)

    try:
        while True:
            await workflow.wait_condition(woken)
            if payer_changed():
                break
            if risk_ended():
                _close_warnings(c, _why_not_at_risk(c))
            if watch.done() and not awaited:
                awaited = True
                await watch
    except asyncio.CancelledError:  # the claim is done: so is the watch of its payer
        watch.cancel()
        raise
    if not watch.done():  # the claim went to another payer: this one's deadline no longer matters
        watch.cancel()
    if closes and _open_warnings(c):
        earlier = profile.payer_id if profile is not None else "the earlier payer"
        _close_warnings(
            c,
            f"the claim went to {c.record.billed_coverage.payer_id}: {earlier}'s deadline no longer applies",
        )


async def _watch_payer(c: ClaimContext, crossed_over: bool = False) -> None:
    """Each warning replaces the open one, and a claim that arrives late gets only the most urgent
    warning due: one task per risk."""
    if crossed_over:
        return
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


def _open_warnings(c: ClaimContext) -> list[Task]:
    return [t for t in c.board.open_tasks if t.kind is TaskKind.TIMELY_FILING_RISK]


def _why_not_at_risk(c: ClaimContext) -> str:
    record = c.record
    payer = record.billed_coverage.payer_id
    if record.accepted_on is not None:
        return f"{payer} accepted the claim (277CA): its deadline is met"
    if record.last_payment is not None:
        return f"{payer} decided the claim (835): its deadline is met"
    if record.self_pay:
        return "the patient pays alone: no payer to file with"
    return f"the claim is {record.state.value}"


def _close_warnings(c: ClaimContext, why: str) -> None:
    """Close the open timely-filing warnings on claimflow's behalf: what they warned of is over."""
    for task in _open_warnings(c):
        c.board.close_unresolved(task.id, f"{task.kind.value} {task.id} closed: {why}")
