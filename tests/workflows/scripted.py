"""A scripted payer: activities under the real names, answering as a test's scenario says."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from claimflow.activities import catalog
from claimflow.activities.requests import (
    EligibilityRequest,
    Issue,
    PatientPaymentPosting,
    PostingOutcome,
    PostingRequest,
    ScrubOutcome,
    ScrubRequest,
    StatementRequest,
    StatusRequest,
    SubmitReceipt,
    SubmitRequest,
    TimelyFilingLetterRequest,
)
from claimflow.activities.underpayments import UnderpaymentActivities
from claimflow.claims.codesets import default_codesets
from claimflow.claims.encounter import Coverage, Encounter, ServiceLine
from claimflow.claims.events import Ack999, ClaimAck277CA, PayerEvent, Remittance835
from claimflow.claims.ids import CLAIM_PREFIX, appeal_workflow_id, claim_workflow_id
from claimflow.claims.lifecycle import ClaimInput, ClaimSnapshot, ClaimState
from claimflow.claims.money import ZERO
from claimflow.claims.payers import PayerProfile, default_directory
from claimflow.claims.remittance import (
    Adjustment,
    AdjustmentGroup,
    ClaimPayment,
    ClaimStatusCode,
    ServicePayment,
)
from claimflow.claims.responses import ClaimStatus, ClaimStatusDetail, EligibilityResult, StatusInfo
from claimflow.claims.scrub import Severity
from claimflow.claims.scrub.context import Context
from claimflow.claims.scrub.rules import parties
from claimflow.claims.tasks import Task
from claimflow.workers.worker import WORKFLOWS
from claimflow.workflows.claim import ClaimWorkflow
from tests.appeals.scripted import ScriptedAppeals
from tests.factories import ClaimFactory

TASK_QUEUE = "claim-tests"
INACTIVE_MEMBER = "INACTIVE0001"


@dataclass
class ScriptedPayer:
    """Records what the workflow asked for; eligibility and scrub answers follow simple rules."""

    submissions: list[SubmitRequest] = field(default_factory=list)
    reservations: dict[str, int] = field(default_factory=dict)
    inquiries: list[StatusRequest] = field(default_factory=list)
    statements: list[StatementRequest] = field(default_factory=list)
    postings: list[PostingRequest] = field(default_factory=list)
    filing_letters: list[TimelyFilingLetterRequest] = field(default_factory=list)
    patient_payments: list[PatientPaymentPosting] = field(default_factory=list)

    @activity.defn(name=catalog.PAYER_PROFILE.name)
    async def payer_profile(self, coverage: Coverage) -> PayerProfile:
        return default_directory().profile_for(coverage.payer_id, coverage.filing_indicator)

    @activity.defn(name=catalog.CHECK_ELIGIBILITY.name)
    async def check_eligibility(self, request: EligibilityRequest) -> EligibilityResult:
        member = request.encounter.coverage.member_id
        return EligibilityResult(
            trace_number=request.trace_number, member_id=member, active=member != INACTIVE_MEMBER
        )

    @activity.defn(name=catalog.SCRUB_CLAIM.name)
    async def scrub_claim(self, request: ScrubRequest) -> ScrubOutcome:
        """Two rules stand in for the scrubber here: a line charged 0.00 is a charge error, and the
        scrubber's own demographics rule as far as it finds a patient's or subscriber's birth date
        or address missing (what holds a claim at intake on a fix_demographics task)."""
        encounter = request.claim.encounter
        errors = [
            Issue(rule="CHG01", category="charge", severity="error", message=f"line {n} charge is 0.00")
            for n, line in enumerate(encounter.service_lines, start=1)
            if line.charge == ZERO
        ]
        profile = default_directory().profile_for(
            encounter.coverage.payer_id, encounter.coverage.filing_indicator
        )
        context = Context(encounter, profile, default_codesets(), request.as_of, (), request.claim.frequency)
        errors += [
            Issue.of(finding)
            for finding in parties.demographics(context)
            # what is missing only: the time-skipping server's clock runs decades ahead, where the
            # factory's patients would be implausibly old on their date of service
            if finding.severity is Severity.ERROR and finding.rule.endswith("-missing")
        ]
        wanted = request.categories
        return ScrubOutcome(
            encounter=request.claim.encounter,
            errors=[e for e in errors if wanted is None or e.category in wanted],
        )

    @activity.defn(name=catalog.RESERVE_INTERCHANGE.name)
    async def reserve_interchange(self, key: str) -> int:
        """The same number for the same key, a higher one for a new key (as the ledger reserves)."""
        return self.reservations.setdefault(key, len(self.reservations) + 1)

    @activity.defn(name=catalog.SUBMIT_CLAIM.name)
    async def submit_claim(self, request: SubmitRequest) -> SubmitReceipt:
        self.submissions.append(request)
        return SubmitReceipt(
            submission_id=f"SUB{len(self.submissions)}",
            interchange_control_number=request.interchange_control_number or len(self.submissions),
        )

    @activity.defn(name=catalog.INQUIRE_CLAIM_STATUS.name)
    async def inquire_claim_status(self, request: StatusRequest) -> ClaimStatus:
        self.inquiries.append(request)
        detail = ClaimStatusDetail(
            patient_control_number=request.claim.patient_control_number,
            statuses=[StatusInfo(category="P1", code="20")],
        )
        return ClaimStatus(trace_number=request.trace_number, claims=[detail])

    @activity.defn(name=catalog.POST_PAYMENT.name)
    async def post_payment(self, request: PostingRequest) -> PostingOutcome:
        self.postings.append(request)
        payment = request.payment
        return PostingOutcome(
            posted=True,
            paid=payment.paid,
            patient_responsibility=payment.adjusted(AdjustmentGroup.PATIENT_RESPONSIBILITY),
            # as the ledger's posting: every adjustment but the patient's share
            adjusted=payment.adjusted() - payment.adjusted(AdjustmentGroup.PATIENT_RESPONSIBILITY),
        )

    @activity.defn(name=catalog.RECORD_PATIENT_PAYMENT.name)
    async def record_patient_payment(self, request: PatientPaymentPosting) -> None:
        self.patient_payments.append(request)

    @activity.defn(name=catalog.WRITE_TIMELY_FILING_LETTER.name)
    async def write_timely_filing_letter(self, request: TimelyFilingLetterRequest) -> str:
        self.filing_letters.append(request)
        if request.proof.submitted_at is None:
            return ""
        days_left = (request.deadline - request.letter_date).days
        return f"letters/{request.claim.encounter.encounter_id}-T{days_left}.pdf"

    @activity.defn(name=catalog.WRITE_STATEMENT.name)
    async def write_statement(self, request: StatementRequest) -> str:
        self.statements.append(request)
        return f"statements/{request.claim.encounter.encounter_id}-{request.notice}.pdf"

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.payer_profile,
            self.check_eligibility,
            self.scrub_claim,
            self.reserve_interchange,
            self.submit_claim,
            self.inquire_claim_status,
            self.post_payment,
            self.record_patient_payment,
            self.write_statement,
            self.write_timely_filing_letter,
        ]


def worker(client: Client, payer: ScriptedPayer, appeals: ScriptedAppeals | None = None) -> Worker:
    appeals = appeals or ScriptedAppeals()
    # the real contract check and letter, on the shipped contracts
    documents = Path(tempfile.gettempdir()) / "claimflow-scripted"
    contracts = UnderpaymentActivities(default_directory(), documents)
    return Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=list(WORKFLOWS),  # registered as the real worker registers them
        activities=[
            *payer.activities(),
            appeals.render_appeal_letter,
            appeals.send_appeal,
            contracts.find_underpayments,
            contracts.write_underpayment_letter,
        ],
    )


def encounter(today: date, seed: int = 1, **changes: Any) -> Encounter:
    """A claim's encounter 20 days before `today`: the test server's today (its clock skips ahead)."""
    base = ClaimFactory(seed, service_from=today - timedelta(days=20)).claim().encounter
    base = base.model_copy(update={"encounter_id": f"enc-{uuid.uuid4().hex[:12]}"})
    return base.model_copy(update=changes) if changes else base


STARTED: list[WorkflowHandle[ClaimWorkflow, ClaimSnapshot]] = []
"""Every claim the tests started: test_replay replays their histories."""


async def start(client: Client, enc: Encounter) -> WorkflowHandle[ClaimWorkflow, ClaimSnapshot]:
    handle = await client.start_workflow(
        ClaimWorkflow.run,
        ClaimInput(encounter=enc),
        id=claim_workflow_id(enc.encounter_id),
        task_queue=TASK_QUEUE,
    )
    STARTED.append(handle)
    return handle


async def until(
    handle: WorkflowHandle[ClaimWorkflow, ClaimSnapshot],
    check: Callable[[ClaimSnapshot], bool],
    what: str,
    seconds: float = 20,
) -> ClaimSnapshot:
    """Poll the state query (queries do not skip time) until `check` holds."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        snapshot = await handle.query(ClaimWorkflow.state)
        if check(snapshot):
            return snapshot
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"claim never reached: {what}; it is {snapshot.state}: {snapshot.timeline[-3:]}"
            )
        await asyncio.sleep(0.05)


