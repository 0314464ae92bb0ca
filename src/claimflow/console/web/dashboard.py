"""The manager dashboard's figures: every table a manager reads, each also a chart and a CSV.

The KPIs are claims.kpi's (HFMA definitions): overall, per payer, and per week of the first
remittance for the denial-rate trend, each claims.kpi.report_of the totals of its claims. Once the
read model is built, those totals, the underpayments, the counts by state and payer, the stuck
claims, the deadlines and the open tasks are its grouped and indexed queries (`figures_from_read_model`,
`lists_from_read_model`): nothing is asked of any workflow, whatever the number of claims. The page
lists the first LIST_LIMIT stuck claims and deadlines (the longest quiet, the nearest first) and
says how many there are, counted in the database; their CSVs hold every one. Before it
was ever built they are taken over the claims' snapshots loaded from the workflows
(`figures_from_loaded`, `lists_from_loaded`), and the page says so. Resolutions per person come from
the ledger's audit trail (every resolution a person sent, a manager's write-off approval on an
appeal too), grouped in one query.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from claimflow.claims.kpi import (
    AGING_BUCKETS,
    SETTLED_STATES,
    ClaimFacts,
    KpiReport,
    KpiTotals,
    facts_of,
    report_of,
    totals_of,
)
from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState
from claimflow.claims.tasks import TaskKind
from claimflow.claims.underpayment_report import PayerUnderpayments, by_payer, by_payer_of_groups
from claimflow.console.claims_client import NOT_YET_ACCEPTED
from claimflow.console.web.charts import bar_chart, line_chart
from claimflow.console.web.data import Loaded
from claimflow.integrations.ledger.readmodel import ReadModel, Resolutions

Cell = str | int
TASK_AGE_BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("under 1 day", timedelta(days=1)),
    ("1-3 days", timedelta(days=3)),
    ("3-7 days", timedelta(days=7)),
    ("7-30 days", timedelta(days=30)),
    ("30+ days", timedelta.max),
)
TREND_WEEKS = 8
LIST_LIMIT = 200
"""The page lists this many stuck claims and deadlines at risk at most (the longest quiet, the
nearest first) and says how many there are; each list's CSV holds them all (`limit=None`)."""


@dataclass(frozen=True)
class Table:
    name: str
    """its CSV's name: /dashboard/NAME.csv"""
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    chart: str = ""
    total: int | None = None
    """how many rows the whole table has, where `rows` may be only its first (a capped list)"""

    @property
    def capped(self) -> bool:
        return self.total is not None and self.total > len(self.rows)

    @property
    def shown(self) -> str:
        """What the page says of a capped table: "showing the first 200 of 61,234"."""
        return f"showing the first {len(self.rows):,} of {self.total:,}" if self.capped else ""


class Listed(Protocol):
    """A claim as the lists show it: visibility's StuckClaim or the read model's ClaimView."""

    @property
    def claim_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def payer_id(self) -> str: ...
    @property
    def last_progress_at(self) -> datetime | None: ...
    @property
    def timely_filing_deadline(self) -> date | None: ...


@dataclass(frozen=True)
class Shown:
    """The first claims of a list, in its order, and how many the whole list has."""

    claims: Sequence[Listed]
    total: int


def _first(claims: Sequence[Listed], limit: int | None) -> Shown:
    return Shown(claims[:limit], len(claims))


@dataclass(frozen=True)
class Lists:
    """What the dashboard's counts and lists read: the read model's grouped and filtered queries
    (`from_read_model`), or the copy loaded from the workflows (`from_loaded`)."""

    by_state: list[tuple[str, int]]
    by_payer: list[tuple[str, int]]
    quiet: Shown
    """claims not settled, with no progress for the dashboard's days, the longest quiet first"""
    deadlines: Shown
    """claims not yet accepted whose timely-filing deadline is within the dashboard's days, the
    nearest first"""
    tasks: list[tuple[TaskKind, datetime, datetime]]
    """every open task's kind, creation and due time"""


def lists_from_read_model(
    model: ReadModel, now: datetime, stuck_days: int, limit: int | None = LIST_LIMIT
) -> Lists:
    """Five indexed queries of the read model (the two lists' first `limit`, and their counts),
    nothing asked of any workflow."""
    settled = [state.value for state in SETTLED_STATES]
    waiting = [state.value for state in NOT_YET_ACCEPTED]
    quiet = model.quiet_claims(now - timedelta(days=stuck_days), settled, limit)
    near = model.deadlines_before(now.date() + timedelta(days=stuck_days), waiting, limit)
    return Lists(
        by_state=model.claims_by_state(),
        by_payer=model.claims_by_payer(),
        quiet=Shown(quiet.claims, quiet.total),
        deadlines=Shown(near.claims, near.total),
        tasks=[(TaskKind(kind), created, due) for kind, created, due in model.task_ages()],
    )


