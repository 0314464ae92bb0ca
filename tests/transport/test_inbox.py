"""The inbox over SFTP: the sandbox serves its payers as a real asyncssh mailbox on loopback, claimflow
uploads 837s through the SFTP transport, and the inbox workflow routes what comes back to the claims'
workflows (the time-skipping server), parks what it cannot read and ignores duplicate interchanges."""

from __future__ import annotations

import os
import re
import shutil
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from claimflow.activities.inbox import InboxActivities
from claimflow.activities.requests import RoutingReport, SubmitRequest
from claimflow.activities.submission import SubmissionActivities
from claimflow.claims.events import PayerEvent
from claimflow.claims.tasks import Task
from claimflow.claims.x12.ta1 import write_ta1
from claimflow.integrations.envelopes import EnvelopeFactory
from claimflow.integrations.ledger import InboundOutcome, InterchangeRegistry, Ledger
from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.sftp import MailboxFiles, prepare, serve_mailbox
from claimflow.integrations.sandbox.sftp_server import MailboxServer
from claimflow.integrations.sandbox.store import Store
from claimflow.integrations.transport import SftpTransport, load_profile
from claimflow.workflows.exceptions import ExceptionsWorkflow
from claimflow.workflows.inbox import InboxWorkflow
from tests.factories import ClaimFactory
from tests.ports import free_port
from tests.sandbox.helpers import START, FakeClock, Line, claim, quiet_config
from tests.workflows.conftest import time_skipping_env  # noqa: F401  (fixture)

pytestmark = pytest.mark.asyncio(loop_scope="session")
QUEUE = "inbox-sftp-tests"


@workflow.defn(name="PayerEventRecorder")
class PayerEventRecorder:
    """Stands in for a claim's workflow: keeps every payer event signalled to it."""

    def __init__(self) -> None:
        self._events: list[PayerEvent] = []

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal(name="payer_event")
    def payer_event(self, event: PayerEvent) -> None:
        self._events.append(event)

    @workflow.query(name="events")
    def events(self) -> list[str]:
        return [f"{e.kind.value}:{getattr(e, 'ack_status', '')}" for e in self._events]


@dataclass
class Stack:
    env: WorkflowEnvironment
    client: Client
    sandbox: Sandbox
    clock: FakeClock
    files: MailboxFiles
    transport: SftpTransport
    submission: SubmissionActivities
    registry: InterchangeRegistry
    kept: Path

    @property
    def home(self) -> Path:
        return self.files.mailbox / "claimflow"

    async def run_inbox(self, run: int) -> list[RoutingReport]:
        with self.env.auto_time_skipping_disabled():  # the claims wait on nothing: no years may pass
            return await self.client.execute_workflow(
                InboxWorkflow.run, id=f"inbox-{run}", task_queue=QUEUE, execution_timeout=timedelta(minutes=2)
            )

    async def events_of(self, pcn: str) -> list[str]:
        return await self.client.get_workflow_handle(f"claim-{pcn}").query("events", result_type=list[str])

    async def exception_tasks(self) -> list[Task]:
        handle = self.client.get_workflow_handle("claim-exceptions")
        return await handle.query("tasks", result_type=list[Task])


