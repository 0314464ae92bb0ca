"""From submission to a settled payer side: submit, follow the claim to its 835, and act on what
the 835 says (`claims/denials.py` classifies it): wait for more, appeal, rebill other coverage,
correct and resubmit, or write off."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.claims.claim import FrequencyCode
    from claimflow.claims.denials import DenialAction, DenialAssessment, classify
    from claimflow.claims.encounter import Coverage, Encounter
    from claimflow.claims.events import Remittance835
    from claimflow.claims.lifecycle import ClaimState, ClaimStep
    from claimflow.claims.tasks import Correct, NewCoverage, SelfPay, TaskKind, WriteOff
    from claimflow.workflows.claim_steps import coordination, intake, payer, underpayments
    from claimflow.workflows.claim_steps.appealing import appeal
    from claimflow.workflows.claim_steps.context import ClaimContext, ClaimWrittenOff
    from claimflow.workflows.claim_steps.posting import post


async def submit_until_paid(c: ClaimContext) -> None:
    """Submit, follow the claim through 999, 277CA and 835; correct and resubmit on rejection."""
    if c.record.self_pay:
        return
    while True:
        rejection = await payer.submit(c) or await payer.await_acknowledgements(c)
        if rejection is None:
            remittance = await payer.await_remittance(c)
            if remittance is None:
                continue  # a person chose to resubmit after payer silence
            if await settle(c, remittance):
                return
            continue  # a corrected or rebilled claim goes out
        resolution = await c.ask(TaskKind.PAYER_REJECTION, rejection, [rejection])
        if isinstance(resolution, Correct):
            c.apply_correction(resolution)
            await intake.scrub(c)


async def settle(c: ClaimContext, remittance: Remittance835) -> bool:
    """Post an 835 and act on what it says. True when nothing more is owed by the payer; False when
    a corrected or rebilled claim must go out."""
    record = c.record
    while True:
        late = coordination.earlier_payer_of(c, remittance)
        if late is not None and workflow.patched(coordination.LATE_FROM_EARLIER_PAYER):
            if not await coordination.post_late(c, remittance, late):
                return False  # the payer billed now gets the claim again, with the new adjudication
            if record.step is not ClaimStep.PAYER:
                return True  # closed: the payer billed now owes nothing more
            next_remittance = await payer.await_remittance(c)  # still the billed payer's 835 to come
            if next_remittance is None:
                return False
            remittance = next_remittance
            continue
        payment = await post(c, remittance)
        assessment = classify(payment, previous=record.last_payment)
        record.last_payment = payment
        c.note("835", assessment.summary)
        await underpayments.review(c, payment)
        if coordination.replace_when_numbered(c, payment):
            return False  # it decided on an earlier payer's old adjudication: the replacement goes out
        if assessment.action is DenialAction.BILL_OTHER_PAYER and await coordination.back_to_missing_decision(
            c, payment
        ):
            return False  # the payer whose decision the claim lacked is billed first
        match assessment.action:
            case DenialAction.REPOST | DenialAction.WAIT:
                # A reversal, or a claim the payer still reviews: the next 835 says the rest.
                c.set_state(ClaimState.ACCEPTED, "835", f"waiting for the payer: {assessment.summary}")
                next_remittance = await payer.await_remittance(c)
                if next_remittance is None:
                    return False
                remittance = next_remittance
            case DenialAction.APPEAL:
                return await appeal(c, remittance, assessment) or await correct_or_write_off(c, assessment)
            case DenialAction.BILL_OTHER_PAYER | DenialAction.VERIFY_COVERAGE:
                return await rebill_coverage(c, assessment)
            case DenialAction.BILL_PATIENT | DenialAction.NONE:
                c.set_state(
                    ClaimState.ADJUDICATED,
                    "835",
                    f"paid {payment.paid}, patient owes {assessment.patient_responsibility}",
                )
                position = coordination.following_payer(c, payment)
                if position is None:
                    return True
                if not await coordination.move_on(c, payment, position):
                    return False  # the next payer's claim goes out
                c.set_state(ClaimState.ACCEPTED, "835", "crossed over: waiting for the next payer's 835")
                next_remittance = await payer.await_remittance(c)
                if next_remittance is None:
                    return False
                remittance = next_remittance
            case _:
                return await correct_or_write_off(c, assessment)


async def correct_or_write_off(c: ClaimContext, assessment: DenialAssessment) -> bool:
    """A denial a person must correct (a replacement claim follows) or write off."""
    c.set_state(ClaimState.DENIED, "835", f"denied: {assessment.summary}")
    details = [
        f"{f.group.value}-{f.carc}: {f.carc_text}" + (f" ({f.needs})" if f.needs else "")
        for f in assessment.findings
        if f.at_stake
    ]
    resolution = await c.ask(TaskKind.DENIAL, assessment.summary, details or [assessment.summary])
    if isinstance(resolution, WriteOff):
        raise ClaimWrittenOff(resolution.reason)
    if isinstance(resolution, Correct):
        c.apply_correction(resolution)
    await replace_denied_claim(c)
    await intake.scrub(c)
    return False


async def replace_denied_claim(c: ClaimContext) -> None:
    """The corrected claim replaces the denied one (frequency 7), under the payer's number for it
    (REF*F8: the 835's CLP07 or the 277CA's REF*1K). When the payer named none (a secondary whose
    277CA never came and whose 835 left CLP07 out), a 276 asks for it; if the payer names none
    still, the claim goes as a new original, the only claim that can go without the number."""
    record = c.record
    if record.payer_claim_number or not workflow.patched(coordination.REBILL_BY_CLAIM_NUMBER):
        record.frequency = FrequencyCode.REPLACEMENT
        return
    record.frequency = FrequencyCode.ORIGINAL
    record.payer_claim_number = await coordination.claim_number_of_billed(c)
    if record.payer_claim_number:
        record.frequency = FrequencyCode.REPLACEMENT
        return
    c.note(
        "denial",
        f"{record.billed_coverage.payer_id} named no number for the denied claim (no 277CA, no CLP07, none "
        "in its 277): the corrected claim goes as a new original, since a replacement must name it (REF*F8)",
    )


async def rebill_coverage(c: ClaimContext, assessment: DenialAssessment) -> bool:
    """Wrong or ended coverage: a person gives the right coverage (a new original claim to that
    payer follows) or makes the patient self-pay."""
    record = c.record
    c.set_state(ClaimState.DENIED, "835", f"coverage denial: {assessment.summary}")
    resolution = await c.ask(TaskKind.COVERAGE_ISSUE, assessment.summary, [assessment.summary])
    if isinstance(resolution, SelfPay):
        record.patient_responsibility = record.encounter.total_charge - record.paid
        return True
    if isinstance(resolution, NewCoverage):
        record.encounter = _with_coverage(record.encounter, record.payer_position, resolution.coverage)
    record.frequency, record.payer_claim_number, record.last_payment = FrequencyCode.ORIGINAL, None, None
    await c.load_payer_profile()
    await intake.verify_eligibility(c)
    await intake.scrub(c)
    return False


def _with_coverage(encounter: Encounter, position: int, coverage: Coverage) -> Encounter:
    """The encounter with the coverage at `position` of its order replaced (the billed one)."""
    if position == 0:
        return encounter.model_copy(update={"coverage": coverage})
    others = list(encounter.other_coverages)
    others[position - 1] = coverage
    return encounter.model_copy(update={"other_coverages": others})
