"""End to end on the dev server: 200 encounters of mixed payers and defects through the worker,
the inbox Schedule, the payer sandbox (its own process) and a PostgreSQL ledger.

Every claim must end closed, or open with a task that says why; the ledger must equal the 835s to
the cent; no claim may be submitted more often than its workflow decided to; and neither the raw
history nor the logs may hold a patient's name, birth date or member id."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.appeals import AppealSnapshot
from claimflow.claims.lifecycle import ClaimInput, ClaimSnapshot, ClaimState, PatientPaymentRequest
from claimflow.claims.money import ZERO, money_sum
from claimflow.claims.x12 import read_835
from claimflow.integrations.ledger import Ledger
from claimflow.integrations.logs import configure_logging
from claimflow.integrations.sandbox.scenarios import Scenario, Trouble, scenario_batch
from claimflow.integrations.settings import Settings
from claimflow.workers.worker import claimflow_worker, ensure_inbox_schedule
from claimflow.workflows.appeal import AppealWorkflow
from claimflow.workflows.claim import ClaimWorkflow
from tests.e2e.conftest import SandboxProcess

pytestmark = pytest.mark.slow

EXPECTED_TASK = {
    Trouble.INACTIVE_COVERAGE: "coverage_issue",
    Trouble.CODING_HOLD: "coding",
    Trouble.NEAR_TIMELY_FILING: "coding",
    Trouble.MISSING_DEMOGRAPHICS: "fix_demographics",
    Trouble.INVALID_DIAGNOSIS: "scrub_failure",
    Trouble.BAD_RENDERING_NPI: "scrub_failure",
    Trouble.UNITS_OVER_MUE: "scrub_failure",
    Trouble.MISSING_AUTHORIZATION: "scrub_failure",
    Trouble.MISSING_LATERALITY: "denial",
    Trouble.NOT_MEDICALLY_NECESSARY: "appeal_review",
}
SETTLED = {ClaimState.CLOSED, ClaimState.WRITTEN_OFF}
BATCH_SIZE = int(os.environ.get("CLAIMFLOW_E2E_CLAIMS", "200"))


async def snapshots(handles: list[WorkflowHandle[ClaimWorkflow, ClaimSnapshot]]) -> list[ClaimSnapshot]:
    limit = asyncio.Semaphore(20)

    async def one(handle: WorkflowHandle[ClaimWorkflow, ClaimSnapshot]) -> ClaimSnapshot:
        async with limit:
            for attempt in range(5):
                try:
                    return await handle.query(ClaimWorkflow.state, rpc_timeout=timedelta(seconds=30))
                except RPCError:
                    if attempt == 4:
                        raise
                    await asyncio.sleep(1)
            raise AssertionError("unreachable")

    return list(await asyncio.gather(*(one(h) for h in handles)))


def waiting_on_nobody(snapshot: ClaimSnapshot) -> bool:
    """Settled, or parked on a person (an open task), or on the patient (a statement is out)."""
    return (
        snapshot.state in SETTLED or bool(snapshot.open_tasks) or snapshot.state is ClaimState.PATIENT_BILLING
    )


async def test_two_hundred_encounters(
    dev_server: WorkflowEnvironment, sandbox: SandboxProcess, postgres_url: str, tmp_path: Path
) -> None:
    client: Client = dev_server.client
    logs = io.StringIO()
    configure_logging("json", stream=logs)
    logging.getLogger().addHandler(logging.StreamHandler(logs))
    settings = Settings(
        temporal_address=client.service_client.config.target_host,
        temporal_task_queue=f"e2e-{uuid.uuid4().hex[:8]}",
        home=tmp_path,
        database_url=postgres_url,
        clearinghouse_url=sandbox.url,
    )
    prefix = f"E2E{uuid.uuid4().hex[:4]}"
    batch = scenario_batch(BATCH_SIZE, today=datetime.now(UTC).date(), seed=41, prefix=prefix)
    async with claimflow_worker(client, settings):
        await ensure_inbox_schedule(client, settings, every=timedelta(seconds=1))
        handles = await start_all(client, settings, batch)
        final = await run_until_quiet(client, settings, handles)
        appeals = {s.claim_id: await appeal_of(client, s) for s in final if s.state is ClaimState.APPEALING}
        raw_histories = [show_history(settings, h.id) for h in handles[:25]]

    # every claim ends closed, or open with a task that says why
    by_id = {s.encounter.encounter_id: s for s in batch}
    problems = []
    for snapshot in final:
        scenario = by_id[snapshot.patient_control_number]
        if snapshot.state in SETTLED:
            continue
        if snapshot.state is ClaimState.APPEALING:
            appeal_tasks = {t.kind.value for t in appeals[snapshot.claim_id].tasks if t.is_open and t.reason}
            if not appeal_tasks or EXPECTED_TASK.get(scenario.kind, "appeal_review") not in appeal_tasks:
                problems.append(f"{snapshot.claim_id} is appealing, but its appeal has {appeal_tasks}")
            continue
        if not snapshot.open_tasks or not all(t.reason for t in snapshot.open_tasks):
            problems.append(f"{snapshot.claim_id} ({scenario.kind}) is {snapshot.state} with no task")
        expected = EXPECTED_TASK.get(scenario.kind)
        if expected and expected not in {t.kind.value for t in snapshot.open_tasks}:
            problems.append(
                f"{snapshot.claim_id} ({scenario.kind}) has {snapshot.open_tasks}, not {expected}"
            )
    assert not problems, "\n".join(problems)
    clean = [s for s in final if by_id[s.patient_control_number].kind is Trouble.CLEAN]
    not_closed = [(s.claim_id, s.state, s.timeline[-4:]) for s in clean if s.state is not ClaimState.CLOSED]
    # A duplicate copies a clean claim: whichever of the two reaches the payer second is denied CO-18.
    duplicates = sum(s.kind is Trouble.DUPLICATE for s in batch)
    assert len(not_closed) <= duplicates, not_closed

    # the ledger equals the 835s to the cent
    remittances = [r for text in sandbox.files_of_kind("835") for r in read_835(text)]
    paid_in_835s = money_sum(claim.paid for r in remittances for claim in r.claims)
    ledger = Ledger(postgres_url, migrate_schema=False)
    totals = ledger.totals()
    ledger.close()
    assert totals.paid == paid_in_835s > ZERO
    assert money_sum(s.paid for s in final) == paid_in_835s
    # and every patient payment the claims counted is in the books
    assert totals.patient_paid == money_sum(s.patient_paid for s in final) > ZERO

    # no claim submitted more often than its workflow decided
    received = sandbox.stats()["claims_received"]
    assert isinstance(received, dict)
    for snapshot in final:
        assert received.get(snapshot.patient_control_number, 0) == snapshot.submissions, snapshot.claim_id

    # no PHI in the raw history or the logs
    # a value inside a longer run of digits is not that value: a timestamp's nanoseconds
    # (".119640204Z") hold an eight-digit birth date by chance
    patterns = [re.compile(rf"(?<!\d){re.escape(value)}(?!\d)") for s in batch for value in phi_of(s)]
    texts = [*raw_histories, logs.getvalue()]
    leaks = [p.pattern for p in patterns if any(p.search(text) for text in texts)]
    assert not leaks, f"clear-text PHI found: {leaks[:5]}"


async def appeal_of(client: Client, snapshot: ClaimSnapshot) -> AppealSnapshot:
    """The claim's latest appeal, where its open task lives while it is appealing."""
    handle = None
    async for listed in client.list_workflows(
        f"WorkflowId STARTS_WITH 'appeal-{snapshot.patient_control_number}-'"
    ):
        handle = client.get_workflow_handle_for(AppealWorkflow.run, listed.id)
    assert handle is not None, f"{snapshot.claim_id} is appealing without an appeal workflow"
    return await handle.query(AppealWorkflow.state)