def lists_from_loaded(
    loaded: Loaded, now: datetime, stuck_days: int, limit: int | None = LIST_LIMIT
) -> Lists:
    """The same lists over the copy loaded from the workflows (a read model never built), in the
    read model's order (ties by claim id) so that the first `limit` are the same claims."""
    today, idle_since = now.date(), now - timedelta(days=stuck_days)
    settled = {state.value for state in SETTLED_STATES}
    waiting = {state.value for state in NOT_YET_ACCEPTED}
    return Lists(
        by_state=list(Counter(claim.state for claim in loaded.listed).items()),
        by_payer=sorted(Counter(claim.payer_id for claim in loaded.listed).items()),
        quiet=_first(
            [
                claim
                for claim in sorted(loaded.listed, key=lambda c: (c.last_progress_at or now, c.claim_id))
                if claim.last_progress_at
                and claim.last_progress_at < idle_since
                and claim.state not in settled
            ],
            limit,
        ),
        deadlines=_first(
            [
                claim
                for claim in sorted(
                    loaded.listed, key=lambda c: (c.timely_filing_deadline or today, c.claim_id)
                )
                if claim.timely_filing_deadline
                and claim.state in waiting
                and (claim.timely_filing_deadline - today).days <= stuck_days
            ],
            limit,
        ),
        tasks=[
            (row.task.kind, row.task.created_at, row.task.due_at)
            for row in loaded.queue.rows
            if row.task.id not in loaded.resolved_here
        ],
    )


@dataclass(frozen=True)
class Figures:
    """What the KPI tables read: claims.kpi's totals of every claim with known facts, of each
    payer's, and of the claims whose first 835 came in each week (keyed by its Monday, the last
    TREND_WEEKS weeks), and the underpayments by payer."""

    everyone: KpiTotals
    payers: dict[str, KpiTotals]
    weeks: dict[date, KpiTotals]
    underpayments: list[PayerUnderpayments]


def _trend_weeks(today: date) -> list[date]:
    this_week = today - timedelta(days=today.weekday())
    return [this_week - timedelta(weeks=back) for back in range(TREND_WEEKS - 1, -1, -1)]


def figures_from_read_model(model: ReadModel, today: date) -> Figures:
    """Four grouped queries of the read model (the KPI sums by payer, the denial categories by
    payer, the first remittances by day, the underpayments by payer and status)."""
    payers = model.kpi_totals(today)
    weeks: dict[date, KpiTotals] = {}
    for day, remitted, denied in model.first_remittances(_trend_weeks(today)[0]):
        week = day - timedelta(days=day.weekday())
        weeks[week] = weeks.get(week, KpiTotals()) + KpiTotals(remitted=remitted, initially_denied=denied)
    return Figures(
        everyone=sum(payers.values(), KpiTotals()),
        payers=payers,
        weeks=weeks,
        underpayments=by_payer_of_groups(model.underpayment_groups()),
    )


def figures_from_loaded(loaded: Loaded, today: date) -> Figures:
    """The same figures over the claims' snapshots loaded from the workflows (a read model never
    built): claims.kpi.facts_of of each, totalled as the read model totals its rows."""
    snapshots = [claim for claim in loaded.claims.values() if claim.encounter is not None]
    facts = {claim.claim_id: facts_of(claim) for claim in snapshots}
    by_payer_facts: dict[str, list[ClaimFacts]] = defaultdict(list)
    by_week: dict[date, list[ClaimFacts]] = defaultdict(list)
    first_week = _trend_weeks(today)[0]
    for claim in snapshots:
        by_payer_facts[claim.payer_id].append(facts[claim.claim_id])
        first = _first_remittance(claim)
        if first is not None and first >= first_week:
            by_week[first - timedelta(days=first.weekday())].append(facts[claim.claim_id])
    return Figures(
        everyone=totals_of(facts.values(), today),
        payers={payer: totals_of(group, today) for payer, group in sorted(by_payer_facts.items())},
        weeks={week: totals_of(group, today) for week, group in by_week.items()},
        underpayments=by_payer(case for claim in snapshots for case in claim.underpayments),
    )


@dataclass(frozen=True)
class Dashboard:
    as_of: date
    kpis: KpiReport
    stuck_days: int
    tables: list[Table]
    read_model_at: datetime | None = None
    """when the read model its figures were queried from was last brought up to date; None: they
    were taken over the snapshot of every claim's workflow (a read model never built)"""

    def table(self, name: str) -> Table | None:
        return next((table for table in self.tables if table.name == name), None)


