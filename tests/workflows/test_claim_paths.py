"""ClaimWorkflow, one test per path, on the time-skipping test server."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from claimflow.claims import ids
from claimflow.claims.encounter import Coverage
from claimflow.claims.kpi import facts_of
from claimflow.claims.lifecycle import ClaimState, PatientPaymentRequest
from claimflow.claims.tasks import RESOLUTION, Action, Task, TaskKind, TaskResolution
from claimflow.workflows import search_attributes as sa
from claimflow.workflows.claim import ClaimWorkflow
from tests.workflows.scripted import (
    INACTIVE_MEMBER,
    ScriptedPayer,
    ack_277ca,
    ack_999,
    encounter,
    finish,
    in_state,
    open_task,
    pay_cleanly,
    server_today,
    start,
    stop,
    task_of,
    terminate_when_idle,
    until,
    worker,
)


def resolution(task_id: str, action: Action, **fields: object) -> TaskResolution:
    return RESOLUTION.validate_python(
        {"task_id": task_id, "action": action, "actor": "biller@clinic", **fields}
    )


async def test_happy_path_closes_paid(time_skipping_env: WorkflowEnvironment) -> None:
    payer = ScriptedPayer()
    today = await server_today(time_skipping_env)
    enc = encounter(today, 1)
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, enc)
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        await pay_cleanly(handle, enc)
        final = await finish(handle)
    assert final.state is ClaimState.CLOSED
    assert final.paid == payer.postings[0].payment.paid > 0
    assert final.payer_claim_number == "PCN-1"
    assert len(payer.submissions) == 1 and not final.open_tasks
    steps = [entry.step for entry in final.timeline]
    assert steps.index("eligibility") < steps.index("scrub") < steps.index("submit") < steps.index("835")


async def test_inactive_coverage_task_then_new_coverage_paid(time_skipping_env: WorkflowEnvironment) -> None:
    payer = ScriptedPayer()
    today = await server_today(time_skipping_env)
    enc = encounter(today, 2)
    enc = enc.model_copy(update={"coverage": enc.coverage.model_copy(update={"member_id": INACTIVE_MEMBER})})
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, enc)
        snapshot = await until(handle, open_task("coverage_issue"), "coverage task")
        task = task_of(snapshot, "coverage_issue")
        assert "inactive" in task.reason
        new_coverage = Coverage(
            payer_id="SMPBCX", payer_name="Sandbox Blue Cross Commercial", member_id="BCX123456"
        )
        await handle.execute_update(
            ClaimWorkflow.resolve_task, resolution(task.id, Action.NEW_COVERAGE, coverage=new_coverage)
        )
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        await pay_cleanly(handle, enc)
        final = await finish(handle)
    assert final.state is ClaimState.CLOSED
    assert final.payer_id == "SMPBCX"
    assert payer.submissions[0].claim.encounter.coverage.member_id == "BCX123456"
    # the snapshot carries the encounter as the claim now bills it (the console and the KPIs read it)
    assert final.encounter is not None and final.encounter.coverage.member_id == "BCX123456"
    assert final.encounter.service_date == enc.service_date
    assert facts_of(final).service_date == enc.service_date  # what `claimflow demo` ages A/R from
    assert final.tasks[0].resolved_by == "biller@clinic"


async def test_a_self_pay_claim_has_no_timely_filing_deadline(time_skipping_env: WorkflowEnvironment) -> None:
    """Issue 19 item 7: with no payer to file with, the claim shows no filing deadline, in its state and
    in the TimelyFilingDeadline search attribute managers sort deadlines at risk by."""
    payer = ScriptedPayer()
    today = await server_today(time_skipping_env)
    enc = encounter(today, 2)
    enc = enc.model_copy(update={"coverage": enc.coverage.model_copy(update={"member_id": INACTIVE_MEMBER})})
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, enc)
        snapshot = await until(handle, open_task("coverage_issue"), "coverage task")
        assert snapshot.timely_filing_deadline is not None  # the payer's, until the patient pays alone
        task = task_of(snapshot, "coverage_issue")
        await handle.execute_update(ClaimWorkflow.resolve_task, resolution(task.id, Action.SELF_PAY))
        try:
            billed = await until(handle, in_state(ClaimState.PATIENT_BILLING), "patient billing")
            history = await handle.fetch_history()
        finally:
            await terminate_when_idle(time_skipping_env.client, handle)
    assert billed.timely_filing_deadline is None
    # The time-skipping server cannot describe an unset Datetime attribute: read what the claim upserted.
    upserts = [
        event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        for event in history.events
        if event.HasField("upsert_workflow_search_attributes_event_attributes")
    ]
    name = sa.TIMELY_FILING_DEADLINE.name
    deadlines = [fields[name].data for fields in upserts if name in fields]
    assert deadlines[0] and deadlines[-1] == b"", deadlines  # set from the payer, then unset
    assert not payer.submissions


async def test_coding_hold_released_by_coder(time_skipping_env: WorkflowEnvironment) -> None:
    payer = ScriptedPayer()
    today = await server_today(time_skipping_env)
    coded = encounter(today, 3)
    uncoded = coded.model_copy(update={"diagnoses": [], "service_lines": []})
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, uncoded)
        snapshot = await until(handle, open_task("coding"), "coding hold")
        task = task_of(snapshot, "coding")
        assert snapshot.state is ClaimState.CODING and not payer.submissions
        await handle.execute_update(
            ClaimWorkflow.resolve_task,
            resolution(task.id, Action.CODES, diagnoses=coded.diagnoses, service_lines=coded.service_lines),
        )
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        await pay_cleanly(handle, coded)
        final = await finish(handle)
    assert final.state is ClaimState.CLOSED
    assert payer.submissions[0].claim.encounter.service_lines == coded.service_lines
    assert final.billed == coded.total_charge


async def test_coding_sla_escalates_the_hold(time_skipping_env: WorkflowEnvironment) -> None:
    payer = ScriptedPayer()
    today = await server_today(time_skipping_env)
    uncoded = encounter(today, 4).model_copy(update={"diagnoses": [], "service_lines": []})
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, uncoded)
        await until(handle, open_task("coding"), "coding hold")
        await time_skipping_env.sleep(timedelta(days=4))  # SLA is 3 days
        snapshot = await until(
            handle, lambda s: task_of(s, "coding").assignee == "coding-supervisor", "escalated"
        )
        await stop(time_skipping_env.client, handle)
    assert task_of(snapshot, "coding").priority.name == "HIGH"


async def test_scrub_error_task_corrected_then_paid(time_skipping_env: WorkflowEnvironment) -> None:
    payer = ScriptedPayer()
    today = await server_today(time_skipping_env)
    good = encounter(today, 5)
    first = good.service_lines[0]
    bad = good.model_copy(
        update={"service_lines": [first.model_copy(update={"charge": Decimal("0")}), *good.service_lines[1:]]}
    )
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, bad)
        snapshot = await until(handle, open_task("scrub_failure"), "scrub task")
        task = task_of(snapshot, "scrub_failure")
        assert "charge" in task.reason and "CHG01" in task.details[0]
        await handle.execute_update(
            ClaimWorkflow.resolve_task, resolution(task.id, Action.CORRECT, encounter=good)
        )
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        await pay_cleanly(handle, good)
        final = await finish(handle)
    assert final.state is ClaimState.CLOSED
    assert payer.submissions[0].claim.encounter.service_lines[0].charge == first.charge


@pytest.mark.parametrize("rejected_by", ["999", "277CA"])
async def test_payer_rejection_corrected_resubmitted_paid(
    time_skipping_env: WorkflowEnvironment, rejected_by: str
) -> None:
    payer = ScriptedPayer()
    today = await server_today(time_skipping_env)
    enc = encounter(today, 6)
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, enc)
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        if rejected_by == "999":
            await handle.signal(ClaimWorkflow.payer_event, ack_999("R", ["NM1 at segment 12: error 8"]))
        else:
            await handle.signal(ClaimWorkflow.payer_event, ack_999())
            await handle.signal(
                ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id, category="A7", code="562")
            )
        snapshot = await until(handle, open_task("payer_rejection"), "rejection task")
        task = task_of(snapshot, "payer_rejection")
        assert rejected_by in task.reason
        await handle.execute_update(
            ClaimWorkflow.resolve_task, resolution(task.id, Action.CORRECT, encounter=enc)
        )
        await until(handle, lambda s: s.state is ClaimState.SUBMITTED and s.submissions == 2, "resubmitted")
        await pay_cleanly(handle, enc)
        final = await finish(handle)
    assert final.state is ClaimState.CLOSED and len(payer.submissions) == 2
    assert [s.attempt for s in payer.submissions] == [1, 2]


async def test_payer_silent_status_inquiries_then_no_response_task(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    payer = ScriptedPayer()
    today = await server_today(time_skipping_env)
    enc = encounter(today, 7)
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, enc)
        snapshot = await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        submitted_at = next(e.at for e in snapshot.timeline if e.step == "submit")
        await time_skipping_env.sleep(timedelta(days=50))
        snapshot = await until(handle, open_task("no_response"), "no_response task")
        task = task_of(snapshot, "no_response")
        await stop(time_skipping_env.client, handle)
    inquiries = [e.at for e in snapshot.timeline if e.step == "276"]
    # 1 day for the 999, 3 for the 277CA, 21 expected adjudication, then every 7 days (default profile).
    assert [round((at - submitted_at) / timedelta(days=1)) for at in inquiries] == [25, 32, 39]
    assert round((task.created_at - submitted_at) / timedelta(days=1)) == 46
    assert len(payer.inquiries) == 3


async def test_patient_balance_statement_reminder_then_settled(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    payer = ScriptedPayer()
    today = await server_today(time_skipping_env)
    enc = encounter(today, 8)
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, enc)
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        await pay_cleanly(handle, enc, patient_owes=Decimal("25.00"))
        snapshot = await until(handle, lambda s: len(s.documents) == 1, "first statement")
        assert snapshot.state is ClaimState.PATIENT_BILLING and snapshot.patient_responsibility == Decimal(
            "25.00"
        )
        billed_at = next(e.at for e in snapshot.timeline if "first statement" in e.outcome)
        await time_skipping_env.sleep(timedelta(days=31))
        snapshot = await until(handle, lambda s: len(s.documents) == 2, "reminder")
        reminder_at = next(e.at for e in snapshot.timeline if "reminder statement" in e.outcome)
        assert round((reminder_at - billed_at) / timedelta(days=1)) == 30
        claim_id = f"claim-{enc.encounter_id}"
        with pytest.raises(WorkflowUpdateFailedError) as too_much:
            await handle.execute_update(
                ClaimWorkflow.record_patient_payment,
                PatientPaymentRequest(claim_id=claim_id, amount=Decimal("25.01"), actor="front-desk"),
            )
        partly = await handle.execute_update(
            ClaimWorkflow.record_patient_payment,
            PatientPaymentRequest(
                claim_id=claim_id, amount=Decimal("10.00"), actor="front-desk", reference="R-1"
            ),
        )
        with pytest.raises(WorkflowUpdateFailedError) as twice:
            await handle.execute_update(
                ClaimWorkflow.record_patient_payment,
                PatientPaymentRequest(
                    claim_id=claim_id, amount=Decimal("10.00"), actor="front-desk", reference="R-1"
                ),
            )
        await handle.execute_update(
            ClaimWorkflow.record_patient_payment,
            PatientPaymentRequest(claim_id=claim_id, amount=Decimal("15.00"), actor="portal"),
        )
        final = await finish(handle)
    assert "at most the balance 25.00" in str(too_much.value.cause)
    assert partly.state is ClaimState.PATIENT_BILLING and partly.patient_paid == Decimal("10.00")
    assert "reference 'R-1' is recorded already" in str(twice.value.cause)
    assert final.state is ClaimState.CLOSED
    assert [s.notice for s in payer.statements] == ["first", "reminder"]
    assert final.patient_paid == Decimal("25.00")
    posted = [(p.amount, p.actor, p.claim.patient_control_number) for p in payer.patient_payments]
    assert posted == [
        (Decimal("10.00"), "front-desk", enc.encounter_id),
        (Decimal("15.00"), "portal", enc.encounter_id),
    ]
    assert payer.patient_payments[0].reference == "R-1" and payer.patient_payments[1].reference


async def test_invalid_resolution_rejected_and_state_unchanged(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    payer = ScriptedPayer()
    today = await server_today(time_skipping_env)
    uncoded = encounter(today, 9).model_copy(update={"diagnoses": [], "service_lines": []})
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, uncoded)
        before = await until(handle, open_task("coding"), "coding hold")
        task = task_of(before, "coding")
        with pytest.raises(WorkflowUpdateFailedError) as wrong_action:
            await handle.execute_update(
                ClaimWorkflow.resolve_task, resolution(task.id, Action.OVERRIDE, reason="just send it")
            )
        with pytest.raises(ValidationError, match=r"codes\.diagnoses"):
            resolution(task.id, Action.CODES)  # one model per action: `codes` carries its codes
        with pytest.raises(WorkflowUpdateFailedError) as no_codes:  # and a raw payload is refused too
            raw = {"task_id": task.id, "action": "codes", "actor": "b"}
            await handle.execute_update(ids.Update.RESOLVE_TASK, raw, result_type=Task)
        with pytest.raises(WorkflowUpdateFailedError) as unknown:
            await handle.execute_update(
                ClaimWorkflow.resolve_task, resolution("claim-x:9", Action.ACKNOWLEDGE)
            )
        after = await handle.query(ClaimWorkflow.state)
        await stop(time_skipping_env.client, handle)
    assert "does not resolve a coding task; use one of: codes" in str(wrong_action.value.cause)
    assert "Failed decoding arguments" in str(no_codes.value.cause)  # refused before any change
    assert "no task 'claim-x:9'" in str(unknown.value.cause)
    assert after == before
    assert TaskKind.CODING in {t.kind for t in after.open_tasks}