async def start_all(
    client: Client, settings: Settings, batch: list[Scenario]
) -> list[WorkflowHandle[ClaimWorkflow, ClaimSnapshot]]:
    limit = asyncio.Semaphore(50)

    async def start(scenario: Scenario) -> WorkflowHandle[ClaimWorkflow, ClaimSnapshot]:
        async with limit:
            return await client.start_workflow(
                ClaimWorkflow.run,
                ClaimInput(encounter=scenario.encounter),
                id=f"claim-{scenario.encounter.encounter_id}",
                task_queue=settings.temporal_task_queue,
            )

    return list(await asyncio.gather(*(start(s) for s in batch)))


async def run_until_quiet(
    client: Client, settings: Settings, handles: list[WorkflowHandle[ClaimWorkflow, ClaimSnapshot]]
) -> list[ClaimSnapshot]:
    """Wait until no claim waits on the payer (found through the search attributes, not by
    querying every claim); patients pay their statements as they arrive."""
    ours = f"TaskQueue = '{settings.temporal_task_queue}' AND ExecutionStatus = 'Running'"
    # Closed claims stay running through the payer's reopen window, listening for reversals.
    waiting_on_payer = "ClaimState NOT IN ('patient_billing', 'closed', 'written_off', 'appealing')"
    no_task = "(TaskPriority IS NULL OR TaskPriority = 0)"
    busy = f"{ours} AND WorkflowType = 'ClaimWorkflow' AND {no_task} AND {waiting_on_payer}"
    appeals = f"{ours} AND WorkflowType = 'AppealWorkflow' AND {no_task}"
    deadline = asyncio.get_running_loop().time() + 420
    quiet_rounds = 0
    while quiet_rounds < 3:  # visibility lags a little: be sure it stays quiet
        await asyncio.sleep(2)
        billing = [
            listed.id async for listed in client.list_workflows(f"{ours} AND ClaimState = 'patient_billing'")
        ]
        for workflow_id in billing:
            await pay_statement(client.get_workflow_handle_for(ClaimWorkflow.run, workflow_id))
        waiting = (await client.count_workflows(busy)).count + (await client.count_workflows(appeals)).count
        quiet_rounds = quiet_rounds + 1 if waiting == 0 and not billing else 0
        if asyncio.get_running_loop().time() > deadline:
            current = await snapshots(handles)
            stuck = [
                f"{s.claim_id}: {s.state} {s.timeline[-1].outcome}"
                for s in current
                if not (s.state in SETTLED or s.open_tasks)
            ]
            raise AssertionError(f"{len(stuck)} claims still waiting on the payer:\n" + "\n".join(stuck[:20]))
    return await snapshots(handles)


