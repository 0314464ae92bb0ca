"""The read model at a health system's scale: 10,000 open tasks, A/R aging, the whole manager dashboard
and the console's search over 100,000 claims, each against a baseline timed in the same run on the
same database.

    python bench/readmodel.py [--claims N] [--tasks N] [--rounds R] [--database-url URL]

Generates a ledger (a SQLite file in a fresh directory unless --database-url names another) with N
claims in the read model (dates of service over 400 days, a third of them settled, each with its KPI
facts, one in fifty underpaid) and N open tasks on them, then times, as the median of R rounds:

* the baseline: a `SELECT 1` round trip, and counting the task rows (`SELECT count(*)`);
* listing every open task, most urgent first, as `ReadModel.open_tasks` (one indexed query);
* `claimflow tasks --json` itself, in process (it reads the read model and sends nothing to Temporal);
* A/R aging over every claim (`ReadModel.ar_aging`, one indexed query), against counting the claims;
* the whole dashboard as the console builds it from the read model (every table: KPIs overall and by
  payer, denials by category and payer, the weekly trend, A/R aging by payer, underpayments, counts
  by state and payer, stuck claims, deadlines, open tasks by age, resolutions), against counting the
  claims; and, for scale, claims.kpi.compute_kpis over the same claims' facts held in memory (what
  the console computed before, leaving out asking 100,000 workflows for them);
* the console's search (a patient's name in capitals, a claim id, a payer and a month of service
  dates), the first 500 matches and the count, against counting the claims.

The last line is the slowest of them as a figure, the goal being under a second each, and the
dashboard's ratio to counting the claims.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, insert, select, text
from typer.testing import CliRunner

from claimflow.claims.kpi import compute_kpis
from claimflow.claims.lifecycle import UnderpaymentStatus
from claimflow.claims.tasks import Priority, TaskKind
from claimflow.console.main import app
from claimflow.console.web.dashboard import build_dashboard, figures_from_read_model, lists_from_read_model
from claimflow.console.web.data import SEARCH_LIMIT
from claimflow.integrations.ledger.engine import create_ledger_engine
from claimflow.integrations.ledger.readmodel import ReadModel, TaskSort, search_text_of
from claimflow.integrations.ledger.schema import (
    ReadModelClaimRow,
    ReadModelCursorRow,
    ReadModelTaskRow,
    ReadModelUnderpaymentRow,
)

PAYERS = ("SANDBOX-BCBS", "SANDBOX-MEDICARE", "SANDBOX-AETNA", "SANDBOX-LAKESIDE", "SANDBOX-MEDICAID")
STATES = ("submitted", "acknowledged", "accepted", "denied", "patient_billing", "appealing")
NAMES = ("Nguyen", "Garcia", "Smith", "Okafor", "Kowalski", "Haddad", "Ito", "Brown", "Silva", "Jensen")
DENIALS = (
    "",
    "",
    "",
    "",
    "",
    "",
    "correct_and_resubmit",
    "coverage",
    "appeal",
    "appeal,correct_and_resubmit",
)
CENT = Decimal("0.01")


def generate(database_url: str, claims: int, tasks: int, now: datetime, seed: int = 18) -> int:
    """Claims and open tasks written straight into the read model's tables; returns how many claims
    have an A/R balance."""
    ReadModel(database_url).close()  # the schema, by the migrations
    rng = random.Random(seed)
    engine = create_ledger_engine(database_url)
    claim_rows, task_rows, underpaid = [], [], []
    for n in range(claims):
        settled = n % 3 == 0
        billed = Decimal(rng.randrange(5_000, 500_000)) / 100
        at_stake = Decimal(0) if settled else (billed * Decimal(rng.random())).quantize(CENT)
        submitted = settled or rng.random() < 0.9
        remitted = submitted and (settled or rng.random() < 0.6)
        denials = rng.choice(DENIALS) if remitted else ""
        paid = (billed - at_stake) * Decimal("0.8") if remitted else Decimal(0)
        claim_id, last, first = f"claim-BENCH{n:06d}", rng.choice(NAMES), f"Pat{n % 997}"
        claim_rows.append(
            {
                "claim_id": claim_id,
                "state": "closed" if settled else rng.choice(STATES),
                "payer_id": PAYERS[n % len(PAYERS)],
                "billed": billed,
                "balance": at_stake if submitted else Decimal(0),
                "amount_at_stake": at_stake,
                "patient": f"{last}, {first}",
                "date_of_service": now.date() - timedelta(days=rng.randrange(0, 400)),
                "last_progress_at": now - timedelta(hours=rng.randrange(0, 2_000)),
                "timely_filing_deadline": now.date() + timedelta(days=rng.randrange(-30, 365)),
                "is_open": not settled,
                "facts_known": True,
                "submitted": submitted,
                "clean": submitted and rng.random() < 0.85,
                "first_pass_resolved": remitted and not denials and rng.random() < 0.9,
                "remitted": remitted,
                "initially_denied": bool(denials) and rng.random() < 0.8,
                "denial_categories": denials,
                "payer_paid": paid.quantize(CENT),
                "patient_paid": (paid * Decimal("0.05")).quantize(CENT),
                "contractual_adjustment": (paid * Decimal("0.15")).quantize(CENT),
                "ar_balance": at_stake if submitted else Decimal(0),
                "first_remittance_on": now.date() - timedelta(days=rng.randrange(0, 120))
                if remitted
                else None,
                "patient_control_number": claim_id.removeprefix("claim-"),
                "open_tasks": 0,
                "search_text": search_text_of(
                    (
                        claim_id,
                        claim_id.removeprefix("claim-"),
                        "",
                        last,
                        first,
                        f"{first} {last}",
                        f"{last}, {first}",
                    )
                ),
            }
        )
        if n % 50 == 7:
            underpaid.append(
                {
                    "claim_id": claim_id,
                    "task_id": f"{claim_id}:9",
                    "payer_id": PAYERS[n % len(PAYERS)],
                    "status": rng.choice(list(UnderpaymentStatus)).value,
                    "shortfall": Decimal(rng.randrange(100, 5_000)) / 100,
                    "recovered": Decimal(0),
                }
            )
    open_claims = [row for row in claim_rows if row["is_open"]]
    kinds = list(TaskKind)
    for n in range(tasks):
        claim = open_claims[n % len(open_claims)]
        task_rows.append(
            {
                "task_id": f"{claim['claim_id']}:{n // len(open_claims) + 1}",
                "workflow_id": claim["claim_id"],
                "claim_id": claim["claim_id"],
                "kind": kinds[n % len(kinds)].value,
                "reason": "bench task",
                "priority": int(rng.choice(list(Priority))),
                "due_at": now + timedelta(hours=rng.randrange(-200, 400)),
                "created_at": now - timedelta(days=rng.randrange(0, 60)),
                "assignee": rng.choice((None, "billing", "amy@billing")),
                "patient": claim["patient"],
                "date_of_service": claim["date_of_service"],
                "payer_id": claim["payer_id"],
                "amount_at_stake": claim["amount_at_stake"],
                "claim_state": claim["state"],
            }
        )
    with engine.begin() as connection:
        connection.execute(insert(ReadModelClaimRow), claim_rows)
        connection.execute(insert(ReadModelTaskRow), task_rows)
        connection.execute(insert(ReadModelUnderpaymentRow), underpaid)
        connection.execute(insert(ReadModelCursorRow), [{"name": "projector", "at": now}])
    engine.dispose()
    return sum(1 for row in claim_rows if row["balance"] > 0)


CPU: list[tuple[str, float]] = []
"""(what, median CPU seconds) of each timing: on a loaded machine the wall clock also counts waiting"""


def median_seconds(work: Callable[[], object], rounds: int, what: str = "") -> float:
    times, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        work()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    if what:
        CPU.append((what, statistics.median(cpu)))
    return statistics.median(times)


def measure(database_url: str, claims: int, tasks: int, rounds: int) -> None:
    now = datetime.now(UTC)
    started = time.perf_counter()
    in_ar = generate(database_url, claims, tasks, now)
    print(f"generated {claims:,} claims and {tasks:,} open tasks in {time.perf_counter() - started:.1f} s")
    store = ReadModel(database_url, migrate_schema=False)
    engine = create_ledger_engine(database_url)
    runner = CliRunner()
    try:
        with engine.connect() as connection:
            select_one = median_seconds(lambda: connection.execute(text("SELECT 1")).scalar(), rounds)
            count_tasks = median_seconds(
                lambda: connection.execute(select(func.count()).select_from(ReadModelTaskRow)).scalar(),
                rounds,
            )
            count_claims = median_seconds(
                lambda: connection.execute(select(func.count()).select_from(ReadModelClaimRow)).scalar(),
                rounds,
            )
        listed = store.open_tasks(sort=TaskSort.PRIORITY)
        assert len(listed) == tasks, len(listed)
        listing = median_seconds(lambda: store.open_tasks(sort=TaskSort.PRIORITY), rounds, "listing")

        def command() -> None:
            result = runner.invoke(app, ["tasks", "--json"], env={"DATABASE_URL": database_url})
            assert result.exit_code == 0, result.output

        tasks_command = median_seconds(command, max(1, rounds // 2), "claimflow tasks")
        aging = store.ar_aging(now.date())
        assert sum(bucket.claims for bucket in aging) == in_ar, aging
        aging_time = median_seconds(lambda: store.ar_aging(now.date()), rounds, "A/R aging")

        def dashboard() -> object:
            """What the console's /dashboard does with a built read model (app.board_of)."""
            lists = lists_from_read_model(store, now, 7)
            figures = figures_from_read_model(store, now.date())
            return build_dashboard(None, now, 7, store.resolutions(), lists, figures, now)

        board = dashboard()
        assert board.kpis.claims == claims, board.kpis.claims  # type: ignore[attr-defined]
        dashboard_time = median_seconds(dashboard, rounds, "dashboard")
        # for scale: claims.kpi over the same claims' facts already in memory, as the console did
        facts = [view.facts() for view in store.claims()]
        in_memory = median_seconds(
            lambda: compute_kpis([f for f in facts if f is not None], now.date()),
            max(1, rounds // 3),
            "compute_kpis",
        )
        month_start = now.date() - timedelta(days=60)
        searches = {
            "name": {"text": "GARCIA"},
            "claim id": {"text": "claim-BENCH012345"},
            "payer and dates": {
                "payer": PAYERS[1],
                "service_from": month_start,
                "service_to": month_start + timedelta(days=30),
            },
        }
        found = {what: store.search(**query, limit=SEARCH_LIMIT) for what, query in searches.items()}  # type: ignore[arg-type]
        assert found["claim id"].total == 1 and found["name"].total > SEARCH_LIMIT, found["name"].total
        search_times = {
            what: median_seconds(
                lambda q=query: store.search(**q, limit=SEARCH_LIMIT), rounds, f"search {what}"
            )  # type: ignore[misc]
            for what, query in searches.items()
        }
    finally:
        store.close()
        engine.dispose()
    print(f"baseline: SELECT 1 {select_one * 1e3:.3f} ms; count(*) of {tasks:,} tasks "
          f"{count_tasks * 1e3:.2f} ms, of {claims:,} claims {count_claims * 1e3:.2f} ms")  # fmt: skip
    print(f"list {tasks:,} open tasks, most urgent first: {listing * 1e3:.0f} ms "
          f"({listing / count_tasks:.0f}x counting them)")  # fmt: skip
    print(f"claimflow tasks --json over {tasks:,} open tasks: {tasks_command * 1e3:.0f} ms "
          f"({tasks_command / count_tasks:.0f}x counting them)")  # fmt: skip
    print(f"A/R aging over {claims:,} claims: {aging_time * 1e3:.0f} ms "
          f"({aging_time / count_claims:.1f}x counting them); "
          + ", ".join(f"{b.bucket}: {b.claims:,} claims ${b.balance:,}" for b in aging))  # fmt: skip
    print(f"dashboard over {claims:,} claims (every table, read model): {dashboard_time * 1e3:.0f} ms "
          f"({dashboard_time / count_claims:.0f}x counting them); claims.kpi.compute_kpis over the same "
          f"claims' facts in memory alone: {in_memory * 1e3:.0f} ms")  # fmt: skip
    print("search over " + f"{claims:,} claims, the first {SEARCH_LIMIT} and the count: " + ", ".join(
        f"{what} {search_times[what] * 1e3:.0f} ms ({found[what].total:,} found)" for what in searches
    ))  # fmt: skip
    print("CPU time (median): " + ", ".join(f"{what} {seconds:.3f} s" for what, seconds in CPU))
    search_time = max(search_times.values())
    slowest = max(listing, tasks_command, aging_time, dashboard_time, search_time)
    print(
        f"listing {listing:.3f} s, claimflow tasks {tasks_command:.3f} s, A/R aging {aging_time:.3f} s, "
        f"dashboard {dashboard_time:.3f} s, search {search_time:.3f} s: slowest {slowest:.3f} s of the 1 s "
        f"goal; dashboard {dashboard_time / count_claims:.0f}x counting the claims"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--database-url", default=None, help="an empty database (default: a fresh SQLite file)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="claimflow-bench-readmodel-") as home:
        url = args.database_url or f"sqlite:///{Path(home) / 'ledger.db'}"
        measure(url, args.claims, args.tasks, args.rounds)


if __name__ == "__main__":
    main()
