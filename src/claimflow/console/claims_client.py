"""The console's whole access to Temporal: find claims, read their tasks, resolve them, start claims.

It takes a connected `Client`, so the command line, the web console and the tests share one
implementation. Listing goes through visibility (the search attributes, never PHI) and then asks
each claim's `state` query, with a bound on the queries in flight so a long list never floods the
server (the dev server refuses past about a thousand concurrent waits).
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
    WorkflowExecution,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from claimflow.claims.encounter import Encounter, Model
from claimflow.claims.lifecycle import ClaimInput, ClaimSnapshot, ClaimState
from claimflow.claims.tasks import Task, TaskKind, TaskResolution
from claimflow.workflows import search_attributes as sa
from claimflow.workflows.claim import ClaimWorkflow
from claimflow.workflows.exceptions import ExceptionsWorkflow

EXCEPTIONS_WORKFLOW_ID = "claim-exceptions"
EXCEPTIONS_TASK_PREFIX = "exceptions"
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


class NotFound(LookupError):
    """No claim or task by that id."""


class ClaimMissing(NotFound):
    """No workflow by that id (as opposed to one that exists but cannot answer)."""


class ResolutionRejected(ValueError):
    """The workflow's validator refused the resolution; the message says why and what to send."""


class TaskRow(Model):
    """An open or resolved task with the claim it belongs to."""

    claim_id: str
    claim_state: str | None = None
    payer_id: str | None = None
    task: Task

    def overdue(self, now: datetime) -> bool:
        return self.task.is_open and self.task.due_at < now


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


def claim_id_of_task(task_id: str) -> str:
    """`claim-E1:3` belongs to workflow `claim-E1`; `exceptions:2` to the exceptions workflow."""
    workflow_id, colon, number = task_id.rpartition(":")
    if not colon or not workflow_id or not number.isdigit():
        raise NotFound(f"{task_id!r} is not a task id: task ids look like claim-<encounter id>:<n>")
    return EXCEPTIONS_WORKFLOW_ID if workflow_id == EXCEPTIONS_TASK_PREFIX else workflow_id


def workflow_ids_for(claim_or_encounter_id: str) -> list[str]:
    """The workflow ids a person may mean: `claim-E1` or the encounter id `E1`. An encounter id may
    itself start with `claim-`, so `claim-9` means workflow `claim-9`, else `claim-claim-9`."""
    encounter_workflow = f"claim-{claim_or_encounter_id}"
    if claim_or_encounter_id.startswith("claim-"):
        return [claim_or_encounter_id, encounter_workflow]
    return [encounter_workflow]