def build_dashboard(
    loaded: Loaded | None,
    now: datetime,
    stuck_days: int = 7,
    resolutions: Sequence[Resolutions] = (),
    lists: Lists | None = None,
    figures: Figures | None = None,
    read_model_at: datetime | None = None,
    limit: int | None = LIST_LIMIT,
) -> Dashboard:
    """The dashboard of `figures` and `lists` (the read model's, brought up to date at
    `read_model_at`); what is not given is taken over the claims' snapshots in `loaded` (the lists'
    first `limit`, None: all)."""
    today = now.date()
    if lists is None or figures is None:
        if loaded is None:
            raise ValueError("the dashboard needs the read model's figures and lists, or the loaded claims")
        lists = lists or lists_from_loaded(loaded, now, stuck_days, limit)
        figures = figures or figures_from_loaded(loaded, today)
    report = report_of(figures.everyone, today)
    payer_reports = {payer: report_of(totals, today) for payer, totals in figures.payers.items()}
    tables = [
        _by_state(lists.by_state),
        _by_payer(lists.by_payer),
        _kpi_table(report, payer_reports),
        _denials_by_category(report, payer_reports),
        _denial_trend(figures.weeks, today),
        _aging_by_payer(report, payer_reports),
        _stuck(lists.quiet, now, stuck_days),
        _deadlines(lists.deadlines, today, stuck_days),
        _open_tasks(lists.tasks, now),
        _resolutions(resolutions),
        _underpayments(figures.underpayments),
    ]
    return Dashboard(
        as_of=today, kpis=report, stuck_days=stuck_days, tables=tables, read_model_at=read_model_at
    )


def _by_state(counts: list[tuple[str, int]]) -> Table:
    order = [state.value for state in ClaimState]
    rows = sorted(counts, key=lambda pair: order.index(pair[0]) if pair[0] in order else len(order))
    return Table(
        "claims_by_state",
        "Claims by state",
        ("state", "claims"),
        list(rows),
        bar_chart("Claims by state", rows),
    )


def _by_payer(counts: list[tuple[str, int]]) -> Table:
    rows = sorted(counts)
    return Table(
        "claims_by_payer",
        "Claims by payer",
        ("payer", "claims"),
        list(rows),
        bar_chart("Claims by payer", rows),
    )


