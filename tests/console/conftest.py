"""The dev server (visibility queries need it) with a scripted payer's worker, and a command runner."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from click.testing import Result
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner

from claimflow.activities.underpayments import UnderpaymentActivities
from claimflow.claims.payers import default_directory
from claimflow.claims.roles import Role
from claimflow.console.main import app
from claimflow.integrations.ledger.users import UserStore
from claimflow.workflows.appeal import AppealWorkflow
from claimflow.workflows.claim import ClaimWorkflow
from claimflow.workflows.exceptions import ExceptionsWorkflow
from tests.appeals.scripted import ScriptedAppeals
from tests.dev_server import start_dev_server
from tests.ledger.test_users import CHEAP_HASHER
from tests.workflows.conftest import TEST_KEYS
from tests.workflows.scripted import ScriptedPayer

TASK_QUEUE = "console-tests"
RunCli = Callable[..., Awaitable[Result]]


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def payer_worker(
    dev_env: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ScriptedPayer]:
    payer = ScriptedPayer()
    appeals = ScriptedAppeals()
    # the real contract check and letter on the shipped contracts, as tests.workflows.scripted.worker
    contracts = UnderpaymentActivities(default_directory(), tmp_path_factory.mktemp("underpayments"))
    async with Worker(
        dev_env.client,
        task_queue=TASK_QUEUE,
        workflows=[ClaimWorkflow, AppealWorkflow, ExceptionsWorkflow],
        activities=[
            *payer.activities(),
            appeals.render_appeal_letter,
            appeals.send_appeal,
            contracts.find_underpayments,
            contracts.write_underpayment_letter,
        ],
    ):
        yield payer


def environment_for(client: Client) -> dict[str, str]:
    """What `claimflow` reads to find the test server (Settings.from_env)."""
    return {
        "TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": client.namespace,
        "TEMPORAL_TASK_QUEUE": TASK_QUEUE,
        "CLAIMFLOW_KEYS": TEST_KEYS.encoded(),
    }


@dataclass(frozen=True)
class ConsoleUsers:
    """A ledger with users for the commands that act as someone: every biller the tests name, and
    a manager. `token[name]` is each one's CLAIMFLOW_TOKEN."""

    database_url: str
    token: dict[str, str]

    def store(self) -> UserStore:
        return UserStore(self.database_url, hasher=CHEAP_HASHER)


BILLERS = ("amy@billing", "cody", "sam", "desk", "portal", "bo", "lee")
MANAGER = "mia@billing"


@pytest.fixture(scope="session")
def console_users(tmp_path_factory: pytest.TempPathFactory) -> ConsoleUsers:
    users = ConsoleUsers(f"sqlite:///{tmp_path_factory.mktemp('users') / 'ledger.db'}", {})
    store = users.store()
    try:
        for name, role in [*((biller, Role.BILLER) for biller in BILLERS), (MANAGER, Role.MANAGER)]:
            store.add(name, name, role, by="tests")
            users.token[name] = store.issue_token(name, by="tests").secret
    finally:
        store.close()
    return users


@pytest.fixture
def cli(dev_env: WorkflowEnvironment, payer_worker: ScriptedPayer, console_users: ConsoleUsers) -> RunCli:
    """Run `claimflow ARGS...` against the dev server, in a thread: the command runs its own loop.
    It acts as `user` (CLAIMFLOW_TOKEN), amy@billing unless told."""
    runner = CliRunner()
    environment = {**environment_for(dev_env.client), "DATABASE_URL": console_users.database_url}

    async def run(*args: str, env: dict[str, str] | None = None, user: str = "amy@billing") -> Result:
        acting = {"CLAIMFLOW_TOKEN": console_users.token[user]}
        return await asyncio.to_thread(
            runner.invoke,
            app,
            list(args),
            env={**environment, **acting, **(env or {})},
            catch_exceptions=False,
        )

    return run
