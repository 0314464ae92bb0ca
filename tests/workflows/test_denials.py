"""Denials, appeals, reversals and timely-filing escalation through ClaimWorkflow (issue 6), on the
time-skipping test server with scripted payer and appeal activities."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.appeals import AppealSnapshot
from claimflow.claims.claim import FrequencyCode
from claimflow.claims.denials import LetterCategory
from claimflow.claims.encounter import Encounter
from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState
from claimflow.claims.tasks import Approve, Correct, Priority
from claimflow.claims.x12 import Envelope, write_837
from claimflow.workflows.appeal import AppealWorkflow
from claimflow.workflows.claim import ClaimWorkflow
from tests.appeals.scripted import ScriptedAppeals
from tests.workflows.scripted import (
    ScriptedPayer,
    ack_277ca,
    ack_999,
    encounter,
    finish,
    in_state,
    open_task,
    pay_cleanly,
    remittance,
    server_today,
    start,
    stop,
    task_of,
    until,
    worker,
)


async def deny(handle: WorkflowHandle[ClaimWorkflow, ClaimSnapshot], enc: Encounter, carc: str) -> None:
    await handle.signal(ClaimWorkflow.payer_event, ack_999())
    await handle.signal(ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id))
    await until(handle, in_state(ClaimState.ACCEPTED), "accepted")
    await handle.signal(ClaimWorkflow.payer_event, remittance(enc, denied_with=carc))


async def appealed_co50(
    env: WorkflowEnvironment, enc: Encounter, appeals: ScriptedAppeals
) -> tuple[WorkflowHandle[ClaimWorkflow, ClaimSnapshot], str]:
    """A claim submitted, denied CO-50, its first-level letter approved and sent; the claim and
    the review task that was approved."""
    handle = await start(env.client, enc)
    await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
    await deny(handle, enc, "50")
    child, review = await appeal_review(env, f"appeal-{enc.encounter_id}-1")
    await child.execute_update(
        AppealWorkflow.resolve_task,
        Approve(task_id=review, actor="biller@clinic"),
    )
    await until(handle, lambda s: len(appeals.sent) == 1, "first level sent")
    return handle, review


async def appeal_review(
    env: WorkflowEnvironment, appeal_id: str
) -> tuple[WorkflowHandle[AppealWorkflow, object], str]:
    """The appeal child and its open appeal_review task, once the letter is drafted."""
    child = env.client.get_workflow_handle_for(AppealWorkflow.run, appeal_id)
    for _ in range(400):
        try:
            state: AppealSnapshot = await child.query(AppealWorkflow.state)
            review = [t for t in state.tasks if t.is_open and t.kind.value == "appeal_review"]
            if review:
                return child, review[0].id
        except Exception:  # the child may not be started yet
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{appeal_id} never asked for review")


async def test_co50_letter_approved_sent_overturned_paid(time_skipping_env: WorkflowEnvironment) -> None:
    payer, appeals = ScriptedPayer(), ScriptedAppeals()
    enc = encounter(await server_today(time_skipping_env), 21)
    async with worker(time_skipping_env.client, payer, appeals):
        handle, _ = await appealed_co50(time_skipping_env, enc, appeals)
        # The payer overturns: the claim is re-adjudicated and paid.
        await handle.signal(ClaimWorkflow.payer_event, remittance(enc, payer_claim="PCN-2"))
        final = await finish(handle)
    assert final.state is ClaimState.CLOSED
    assert appeals.letters[0].category is LetterCategory.MEDICAL_NECESSITY
    assert final.paid > 0 and len(payer.postings) == 2
    assert any("overturned" in e.outcome for e in final.timeline)


async def test_upheld_goes_to_the_second_level(time_skipping_env: WorkflowEnvironment) -> None:
    payer, appeals = ScriptedPayer(), ScriptedAppeals()
    enc = encounter(await server_today(time_skipping_env), 22)
    async with worker(time_skipping_env.client, payer, appeals):
        handle, review = await appealed_co50(time_skipping_env, enc, appeals)
        decided_on = (await server_today(time_skipping_env)).isoformat()
        notice = {"decision": "upheld", "decided_on": decided_on, "appeal_id": "A00000001"}
        await handle.signal(ClaimWorkflow.payer_event, appeal_notice(enc.encounter_id, notice))
        child, second = await appeal_review(time_skipping_env, f"appeal-{enc.encounter_id}-1")
        assert second != review
        await child.execute_update(AppealWorkflow.resolve_task, Approve(task_id=second, actor="b1"))
        await until(handle, lambda s: len(appeals.sent) == 2, "second level sent")
        await stop(time_skipping_env.client, handle)
    assert [letter.level.level for letter in appeals.letters] == [1, 2]


async def test_co4_corrected_replacement_with_frequency_7_paid(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    payer = ScriptedPayer()
    enc = encounter(await server_today(time_skipping_env), 23)
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, enc)
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        await deny(handle, enc, "4")
        snapshot = await until(handle, open_task("denial"), "denial task")
        task = task_of(snapshot, "denial")
        assert "CO-4" in task.details[0]
        line = enc.service_lines[0].model_copy(update={"modifiers": ["RT"]})
        corrected = enc.model_copy(update={"service_lines": [line, *enc.service_lines[1:]]})
        await handle.execute_update(
            ClaimWorkflow.resolve_task,
            Correct(task_id=task.id, actor="biller", encounter=corrected),
        )
        await until(handle, lambda s: s.submissions == 2 and s.state is ClaimState.SUBMITTED, "resubmitted")
        await pay_cleanly(handle, corrected)
        final = await finish(handle)
    replacement = payer.submissions[1].claim
    assert replacement.frequency is FrequencyCode.REPLACEMENT and replacement.original_claim_number == "PCN-1"
    envelope = Envelope(
        sender_id="CLAIMFLOW", receiver_id="CH", interchange_control_number=1, created=final.timeline[0].at
    )
    x12 = write_837([replacement], envelope)
    assert "REF*F8*PCN-1~" in x12 and ":B:7*" in x12
    assert final.state is ClaimState.CLOSED


async def test_co29_appeal_carries_proof_of_timely_filing(time_skipping_env: WorkflowEnvironment) -> None:
    payer, appeals = ScriptedPayer(), ScriptedAppeals()
    enc = encounter(await server_today(time_skipping_env), 24)
    async with worker(time_skipping_env.client, payer, appeals):
        handle = await start(time_skipping_env.client, enc)
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        await deny(handle, enc, "29")
        await appeal_review(time_skipping_env, f"appeal-{enc.encounter_id}-1")
        await stop(time_skipping_env.client, handle)
    letter = appeals.letters[0]
    assert letter.category is LetterCategory.TIMELY_FILING
    proof = letter.proof
    assert proof.submitted_at and proof.ack_999_at and proof.accepted_277ca_at and proof.has_proof
    assert proof.payer_claim_number == "PCN-1" and proof.status_277ca == "A1:20"


async def test_reversal_after_closing_is_reposted(time_skipping_env: WorkflowEnvironment) -> None:
    payer = ScriptedPayer()
    enc = encounter(await server_today(time_skipping_env), 25)
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, enc)
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        await pay_cleanly(handle, enc)
        closed = await until(handle, in_state(ClaimState.CLOSED), "closed")
        first_paid = closed.paid
        await handle.signal(ClaimWorkflow.payer_event, remittance(enc, reversal_of=first_paid))
        await handle.signal(
            ClaimWorkflow.payer_event, remittance(enc, patient_owes=Decimal("10.00"), payer_claim="PCN-2")
        )
        snapshot = await until(handle, lambda s: len(payer.postings) == 3, "reposted")
        await until(handle, lambda s: s.state is ClaimState.PATIENT_BILLING, "patient billed for the change")
        await stop(time_skipping_env.client, handle)
    statuses = [p.payment.status.value for p in payer.postings]
    assert statuses == ["1", "22", "1"]
    assert snapshot.paid == first_paid - first_paid + payer.postings[2].payment.paid


def hmo_visit(today: date, seed: int, *, days_ago: int) -> Encounter:
    """A visit `days_ago` at the HMO, whose 90 days of timely filing make deadlines near."""
    base = encounter(today, seed)
    hmo = base.coverage.model_copy(update={"payer_id": "SMPHMO", "payer_name": "Summit Health HMO"})
    service_date = today - timedelta(days=days_ago)
    lines = [line.model_copy(update={"service_date": service_date}) for line in base.service_lines]
    return base.model_copy(update={"coverage": hmo, "service_date": service_date, "service_lines": lines})


def warnings_raised(count: int) -> Callable[[ClaimSnapshot], bool]:
    return lambda snapshot: sum(t.kind.value == "timely_filing_risk" for t in snapshot.tasks) == count


async def test_never_accepted_gets_escalations_at_30_14_and_7_days(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    payer = ScriptedPayer()
    enc = hmo_visit(await server_today(time_skipping_env), 26, days_ago=55)
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, enc)
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        await handle.signal(ClaimWorkflow.payer_event, ack_999())
        await handle.signal(ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id, category="A7", code="21"))
        await until(handle, open_task("payer_rejection"), "rejected, waiting on a biller")
        await time_skipping_env.sleep(timedelta(days=30))
        snapshot = await until(
            handle,
            warnings_raised(3),
            "escalations",
        )
        await stop(time_skipping_env.client, handle)
    escalations = [t for t in snapshot.tasks if t.kind.value == "timely_filing_risk"]
    # Each warning replaces the one before: a biller sees one task for the risk, the newest.
    assert [t.resolved_by for t in escalations] == ["claimflow", "claimflow", None]
    deadline = enc.service_date + timedelta(days=90)
    assert [(t.created_at.date() - deadline).days for t in escalations] == [-30, -14, -7]
    assert [t.priority for t in escalations] == [Priority.NORMAL, Priority.HIGH, Priority.URGENT]
    assert all("reconsideration letter" in t.details[0] for t in escalations)
    assert len(payer.filing_letters) == 3 and all(r.proof.submitted_at for r in payer.filing_letters)


async def test_a_claim_taken_in_late_gets_one_warning_not_every_one_already_due(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    payer = ScriptedPayer()
    # 90 days to file at this HMO: 12 days are left, so the 30- and 14-day warnings are both due.
    visit = hmo_visit(await server_today(time_skipping_env), 27, days_ago=78)
    uncoded = visit.model_copy(update={"diagnoses": [], "service_lines": []})
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, uncoded)
        first = await until(handle, open_task("timely_filing_risk"), "the first warning")
        await time_skipping_env.sleep(timedelta(days=6, hours=1))
        later = await until(handle, warnings_raised(2), "the 7-day warning")
        await stop(time_skipping_env.client, handle)
    warnings = [t for t in first.tasks if t.kind.value == "timely_filing_risk"]
    assert [(t.priority, "(14 days)" in t.reason) for t in warnings] == [(Priority.HIGH, True)]
    assert [(t.priority, t.resolved_by) for t in later.tasks if t.kind.value == "timely_filing_risk"] == [
        (Priority.HIGH, "claimflow"),
        (Priority.URGENT, None),
    ]
    assert open_task("coding")(later)  # the coding hold is still what the biller must clear
    assert len(payer.filing_letters) == 2


def appeal_notice(pcn: str, notice: dict[str, str]) -> object:
    from claimflow.claims.events import AppealNotice
    from tests.workflows.scripted import now

    return AppealNotice(
        event_id=f"notice-{notice['appeal_id']}",
        file_id="fnotice",
        received_at=now(),
        notice={**notice, "patient_control_number": pcn},
    )
