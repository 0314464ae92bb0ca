"""The web console's work queue reads the read model (#18 item 3): the page is served, filtered and
sorted without one query, describe or listing sent to Temporal, shows what the workflows' own copy
shows, says so when the read model was never built and asks the workflows instead; a biller's own
resolution leaves the queue at once; and after the projector is killed midway and rows are lost, the
next pass and a rebuild bring the queue back to the workflows' own tasks. Real claims on the dev
server (scripted payer), a real ledger."""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete
from temporalio.client import WorkflowExecution, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.tasks import SelfPay
from claimflow.integrations.ledger.projector import Projector
from claimflow.integrations.ledger.readmodel import ReadModel
from claimflow.integrations.ledger.schema import ReadModelTaskRow
from claimflow.integrations.ledger.users import UserStore
from claimflow.workflows import search_attributes as sa
from tests.console.test_commands import inactive, uncoded
from tests.console.test_readmodel import Calls
from tests.console.web.conftest import Console, make_console, started, task_of
from tests.workflows.scripted import ScriptedPayer

pytestmark = pytest.mark.asyncio(loop_scope="session")

MIN = datetime.min.replace(tzinfo=UTC)


@pytest.fixture
async def console_on_read_model(
    dev_env: WorkflowEnvironment,
    payer_worker: ScriptedPayer,
    ledger_url: str,
    users: UserStore,
    tmp_path: Path,
) -> AsyncIterator[Console]:
    made, close = make_console(dev_env, ledger_url, users, tmp_path, with_read_model=True)
    yield made
    close()


async def queue_csv(http: httpx.AsyncClient, **params: str) -> list[dict[str, str]]:
    response = await http.get("/queue.csv", params=params)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


async def latest_claim_runs(env: WorkflowEnvironment) -> list[WorkflowExecution]:
    """One run per claim id, the newest (other tests in the session reuse ids and continue as new)."""
    latest: dict[str, WorkflowExecution] = {}
    async for execution in env.client.list_workflows("WorkflowType = 'ClaimWorkflow'"):
        seen = latest.get(execution.id)
        if seen is None or (execution.start_time or MIN) > (seen.start_time or MIN):
            latest[execution.id] = execution
    return list(latest.values())


def state_of(execution: WorkflowExecution) -> str:
    """The state a claim's workflow published; one ended (terminated by a test) before it published
    any is a closed claim, as the dashboard counts it."""
    state = execution.typed_search_attributes.get(sa.CLAIM_STATE)
    if state:
        return state
    return "unknown" if execution.status is WorkflowExecutionStatus.RUNNING else "closed"


def only(rows: list[dict[str, str]], claims: set[str]) -> list[dict[str, str]]:
    return [row for row in rows if row["claim"] in claims]


