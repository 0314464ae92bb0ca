"""The claimflow worker: every workflow and activity on one task queue, configured from the environment.

Dependencies are built once here and injected into the activity classes, so the activities stay thin
and tests can hand them other implementations."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from typing import Any

import structlog
from starlette.applications import Starlette
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
)
from temporalio.worker import Worker

from claimflow.activities.appeals import AppealActivities
from claimflow.activities.eligibility import EligibilityActivities
from claimflow.activities.escalation import EscalationActivities
from claimflow.activities.failures import OneRetryRule
from claimflow.activities.inbox import InboxActivities
from claimflow.activities.payers import PayerActivities
from claimflow.activities.posting import PostingActivities
from claimflow.activities.scrubbing import ScrubActivities
from claimflow.activities.statements import StatementActivities
from claimflow.activities.submission import SubmissionActivities
from claimflow.activities.underpayments import UnderpaymentActivities
from claimflow.claims.codesets import default_codesets
from claimflow.claims.payers import PayerDirectory, default_directory
from claimflow.integrations.crypto import load_keys
from claimflow.integrations.envelopes import EnvelopeFactory
from claimflow.integrations.health import health_routes, serving
from claimflow.integrations.ledger import InterchangeRegistry, Ledger, X12Archive
from claimflow.integrations.ledger.projector import Projector
from claimflow.integrations.ledger.readmodel import ReadModel
from claimflow.integrations.metrics import ExtraMetrics, metrics_route, sdk_runtime
from claimflow.integrations.settings import Settings
from claimflow.integrations.temporal import connect
from claimflow.integrations.transport import Transport, open_transport
from claimflow.workers.interceptors import MetricsInterceptor
from claimflow.workflows.appeal import AppealWorkflow
from claimflow.workflows.claim import ClaimWorkflow
from claimflow.workflows.exceptions import ExceptionsWorkflow
from claimflow.workflows.inbox import InboxWorkflow

INBOX_SCHEDULE_ID = "claimflow-inbox"
WORKFLOWS: Sequence[type] = (ClaimWorkflow, AppealWorkflow, InboxWorkflow, ExceptionsWorkflow)
log = structlog.get_logger("claimflow.worker")


def build_activities(
    client: Client,
    settings: Settings,
    clearinghouse: Transport,
    ledger: Ledger,
    registry: InterchangeRegistry,
    directory: PayerDirectory | None = None,
    archive: X12Archive | None = None,
) -> list[Callable[..., Any]]:
    """Every activity, bound to its dependencies; `archive` keeps the X12 sent and received."""
    directory = directory or default_directory()
    envelopes = EnvelopeFactory(registry=registry)
    payers = PayerActivities(directory)
    eligibility = EligibilityActivities(clearinghouse, envelopes)
    scrubbing = ScrubActivities(default_codesets(), directory)
    submission = SubmissionActivities(clearinghouse, ledger, envelopes, archive)
    posting = PostingActivities(ledger)
    documents = settings.home / "documents"
    statements = StatementActivities(documents)
    escalation = EscalationActivities(documents)
    appeals = AppealActivities(clearinghouse, documents)
    underpayments = UnderpaymentActivities(directory, documents)
    inbox = InboxActivities(
        clearinghouse,
        client,
        ledger,
        settings.temporal_task_queue,
        registry=registry,
        kept_dir=settings.home / "inbox-kept",
        archive=archive,
    )
    return [
        payers.payer_profile,
        eligibility.check_eligibility,
        scrubbing.scrub_claim,
        submission.reserve_interchange,
        submission.submit_claim,
        submission.inquire_claim_status,
        posting.post_payment,
        posting.record_patient_payment,
        statements.write_statement,
        escalation.write_timely_filing_letter,
        appeals.render_appeal_letter,
        appeals.send_appeal,
        underpayments.find_underpayments,
        underpayments.write_underpayment_letter,
        inbox.list_inbox,
        inbox.route_file,
    ]


READMODEL_EVERY = timedelta(seconds=1)
"""How often the worker brings the read model up to date (a pass asks only workflows that moved)."""
MAX_CACHED_WORKFLOWS = 2_000
"""Claims kept in the worker's memory between events; the rest replay from history when one arrives.
bench/open_claims.py measures what each costs."""


async def ensure_inbox_schedule(client: Client, settings: Settings, every: timedelta) -> None:
    """The Schedule that runs the inbox workflow; creating it again is a no-op."""
    schedule = Schedule(
        action=ScheduleActionStartWorkflow(
            InboxWorkflow.run, id="claimflow-inbox-run", task_queue=settings.temporal_task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )
    with contextlib.suppress(ScheduleAlreadyRunningError):
        await client.create_schedule(INBOX_SCHEDULE_ID, schedule)


@contextlib.asynccontextmanager
async def claimflow_worker(client: Client, settings: Settings) -> AsyncIterator[Worker]:
    """A running worker with its clearinghouse transport and ledger, closed on exit."""
    async with contextlib.AsyncExitStack() as resources:
        clearinghouse = open_transport(settings)  # refuses an unusable profile before anything starts
        resources.push_async_callback(clearinghouse.aclose)
        ledger = await asyncio.to_thread(Ledger, settings.ledger_url)
        resources.callback(ledger.close)
        registry = InterchangeRegistry(settings.ledger_url)  # after Ledger: its schema is migrated
        resources.callback(registry.close)
        # the X12 sent and received, sealed with the claim keys (the same ones the client's codec holds)
        archive = X12Archive(settings.ledger_url, await asyncio.to_thread(load_keys, settings))
        resources.callback(archive.close)
        worker = Worker(
            client,
            task_queue=settings.temporal_task_queue,
            workflows=list(WORKFLOWS),
            activities=build_activities(client, settings, clearinghouse, ledger, registry, archive=archive),
            max_cached_workflows=MAX_CACHED_WORKFLOWS,
            # Metrics outermost, so a failure is counted by the type the retry rule gave it.
            interceptors=[MetricsInterceptor(), OneRetryRule()],
        )
        async with worker:
            yield worker


def status_app(client: Client, worker: Worker, sdk_metrics: ExtraMetrics) -> Starlette:
    """The worker's status port: /healthz, /readyz (Temporal answers and the worker polls) and
    /metrics (claimflow's and the Temporal SDK's)."""

    async def temporal_answers() -> None:
        await client.service_client.check_health()

    async def worker_polls() -> None:
        if not worker.is_running:
            raise RuntimeError("the worker is not polling its task queue")

    checks = {"temporal": temporal_answers, "worker": worker_polls}
    return Starlette(routes=[*health_routes(checks), metrics_route(sdk_metrics)])


@contextlib.asynccontextmanager
async def keeping_read_model(
    client: Client, settings: Settings, every: timedelta
) -> AsyncIterator[Projector]:
    """The read model's projector as a background task of the worker process, every `every`; its
    first pass rebuilds a read model never built."""
    store = await asyncio.to_thread(ReadModel, settings.ledger_url)
    projector = Projector(client, store)
    stop = asyncio.Event()
    task = asyncio.create_task(projector.run(every, stop), name="claimflow-readmodel")
    try:
        yield projector
    finally:
        stop.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        store.close()


async def run(
    settings: Settings,
    inbox_every: timedelta = timedelta(seconds=5),
    readmodel_every: timedelta = READMODEL_EVERY,
) -> None:
    runtime, sdk_metrics = sdk_runtime()
    client = await connect(settings, runtime=runtime)
    await ensure_inbox_schedule(client, settings, inbox_every)
    async with contextlib.AsyncExitStack() as running:
        worker = await running.enter_async_context(claimflow_worker(client, settings))
        if settings.metrics_port:
            await running.enter_async_context(
                serving(status_app(client, worker, sdk_metrics), "0.0.0.0", settings.metrics_port)
            )
        await running.enter_async_context(keeping_read_model(client, settings, readmodel_every))
        log.info(
            "worker started",
            task_queue=settings.temporal_task_queue,
            temporal=settings.temporal_address,
            connection=settings.temporal_client.describe(),
            metrics_port=settings.metrics_port,
        )
        await asyncio.Event().wait()  # until the process is stopped
