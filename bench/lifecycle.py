"""Clean claims from intake to the patient's statement, against Temporal's own floor, in one run.

    python bench/lifecycle.py [--claims N] [--rounds R]

Starts the embedded stack (`claimflow up`'s dev server, sandbox, worker and console), then, in
interleaved rounds: N clean claims of the demo batch (new encounter ids each round) from intake until
the claim bills the patient, and N floor workflows that do what one such claim does to Temporal (the
same number of activities, timers started and canceled, and signals, counted from a real claim's
history) and nothing else. Prints claims/s, the floor, their ratio (median over rounds), events,
workflow tasks, activities, timers, signals and history bytes per claim, and where a claim's wall
time goes (from the histories of a round: activities, workflow tasks, and waiting for the next event);
the ratio is the last line. Goal: at least 0.8 of the floor.

What is compared is claimflow's own cost, not its payers' pace: the bench's sandbox payers answer
with no delay (the 999, 277CA and 835 are ready at the next inbox listing) and the inbox Schedule
polls every second instead of every five (the worker's default), so a claim waits on the outside
world for well under a second per payer file, where it waited about a second for each file and up
to five for each poll. Everything claimflow itself does stays in the claims' rounds: the inbox
workflow's listing and routing activities and their signals, the search-attribute upserts, the real
activities (scrubbing, X12, the ledger, HTTP to the sandbox), the read model's projector querying
the claims that moved, and the sandbox answering on the same two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import (
    Client,
    ScheduleIntervalSpec,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowHistory,
)
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from claimflow.activities import catalog
from claimflow.claims import ids
from claimflow.claims.encounter import Encounter
from claimflow.claims.lifecycle import ClaimState
from claimflow.console.claims_client import MAX_QUERIES_IN_FLIGHT, ClaimsClient
from claimflow.console.stack import Stack
from claimflow.integrations.temporal import connect
from claimflow.workers.worker import INBOX_SCHEDULE_ID
from claimflow.workflows.inbox import InboxWorkflow
from stack import POLL_SECONDS, bench_payers, clean_encounters, run_on_stack  # bench/: this folder

GOAL = 0.8
SETTLED = {ClaimState.PATIENT_BILLING.value, ClaimState.CLOSED.value}
"""A clean claim is done with Temporal's heavy lifting once it bills the patient (or closes)."""
FLOOR_QUEUE = "bench-floor"
ROUND_TIMEOUT_SECONDS = 600
INBOX_EVERY = timedelta(seconds=1)
"""The inbox Schedule's interval in the bench (a Schedule's finest), instead of the worker's five seconds."""


# ---------------------------------------------------------------------------------------- the floor
@dataclass(frozen=True)
class Shape:
    """What one claim asks of Temporal, counted from its history."""

    activities: int
    timers: int
    canceled_timers: int
    signals: int
    events: int
    workflow_tasks: int
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
        # A claim's timers are deadlines and response windows: started beside its other commands,
        # canceled by the event they wait for or left running, never fired on a clean claim. So are these.
        timers = [asyncio.ensure_future(workflow.sleep(timedelta(days=30))) for _ in range(shape.timers)]
        for _ in range(shape.activities):
            await workflow.execute_activity(nothing, start_to_close_timeout=timedelta(seconds=30))
        await workflow.wait_condition(lambda: self._signals >= shape.signals)
        for timer in timers[: shape.canceled_timers]:
            timer.cancel()

    @workflow.signal
    def poke(self) -> None:
        self._signals += 1


async def floor_round(client: Client, shape: Shape, count: int) -> tuple[float, list[str]]:
    """Seconds for `count` floor workflows, started together (as many at once as the claims' intake),
    to finish; and their ids."""
    gate = asyncio.Semaphore(MAX_QUERIES_IN_FLIGHT)

    async def one() -> str:
        async with gate:
            handle = await client.start_workflow(
                FloorWorkflow.run, shape, id=f"floor-{uuid.uuid4().hex}", task_queue=FLOOR_QUEUE
            )
            for _ in range(shape.signals):
                await handle.signal(FloorWorkflow.poke)
        await handle.result()
        return handle.id

    start = time.perf_counter()
    workflow_ids = await asyncio.gather(*(one() for _ in range(count)))
    return time.perf_counter() - start, list(workflow_ids)


# ---------------------------------------------------------------------------------------- the claims
_SETTLED_STATES = ", ".join(f"'{state}'" for state in sorted(SETTLED))
SETTLED_QUERY = f"WorkflowType = '{ids.WorkflowType.CLAIM}' AND ClaimState IN ({_SETTLED_STATES})"


