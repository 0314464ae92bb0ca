"""A late 835 from an earlier payer (time-skipping server, scripted payer): the primary reverses and
re-adjudicates after the claim moved on to the secondary. It posts against the primary (its payer
id), replaces the primary's decision, and the secondary gets a replacement claim (frequency 7)
restating the new adjudication; the patient owes what the secondary then leaves."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from claimflow.activities import catalog
from claimflow.activities.requests import StatusRequest
from claimflow.claims.claim import FrequencyCode
from claimflow.claims.encounter import Encounter
from claimflow.claims.events import Remittance835
from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState
from claimflow.claims.other_payers import PayerResponsibility
from claimflow.claims.remittance import Adjustment, AdjustmentGroup, ClaimPayment, ClaimStatusCode
from claimflow.claims.responses import ClaimStatus, ClaimStatusDetail, StatusInfo
from claimflow.claims.tasks import Correct
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
from tests.workflows.test_coordination import MEDICAID

CO, PR, OA = AdjustmentGroup.CONTRACTUAL, AdjustmentGroup.PATIENT_RESPONSIBILITY, AdjustmentGroup.OTHER
D = Decimal


async def accepted_by_the_primary(handle: WorkflowHandle[ClaimWorkflow, ClaimSnapshot], pcn: str) -> None:
    """The claim submitted to the primary, its 999 and 277CA (claim HMO-77) in."""
    await until(handle, in_state(ClaimState.SUBMITTED), "submitted to the primary")
    await handle.signal(ClaimWorkflow.payer_event, ack_999())
    await handle.signal(ClaimWorkflow.payer_event, ack_277ca(pcn, payer_claim="HMO-77"))
    await until(handle, in_state(ClaimState.ACCEPTED), "accepted by the primary")


def remit(payer_id: str, payment: ClaimPayment, trace: str) -> Remittance835:
    return Remittance835(
        event_id=f"835-{uuid.uuid4().hex}",
        file_id=f"f835-{trace}",
        received_at=now(),
        payment=payment,
        trace_number=trace,
        payer_id=payer_id,
    )


def primary(pcn: str, charge: Decimal, paid: Decimal, patient: Decimal, *, sign: int = 1) -> ClaimPayment:
    """The primary's decision (CO-45 20.00), or with `sign` -1 its reversal (CLP02 22, negated)."""
    s = D(sign)
    return ClaimPayment(
        patient_control_number=pcn,
        status=ClaimStatusCode.PRIMARY if sign > 0 else ClaimStatusCode.REVERSAL,
        charge=s * charge,
        paid=s * paid,
        payer_claim_number="HMO-77",
        adjustments=[
            Adjustment(group=CO, reason="45", amount=s * (charge - paid - patient)),
            Adjustment(group=PR, reason="2", amount=s * patient),
        ],
    )


