"""Scripted appeal activities under the real names, and helpers to drive an AppealWorkflow."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from claimflow.activities import catalog
from claimflow.activities.appeal_requests import (
    AppealLetter,
    AppealLetterRequest,
    AppealSendRequest,
    AppealSent,
)
from claimflow.claims.appeals import (
    AppealInput,
    AppealLetterRef,
    AppealOutcome,
    AppealSnapshot,
    TimelyFilingProof,
)
from claimflow.claims.claim import Claim, FrequencyCode
from claimflow.claims.payers import default_directory
from claimflow.claims.remittance import Adjustment, AdjustmentGroup, ClaimPayment, ClaimStatusCode
from claimflow.workflows.appeal import AppealWorkflow
from tests.factories import ClaimFactory

TASK_QUEUE = "appeal-tests"
MANAGER = "manager@clinic"
BILLER = "biller@clinic"


@dataclass
class ScriptedAppeals:
    """Records every letter rendered and every appeal sent."""

    letters: list[AppealLetterRequest] = field(default_factory=list)
    sent: list[AppealSendRequest] = field(default_factory=list)

    @activity.defn(name=catalog.RENDER_APPEAL_LETTER.name)
    async def render_appeal_letter(self, request: AppealLetterRequest) -> AppealLetter:
        self.letters.append(request)
        name = f"documents/appeals/{request.appeal_id}-L{request.level.level}-r{request.revision}"
        return AppealLetter(
            ref=AppealLetterRef(
                level=request.level.level,
                revision=request.revision,
                pdf_path=f"{name}.pdf",
                html_path=f"{name}.html",
            ),
            argument=request.argument or [f"drafted {request.category.value} argument"],
            amount_in_dispute=request.payment.charge - request.payment.paid,
        )

    @activity.defn(name=catalog.SEND_APPEAL.name)
    async def send_appeal(self, request: AppealSendRequest) -> AppealSent:
        self.sent.append(request)
        return AppealSent(
            clearinghouse_appeal_id=f"A{len(self.sent):08d}",
            decision_due=datetime.now(UTC) + timedelta(days=30),
        )


def worker(client: Client, appeals: ScriptedAppeals) -> Worker:
    return Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[AppealWorkflow],
        activities=[appeals.render_appeal_letter, appeals.send_appeal],
    )


def denied_claim(carc: str, charge: str = "450.00", payer_id: str = "SMPBCX") -> tuple[Claim, ClaimPayment]:
    claim = ClaimFactory(61).claim(frequency=FrequencyCode.ORIGINAL, lines=1, dependent=False)
    encounter = claim.encounter.model_copy(update={"encounter_id": f"enc-{uuid.uuid4().hex[:12]}"})
    line = encounter.service_lines[0].model_copy(update={"charge": Decimal(charge)})
    coverage = encounter.coverage.model_copy(update={"payer_id": payer_id})
    encounter = encounter.model_copy(update={"service_lines": [line], "coverage": coverage})
    claim = claim.model_copy(
        update={"encounter": encounter, "patient_control_number": encounter.encounter_id}
    )
    payment = ClaimPayment(
        patient_control_number=claim.patient_control_number,
        status=ClaimStatusCode.DENIED,
        charge=Decimal(charge),
        paid=Decimal("0.00"),
        payer_claim_number="PCN-77",
        adjustments=[Adjustment(group=AdjustmentGroup.CONTRACTUAL, reason=carc, amount=Decimal(charge))],
    )
    return claim, payment


STARTED: list[WorkflowHandle[AppealWorkflow, AppealOutcome]] = []
"""Every appeal the tests started: test_replay replays their histories."""


async def today(env: WorkflowEnvironment) -> date:
    """The test server's date: time skipping moves it far from the wall clock's."""
    return (await env.get_current_time()).date()


async def start(
    env: WorkflowEnvironment,
    claim: Claim,
    payment: ClaimPayment,
    *,
    proof: TimelyFilingProof | None = None,
    remitted_days_ago: int = 0,
    start_level: int = 1,
    history_limit: int = 5_000,
) -> WorkflowHandle[AppealWorkflow, AppealOutcome]:
    payer = default_directory().profiles[claim.encounter.coverage.payer_id]
    handle = await env.client.start_workflow(
        AppealWorkflow.run,
        AppealInput(
            claim=claim,
            payer=payer,
            payment=payment,
            remittance_date=await today(env) - timedelta(days=remitted_days_ago),
            proof=proof or TimelyFilingProof(),
            managers=[MANAGER],
            start_level=start_level,
            history_limit=history_limit,
        ),
        id=f"appeal-{claim.encounter.encounter_id}",
        task_queue=TASK_QUEUE,
    )
    STARTED.append(handle)
    return handle


async def until(
    handle: WorkflowHandle[AppealWorkflow, AppealOutcome],
    check: Callable[[AppealSnapshot], bool],
    what: str,
    seconds: float = 20,
) -> AppealSnapshot:
    """Poll the state query (queries do not skip time) until `check` holds. A query that times out
    (one sent while the appeal continues as new, on a loaded machine) is asked again."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            snapshot = await handle.query(AppealWorkflow.state)
        except RPCError as error:
            timed_out = error.status is RPCStatusCode.DEADLINE_EXCEEDED or "Timeout expired" in error.message
            if not timed_out or asyncio.get_running_loop().time() > deadline:
                raise
            continue
        if check(snapshot):
            return snapshot
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"appeal never reached: {what}; it is {snapshot.state}: {snapshot.timeline[-3:]}"
            )
        await asyncio.sleep(0.05)


def open_task(kind: str, level: int | None = None) -> Callable[[AppealSnapshot], bool]:
    return lambda s: any(t.kind.value == kind for t in s.open_tasks) and (level is None or s.level == level)


def sent(count: int) -> Callable[[AppealSnapshot], bool]:
    return lambda s: len(s.appeals_sent) >= count and s.state.value == "awaiting_decision"