@pytest.fixture
async def stack(tmp_path: Path, time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Stack]:  # noqa: F811
    clock = FakeClock()
    store = Store(tmp_path / "sandbox.db")
    sandbox = Sandbox(quiet_config(), store, clock=clock)
    port = free_port()
    files = prepare(tmp_path / "sftp", "127.0.0.1", port, "http://127.0.0.1:9")
    server: MailboxServer = await serve_mailbox(sandbox, files, "127.0.0.1", port)
    database_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(database_url)
    registry = InterchangeRegistry(database_url)
    transport = SftpTransport(load_profile(files.profile), max_attempts=3, backoff=0.01)
    envelopes = EnvelopeFactory(receiver_id="SANDBOXCH", registry=registry)
    client = time_skipping_env.client
    inbox = InboxActivities(transport, client, ledger, QUEUE, registry=registry, kept_dir=tmp_path / "kept")
    worker = Worker(
        client,
        task_queue=QUEUE,
        workflows=[InboxWorkflow, ExceptionsWorkflow, PayerEventRecorder],
        activities=[inbox.list_inbox, inbox.route_file],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    submission = SubmissionActivities(transport, ledger, envelopes)
    try:
        async with worker:
            yield Stack(
                time_skipping_env,
                client,
                sandbox,
                clock,
                files,
                transport,
                submission,
                registry,
                tmp_path / "kept",
            )
    finally:
        await transport.aclose()
        await server.close()
        registry.close()
        ledger.close()
        store.close()


async def test_payer_files_reach_their_claims_and_the_rest_become_tasks(stack: Stack) -> None:
    factory = ClaimFactory(5)
    ours = claim(factory, [Line("99213")], pcn="SFTP100")
    orphan = claim(factory, [Line("99213")], pcn="SFTP200")  # no workflow owns it
    await stack.client.start_workflow(PayerEventRecorder.run, id="claim-SFTP100", task_queue=QUEUE)
    for c in (ours, orphan):
        receipt = await stack.submission.submit_claim(SubmitRequest(claim=c, attempt=1, submitted_at=START))
        assert not receipt.duplicate
    assert os.listdir(stack.home / "upload") == []  # the sandbox took both interchanges at once

    stack.clock.tick(61)  # 999s and 277CAs
    reports = await stack.run_inbox(1)
    assert sorted(r.kind for r in reports) == ["277CA", "277CA", "999", "999"]
    assert sum(r.routed for r in reports) == 2 and sum(r.unmatched for r in reports) == 2
    assert sorted(await stack.events_of("SFTP100")) == ["277ca:", "999:A"]
    assert sorted(os.listdir(stack.home / "archive")) == sorted(r.file_id for r in reports)
    assert os.listdir(stack.home / "download") == []
    assert stack.sandbox.store.inbox(stack.sandbox.now().timestamp()) == []  # collected = acknowledged
    unmatched = [t.reason for t in await stack.exception_tasks() if "SFTP200" in t.reason]
    assert unmatched == ["no open claim for patient control number SFTP200"] * 2
    # every file that held an unmatched result is kept as well
    assert len(os.listdir(stack.kept / _safe_mailbox(stack))) == 2

    stack.clock.tick(3601)  # the 835s
    (stack.home / "download" / "late.835.part").write_text("still being written")
    reports = await stack.run_inbox(2)
    assert [r.kind for r in reports] == ["835", "835"]
    assert sorted(await stack.events_of("SFTP100")) == ["277ca:", "835:", "999:A"]
    assert os.listdir(stack.home / "download") == ["late.835.part"]  # a partial file waits

    # the same interchange again under another name: recognised, logged, not routed again
    first_835 = next(name for name in os.listdir(stack.home / "archive") if name.endswith(".835.x12"))
    shutil.copy(stack.home / "archive" / first_835, stack.home / "download" / "again.835")
    (stack.home / "download" / "noise.x12").write_text("this is no X12 at all")
    # the same sender and ISA13 for other content (ISA10, its time, changed): a reused number, parked
    reused = (stack.home / "archive" / first_835).read_text()
    reused = reused[:77] + ("0001" if reused[77:81] != "0001" else "0002") + reused[81:]
    (stack.home / "download" / "reused.835").write_text(reused)
    reports = await stack.run_inbox(3)
    by_file = {r.file_id: r for r in reports}
    assert by_file["again.835"].kind == "duplicate" and by_file["again.835"].routed == 0
    assert by_file["noise.x12"].kind == "unreadable"
    assert by_file["reused.835"].kind == "unreadable" and "a reused control number" in str(
        by_file["reused.835"].problem
    )
    assert (stack.home / "parked" / "reused.835").exists()
    assert sorted(await stack.events_of("SFTP100")) == ["277ca:", "835:", "999:A"]
    parked = await stack.exception_tasks()
    noise = [t for t in parked if "noise.x12" in t.reason]
    assert len(noise) == 1 and "a copy is kept at" in noise[0].reason
    assert (stack.home / "parked" / "noise.x12").read_text() == "this is no X12 at all"
    kept = stack.kept / _safe_mailbox(stack) / "noise.x12"
    assert kept.read_text() == "this is no X12 at all"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # it may hold PHI: claimflow's user only
    outcomes = stack.registry.pickups(
        stack.transport.mailbox, ["again.835", "noise.x12", "reused.835", first_835]
    )
    assert outcomes == {
        "again.835": InboundOutcome.DUPLICATE,
        "reused.835": InboundOutcome.PARKED,
        "noise.x12": InboundOutcome.PARKED,
        first_835: InboundOutcome.ROUTED,
    }
    assert await stack.run_inbox(4) == []  # nothing is read twice


async def test_a_rejecting_ta1_reaches_the_claims_of_its_interchange(stack: Stack) -> None:
    factory = ClaimFactory(6)
    ours = claim(factory, [Line("99213")], pcn="SFTP300")
    await stack.client.start_workflow(PayerEventRecorder.run, id="claim-SFTP300", task_queue=QUEUE)
    receipt = await stack.submission.submit_claim(SubmitRequest(claim=ours, attempt=1, submitted_at=START))
    number = receipt.interchange_control_number
    again = await stack.submission.submit_claim(SubmitRequest(claim=ours, attempt=1, submitted_at=START))
    assert again.interchange_control_number == number  # a retried activity: the same interchange
    ta1 = write_ta1(
        EnvelopeFactory("SANDBOXCH", "CLAIMFLOW").numbered(777, START), f"{number:09d}", START, "R", "024"
    )
    (stack.home / "download" / "answer.ta1").write_text(ta1)
    reports = await stack.run_inbox(1)
    assert [(r.file_id, r.kind, r.routed) for r in reports if r.file_id == "answer.ta1"] == [
        ("answer.ta1", "TA1", 1)
    ]
    assert "999:R" in await stack.events_of("SFTP300")


def _safe_mailbox(stack: Stack) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", stack.transport.mailbox)
