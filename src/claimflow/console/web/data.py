"""What the console's pages read: the work queue from the read model (ledger tables the worker's
projector keeps current, integrations/ledger/readmodel.py), claims and their tasks from Temporal
(through ClaimsClient), held tasks and notes from the ledger.

The work queue is one indexed query of the read model, whatever the number of claims; right after a
person resolves a task here, the task's workflow (and its claim's) is projected again at once, so
their queue never lists the task they just resolved. Only while the read model was never built
(no worker has run its projector, no `claimflow readmodel rebuild`) does the queue fall back to the
copy below, and says so on the page.

The console's search is one query of the read model too (payer, state and dates by their indexes,
ids and patient names in one case-folded column), and so is every figure of the dashboard
(dashboard.py). Only without a read model, or while it was never built, do they read the copy below
instead, and the page says so.

That copy: a page must answer in well under a
second, and asking every claim's workflow takes longer than that once there are hundreds. So the
work queue and the snapshot of every claim are loaded together, kept, and served while a newer
copy loads in the background once they are `fresh_seconds` old (a page waits only when nothing was
loaded yet, or the copy is older than `max_stale_seconds`). A claim or task page asks its workflow
directly, and what a person does here is applied to the copy at once, so nobody sees their own
change undone by a stale list.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from temporalio.service import RPCError

from claimflow.claims import ids
from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState
from claimflow.claims.money import ZERO, Money
from claimflow.claims.tasks import Task, TaskKind, TaskResolution
from claimflow.console.claims_client import (
    EXCEPTIONS_WORKFLOW_ID,
    ClaimsClient,
    NotFound,
    StuckClaim,
    TaskRow,
    WorkQueue,
    workflow_id_of_task,
)
from claimflow.console.worklist import from_read_model
from claimflow.integrations.ledger import AuditEntry, Ledger, X12Archive
from claimflow.integrations.ledger.projector import Projector
from claimflow.integrations.ledger.readmodel import (
    RESOLVED,
    ClaimView,
    ReadModel,
    Resolutions,
    TaskSort,
    TaskView,
    folded,
    search_values,
)
from claimflow.integrations.ledger.worklist import Assignment, Note, Worklist

DUE_SOON = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=5)
"""A read model older than this is said to be behind: the worker's projector catches up every few
seconds (the same limit as `claimflow tasks`)."""
ALL_CLAIMS_QUERY = "WorkflowType = 'ClaimWorkflow'"
RUNNING_CLAIMS_QUERY = f"{ALL_CLAIMS_QUERY} AND ExecutionStatus = 'Running'"


class SlaState(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due soon"
    ON_TRACK = "on track"


def sla_state(task: Task, now: datetime) -> SlaState:
    if task.due_at < now:
        return SlaState.OVERDUE
    if task.due_at - now <= DUE_SOON:
        return SlaState.DUE_SOON
    return SlaState.ON_TRACK


@dataclass(frozen=True)
class QueueItem:
    """A line of the work queue: the task, who holds it, and the claim it is about."""

    row: TaskRow
    claim: ClaimSnapshot | None
    holder: str | None
    sla: SlaState
    listed: TaskView | None = None
    """the read model's row, when the queue was read from it (it holds the claim's list facts)"""

    @property
    def task(self) -> Task:
        return self.row.task

    @property
    def patient(self) -> str:
        if self.listed is not None:
            return self.listed.patient or ""
        encounter = self.claim.encounter if self.claim else None
        if encounter is None:
            return ""
        return f"{encounter.patient.last_name}, {encounter.patient.first_name}"

    @property
    def service_date(self) -> date | None:
        if self.listed is not None:
            return self.listed.date_of_service
        encounter = self.claim.encounter if self.claim else None
        return encounter.service_date if encounter else None

    @property
    def amount(self) -> Money:
        if self.listed is not None:
            return self.listed.billed if self.listed.billed is not None else ZERO
        return self.claim.billed if self.claim else ZERO


@dataclass(frozen=True)
class QueueListing:
    """The queue's lines and where they came from."""

    items: list[QueueItem]
    read_model_at: datetime | None
    """when the read model was last brought up to date; None: it was never built, and the lines
    come from asking every workflow"""
    stale: bool = False
    """the read model has not been brought up to date for STALE_AFTER: is a worker running?"""


