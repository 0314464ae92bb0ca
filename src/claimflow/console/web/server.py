"""Run the web console: connect to Temporal and the ledger as the environment says, serve with uvicorn.

The session cookie is signed with CLAIMFLOW_CONSOLE_SECRET when set (every replica behind a load
balancer needs the same one); otherwise with a secret generated once into $CLAIMFLOW_HOME, so a
restart keeps people logged in.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from claimflow.console.claims_client import ClaimsClient
from claimflow.console.web.app import ConsoleConfig, create_app
from claimflow.console.web.data import ConsoleData
from claimflow.integrations.crypto import load_keys
from claimflow.integrations.health import health_routes
from claimflow.integrations.ledger import Ledger, X12Archive
from claimflow.integrations.ledger.projector import Projector
from claimflow.integrations.ledger.readmodel import ReadModel
from claimflow.integrations.ledger.users import UserStore
from claimflow.integrations.ledger.worklist import Worklist
from claimflow.integrations.metrics import RequestMetrics, metrics_route
from claimflow.integrations.settings import Settings
from claimflow.integrations.temporal import connect

SECRET_VARIABLE = "CLAIMFLOW_CONSOLE_SECRET"
SECRET_FILE = "console-secret"


def session_secret(home: Path) -> str:
    """CLAIMFLOW_CONSOLE_SECRET, else the secret kept in `home` (made on first use, owner-only)."""
    configured = os.environ.get(SECRET_VARIABLE, "").strip()
    if configured:
        return configured
    path = home / SECRET_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    home.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(secret)
    return secret


@asynccontextmanager
async def console_app(settings: Settings, *, https_only: bool = False) -> AsyncIterator[Starlette]:
    """The console wired to Temporal, the ledger and the users, closed when the block ends."""
    client = await connect(settings)
    ledger = Ledger(settings.ledger_url)
    worklist = Worklist(settings.ledger_url, migrate_schema=False)
    users = UserStore(settings.ledger_url, migrate_schema=False)
    claims = ClaimsClient(client, settings.temporal_task_queue)
    x12 = X12Archive(settings.ledger_url, load_keys(settings))  # the claim keys open the kept X12
    # the work queue reads the read model; a resolution sent here projects its workflow again at once
    read_model = ReadModel(settings.ledger_url, migrate_schema=False)
    projector = Projector(client, read_model)
    data = ConsoleData(claims, ledger, worklist, x12=x12, read_model=read_model, projector=projector)

    async def temporal_ready() -> None:
        await client.workflow_service.get_system_info(GetSystemInfoRequest())

    async def ledger_ready() -> None:
        await asyncio.to_thread(ledger.audit, None, 1)

    config = ConsoleConfig(
        secret_key=session_secret(settings.home),
        documents_dir=settings.home / "documents",
        https_only=https_only,
    )
    checks = health_routes({"temporal": temporal_ready, "ledger": ledger_ready})
    app = create_app(data, users, config, extra_routes=[*checks, metrics_route()])
    # requests counted and timed by route template, method and status (never the raw path: it holds ids)
    app.add_middleware(RequestMetrics, service="console", routes=app.routes)
    try:
        yield app
    finally:
        await data.close()
        users.close()
        worklist.close()
        x12.close()
        read_model.close()
        ledger.close()


async def serve(settings: Settings, host: str, port: int, *, https_only: bool = False) -> None:
    """Serve the console until the process is told to stop (uvicorn handles SIGINT and SIGTERM)."""
    async with console_app(settings, https_only=https_only) as app:
        server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=True, lifespan="on")
        )
        await server.serve()
