"""The chaos run: the embedded stack (`claimflow up`'s dev server, sandbox and worker, supervised the
way `claimflow up` supervises them) on free ports, a batch drawn from the demo's mix, and, in the
faulted run, the worker SIGKILLed again and again, the dev server and the sandbox once each, and the
clearinghouse answering a share of calls with 5xx errors, 429s with Retry-After and answers slower
than the client waits. `compare` holds a faulted run against the same batch run without faults.

Used by tests/chaos (CI) and bench/chaos.py (bigger). The batch leaves out the demo's duplicates (which
of two identical claims reaches the payer first is a race either run may decide either way) and runs
with no deductibles (which claim of a member absorbs the year's deductible depends on the order the
payer sees them): everything else the payers decide depends on the claim alone, so both runs must
end the same.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import re
import signal
import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
from temporalio.client import Client, WorkflowExecutionStatus

from claimflow.claims.encounter import Encounter
from claimflow.claims.money import ZERO, money_sum
from claimflow.claims.x12 import read_835
from claimflow.console import demo_summary
from claimflow.console.claims_client import ClaimsClient
from claimflow.console.demo_batch import load_demo_batch, shift_dates
from claimflow.console.demo_summary import Progress as Stage
from claimflow.console.stack import Stack, StackConfig
from claimflow.console.supervisor import RestartPolicy, supervise
from claimflow.integrations.ledger import Ledger
from claimflow.integrations.temporal import connect
from claimflow.workflows import search_attributes as sa
from tests.e2e.conftest import fast_payers

FAULTS = {
    "error_rate": 0.12,  # 500/502/503, half of them after the work was done
    "throttle_rate": 0.12,  # 429 with Retry-After
    "retry_after_seconds": 1,
    "slow_rate": 0.06,  # answered after the client gave up waiting (its timeout is 30 s)
    "slow_seconds": 31.0,
}
"""30% of the clearinghouse's calls answered with an error, a throttle or too late."""


LEFT_OUT = frozenset({"duplicate"})
"""Left out of the mix: duplicates race (above)."""


@dataclass(frozen=True)
class Kills:
    worker: int = 5
    temporal: int = 1
    sandbox: int = 1
    every_seconds: float = 9.0
    fault_seconds: float = 75.0
    """how long the clearinghouse stays faulty (from the first claim on; at least until the last
    kill): the inbox routes its files one at a time, so a clearinghouse failing half of a file's
    calls (fetch, acknowledge) slows it to a crawl, and a run that stays faulty does not end in CI"""


@dataclass
class RunResult:
    claims: dict[str, tuple[str, tuple[str, ...]]]
    """claim id -> (state, open task kinds, its appeal's included)"""
    received: dict[str, int]
    """claims the sandbox accepted, per patient control number"""
    ledger_charges: Decimal
    ledger_paid: Decimal
    ledger_adjustments: dict[str, Decimal]
    ledger_payments: int
    remit_charges: Decimal
    remit_paid: Decimal
    remit_adjustments: dict[str, Decimal]
    remit_claims: int
    remitted_ledger_charges: Decimal
    seconds: float
    killed: Counter[str] = field(default_factory=Counter)
    supervisor: list[str] = field(default_factory=list)
    metrics: str = ""
    """the worker's and the sandbox's /metrics at the end, for the PHI audit"""
    home: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        data = json.loads(text)
        money = ("ledger_charges", "ledger_paid", "remit_charges", "remit_paid", "remitted_ledger_charges")
        for name in money:
            data[name] = Decimal(data[name])
        for name in ("ledger_adjustments", "remit_adjustments"):
            data[name] = {group: Decimal(amount) for group, amount in data[name].items()}
        data["claims"] = {key: (state, tuple(kinds)) for key, (state, kinds) in data["claims"].items()}
        data["killed"] = Counter(data["killed"])
        return cls(**data)


@dataclass(frozen=True)
class Comparison:
    lost: list[str]
    diverged: list[str]
    duplicate_submissions: int
    ledger_difference: Decimal
    doubled_postings: int

    def report(self, baseline: RunResult, chaos: RunResult) -> str:
        return (
            f"claims {len(baseline.claims)}; baseline {baseline.seconds:.0f} s, chaos {chaos.seconds:.0f} s; "
            f"killed {dict(chaos.killed)}\n"
            f"claims lost {len(self.lost)}\n"
            f"claims diverged {len(self.diverged)}\n"
            f"duplicate submissions {self.duplicate_submissions}\n"
            f"ledger difference {self.ledger_difference:.2f}\n"
            f"doubled postings {self.doubled_postings}"
        )


