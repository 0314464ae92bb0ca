"""The web console on the dev server's claims (the scripted payer's worker), a ledger with users,
and an httpx client per person that logs in through the login form like a browser."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.appeals import AppealInput
from claimflow.claims.encounter import Encounter
from claimflow.claims.payers import default_directory
from claimflow.claims.roles import Role
from claimflow.console.claims_client import ClaimsClient
from claimflow.console.web.app import ConsoleConfig, create_app
from claimflow.console.web.data import ConsoleData, QueueFilter
from claimflow.integrations.ledger import Ledger
from claimflow.integrations.ledger.projector import Projector
from claimflow.integrations.ledger.readmodel import ReadModel
from claimflow.integrations.ledger.users import UserStore
from claimflow.integrations.ledger.worklist import Worklist
from claimflow.workflows.appeal import AppealWorkflow
from tests.appeals.scripted import denied_claim
from tests.console.conftest import TASK_QUEUE
from tests.workflows.scripted import ScriptedPayer

PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Console:
    asgi: Starlette
    data: ConsoleData
    ledger: Ledger
    users: UserStore
    app: httpx.AsyncClient
    """an anonymous client; `as_user` gives logged-in ones"""
    make_client: Callable[[], httpx.AsyncClient]
    read_model: ReadModel | None = None
    """the ledger's read model the queue reads (None: the console asks every workflow)"""
    projector: Projector | None = None

    async def as_user(self, username: str) -> Person:
        person = Person(self.make_client(), username)
        await person.login(PASSWORD)
        return person


@dataclass
class Person:
    http: httpx.AsyncClient
    username: str
    csrf: str = ""

    async def login(self, password: str) -> httpx.Response:
        page = await self.http.get("/login")
        response = await self.http.post(
            "/login",
            data={"csrf_token": csrf_of(page.text), "username": self.username, "password": password},
        )
        if response.status_code == 303:
            self.csrf = csrf_of((await self.http.get("/queue")).text)
        return response

    async def post(self, path: str, **fields: str) -> httpx.Response:
        return await self.http.post(path, data={"csrf_token": self.csrf, **fields})


def csrf_of(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def users(ledger_url: str) -> Iterator[UserStore]:
    Ledger(ledger_url).close()  # migrates
    store = UserStore(ledger_url)
    for name, role in (("amy", Role.BILLER), ("bob", Role.BILLER), ("mary", Role.MANAGER)):
        store.add(name, name.title(), role, by="tests", password=PASSWORD)
    yield store
    store.close()


def make_console(
    dev_env: WorkflowEnvironment,
    ledger_url: str,
    users: UserStore,
    tmp_path: Path,
    *,
    with_read_model: bool = False,
    **config: float,
) -> tuple[Console, Callable[[], None]]:
    """`with_read_model`: the queue reads the ledger's read model, as `claimflow up` serves it (no
    projector runs in the background: a test projects when it means to)."""
    ledger = Ledger(ledger_url)
    worklist = Worklist(ledger_url)
    read_model = ReadModel(ledger_url) if with_read_model else None
    projector = Projector(dev_env.client, read_model) if read_model else None
    data = ConsoleData(
        ClaimsClient(dev_env.client, TASK_QUEUE),
        ledger,
        worklist,
        fresh_seconds=0.0,
        read_model=read_model,
        projector=projector,
    )
    app = create_app(
        data, users, ConsoleConfig(secret_key="test-secret", documents_dir=tmp_path / "documents", **config)
    )

    def client() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    def close() -> None:
        if read_model is not None:
            read_model.close()
        worklist.close()
        ledger.close()

    return Console(app, data, ledger, users, client(), client, read_model, projector), close


@pytest.fixture
async def console(
    dev_env: WorkflowEnvironment,
    payer_worker: ScriptedPayer,
    ledger_url: str,
    users: UserStore,
    tmp_path: Path,
) -> AsyncIterator[Console]:
    made, close = make_console(dev_env, ledger_url, users, tmp_path)
    yield made
    close()


async def start_write_off_approval(dev_env: WorkflowEnvironment) -> str:
    """An appeal whose window closed long ago: it asks a manager at once to approve the write-off.
    Returns the appeal's workflow id."""
    claim, payment = denied_claim("50")
    today = (await dev_env.get_current_time()).date()
    payer = default_directory().profiles[claim.encounter.coverage.payer_id]
    appeal_id = f"appeal-{claim.encounter.encounter_id}-1"
    await dev_env.client.start_workflow(
        AppealWorkflow.run,
        AppealInput(
            claim=claim,
            payer=payer,
            payment=payment,
            remittance_date=today - timedelta(days=400),
            managers=["billing-manager"],
        ),
        id=appeal_id,
        task_queue=TASK_QUEUE,
    )
    return appeal_id


async def started(console: Console, enc: Encounter) -> str:
    """Start the claim as the console's intake does: on the task queue the console's worker polls."""
    outcome = await console.data.claims.intake(enc)
    assert outcome.started
    return outcome.claim_id


async def task_of(console: Console, owner: str, kind: str, seconds: float = 20) -> str:
    """The id of the open task of this kind on the claim (or of a task whose id starts with `owner`,
    an appeal's), once the queue lists it (visibility lags)."""
    for _ in range(int(seconds / 0.1)):
        await console.data.reload()
        for item in await console.data.queue(QueueFilter(), "nobody"):
            mine = item.row.claim_id == owner or item.task.id.startswith(f"{owner}:")
            if mine and item.task.kind.value == kind:
                return item.task.id
        await asyncio.sleep(0.1)
    raise AssertionError(f"{owner} never listed a {kind} task")