async def finish(handle: WorkflowHandle[ClaimWorkflow, ClaimSnapshot], seconds: float = 60) -> ClaimSnapshot:
    """The claim's result; if it never comes, fail with where the claim stands."""
    try:
        return await asyncio.wait_for(handle.result(), seconds)
    except TimeoutError:
        snapshot = await handle.query(ClaimWorkflow.state)
        steps = "\n".join(f"{e.at:%Y-%m-%d %H:%M} {e.step}: {e.outcome}" for e in snapshot.timeline)
        raise AssertionError(f"{handle.id} never finished; it is {snapshot.state}:\n{steps}") from None


async def stop(client: Client, handle: WorkflowHandle[ClaimWorkflow, ClaimSnapshot]) -> None:
    """End a test's claim and its appeals, from inside the test's worker."""
    appeals = [
        client.get_workflow_handle(appeal_workflow_id(handle.id.removeprefix(CLAIM_PREFIX), number))
        for number in range(1, 4)
    ]
    for workflow in (*appeals, handle):  # the claim last: it hears of its appeals' ends
        await terminate_when_idle(client, workflow)


async def terminate_when_idle(client: Client, handle: WorkflowHandle[Any, Any], seconds: float = 10) -> None:
    """Terminate a workflow once no activity of it is running, from inside the test's worker.

    A workflow left running without a worker would hold the time-skipping server's clock for every
    later test; so does an activity still running when its workflow is terminated (seen under load:
    every later test of the process then timed out), so those finish first. The description is read
    raw: the time-skipping server cannot describe an unset Datetime search attribute."""
    request = DescribeWorkflowExecutionRequest(
        namespace=client.namespace, execution=WorkflowExecution(workflow_id=handle.id)
    )
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        try:
            description = await client.workflow_service.describe_workflow_execution(request)
        except RPCError:
            return  # no such workflow
        if not description.pending_activities:
            break
        await asyncio.sleep(0.02)
    with contextlib.suppress(RPCError):  # already closed
        await handle.terminate("test over")


