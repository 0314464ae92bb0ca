"""The read model: open tasks and claims as rows in the ledger database, so the people's views scale.

The workflows own the truth (tasks, states, amounts); the projector (`projector.py`) copies what
they say here after they move, and rebuilds it all on demand. Listing ten thousand open tasks, or
A/R aging over a hundred thousand claims, is then one indexed query, not a query to each workflow.

A task row carries its claim's patient display name, date of service, payer, amount at stake and
state, so a list never joins or asks anything else; writing a claim restates them on every task of
that claim (its appeal's too).

A claim row also carries its KPI facts (claims.kpi.ClaimFacts) and the day of its first 835, and
each underpaid line is a row of its own, so the dashboard's KPIs are a few grouped queries whose
counts and sums are claims.kpi's own (`kpi_totals` gives claims.kpi.KpiTotals, which `report_of`
turns into the report every reader shows); and the console's search filters claims here by state,
payer and date of service through their indexes and matches ids and patient names in one
case-folded column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, and_, case, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from claimflow.claims import kpi
from claimflow.claims.denials import DenialCategory
from claimflow.claims.kpi import ClaimFacts, KpiTotals
from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState, UnderpaymentCase, UnderpaymentStatus
from claimflow.claims.money import CENT, ZERO, Money
from claimflow.claims.underpayment_report import UnderpaymentGroup
from claimflow.integrations.ledger.engine import create_ledger_engine
from claimflow.integrations.ledger.migrate import upgrade
from claimflow.integrations.ledger.models import LedgerModel
from claimflow.integrations.ledger.schema import (
    AuditRow,
    ReadModelClaimRow,
    ReadModelCursorRow,
    ReadModelSourceRow,
    ReadModelTaskRow,
    ReadModelUnderpaymentRow,
    TaskAssignmentRow,
)

CURSOR = "projector"
TABLES = (
    ReadModelTaskRow,
    ReadModelUnderpaymentRow,
    ReadModelClaimRow,
    ReadModelSourceRow,
    ReadModelCursorRow,
)
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
    facts_known: bool = False
    """the KPI facts below are the claim's (False: its state carried no encounter; no KPI counts it)"""
    submitted: bool = False
    clean: bool = False
    first_pass_resolved: bool = False
    remitted: bool = False
    initially_denied: bool = False
    denial_categories: frozenset[DenialCategory] = frozenset()
    payer_paid: Money = ZERO
    patient_paid: Money = ZERO
    contractual_adjustment: Money = ZERO
    ar_balance: Money = ZERO
    """ClaimFacts.ar_balance; `balance` is the same while the workflow runs, 0 once it ended"""
    first_remittance_on: date | None = None
    patient_control_number: str | None = None
    payer_claim_number: str | None = None
    open_tasks: int = 0
    """its own workflow's open tasks (an appeal's are its appeal's)"""
    search_text: str = ""

    def facts(self) -> ClaimFacts | None:
        """The claim's KPI facts as claims.kpi.facts_of gave them, None when they are not known."""
        if not self.facts_known or self.date_of_service is None:
            return None
        return ClaimFacts(
            claim_id=self.claim_id,
            state=ClaimState(self.state),
            service_date=self.date_of_service,
            charges=self.billed,
            submitted=self.submitted,
            clean=self.clean,
            first_pass_resolved=self.first_pass_resolved,
            remitted=self.remitted,
            initially_denied=self.initially_denied,
            denial_categories=self.denial_categories,
            payer_paid=self.payer_paid,
            patient_paid=self.patient_paid,
            contractual_adjustment=self.contractual_adjustment,
            ar_balance=self.ar_balance,
        )


class UnderpaymentView(LedgerModel):
    """One underpaid line of a claim (claims.lifecycle.UnderpaymentCase) as the dashboard counts it."""

    claim_id: str
    task_id: str
    payer_id: str
    status: UnderpaymentStatus
    shortfall: Money
    recovered: Money

    @classmethod
    def of(cls, claim_id: str, case: UnderpaymentCase) -> UnderpaymentView:
        return cls(
            claim_id=claim_id,
            task_id=case.task_id,
            payer_id=case.finding.payer_id,
            status=case.status,
            shortfall=case.finding.shortfall,
            recovered=case.recovered,
        )


