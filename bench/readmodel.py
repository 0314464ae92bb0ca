"""The read model at a health system's scale: 10,000 open tasks and A/R aging over 100,000 claims,
each against a baseline timed in the same run on the same database.

    python bench/readmodel.py [--claims N] [--tasks N] [--rounds R] [--database-url URL]

Generates a ledger (a SQLite file in a fresh directory unless --database-url names another) with N
claims in the read model (dates of service over 400 days, a third of them settled) and N open tasks on
them, then times, as the median of R rounds:

* the baseline: a `SELECT 1` round trip, and counting the task rows (`SELECT count(*)`);
* listing every open task, most urgent first, as `ReadModel.open_tasks` (one indexed query);
* `claimflow tasks --json` itself, in process (it reads the read model and sends nothing to Temporal);
* A/R aging over every claim (`ReadModel.ar_aging`, one indexed query), against counting the claims.

The last line is the slowest of the three as a figure, the goal being under a second each.
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

from claimflow.claims.tasks import Priority, TaskKind
from claimflow.console.main import app
from claimflow.integrations.ledger.engine import create_ledger_engine
from claimflow.integrations.ledger.readmodel import ReadModel, TaskSort
from claimflow.integrations.ledger.schema import ReadModelClaimRow, ReadModelCursorRow, ReadModelTaskRow

PAYERS = ("SANDBOX-BCBS", "SANDBOX-MEDICARE", "SANDBOX-AETNA", "SANDBOX-LAKESIDE", "SANDBOX-MEDICAID")
STATES = ("submitted", "acknowledged", "accepted", "denied", "patient_billing", "appealing")
NAMES = ("Nguyen", "Garcia", "Smith", "Okafor", "Kowalski", "Haddad", "Ito", "Brown", "Silva", "Jensen")


def generate(database_url: str, claims: int, tasks: int, now: datetime, seed: int = 18) -> int:
    """Claims and open tasks written straight into the read model's tables; returns how many claims
    have an A/R balance."""
    ReadModel(database_url).close()  # the schema, by the migrations
    rng = random.Random(seed)
    engine = create_ledger_engine(database_url)
    claim_rows, task_rows = [], []
    for n in range(claims):
        settled = n % 3 == 0
        billed = Decimal(rng.randrange(5_000, 500_000)) / 100
        at_stake = Decimal(0) if settled else (billed * Decimal(rng.random())).quantize(Decimal("0.01"))
        claim_rows.append(
            {
                "claim_id": f"claim-BENCH{n:06d}",
                "state": "closed" if settled else rng.choice(STATES),
                "payer_id": PAYERS[n % len(PAYERS)],
                "billed": billed,
                "balance": at_stake,
                "amount_at_stake": at_stake,
                "patient": f"{rng.choice(NAMES)}, Pat{n % 997}",
                "date_of_service": now.date() - timedelta(days=rng.randrange(0, 400)),
                "last_progress_at": now - timedelta(hours=rng.randrange(0, 2_000)),
                "timely_filing_deadline": now.date() + timedelta(days=rng.randrange(-30, 365)),
                "is_open": not settled,
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
    print("CPU time (median): " + ", ".join(f"{what} {seconds:.3f} s" for what, seconds in CPU))
    slowest = max(listing, tasks_command, aging_time)
    print(
        f"listing {listing:.3f} s, claimflow tasks {tasks_command:.3f} s, A/R aging {aging_time:.3f} s: "
        f"slowest {slowest:.3f} s of the 1 s goal"
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