def chaos_batch(size: int, today: datetime | None = None) -> list[Encounter]:
    """`size` encounters from the demo's mix (its duplicates left out): the demo's, then copies a day
    earlier each round under new encounter ids (a different day of service is a different claim)."""
    day = (today or datetime.now(UTC)).date()
    mix = [claim.encounter for claim in load_demo_batch(day) if claim.trouble not in LEFT_OUT]
    batch = []
    for index in range(size):
        round_, base = divmod(index, len(mix))
        encounter = mix[base]
        if round_:
            encounter = shift_dates(encounter, -round_).model_copy(
                update={"encounter_id": f"{encounter.encounter_id}-{round_}"}
            )
        batch.append(encounter)
    return batch


def payers_file(folder: Path) -> Path:
    """The shipped payers answering in seconds, without noise or deductibles."""
    text = re.sub(r'deductible = "[^"]*"', 'deductible = "0.00"', fast_payers())
    path = folder / "payers.toml"
    path.write_text(text)
    return path


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def run(
    home: Path,
    batch: list[Encounter],
    faults: bool,
    kills: Kills | None = None,
    timeout: float = 900.0,
    say: Callable[[str], None] = print,
) -> RunResult:
    """Start a stack in `home`, run `batch` until no claim is in flight, and read what happened.
    Call from the main thread: it supervises the children (the thread that starts a child must live
    as long as it), while the claims are driven from a thread of their own."""
    home.mkdir(parents=True, exist_ok=True)
    # every port the stack listens on (there are more as it grows), free ones
    names = [f.name for f in dataclasses.fields(StackConfig) if f.name.endswith("_port")]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    config = StackConfig(home=home, sandbox_config=payers_file(home), **ports)  # type: ignore[arg-type]
    kills = kills or Kills(worker=0, temporal=0, sandbox=0)
    done = threading.Event()
    outcome: list[RunResult | BaseException] = []
    supervisor_said: list[str] = []
    with Stack(config, {**os.environ, "CLAIMFLOW_LOG_FORMAT": "json"}) as stack:
        started = time.monotonic()

        def drive() -> None:
            try:
                outcome.append(asyncio.run(_drive(stack, batch, faults, kills, timeout, say)))
            except BaseException as error:  # handed to the main thread
                outcome.append(error)
            finally:
                done.set()

        driver = threading.Thread(target=drive, name="chaos-driver", daemon=True)
        driver.start()
        gave_up = supervise(
            stack,
            done.is_set,
            lambda text: supervisor_said.append(text.splitlines()[0]),
            RestartPolicy(max_deaths=kills.worker + 3, window_seconds=60),
        )
        if gave_up is not None:
            done.set()
        driver.join()
    if gave_up is not None:
        raise AssertionError(f"the stack gave up: {gave_up.describe()}")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    result.seconds = time.monotonic() - started
    result.supervisor = supervisor_said
    return result


async def _drive(
    stack: Stack,
    batch: list[Encounter],
    faults: bool,
    kills: Kills,
    timeout: float,
    say: Callable[[str], None],
) -> RunResult:
    config = stack.config
    client = await connect(stack.settings())
    claims = ClaimsClient(client, config.task_queue)
    outcomes = await claims.intake_many(batch)
    ids = {outcome.claim_id for outcome in outcomes}
    say(f"{'chaos' if faults else 'baseline'}: {len(ids)} claims started")
    killed: Counter[str] = Counter()
    plan = ["worker"] * kills.worker
    # the dev server and the sandbox between the worker's deaths, not at the very start or end
    for position, name in ((2, "temporal"), (4, "sandbox")):
        if (kills.temporal if name == "temporal" else kills.sandbox) > 0:
            plan.insert(min(position, len(plan)), name)
    children = {"worker": stack.worker, "temporal": stack.temporal, "sandbox": stack.sandbox}
    deadline = time.monotonic() + timeout
    next_kill = time.monotonic() + kills.every_seconds
    faults_until = time.monotonic() + kills.fault_seconds if faults else 0.0
    quiet = 0
    while True:
        if faults_until and not plan and time.monotonic() >= faults_until:
            if _set_faults(config.sandbox_url, dict.fromkeys(FAULTS, 0)):
                say(f"clearinghouse faults off after {kills.fault_seconds:.0f} s or more")
                faults_until = 0.0
        elif faults_until:
            _set_faults(config.sandbox_url, FAULTS)  # again: a restarted sandbox starts without them
        if plan and time.monotonic() >= next_kill:
            child = children[plan[0]]
            pid = child.pid
            if pid is not None and child.exit_code() is None:
                os.kill(pid, signal.SIGKILL)
                killed[plan.pop(0)] += 1
                say(f"killed {child.name} (pid {pid})")
            next_kill = time.monotonic() + kills.every_seconds
        in_flight = await _in_flight(client, ids)
        quiet = quiet + 1 if in_flight == [] and not plan and not faults_until else 0
        if quiet >= 3:  # visibility lags a moment behind the workflows
            break
        if time.monotonic() > deadline:
            stuck = [await claims.claim(claim_id) for claim_id, _ in (in_flight or [])[:5]]
            detail = "\n".join(f"{c.claim_id} {c.state}: {c.timeline[-3:]}" for c in stuck)
            raise AssertionError(f"claims still in flight after {timeout:.0f} s: {in_flight}\n{detail}")
        await asyncio.sleep(2)
    # A claim waiting on a person may still be working beside it (the timely-filing watch renders a
    # letter, then opens its task): read every claim until two readings ten seconds apart agree.
    final = await _final(client, claims, ids)
    for _ in range(12):
        await asyncio.sleep(10)
        again = await _final(client, claims, ids)
        if again == final:
            break
        final = again
    received = httpx.get(f"{config.sandbox_url}/admin/stats", timeout=30).json()["claims_received"]
    result = _books(config, stack.settings().ledger_url, final, received, killed)
    worker_metrics = f"http://127.0.0.1:{config.worker_metrics_port}/metrics"
    result.metrics = "".join(
        httpx.get(url, timeout=30).text for url in (worker_metrics, f"{config.sandbox_url}/metrics")
    )
    result.home = str(config.home)
    return result