def in_state(state: ClaimState) -> Callable[[ClaimSnapshot], bool]:
    return lambda snapshot: snapshot.state is state


async def server_today(env: WorkflowEnvironment) -> date:
    return (await env.get_current_time()).date()


def task_of(snapshot: ClaimSnapshot, kind: str) -> Task:
    return next(t for t in snapshot.open_tasks if t.kind.value == kind)


def open_task(kind: str) -> Callable[[ClaimSnapshot], bool]:
    return lambda snapshot: any(t.kind.value == kind for t in snapshot.open_tasks)


def now() -> datetime:
    return datetime.now(UTC)


def ack_999(status: str = "A", errors: list[str] | None = None) -> PayerEvent:
    return Ack999(
        event_id=f"999-{uuid.uuid4().hex}",
        file_id="f999",
        received_at=now(),
        ack_status=status,
        ack_errors=errors or [],
    )


def ack_277ca(pcn: str, category: str = "A1", code: str = "20", payer_claim: str = "PCN-1") -> PayerEvent:
    detail = ClaimStatusDetail(
        patient_control_number=pcn,
        payer_claim_number=payer_claim,
        statuses=[StatusInfo(category=category, code=code)],
    )
    return ClaimAck277CA(
        event_id=f"277-{uuid.uuid4().hex}",
        file_id="f277",
        received_at=now(),
        claim_status=detail,
    )


