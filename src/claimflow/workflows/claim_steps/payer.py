"""The claim at the payer: send the 837, wait for the 999 and the 277CA within their windows, and
for the 835 on the payer's clock, asking with 276 status inquiries when the payer is silent."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.requests import StatusRequest, SubmitRequest, submission_key
    from claimflow.claims.events import Ack999, ClaimAck277CA, Remittance835
    from claimflow.claims.lifecycle import ClaimState
    from claimflow.claims.tasks import Resubmit, TaskKind, WriteOff
    from claimflow.workflows.claim_steps import coordination
    from claimflow.workflows.claim_steps.context import ClaimContext, ClaimWrittenOff

RESERVED_INTERCHANGE = "reserved-interchange"
"""Patch: the workflow reserves the submission's control number (RESERVE_INTERCHANGE) first."""


async def submit(c: ClaimContext) -> str | None:
    """Send the 837. Returns why it could not be sent, if so."""
    record = c.record
    record.submissions += 1
    record.replacement_due = False  # this claim carries every earlier payer's latest adjudication
    # What the payer said of an earlier submission no longer applies; a late 835 still might.
    record.pending_events[:] = [e for e in record.pending_events if isinstance(e, Remittance835)]
    # The interchange's control number is chosen before the upload, so a retried upload re-sends
    # the same interchange (same ISA13, same time) and the clearinghouse recognises it.
    number = None
    if workflow.patched(RESERVED_INTERCHANGE):
        key = submission_key(record.encounter.encounter_id, record.submissions)
        number = await c.attempt(catalog.RESERVE_INTERCHANGE, key)
        if number is None:
            return f"no interchange control number could be reserved: {c.last_failure}"
    receipt = await c.attempt(
        catalog.SUBMIT_CLAIM,
        SubmitRequest(
            claim=c.claim(),
            attempt=record.submissions,
            submitted_at=workflow.now(),
            interchange_control_number=number,
        ),
    )
    if receipt is None:
        return f"the clearinghouse did not take the claim: {c.last_failure}"
    record.submitted_at = workflow.now()
    record.interchange_control_number = receipt.interchange_control_number
    c.set_state(
        ClaimState.SUBMITTED,
        "submit",
        f"837 submission {record.submissions} ({receipt.submission_id}), frequency {record.frequency.value}",
    )
    return None


async def await_acknowledgements(c: ClaimContext) -> str | None:
    """The 999 and the 277CA, each within its window. Returns why the claim was rejected, if so."""
    record, payer = c.record, c.payer
    ack = await c.next_event(Ack999, timedelta(hours=payer.ack_999_hours))
    if ack is None:
        c.note("999", f"none within {payer.ack_999_hours} h; waiting for the 277CA")
    elif ack.ack_status == "R":
        return "999 rejected the claim file: " + ("; ".join(ack.ack_errors) or "no detail given")
    else:
        record.ack_999_at = ack.received_at
        c.set_state(ClaimState.ACKNOWLEDGED, "999", f"accepted ({ack.ack_status})")
    claim_ack = await c.next_event(ClaimAck277CA, timedelta(days=payer.ack_277ca_days), also=Remittance835)
    if claim_ack is None:
        c.note("277CA", "none within the window; waiting for the remittance")
        return None
    status = claim_ack.claim_status
    if status.primary.rejected:
        return f"277CA rejected the claim: STC {status.primary.category}:{status.primary.code}"
    record.payer_claim_number = status.payer_claim_number or record.payer_claim_number
    record.accepted_on = claim_ack.received_at
    record.status_277ca = f"{status.primary.category}:{status.primary.code}"
    c.set_state(ClaimState.ACCEPTED, "277CA", f"accepted, payer claim {record.payer_claim_number}")
    return None


async def await_remittance(c: ClaimContext) -> Remittance835 | None:
    """The 835, on the payer's clock; silence past it calls for 276 status inquiries, then a
    no_response task. None when a person chose to resubmit."""
    record, payer = c.record, c.payer
    wait = timedelta(days=payer.expected_adjudication_days)
    inquiries = 0
    while True:
        event = await c.next_event(Remittance835, wait)
        if event is not None:
            late = coordination.earlier_payer_of(c, event)
            if late is None or not workflow.patched(coordination.LATE_FROM_EARLIER_PAYER):
                # (an earlier payer's late 835 carries that payer's claim number, not the billed one's)
                record.payer_claim_number = event.payment.payer_claim_number or record.payer_claim_number
            return event
        if inquiries < payer.status_inquiries_max:
            inquiries += 1
            await inquire_status(c, inquiries)
            wait = timedelta(days=payer.status_inquiry_every_days)
            continue
        resolution = await c.ask(
            TaskKind.NO_RESPONSE,
            f"no remittance after {inquiries} status inquiries",
            [f"submitted {record.submitted_at:%Y-%m-%d}" if record.submitted_at else "never submitted"],
        )
        if isinstance(resolution, Resubmit):
            return None
        if isinstance(resolution, WriteOff):
            raise ClaimWrittenOff(resolution.reason)
        inquiries = 0


async def inquire_status(c: ClaimContext, number: int) -> None:
    record = c.record
    status = await c.attempt(
        catalog.INQUIRE_CLAIM_STATUS,
        StatusRequest(
            claim=c.claim(),
            trace_number=c.trace(f"276-{record.submissions}-{number}"),
            payer_claim_number=record.payer_claim_number,
        ),
    )
    if status is None or not status.claims:
        c.note("276", f"inquiry {number}: no answer")
        return
    detail = status.claims[0]
    record.payer_claim_number = detail.payer_claim_number or record.payer_claim_number
    c.note("276", f"inquiry {number}: 277 {detail.primary.category}:{detail.primary.code}")