async def claims_round(client: Client, claims: ClaimsClient, encounters: list[Encounter]) -> float:
    """Seconds from starting the claims until every one has billed the patient (one count of the
    visibility store every POLL_SECONDS, not a listing of every claim)."""
    settled_before = (await client.count_workflows(SETTLED_QUERY)).count
    start = time.perf_counter()
    await claims.intake_many(encounters)
    while (await client.count_workflows(SETTLED_QUERY)).count < settled_before + len(encounters):
        if time.perf_counter() - start > ROUND_TIMEOUT_SECONDS:
            raise SystemExit(f"the claims did not all bill the patient in {ROUND_TIMEOUT_SECONDS} s")
        await asyncio.sleep(POLL_SECONDS)
    return time.perf_counter() - start


async def poll_inbox_every(client: Client, every: timedelta) -> None:
    """Set the inbox Schedule (the worker created it) to run every `every`."""

    def faster(update: ScheduleUpdateInput) -> ScheduleUpdate:
        schedule = update.description.schedule
        schedule.spec = ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)])
        return ScheduleUpdate(schedule=schedule)

    await client.get_schedule_handle(INBOX_SCHEDULE_ID).update(faster)


# ---------------------------------------------------------------------------------------- histories
def shape_of(history: WorkflowHistory) -> Shape:
    kinds = Counter(event.event_type for event in history.events)
    return Shape(
        activities=kinds[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
        timers=kinds[EventType.EVENT_TYPE_TIMER_STARTED],
        canceled_timers=kinds[EventType.EVENT_TYPE_TIMER_CANCELED],
        signals=kinds[EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED],
        events=len(history.events),
        workflow_tasks=kinds[EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED],
        history_bytes=sum(event.ByteSize() for event in history.events),
    )


def describe(shape: Shape, history: WorkflowHistory) -> str:
    kinds = Counter(event.event_type for event in history.events)
    return (
        f"{shape.events} events, {shape.workflow_tasks} workflow tasks, {shape.activities} activities, "
        f"{shape.timers} timers ({shape.canceled_timers} canceled), {shape.signals} signals, "
        f"{kinds[EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES]} search-attribute upserts, "
        f"{kinds[EventType.EVENT_TYPE_MARKER_RECORDED]} markers, {shape.history_bytes} history bytes"
    )


SPANS = (
    "activity queued",
    "activity running",
    "workflow task queued",
    "workflow task running",
    "waiting for an event",
)


def _finished_activity(event: HistoryEvent) -> int | None:
    """The scheduled event id of the activity this event ends, if it ends one."""
    kind = event.event_type
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        return event.activity_task_completed_event_attributes.scheduled_event_id
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        return event.activity_task_failed_event_attributes.scheduled_event_id
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        return event.activity_task_timed_out_event_attributes.scheduled_event_id
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
        return event.activity_task_canceled_event_attributes.scheduled_event_id
    return None


_TASK_DONE = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}


def where_time_goes(history: WorkflowHistory) -> dict[str, float]:
    """Seconds of one workflow's life (first event to last) by what it was doing: each gap between two
    events counts for an activity queued or running when one was, else a workflow task queued or
    running, else waiting for an event (a payer's file through the inbox, a signal)."""
    spans: dict[str, float] = dict.fromkeys(SPANS, 0.0)
    activities: dict[int, bool] = {}  # scheduled event id -> started
    task = ""  # "", "queued", "running"
    previous = None
    for event in history.events:
        at = event.event_time.ToDatetime()
        if previous is not None:
            if activities:
                spans["activity running" if any(activities.values()) else "activity queued"] += (
                    at - previous
                ).total_seconds()
            elif task:
                spans[f"workflow task {task}"] += (at - previous).total_seconds()
            else:
                spans["waiting for an event"] += (at - previous).total_seconds()
        previous = at
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            activities[event.event_id] = False
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            activities[event.activity_task_started_event_attributes.scheduled_event_id] = True
        elif (finished := _finished_activity(event)) is not None:
            activities.pop(finished, None)
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            task = "queued"
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            task = "running"
        elif kind in _TASK_DONE:
            task = ""
    return spans


async def mean_time_spent(client: Client, workflow_ids: list[str]) -> dict[str, float]:
    """`where_time_goes`, averaged over the workflows."""
    gate = asyncio.Semaphore(MAX_QUERIES_IN_FLIGHT)

    async def one(workflow_id: str) -> dict[str, float]:
        async with gate:
            return where_time_goes(await client.get_workflow_handle(workflow_id).fetch_history())

    every = await asyncio.gather(*(one(workflow_id) for workflow_id in workflow_ids))
    return {span: sum(spans[span] for spans in every) / len(every) for span in SPANS}


