"""A document that cannot become a claim starts its claim in an intake hold (time-skipping server):
a fix_intake task carries the findings and the document, sealed by the codec; a corrected encounter
releases the claim into the lifecycle, a write-off closes it."""

from __future__ import annotations

import json

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.intake_hold import HeldIntake, document_id
from claimflow.claims.lifecycle import ClaimInput, ClaimSnapshot, ClaimState
from claimflow.claims.tasks import RESOLUTION, Action, TaskKind, TaskResolution
from claimflow.integrations.fhir import read_file
from claimflow.workflows.claim import ClaimWorkflow
from tests.fhir.make_defect_corpus import OUT as DEFECTS
from tests.workflows.scripted import (
    STARTED,
    TASK_QUEUE,
    ScriptedPayer,
    encounter,
    finish,
    in_state,
    open_task,
    pay_cleanly,
    server_today,
    task_of,
    until,
    worker,
)


def resolution(task_id: str, action: Action, **fields: object) -> TaskResolution:
    return RESOLUTION.validate_python(
        {"task_id": task_id, "action": action, "actor": "biller@clinic", **fields}
    )


def held_document(name: str) -> HeldIntake:
    """A corpus document that cannot become a claim, held under the id of the Claim it holds."""
    path = DEFECTS / name
    read = read_file(path)
    assert read.encounter is None and read.errors
    text = path.read_text()
    (claim,) = [e["resource"] for e in json.loads(text)["entry"] if e["resource"]["resourceType"] == "Claim"]
    assert document_id(json.loads(text), text) == claim["id"]
    return HeldIntake(encounter_id=claim["id"], findings=read.findings, document=text)


def test_a_document_without_a_usable_id_is_named_by_its_bytes() -> None:
    text = json.dumps(
        {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Claim", "id": "a b"}}]}
    )
    first = document_id(json.loads(text), text)
    assert first.startswith("doc-") and first == document_id(json.loads(text), text)
    assert document_id({"encounter_id": "E-1"}, "{}") == "E-1"


async def start_held(
    env: WorkflowEnvironment, held: HeldIntake
) -> WorkflowHandle[ClaimWorkflow, ClaimSnapshot]:
    handle = await env.client.start_workflow(
        ClaimWorkflow.run, ClaimInput(held=held), id=f"claim-{held.encounter_id}", task_queue=TASK_QUEUE
    )
    STARTED.append(handle)
    return handle


async def test_a_held_document_waits_on_fix_intake_then_a_correction_bills_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    payer = ScriptedPayer()
    today = await server_today(time_skipping_env)
    held = held_document("defect-04-intake-coverage-subscriber-id.json")
    async with worker(time_skipping_env.client, payer):
        handle = await start_held(time_skipping_env, held)
        snapshot = await until(handle, open_task("fix_intake"), "fix_intake task")
        assert snapshot.state is ClaimState.INTAKE and snapshot.encounter is None
        task = task_of(snapshot, "fix_intake")
        assert task.document == held.document
        assert "coverage" in task.reason and any("Coverage.subscriberId" in line for line in task.details)
        assert any("2010BA NM109" in line for line in task.details)
        # the validator answers at once: a fix_intake task takes a corrected encounter (or a write-off)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                ClaimWorkflow.resolve_task, resolution(task.id, Action.OVERRIDE, reason="looks fine")
            )
        assert "use one of: correct, write_off" in str(refused.value.cause)
        corrected = encounter(today, 71)
        await handle.execute_update(
            ClaimWorkflow.resolve_task, resolution(task.id, Action.CORRECT, encounter=corrected)
        )
        submitted = await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        assert submitted.patient_control_number == held.encounter_id
        billed = corrected.model_copy(update={"encounter_id": held.encounter_id})
        await pay_cleanly(handle, billed)
        final = await finish(handle)
    assert final.state is ClaimState.CLOSED
    assert payer.submissions[0].claim.encounter.encounter_id == held.encounter_id
    (fix,) = [t for t in final.tasks if t.kind is TaskKind.FIX_INTAKE]
    assert fix.resolved_by == "biller@clinic"
    steps = [entry.outcome for entry in final.timeline]
    assert any("held:" in outcome for outcome in steps) and any("released" in outcome for outcome in steps)
    # the document and its findings are sealed by the codec: nothing of it in the history in clear
    history = await handle.fetch_history()
    raw = history.to_json()
    member_line = next(line for line in held.document.splitlines() if '"family"' in line)
    family = member_line.split(":")[1].strip().strip('",')
    assert family and family not in raw and "subscriberId" not in raw


async def test_a_held_document_written_off_closes_without_a_claim(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    payer = ScriptedPayer()
    held = held_document("defect-06-intake-claim-provider.json")
    async with worker(time_skipping_env.client, payer):
        handle = await start_held(time_skipping_env, held)
        task = task_of(await until(handle, open_task("fix_intake"), "fix_intake task"), "fix_intake")
        await handle.execute_update(
            ClaimWorkflow.resolve_task, resolution(task.id, Action.WRITE_OFF, reason="test file, not a visit")
        )
        final = await finish(handle)
    assert final.state is ClaimState.WRITTEN_OFF and not payer.submissions
    assert final.tasks[0].resolved_by == "biller@clinic"
