"""The projector: keeps the read model (`readmodel.py`) current from the workflows, without touching
workflow code.

A pass lists from visibility only the claim, appeal and exceptions workflows that moved since the
last pass (their LastProgressAt or start time is newer, or they closed), skips those whose
LastProgressAt is what it saw last time, asks just the others their `state` (the exceptions workflow,
which keeps no LastProgressAt, is asked every pass: it is one workflow), and writes their rows in one
transaction with the cursor. A pass that dies midway leaves the cursor where it was, so the next one
does it again; `rebuild` lists every workflow and replaces everything (a new database, or after
losing rows). A workflow that cannot answer is marked for a retry and asked again each pass.

It reads visibility and queries through the Temporal client only, so it runs in the worker process
(a background task) and as `claimflow readmodel rebuild`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

import structlog
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError

from claimflow.claims import ids
from claimflow.claims.appeals import AppealSnapshot
from claimflow.claims.kpi import facts_of
from claimflow.claims.lifecycle import UNKNOWN_PAYER, ClaimSnapshot, ClaimState
from claimflow.claims.money import ZERO
from claimflow.claims.tasks import Task
from claimflow.integrations.ledger.readmodel import (
    ClaimView,
    Projection,
    ReadModel,
    SourceView,
    TaskView,
    UnderpaymentView,
    search_text_of,
    search_values,
)

# The search attributes the workflows publish (workflows/search_attributes.py, which this layer may
# not import; tests/ledger/test_projector.py checks the names and types agree).
CLAIM_STATE = SearchAttributeKey.for_keyword("ClaimState")
PAYER_ID = SearchAttributeKey.for_keyword("PayerId")
LAST_PROGRESS_AT = SearchAttributeKey.for_datetime("LastProgressAt")
TIMELY_FILING_DEADLINE = SearchAttributeKey.for_datetime("TimelyFilingDeadline")
BILLED_AMOUNT = SearchAttributeKey.for_float("BilledAmount")

TYPES = (ids.WorkflowType.CLAIM, ids.WorkflowType.APPEAL, ids.WorkflowType.EXCEPTIONS)
OF_OURS = f"WorkflowType IN ({', '.join(repr(t) for t in TYPES)})"
RETRY = "retry"
"""A source's status when its workflow could not answer: asked again at every pass."""
OVERLAP = timedelta(seconds=60)
"""How far before the last pass's start a pass looks: LastProgressAt is the workflow task's start,
which can precede the pass that misses it by the task's run, visibility's lag and clock skew."""

log = structlog.get_logger("claimflow.readmodel")
Answer = TypeVar("Answer")


@dataclass(frozen=True)
class PassReport:
    rebuilt: bool
    listed: int
    queried: int
    written: int
    seconds: float


