"""The console's whole access to Temporal: find claims, read their tasks, resolve them, start claims,
record what patients pay.

It takes a connected `Client`, so the command line, the web console and the tests share one
implementation. Tasks live on three kinds of workflow: a claim's own (`claim-E1:3`), an appeal's
(`appeal-E1-1:2`, while the claim is appealing) and the exceptions workflow's (`exceptions:2`); the
task id names the workflow that resolves it. Listing goes through visibility (the search attributes,
never PHI) and then asks each workflow's `state` query, with a bound on the queries in flight so a
long list never floods the server (the dev server refuses past about a thousand concurrent waits).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from pydantic import Field
from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from claimflow.claims import ids
from claimflow.claims.encounter import Encounter, Model
from claimflow.claims.ids import EXCEPTIONS_WORKFLOW_ID as EXCEPTIONS_WORKFLOW_ID
from claimflow.claims.intake_hold import HeldIntake
from claimflow.claims.lifecycle import (
    UNKNOWN_PAYER,
    ClaimInput,
    ClaimSnapshot,
    ClaimState,
    PatientPaymentRequest,
)
from claimflow.claims.tasks import Priority, Task, TaskKind, TaskResolution
from claimflow.workflows import search_attributes as sa
from claimflow.workflows.appeal import AppealWorkflow
from claimflow.workflows.claim import ClaimWorkflow
from claimflow.workflows.exceptions import ExceptionsWorkflow

MAX_QUERIES_IN_FLIGHT = 50
NOT_YET_ACCEPTED = (
    ClaimState.INTAKE,
    ClaimState.ELIGIBILITY,
    ClaimState.CODING,
    ClaimState.SCRUBBING,
    ClaimState.SUBMITTED,
    ClaimState.ACKNOWLEDGED,
    ClaimState.REJECTED,
)
"""States in which a claim has no proof of timely filing yet (no 277CA acceptance)."""

Item = TypeVar("Item")
Result = TypeVar("Result")
Answer = TypeVar("Answer")


class NotFound(LookupError):
    """No claim or task by that id."""


class ClaimMissing(NotFound):
    """No workflow by that id (as opposed to one that exists but cannot answer)."""


class Refused(ValueError):
    """The workflow's validator refused the resolution or the payment; the message says why."""


class TaskRow(Model):
    """An open or resolved task with the claim it belongs to."""

    claim_id: str
    claim_state: str | None = None
    payer_id: str | None = None
    task: Task

    def overdue(self, now: datetime) -> bool:
        return self.task.is_open and self.task.due_at < now


class WorkQueue(Model):
    rows: list[TaskRow] = Field(description="open tasks, oldest due first")
    claims: dict[str, ClaimSnapshot] = Field(description="claim id -> snapshot, for claims asked directly")


class SavedSearch(Model):
    """A visibility query to paste into the Temporal UI's workflow search and save as a view."""

    name: str
    query: str


def saved_searches(days: int, now: datetime) -> list[SavedSearch]:
    """The views of claims that need a look, defined once: urgent work, no progress for `days`, and a
    timely-filing deadline within `days` before the payer accepted the claim. `stuck` runs the last
    two; it and the demo print all three."""
    base = f"WorkflowType = '{ids.WorkflowType.CLAIM}' AND ExecutionStatus = 'Running'"
    idle_since = _quote(_rfc3339(now - timedelta(days=days)))
    horizon = _quote(_rfc3339(now + timedelta(days=days)))
    states = ", ".join(_quote(state.value) for state in NOT_YET_ACCEPTED)
    return [
        SavedSearch(
            name="urgent work: a high or urgent open task",
            query=f"{base} AND {sa.TASK_PRIORITY.name} >= {int(Priority.HIGH)}",
        ),
        SavedSearch(
            name=f"no progress for {days} days", query=f"{base} AND {sa.LAST_PROGRESS_AT.name} < {idle_since}"
        ),
        SavedSearch(
            name=f"not accepted yet, timely filing due within {days} days",
            query=f"{base} AND {sa.TIMELY_FILING_DEADLINE.name} <= {horizon}"
            f" AND {sa.CLAIM_STATE.name} IN ({states})",
        ),
    ]


class StuckClaim(Model):
    claim_id: str
    state: str
    payer_id: str
    last_progress_at: datetime | None = None
    timely_filing_deadline: date | None = None
    idle_days: int | None = Field(default=None, description="whole days since the last progress")
    days_to_deadline: int | None = None