async def pay_statement(handle: WorkflowHandle[ClaimWorkflow, ClaimSnapshot]) -> None:
    snapshot = await handle.query(ClaimWorkflow.state, rpc_timeout=timedelta(seconds=30))
    due = snapshot.patient_responsibility - snapshot.patient_paid
    if snapshot.state is ClaimState.PATIENT_BILLING and due > ZERO:
        await handle.execute_update(
            ClaimWorkflow.record_patient_payment,
            PatientPaymentRequest(claim_id=handle.id, amount=due, actor="patient-portal"),
        )


def show_history(settings: Settings, workflow_id: str) -> str:
    """The raw history as the `temporal` CLI shows it: what an operator with server access sees."""
    return subprocess.run(
        [
            "temporal",
            "workflow",
            "show",
            "--address",
            settings.temporal_address,
            "-w",
            workflow_id,
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def phi_of(scenario: Scenario) -> list[str]:
    encounter = scenario.encounter
    people = [encounter.patient, *([encounter.subscriber] if encounter.subscriber else [])]
    values = [encounter.coverage.member_id]
    for person in people:
        values.append(f"{person.first_name} {person.last_name}")
        values.append(person.last_name.upper() + "*" + person.first_name.upper())
        if person.birth_date:
            values += [person.birth_date.isoformat(), person.birth_date.strftime("%Y%m%d")]
    return values
