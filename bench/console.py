"""The web console's latency with 1,000 open claims and 300 open tasks.

    python bench/console.py [--clean 700] [--with-tasks 300] [--requests 100]

Starts the embedded stack (the web console a child of it, as `claimflow up` runs it) with payers
that acknowledge within seconds but adjudicate in 30 days, takes in clean claims of the demo batch
until they wait for their 835, and claims with the demo's trouble (inactive coverage, a coding hold,
missing demographics, scrub defects) until each waits on a person. Then a manager signs in and asks,
in turn, for the work queue, a claim page (a different claim each time) and the dashboard, and for
a static file as the baseline: the same server, the same session gates skipped, no claim data. It
prints each page's median and p95 in milliseconds and as a ratio of the baseline's p95 measured in
the same run. Goal: p95 under 300 ms on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import time
from collections import Counter
from datetime import UTC, datetime

import httpx
from temporalio.client import Client

from claimflow.claims import ids
from claimflow.claims.encounter import Encounter
from claimflow.claims.roles import Role
from claimflow.console.claims_client import ClaimsClient
from claimflow.console.demo_batch import load_demo_batch, shift_dates
from claimflow.console.stack import Stack
from claimflow.integrations.ledger.users import UserStore
from claimflow.integrations.temporal import connect
from claimflow.workflows import search_attributes as sa
from stack import bench_payers, clean_encounters, run_on_stack  # bench/: this folder

GOAL_SECONDS = 0.300
TASK_TROUBLES = {
    "inactive_coverage",
    "coding_hold",
    "missing_demographics",
    "bad_rendering_npi",
    "units_over_mue",
    "invalid_diagnosis",
}
"""Demo troubles that stop a claim on a person's task before it is submitted."""
PARKED = "accepted"
PASSWORD = "a long manager passphrase"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SETTLE_TIMEOUT_SECONDS = 1800


def troubled_encounters(count: int) -> list[Encounter]:
    """`count` claims with trouble: the demo's in turn, each pass a day earlier, new ids."""
    batch = load_demo_batch(datetime.now(UTC).date())
    troubled = [claim.encounter for claim in batch if claim.trouble in TASK_TROUBLES]
    return [
        shift_dates(troubled[n % len(troubled)], -(n // len(troubled))).model_copy(
            update={"encounter_id": f"BENCH-T{n:05d}"}
        )
        for n in range(count)
    ]


async def settle(client: Client, clean: set[str], troubled: set[str]) -> None:
    """Until every clean claim waits for its 835 and every troubled one has an open task."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while True:
        parked = waiting = 0
        states: Counter[str] = Counter()
        async for execution in client.list_workflows(f"WorkflowType = '{ids.WorkflowType.CLAIM}'"):
            attributes = execution.typed_search_attributes
            state = attributes.get(sa.CLAIM_STATE) or "starting"
            states[state] += 1
            if execution.id in clean and state == PARKED:
                parked += 1
            if execution.id in troubled and attributes.get(sa.OPEN_TASK):
                waiting += 1
        print(
            f"  {parked}/{len(clean)} clean claims parked, {waiting}/{len(troubled)} on a task: "
            f"{dict(states)}"
        )
        if parked == len(clean) and waiting == len(troubled):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"the claims did not settle in {SETTLE_TIMEOUT_SECONDS} s")
        await asyncio.sleep(5.0)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def timed(http: httpx.AsyncClient, path: str) -> float:
    start = time.perf_counter()
    response = await http.get(path)
    elapsed = time.perf_counter() - start
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}: {response.text[:300]}")
    return elapsed


async def measure(stack: Stack, clean_count: int, task_count: int, requests: int) -> None:
    client = await connect(stack.settings())
    claims = ClaimsClient(client, stack.config.task_queue)
    clean = clean_encounters(0, clean_count)
    troubled = troubled_encounters(task_count)
    started = time.perf_counter()
    await claims.intake_many([*clean, *troubled])
    clean_ids = {ids.claim_workflow_id(e.encounter_id) for e in clean}
    troubled_ids = {ids.claim_workflow_id(e.encounter_id) for e in troubled}
    print(f"{len(clean_ids) + len(troubled_ids)} claims taken in; waiting for them to settle")
    await settle(client, clean_ids, troubled_ids)
    print(f"settled in {time.perf_counter() - started:.0f} s")

    store = UserStore(stack.settings().ledger_url)
    try:
        store.add("bench", "Bench Manager", Role.MANAGER, by="bench", password=PASSWORD)
    finally:
        store.close()
    base = f"http://127.0.0.1:{stack.config.console_port}"
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        login = await http.get("/login")
        token = CSRF.search(login.text)
        assert token, "the login page has no CSRF field"
        signed_in = await http.post(
            "/login", data={"csrf_token": token.group(1), "username": "bench", "password": PASSWORD}
        )
        assert signed_in.status_code == 303, signed_in.text
        queue = await http.get("/queue")  # the first load of the read model, not measured
        listed = re.search(r"(\d+) open task\(s\)", queue.text)
        print(f"work queue lists {listed.group(1) if listed else '?'} open tasks")
        await http.get("/dashboard")
        await http.get("/static/console.css")
        every_claim = sorted(clean_ids | troubled_ids)
        pick = random.Random(13)
        pages = {
            "static file (baseline)": lambda: "/static/console.css",
            "work queue": lambda: "/queue",
            "claim page": lambda: f"/claims/{pick.choice(every_claim)}",
            "dashboard": lambda: "/dashboard",
        }
        samples: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(requests):  # interleaved, so a background reload falls on every page alike
            for name, path in pages.items():
                samples[name].append(await timed(http, path()))
    baseline = percentile(samples["static file (baseline)"], 0.95)
    print(f"{'page':<24} {'median ms':>10} {'p95 ms':>8} {'p95 / baseline p95':>20} goal p95 < 300 ms")
    for name, times in samples.items():
        p95 = percentile(times, 0.95)
        verdict = "" if name.startswith("static") else ("met" if p95 < GOAL_SECONDS else "MISSED")
        print(
            f"{name:<24} {statistics.median(times) * 1000:>10.1f} {p95 * 1000:>8.1f} "
            f"{p95 / baseline:>19.1f}x {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clean", type=int, default=700, help="clean claims left waiting for their 835")
    parser.add_argument("--with-tasks", type=int, default=300, help="claims left waiting on a person")
    parser.add_argument("--requests", type=int, default=100, help="requests per page")
    options = parser.parse_args()
    run_on_stack(  # the 835 comes in a month: clean claims wait for it
        bench_payers("30d"), lambda stack: measure(stack, options.clean, options.with_tasks, options.requests)
    )


if __name__ == "__main__":
    main()