class StuckReport(Model):
    as_of: datetime
    days: int
    no_progress: list[StuckClaim]
    deadline_near: list[StuckClaim]
    no_progress_query: str = Field(description="the visibility query, to save as a view in the Temporal UI")
    deadline_near_query: str
    saved_searches: list[SavedSearch] = Field(description="these two and urgent work, named")

    def by_state_and_payer(self) -> list[tuple[str, str, int, int]]:
        """(state, payer, claims without progress, claims with a deadline near), sorted."""
        counts: dict[tuple[str, str], list[int]] = {}
        for claim in self.no_progress:
            counts.setdefault((claim.state, claim.payer_id), [0, 0])[0] += 1
        for claim in self.deadline_near:
            counts.setdefault((claim.state, claim.payer_id), [0, 0])[1] += 1
        return [(state, payer, pair[0], pair[1]) for (state, payer), pair in sorted(counts.items())]


class IntakeOutcome(Model):
    claim_id: str
    started: bool = Field(description="False when a claim with this id already existed")
    held: bool = Field(default=False, description="started in an intake hold, on a fix_intake task")


def workflow_id_of_task(task_id: str) -> str:
    """The workflow that owns the task (see `ids.workflow_id_of_task`); NotFound for a bad id."""
    try:
        return ids.workflow_id_of_task(task_id)
    except ids.NotATaskId as bad:
        raise NotFound(str(bad)) from None


def _missing_workflow(error: RPCError) -> bool:
    """NOT_FOUND for the workflow itself, not for the namespace (a configuration error)."""
    return error.status is RPCStatusCode.NOT_FOUND and "namespace" not in error.message.lower()


def _open_task_query(workflow_type: str, kinds: Sequence[TaskKind], payer: str | None) -> str:
    query = (
        f"WorkflowType = {_quote(workflow_type)} AND ExecutionStatus = 'Running' AND "
        f"{sa.OPEN_TASK.name} IN ({', '.join(_quote(k.value) for k in kinds)})"
    )
    if payer:
        query += f" AND {sa.PAYER_ID.name} = {_quote(payer)}"
    return query


def _closed_unstarted(error: RPCError) -> bool:
    """The run closed before its first workflow task: no worker ever ran it, and nothing can answer."""
    return error.status is RPCStatusCode.FAILED_PRECONDITION and "before WorkflowTaskStarted" in error.message


async def _asked(workflow_id: str, query: Awaitable[Answer]) -> Answer:
    """A query's answer; a workflow that does not exist raises ClaimMissing, one that cannot
    answer NotFound."""
    try:
        return await query
    except RPCError as error:
        if _missing_workflow(error):
            raise ClaimMissing(f"no workflow {workflow_id!r}: check the id with `claimflow tasks`") from None
        if _closed_unstarted(error):
            raise NotFound(
                f"{workflow_id!r} was closed (terminated or timed out) before any worker ran it, so it has "
                "no state to show; start the claim again with `claimflow intake` if it is still owed"
            ) from None
        raise
    except WorkflowQueryFailedError as error:
        raise NotFound(
            f"{workflow_id!r} cannot be read: {error.message}; is a claimflow worker of this version running "
            "(`claimflow up`, or the worker service)?"
        ) from None