def _set_faults(sandbox_url: str, settings: dict[str, float]) -> bool:
    """Set the sandbox's fault injection; False while it is down (being restarted)."""
    try:
        httpx.post(f"{sandbox_url}/admin/faults", json=settings, timeout=10).raise_for_status()
    except httpx.HTTPError:
        return False
    return True


async def _in_flight(client: Client, ids: set[str]) -> list[tuple[str, str | None]] | None:
    """Claims (and their states) not yet settled, waiting on a person or on the patient; None when
    Temporal does not answer (it is being restarted)."""
    try:
        appeal_waiting = set()
        async for execution in client.list_workflows(
            "WorkflowType = 'AppealWorkflow' AND ExecutionStatus = 'Running' AND TaskPriority > 0"
        ):
            if execution.parent_id:
                appeal_waiting.add(execution.parent_id)
        stages = dict.fromkeys(ids, Stage.IN_FLIGHT)
        states: dict[str, str | None] = dict.fromkeys(ids)
        async for execution in client.list_workflows("WorkflowType = 'ClaimWorkflow'"):
            if execution.id in ids:
                attributes = execution.typed_search_attributes
                states[execution.id] = attributes.get(sa.CLAIM_STATE)
                stages[execution.id] = demo_summary.progress_of(
                    attributes.get(sa.CLAIM_STATE),
                    attributes.get(sa.TASK_PRIORITY) or 0,
                    execution.status is WorkflowExecutionStatus.RUNNING,
                    execution.id in appeal_waiting,
                )
    except Exception:  # the dev server is down for a moment
        return None
    return sorted((claim, states[claim]) for claim, stage in stages.items() if stage is Stage.IN_FLIGHT)


async def _final(
    client: Client, claims: ClaimsClient, ids: set[str]
) -> dict[str, tuple[str, tuple[str, ...]]]:
    appeal_tasks: dict[str, list[str]] = {}
    running_appeals = "WorkflowType = 'AppealWorkflow' AND ExecutionStatus = 'Running'"
    async for execution in client.list_workflows(running_appeals):
        if execution.parent_id in ids:
            kinds = execution.typed_search_attributes.get(sa.OPEN_TASK) or []
            appeal_tasks.setdefault(execution.parent_id, []).extend(f"appeal:{kind}" for kind in kinds)
    limit = asyncio.Semaphore(20)

    async def one(claim_id: str) -> tuple[str, tuple[str, tuple[str, ...]]]:
        async with limit:
            snapshot = await claims.claim(claim_id)
        kinds = [task.kind.value for task in snapshot.open_tasks] + appeal_tasks.get(claim_id, [])
        return claim_id, (snapshot.state.value, tuple(sorted(kinds)))

    return dict(await asyncio.gather(*(one(claim_id) for claim_id in sorted(ids))))


def _books(
    config: StackConfig,
    ledger_url: str,
    final: dict[str, tuple[str, tuple[str, ...]]],
    received: dict[str, int],
    killed: Counter[str],
) -> RunResult:
    with sqlite3.connect(config.sandbox_db) as db:
        texts = [row[0] for row in db.execute("SELECT content FROM files WHERE kind = '835'")]
    payments = [claim for text in texts for remittance in read_835(text) for claim in remittance.claims]
    remit_adjustments: dict[str, Decimal] = {}
    for payment in payments:
        for adjustment in payment.all_adjustments:
            group = str(adjustment.group)
            remit_adjustments[group] = remit_adjustments.get(group, ZERO) + adjustment.amount
    ledger = Ledger(ledger_url, migrate_schema=False)
    try:
        totals = ledger.totals()
        remitted = {payment.patient_control_number for payment in payments}
        remitted_charges = money_sum(ledger.balance(pcn).charges for pcn in sorted(remitted))
    finally:
        ledger.close()
    return RunResult(
        claims=final,
        received={pcn: int(count) for pcn, count in received.items()},
        ledger_charges=totals.charges,
        ledger_paid=totals.paid,
        ledger_adjustments=dict(totals.posted_adjustments),  # as posted: what the 835s say
        ledger_payments=totals.payments,
        remit_charges=money_sum(payment.charge for payment in payments),
        remit_paid=money_sum(payment.paid for payment in payments),
        remit_adjustments=remit_adjustments,
        remit_claims=len(payments),
        remitted_ledger_charges=remitted_charges,
        seconds=0.0,
        killed=killed,
    )


