"""AppealWorkflow on the time-skipping server with scripted activities."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.appeals import AppealDecision, AppealState, TimelyFilingProof
from claimflow.claims.denials import LetterCategory
from claimflow.claims.tasks import RESOLUTION, Action, TaskKind, TaskResolution
from claimflow.workflows.appeal import AppealWorkflow
from tests.appeals.scripted import (
    BILLER,
    MANAGER,
    ScriptedAppeals,
    denied_claim,
    open_task,
    sent,
    start,
    today,
    until,
    worker,
)


def resolve(task_id: str, action: Action, actor: str = BILLER, **fields: object) -> TaskResolution:
    return RESOLUTION.validate_python({"task_id": task_id, "action": action, "actor": actor, **fields})


def decided(on: date, appeal_id: str, overturned: bool, paid: str = "0.00") -> AppealDecision:
    """The payer's answer to the appeal the scripted clearinghouse numbered `appeal_id`."""
    return AppealDecision(
        overturned=overturned, paid_amount=Decimal(paid), decision_date=on, appeal_id=appeal_id
    )


async def test_medical_necessity_letter_approved_sent_and_overturned(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    appeals = ScriptedAppeals()
    claim, payment = denied_claim("50")
    async with worker(time_skipping_env.client, appeals):
        handle = await start(time_skipping_env, claim, payment)
        review = await until(handle, open_task("appeal_review"), "appeal review task")
        task = review.open_tasks[0]
        assert review.letter_category is LetterCategory.MEDICAL_NECESSITY
        assert (
            review.state is AppealState.IN_REVIEW and review.argument == "drafted medical_necessity argument"
        )
        assert task.id == f"appeal-{claim.encounter.encounter_id}:1" and task.allowed_actions == [
            "approve",
            "edit",
            "withdraw",
        ]
        await handle.execute_update(AppealWorkflow.resolve_task, resolve(task.id, Action.APPROVE))
        await until(handle, sent(1), "appeal sent")
        await handle.signal(
            AppealWorkflow.decision, decided(await today(time_skipping_env), "A00000001", True, "450.00")
        )
        outcome = await handle.result()
    assert outcome.overturned and outcome.amount_recovered == Decimal("450.00")
    assert outcome.levels_tried == [1] and not outcome.written_off
    assert [letter.level for letter in outcome.letters] == [1]
    letter = appeals.letters[0]
    assert letter.category is LetterCategory.MEDICAL_NECESSITY and letter.level.name == "first-level appeal"
    assert appeals.sent[0].payer_claim_number == "PCN-77"
    assert appeals.sent[0].letter.pdf_path.endswith("-L1-r1.pdf")


async def test_upheld_then_second_level_with_an_edited_letter(time_skipping_env: WorkflowEnvironment) -> None:
    appeals = ScriptedAppeals()
    claim, payment = denied_claim("97")
    async with worker(time_skipping_env.client, appeals):
        handle = await start(time_skipping_env, claim, payment)
        first = (await until(handle, open_task("appeal_review"), "first review")).open_tasks[0]
        await handle.execute_update(AppealWorkflow.resolve_task, resolve(first.id, Action.APPROVE))
        await until(handle, sent(1), "first appeal sent")
        await handle.signal(
            AppealWorkflow.decision, decided(await today(time_skipping_env), "A00000001", False)
        )
        second = await until(handle, open_task("appeal_review", level=2), "second-level review")
        assert second.level_name == "second-level appeal"
        task = second.open_tasks[0]
        with pytest.raises(ValidationError) as refused:  # an edit without its argument is no edit
            resolve(task.id, Action.EDIT, argument="  ")
        assert "argument" in str(refused.value)
        edited = "The two procedures were performed at separate sessions.\n\nSee the operative notes."
        await handle.execute_update(
            AppealWorkflow.resolve_task, resolve(task.id, Action.EDIT, argument=edited)
        )
        await until(handle, sent(2), "second appeal sent")
        await handle.signal(
            AppealWorkflow.decision, decided(await today(time_skipping_env), "A00000001", False)
        )  # redelivered: ignored
        await handle.signal(
            AppealWorkflow.decision, decided(await today(time_skipping_env), "A00000002", True, "450.00")
        )
        outcome = await handle.result()
    assert outcome.overturned and outcome.levels_tried == [1, 2]
    assert appeals.letters[-1].argument == [
        "The two procedures were performed at separate sessions.",
        "See the operative notes.",
    ]
    assert appeals.letters[-1].level.level == 2 and appeals.letters[-1].category is LetterCategory.BUNDLING
    assert [s.attempt for s in appeals.sent] == [1, 2]


async def test_upheld_at_the_last_level_needs_a_manager_to_write_off(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    appeals = ScriptedAppeals()
    claim, payment = denied_claim("197")
    async with worker(time_skipping_env.client, appeals):
        handle = await start(time_skipping_env, claim, payment)
        for level in (1, 2):
            review = await until(handle, open_task("appeal_review", level=level), f"level {level} review")
            await handle.execute_update(
                AppealWorkflow.resolve_task, resolve(review.open_tasks[0].id, Action.APPROVE)
            )
            await until(handle, sent(level), f"level {level} sent")
            await handle.signal(
                AppealWorkflow.decision, decided(await today(time_skipping_env), f"A{level:08d}", False)
            )
        pending = await until(handle, open_task("write_off_approval"), "write-off approval")
        task = pending.open_tasks[0]
        assert pending.state is AppealState.WRITE_OFF_PENDING
        assert task.assignee == "billing-manager" and "last appeal level" in task.reason
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                AppealWorkflow.resolve_task, resolve(task.id, Action.APPROVE_WRITE_OFF, reason="exhausted")
            )
        assert "not a manager" in str(refused.value.cause)
        await handle.execute_update(
            AppealWorkflow.resolve_task,
            resolve(task.id, Action.APPROVE_WRITE_OFF, actor=MANAGER, reason="appeals exhausted"),
        )
        outcome = await handle.result()
        final = await handle.query(AppealWorkflow.state)
    assert outcome.written_off and outcome.written_off_amount == Decimal("450.00")
    assert not outcome.overturned and outcome.levels_tried == [1, 2]
    assert final.state is AppealState.WRITTEN_OFF
    approval = next(t for t in final.tasks if t.kind is TaskKind.WRITE_OFF_APPROVAL)
    assert approval.resolved_by == MANAGER


async def test_medicare_stops_below_the_alj_threshold(time_skipping_env: WorkflowEnvironment) -> None:
    appeals = ScriptedAppeals()
    claim, payment = denied_claim("50", charge="150.00", payer_id="SMPMCR")
    async with worker(time_skipping_env.client, appeals):
        handle = await start(time_skipping_env, claim, payment)
        for level in (1, 2):
            review = await until(handle, open_task("appeal_review", level=level), f"level {level} review")
            assert review.level_name == ("redetermination", "reconsideration")[level - 1]
            await handle.execute_update(
                AppealWorkflow.resolve_task, resolve(review.open_tasks[0].id, Action.APPROVE)
            )
            await until(handle, sent(level), f"level {level} sent")
            await handle.signal(
                AppealWorkflow.decision, decided(await today(time_skipping_env), f"A{level:08d}", False)
            )
        pending = await until(handle, open_task("write_off_approval"), "write-off approval")
        assert "below the 190.00" in pending.open_tasks[0].reason
        await handle.execute_update(
            AppealWorkflow.resolve_task,
            resolve(pending.open_tasks[0].id, Action.REJECT, actor=MANAGER, reason="bill the secondary"),
        )
        outcome = await handle.result()
    assert not outcome.written_off and "rejected" in outcome.reason


async def test_withdrawn_by_the_biller(time_skipping_env: WorkflowEnvironment) -> None:
    appeals = ScriptedAppeals()
    claim, payment = denied_claim("50")
    async with worker(time_skipping_env.client, appeals):
        handle = await start(time_skipping_env, claim, payment)
        task = (await until(handle, open_task("appeal_review"), "review")).open_tasks[0]
        await handle.execute_update(
            AppealWorkflow.resolve_task, resolve(task.id, Action.WITHDRAW, reason="records do not support it")
        )
        outcome = await handle.result()
    assert outcome.withdrawn and not appeals.sent


async def test_timely_filing_letter_carries_the_999_and_277ca_dates(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    appeals = ScriptedAppeals()
    claim, payment = denied_claim("29")
    now = await time_skipping_env.get_current_time()
    proof = TimelyFilingProof(
        submitted_at=now - timedelta(days=60),
        ack_999_at=now - timedelta(days=60),
        accepted_277ca_at=now - timedelta(days=58),
        payer_claim_number="PCN-77",
    )
    async with worker(time_skipping_env.client, appeals):
        handle = await start(time_skipping_env, claim, payment, proof=proof)
        review = await until(handle, open_task("appeal_review"), "review")
        assert review.letter_category is LetterCategory.TIMELY_FILING
        await handle.execute_update(
            AppealWorkflow.resolve_task,
            resolve(review.open_tasks[0].id, Action.WITHDRAW, reason="test ends here"),
        )
        await handle.result()
    assert appeals.letters[0].category is LetterCategory.TIMELY_FILING
    assert appeals.letters[0].proof == proof


async def test_payer_silence_opens_a_task_that_the_late_decision_closes(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    appeals = ScriptedAppeals()
    claim, payment = denied_claim("50")
    async with worker(time_skipping_env.client, appeals):
        handle = await start(time_skipping_env, claim, payment)
        review = await until(handle, open_task("appeal_review"), "review")
        await handle.execute_update(
            AppealWorkflow.resolve_task, resolve(review.open_tasks[0].id, Action.APPROVE)
        )
        await until(handle, sent(1), "sent")
        await time_skipping_env.sleep(timedelta(days=75))  # 60 days to decide, 14 of grace
        silent = await until(handle, open_task("no_response"), "no-response task")
        assert "no decision on the first-level appeal after 74 days" in silent.open_tasks[0].reason
        await handle.signal(
            AppealWorkflow.decision, decided(await today(time_skipping_env), "A00000001", True, "450.00")
        )
        outcome = await handle.result()
        final = await handle.query(AppealWorkflow.state)
    assert outcome.overturned
    silence = next(t for t in final.tasks if t.kind is TaskKind.NO_RESPONSE)
    assert silence.resolved_by == "claimflow" and not final.open_tasks


async def test_a_closed_window_goes_straight_to_write_off_approval(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    appeals = ScriptedAppeals()
    claim, payment = denied_claim("50")
    async with worker(time_skipping_env.client, appeals):
        handle = await start(time_skipping_env, claim, payment, remitted_days_ago=200)
        pending = await until(handle, open_task("write_off_approval"), "write-off approval")
        assert "closed on" in pending.open_tasks[0].reason
        await handle.execute_update(
            AppealWorkflow.resolve_task,
            resolve(
                pending.open_tasks[0].id, Action.APPROVE_WRITE_OFF, actor=MANAGER, reason="window missed"
            ),
        )
        outcome = await handle.result()
    assert outcome.written_off and outcome.levels_tried == [] and not appeals.letters


async def test_a_level_the_payer_does_not_have_fails_the_appeal_at_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    appeals = ScriptedAppeals()
    claim, payment = denied_claim("50")
    async with worker(time_skipping_env.client, appeals):
        handle = await start(time_skipping_env, claim, payment, start_level=3)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
    assert "levels 1, 2, not 3" in str(failed.value.cause)


async def test_a_payment_with_nothing_to_appeal_closes(time_skipping_env: WorkflowEnvironment) -> None:
    appeals = ScriptedAppeals()
    claim, payment = denied_claim("45")
    async with worker(time_skipping_env.client, appeals):
        outcome = await (await start(time_skipping_env, claim, payment)).result()
    assert not outcome.overturned and "nothing to appeal" in outcome.reason and not appeals.letters


async def test_an_appeal_waiting_months_continues_as_new_with_its_record(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """A history limit this low makes every wait for the decision a fresh run: the record (letters,
    appeals sent, tasks, timeline) goes along, the payer's silence still opens its task, and the
    decision that comes at last reaches the run then waiting."""
    env, appeals = time_skipping_env, ScriptedAppeals()
    claim, payment = denied_claim("50")
    async with worker(env.client, appeals):
        first_run = await start(env, claim, payment, history_limit=10)
        latest = env.client.get_workflow_handle_for(AppealWorkflow.run, first_run.id)  # follows the runs
        review = await until(latest, open_task("appeal_review"), "review")
        await latest.execute_update(
            AppealWorkflow.resolve_task, resolve(review.open_tasks[0].id, Action.APPROVE)
        )
        await until(latest, sent(1), "sent")
        await env.sleep(timedelta(days=75))  # 60 days to decide, 14 of grace
        silent = await until(latest, open_task("no_response"), "no-response task")
        assert "no decision on the first-level appeal after 74 days" in silent.open_tasks[0].reason
        await latest.signal(AppealWorkflow.decision, decided(await today(env), "A00000001", True, "450.00"))
        outcome = await latest.result()
        final = await latest.query(AppealWorkflow.state)
        runs = 1
        history = await latest.fetch_history()
        while history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id:
            runs += 1
            previous = history.events[
                0
            ].workflow_execution_started_event_attributes.continued_execution_run_id
            history = await env.client.get_workflow_handle(first_run.id, run_id=previous).fetch_history()
    assert runs >= 2
    assert outcome.overturned and outcome.levels_tried == [1] and len(outcome.letters) == 1
    assert len(appeals.letters) == 1 and len(appeals.sent) == 1  # nothing redone by a fresh run
    assert [t.kind for t in final.tasks] == [TaskKind.APPEAL_REVIEW, TaskKind.NO_RESPONSE]
    assert final.tasks[0].resolved_by == BILLER and final.tasks[1].resolved_by == "claimflow"
    assert [e.step for e in final.timeline][:2] == ["level", "letter"]  # the first run's, carried
