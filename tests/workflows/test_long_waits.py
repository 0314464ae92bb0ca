"""A claim's longest wait, the patient statement cycle, continues as new: history stays bounded over
many cycles, the record (statements sent, timeline, documents) carries from run to run, and the
claim still ends right. The claim starts from a record (ClaimInput.record) already billing the
patient, instead of replaying the whole past that leads there."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from claimflow.claims import ids
from claimflow.claims.lifecycle import (
    ClaimInput,
    ClaimRecord,
    ClaimSnapshot,
    ClaimState,
    ClaimStep,
    Dunning,
    PatientPaymentRequest,
)
from claimflow.workflows.claim import ClaimWorkflow
from tests.workflows.scripted import (
    STARTED,
    TASK_QUEUE,
    ScriptedPayer,
    encounter,
    finish,
    until,
    worker,
)

HISTORY_LIMIT = 100
"""The smallest limit ClaimInput takes: a fresh run every few statement cycles."""
STATEMENTS = 40
CYCLES_BEFORE_PAYING = 36
CYCLE = timedelta(days=30)  # the scripted payers' statement_cycle_days


async def runs_of(client: Client, workflow_id: str) -> list[int]:
    """The history length of every run of the workflow, the first run first (following each run's
    continued_execution_run_id back)."""
    lengths: list[int] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return lengths[::-1]
        run_id = started.continued_execution_run_id


async def test_many_dunning_cycles_keep_history_bounded_and_end_paid(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env, payer = time_skipping_env, ScriptedPayer()
    now = await env.get_current_time()
    enc = encounter(now.date(), 12)
    owed = Decimal("40.00")
    billing = ClaimRecord(
        encounter=enc,
        step=ClaimStep.PATIENT_BILLING,
        state=ClaimState.ADJUDICATED,
        submissions=1,
        submitted_at=now - timedelta(days=15),
        accepted_on=now - timedelta(days=14),  # accepted: no timely-filing watch in the way
        paid=enc.total_charge - owed,
        patient_responsibility=owed,
        dunning=Dunning(statements=STATEMENTS),
    )
    claim_id = ids.claim_workflow_id(enc.encounter_id)
    async with worker(env.client, payer):
        handle: WorkflowHandle[ClaimWorkflow, ClaimSnapshot] = await env.client.start_workflow(
            ClaimWorkflow.run,
            ClaimInput(encounter=enc, record=billing, history_limit=HISTORY_LIMIT),
            id=claim_id,
            task_queue=TASK_QUEUE,
        )
        STARTED.append(handle)
        await until(handle, lambda s: len(s.documents) == 1, "first statement")
        await env.sleep(CYCLE * (CYCLES_BEFORE_PAYING - 1) + timedelta(days=1))
        billed = await until(handle, lambda s: len(s.documents) == CYCLES_BEFORE_PAYING, "statements")
        assert billed.state is ClaimState.PATIENT_BILLING and billed.patient_responsibility == owed
        # An Update reaches the claim's current run: the payment settles the balance.
        paid = await handle.execute_update(
            ClaimWorkflow.record_patient_payment,
            PatientPaymentRequest(claim_id=claim_id, amount=owed, actor="portal", reference="R-9"),
        )
        assert paid.patient_paid == owed
        final = await finish(handle)
        runs = await runs_of(env.client, claim_id)

    assert final.state is ClaimState.CLOSED and final.patient_paid == owed and not final.open_tasks
    notices = [statement.notice for statement in payer.statements]
    assert notices == ["first"] + ["reminder"] * (CYCLES_BEFORE_PAYING - 1)
    assert len(final.documents) == CYCLES_BEFORE_PAYING  # carried from run to run
    assert sum("reminder statement" in e.outcome for e in final.timeline) == CYCLES_BEFORE_PAYING - 1
    assert [p.reference for p in payer.patient_payments] == ["R-9"]
    # Bounded: a fresh run every few cycles, none much past the limit, however long the dunning.
    assert len(runs) >= 4, runs
    assert max(runs) < HISTORY_LIMIT + 50, runs  # the last step before a fresh run, and the closing
    assert sum(runs) > 3 * HISTORY_LIMIT, runs