SEPARATOR = "\x1f"
"""Between the values of a claim's search text: no typed search spans two of them."""


def search_values(snapshot: ClaimSnapshot) -> tuple[str, ...]:
    """What the console's search matches a claim by: its claim id, patient control number and payer
    claim number, and its patient's name as typed either way round."""
    encounter = snapshot.encounter
    names = (
        (
            encounter.patient.last_name,
            encounter.patient.first_name,
            f"{encounter.patient.first_name} {encounter.patient.last_name}",
            f"{encounter.patient.last_name}, {encounter.patient.first_name}",
        )
        if encounter
        else ()
    )
    return (snapshot.claim_id, snapshot.patient_control_number, snapshot.payer_claim_number or "", *names)


def folded(text: str) -> str:
    """A search text, or a typed search, as the search compares them: case-folded."""
    return text.casefold()


def search_text_of(values: Iterable[str]) -> str:
    return SEPARATOR.join(folded(value.replace(SEPARATOR, " ")) for value in values)


@dataclass(frozen=True)
class Found:
    """The first `limit` claims a query matched, in its order (a search's by claim id), and how
    many it matched (counted in the database)."""

    claims: list[ClaimView]
    total: int


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
    underpayments: Sequence[UnderpaymentView] = ()
    """the claim's underpaid lines (all of them: the old rows go), with `claim` only"""


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
            for table in TABLES:
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
            for table in TABLES:
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

    def quiet_claims(self, idle_since: datetime, settled: Iterable[str], limit: int | None = None) -> Found:
        """Claims not in a `settled` state whose last progress is before `idle_since`, the longest
        quiet first: the first `limit` (None: all) and how many there are."""
        claim = ReadModelClaimRow
        return self._first(
            [claim.last_progress_at < idle_since, claim.state.not_in(list(settled))],
            (claim.last_progress_at, claim.claim_id),
            limit,
        )

    def deadlines_before(self, until: date, states: Iterable[str], limit: int | None = None) -> Found:
        """Claims in one of `states` whose timely-filing deadline is on or before `until`, the
        nearest first: the first `limit` (None: all) and how many there are."""
        claim = ReadModelClaimRow
        return self._first(
            [claim.timely_filing_deadline <= until, claim.state.in_(list(states))],
            (claim.timely_filing_deadline, claim.claim_id),
            limit,
        )

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

    def kpi_totals(self, as_of: date, period_days: int = kpi.DEFAULT_PERIOD_DAYS) -> dict[str, KpiTotals]:
        """claims.kpi's totals (`totals_of`) of each payer's claims with known facts, summed here: one
        grouped query for the counts and sums (money summed in cents, exact on SQLite's floats too)
        and one for the denial categories. claims.kpi.report_of turns them into the report; the
        payers' totals add up to everyone's."""
        claim = ReadModelClaimRow
        known = claim.facts_known.is_(True)
        billed = claim.submitted.is_(True)
        service = claim.date_of_service
        in_period = and_(
            billed, service <= as_of, service > as_of - timedelta(days=period_days)
        )  # claims.kpi.in_period: 0 <= days < period_days
        owed = claim.ar_balance > 0
        aging = [
            and_(owed, *_age_conditions(service, as_of, index, low, high))
            for index, (_, low, high) in enumerate(kpi.AGING_BUCKETS)
        ]
        columns = [
            func.count(),
            _count_if(claim.clean.is_(True)),
            _count_if(billed),
            _count_if(and_(billed, claim.first_pass_resolved.is_(True))),
            _count_if(claim.remitted.is_(True)),
            _count_if(and_(claim.remitted.is_(True), claim.initially_denied.is_(True))),
            _cents(claim.billed, billed),
            _cents(claim.payer_paid, billed),
            _cents(claim.patient_paid, billed),
            _cents(claim.contractual_adjustment, billed),
            _cents(claim.billed, in_period),
            _cents(claim.ar_balance),
            *(_count_if(condition) for condition in aging),
            *(_cents(claim.ar_balance, condition) for condition in aging),
        ]
        sums = select(claim.payer_id, *columns).where(known).group_by(claim.payer_id)
        categories = (
            select(claim.payer_id, claim.denial_categories, func.count())
            .where(known, claim.remitted.is_(True), claim.denial_categories != "")
            .group_by(claim.payer_id, claim.denial_categories)
        )
        buckets = len(kpi.AGING_BUCKETS)
        with self._sessions() as session:
            found: dict[str, dict[DenialCategory, int]] = {}
            for payer, listed, count in session.execute(categories):
                for category in _categories(listed):
                    by_category = found.setdefault(str(payer), {})
                    by_category[category] = by_category.get(category, 0) + int(count)
            totals = {}
            for payer, *values in session.execute(sums):
                counts, amounts = [int(v or 0) for v in values[:6]], [_money(v) for v in values[6:12]]
                aging_claims, aging_cents = values[12 : 12 + buckets], values[12 + buckets :]
                totals[str(payer)] = KpiTotals(
                    claims=counts[0],
                    clean=counts[1],
                    billed=counts[2],
                    first_pass_resolved=counts[3],
                    remitted=counts[4],
                    initially_denied=counts[5],
                    denials_by_category=found.get(str(payer), {}),
                    charges=amounts[0],
                    payer_paid=amounts[1],
                    patient_paid=amounts[2],
                    contractual_adjustments=amounts[3],
                    period_charges=amounts[4],
                    ar_balance=amounts[5],
                    aging_claims=tuple(int(v or 0) for v in aging_claims),
                    aging_balance=tuple(_money(v) for v in aging_cents),
                )
        return dict(sorted(totals.items()))

    def first_remittances(self, since: date) -> list[tuple[date, int, int]]:
        """Per day since `since`: how many claims (with known facts) had their first 835 that day,
        and how many of those it denied (the dashboard's weekly denial-rate trend)."""
        claim = ReadModelClaimRow
        query = (
            select(claim.first_remittance_on, func.count(), _count_if(claim.initially_denied.is_(True)))
            .where(claim.facts_known.is_(True), claim.first_remittance_on >= since)
            .group_by(claim.first_remittance_on)
            .order_by(claim.first_remittance_on)
        )
        with self._sessions() as session:
            return [(day, int(count), int(denied or 0)) for day, count, denied in session.execute(query)]

    def underpayment_groups(self) -> list[UnderpaymentGroup]:
        """The underpaid lines counted and summed by payer and status (one grouped query), for
        claims.underpayment_report.by_payer_of_groups."""
        line = ReadModelUnderpaymentRow
        query = (
            select(line.payer_id, line.status, func.count(), _cents(line.shortfall), _cents(line.recovered))
            .group_by(line.payer_id, line.status)
            .order_by(line.payer_id, line.status)
        )
        with self._sessions() as session:
            return [
                UnderpaymentGroup(
                    payer_id=str(payer),
                    status=UnderpaymentStatus(status),
                    lines=int(count),
                    shortfall=_money(shortfall),
                    recovered=_money(recovered),
                )
                for payer, status, count, shortfall, recovered in session.execute(query)
            ]

    def search(
        self,
        *,
        text: str = "",
        payer: str | None = None,
        state: str | None = None,
        service_from: date | None = None,
        service_to: date | None = None,
        limit: int | None = None,
    ) -> Found:
        """Claims whose ids or patient name contain `text` (any case), of this payer and state, with
        a date of service in the range: payer, state and dates through their indexes, the text in
        the one case-folded column; the first `limit` by claim id, and how many matched."""
        claim = ReadModelClaimRow
        conditions: list[ColumnElement[bool]] = []
        if payer:
            conditions.append(claim.payer_id == payer)
        if state:
            conditions.append(claim.state == state)
        if service_from:
            conditions.append(claim.date_of_service >= service_from)
        if service_to:
            conditions.append(claim.date_of_service <= service_to)
        if text:
            conditions.append(claim.search_text.contains(folded(text), autoescape=True))
        return self._first(conditions, (claim.claim_id,), limit)

    def _first(
        self, conditions: Sequence[ColumnElement[bool]], order: Sequence[Any], limit: int | None
    ) -> Found:
        """The first `limit` claims (None: all) meeting `conditions` in this `order`, and how many
        meet them: a count(*) query, asked only when the limit was reached."""
        query = select(*_CLAIM_COLUMNS).where(*conditions).order_by(*order)
        counted = select(func.count()).select_from(ReadModelClaimRow).where(*conditions)
        with self._sessions() as session:
            rows = session.execute(query.limit(limit) if limit is not None else query).mappings().all()
            total = len(rows) if limit is None or len(rows) < limit else session.scalar(counted) or 0
            return Found([_claim_view_of(row) for row in rows], total)


