"""A timely-filing warning ends with its risk (time-skipping server, scripted payer): once the payer
accepts the claim (277CA) or decides it (835), or the claim moves on to the next payer in order, the
open timely_filing_risk task is closed on claimflow's behalf with the reason, so the biller's queue
holds no warning about a deadline that no longer matters."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from claimflow.claims.lifecycle import ClaimState
from claimflow.claims.tasks import Task, TaskKind
from claimflow.workflows.claim import ClaimWorkflow
from tests.workflows.scripted import (
    ScriptedPayer,
    ack_277ca,
    ack_999,
    in_state,
    open_task,
    server_today,
    start,
    stop,
    until,
    worker,
)
from tests.workflows.test_coordination import MEDICAID
from tests.workflows.test_denials import hmo_visit
from tests.workflows.test_secondary_filing import primary_paid


def warnings(tasks: list[Task]) -> list[Task]:
    return [t for t in tasks if t.kind is TaskKind.TIMELY_FILING_RISK]


async def test_the_primary_warning_closes_when_its_835_moves_the_claim_to_the_secondary(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """25 days before the HMO's deadline the claim is warned at once; the HMO never sends a 277CA
    but pays, and the claim goes to Medicaid, whose own deadline is far: no warning stays open."""
    env = time_skipping_env
    payer = ScriptedPayer()
    today = await server_today(env)
    enc = hmo_visit(today, 45, days_ago=65).model_copy(update={"other_coverages": [MEDICAID]})
    pcn = enc.encounter_id
    async with worker(env.client, payer):
        handle = await start(env.client, enc)
        try:
            await until(handle, open_task(TaskKind.TIMELY_FILING_RISK.value), "warned of the HMO's deadline")
            await until(handle, in_state(ClaimState.SUBMITTED), "submitted to the HMO")
            await handle.signal(ClaimWorkflow.payer_event, ack_999())
            await handle.signal(ClaimWorkflow.payer_event, primary_paid(pcn, enc.total_charge, today))
            await until(handle, lambda s: len(payer.submissions) == 2, "billed the secondary")
            moved = await until(handle, in_state(ClaimState.SUBMITTED), "submitted to the secondary")
        finally:
            await stop(env.client, handle)
    assert moved.payer_id == MEDICAID.payer_id
    (warning,) = warnings(moved.tasks)
    assert warning.resolved_by == "claimflow" and not warnings(moved.open_tasks)
    closed = [e.outcome for e in moved.timeline if e.step == "task" and warning.id in e.outcome]
    assert closed and "SMPHMO" in closed[-1], moved.timeline[-8:]


async def test_the_warning_closes_when_the_payer_accepts_the_claim(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env = time_skipping_env
    payer = ScriptedPayer()
    enc = hmo_visit(await server_today(env), 46, days_ago=65)
    async with worker(env.client, payer):
        handle = await start(env.client, enc)
        try:
            await until(handle, open_task(TaskKind.TIMELY_FILING_RISK.value), "warned of the deadline")
            await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
            await handle.signal(ClaimWorkflow.payer_event, ack_999())
            await handle.signal(ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id, payer_claim="HMO-1"))
            accepted = await until(
                handle,
                lambda s: s.state is ClaimState.ACCEPTED and not warnings(s.open_tasks),
                "accepted, the warning closed",
                seconds=10,
            )
        finally:
            await stop(env.client, handle)
    (warning,) = warnings(accepted.tasks)
    assert warning.resolved_by == "claimflow"
    assert any("accepted" in e.outcome and warning.id in e.outcome for e in accepted.timeline)
