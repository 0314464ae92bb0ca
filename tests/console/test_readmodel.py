"""`claimflow tasks` reads the read model (no query to any workflow), and the read model converges
with the workflows' own tasks after a projector killed midway and rows lost (#18 item 3), against
real claim and exceptions workflows on the dev server."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.tasks import SelfPay, UnmatchedItem
from claimflow.console.claims_client import ClaimsClient
from claimflow.integrations.ledger import projector as projector_module
from claimflow.integrations.ledger.projector import Projector
from claimflow.integrations.ledger.readmodel import ReadModel
from claimflow.integrations.ledger.schema import ReadModelTaskRow
from claimflow.integrations.settings import Settings
from claimflow.workers.worker import keeping_read_model
from claimflow.workflows import search_attributes as sa
from claimflow.workflows.exceptions import ExceptionsWorkflow
from tests.console.conftest import TASK_QUEUE, RunCli
from tests.console.test_commands import inactive, uncoded, write


class Calls:
    """Every workflow query, describe and visibility listing this process sends, counted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: Counter[str] = Counter()
        for owner, name in (
            (WorkflowHandle, "query"),
            (WorkflowHandle, "describe"),
            (Client, "list_workflows"),
        ):
            monkeypatch.setattr(owner, name, self._counting(name, getattr(owner, name)))

    def _counting(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return method(*args, **kwargs)

        return counted


@pytest.fixture
def read_model_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'readmodel.db'}"


@pytest.fixture
def store(read_model_url: str) -> Iterator[ReadModel]:
    model = ReadModel(read_model_url)
    try:
        yield model
    finally:
        model.close()


async def _workflow_tasks(claims: ClaimsClient, owners: set[str]) -> set[tuple[str, str, int]]:
    """The open tasks the workflows themselves hold (asked one by one), of these workflows."""
    rows = await claims.tasks()
    return {
        (row.task.id, row.task.kind.value, int(row.task.priority))
        for row in rows
        if row.claim_id in owners or row.task.id.rpartition(":")[0] in owners
    }


def _read_model_tasks(store: ReadModel, owners: set[str]) -> set[tuple[str, str, int]]:
    return {
        (view.task_id, view.kind, view.priority)
        for view in store.open_tasks()
        if view.claim_id in owners or view.workflow_id in owners
    }


async def _until(check: Callable[[], Any], what: str) -> None:
    for _ in range(100):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"never: {what}")


def test_the_projector_reads_the_search_attributes_the_workflows_publish() -> None:
    for key in ("CLAIM_STATE", "PAYER_ID", "LAST_PROGRESS_AT", "TIMELY_FILING_DEADLINE", "BILLED_AMOUNT"):
        assert getattr(projector_module, key) == getattr(sa, key)