# ---------------------------------------------------------------------- internals
def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _cents(column: Any, condition: ColumnElement[bool] | None = None) -> ColumnElement[Any]:
    """The sum of an amount column in whole cents: SQLite keeps NUMERIC as floats, whose sum in
    dollars can be off by a fraction of a cent; rounded to cents one by one, the sum is exact."""
    cents = func.round(column * 100)
    return func.coalesce(func.sum(cents if condition is None else case((condition, cents), else_=0)), 0)


def _money(cents: Any) -> Decimal:
    return (Decimal(int(cents or 0)) * CENT).quantize(CENT)


def _age_conditions(service: Any, as_of: date, index: int, low: int, high: int | None) -> list[Any]:
    """claims.kpi's A/R aging bucket by days since the date of service; the first bucket also
    holds a date of service after `as_of`."""
    conditions = []
    if high is not None:
        conditions.append(service >= as_of - timedelta(days=high))
    if index > 0:
        conditions.append(service <= as_of - timedelta(days=low))
    return conditions


def _categories(listed: str) -> list[DenialCategory]:
    return [DenialCategory(name) for name in listed.split(",") if name]


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
        values = claim.model_dump()
        values["denial_categories"] = ",".join(sorted(claim.denial_categories))
        rows.append(ReadModelClaimRow(**values))
        if not fresh:
            session.execute(
                delete(ReadModelUnderpaymentRow).where(ReadModelUnderpaymentRow.claim_id == claim.claim_id)
            )
        rows += [ReadModelUnderpaymentRow(**line.model_dump()) for line in projection.underpayments]
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