async def _changed(workflow_id: str, update: Awaitable[Answer], *refusals: str) -> Answer:
    """An Update's answer; the workflow's refusals (these ApplicationError types) raise Refused."""
    try:
        return await update
    except WorkflowUpdateFailedError as failure:
        cause = failure.cause
        if isinstance(cause, ApplicationError) and cause.type in refusals:
            raise Refused(cause.message) from None
        raise
    except RPCError as error:
        if _missing_workflow(error):
            raise NotFound(
                f"{workflow_id!r} is not open (or does not exist): {error.message}; check the id with "
                "`claimflow tasks` or `claimflow claim show`"
            ) from None
        raise


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ClaimsClient:
    def __init__(self, client: Client, task_queue: str, max_in_flight: int = MAX_QUERIES_IN_FLIGHT) -> None:
        self._client = client
        self._task_queue = task_queue
        self._max_in_flight = max_in_flight

    # ------------------------------------------------------------------ reading
    async def tasks(
        self, kind: TaskKind | None = None, payer: str | None = None, include_exceptions: bool = True
    ) -> list[TaskRow]:
        """Open tasks of claims and their appeals (and the exceptions' unless a payer is asked for),
        of one kind and one payer when given, oldest due first."""
        return (await self.work_queue(kind, payer, include_exceptions)).rows

    async def work_queue(
        self, kind: TaskKind | None = None, payer: str | None = None, include_exceptions: bool = True
    ) -> WorkQueue:
        """`tasks`, with the snapshot of every claim whose own workflow was asked (the web console
        shows patient, amount and date of service beside each task without asking twice)."""
        kinds = [kind] if kind else list(TaskKind)
        workflow_ids = [
            execution.id
            for workflow_type in (ids.WorkflowType.CLAIM, ids.WorkflowType.APPEAL)
            async for execution in self._client.list_workflows(_open_task_query(workflow_type, kinds, payer))
        ]
        if include_exceptions and payer is None:
            workflow_ids.append(EXCEPTIONS_WORKFLOW_ID)
        listed = await self._bounded(workflow_ids, self._owned_still_running)
        rows = [
            row
            for rows, _ in listed
            for row in rows
            if row.task.is_open and (kind is None or row.task.kind is kind)
        ]
        return WorkQueue(
            rows=sorted(rows, key=lambda row: (row.task.due_at, row.task.id)),
            claims={claim.claim_id: claim for _, claim in listed if claim is not None},
        )

    async def appeal_and_exception_tasks(self) -> list[TaskRow]:
        """The open tasks kept outside the claims' own workflows: running appeals' and the exceptions
        workflow's (the web console reads a claim's own tasks from the snapshot it keeps)."""
        workflow_ids = [
            execution.id
            async for execution in self._client.list_workflows(
                _open_task_query(ids.WorkflowType.APPEAL, list(TaskKind), None)
            )
        ]
        listed = await self._bounded([*workflow_ids, EXCEPTIONS_WORKFLOW_ID], self._owned_still_running)
        return [row for rows, _ in listed for row in rows if row.task.is_open]

    async def task(self, task_id: str) -> TaskRow:
        workflow_id = workflow_id_of_task(task_id)
        rows, _ = await self._owned(workflow_id)
        for row in rows:
            if row.task.id == task_id:
                return row
        raise NotFound(f"{workflow_id} has no task {task_id!r}: check the id with `claimflow tasks`")

    async def claim(self, claim_or_encounter_id: str) -> ClaimSnapshot:
        """A claim by its workflow id or its encounter id."""
        candidates = ids.claim_workflow_ids_for(claim_or_encounter_id)
        for workflow_id in candidates:
            with contextlib.suppress(ClaimMissing):
                return await self._snapshot(workflow_id)
        raise NotFound(
            f"no claim {claim_or_encounter_id!r} (looked for workflow {' and '.join(candidates)}): "
            "check the id with `claimflow tasks`"
        )

    async def stuck(self, days: int, now: datetime) -> StuckReport:
        """Running claims without progress for `days`, and claims whose timely-filing deadline falls
        within `days` while they have no 277CA acceptance yet. Read from visibility alone."""
        searches = saved_searches(days, now)
        _, no_progress_search, deadline_near_search = searches
        no_progress_query, deadline_near_query = no_progress_search.query, deadline_near_search.query
        no_progress = await self._list_stuck(no_progress_query, now)
        deadline_near = await self._list_stuck(deadline_near_query, now)
        return StuckReport(
            as_of=now,
            days=days,
            no_progress=sorted(no_progress, key=lambda c: c.last_progress_at or now),
            deadline_near=sorted(deadline_near, key=lambda c: c.timely_filing_deadline or now.date()),
            no_progress_query=no_progress_query,
            deadline_near_query=deadline_near_query,
            saved_searches=searches,
        )

    async def claims_matching(self, query: str, now: datetime) -> list[StuckClaim]:
        """Claims a visibility query finds, with what their search attributes say (no query sent to
        the workflows): for searches and dashboards over many claims."""
        return await self._list_stuck(query, now)

    # ------------------------------------------------------------------ changing
    async def resolve(self, resolution: TaskResolution) -> Task:
        """Resolve through the `resolve_task` Update of the workflow the task id names (the claim, an
        appeal or the exceptions: each keeps its tasks on a TaskBoard). A refused resolution raises
        Refused."""
        workflow_id = workflow_id_of_task(resolution.task_id)
        handle = self._client.get_workflow_handle(workflow_id)
        update = handle.execute_update(ids.Update.RESOLVE_TASK, resolution, result_type=Task)
        return await _changed(workflow_id, update, "InvalidResolution")

    async def pay(self, payment: PatientPaymentRequest) -> ClaimSnapshot:
        """Record a patient payment on the claim (by claim or encounter id) through its Update; the
        claim posts it to the ledger. A payment the claim refuses raises Refused."""
        claim = await self.claim(payment.claim_id)
        handle = self._client.get_workflow_handle(claim.claim_id)
        update = handle.execute_update(
            ids.Update.RECORD_PATIENT_PAYMENT,
            payment.model_copy(update={"claim_id": claim.claim_id}),
            result_type=ClaimSnapshot,
        )
        return await _changed(claim.claim_id, update, "InvalidPayment", "PaymentNotRecorded")

    async def intake(self, encounter: Encounter | HeldIntake, received_by: str = "intake") -> IntakeOutcome:
        """Start the claim's workflow; a HeldIntake (a document that cannot become a claim yet) starts
        it in the intake hold. A claim that exists already (open or closed) is left alone."""
        claim_id = ids.claim_workflow_id(encounter.encounter_id)
        held = isinstance(encounter, HeldIntake)
        start = (
            ClaimInput(held=encounter, received_by=received_by)
            if isinstance(encounter, HeldIntake)
            else ClaimInput(encounter=encounter, received_by=received_by)
        )
        try:
            await self._client.start_workflow(
                ClaimWorkflow.run,
                start,
                id=claim_id,
                task_queue=self._task_queue,
                # Never a second claim for the same encounter, even after the first one closed.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return IntakeOutcome(claim_id=claim_id, started=False, held=held)
        return IntakeOutcome(claim_id=claim_id, started=True, held=held)

    async def intake_many(self, encounters: Sequence[Encounter | HeldIntake]) -> list[IntakeOutcome]:
        """`intake` for each, several at once (bounded like the queries), outcomes in order."""
        return await self._bounded(encounters, self.intake)

    # ------------------------------------------------------------------ helpers
    async def _owned(self, workflow_id: str) -> tuple[list[TaskRow], ClaimSnapshot | None]:
        """Every task, open or resolved, of the claim, appeal or exceptions workflow, and the
        claim's snapshot when the workflow is a claim's own."""
        if workflow_id == EXCEPTIONS_WORKFLOW_ID:
            return await self._exception_rows(), None
        if ids.is_appeal_workflow(workflow_id):
            # The query method types the answer; the handle need not know the run method.
            handle = self._client.get_workflow_handle(workflow_id)
            appeal = await _asked(workflow_id, handle.query(AppealWorkflow.state))
            rows = [
                TaskRow(
                    claim_id=appeal.claim_id,
                    claim_state=ClaimState.APPEALING.value,
                    payer_id=appeal.payer_id,
                    task=task,
                )
                for task in appeal.tasks
            ]
            return rows, None
        claim = await self._snapshot(workflow_id)
        rows = [
            TaskRow(
                claim_id=claim.claim_id, claim_state=claim.state.value, payer_id=claim.payer_id, task=task
            )
            for task in claim.tasks
        ]
        return rows, claim

    async def _owned_still_running(self, workflow_id: str) -> tuple[list[TaskRow], ClaimSnapshot | None]:
        """No rows for a workflow that closed between the listing and the query."""
        try:
            return await self._owned(workflow_id)
        except NotFound:
            return [], None

    async def _snapshot(self, workflow_id: str) -> ClaimSnapshot:
        return await _asked(
            workflow_id,
            self._client.get_workflow_handle(workflow_id).query(ClaimWorkflow.state),
        )

    async def _exception_rows(self) -> list[TaskRow]:
        handle = self._client.get_workflow_handle_for(ExceptionsWorkflow.run, EXCEPTIONS_WORKFLOW_ID)
        try:
            tasks = await handle.query(ExceptionsWorkflow.tasks)
        except RPCError as error:
            if _missing_workflow(error):
                return []  # no payer result has gone unmatched yet
            raise
        return [
            TaskRow(claim_id=EXCEPTIONS_WORKFLOW_ID, claim_state="exceptions", task=task) for task in tasks
        ]

    async def _list_stuck(self, query: str, now: datetime) -> list[StuckClaim]:
        claims = []
        async for execution in self._client.list_workflows(query):
            attributes = execution.typed_search_attributes
            progress = attributes.get(sa.LAST_PROGRESS_AT)
            deadline_at = attributes.get(sa.TIMELY_FILING_DEADLINE)
            deadline = deadline_at.date() if deadline_at else None
            claims.append(
                StuckClaim(
                    claim_id=execution.id,
                    state=attributes.get(sa.CLAIM_STATE) or "unknown",
                    payer_id=attributes.get(sa.PAYER_ID) or UNKNOWN_PAYER,
                    last_progress_at=progress,
                    timely_filing_deadline=deadline,
                    idle_days=(now - progress).days if progress else None,
                    days_to_deadline=(deadline - now.date()).days if deadline else None,
                )
            )
        return claims

    async def _bounded(
        self, items: Sequence[Item], call: Callable[[Item], Awaitable[Result]]
    ) -> list[Result]:
        """`call` on every item, never more than `max_in_flight` at once, results in order."""
        gate = asyncio.Semaphore(self._max_in_flight)

        async def one(item: Item) -> Result:
            async with gate:
                return await call(item)

        return list(await asyncio.gather(*(one(item) for item in items)))