def compare(baseline: RunResult, chaos: RunResult) -> Comparison:
    lost = sorted(set(baseline.claims) - set(chaos.claims))
    diverged = sorted(
        f"{claim_id}: {baseline.claims[claim_id]} without faults, {chaos.claims[claim_id]} with"
        for claim_id in baseline.claims
        if claim_id in chaos.claims and chaos.claims[claim_id] != baseline.claims[claim_id]
    )
    duplicates = sum(max(0, count - baseline.received.get(pcn, 0)) for pcn, count in chaos.received.items())
    groups = set(chaos.ledger_adjustments) | set(chaos.remit_adjustments)
    ledger, remits = chaos.ledger_adjustments, chaos.remit_adjustments
    adjustments = [ledger.get(group, ZERO) - remits.get(group, ZERO) for group in groups]
    difference = (
        abs(chaos.ledger_paid - chaos.remit_paid)
        + sum((abs(amount) for amount in adjustments), ZERO)
        + abs(chaos.ledger_charges - baseline.ledger_charges)
    )
    return Comparison(
        lost=lost,
        diverged=diverged,
        duplicate_submissions=duplicates,
        ledger_difference=difference,
        doubled_postings=max(0, chaos.ledger_payments - chaos.remit_claims),
    )


def phi_of(encounter: Encounter) -> set[str]:
    """The patient's (and subscriber's) names, birth date (as ISO and as X12 writes it), member ids and
    address lines, literally, as the audit searches for them."""
    found: set[str] = set()
    for person in (encounter.patient, encounter.subscriber):
        if person is None:
            continue
        found |= {person.last_name, person.first_name}
        if person.birth_date:
            found |= {person.birth_date.isoformat(), person.birth_date.strftime("%Y%m%d")}
        if person.address:
            found |= {person.address.line1, *([person.address.line2] if person.address.line2 else [])}
    for coverage in (encounter.coverage, *encounter.other_coverages):
        found.add(coverage.member_id)
    # a very short value (a two-letter first name) would match inside any random bytes
    return {value for value in found if len(value) >= 4}


SHORT = 6
"""Values shorter than this are searched only between text delimiters: four or five letters occur by
chance in the codec's ciphertext (a 4-byte value about once per 4 GiB, per value), and plain text puts
a quote, space, comma or X12 separator around a name."""
DELIMITERS = rb"[\s\"',:;*~^|<>=/(){}\[\]]"


def _pattern(value: str) -> re.Pattern[bytes]:
    needle = re.escape(value.encode())
    if len(value) >= SHORT:
        return re.compile(needle)
    return re.compile(rb"(?:^|(?<=" + DELIMITERS + rb"))" + needle + rb"(?=" + DELIMITERS + rb"|$)")


def phi_hits(home: Path, batch: list[Encounter], metrics: str) -> list[str]:
    """Where the input's PHI shows in clear text, as written or in capitals (X12 writes names so):
    Temporal's SQLite files (histories as stored, search attributes, memos, visibility), every log
    under `home`/logs and the Prometheus metrics."""
    places: dict[str, bytes] = {
        path.name: path.read_bytes() for path in sorted(home.glob("temporal.db*")) if path.is_file()
    }
    places |= {f"logs/{path.name}": path.read_bytes() for path in sorted((home / "logs").glob("*"))}
    places["metrics"] = metrics.encode()
    values = {form for encounter in batch for value in phi_of(encounter) for form in (value, value.upper())}
    hits = []
    for value in sorted(values):
        pattern = _pattern(value)
        hits += [f"{value!r} in {place}" for place, content in places.items() if pattern.search(content)]
    return hits


def main() -> None:
    """`python -m tests.chaos.harness --claims N --out FILE HOME`: one run without faults, its result
    as JSON (the chaos test runs its baseline so, beside the faulted run)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("home", type=Path)
    parser.add_argument("--claims", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=900.0)
    arguments = parser.parse_args()
    result = run(arguments.home, chaos_batch(arguments.claims), faults=False, timeout=arguments.timeout)
    arguments.out.write_text(result.to_json())


if __name__ == "__main__":
    main()