async def inbox_work(client: Client, since: datetime) -> str:
    """What the inbox Schedule's runs since `since` did: runs, files routed, seconds in their activities."""
    runs = files = 0
    busy = 0.0
    query = f"WorkflowType = '{InboxWorkflow.__name__}' AND StartTime >= '{since.isoformat()}'"
    async for execution in client.list_workflows(query):
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        runs += 1
        files += sum(
            event.activity_task_scheduled_event_attributes.activity_type.name == catalog.ROUTE_FILE.name
            for event in history.events
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        )
        busy += where_time_goes(history)["activity running"]
    return f"{runs} inbox runs routed {files} files, one at a time, in {busy:.1f} s of activities"


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user and system) each process has used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for name, pid in pids.items():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        used[name] = (int(fields[11]) + int(fields[12])) / tick
    return used


class CpuMeter:
    """CPU seconds per process of the stack and the bench's own (the floor's worker), per workflow."""

    def __init__(self, stack: Stack) -> None:
        self._pids = {**stack.pids(), "bench (floor worker)": os.getpid()}
        self._totals: dict[str, dict[str, float]] = {}
        self._counts: Counter[str] = Counter()

    @contextlib.contextmanager
    def counting(self, what: str, workflows: int) -> Iterator[None]:
        before = cpu_seconds(self._pids)
        yield
        after = cpu_seconds(self._pids)
        total = self._totals.setdefault(what, dict.fromkeys(self._pids, 0.0))
        for name in self._pids:
            total[name] += after[name] - before[name]
        self._counts[what] += workflows

    def per_workflow(self, what: str) -> str:
        total = self._totals[what]
        parts = [f"{name} {seconds * 1000 / self._counts[what]:.0f}" for name, seconds in total.items()]
        return f"{sum(total.values()) * 1000 / self._counts[what]:.0f} ms: " + ", ".join(parts)


def spent(spans: dict[str, float]) -> str:
    return f"{sum(spans.values()):.2f} s: " + ", ".join(f"{span} {spans[span]:.2f}" for span in SPANS)


# ---------------------------------------------------------------------------------------- the run
async def measure(stack: Stack, count: int, rounds: int) -> None:
    client = await connect(stack.settings())
    claims = ClaimsClient(client, stack.config.task_queue)
    await poll_inbox_every(client, INBOX_EVERY)
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
    cpu = CpuMeter(stack)
    async with floor_worker:
        warm = clean_encounters(0, 1)
        await claims_round(client, claims, warm)
        history = await client.get_workflow_handle(
            ids.claim_workflow_id(warm[0].encounter_id)
        ).fetch_history()
        shape = shape_of(history)
        print(f"one clean claim to its statement: {describe(shape, history)}")
        _, (floor_id,) = await floor_round(client, shape, 1)
        floor_history = await client.get_workflow_handle(floor_id).fetch_history()
        print(f"one floor workflow: {describe(shape_of(floor_history), floor_history)}")
        for round_number in range(1, rounds + 1):
            encounters = clean_encounters(1 + (round_number - 1) * count, count)
            began = datetime.now(UTC)
            with cpu.counting("claim", count):
                claim_seconds = await claims_round(client, claims, encounters)
            with cpu.counting("floor", count):
                floor_seconds, floor_ids = await floor_round(client, shape, count)
            claim_rates.append(count / claim_seconds)
            floor_rates.append(count / floor_seconds)
            ratios.append(floor_seconds / claim_seconds)
            print(
                f"round {round_number}: claims {claim_rates[-1]:.1f}/s, floor {floor_rates[-1]:.1f}/s, "
                f"ratio {ratios[-1]:.2f}"
            )
        claim_ids = [ids.claim_workflow_id(encounter.encounter_id) for encounter in encounters]
        print(f"a claim of the last round, on average: {spent(await mean_time_spent(client, claim_ids))}")
        print(f"a floor workflow of the last round: {spent(await mean_time_spent(client, floor_ids))}")
        print(f"the last claims round: {await inbox_work(client, began)}")
    print(f"CPU per claim, all rounds: {cpu.per_workflow('claim')}")
    print(f"CPU per floor workflow, all rounds: {cpu.per_workflow('floor')}")
    print(f"claims/s {max(claim_rates):.1f} (best), floor {max(floor_rates):.1f}/s (best)")
    print(f"lifecycle/floor ratio {statistics.median(ratios):.2f} (median of {rounds}; goal {GOAL})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=100, help="claims (and floor workflows) per round")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    # Payers that answer at once: the 999, the 277CA and the 835 wait only for the next inbox listing.
    run_on_stack(
        bench_payers(adjudication_delay="0s", acknowledgement_delay="0s"),
        lambda stack: measure(stack, options.claims, options.rounds),
    )


if __name__ == "__main__":
    main()