def remittance(
    enc: Encounter,
    *,
    patient_owes: Decimal = ZERO,
    denied_with: str | None = None,
    reversal_of: Decimal | None = None,
    payer_claim: str = "PCN-1",
    event_id: str | None = None,
    allowed: Sequence[Decimal] | None = None,
) -> PayerEvent:
    """An 835 claim payment for the encounter: paid (CO-45, and PR-2 when the patient owes),
    denied with a CARC, or the reversal of an earlier payment of `reversal_of`. With `allowed` (what
    the payer allowed for each of the encounter's service lines, in order) a paid 835 carries a
    service line (SVC) per line instead: its allowed amount (AMT*B6), CO-45 the rest of its charge,
    the patient's share as PR-2 on the first line; what a contract check compares line by line."""
    charge = enc.total_charge
    service_lines: list[ServicePayment] = []
    adjustments: list[Adjustment] = []
    if allowed is not None:
        if reversal_of is not None or denied_with:
            raise ValueError("allowed amounts by line are for a paid 835")
        if len(allowed) != len(enc.service_lines):
            raise ValueError(f"{len(allowed)} allowed amounts for {len(enc.service_lines)} service lines")
        service_lines = [
            _service_payment(line, amount, patient_owes if number == 0 else ZERO)
            for number, (line, amount) in enumerate(zip(enc.service_lines, allowed, strict=True))
        ]
        paid, status = sum((line.paid for line in service_lines), ZERO), ClaimStatusCode.PRIMARY
    elif reversal_of is not None:
        adjustments = [
            Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason="45", amount=-(charge - reversal_of))
        ]
        paid, status, charge = -reversal_of, ClaimStatusCode.REVERSAL, -charge
    elif denied_with:
        adjustments = [Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason=denied_with, amount=charge)]
        paid, status = ZERO, ClaimStatusCode.DENIED
    else:
        contractual = (charge * Decimal("0.2")).quantize(Decimal("0.01"))
        paid = charge - contractual - patient_owes
        adjustments = [Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason="45", amount=contractual)]
        if patient_owes:
            adjustments.append(
                Adjustment(group=AdjustmentGroup.PATIENT_RESPONSIBILITY, reason="2", amount=patient_owes)
            )
        status = ClaimStatusCode.PRIMARY
    payment = ClaimPayment(
        patient_control_number=enc.encounter_id,
        status=status,
        charge=charge,
        paid=paid,
        patient_responsibility=patient_owes,
        payer_claim_number=payer_claim,
        adjustments=adjustments,
        service_lines=service_lines,
    )
    return Remittance835(
        event_id=event_id or f"835-{uuid.uuid4().hex}",
        file_id="f835",
        received_at=now(),
        payment=payment,
        trace_number="TRN-1",
        payer_id=enc.coverage.payer_id,
    )


def _service_payment(line: ServiceLine, allowed: Decimal, patient_owes: Decimal) -> ServicePayment:
    """The SVC loop of a line the payer allowed at `allowed`, the patient owing `patient_owes` of it."""
    adjustments = [Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason="45", amount=line.charge - allowed)]
    if patient_owes:
        adjustments.append(
            Adjustment(group=AdjustmentGroup.PATIENT_RESPONSIBILITY, reason="2", amount=patient_owes)
        )
    return ServicePayment(
        procedure_code=line.procedure_code,
        modifiers=list(line.modifiers),
        charge=line.charge,
        paid=allowed - patient_owes,
        units=line.units,
        service_date=line.service_date,
        allowed_amount=allowed,
        adjustments=adjustments,
    )


async def pay_cleanly(
    handle: WorkflowHandle[ClaimWorkflow, ClaimSnapshot], enc: Encounter, **remit: Any
) -> None:
    """999 accepted, 277CA accepted, 835 paid: the payer side of a clean claim."""
    await handle.signal(ClaimWorkflow.payer_event, ack_999())
    await handle.signal(ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id))
    await until(handle, in_state(ClaimState.ACCEPTED), "accepted")
    await handle.signal(ClaimWorkflow.payer_event, remittance(enc, **remit))