async def test_a_late_primary_readjudication_rebills_the_secondary(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    env = time_skipping_env
    payer = ScriptedPayer()
    today = await server_today(env)
    enc = encounter(today, 43).model_copy(update={"other_coverages": [MEDICAID]})
    pcn, charge, hmo = enc.encounter_id, enc.total_charge, enc.coverage.payer_id
    first_paid, first_patient = charge - D("50.00"), D("30.00")  # CO-45 20.00, PR-2 30.00
    new_paid, new_patient = charge - D("30.00"), D("10.00")  # re-adjudicated: PR-2 only 10.00
    async with worker(env.client, payer):
        handle = await start(env.client, enc)
        try:
            await accepted_by_the_primary(handle, pcn)
            await handle.signal(
                ClaimWorkflow.payer_event,
                remit(hmo, primary(pcn, charge, first_paid, first_patient), "HMO-1"),
            )
            await until(handle, lambda s: len(payer.submissions) == 2, "billed the secondary")
            await handle.signal(ClaimWorkflow.payer_event, ack_999())
            await handle.signal(ClaimWorkflow.payer_event, ack_277ca(pcn, payer_claim="MCD-1"))
            await until(handle, in_state(ClaimState.ACCEPTED), "accepted by the secondary")
            # the primary's late 835: a reversal and a re-adjudication in one file
            late = [
                primary(pcn, charge, first_paid, first_patient, sign=-1),
                primary(pcn, charge, new_paid, new_patient),
            ]
            for payment in late:
                await handle.signal(ClaimWorkflow.payer_event, remit(hmo, payment, "HMO-2"))
            await until(handle, lambda s: len(payer.submissions) == 3, "billed the secondary again")
            replacement = payer.submissions[2].claim
            assert replacement.responsibility is PayerResponsibility.SECONDARY
            assert replacement.encounter.coverage == MEDICAID
            assert replacement.frequency is FrequencyCode.REPLACEMENT
            assert replacement.original_claim_number == "MCD-1"
            (restated,) = replacement.earlier_payers
            assert restated.adjudication is not None and restated.adjudication.paid == new_paid
            assert [p.payer_id for p in payer.postings[1:3]] == [hmo, hmo]  # posted against the primary
            moved = await handle.query(ClaimWorkflow.state)
            assert moved.paid == new_paid and moved.payer_id == MEDICAID.payer_id
            assert moved.adjudications[0].payment.paid == new_paid
            await handle.signal(ClaimWorkflow.payer_event, ack_999())
            await handle.signal(ClaimWorkflow.payer_event, ack_277ca(pcn, payer_claim="MCD-2"))
            left = D("4.00")
            secondary = ClaimPayment(
                patient_control_number=pcn,
                status=ClaimStatusCode.SECONDARY,
                charge=charge,
                paid=new_patient - left,
                payer_claim_number="MCD-2",
                adjustments=[
                    Adjustment(group=OA, reason="23", amount=new_paid),
                    Adjustment(group=CO, reason="45", amount=D("20.00")),
                    Adjustment(group=PR, reason="2", amount=left),
                ],
            )
            await handle.signal(ClaimWorkflow.payer_event, remit(MEDICAID.payer_id, secondary, "MCD-9"))
            billed = await until(handle, in_state(ClaimState.PATIENT_BILLING), "patient billed")
        finally:
            await stop(env.client, handle)
    assert billed.patient_responsibility == left
    assert billed.paid == new_paid + new_patient - left
    assert billed.paid + billed.adjusted + billed.patient_responsibility == charge
    assert [d.payer_id for d in billed.adjudications] == [hmo, MEDICAID.payer_id]


def secondary_paid(
    pcn: str, charge: Decimal, earlier: Decimal, paid: Decimal, number: str, sign: int = 1
) -> ClaimPayment:
    """Medicaid pays what the primary left (`paid`, nothing left to the patient), or its reversal."""
    s = D(sign)
    return ClaimPayment(
        patient_control_number=pcn,
        status=ClaimStatusCode.SECONDARY if sign > 0 else ClaimStatusCode.REVERSAL,
        charge=s * charge,
        paid=s * paid,
        payer_claim_number=number,
        adjustments=[
            Adjustment(group=OA, reason="23", amount=s * earlier),
            Adjustment(group=CO, reason="45", amount=s * (charge - earlier - paid)),
        ],
    )


async def test_a_late_primary_readjudication_after_closing_replaces_the_secondary_claim(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The secondary paid and the claim closed; the primary then pays more: the secondary is sent a
    replacement of the claim it paid, and its reversal and new payment settle the claim again."""
    env = time_skipping_env
    payer = ScriptedPayer()
    today = await server_today(env)
    enc = encounter(today, 44).model_copy(update={"other_coverages": [MEDICAID]})
    pcn, charge, hmo, mcd = enc.encounter_id, enc.total_charge, enc.coverage.payer_id, MEDICAID.payer_id
    first_paid, new_paid = charge - D("50.00"), charge - D("30.00")
    async with worker(env.client, payer):
        handle = await start(env.client, enc)
        try:
            await accepted_by_the_primary(handle, pcn)
            await handle.signal(
                ClaimWorkflow.payer_event, remit(hmo, primary(pcn, charge, first_paid, D("30.00")), "HMO-1")
            )
            await until(handle, lambda s: len(payer.submissions) == 2, "billed the secondary")
            await handle.signal(ClaimWorkflow.payer_event, ack_999())
            await handle.signal(ClaimWorkflow.payer_event, ack_277ca(pcn, payer_claim="MCD-1"))
            paid_first = secondary_paid(pcn, charge, first_paid, D("30.00"), "MCD-1")
            await handle.signal(ClaimWorkflow.payer_event, remit(mcd, paid_first, "MCD-8"))
            closed = await until(handle, in_state(ClaimState.CLOSED), "closed after the secondary")
            assert closed.paid == charge - D("20.00") and closed.patient_responsibility == 0
            for payment in (
                primary(pcn, charge, first_paid, D("30.00"), sign=-1),
                primary(pcn, charge, new_paid, D("10.00")),
            ):
                await handle.signal(ClaimWorkflow.payer_event, remit(hmo, payment, "HMO-2"))
            await until(handle, lambda s: len(payer.submissions) == 3, "replacement to the secondary")
            replacement = payer.submissions[2].claim
            assert replacement.frequency is FrequencyCode.REPLACEMENT
            assert replacement.original_claim_number == "MCD-1"
            assert replacement.encounter.coverage == MEDICAID
            (restated,) = replacement.earlier_payers
            assert restated.adjudication is not None and restated.adjudication.paid == new_paid
            await handle.signal(ClaimWorkflow.payer_event, ack_999())
            await handle.signal(ClaimWorkflow.payer_event, ack_277ca(pcn, payer_claim="MCD-1"))
            for payment in (
                secondary_paid(pcn, charge, first_paid, D("30.00"), "MCD-1", sign=-1),
                secondary_paid(pcn, charge, new_paid, D("10.00"), "MCD-1"),
            ):
                await handle.signal(ClaimWorkflow.payer_event, remit(mcd, payment, "MCD-9"))
            final = await until(
                handle,
                lambda s: s.state is ClaimState.CLOSED and len(payer.postings) == 6,
                "closed again after the secondary's reversal and new payment",
            )
        finally:
            await stop(env.client, handle)
    assert final.paid == new_paid + D("10.00")
    assert final.patient_responsibility == 0
    assert final.paid + final.adjusted + final.patient_responsibility == charge
    assert [d.payment.paid for d in final.adjudications] == [new_paid, D("10.00")]
    assert [p.payer_id for p in payer.postings] == [hmo, mcd, hmo, hmo, mcd, mcd]


@dataclass
class NumberingPayer(ScriptedPayer):
    """A payer whose 277 answer to a status inquiry names its claim number (REF*1K), or not."""

    claim_number: str | None = None

    @activity.defn(name=catalog.INQUIRE_CLAIM_STATUS.name)
    async def inquire_claim_status(self, request: StatusRequest) -> ClaimStatus:
        self.inquiries.append(request)
        detail = ClaimStatusDetail(
            patient_control_number=request.claim.patient_control_number,
            payer_claim_number=self.claim_number,
            statuses=[StatusInfo(category="P1", code="20")],
        )
        return ClaimStatus(trace_number=request.trace_number, claims=[detail])


async def _secondary_holds_the_claim_unnumbered(
    env: WorkflowEnvironment, payer: ScriptedPayer, seed: int
) -> tuple[WorkflowHandle[ClaimWorkflow, ClaimSnapshot], Encounter, Decimal, Decimal]:
    """Primary paid, the secondary billed and its 999 in, but no 277CA: the secondary has the claim
    and claimflow does not know its number. Then the primary reverses and re-adjudicates (pays more,
    leaves the patient less). Returns the primary's first and new payments."""
    today = await server_today(env)
    enc = encounter(today, seed).model_copy(update={"other_coverages": [MEDICAID]})
    pcn, charge, hmo = enc.encounter_id, enc.total_charge, enc.coverage.payer_id
    fifth = (charge / 5).quantize(D("0.01"))
    first_paid, new_paid = charge - 2 * fifth, charge - fifth - fifth / 2  # CO-45 one fifth each time
    handle = await start(env.client, enc)
    await accepted_by_the_primary(handle, pcn)
    first = primary(pcn, charge, first_paid, fifth)
    await handle.signal(ClaimWorkflow.payer_event, remit(hmo, first, "HMO-1"))
    await until(handle, lambda s: len(payer.submissions) == 2, "billed the secondary")
    await handle.signal(ClaimWorkflow.payer_event, ack_999())
    await until(handle, in_state(ClaimState.ACKNOWLEDGED), "the secondary's 999")
    for payment in (
        primary(pcn, charge, first_paid, fifth, sign=-1),
        primary(pcn, charge, new_paid, fifth / 2),
    ):
        await handle.signal(ClaimWorkflow.payer_event, remit(hmo, payment, "HMO-2"))
    return handle, enc, first_paid, new_paid


async def test_a_readjudication_replaces_the_secondary_claim_by_the_number_a_276_finds(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """A second original to a payer that has the claim is a duplicate (CO-18): the claim asks the
    secondary for its claim number (276) and sends the replacement under it (frequency 7, REF*F8)."""
    payer = NumberingPayer(claim_number="MCD-1")
    async with worker(time_skipping_env.client, payer):
        handle, _, _, new_paid = await _secondary_holds_the_claim_unnumbered(time_skipping_env, payer, 47)
        try:
            await until(handle, lambda s: len(payer.submissions) == 3, "billed the secondary again")
        finally:
            await stop(time_skipping_env.client, handle)
    replacement = payer.submissions[2].claim
    assert replacement.encounter.coverage == MEDICAID
    assert (replacement.frequency, replacement.original_claim_number) == (FrequencyCode.REPLACEMENT, "MCD-1")
    (restated,) = replacement.earlier_payers
    assert restated.adjudication is not None and restated.adjudication.paid == new_paid
    assert len(payer.inquiries) == 1


async def test_a_readjudication_waits_for_the_secondary_claim_number_before_replacing_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The 276 finds no number either: nothing is sent (an original would be a duplicate) until the
    secondary's 835 on the claim it has names it; then the replacement restates the new primary
    adjudication under that number."""
    env = time_skipping_env
    payer = NumberingPayer(claim_number=None)
    async with worker(env.client, payer):
        handle, enc, first_paid, new_paid = await _secondary_holds_the_claim_unnumbered(env, payer, 48)
        try:
            pcn, charge = enc.encounter_id, enc.total_charge
            waiting = await until(handle, lambda s: len(payer.postings) == 3, "the late 835 posted")
            await until(handle, lambda s: any("CO-18" in e.outcome for e in s.timeline), "the reason noted")
            assert len(payer.submissions) == 2 and len(payer.inquiries) == 1, waiting.timeline[-4:]
            stale = secondary_paid(pcn, charge, first_paid, (charge / 5).quantize(D("0.01")), "MCD-1")
            await handle.signal(ClaimWorkflow.payer_event, remit(MEDICAID.payer_id, stale, "MCD-8"))
            await until(handle, lambda s: len(payer.submissions) == 3, "replacement to the secondary")
            moved = await handle.query(ClaimWorkflow.state)
        finally:
            await stop(env.client, handle)
    replacement = payer.submissions[2].claim
    assert (replacement.frequency, replacement.original_claim_number) == (FrequencyCode.REPLACEMENT, "MCD-1")
    (restated,) = replacement.earlier_payers
    assert restated.adjudication is not None and restated.adjudication.paid == new_paid
    assert moved.state is ClaimState.SUBMITTED and moved.payer_id == MEDICAID.payer_id


async def test_a_corrected_secondary_claim_replaces_the_denied_one_by_the_number_a_276_finds(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The secondary denies CO-4 in an 835 without CLP07, and no 277CA ever named its claim: the
    corrected claim is a replacement under the number its 277 gives (before, the claim's workflow
    failed building a frequency 7 claim without REF*F8, and nothing was sent)."""
    env = time_skipping_env
    payer = NumberingPayer(claim_number="MCD-5")
    today = await server_today(env)
    enc = encounter(today, 49).model_copy(update={"other_coverages": [MEDICAID]})
    pcn, charge, hmo = enc.encounter_id, enc.total_charge, enc.coverage.payer_id
    fifth = (charge / 5).quantize(D("0.01"))
    async with worker(env.client, payer):
        handle = await start(env.client, enc)
        try:
            await accepted_by_the_primary(handle, pcn)
            paid = primary(pcn, charge, charge - 2 * fifth, fifth)
            await handle.signal(ClaimWorkflow.payer_event, remit(hmo, paid, "HMO-1"))
            await until(handle, lambda s: len(payer.submissions) == 2, "billed the secondary")
            await handle.signal(ClaimWorkflow.payer_event, ack_999())
            denied = ClaimPayment(
                patient_control_number=pcn,
                status=ClaimStatusCode.DENIED,
                charge=charge,
                paid=D("0.00"),
                adjustments=[
                    Adjustment(group=OA, reason="23", amount=charge - 2 * fifth),
                    Adjustment(group=CO, reason="4", amount=2 * fifth),
                ],
            )
            await handle.signal(ClaimWorkflow.payer_event, remit(MEDICAID.payer_id, denied, "MCD-8"))
            snapshot = await until(handle, open_task("denial"), "denial task")
            await handle.execute_update(
                ClaimWorkflow.resolve_task,
                Correct(task_id=task_of(snapshot, "denial").id, actor="biller", encounter=enc),
            )
            await until(handle, lambda s: len(payer.submissions) == 3, "corrected claim to the secondary")
        finally:
            await stop(env.client, handle)
    corrected = payer.submissions[2].claim
    assert corrected.encounter.coverage == MEDICAID
    assert (corrected.frequency, corrected.original_claim_number) == (FrequencyCode.REPLACEMENT, "MCD-5")