@dataclass(frozen=True)
class QueueFilter:
    kind: TaskKind | None = None
    payer: str | None = None
    holder: str | None = None
    """'mine', 'unassigned' or None for everyone's"""
    overdue: bool = False
    sort: str = "due"
    descending: bool = False


SORT_KEYS: dict[str, Callable[[QueueItem], tuple[object, ...]]] = {
    "due": lambda item: (item.task.due_at, item.task.id),
    "priority": lambda item: (-item.task.priority, item.task.due_at),
    "kind": lambda item: (item.task.kind.value, item.task.due_at),
    "claim": lambda item: (item.row.claim_id, item.task.id),
    "payer": lambda item: (item.row.payer_id or "", item.task.due_at),
    "amount": lambda item: (item.amount, item.task.due_at),
    "patient": lambda item: (item.patient, item.task.due_at),
    "assignee": lambda item: (item.holder or "", item.task.due_at),
}
READ_MODEL_SORTS = {"due": TaskSort.DUE, "priority": TaskSort.PRIORITY, "patient": TaskSort.PATIENT}
"""Orders the read model's query gives as the queue means them (the others are sorted here)."""


@dataclass
class Loaded:
    """One load of everything the lists and the dashboard show."""

    at: float
    queue: WorkQueue
    claims: dict[str, ClaimSnapshot]
    listed: list[StuckClaim]
    resolved_here: set[str] = field(default_factory=set)
    """tasks resolved through this console since the load (hidden from the queue at once)"""


SEARCH_LIMIT = 500
"""The search page lists this many claims at most (by claim id) and says how many matched; its CSV
holds them all."""


@dataclass(frozen=True)
class FoundClaim:
    """A line of the search's results."""

    claim_id: str
    patient: str
    date_of_service: date | None
    payer_id: str
    state: str
    billed: Money
    paid: Money
    open_tasks: int

    @classmethod
    def of_view(cls, view: ClaimView) -> FoundClaim:
        return cls(
            view.claim_id, view.patient or "", view.date_of_service, view.payer_id, view.state,
            view.billed, view.payer_paid, view.open_tasks,
        )  # fmt: skip

    @classmethod
    def of_snapshot(cls, claim: ClaimSnapshot) -> FoundClaim:
        encounter = claim.encounter
        patient = f"{encounter.patient.last_name}, {encounter.patient.first_name}" if encounter else ""
        return cls(
            claim.claim_id, patient, encounter.service_date if encounter else None, claim.payer_id,
            claim.state.value, claim.billed, claim.paid, len(claim.open_tasks),
        )  # fmt: skip


@dataclass(frozen=True)
class SearchResult:
    claims: list[FoundClaim]
    total: int
    """how many matched (more than listed when the search was limited)"""
    read_model_at: datetime | None
    """when the read model searched was last brought up to date; None: every workflow was asked"""


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    """patient name, claim, encounter or payer claim number (any part, any case)"""
    payer: str | None = None
    state: ClaimState | None = None
    service_from: date | None = None
    service_to: date | None = None

    @property
    def empty(self) -> bool:
        return not (self.text or self.payer or self.state or self.service_from or self.service_to)


