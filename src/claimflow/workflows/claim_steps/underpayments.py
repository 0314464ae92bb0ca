"""Underpayments: each posted 835 is checked against the payer's contract (an activity over
claims/underpayment). Every line allowed below the contract has one underpayment task, opened the
first time and restated when a reversal and re-adjudication change the line; a line the payer now
allows at the contract closes its task as recovered. The claim does not wait on these tasks: a
watch beside the lifecycle acts on each resolution (appeal: a letter stating the contract rate;
accept; correct the contract: later 835s are checked against the corrected rate)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.activities import catalog
    from claimflow.activities.underpayment_requests import UnderpaymentLetterRequest, UnderpaymentRequest
    from claimflow.claims.coordination import match_lines
    from claimflow.claims.lifecycle import UnderpaymentCase, UnderpaymentStatus
    from claimflow.claims.money import ZERO
    from claimflow.claims.remittance import ClaimPayment, ClaimStatusCode
    from claimflow.claims.tasks import Accept, AppealUnderpayment, CorrectContract, Priority, TaskKind
    from claimflow.claims.underpayment import Underpayment, line_allowed
    from claimflow.workflows.claim_steps.context import ClaimContext

UNDERPAYMENT_DUE_DAYS = 14
UNDERPAYMENT_CHECK = "underpayment-check"
"""Patch id: claims started before it posted 835s without checking them against the contract."""
ACTIVE = frozenset({UnderpaymentStatus.OPEN, UnderpaymentStatus.APPEALED})


def _reason(finding: Underpayment) -> str:
    return f"underpaid ${finding.shortfall} against the contract: {finding.summary()}"


def _details(finding: Underpayment) -> list[str]:
    return [
        f"contract: {finding.contract_line}",
        f"expected ${finding.expected}, allowed ${finding.allowed}, paid ${finding.paid}",
        "appeal (a letter stating the contract rate), accept the payment, or correct the contract rate",
    ]


async def review(c: ClaimContext, payment: ClaimPayment) -> None:
    """Compare the billed payer's 835 with its contract; open, restate or close the line's task."""
    record = c.record
    if not workflow.patched(UNDERPAYMENT_CHECK):
        return
    if payment.status is ClaimStatusCode.REVERSAL:
        return  # the re-adjudication that follows is compared
    payer_id = record.billed_coverage.payer_id
    mine = [case for case in record.underpayments if case.finding.payer_id == payer_id]
    corrected = {
        case.finding.line_number: case.corrected_rate for case in mine if case.corrected_rate is not None
    }
    claim = c.claim()
    checked = await c.attempt(
        catalog.FIND_UNDERPAYMENTS,
        UnderpaymentRequest(claim=claim, payment=payment, payer_id=payer_id, corrected_rates=corrected),
    )
    if checked is None:
        c.note("underpayment", f"not checked against the contract: {c.last_failure}")
        return
    if not checked.has_contract:
        return
    found = {f.line_number: f for f in checked.findings}
    allowed_now = {
        number: line_allowed(line) or ZERO for number, line in match_lines(claim, payment.service_lines)
    }
    for case in mine:
        number = case.finding.line_number
        finding = found.pop(number, None)
        allowed = allowed_now.get(number, case.finding.allowed)
        recovered = max(ZERO, allowed - case.first_allowed)
        index = record.underpayments.index(case)
        if finding is None:
            if case.status in ACTIVE:
                record.underpayments[index] = case.model_copy(
                    update={"status": UnderpaymentStatus.RECOVERED, "recovered": recovered}
                )
                task = c.board.get(case.task_id)
                if task.is_open:
                    c.board.close_unresolved(
                        case.task_id,
                        f"underpayment {case.task_id} closed: line {number} now allowed at contract",
                    )
            continue
        record.underpayments[index] = case.model_copy(update={"finding": finding, "recovered": recovered})
        if finding != case.finding and c.board.get(case.task_id).is_open:
            c.board.revise(
                case.task_id,
                _reason(finding),
                _details(finding),
                f"underpayment {case.task_id} restated by the re-adjudication: short ${finding.shortfall}",
            )
    for finding in found.values():
        task = c.board.open(
            TaskKind.UNDERPAYMENT,
            _reason(finding),
            _details(finding),
            due_at=workflow.now() + timedelta(days=UNDERPAYMENT_DUE_DAYS),
            priority=Priority.NORMAL,
            assignee="billing",
        )
        record.underpayments.append(
            UnderpaymentCase(finding=finding, task_id=task.id, first_allowed=finding.allowed)
        )


async def watch_underpayments(c: ClaimContext) -> None:
    """Act on each underpayment task a person resolves, while the claim lives."""
    record = c.record
    while True:
        while (case := _resolved_case(c)) is None:
            await workflow.wait_condition(lambda: _resolved_case(c) is not None)
        resolution = c.board.get(case.task_id).resolution
        index = record.underpayments.index(case)
        if isinstance(resolution, AppealUnderpayment):
            letter = await c.attempt(
                catalog.WRITE_UNDERPAYMENT_LETTER,
                UnderpaymentLetterRequest(
                    claim=c.claim(),
                    payment=_payment_of(c, case),
                    findings=[case.finding],
                    letter_date=workflow.now().date(),
                    remittance_date=record.remittance_date,
                    task_id=case.task_id,
                ),
            )
            if letter:
                record.documents.append(letter)
            c.note(
                "underpayment", f"line {case.finding.line_number} appealed: letter {letter or 'not written'}"
            )
            update: dict[str, object] = {"status": UnderpaymentStatus.APPEALED, "letter": letter or None}
        elif isinstance(resolution, CorrectContract):
            c.note(
                "underpayment",
                f"line {case.finding.line_number}: contract rate corrected to ${resolution.rate}",
            )
            update = {"status": UnderpaymentStatus.CONTRACT_CORRECTED, "corrected_rate": resolution.rate}
        elif isinstance(resolution, Accept):
            c.note("underpayment", f"line {case.finding.line_number}: payment accepted")
            update = {"status": UnderpaymentStatus.ACCEPTED}
        else:  # closed by claimflow (recovered) while we looked
            update = {"status": UnderpaymentStatus.RECOVERED}
        record.underpayments[index] = record.underpayments[index].model_copy(update=update)


def _resolved_case(c: ClaimContext) -> UnderpaymentCase | None:
    """An open case whose task a person resolved."""
    for case in c.record.underpayments:
        if case.status is UnderpaymentStatus.OPEN:
            task = c.board.get(case.task_id)
            if not task.is_open and task.resolution is not None:
                return case
    return None


def _payment_of(c: ClaimContext, case: UnderpaymentCase) -> ClaimPayment:
    """The 835 claim payment of the payer that underpaid: the billed payer's latest, or an earlier
    payer's decision once the claim moved on."""
    record = c.record
    if record.last_payment is not None and record.billed_coverage.payer_id == case.finding.payer_id:
        return record.last_payment
    decision = next(d for d in record.decisions if d.payer_id == case.finding.payer_id)
    return decision.payment
