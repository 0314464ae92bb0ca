"""Timely filing with coordination of benefits (time-skipping server, scripted payer): once the
primary's 835 moves the claim on, the secondary's own limit counts from that 835's date; it is
published in TimelyFilingDeadline, and a secondary claim the secondary has not accepted near its
deadline escalates, though the primary accepted its claim long ago."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from decimal import Decimal

from temporalio.testing import WorkflowEnvironment

from claimflow.claims.events import Remittance835
from claimflow.claims.lifecycle import ClaimState
from claimflow.claims.payers import default_directory
from claimflow.claims.remittance import Adjustment, AdjustmentGroup, ClaimPayment, ClaimStatusCode
from claimflow.claims.tasks import Priority, Task, TaskKind
from claimflow.workflows import search_attributes as sa
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
from tests.workflows.test_coordination import MEDICAID


def primary_paid(pcn: str, charge: Decimal, paid_on: date) -> Remittance835:
    """The primary pays and leaves the patient 30.00 (coinsurance): the secondary is billed next."""
    patient, contractual = Decimal("30.00"), Decimal("20.00")
    payment = ClaimPayment(
        patient_control_number=pcn,
        status=ClaimStatusCode.PRIMARY,
        charge=charge,
        paid=charge - contractual - patient,
        payer_claim_number="HMO-77",
        adjustments=[
            Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason="45", amount=contractual),
            Adjustment(group=AdjustmentGroup.PATIENT_RESPONSIBILITY, reason="2", amount=patient),
        ],
    )
    return Remittance835(
        event_id=f"835-{uuid.uuid4().hex}",
        file_id="f835",
        received_at=now(),
        payment=payment,
        trace_number="T-HMO",
        payment_date=paid_on,
    )


def filing_risks(tasks: list[Task]) -> list[Task]:
    return [t for t in tasks if t.kind is TaskKind.TIMELY_FILING_RISK]


async def test_a_secondary_not_accepted_near_its_own_deadline_escalates(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env = time_skipping_env
    payer = ScriptedPayer()
    today = await server_today(env)
    visit = encounter(today, 41)
    seen_on = today - timedelta(days=20)
    enc = visit.model_copy(
        update={
            "other_coverages": [MEDICAID],
            "service_date": seen_on,
            "service_lines": [
                line.model_copy(update={"service_date": seen_on}) for line in visit.service_lines
            ],
        }
    )
    pcn = enc.encounter_id
    directory = default_directory()
    primary_limit = directory.profile_for(enc.coverage.payer_id, enc.coverage.filing_indicator)
    medicaid_limit = directory.profile_for(MEDICAID.payer_id, MEDICAID.filing_indicator).timely_filing_days
    secondary_deadline = today + timedelta(days=medicaid_limit)
    # counted from the date of service it would be 20 days earlier: the two must differ
    assert secondary_deadline != enc.service_date + timedelta(days=medicaid_limit)
    async with worker(env.client, payer):
        handle = await start(env.client, enc)
        try:
            await until(handle, in_state(ClaimState.SUBMITTED), "submitted to the primary")
            primary = await handle.query(ClaimWorkflow.state)
            assert primary.timely_filing_deadline == enc.service_date + timedelta(
                days=primary_limit.timely_filing_days
            )
            await handle.signal(ClaimWorkflow.payer_event, ack_999())
            await handle.signal(ClaimWorkflow.payer_event, ack_277ca(pcn, payer_claim="HMO-77"))
            await until(handle, in_state(ClaimState.ACCEPTED), "accepted by the primary")
            await handle.signal(ClaimWorkflow.payer_event, primary_paid(pcn, enc.total_charge, today))
            await until(handle, lambda s: len(payer.submissions) == 2, "billed the secondary")
            billed = await until(handle, in_state(ClaimState.SUBMITTED), "submitted to the secondary")
            assert billed.payer_id == MEDICAID.payer_id
            assert billed.timely_filing_deadline == secondary_deadline
            assert billed.accepted_on is None  # the primary's 277CA proves nothing to the secondary
            await handle.signal(ClaimWorkflow.payer_event, ack_999())  # never a 277CA from Medicaid
            # 30 days before the secondary's deadline: a first warning
            await env.sleep(timedelta(days=medicaid_limit - 29))
            warned = await until(handle, lambda s: bool(filing_risks(s.open_tasks)), "first warning")
            (first,) = filing_risks(warned.open_tasks)
            assert f"{secondary_deadline:%Y-%m-%d}" in first.reason and first.priority is Priority.NORMAL
            # a week before it: the urgent one replaces it
            await env.sleep(timedelta(days=23))
            urgent = await until(
                handle,
                lambda s: any(t.priority is Priority.URGENT for t in filing_risks(s.open_tasks)),
                "urgent warning",
            )
            (last,) = filing_risks(urgent.open_tasks)
            assert "7 days" in last.reason and f"{secondary_deadline:%Y-%m-%d}" in last.reason
            letters = [r for r in payer.filing_letters if r.deadline == secondary_deadline]
            assert letters and letters[-1].proof.submitted_at is not None
            assert letters[-1].claim.encounter.coverage == MEDICAID
            history = await handle.fetch_history()
        finally:
            await stop(env.client, handle)
    # what managers sort the deadlines at risk by: the primary's, then the secondary's own
    name = sa.TIMELY_FILING_DEADLINE.name
    published = [
        json.loads(fields[name].data)
        for event in history.events
        if event.HasField("upsert_workflow_search_attributes_event_attributes")
        for fields in [
            event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        ]
        if name in fields and fields[name].data
    ]
    assert published[0].startswith(f"{enc.service_date + timedelta(days=primary_limit.timely_filing_days)}")
    assert published[-1].startswith(f"{secondary_deadline}")
