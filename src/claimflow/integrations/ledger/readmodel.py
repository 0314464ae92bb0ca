"""The read model: open tasks and claims as rows in the ledger database, so the people's views scale.

The workflows own the truth (tasks, states, amounts); the projector (`projector.py`) copies what
they say here after they move, and rebuilds it all on demand. Listing ten thousand open tasks, or
A/R aging over a hundred thousand claims, is then one indexed query, not a query to each workflow.

A task row carries its claim's patient display name, date of service, payer, amount at stake and
state, so a list never joins or asks anything else; writing a claim restates them on every task of
that claim (its appeal's too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import RowMapping, Select, case, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from claimflow.claims.money import ZERO, Money
from claimflow.integrations.ledger.engine import create_ledger_engine
from claimflow.integrations.ledger.migrate import upgrade
from claimflow.integrations.ledger.models import LedgerModel
from claimflow.integrations.ledger.schema import (
    AuditRow,
    ReadModelClaimRow,
    ReadModelCursorRow,
    ReadModelSourceRow,
    ReadModelTaskRow,
    TaskAssignmentRow,
)

CURSOR = "projector"
AGING_BUCKETS: tuple[tuple[str, int | None], ...] = (
    ("0-30", 30),
    ("31-60", 60),
    ("61-90", 90),
    ("91-120", 120),
    ("120+", None),
)
"""A/R aging by days since the date of service, as claims.kpi defines it."""


class TaskSort(StrEnum):
    """Orders the lists ask for; every one ends with due date and task id."""

    PRIORITY = "priority"
    DUE = "due"
    AMOUNT = "amount"
    DOS = "dos"
    PATIENT = "patient"


class TaskView(LedgerModel):
    """One open task with its claim's facts (None where the task has no claim, as an unmatched
    remittance)."""

    task_id: str
    workflow_id: str
    claim_id: str
    kind: str
    reason: str
    priority: int
    due_at: datetime
    created_at: datetime
    assignee: str | None = None
    patient: str | None = None
    date_of_service: date | None = None
    payer_id: str | None = None
    amount_at_stake: Money | None = None
    claim_state: str | None = None
    holder: str | None = None
    """who holds it in the web console's work queue (task_assignments); only read, never written"""
    billed: Money | None = None
    """its claim's total charge (read_model_claims); only read, never written"""


class ClaimView(LedgerModel):
    claim_id: str
    state: str
    payer_id: str
    billed: Money
    balance: Money
    amount_at_stake: Money
    patient: str | None = None
    date_of_service: date | None = None
    last_progress_at: datetime | None = None
    timely_filing_deadline: date | None = None
    is_open: bool = True


class SourceView(LedgerModel):
    """What the projector last saw of one workflow."""

    workflow_id: str
    workflow_type: str
    run_id: str
    claim_id: str | None = None
    status: str
    last_progress_at: datetime | None = None


class AgingBucket(LedgerModel):
    bucket: str
    claims: int
    balance: Money


class Resolutions(LedgerModel):
    """How many tasks of one kind one person resolved (the audit trail's `task_resolved`)."""

    actor: str
    kind: str
    resolved: int


RESOLVED = "task_resolved"
"""The audit action the console and `claimflow task resolve` record for every resolution they sent."""


@dataclass(frozen=True)
class Projection:
    """What one workflow says now: its open tasks (all of them: the old rows go) and, for a claim's
    own workflow, the claim."""

    source: SourceView
    tasks: Sequence[TaskView] = ()
    claim: ClaimView | None = None


