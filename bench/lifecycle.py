"""Clean claims from intake to the patient's statement, against Temporal's own floor, in one run.

    python bench/lifecycle.py [--claims N] [--rounds R]

Starts the embedded stack (`claimflow up`'s dev server, sandbox and worker) with payers that answer
in a second, then, in interleaved rounds: N clean claims of the demo batch (new encounter ids each
round) from intake until the claim bills the patient, and N floor workflows that do what one such
claim does to Temporal (the same number of activities, timers and signals, counted from a real
claim's history) and nothing else. Prints claims/s, the floor, their ratio (median over rounds), and
events, activities, timers, signals and history bytes per claim; the ratio is the last line. Goal:
at least 0.8 of the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from claimflow.claims import ids
from claimflow.claims.encounter import Encounter
from claimflow.claims.lifecycle import ClaimState
from claimflow.console.claims_client import ClaimsClient
from claimflow.console.stack import Stack
from claimflow.integrations.temporal import connect
from stack import bench_payers, clean_encounters, run_on_stack, wait_for_states  # bench/: this folder

GOAL = 0.8
SETTLED = {ClaimState.PATIENT_BILLING.value, ClaimState.CLOSED.value}
"""A clean claim is done with Temporal's heavy lifting once it bills the patient (or closes)."""
FLOOR_QUEUE = "bench-floor"
ROUND_TIMEOUT_SECONDS = 600


# ---------------------------------------------------------------------------------------- the floor
@dataclass(frozen=True)
class Shape:
    """What one claim asks of Temporal, counted from its history."""

    activities: int
    timers: int
    signals: int
    events: int
    history_bytes: int


@activity.defn
async def nothing() -> None:
    """The floor's activity: a round trip through the server and the worker, no work."""


@workflow.defn
class FloorWorkflow:
    def __init__(self) -> None:
        self._signals = 0

    @workflow.run
    async def run(self, shape: Shape) -> None:
        for _ in range(shape.activities):
            await workflow.execute_activity(nothing, start_to_close_timeout=timedelta(seconds=30))
        for _ in range(shape.timers):
            await workflow.sleep(timedelta(milliseconds=10))
        await workflow.wait_condition(lambda: self._signals >= shape.signals)

    @workflow.signal
    def poke(self) -> None:
        self._signals += 1


async def floor_round(client: Client, shape: Shape, count: int) -> float:
    """Seconds for `count` floor workflows, started together, to finish."""
    start = time.perf_counter()
    handles = [
        await client.start_workflow(
            FloorWorkflow.run, shape, id=f"floor-{uuid.uuid4().hex}", task_queue=FLOOR_QUEUE
        )
        for _ in range(count)
    ]
    for handle in handles:
        for _ in range(shape.signals):
            await handle.signal(FloorWorkflow.poke)
    await asyncio.gather(*(handle.result() for handle in handles))
    return time.perf_counter() - start


# ---------------------------------------------------------------------------------------- the claims
async def claims_round(client: Client, claims: ClaimsClient, encounters: list[Encounter]) -> float:
    """Seconds from starting the claims until every one has billed the patient."""
    start = time.perf_counter()
    await claims.intake_many(encounters)
    wanted = {ids.claim_workflow_id(encounter.encounter_id) for encounter in encounters}
    await wait_for_states(client, wanted, SETTLED, ROUND_TIMEOUT_SECONDS)
    return time.perf_counter() - start


async def shape_of(client: Client, workflow_id: str) -> Shape:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    kinds = Counter(event.event_type for event in history.events)
    return Shape(
        activities=kinds[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
        timers=kinds[EventType.EVENT_TYPE_TIMER_STARTED],
        signals=kinds[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED],
        events=len(history.events),
        history_bytes=sum(event.ByteSize() for event in history.events),
    )


# ---------------------------------------------------------------------------------------- the run
async def measure(stack: Stack, count: int, rounds: int) -> None:
    client = await connect(stack.settings())
    claims = ClaimsClient(client, stack.config.task_queue)
    floor_worker = Worker(
        client,
        task_queue=FLOOR_QUEUE,
        workflows=[FloorWorkflow],
        activities=[nothing],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    claim_rates: list[float] = []
    floor_rates: list[float] = []
    ratios: list[float] = []
    async with floor_worker:
        warm = clean_encounters(0, 1)
        await claims_round(client, claims, warm)
        shape = await shape_of(client, ids.claim_workflow_id(warm[0].encounter_id))
        print(
            f"one clean claim to its statement: {shape.events} events, {shape.activities} activities, "
            f"{shape.timers} timers, {shape.signals} signals, {shape.history_bytes} history bytes"
        )
        for round_number in range(1, rounds + 1):
            encounters = clean_encounters(1 + (round_number - 1) * count, count)
            claim_seconds = await claims_round(client, claims, encounters)
            floor_seconds = await floor_round(client, shape, count)
            claim_rates.append(count / claim_seconds)
            floor_rates.append(count / floor_seconds)
            ratios.append(floor_seconds / claim_seconds)
            print(
                f"round {round_number}: claims {claim_rates[-1]:.1f}/s, floor {floor_rates[-1]:.1f}/s, "
                f"ratio {ratios[-1]:.2f}"
            )
    print(f"claims/s {max(claim_rates):.1f} (best), floor {max(floor_rates):.1f}/s (best)")
    print(f"lifecycle/floor ratio {statistics.median(ratios):.2f} (median of {rounds}; goal {GOAL})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=100, help="claims (and floor workflows) per round")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    run_on_stack(bench_payers(), lambda stack: measure(stack, options.claims, options.rounds))


if __name__ == "__main__":
    main()