class ConsoleData:
    def __init__(
        self,
        claims: ClaimsClient,
        ledger: Ledger,
        worklist: Worklist,
        *,
        fresh_seconds: float = 15.0,
        max_stale_seconds: float = 120.0,
        max_in_flight: int = 50,
        query_timeout_seconds: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        x12: X12Archive | None = None,
        read_model: ReadModel | None = None,
        projector: Projector | None = None,
    ) -> None:
        """`x12`: the claims' sealed X12 the claim page opens (None: the page lists none).
        `read_model`: where the work queue is read (None: every workflow is asked, as while it was
        never built); `projector` projects a task's workflow again after a resolution sent here."""
        self.claims = claims
        self.ledger = ledger
        self.worklist = worklist
        self.x12 = x12
        self.read_model = read_model
        self.projector = projector
        self._fresh = fresh_seconds
        self._max_stale = max_stale_seconds
        self._gate = asyncio.Semaphore(max_in_flight)
        self._query_timeout = query_timeout_seconds
        self._clock = clock
        self._loaded: Loaded | None = None
        self._loading: asyncio.Task[Loaded] | None = None

    def now(self) -> datetime:
        return self._clock()

    # ------------------------------------------------------------------ the read model
    async def loaded(self) -> Loaded:
        """The newest load; a stale one starts a reload in the background and is served meanwhile."""
        current = self._loaded
        age = time.monotonic() - current.at if current else None
        if current is not None and age is not None and age < self._fresh:
            return current
        if self._loading is None or self._loading.done():
            self._loading = asyncio.create_task(self._load())
        if current is not None and age is not None and age < self._max_stale:
            return current
        return await asyncio.shield(self._loading)

    async def reload(self) -> Loaded:
        """A load started now (after a change whose effects the lists must show)."""
        self._loading = asyncio.create_task(self._load())
        return await asyncio.shield(self._loading)

    async def _load(self) -> Loaded:
        """Visibility lists every claim (no query to a workflow); a claim whose state and last
        progress are what they were at the last load keeps the snapshot it had, only claims that
        moved are asked again. The work queue is the open tasks of the running claims' snapshots,
        with the running appeals' and the exceptions workflow's asked of them."""
        started = time.monotonic()
        now = self.now()
        listed, running, others = await asyncio.gather(
            self.claims.claims_matching(ALL_CLAIMS_QUERY, now),
            self.claims.claims_matching(RUNNING_CLAIMS_QUERY, now),
            self.claims.appeal_and_exception_tasks(),
        )
        previous = self._loaded
        seen = {claim.claim_id: _progress(claim) for claim in previous.listed} if previous else {}
        known: dict[str, ClaimSnapshot] = {}
        missing = []
        for claim in listed:
            kept = previous.claims.get(claim.claim_id) if previous else None
            if kept is not None and seen.get(claim.claim_id) == _progress(claim):
                known[claim.claim_id] = kept
            else:
                missing.append(claim.claim_id)
        missing += [row.claim_id for row in others if row.claim_id not in known]
        for snapshot in await asyncio.gather(*(self._claim_or_none(claim_id) for claim_id in set(missing))):
            if snapshot is not None:
                known[snapshot.claim_id] = snapshot
        rows = [
            TaskRow(
                claim_id=claim.claim_id, claim_state=claim.state.value, payer_id=claim.payer_id, task=task
            )
            for claim in (known.get(running_claim.claim_id) for running_claim in running)
            if claim is not None
            for task in claim.tasks
            if task.is_open
        ]
        rows += others
        queue = WorkQueue(
            rows=sorted(rows, key=lambda row: (row.task.due_at, row.task.id)),
            claims={claim.claim_id: claim for claim in known.values()},
        )
        loaded = Loaded(at=started, queue=queue, claims=known, listed=listed)
        self._loaded = loaded
        return loaded

    async def _claim_or_none(self, claim_id: str) -> ClaimSnapshot | None:
        """The claim's snapshot for a list; None for one that cannot answer in time (no worker polls
        its queue, or it was terminated before it ever ran), so one such claim never holds up a page
        for everyone. Its own claim page still asks it directly and says what went wrong."""
        if claim_id == EXCEPTIONS_WORKFLOW_ID:
            return None
        async with self._gate:
            try:
                return await asyncio.wait_for(self.claims.claim(claim_id), self._query_timeout)
            except (NotFound, RPCError, TimeoutError):
                return None

    # ------------------------------------------------------------------ pages
    async def queue(self, wanted: QueueFilter, user: str) -> list[QueueItem]:
        return (await self.queue_listing(wanted, user)).items

    async def queue_listing(self, wanted: QueueFilter, user: str) -> QueueListing:
        """The queue as `wanted` filters and sorts it: one query of the read model (the holder
        joined), or, while it was never built, the copy loaded from every workflow."""
        now = self.now()
        cursor = await asyncio.to_thread(self.read_model.cursor) if self.read_model else None
        if self.read_model is None or cursor is None:
            return QueueListing(await self._queue_from_workflows(wanted, user), None)
        views = await asyncio.to_thread(
            self.read_model.open_tasks,
            kind=wanted.kind.value if wanted.kind else None,
            payer=wanted.payer,
            due_before=now if wanted.overdue else None,
            holder=user if wanted.holder == "mine" else None,
            unassigned=wanted.holder == "unassigned",
            sort=READ_MODEL_SORTS.get(wanted.sort, TaskSort.DUE),
            descending=wanted.descending,
        )
        items = [
            QueueItem(row=row, claim=None, holder=view.holder, sla=sla_state(row.task, now), listed=view)
            for view, row in zip(views, from_read_model(views, now.date()), strict=True)
        ]
        if wanted.sort not in READ_MODEL_SORTS:
            items.sort(key=SORT_KEYS.get(wanted.sort, SORT_KEYS["due"]), reverse=wanted.descending)
        return QueueListing(items, cursor, stale=now - cursor > STALE_AFTER)

    async def _queue_from_workflows(self, wanted: QueueFilter, user: str) -> list[QueueItem]:
        loaded = await self.loaded()
        now = self.now()
        holders = self.worklist.assignments()
        items = []
        for row in loaded.queue.rows:
            if row.task.id in loaded.resolved_here:
                continue
            holder = holders.get(row.task.id)
            item = QueueItem(
                row=row,
                claim=loaded.claims.get(row.claim_id),
                holder=holder.assignee if holder else None,
                sla=sla_state(row.task, now),
            )
            if _wanted(item, wanted, user):
                items.append(item)
        return sorted(items, key=SORT_KEYS.get(wanted.sort, SORT_KEYS["due"]), reverse=wanted.descending)

    async def payers(self) -> list[str]:
        if self.read_model is not None and await asyncio.to_thread(self.read_model.cursor) is not None:
            return await asyncio.to_thread(self.read_model.payers)
        loaded = await self.loaded()
        return sorted(
            {claim.payer_id for claim in loaded.listed}
            | {row.payer_id for row in loaded.queue.rows if row.payer_id}
        )

    async def queue_item(self, task_id: str) -> QueueItem:
        """One task as the queue shows it, asked of its workflow now."""
        row = await self.claims.task(task_id)
        claim = await self._claim_or_none(row.claim_id)
        holder = self.worklist.assignments([task_id]).get(task_id)
        return QueueItem(
            row=row,
            claim=claim,
            holder=holder.assignee if holder else None,
            sla=sla_state(row.task, self.now()),
        )

    async def claim(self, claim_id: str) -> ClaimSnapshot:
        """A claim asked of its workflow now (and the read model updated with it)."""
        snapshot = await self.claims.claim(claim_id)
        if self._loaded is not None:
            self._loaded.claims[snapshot.claim_id] = snapshot
        return snapshot

    async def search(self, query: SearchQuery, limit: int | None = None) -> SearchResult:
        """The claims matching `query`, by claim id (the first `limit`): one query of the read model
        once it was built, else a match over every claim's snapshot loaded from the workflows."""
        model = self.read_model
        cursor = await asyncio.to_thread(model.cursor) if model is not None else None
        if model is not None and cursor is not None:
            found = await asyncio.to_thread(
                model.search,
                text=query.text,
                payer=query.payer,
                state=query.state.value if query.state else None,
                service_from=query.service_from,
                service_to=query.service_to,
                limit=limit,
            )
            return SearchResult([FoundClaim.of_view(view) for view in found.claims], found.total, cursor)
        loaded = await self.loaded()
        matched = sorted(
            (claim for claim in loaded.claims.values() if _matches(claim, query)),
            key=lambda claim: claim.claim_id,
        )
        listed = matched if limit is None else matched[:limit]
        return SearchResult([FoundClaim.of_snapshot(claim) for claim in listed], len(matched), None)

    async def resolutions(self) -> list[Resolutions]:
        """Task resolutions per person and kind from the audit trail: one grouped query of the read
        model's database, or (a console without a read model) the same count over the trail here."""
        if self.read_model is not None:
            return await asyncio.to_thread(self.read_model.resolutions)
        entries = await asyncio.to_thread(self.ledger.audit)
        counts = Counter(
            (entry.actor, str(entry.details.get("kind") or "unrecorded"))
            for entry in entries
            if entry.action == RESOLVED
        )
        return [
            Resolutions(actor=actor, kind=kind, resolved=count)
            for (actor, kind), count in sorted(counts.items())
        ]

    def notes(self, *, task_id: str | None = None, claim_id: str | None = None) -> list[Note]:
        return self.worklist.notes(task_id=task_id, claim_id=claim_id)

    def audit(self, claim_id: str) -> list[AuditEntry]:
        return self.ledger.audit(ids.encounter_id_of(claim_id))

    def holder(self, task_id: str) -> Assignment | None:
        return self.worklist.assignments([task_id]).get(task_id)

    # ------------------------------------------------------------------ changes
    async def resolve(self, resolution: TaskResolution, claim_id: str) -> Task:
        resolved = await self.claims.resolve(resolution)
        self.worklist.release(resolution.task_id, ids.encounter_id_of(claim_id), by=resolution.actor)
        await self._project_again(resolution.task_id, claim_id)
        if self._loaded is not None:
            self._loaded.resolved_here.add(resolution.task_id)
            # the claim moved on: its next task shows at the next load, which starts now
            self._loaded = replace(self._loaded, at=self._loaded.at - self._fresh)
        return resolved

    async def _project_again(self, task_id: str, claim_id: str) -> None:
        """The read model brought up to date with the task's workflow and its claim's, now: the
        queue a person sees after their own resolution lists neither the task they resolved nor a
        claim state from before it. When the workflow cannot be asked, the task's row is dropped
        (the projector's next pass restates the workflow as it is)."""
        if self.read_model is None or self.projector is None:
            return
        owner = workflow_id_of_task(task_id)
        workflows = {owner} | ({claim_id} if ids.is_claim_workflow(claim_id) else set())
        try:
            report = await self.projector.refresh(workflows)
        except (RPCError, TimeoutError, OSError):
            report = None
        if report is None or not report.written:
            await asyncio.to_thread(self.read_model.forget_tasks, [task_id])

    def record(self, actor: str, action: str, claim_id: str | None, details: dict[str, object]) -> None:
        self.ledger.log_action(actor, action, ids.encounter_id_of(claim_id) if claim_id else None, details)

    async def close(self) -> None:
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._loading


def _progress(claim: StuckClaim) -> tuple[str, datetime | None]:
    """What visibility says of a claim's progress: its state and when it last moved."""
    return claim.state, claim.last_progress_at


def _wanted(item: QueueItem, wanted: QueueFilter, user: str) -> bool:
    if wanted.kind is not None and item.task.kind is not wanted.kind:
        return False
    if wanted.payer and item.row.payer_id != wanted.payer:
        return False
    if wanted.holder == "mine" and item.holder != user:
        return False
    if wanted.holder == "unassigned" and item.holder is not None:
        return False
    return not (wanted.overdue and item.sla is not SlaState.OVERDUE)


def _matches(claim: ClaimSnapshot, query: SearchQuery) -> bool:
    encounter = claim.encounter
    if query.payer and claim.payer_id != query.payer:
        return False
    if query.state and claim.state is not query.state:
        return False
    if query.service_from or query.service_to:
        if encounter is None:
            return False
        if query.service_from and encounter.service_date < query.service_from:
            return False
        if query.service_to and encounter.service_date > query.service_to:
            return False
    if not query.text:
        return True
    needle = folded(query.text)
    return any(needle in folded(value) for value in search_values(claim))
