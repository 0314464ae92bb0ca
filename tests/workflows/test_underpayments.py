"""Underpayment tasks in ClaimWorkflow (time-skipping server, scripted payer, the real contract check
on the shipped contracts): one task per line allowed below the contract, none at contract; a
reversal and re-adjudication restates the task, and one at the contract closes it as recovered;
each resolution (appeal with a letter, accept, correct the contract) is kept on the claim."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.encounter import ClaimFilingIndicator, Coverage, Encounter, ServiceLine
from claimflow.claims.events import PayerEvent, Remittance835
from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState, UnderpaymentStatus
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    ClaimPayment,
    ClaimStatusCode,
    ServicePayment,
)
from claimflow.claims.tasks import Accept, AppealUnderpayment, CorrectContract, TaskKind
from claimflow.workflows.claim import ClaimWorkflow
from tests.workflows.scripted import (
    ScriptedPayer,
    ack_277ca,
    ack_999,
    encounter,
    in_state,
    now,
    server_today,
    start,
    stop,
    until,
    worker,
)

HMO = Coverage(
    payer_id="SMPHMO",
    payer_name="Summit Health HMO",
    member_id="HMO12345678",
    filing_indicator=ClaimFilingIndicator.HMO,
)


def hmo_encounter(today: date, seed: int) -> Encounter:
    enc = encounter(today, seed)
    day = today - timedelta(days=20)
    lines = [
        ServiceLine(
            procedure_code="99213",
            units=Decimal(1),
            charge=Decimal("150.00"),
            diagnosis_pointers=[1],
            service_date=day,
        ),
        ServiceLine(
            procedure_code="36415",
            units=Decimal(1),
            charge=Decimal("20.00"),
            diagnosis_pointers=[1],
            service_date=day,
        ),
    ]
    return enc.model_copy(update={"coverage": HMO, "service_lines": lines, "service_date": day})


def line(code: str, charge: str, allowed: str, day: date, sign: int = 1) -> ServicePayment:
    c, a = Decimal(charge) * sign, Decimal(allowed) * sign
    return ServicePayment(
        procedure_code=code,
        charge=c,
        paid=a,
        units=Decimal(1),
        service_date=day,
        allowed_amount=None if sign < 0 else a,
        adjustments=[Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason="45", amount=c - a)],
    )


def remit(enc: Encounter, visit_allowed: str, *, reversal: bool = False) -> PayerEvent:
    """An 835 that allows 99213 at `visit_allowed` and 36415 at the contract (5.00), nothing left to
    the patient; or the reversal of such a payment."""
    sign = -1 if reversal else 1
    day = enc.service_lines[0].service_date
    lines = [line("99213", "150.00", visit_allowed, day, sign), line("36415", "20.00", "5.00", day, sign)]
    payment = ClaimPayment(
        patient_control_number=enc.encounter_id,
        status=ClaimStatusCode.REVERSAL if reversal else ClaimStatusCode.PRIMARY,
        charge=sum((item.charge for item in lines), Decimal("0.00")),
        paid=sum((item.paid for item in lines), Decimal("0.00")),
        patient_responsibility=Decimal("0.00"),
        payer_claim_number="PCN-1",
        service_lines=lines,
    )
    return Remittance835(
        event_id=f"835-{uuid.uuid4().hex}",
        file_id="f835",
        received_at=now(),
        payment=payment,
        trace_number=f"TRN-{uuid.uuid4().hex[:6]}",
        payer_id="SMPHMO",
    )


async def paid_at(
    handle: WorkflowHandle[ClaimWorkflow, ClaimSnapshot], enc: Encounter, allowed: str
) -> ClaimSnapshot:
    await handle.signal(ClaimWorkflow.payer_event, ack_999())
    await handle.signal(ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id))
    await until(handle, in_state(ClaimState.ACCEPTED), "accepted")
    await handle.signal(ClaimWorkflow.payer_event, remit(enc, allowed))
    return await until(handle, in_state(ClaimState.CLOSED), "closed")


def underpayment_tasks(snapshot: ClaimSnapshot) -> list[str]:
    return [t.id for t in snapshot.tasks if t.kind is TaskKind.UNDERPAYMENT]


async def readjudicate(
    handle: WorkflowHandle[ClaimWorkflow, ClaimSnapshot], enc: Encounter, before: str, after: str
) -> None:
    count = len((await handle.query(ClaimWorkflow.state)).timeline)
    await handle.signal(ClaimWorkflow.payer_event, remit(enc, before, reversal=True))
    await handle.signal(ClaimWorkflow.payer_event, remit(enc, after))
    await until(
        handle,
        lambda s: (
            s.state is ClaimState.CLOSED
            and len(s.timeline) > count
            and s.timeline[-1].outcome == "late remittance posted"
        ),
        "re-adjudicated",
    )


async def test_one_task_per_underpaid_line_restated_then_recovered(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    today = await server_today(time_skipping_env)
    enc = hmo_encounter(today, 11)
    async with worker(time_skipping_env.client, ScriptedPayer()):
        handle = await start(time_skipping_env.client, enc)
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        first = await paid_at(handle, enc, "112.00")
        (task_id,) = underpayment_tasks(first)
        (case,) = first.underpayments
        assert (case.finding.line_number, case.finding.expected, case.finding.shortfall) == (
            1,
            Decimal("118.00"),
            Decimal("6.00"),
        )
        task = next(t for t in first.tasks if t.id == task_id)
        assert "$6.00" in task.reason and any("$118.00 per unit" in d for d in task.details)

        await readjudicate(handle, enc, "112.00", "115.00")
        restated = await handle.query(ClaimWorkflow.state)
        assert underpayment_tasks(restated) == [task_id]
        task = next(t for t in restated.tasks if t.id == task_id)
        assert task.is_open and "$3.00" in task.reason
        assert restated.underpayments[0].recovered == Decimal("3.00")

        await readjudicate(handle, enc, "115.00", "118.00")
        recovered = await handle.query(ClaimWorkflow.state)
        assert underpayment_tasks(recovered) == [task_id]
        assert not next(t for t in recovered.tasks if t.id == task_id).is_open
        (case,) = recovered.underpayments
        assert case.status is UnderpaymentStatus.RECOVERED and case.recovered == Decimal("6.00")
        await stop(time_skipping_env.client, handle)


async def test_a_line_at_contract_opens_no_task(time_skipping_env: WorkflowEnvironment) -> None:
    today = await server_today(time_skipping_env)
    enc = hmo_encounter(today, 12)
    async with worker(time_skipping_env.client, ScriptedPayer()):
        handle = await start(time_skipping_env.client, enc)
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        closed = await paid_at(handle, enc, "118.00")
        assert not underpayment_tasks(closed) and not closed.underpayments
        await stop(time_skipping_env.client, handle)


async def test_appeal_accept_and_contract_correction(time_skipping_env: WorkflowEnvironment) -> None:
    today = await server_today(time_skipping_env)
    async with worker(time_skipping_env.client, ScriptedPayer()):
        outcomes = {}
        for seed, resolution in (
            (13, lambda task_id: AppealUnderpayment(task_id=task_id, actor="biller")),
            (14, lambda task_id: Accept(task_id=task_id, actor="biller", reason="small balance")),
            (
                15,
                lambda task_id: CorrectContract(
                    task_id=task_id, actor="biller", rate=Decimal("112.00"), reason="amendment not signed"
                ),
            ),
        ):
            enc = hmo_encounter(today, seed)
            handle = await start(time_skipping_env.client, enc)
            await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
            first = await paid_at(handle, enc, "112.00")
            (task_id,) = underpayment_tasks(first)
            await handle.execute_update(ClaimWorkflow.resolve_task, resolution(task_id))
            done = await until(
                handle,
                lambda s: s.underpayments[0].status is not UnderpaymentStatus.OPEN,
                "resolution applied",
            )
            outcomes[seed] = (handle, enc, done)
        appealed = outcomes[13][2].underpayments[0]
        assert appealed.status is UnderpaymentStatus.APPEALED and appealed.letter
        assert Path(appealed.letter).exists() and appealed.letter in outcomes[13][2].documents
        assert outcomes[14][2].underpayments[0].status is UnderpaymentStatus.ACCEPTED
        corrected = outcomes[15][2].underpayments[0]
        assert (
            corrected.status is UnderpaymentStatus.CONTRACT_CORRECTED
            and corrected.corrected_rate == Decimal("112.00")
        )
        # a re-adjudication at the corrected rate opens nothing new
        handle, enc, _ = outcomes[15]
        await readjudicate(handle, enc, "112.00", "112.00")
        again = await handle.query(ClaimWorkflow.state)
        assert len(underpayment_tasks(again)) == 1 and len(again.underpayments) == 1
        for handle, _, _ in outcomes.values():
            await stop(time_skipping_env.client, handle)
