"""An appealable denial that nobody appeals raises a task before its window closes (issue 6 item 5)."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from claimflow.claims.payers import default_directory
from claimflow.claims.tasks import Priority
from tests.appeals.scripted import ScriptedAppeals, denied_claim, open_task, start, until, worker
from tests.workflows.scripted import terminate_when_idle


async def test_review_due_before_the_window_closes_then_escalated(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    appeals = ScriptedAppeals()
    claim, payment = denied_claim("50", payer_id="SMPBCX")
    window = default_directory().profiles["SMPBCX"].appeal_days
    async with worker(time_skipping_env.client, appeals):
        # Remitted long ago: four days of the appeal window are left.
        handle = await start(time_skipping_env, claim, payment, remitted_days_ago=window - 4)
        review = await until(handle, open_task("appeal_review"), "appeal review task")
        task = review.open_tasks[0]
        now = await time_skipping_env.get_current_time()
        closes = datetime.combine(
            now.date() + timedelta(days=4), datetime.min.time(), tzinfo=task.due_at.tzinfo
        )
        assert task.priority is Priority.URGENT, "four days before the window closes is urgent"
        assert task.due_at <= closes, "the task is due before the window closes, not after"
        # Nobody acts: at its due date the task goes to the billing manager, still inside the window.
        await time_skipping_env.sleep(task.due_at - now + timedelta(minutes=1))
        escalated = await until(
            handle, lambda s: s.open_tasks and s.open_tasks[0].assignee == "billing-manager", "escalated"
        )
        await terminate_when_idle(time_skipping_env.client, handle)
    assert escalated.open_tasks[0].id == task.id