class Projector:
    def __init__(
        self,
        client: Client,
        store: ReadModel,
        *,
        overlap: timedelta = OVERLAP,
        max_in_flight: int = 20,
        query_timeout_seconds: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._store = store
        self._overlap = overlap
        self._gate = asyncio.Semaphore(max_in_flight)
        self._timeout = query_timeout_seconds
        self._clock = clock
        self.queries = 0
        """workflow queries sent so far (a pass's report says how many it sent)"""

    async def rebuild(self) -> PassReport:
        """Every claim, appeal and exceptions workflow, asked again, replacing the whole read model."""
        began, started = time.monotonic(), self._clock()
        queried_before = self.queries
        executions = _latest(await self._listed(OF_OURS))
        projections = await self._project(executions, known={})
        written = await asyncio.to_thread(self._store.rebuild, projections, started)
        return PassReport(
            True, len(executions), self.queries - queried_before, written, time.monotonic() - began
        )

    async def catch_up(self) -> PassReport:
        """One pass over what moved since the last one (a rebuild when there was none)."""
        cursor = await asyncio.to_thread(self._store.cursor)
        if cursor is None:
            return await self.rebuild()
        began, started = time.monotonic(), self._clock()
        queried_before = self.queries
        since = _rfc3339(cursor - self._overlap)
        moved = (
            f"{OF_OURS} AND ExecutionStatus = 'Running' AND ({LAST_PROGRESS_AT.name} >= {since} "
            f"OR StartTime >= {since} OR WorkflowType = '{ids.WorkflowType.EXCEPTIONS}')"
        )
        closed = f"{OF_OURS} AND CloseTime >= {since}"
        listed = [execution for query in (moved, closed) for execution in await self._listed(query)]
        known = await asyncio.to_thread(self._store.sources)
        retry = [source.workflow_id for source in known.values() if source.status == RETRY]
        listed += await self._described(set(retry) - {execution.id for execution in listed})
        executions = [
            execution for execution in _latest(listed) if _moved(execution, known.get(execution.id))
        ]
        projections = await self._project(executions, known)
        written = await asyncio.to_thread(self._store.apply, projections, started)
        return PassReport(
            False, len(listed), self.queries - queried_before, written, time.monotonic() - began
        )

    async def refresh(self, workflow_ids: Iterable[str]) -> PassReport:
        """These workflows asked again now and written, the cursor left where it is: what the web
        console does right after a person's Update, so their own list never shows the task they just
        resolved. A pass running meanwhile may write what it asked before; the pass after it (which
        sees the workflow's newer LastProgressAt) restates it."""
        began = time.monotonic()
        queried_before = self.queries
        executions = _latest(await self._described(set(workflow_ids)))
        known = await asyncio.to_thread(self._store.sources, [e.id for e in executions])
        projections = await self._project(executions, known)
        written = await asyncio.to_thread(self._store.apply, projections)
        return PassReport(
            False, len(executions), self.queries - queried_before, written, time.monotonic() - began
        )

    async def run(self, every: timedelta, stop: asyncio.Event | None = None) -> None:
        """Catch up every `every` until `stop` is set (or the task is cancelled). A failed pass is
        logged (its error's type, never a payload) and the next one tries again."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                report = await self.catch_up()
                if report.written:
                    log.debug("read model caught up", written=report.written, queried=report.queried)
            except Exception as error:  # the worker goes on; the next pass starts from the same cursor
                log.warning("read model pass failed", error=type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every.total_seconds())

    # ------------------------------------------------------------------ projecting
    async def _described(self, workflow_ids: Iterable[str]) -> list[WorkflowExecution]:
        """The workflows to ask again; one that no longer exists is left out (its rows stay until a
        rebuild)."""
        described: list[WorkflowExecution] = []
        for workflow_id in sorted(workflow_ids):
            with contextlib.suppress(RPCError):
                described.append(await self._client.get_workflow_handle(workflow_id).describe())
        return described

    async def _listed(self, query: str) -> list[WorkflowExecution]:
        return [execution async for execution in self._client.list_workflows(query)]

    async def _project(
        self, executions: Sequence[WorkflowExecution], known: dict[str, SourceView]
    ) -> list[Projection]:
        """Claims first, so an appeal's tasks find their claim's facts projected in the same pass."""
        order = {t: n for n, t in enumerate(TYPES)}
        ranked = sorted(executions, key=lambda e: order.get(e.workflow_type or "", len(TYPES)))
        claims = [e for e in ranked if e.workflow_type == ids.WorkflowType.CLAIM]
        others = [e for e in ranked if e.workflow_type != ids.WorkflowType.CLAIM]
        projected = [p for p in await self._each(claims, lambda e: self._one(e, known, {})) if p]
        facts = {p.claim.claim_id: p.claim for p in projected if p.claim is not None}
        projected += [p for p in await self._each(others, lambda e: self._one(e, known, facts)) if p]
        return projected

    async def _each(
        self,
        executions: Sequence[WorkflowExecution],
        call: Callable[[WorkflowExecution], Awaitable[Projection | None]],
    ) -> list[Projection | None]:
        async def one(execution: WorkflowExecution) -> Projection | None:
            async with self._gate:
                return await call(execution)

        return list(await asyncio.gather(*(one(execution) for execution in executions)))

    async def _one(
        self, execution: WorkflowExecution, known: dict[str, SourceView], claims: dict[str, ClaimView]
    ) -> Projection | None:
        running = execution.status is WorkflowExecutionStatus.RUNNING
        previous = known.get(execution.id)
        try:
            if execution.workflow_type == ids.WorkflowType.CLAIM:
                return await self._claim(execution, running)
            if execution.workflow_type == ids.WorkflowType.APPEAL:
                if not running:
                    return Projection(source=_source(execution, previous.claim_id if previous else None))
                appeal = await self._ask(execution.id, ids.Query.STATE, AppealSnapshot)
                claim = claims.get(appeal.claim_id) or await asyncio.to_thread(
                    self._store.claim, appeal.claim_id
                )
                tasks = [
                    _task_view(task, execution.id, appeal.claim_id, claim, "appealing")
                    for task in appeal.open_tasks
                ]
                if claim is None:
                    tasks = [t.model_copy(update={"payer_id": appeal.payer_id}) for t in tasks]
                return Projection(source=_source(execution, appeal.claim_id), tasks=tasks)
            if not running:
                return Projection(source=_source(execution, None))
            tasks_of = await self._ask(execution.id, ids.Query.TASKS, list[Task])
            views = [
                _task_view(t, execution.id, execution.id, None, "exceptions") for t in tasks_of if t.is_open
            ]
            return Projection(source=_source(execution, None), tasks=views)
        except (RPCError, WorkflowQueryFailedError, TimeoutError) as error:
            if not running:
                return Projection(source=_source(execution, previous.claim_id if previous else None))
            log.warning(
                "read model: workflow did not answer", workflow_id=execution.id, error=type(error).__name__
            )
            source = _source(execution, previous.claim_id if previous else None)
            return Projection(source=source.model_copy(update={"status": RETRY}), tasks=[])

    async def _claim(self, execution: WorkflowExecution, running: bool) -> Projection:
        try:
            snapshot = await self._ask(execution.id, ids.Query.STATE, ClaimSnapshot)
        except (RPCError, WorkflowQueryFailedError, TimeoutError):
            if running:
                raise
            # a closed claim that cannot be replayed: what its search attributes say
            return Projection(
                source=_source(execution, execution.id), claim=_claim_from_attributes(execution)
            )
        claim = claim_view(
            snapshot,
            running=running,
            last_progress_at=execution.typed_search_attributes.get(LAST_PROGRESS_AT),
        )
        tasks = [
            _task_view(task, execution.id, snapshot.claim_id, claim, snapshot.state.value)
            for task in snapshot.open_tasks
        ]
        return Projection(
            source=_source(execution, execution.id),
            tasks=tasks if running else [],
            claim=claim,
            underpayments=[UnderpaymentView.of(snapshot.claim_id, case) for case in snapshot.underpayments],
        )

    async def _ask(self, workflow_id: str, query: str, answer: type[Answer]) -> Answer:
        self.queries += 1
        handle = self._client.get_workflow_handle(workflow_id)
        return await asyncio.wait_for(handle.query(query, result_type=answer), self._timeout)


def _latest(executions: Iterable[WorkflowExecution]) -> list[WorkflowExecution]:
    """One execution per workflow id: the running one, else the newest; a run that continued as new
    says nothing its successor does not."""
    chosen: dict[str, WorkflowExecution] = {}
    for execution in executions:
        current = chosen.get(execution.id)
        if current is None or _rank(execution) > _rank(current):
            chosen[execution.id] = execution
    return [e for e in chosen.values() if e.status is not WorkflowExecutionStatus.CONTINUED_AS_NEW]


def _rank(execution: WorkflowExecution) -> tuple[bool, datetime]:
    running = execution.status is WorkflowExecutionStatus.RUNNING
    return running, execution.start_time or datetime.min.replace(tzinfo=UTC)


def _moved(execution: WorkflowExecution, seen: SourceView | None) -> bool:
    if seen is None or seen.status == RETRY or execution.workflow_type == ids.WorkflowType.EXCEPTIONS:
        return True
    return (
        seen.run_id != execution.run_id
        or seen.status != _status(execution)
        or seen.last_progress_at != execution.typed_search_attributes.get(LAST_PROGRESS_AT)
    )


def _status(execution: WorkflowExecution) -> str:
    return execution.status.name if execution.status else "UNKNOWN"


def _source(execution: WorkflowExecution, claim_id: str | None) -> SourceView:
    return SourceView(
        workflow_id=execution.id,
        workflow_type=execution.workflow_type or "",
        run_id=execution.run_id or "",
        claim_id=claim_id,
        status=_status(execution),
        last_progress_at=execution.typed_search_attributes.get(LAST_PROGRESS_AT),
    )


def claim_view(
    snapshot: ClaimSnapshot, *, running: bool, last_progress_at: datetime | None = None
) -> ClaimView:
    """The claim as lists show it; the amount at stake and the A/R balance as claims.kpi computes
    them (the whole charge, and no date of service, for a snapshot without its encounter), and its
    KPI facts (claims.kpi.facts_of) with the day of its first 835, for the dashboard."""
    encounter = snapshot.encounter
    known: dict[str, object] = {}
    if encounter is None:
        at_stake, balance, service_date = snapshot.billed, ZERO, None
    else:
        facts = facts_of(snapshot)
        owed = facts.charges - facts.payer_paid - facts.patient_paid - facts.contractual_adjustment
        at_stake, balance, service_date = max(owed, ZERO), facts.ar_balance, facts.service_date
        known = facts.model_dump(
            include={
                "submitted", "clean", "first_pass_resolved", "remitted", "initially_denied",
                "denial_categories", "payer_paid", "patient_paid", "contractual_adjustment", "ar_balance",
            }
        )  # fmt: skip
        known["facts_known"] = True
    first_835 = next((entry.at.date() for entry in snapshot.timeline if entry.step == "835"), None)
    return ClaimView(
        **known,
        first_remittance_on=first_835,
        patient_control_number=snapshot.patient_control_number,
        payer_claim_number=snapshot.payer_claim_number,
        open_tasks=len(snapshot.open_tasks),
        search_text=search_text_of(search_values(snapshot)),
        claim_id=snapshot.claim_id,
        state=snapshot.state.value,
        payer_id=snapshot.payer_id or UNKNOWN_PAYER,
        billed=snapshot.billed,
        balance=balance if running else ZERO,
        amount_at_stake=at_stake,
        patient=f"{encounter.patient.last_name}, {encounter.patient.first_name}" if encounter else None,
        date_of_service=service_date,
        last_progress_at=last_progress_at,
        timely_filing_deadline=snapshot.timely_filing_deadline,
        is_open=running,
    )


def _claim_from_attributes(execution: WorkflowExecution) -> ClaimView:
    attributes = execution.typed_search_attributes
    deadline = attributes.get(TIMELY_FILING_DEADLINE)
    billed = Decimal(str(attributes.get(BILLED_AMOUNT) or 0)).quantize(Decimal("0.01"))
    return ClaimView(
        claim_id=execution.id,
        state=attributes.get(CLAIM_STATE) or ClaimState.CLOSED.value,
        payer_id=attributes.get(PAYER_ID) or UNKNOWN_PAYER,
        billed=billed,
        balance=ZERO,
        amount_at_stake=ZERO,
        last_progress_at=attributes.get(LAST_PROGRESS_AT),
        timely_filing_deadline=deadline.date() if deadline else None,
        is_open=False,
    )


def _task_view(task: Task, workflow_id: str, claim_id: str, claim: ClaimView | None, state: str) -> TaskView:
    return TaskView(
        task_id=task.id,
        workflow_id=workflow_id,
        claim_id=claim_id,
        kind=task.kind.value,
        reason=task.reason,
        priority=int(task.priority),
        due_at=task.due_at,
        created_at=task.created_at,
        assignee=task.assignee,
        patient=claim.patient if claim else None,
        date_of_service=claim.date_of_service if claim else None,
        payer_id=claim.payer_id if claim else None,
        amount_at_stake=claim.amount_at_stake if claim else None,
        claim_state=state,
    )


def _rfc3339(moment: datetime) -> str:
    return "'" + moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + "'"