@dataclass
class Counts:
    tasks: int = 0
    claims: int = 0
    workflows: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class ReadModel:
    """The read model's tables in the ledger database at `database_url`."""

    def __init__(self, database_url: str, *, migrate_schema: bool = True) -> None:
        self._engine = create_ledger_engine(database_url)
        if migrate_schema:
            upgrade(self._engine)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)

    def close(self) -> None:
        self._engine.dispose()

    # ------------------------------------------------------------------ writing
    def apply(self, projections: Iterable[Projection], cursor: datetime | None = None) -> int:
        """Write each workflow's projection in one transaction (its task rows replaced, its claim
        upserted), and move the cursor to `cursor` when given. Returns how many were written."""
        written = 0
        with self._sessions.begin() as session:
            for projection in projections:
                _write(session, projection)
                written += 1
            if cursor is not None:
                _set_cursor(session, cursor)
        return written

    def rebuild(self, projections: Iterable[Projection], cursor: datetime) -> int:
        """Replace everything with these projections, in one transaction: a reader sees the old read
        model or the new one, never half of each."""
        with self._sessions.begin() as session:
            for table in (ReadModelTaskRow, ReadModelClaimRow, ReadModelSourceRow, ReadModelCursorRow):
                session.execute(delete(table))
            written = 0
            for projection in projections:
                _write(session, projection, fresh=True)
                written += 1
            _set_cursor(session, cursor)
        return written

    def forget_tasks(self, task_ids: Iterable[str]) -> None:
        """Drop these tasks' rows (resolved here when their workflow could not be asked again at once;
        the projector's next pass restates the workflow as it is)."""
        with self._sessions.begin() as session:
            session.execute(delete(ReadModelTaskRow).where(ReadModelTaskRow.task_id.in_(list(task_ids))))

    def clear(self) -> None:
        """Forget everything (the next pass of the projector rebuilds)."""
        with self._sessions.begin() as session:
            for table in (ReadModelTaskRow, ReadModelClaimRow, ReadModelSourceRow, ReadModelCursorRow):
                session.execute(delete(table))

    # ------------------------------------------------------------------ reading
    def cursor(self) -> datetime | None:
        """When the last completed pass started; None for a read model never built."""
        with self._sessions() as session:
            row = session.get(ReadModelCursorRow, CURSOR)
            return _aware(row.at) if row else None

    def open_tasks(
        self,
        *,
        kind: str | None = None,
        payer: str | None = None,
        due_before: datetime | None = None,
        holder: str | None = None,
        unassigned: bool = False,
        sort: TaskSort = TaskSort.DUE,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[TaskView]:
        """Open tasks filtered and sorted in the database: one query (the holder is joined)."""
        query = _tasks_query(kind, payer, due_before, holder, unassigned, sort, descending)
        if limit is not None:
            query = query.limit(limit)
        with self._sessions() as session:
            return [_task_view(row) for row in session.execute(query).mappings()]

    def tasks_of(self, claim_id: str) -> list[TaskView]:
        query = _tasks_query(None, None, None, None, False, TaskSort.DUE, False).where(
            ReadModelTaskRow.claim_id == claim_id
        )
        with self._sessions() as session:
            return [_task_view(row) for row in session.execute(query).mappings()]

    def claim(self, claim_id: str) -> ClaimView | None:
        with self._sessions() as session:
            row = session.get(ReadModelClaimRow, claim_id)
            return _claim_view(row) if row else None

    def claims(self, claim_ids: Iterable[str] | None = None) -> list[ClaimView]:
        query = select(ReadModelClaimRow).order_by(ReadModelClaimRow.claim_id)
        if claim_ids is not None:
            query = query.where(ReadModelClaimRow.claim_id.in_(list(claim_ids)))
        with self._sessions() as session:
            return [_claim_view(row) for row in session.scalars(query)]

    def sources(self, workflow_ids: Iterable[str] | None = None) -> dict[str, SourceView]:
        query = select(ReadModelSourceRow)
        if workflow_ids is not None:
            query = query.where(ReadModelSourceRow.workflow_id.in_(list(workflow_ids)))
        with self._sessions() as session:
            return {row.workflow_id: _source_view(row) for row in session.scalars(query)}

    def claims_by_state(self) -> list[tuple[str, int]]:
        """How many claims (open and closed) are in each state: one grouped query."""
        return self._count_by(ReadModelClaimRow.state)

    def claims_by_payer(self) -> list[tuple[str, int]]:
        return self._count_by(ReadModelClaimRow.payer_id)

    def _count_by(self, column: Any) -> list[tuple[str, int]]:
        query = select(column, func.count()).group_by(column).order_by(column)
        with self._sessions() as session:
            return [(str(key), int(count)) for key, count in session.execute(query)]

    def quiet_claims(self, idle_since: datetime, settled: Iterable[str]) -> list[ClaimView]:
        """Claims not in a `settled` state whose last progress is before `idle_since`, the longest
        quiet first."""
        query = (
            select(ReadModelClaimRow)
            .where(
                ReadModelClaimRow.last_progress_at < idle_since,
                ReadModelClaimRow.state.not_in(list(settled)),
            )
            .order_by(ReadModelClaimRow.last_progress_at, ReadModelClaimRow.claim_id)
        )
        with self._sessions() as session:
            return [_claim_view(row) for row in session.scalars(query)]

    def deadlines_before(self, until: date, states: Iterable[str]) -> list[ClaimView]:
        """Claims in one of `states` whose timely-filing deadline is on or before `until`, the
        nearest first."""
        query = (
            select(ReadModelClaimRow)
            .where(
                ReadModelClaimRow.timely_filing_deadline <= until,
                ReadModelClaimRow.state.in_(list(states)),
            )
            .order_by(ReadModelClaimRow.timely_filing_deadline, ReadModelClaimRow.claim_id)
        )
        with self._sessions() as session:
            return [_claim_view(row) for row in session.scalars(query)]

    def task_ages(self) -> list[tuple[str, datetime, datetime]]:
        """Every open task's kind, creation and due time (three columns, for ages and SLA counts)."""
        query = select(ReadModelTaskRow.kind, ReadModelTaskRow.created_at, ReadModelTaskRow.due_at)
        with self._sessions() as session:
            return [
                (str(kind), _aware(created), _aware(due)) for kind, created, due in session.execute(query)
            ]

    def payers(self) -> list[str]:
        """Every payer a claim or an open task names (index ix_readmodel_claims_payer)."""
        claims = select(ReadModelClaimRow.payer_id).distinct()
        tasks = select(ReadModelTaskRow.payer_id).where(ReadModelTaskRow.payer_id.is_not(None)).distinct()
        with self._sessions() as session:
            return sorted({str(payer) for query in (claims, tasks) for payer in session.scalars(query)})

    def resolutions(self) -> list[Resolutions]:
        """Task resolutions per person and kind, from the ledger's audit trail in one grouped query:
        every resolution a signed-in person sent (a manager's write-off approval on an appeal too),
        whichever workflow held the task. An entry without a kind (written before kinds were
        recorded) counts as "unrecorded"."""
        kind = func.coalesce(AuditRow.details["kind"].as_string(), "unrecorded").label("kind")
        query = (
            select(AuditRow.actor, kind, func.count())
            .where(AuditRow.action == RESOLVED)
            .group_by(AuditRow.actor, kind)
            .order_by(AuditRow.actor, kind)
        )
        with self._sessions() as session:
            return [
                Resolutions(actor=actor, kind=str(found), resolved=int(count))
                for actor, found, count in session.execute(query)
            ]

    def counts(self) -> Counts:
        with self._sessions() as session:
            by_kind = dict(
                session.execute(
                    select(ReadModelTaskRow.kind, func.count()).group_by(ReadModelTaskRow.kind)
                ).all()
            )
            return Counts(
                tasks=sum(by_kind.values()),
                claims=session.scalar(select(func.count()).select_from(ReadModelClaimRow)) or 0,
                workflows=session.scalar(select(func.count()).select_from(ReadModelSourceRow)) or 0,
                by_kind={str(kind): int(count) for kind, count in by_kind.items()},
            )

    def ar_aging(self, as_of: date) -> list[AgingBucket]:
        """The A/R balance and claim count by days since the date of service (claims.kpi's buckets),
        in one query over the claims with a balance (index ix_readmodel_claims_ar)."""
        bucket = case(
            *(
                (ReadModelClaimRow.date_of_service >= as_of - timedelta(days=days), name)
                for name, days in AGING_BUCKETS
                if days is not None
            ),
            else_=AGING_BUCKETS[-1][0],
        ).label("bucket")
        query = (
            select(bucket, func.count(), func.sum(ReadModelClaimRow.balance))
            .where(ReadModelClaimRow.balance > 0, ReadModelClaimRow.date_of_service.is_not(None))
            .group_by(bucket)
        )
        with self._sessions() as session:
            found = {name: (int(count), Decimal(total or 0)) for name, count, total in session.execute(query)}
        return [
            AgingBucket(
                bucket=name,
                claims=found.get(name, (0, ZERO))[0],
                balance=found.get(name, (0, ZERO))[1].quantize(Decimal("0.01")),
            )
            for name, _ in AGING_BUCKETS
        ]


# ---------------------------------------------------------------------- internals
_SORTS: dict[TaskSort, tuple[Any, ...]] = {
    TaskSort.DUE: (),
    TaskSort.PRIORITY: (ReadModelTaskRow.priority.desc(),),
    TaskSort.AMOUNT: (ReadModelTaskRow.amount_at_stake.is_(None), ReadModelTaskRow.amount_at_stake.desc()),
    TaskSort.DOS: (ReadModelTaskRow.date_of_service.is_(None), ReadModelTaskRow.date_of_service),
    TaskSort.PATIENT: (ReadModelTaskRow.patient.is_(None), func.lower(ReadModelTaskRow.patient)),
}


_TASK_COLUMNS = tuple(ReadModelTaskRow.__table__.c)


def _tasks_query(
    kind: str | None,
    payer: str | None,
    due_before: datetime | None,
    holder: str | None,
    unassigned: bool,
    sort: TaskSort,
    descending: bool,
) -> Select[Any]:
    # columns, not ORM objects: ten thousand rows load in a fraction of the time
    query = (
        select(*_TASK_COLUMNS, TaskAssignmentRow.assignee.label("holder"), ReadModelClaimRow.billed)
        .outerjoin(TaskAssignmentRow, TaskAssignmentRow.task_id == ReadModelTaskRow.task_id)
        .outerjoin(ReadModelClaimRow, ReadModelClaimRow.claim_id == ReadModelTaskRow.claim_id)
    )
    if kind is not None:
        query = query.where(ReadModelTaskRow.kind == kind)
    if payer is not None:
        query = query.where(ReadModelTaskRow.payer_id == payer)
    if due_before is not None:
        query = query.where(ReadModelTaskRow.due_at < due_before)
    if holder is not None:
        query = query.where(TaskAssignmentRow.assignee == holder)
    if unassigned:
        query = query.where(TaskAssignmentRow.assignee.is_(None))
    order: list[Any] = [*_SORTS[sort], ReadModelTaskRow.due_at, ReadModelTaskRow.task_id]
    if descending:
        order = [column.desc() for column in order]
    return query.order_by(*order)


def _write(session: Session, projection: Projection, *, fresh: bool = False) -> None:
    source = projection.source
    if not fresh:
        session.execute(delete(ReadModelTaskRow).where(ReadModelTaskRow.workflow_id == source.workflow_id))
    rows: list[object] = [ReadModelSourceRow(**source.model_dump())]
    claim = projection.claim
    if claim is not None:
        rows.append(ReadModelClaimRow(**claim.model_dump()))
    for row in rows:
        if fresh:
            session.add(row)
        else:
            session.merge(row)
    session.add_all(
        ReadModelTaskRow(**task.model_dump(exclude={"holder", "billed"})) for task in projection.tasks
    )
    if claim is not None and not fresh:
        session.flush()
        # every task of the claim (its appeals' too) shows the claim as it is now
        session.execute(
            update(ReadModelTaskRow)
            .where(ReadModelTaskRow.claim_id == claim.claim_id)
            .values(
                patient=claim.patient,
                date_of_service=claim.date_of_service,
                payer_id=claim.payer_id,
                amount_at_stake=claim.amount_at_stake,
            )
        )


def _set_cursor(session: Session, at: datetime) -> None:
    session.merge(ReadModelCursorRow(name=CURSOR, at=at))


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _task_view(row: RowMapping) -> TaskView:
    """A row as read: SQLite hands datetimes back naive (written in UTC); the columns are typed by
    the schema, so the view is built without validating it again."""
    values = dict(row)
    values["due_at"] = _aware(values["due_at"])
    values["created_at"] = _aware(values["created_at"])
    return TaskView.model_construct(**values)


def _claim_view(row: ReadModelClaimRow) -> ClaimView:
    return ClaimView(
        claim_id=row.claim_id,
        state=row.state,
        payer_id=row.payer_id,
        billed=row.billed,
        balance=row.balance,
        amount_at_stake=row.amount_at_stake,
        patient=row.patient,
        date_of_service=row.date_of_service,
        last_progress_at=_aware(row.last_progress_at) if row.last_progress_at else None,
        timely_filing_deadline=row.timely_filing_deadline,
        is_open=row.is_open,
    )


def _source_view(row: ReadModelSourceRow) -> SourceView:
    return SourceView(
        workflow_id=row.workflow_id,
        workflow_type=row.workflow_type,
        run_id=row.run_id,
        claim_id=row.claim_id,
        status=row.status,
        last_progress_at=_aware(row.last_progress_at) if row.last_progress_at else None,
    )
