"""Coordination of benefits: after a payer's 835, the claim goes to the next coverage in order, by
the payer's own crossover (MA18/N89 or CLP02 19-21: the next payer's 835 follows with no claim from
us) or by a claim we write with the earlier payers' adjudication (claims/coordination); the patient
is billed only what the last payer left. A secondary claim the payer denied for want of the
primary's adjudication (CO-22) goes back to the payer whose decision it lacked, and the claim to it
afterwards replaces the denied one (frequency 7: the payer reverses its denial). The denial's amounts
stay posted until that reversal takes them back."""

from __future__ import annotations

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.claims.claim import FrequencyCode
    from claimflow.claims.coordination import crossed_over, patient_remainder
    from claimflow.claims.lifecycle import PayerDecision
    from claimflow.claims.money import ZERO
    from claimflow.claims.remittance import AdjustmentGroup, ClaimPayment, ClaimStatusCode
    from claimflow.workflows.claim_steps.context import ClaimContext

OTHER_PAYER_PRIMARY = "22"
FILING_PER_PAYER = "timely-filing-per-payer"
"""Patch id: claims started before it watched the primary's timely filing only; since, the payer
billed now has its own deadline, counted from the earlier payer's 835 date, and its own proof of
filing (the primary's 277CA acceptance proves nothing to the secondary)."""


def following_payer(c: ClaimContext, payment: ClaimPayment) -> int | None:
    """The position of the coverage the claim goes to next, if any: only while the patient was left
    something to pay."""
    record = c.record
    if record.payer_position + 1 >= len(record.encounter.coverages):
        return None
    if payment.status is ClaimStatusCode.REVERSAL or patient_remainder(payment) <= ZERO:
        return None
    return record.payer_position + 1


async def move_on(c: ClaimContext, payment: ClaimPayment, position: int) -> bool:
    """Keep this payer's decision and bill the coverage at `position` next. True when the payer
    crossed the claim over itself (wait for the next 835), False when claimflow must send the claim.
    What the patient was left and what this payer wrote off are restated by the next payer's 835."""
    record = c.record
    decided_on = record.remittance_date or workflow.now().date()
    record.decisions = [d for d in record.decisions if d.position != record.payer_position]
    record.decisions.append(
        PayerDecision(
            position=record.payer_position,
            payer_id=record.billed_coverage.payer_id,
            payment=payment,
            decided_on=decided_on,
        )
    )
    record.decisions.sort(key=lambda d: d.position)
    record.patient_responsibility -= payment.adjusted(AdjustmentGroup.PATIENT_RESPONSIBILITY)
    record.adjusted -= payment.adjusted() - payment.adjusted(AdjustmentGroup.PATIENT_RESPONSIBILITY)
    crossover = crossed_over(payment)
    previous = record.billed_coverage.payer_id
    record.payer_position = position
    record.frequency, record.payer_claim_number, record.last_payment = FrequencyCode.ORIGINAL, None, None
    if workflow.patched(FILING_PER_PAYER):
        filing_with_next_payer(c, decided_on)
    denied = record.denied_claim_numbers.get(position)
    if denied is not None and not crossover:  # it denied CO-22 before: this claim replaces that one
        record.frequency, record.payer_claim_number = FrequencyCode.REPLACEMENT, denied
    await c.load_payer_profile()
    nth = ("primary", "secondary", "tertiary")[position]
    payer_id = record.billed_coverage.payer_id
    if crossover:
        c.note(
            "coordination",
            f"{previous} crossed the claim over to the {nth} payer {payer_id}: its 835 follows",
        )
    else:
        c.note("coordination", f"billing the {nth} payer {payer_id} with {previous}'s adjudication")
    return crossover


async def back_to_missing_decision(c: ClaimContext, payment: ClaimPayment) -> bool:
    """A payer denied the claim as another payer's first (CO-22) while a decision it needs is
    missing: bill the earliest payer whose decision the claim lacks. False when that is not the case."""
    record = c.record
    reasons = {
        a.reason for a in payment.all_adjustments if a.group is not AdjustmentGroup.PATIENT_RESPONSIBILITY
    }
    if OTHER_PAYER_PRIMARY not in reasons or record.payer_position == 0:
        return False
    decided = {d.position for d in record.decisions}
    missing = next((p for p in range(record.payer_position) if p not in decided), None)
    if missing is None:
        return False
    denied_by = record.billed_coverage.payer_id
    if payment.payer_claim_number:  # the claim that payer gets next replaces the denied one
        record.denied_claim_numbers[record.payer_position] = payment.payer_claim_number
    record.payer_position = missing
    record.frequency, record.payer_claim_number, record.last_payment = FrequencyCode.ORIGINAL, None, None
    if workflow.patched(FILING_PER_PAYER):
        earlier = next((d.decided_on for d in record.decisions if d.position == missing - 1), None)
        filing_with_next_payer(c, earlier)
    await c.load_payer_profile()
    c.note(
        "coordination",
        f"{denied_by} denied CO-22 for want of an earlier payer's adjudication: billing "
        f"{record.billed_coverage.payer_id} first",
    )
    return True


def filing_with_next_payer(c: ClaimContext, counted_from: date | None) -> None:
    """The claim is filed anew with the payer now billed: its timely filing counts from the earlier
    payer's 835 date (`counted_from`; None: the date of service), and what proved filing with the
    earlier payer (submission, 999, 277CA acceptance) proves nothing to this one."""
    record = c.record
    record.filing_from = counted_from
    record.submitted_at = record.ack_999_at = record.accepted_on = None
    record.status_277ca, record.interchange_control_number = None, None


def crossed_over_to_billed(c: ClaimContext) -> bool:
    """The payer billed now received the claim from the earlier payer itself (a crossover): that
    payer filed it, so there is no deadline of ours to watch."""
    record = c.record
    earlier = next((d for d in record.decisions if d.position == record.payer_position - 1), None)
    return earlier is not None and crossed_over(earlier.payment)