@pytest.mark.asyncio(loop_scope="session")
async def test_tasks_reads_the_read_model_and_it_converges_after_a_crash(
    cli: RunCli,
    dev_env: WorkflowEnvironment,
    tmp_path: Path,
    read_model_url: str,
    store: ReadModel,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    claims = ClaimsClient(dev_env.client, TASK_QUEUE)
    encounters = [inactive(9201), uncoded(9202), inactive(9203)]
    for enc in encounters:
        started = await cli("intake", str(write(tmp_path, enc)))
        assert started.exit_code == 0, started.output
    file_id = f"835-{uuid.uuid4().hex[:8]}"
    await dev_env.client.start_workflow(
        ExceptionsWorkflow.run,
        id="claim-exceptions",
        task_queue=TASK_QUEUE,
        start_signal="unmatched",
        start_signal_args=[UnmatchedItem(file_id=file_id, kind="835", reason="CLP01 matches no claim")],
    )
    owners = {f"claim-{enc.encounter_id}" for enc in encounters} | {"claim-exceptions"}

    async def all_have_tasks() -> bool:
        found = await _workflow_tasks(claims, owners)
        return {task_id.rpartition(":")[0] for task_id, _, _ in found} >= owners - {"claim-exceptions"}

    await _until(all_have_tasks, "every claim shows its task")
    truth = await _workflow_tasks(claims, owners)

    projector = Projector(dev_env.client, store)
    report = await projector.rebuild()
    assert report.queried >= len(owners)
    assert _read_model_tasks(store, owners) == truth

    # `claimflow tasks` on the read model: the same tasks with their claims' facts, and not one
    # query, describe or listing sent to Temporal
    calls = Calls(monkeypatch)
    listed = await cli("tasks", "--json", env={"DATABASE_URL": read_model_url})
    assert listed.exit_code == 0, listed.output
    assert calls.counts == Counter(), calls.counts
    rows = [row for row in json.loads(listed.stdout) if row["claim_id"] in owners]
    assert {(row["task"]["id"], row["task"]["kind"], row["task"]["priority"]) for row in rows} == truth
    first = next(row for row in rows if row["claim_id"] == f"claim-{encounters[0].encounter_id}")
    patient = encounters[0].patient
    assert first["patient"] == f"{patient.last_name}, {patient.first_name}"
    assert first["date_of_service"] == encounters[0].service_date.isoformat()

    # the counter does count: an empty read model falls back to asking the workflows, and says so
    empty = await cli("tasks", "--json", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert empty.exit_code == 0, empty.output
    assert "claimflow readmodel rebuild" in empty.stderr
    assert calls.counts["query"] >= len(owners) and calls.counts["list_workflows"] >= 1
    monkeypatch.undo()

    # a claim moves (its coverage task resolved), and the projector dies midway through its pass
    coverage_task = next(
        t for t, kind, _ in truth if kind == "coverage_issue" and encounters[0].encounter_id in t
    )
    await claims.resolve(SelfPay(task_id=coverage_task, actor="amy@billing"))
    killed = asyncio.create_task(projector.catch_up())

    deadline = asyncio.get_running_loop().time() + 20
    while projector.queries == report.queried:  # killed the moment it sent its first query
        assert asyncio.get_running_loop().time() < deadline, "the pass never asked the claim that moved"
        await asyncio.sleep(0)
    killed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await killed
    assert coverage_task in {view.task_id for view in store.open_tasks()}  # nothing half-written
    # and rows are lost besides (a restore from an old backup, a bad hand edit)
    lost = min(task_id for task_id, _, _ in truth if task_id != coverage_task)
    with store._sessions.begin() as session:
        session.execute(delete(ReadModelTaskRow).where(ReadModelTaskRow.task_id == lost))

    # the next pass catches up what moved, asking only what moved
    before = projector.queries
    caught_up = await projector.catch_up()
    assert coverage_task not in {view.task_id for view in store.open_tasks()}
    assert caught_up.queried < report.queried, (caught_up, report)
    assert projector.queries - before == caught_up.queried

    # and `claimflow readmodel rebuild` restores what was lost: the read model is the workflows' own
    rebuilt = await cli("readmodel", "rebuild", "--json", env={"DATABASE_URL": read_model_url})
    assert rebuilt.exit_code == 0, rebuilt.output
    assert _read_model_tasks(store, owners) == await _workflow_tasks(claims, owners)
    assert lost in {view.task_id for view in store.open_tasks()}
    status = await cli("readmodel", "status", "--json", env={"DATABASE_URL": read_model_url})
    assert json.loads(status.stdout)["tasks"] == store.counts().tasks


@pytest.mark.asyncio(loop_scope="session")
async def test_the_workers_projector_keeps_it_current(
    cli: RunCli, dev_env: WorkflowEnvironment, tmp_path: Path, read_model_url: str, store: ReadModel
) -> None:
    settings = Settings(database_url=read_model_url, home=tmp_path)
    claims = ClaimsClient(dev_env.client, TASK_QUEUE)
    async with keeping_read_model(dev_env.client, settings, timedelta(seconds=0.2)):
        enc = uncoded(9211)
        started = await cli("intake", str(write(tmp_path, enc)))
        assert started.exit_code == 0, started.output
        claim_id = f"claim-{enc.encounter_id}"

        async def listed() -> bool:
            return any(view.claim_id == claim_id for view in store.open_tasks(kind="coding"))

        await _until(listed, "the new claim's coding task reaches the read model")
        assert _read_model_tasks(store, {claim_id}) == await _workflow_tasks(claims, {claim_id})