async def test_the_queue_reads_the_read_model_and_converges_after_a_crash(
    console_on_read_model: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = console_on_read_model
    assert console.read_model is not None and console.projector is not None
    store: ReadModel = console.read_model
    projector: Projector = console.projector
    coverage = await started(console, inactive(9301))
    coding = await started(console, uncoded(9302))
    other = await started(console, inactive(9303))
    ours = {coverage, coding, other}
    coverage_task = await task_of(console, coverage, "coverage_issue")
    coding_task = await task_of(console, coding, "coding")
    other_task = await task_of(console, other, "coverage_issue")
    amy = await console.as_user("amy")

    # never built: the queue asks every workflow (the counter does count), and says so on the page
    calls = Calls(monkeypatch)
    console.data._loaded = None  # nothing kept from task_of's loads: this page waits for its own
    page = await amy.http.get("/queue")
    assert page.status_code == 200 and "read model was never built" in page.text
    assert coverage_task in page.text
    from_workflows = only(await queue_csv(amy.http), ours)
    assert sum(calls.counts.values()) >= 1, calls.counts

    await projector.rebuild()
    await console.data.reload()  # no load of the workflows' copy still running in the background
    calls.counts.clear()
    page = await amy.http.get("/queue")
    assert page.status_code == 200 and "never built" not in page.text
    from_read_model = only(await queue_csv(amy.http), ours)
    # the same lines (kind, claim, patient, payer, amount, due, SLA, priority, assignee) as the
    # workflows' own copy, and in the same order
    assert from_read_model == from_workflows and len(from_read_model) == 3
    assert all(row["patient"] and row["payer"] and row["amount"] for row in from_read_model)
    # filters and sorts are the database's: still nothing asked of Temporal
    by_kind = only(await queue_csv(amy.http, kind="coding"), ours)
    assert [row["task"] for row in by_kind] == [coding_task]
    by_claim = only(await queue_csv(amy.http, sort="claim", order="desc"), ours)
    assert [row["claim"] for row in by_claim] == sorted(ours, reverse=True)
    payer = from_read_model[0]["payer"]
    assert {row["payer"] for row in only(await queue_csv(amy.http, payer=payer), ours)} == {payer}
    assert calls.counts == {}, calls.counts

    # claiming a task: the holder is joined live, so "mine" shows it at once, still without a query
    claimed = await amy.post(f"/tasks/{coding_task}/claim")
    assert claimed.status_code == 303
    calls.counts.clear()
    mine = only(await queue_csv(amy.http, holder="mine"), ours)
    assert [(row["task"], row["assignee"]) for row in mine] == [(coding_task, "amy")]
    assert calls.counts == {}, calls.counts
    monkeypatch.undo()

    # a resolution sent here: the task's claim is projected again at once, no pass needed
    done = await amy.post(f"/tasks/{coverage_task}/resolve", action="self_pay")
    assert done.status_code == 303, done.text
    listed = {row["task"] for row in only(await queue_csv(amy.http), ours)}
    assert coverage_task not in listed and {coding_task, other_task} <= listed
    assert await _queue_is_the_workflows(console, ours)

    # another claim moves elsewhere (the CLI), the projector dies midway through its pass...
    await console.data.claims.resolve(SelfPay(task_id=other_task, actor="bob"))
    before = projector.queries
    killed = asyncio.create_task(projector.catch_up())
    deadline = asyncio.get_running_loop().time() + 20
    while projector.queries == before:
        assert asyncio.get_running_loop().time() < deadline, "the pass never asked the claim that moved"
        await asyncio.sleep(0)
    killed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await killed
    # ...and rows are lost besides: the queue shows the stale read model, not half of a pass
    with store._sessions.begin() as session:
        session.execute(delete(ReadModelTaskRow).where(ReadModelTaskRow.task_id == coding_task))
    stale = {row["task"] for row in only(await queue_csv(amy.http), ours)}
    assert other_task in stale and coding_task not in stale

    # the next pass catches up what moved; a rebuild restores what was lost
    await projector.catch_up()
    assert other_task not in {row["task"] for row in only(await queue_csv(amy.http), ours)}
    await projector.rebuild()
    assert await _queue_is_the_workflows(console, ours)
    assert coding_task in {row["task"] for row in only(await queue_csv(amy.http), ours)}


async def _queue_is_the_workflows(console: Console, claims: set[str]) -> bool:
    """The read model's open tasks of these claims are the ones their workflows hold now."""
    assert console.read_model is not None
    truth = {
        (task.id, task.kind.value)
        for claim_id in claims
        for task in (await console.data.claims.claim(claim_id)).open_tasks
    }
    views = console.read_model.open_tasks()
    listed = {(view.task_id, view.kind) for view in views if view.claim_id in claims}
    return listed == truth


async def test_a_resolution_the_workflow_cannot_answer_for_at_once_still_leaves_the_queue(
    console_on_read_model: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the projection right after the Update fails (the claim's workflow does not answer), the
    resolved task's row is dropped: the biller never sees it again in their queue."""
    console = console_on_read_model
    assert console.read_model is not None and console.projector is not None
    claim = await started(console, inactive(9304))
    task_id = await task_of(console, claim, "coverage_issue")
    await console.projector.rebuild()
    amy = await console.as_user("amy")
    assert task_id in {row["task"] for row in await queue_csv(amy.http)}

    async def unanswered(workflow_ids: object) -> object:
        raise TimeoutError

    monkeypatch.setattr(console.projector, "refresh", unanswered)
    done = await amy.post(f"/tasks/{task_id}/resolve", action="self_pay")
    assert done.status_code == 303, done.text
    assert task_id not in {row["task"] for row in await queue_csv(amy.http)}


async def dashboard_table(http: httpx.AsyncClient, name: str) -> list[dict[str, str]]:
    response = await http.get(f"/dashboard/{name}.csv")
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text)))


def open_task_total(rows: list[dict[str, str]]) -> int:
    """The open-tasks table's count: every age bucket of every kind (not the past-due column)."""
    return sum(
        int(value) for row in rows for key, value in row.items() if key not in ("kind",) and "past" not in key
    )


async def test_the_dashboards_counts_come_from_the_read_model_and_match_the_workflows(
    console_on_read_model: Console, dev_env: WorkflowEnvironment
) -> None:
    console = console_on_read_model
    assert console.read_model is not None and console.projector is not None
    store = console.read_model
    coding = await started(console, uncoded(9305))
    coding_task = await task_of(console, coding, "coding")
    mary = await console.as_user("mary")

    for _ in range(10):  # until nothing moved between the rebuild and the listing
        await console.projector.rebuild()
        by_state = {
            row["state"]: int(row["claims"]) for row in await dashboard_table(mary.http, "claims_by_state")
        }
        projected = {claim.claim_id for claim in store.claims()}
        workflows: Counter[str] = Counter()
        for execution in await latest_claim_runs(dev_env):
            if execution.id in projected:
                workflows[state_of(execution)] += 1
        if by_state == dict(workflows):
            break
    assert by_state == dict(workflows) and by_state.get("coding", 0) >= 1
    # open tasks: the same count the work queue lists
    tasks = open_task_total(await dashboard_table(mary.http, "open_tasks"))
    assert tasks == len(await queue_csv(mary.http)) == store.counts().tasks

    # rows lost: the dashboard shows the read model as it is, and a rebuild restores it
    with store._sessions.begin() as session:
        session.execute(delete(ReadModelTaskRow).where(ReadModelTaskRow.task_id == coding_task))
    assert open_task_total(await dashboard_table(mary.http, "open_tasks")) == tasks - 1
    await console.projector.rebuild()
    assert coding_task in {view.task_id for view in store.open_tasks(kind="coding")}
