"""The AppealWorkflow as a child: started by its claim, decisions forwarded, outcome returned."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from claimflow.claims.appeals import AppealDecision, AppealInput, AppealOutcome
from claimflow.claims.payers import default_directory
from claimflow.claims.tasks import Approve
from claimflow.workflows.appeal import AppealWorkflow
from tests.appeals.parent import AppealingParent
from tests.appeals.scripted import (
    BILLER,
    MANAGER,
    TASK_QUEUE,
    ScriptedAppeals,
    denied_claim,
    open_task,
    sent,
    today,
    until,
)


async def started(handle: WorkflowHandle[AppealWorkflow, AppealOutcome], seconds: float = 10) -> None:
    """Wait until the parent has started its child."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            await handle.describe()
            return
        except RPCError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_the_claim_starts_the_appeal_and_forwards_the_decision(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    appeals = ScriptedAppeals()
    claim, payment = denied_claim("50")
    client = time_skipping_env.client
    async with Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[AppealingParent, AppealWorkflow],
        activities=[appeals.render_appeal_letter, appeals.send_appeal],
    ):
        parent = await client.start_workflow(
            AppealingParent.run,
            AppealInput(
                claim=claim,
                payer=default_directory().profiles["SMPBCX"],
                payment=payment,
                remittance_date=await today(time_skipping_env),
                managers=[MANAGER],
            ),
            id=f"claim-{claim.encounter.encounter_id}",
            task_queue=TASK_QUEUE,
        )
        # The biller resolves the appeal's task on the child, found by the task id's prefix.
        child: WorkflowHandle[AppealWorkflow, AppealOutcome] = client.get_workflow_handle_for(
            AppealWorkflow.run, f"appeal-{claim.encounter.encounter_id}"
        )
        await started(child)
        task = (await until(child, open_task("appeal_review"), "review")).open_tasks[0]
        workflow_id = task.id.rsplit(":", 1)[0]
        assert workflow_id == child.id
        await child.execute_update(
            AppealWorkflow.resolve_task,
            Approve(task_id=task.id, actor=BILLER),
        )
        await until(child, sent(1), "sent")
        decision = AppealDecision(
            overturned=True,
            paid_amount=Decimal("450.00"),
            decision_date=await today(time_skipping_env),
            appeal_id="A00000001",
        )
        await parent.signal(AppealingParent.appeal_decision, decision)
        outcome = await parent.result()
    assert outcome.overturned and outcome.amount_recovered == Decimal("450.00")