def _missing_workflow(error: RPCError) -> bool:
    """NOT_FOUND for the workflow itself, not for the namespace (a configuration error)."""
    return error.status is RPCStatusCode.NOT_FOUND and "namespace" not in error.message.lower()


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
        """Open tasks, of one kind and one payer when given, oldest due first."""
        kinds = [kind] if kind else list(TaskKind)
        query = (
            "WorkflowType = 'ClaimWorkflow' AND ExecutionStatus = 'Running' AND "
            f"{sa.OPEN_TASK.name} IN ({', '.join(_quote(k.value) for k in kinds)})"
        )
        if payer:
            query += f" AND {sa.PAYER_ID.name} = {_quote(payer)}"
        executions = [execution async for execution in self._client.list_workflows(query)]
        snapshots = await self._bounded(executions, self._snapshot_of)
        rows = [
            TaskRow(claim_id=s.claim_id, claim_state=s.state.value, payer_id=s.payer_id, task=task)
            for s in snapshots
            if s is not None
            for task in s.open_tasks
            if kind is None or task.kind is kind
        ]
        if include_exceptions and payer is None:
            rows += [row for row in await self._exception_rows() if kind is None or row.task.kind is kind]
        return sorted(rows, key=lambda row: (row.task.due_at, row.task.id))

    async def task(self, task_id: str) -> TaskRow:
        claim_id = claim_id_of_task(task_id)
        if claim_id == EXCEPTIONS_WORKFLOW_ID:
            rows = await self._exception_rows()
        else:
            snapshot = await self._snapshot(claim_id)
            rows = [
                TaskRow(
                    claim_id=claim_id, claim_state=snapshot.state.value, payer_id=snapshot.payer_id, task=t
                )
                for t in snapshot.tasks
            ]
        for row in rows:
            if row.task.id == task_id:
                return row
        raise NotFound(f"claim {claim_id} has no task {task_id!r}")

    async def claim(self, claim_or_encounter_id: str) -> ClaimSnapshot:
        """A claim by its workflow id or its encounter id."""
        candidates = workflow_ids_for(claim_or_encounter_id)
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
        idle_since = now - timedelta(days=days)
        horizon = now + timedelta(days=days)
        base = "WorkflowType = 'ClaimWorkflow' AND ExecutionStatus = 'Running'"
        no_progress_query = f"{base} AND {sa.LAST_PROGRESS_AT.name} < {_quote(_rfc3339(idle_since))}"
        states = ", ".join(_quote(state.value) for state in NOT_YET_ACCEPTED)
        deadline_near_query = (
            f"{base} AND {sa.TIMELY_FILING_DEADLINE.name} <= {_quote(_rfc3339(horizon))}"
            f" AND {sa.CLAIM_STATE.name} IN ({states})"
        )
        no_progress = await self._list_stuck(no_progress_query, now)
        deadline_near = await self._list_stuck(deadline_near_query, now)
        return StuckReport(
            as_of=now,
            days=days,
            no_progress=sorted(no_progress, key=lambda c: c.last_progress_at or now),
            deadline_near=sorted(deadline_near, key=lambda c: c.timely_filing_deadline or now.date()),
            no_progress_query=no_progress_query,
            deadline_near_query=deadline_near_query,
        )

    # ------------------------------------------------------------------ changing
    async def resolve(self, resolution: TaskResolution) -> Task:
        """Resolve through the workflow's Update. A refused resolution raises ResolutionRejected."""
        claim_id = claim_id_of_task(resolution.task_id)
        try:
            if claim_id == EXCEPTIONS_WORKFLOW_ID:
                exceptions = self._client.get_workflow_handle(claim_id)
                return await exceptions.execute_update(ExceptionsWorkflow.resolve_task, resolution)
            claim = self._client.get_workflow_handle(claim_id)
            return await claim.execute_update(ClaimWorkflow.resolve_task, resolution)
        except WorkflowUpdateFailedError as failure:
            cause = failure.cause
            if isinstance(cause, ApplicationError) and cause.type == "InvalidResolution":
                raise ResolutionRejected(cause.message) from None
            raise
        except RPCError as error:
            if _missing_workflow(error):
                raise NotFound(
                    f"claim {claim_id!r} is not open (or does not exist): {error.message}"
                ) from None
            raise

    async def intake(self, encounter: Encounter, received_by: str = "intake") -> IntakeOutcome:
        """Start the claim's workflow. A claim that exists already (open or closed) is left alone."""
        claim_id = f"claim-{encounter.encounter_id}"
        try:
            await self._client.start_workflow(
                ClaimWorkflow.run,
                ClaimInput(encounter=encounter, received_by=received_by),
                id=claim_id,
                task_queue=self._task_queue,
                # Never a second claim for the same encounter, even after the first one closed.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return IntakeOutcome(claim_id=claim_id, started=False)
        return IntakeOutcome(claim_id=claim_id, started=True)

    async def intake_many(self, encounters: Sequence[Encounter]) -> list[IntakeOutcome]:
        """`intake` for each, several at once (bounded like the queries), outcomes in order."""
        return await self._bounded(encounters, self.intake)

    # ------------------------------------------------------------------ helpers
    async def _snapshot_of(self, execution: WorkflowExecution) -> ClaimSnapshot | None:
        """None for a claim that closed between the listing and the query."""
        try:
            return await self._snapshot(execution.id)
        except NotFound:
            return None

    async def _snapshot(self, workflow_id: str) -> ClaimSnapshot:
        try:
            return await self._client.get_workflow_handle_for(ClaimWorkflow.run, workflow_id).query(
                ClaimWorkflow.state
            )
        except RPCError as error:
            if _missing_workflow(error):
                raise ClaimMissing(f"no claim {workflow_id!r}: check the id with `claimflow tasks`") from None
            raise
        except WorkflowQueryFailedError as error:
            raise NotFound(f"claim {workflow_id!r} cannot be read: {error.message}") from None

    async def _exception_rows(self) -> list[TaskRow]:
        handle = self._client.get_workflow_handle_for(ExceptionsWorkflow.run, EXCEPTIONS_WORKFLOW_ID)
        try:
            tasks = await handle.query(ExceptionsWorkflow.tasks)
        except RPCError as error:
            if _missing_workflow(error):
                return []  # no payer result has gone unmatched yet
            raise
        return [
            TaskRow(claim_id=EXCEPTIONS_WORKFLOW_ID, claim_state="exceptions", task=task)
            for task in tasks
            if task.is_open
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
                    payer_id=attributes.get(sa.PAYER_ID) or "unknown",
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
