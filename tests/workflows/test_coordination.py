"""Coordination of benefits in ClaimWorkflow (time-skipping server, scripted payer): the claim to the
secondary restates the primary's 835; a coverage denial from the secondary replaces the secondary
coverage, not the primary; the patient owes what the last payer left."""

from __future__ import annotations

import uuid
from decimal import Decimal

from temporalio.testing import WorkflowEnvironment

from claimflow.claims.encounter import ClaimFilingIndicator, Coverage
from claimflow.claims.events import Remittance835
from claimflow.claims.lifecycle import ClaimState
from claimflow.claims.other_payers import PayerResponsibility
from claimflow.claims.remittance import Adjustment, AdjustmentGroup, ClaimPayment, ClaimStatusCode
from claimflow.claims.tasks import NewCoverage
from claimflow.workflows.claim import ClaimWorkflow
from tests.workflows.scripted import (
    ScriptedPayer,
    ack_277ca,
    ack_999,
    encounter,
    in_state,
    now,
    open_task,
    server_today,
    start,
    stop,
    task_of,
    until,
    worker,
)

MEDICAID = Coverage(
    payer_id="SMPMCD",
    payer_name="Sandbox State Medicaid",
    member_id="MCD12345678",
    filing_indicator=ClaimFilingIndicator.MEDICAID,
)
MEDICAID_NEW = MEDICAID.model_copy(update={"member_id": "MCD87654321"})


def remit(
    pcn: str, status: ClaimStatusCode, charge: Decimal, paid: Decimal, adjustments: list[Adjustment]
) -> Remittance835:
    payment = ClaimPayment(
        patient_control_number=pcn,
        status=status,
        charge=charge,
        paid=paid,
        payer_claim_number=f"PCN-{uuid.uuid4().hex[:6]}",
        adjustments=adjustments,
    )
    return Remittance835(
        event_id=f"835-{uuid.uuid4().hex}",
        file_id="f835",
        received_at=now(),
        payment=payment,
        trace_number="T1",
    )


async def test_secondary_claim_restates_the_primary_and_a_coverage_denial_replaces_the_secondary(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    payer = ScriptedPayer()
    today = await server_today(time_skipping_env)
    enc = encounter(today, 31).model_copy(update={"other_coverages": [MEDICAID]})
    pcn, charge = enc.encounter_id, enc.total_charge
    co, pr = AdjustmentGroup.CONTRACTUAL, AdjustmentGroup.PATIENT_RESPONSIBILITY
    async with worker(time_skipping_env.client, payer):
        handle = await start(time_skipping_env.client, enc)
        await until(handle, in_state(ClaimState.SUBMITTED), "submitted")
        first_claim = payer.submissions[0].claim
        assert first_claim.responsibility is PayerResponsibility.PRIMARY
        assert [p.coverage.payer_id for p in first_claim.other_payers] == ["SMPMCD"]
        await handle.signal(ClaimWorkflow.payer_event, ack_999())
        await handle.signal(ClaimWorkflow.payer_event, ack_277ca(pcn))
        await until(handle, in_state(ClaimState.ACCEPTED), "accepted")
        contractual, patient = Decimal("20.00"), Decimal("30.00")
        primary_paid = charge - contractual - patient
        await handle.signal(
            ClaimWorkflow.payer_event,
            remit(
                pcn,
                ClaimStatusCode.PRIMARY,
                charge,
                primary_paid,
                [
                    Adjustment(group=co, reason="45", amount=contractual),
                    Adjustment(group=pr, reason="2", amount=patient),
                ],
            ),
        )
        await until(handle, lambda s: len(payer.submissions) == 2, "billed the secondary")
        second_claim = payer.submissions[1].claim
        assert second_claim.responsibility is PayerResponsibility.SECONDARY
        assert second_claim.encounter.coverage == MEDICAID
        (primary,) = second_claim.earlier_payers
        assert primary.adjudication is not None and primary.adjudication.paid == primary_paid
        await handle.signal(ClaimWorkflow.payer_event, ack_999())
        await handle.signal(ClaimWorkflow.payer_event, ack_277ca(pcn, payer_claim="MCD-1"))
        # the secondary says the member's coverage ended: a person gives the right Medicaid id
        await handle.signal(
            ClaimWorkflow.payer_event,
            remit(
                pcn,
                ClaimStatusCode.DENIED,
                charge,
                Decimal("0.00"),
                [Adjustment(group=co, reason="27", amount=charge)],
            ),
        )
        snapshot = await until(handle, open_task("coverage_issue"), "coverage task")
        task = task_of(snapshot, "coverage_issue")
        await handle.execute_update(
            ClaimWorkflow.resolve_task, NewCoverage(task_id=task.id, actor="biller", coverage=MEDICAID_NEW)
        )
        await until(handle, lambda s: len(payer.submissions) == 3, "billed the corrected secondary")
        third = payer.submissions[2].claim
        assert (
            third.encounter.coverage == MEDICAID_NEW and third.responsibility is PayerResponsibility.SECONDARY
        )
        assert [p.coverage for p in third.other_payers] == [enc.coverage]
        await handle.signal(ClaimWorkflow.payer_event, ack_999())
        await handle.signal(ClaimWorkflow.payer_event, ack_277ca(pcn, payer_claim="MCD-2"))
        left = Decimal("4.00")
        await handle.signal(
            ClaimWorkflow.payer_event,
            remit(
                pcn,
                ClaimStatusCode.SECONDARY,
                charge,
                patient - left,
                [
                    Adjustment(group=AdjustmentGroup.OTHER, reason="23", amount=primary_paid),
                    Adjustment(group=co, reason="45", amount=contractual),
                    Adjustment(group=pr, reason="3", amount=left),
                ],
            ),
        )
        billed = await until(handle, in_state(ClaimState.PATIENT_BILLING), "patient billed")
        assert billed.patient_responsibility == left
        assert billed.paid == charge - contractual - left
        # the secondary's OA-23 is the primary's payment, counted once; its CO-27 denial stays adjusted
        # until recovered (as for any denied claim), so only its CO-45 is added to it
        assert billed.adjusted == charge + contractual
        assert [d.payer_id for d in billed.adjudications] == [enc.coverage.payer_id, "SMPMCD"]
        await stop(time_skipping_env.client, handle)