def _percent(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def _kpi_table(report: KpiReport, payers: dict[str, KpiReport]) -> Table:
    def row(name: str, kpis: KpiReport) -> tuple[Cell, ...]:
        return (
            name,
            kpis.claims,
            _percent(kpis.clean_claim_rate.part, kpis.clean_claim_rate.whole),
            _percent(kpis.first_pass_resolution_rate.part, kpis.first_pass_resolution_rate.whole),
            _percent(kpis.denial_rate.part, kpis.denial_rate.whole),
            str(kpis.days_in_ar) if kpis.days_in_ar is not None else "n/a",
            f"{kpis.ar_balance:,}",
        )

    rows = [row("all payers", report), *(row(payer, kpis) for payer, kpis in payers.items())]
    headers = (
        "payer",
        "claims",
        "clean-claim rate",
        "first-pass resolution",
        "denial rate",
        "days in A/R",
        "A/R",
    )
    return Table("kpis", "Key figures (HFMA definitions)", headers, rows)


def _denials_by_category(report: KpiReport, payers: dict[str, KpiReport]) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for payer, kpis in [("all payers", report), *payers.items()]:
        for category, rate in kpis.denials_by_category.items():
            rows.append((payer, category.value, rate.part, rate.whole, _percent(rate.part, rate.whole)))
    chart = bar_chart(
        "Denial rate by payer",
        [
            (payer, round(100 * kpis.denial_rate.part / kpis.denial_rate.whole, 1))
            for payer, kpis in payers.items()
            if kpis.denial_rate.whole
        ],
        unit="%",
    )
    headers = ("payer", "category", "claims denied", "claims remitted", "rate")
    return Table("denials", "Denials by category and payer", headers, rows, chart)


def _first_remittance(snapshot: ClaimSnapshot) -> date | None:
    return next((entry.at.date() for entry in snapshot.timeline if entry.step == "835"), None)


def _denial_trend(by_week: dict[date, KpiTotals], today: date) -> Table:
    """The initial denial rate of the claims whose first 835 came in each of the last weeks."""
    rows: list[tuple[Cell, ...]] = []
    points = []
    for week in _trend_weeks(today):
        rate = report_of(by_week.get(week, KpiTotals()), today).denial_rate
        rows.append((week.isoformat(), rate.part, rate.whole, _percent(rate.part, rate.whole)))
        if rate.whole:
            points.append((week.strftime("%b %d"), round(100 * rate.part / rate.whole, 1)))
    headers = ("week of", "claims denied", "claims remitted", "denial rate")
    return Table(
        "denial_trend",
        "Denial rate by week of first remittance",
        headers,
        rows,
        line_chart("Denial rate by week", points),
    )


def _aging_by_payer(report: KpiReport, payers: dict[str, KpiReport]) -> Table:
    headers = ("payer", *(f"{label} days" for label, _, _ in AGING_BUCKETS), "total")
    rows: list[tuple[Cell, ...]] = []
    for payer, kpis in [*payers.items(), ("all payers", report)]:
        rows.append((payer, *(f"{bucket.balance:,}" for bucket in kpis.ar_aging), f"{kpis.ar_balance:,}"))
    chart = bar_chart("A/R by age (all payers)", [(b.label, b.balance) for b in report.ar_aging], unit="")
    return Table("ar_aging", "A/R aging by payer (days since the date of service)", headers, rows, chart)


def _stuck(quiet: Shown, now: datetime, days: int) -> Table:
    rows: list[tuple[Cell, ...]] = [
        (
            claim.claim_id,
            claim.state,
            claim.payer_id,
            claim.last_progress_at.date().isoformat(),
            (now - claim.last_progress_at).days,
        )
        for claim in quiet.claims
        if claim.last_progress_at
    ]
    headers = ("claim", "state", "payer", "last progress", "idle days")
    return Table("stuck", f"Stuck claims: no progress for {days} days", headers, rows, total=quiet.total)


def _deadlines(near: Shown, today: date, days: int) -> Table:
    rows: list[tuple[Cell, ...]] = [
        (
            claim.claim_id,
            claim.state,
            claim.payer_id,
            claim.timely_filing_deadline.isoformat(),
            (claim.timely_filing_deadline - today).days,
        )
        for claim in near.claims
        if claim.timely_filing_deadline
    ]
    headers = ("claim", "state", "payer", "timely filing deadline", "days left")
    title = f"Timely-filing deadlines within {days} days, not yet accepted"
    return Table("deadlines", title, headers, rows, total=near.total)


def _open_tasks(tasks: list[tuple[TaskKind, datetime, datetime]], now: datetime) -> Table:
    rows_by_kind: dict[TaskKind, list[int]] = defaultdict(lambda: [0] * (len(TASK_AGE_BUCKETS) + 1))
    for kind, created_at, due_at in tasks:
        age = now - created_at
        index = next(i for i, (_, limit) in enumerate(TASK_AGE_BUCKETS) if age < limit)
        counts = rows_by_kind[kind]
        counts[index] += 1
        counts[-1] += due_at < now  # past due: the SLA is breached (data.sla_state's OVERDUE)
    headers = ("kind", *(label for label, _ in TASK_AGE_BUCKETS), "past due (SLA breached)")
    rows: list[tuple[Cell, ...]] = [(kind.value, *counts) for kind, counts in sorted(rows_by_kind.items())]
    chart = bar_chart(
        "Open tasks past due, by kind",
        [(kind.value, counts[-1]) for kind, counts in sorted(rows_by_kind.items())],
    )
    return Table("open_tasks", "Open tasks by age and SLA", headers, rows, chart)


def _resolutions(resolutions: Sequence[Resolutions]) -> Table:
    people: Counter[str] = Counter()
    for row in resolutions:
        people[row.actor] += row.resolved
    rows: list[tuple[Cell, ...]] = [(row.actor, row.kind, row.resolved) for row in resolutions]
    chart = bar_chart("Resolutions per person", sorted(people.items()))
    return Table("resolutions", "Task resolutions per person", ("person", "kind", "resolved"), rows, chart)


def _underpayments(rows: Sequence[PayerUnderpayments]) -> Table:
    """Lines allowed below the payer's contract (claims/underpayment_report): open and recovered."""
    cells: list[tuple[Cell, ...]] = [
        (
            row.payer_id,
            row.lines,
            row.open_lines,
            str(row.open_amount),
            row.appealed,
            row.recovered_lines,
            str(row.recovered_amount),
            row.accepted_lines,
            row.corrected_lines,
        )
        for row in rows
    ]
    chart = bar_chart(
        "Open underpayments by payer ($)", [(row.payer_id, float(row.open_amount)) for row in rows]
    )
    return Table(
        "underpayments",
        "Underpayments by payer (allowed below contract)",
        ("payer", "lines", "open", "open $", "appealed", "recovered", "recovered $", "accepted", "corrected"),
        cells,
        chart,
    )