_CLAIM_COLUMNS = tuple(ReadModelClaimRow.__table__.c)


def _claim_view(row: ReadModelClaimRow) -> ClaimView:
    return _claim_view_of({column.name: getattr(row, column.key) for column in _CLAIM_COLUMNS})


def _claim_view_of(row: Any) -> ClaimView:
    """A claim row's columns as read: SQLite hands datetimes back naive (written in UTC) and floats
    for amounts; the columns are typed by the schema, so the view is built without validating it."""
    values = dict(row)
    progress = values["last_progress_at"]
    values["last_progress_at"] = _aware(progress) if progress else None
    values["denial_categories"] = frozenset(_categories(values["denial_categories"] or ""))
    for name in ("billed", "balance", "amount_at_stake", *_AMOUNTS):
        values[name] = Decimal(values[name]).quantize(CENT)
    return ClaimView.model_construct(**values)


_AMOUNTS = ("payer_paid", "patient_paid", "contractual_adjustment", "ar_balance")


def _source_view(row: ReadModelSourceRow) -> SourceView:
    return SourceView(
        workflow_id=row.workflow_id,
        workflow_type=row.workflow_type,
        run_id=row.run_id,
        claim_id=row.claim_id,
        status=row.status,
        last_progress_at=_aware(row.last_progress_at) if row.last_progress_at else None,
    )
