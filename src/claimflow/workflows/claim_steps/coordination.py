"""Coordination of benefits: after a payer's 835, the claim goes to the next coverage in order, by
the payer's own crossover (MA18/N89 or CLP02 19-21: the next payer's 835 follows with no claim from
us) or by a claim we write with the earlier payers' adjudication (claims/coordination); the patient
is billed only what the last payer left. A secondary claim the payer denied for want of the
primary's adjudication (CO-22) goes back to the payer whose decision it lacked, and the claim to it
afterwards replaces the denied one (frequency 7: the payer reverses its denial). The denial's amounts
stay posted until that reversal takes them back."""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.requests import StatusRequest
    from claimflow.claims.claim import FrequencyCode
    from claimflow.claims.coordination import crossed_over, patient_remainder
    from claimflow.claims.events import Remittance835
    from claimflow.claims.lifecycle import PayerDecision
    from claimflow.claims.money import ZERO
    from claimflow.claims.remittance import AdjustmentGroup, ClaimPayment, ClaimStatusCode
    from claimflow.claims.tasks import TaskKind
    from claimflow.workflows.claim_steps.context import TASK_DUE_DAYS, ClaimContext
    from claimflow.workflows.claim_steps.posting import post

OTHER_PAYER_PRIMARY = "22"
LATE_FROM_EARLIER_PAYER = "late-835-from-earlier-payer"
"""Patch id: claims started before it took a late 835 from an earlier payer (its reversal or
re-adjudication after the claim moved on) as the billed payer's own."""
POSITION_OF_STATUS = {
    ClaimStatusCode.PRIMARY: 0,
    ClaimStatusCode.PRIMARY_FORWARDED: 0,
    ClaimStatusCode.SECONDARY: 1,
    ClaimStatusCode.SECONDARY_FORWARDED: 1,
    ClaimStatusCode.TERTIARY: 2,
    ClaimStatusCode.TERTIARY_FORWARDED: 2,
}
REBILL_BY_CLAIM_NUMBER = "rebill-next-payer-by-its-claim-number"
"""Patch id: claims started before it sent the next payer a second original claim (a duplicate,
CO-18) when an earlier payer re-adjudicated while that payer held the claim under a number
claimflow did not know."""
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


def earlier_payer_of(c: ClaimContext, remittance: Remittance835) -> PayerDecision | None:
    """The decision of the earlier payer a late 835 comes from, if it does: by the payer id the 835
    names (the payer billed now wins when both are the same payer), else by its CLP02 (1/19 processed
    as primary while the claim is at the secondary)."""
    record = c.record
    if record.payer_position == 0 or not record.decisions:
        return None
    earlier = [d for d in record.decisions if d.position < record.payer_position]
    sender = remittance.payer_id
    if sender is not None:
        if sender == record.billed_coverage.payer_id:
            return None
        return next((d for d in earlier if d.payer_id == sender), None)
    position = POSITION_OF_STATUS.get(remittance.payment.status)
    return next((d for d in earlier if d.position == position), None)


async def post_late(c: ClaimContext, remittance: Remittance835, decision: PayerDecision) -> bool:
    """Post a late 835 from an earlier payer against that payer's decision. True when the claim
    stands as it is; False when the next payer must be billed again with the changed adjudication (a
    replacement claim, frequency 7, when that payer has the claim already)."""
    record, payment = c.record, remittance.payment
    await post(c, remittance, earlier_payer=decision.payer_id)
    if payment.status is ClaimStatusCode.REVERSAL:
        c.note(
            "835",
            f"{decision.payer_id} reversed its payment {decision.payment.paid} after the claim moved on: "
            "waiting for its re-adjudication",
        )
        return True
    changed = payment.paid != decision.payment.paid or patient_remainder(payment) != patient_remainder(
        decision.payment
    )
    redecided = decision.model_copy(
        update={"payment": payment, "decided_on": remittance.payment_date or workflow.now().date()}
    )
    record.decisions = [redecided if d.position == decision.position else d for d in record.decisions]
    if not changed:
        c.note("835", f"{decision.payer_id} re-adjudicated the claim as before (paid {payment.paid})")
        return True
    following = decision.position + 1
    if following != record.payer_position:  # a later payer decided on it since: a person re-bills them
        c.board.open(
            TaskKind.DENIAL,
            f"{decision.payer_id} re-adjudicated (paid {payment.paid}, was {decision.payment.paid}) after "
            "later payers decided on its first decision",
            [f"send a replacement claim to each payer after {decision.payer_id} with its new adjudication"],
            due_at=workflow.now() + timedelta(days=TASK_DUE_DAYS),
            assignee="billing",
        )
        return True
    billed = record.billed_coverage.payer_id
    if workflow.patched(REBILL_BY_CLAIM_NUMBER) and not record.payer_claim_number:
        if crossed_over(payment):  # the payer forwards its new adjudication itself, as it did the first
            c.note(
                "coordination",
                f"{decision.payer_id} re-adjudicated (paid {payment.paid}, was {decision.payment.paid}) and "
                f"crosses it over to {billed} itself: waiting for {billed}'s 835",
            )
            return True
        if record.submitted_at is not None or crossed_over(decision.payment):
            # The payer holds the claim: a second original would be denied as a duplicate (CO-18),
            # and a replacement must name the claim it replaces (REF*F8).
            record.payer_claim_number = await claim_number_of_billed(c)
            if not record.payer_claim_number:
                record.replacement_due = True
                c.note(
                    "coordination",
                    f"{decision.payer_id} re-adjudicated (paid {payment.paid}, was {decision.payment.paid}); "
                    f"{billed} has the claim but named no claim number (no 277CA, none in its 277): the "
                    f"replacement goes once {billed}'s 835 names it (a second original would be denied "
                    "CO-18, duplicate)",
                )
                return True
    if record.payer_claim_number:  # the payer has the claim: this one replaces it
        record.frequency = FrequencyCode.REPLACEMENT
    c.note(
        "coordination",
        f"{decision.payer_id} re-adjudicated (paid {payment.paid}, was {decision.payment.paid}): billing "
        f"{billed} again with its new adjudication",
    )
    return False


async def claim_number_of_billed(c: ClaimContext) -> str | None:
    """The billed payer's number for the claim it holds, asked by a 276 status inquiry (the 277's
    REF*1K); None when it names none."""
    record = c.record
    status = await c.attempt(
        catalog.INQUIRE_CLAIM_STATUS,
        StatusRequest(claim=c.claim(), trace_number=c.trace(f"276-{record.submissions}-F8")),
    )
    number = (
        next((d.payer_claim_number for d in status.claims if d.payer_claim_number), None) if status else None
    )
    c.note("276", f"claim number of {record.billed_coverage.payer_id}: {number or 'none named'}")
    return number


def replace_when_numbered(c: ClaimContext, payment: ClaimPayment) -> bool:
    """The billed payer's 835 named the claim it holds while a replacement was due (an earlier payer
    re-adjudicated, `post_late`): send the replacement now, under that number. False when none is
    due, or this 835 is a reversal (its re-adjudication follows)."""
    record = c.record
    if not record.replacement_due or payment.status is ClaimStatusCode.REVERSAL:
        return False
    if not record.payer_claim_number:
        return False
    record.replacement_due = False
    record.frequency = FrequencyCode.REPLACEMENT
    c.note(
        "coordination",
        f"{record.billed_coverage.payer_id} decided claim {record.payer_claim_number} on the earlier "
        "adjudication: sending its replacement with the new one",
    )
    return True
