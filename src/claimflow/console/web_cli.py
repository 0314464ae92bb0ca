"""`claimflow web`: the web console for billers and managers (console.web), served with uvicorn."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from claimflow.console.identity import settings
from claimflow.console.output import ExitCode, fail

DEFAULT_PORT = 8000


def web(
    host: Annotated[str, typer.Option(help="interface to listen on (0.0.0.0 in a container)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port: the console is http://HOST:PORT")] = DEFAULT_PORT,
    secure_cookies: Annotated[
        bool, typer.Option(help="mark the session cookie Secure (behind HTTPS)")
    ] = False,
) -> None:
    """Serve the web console: work queue, task and claim pages, search, the manager dashboard.

    Claims come from Temporal (TEMPORAL_ADDRESS), users, notes and the audit trail from the ledger
    (DATABASE_URL); the session cookie is signed with CLAIMFLOW_CONSOLE_SECRET, else with a secret
    kept in CLAIMFLOW_HOME. /healthz and /readyz answer for probes. Exits 2 when the settings cannot
    be read, 3 when Temporal or the ledger cannot be reached.
    """
    from claimflow.console.web.server import serve

    configuration = settings()
    typer.echo(f"web console on http://{host}:{port}")
    try:
        asyncio.run(serve(configuration, host, port, https_only=secure_cookies))
    except SQLAlchemyError as error:
        fail(f"cannot open the ledger database (DATABASE_URL): {type(error).__name__}", ExitCode.UNREACHABLE)
    except RuntimeError as error:  # temporalio's connect: the server is not there
        fail(
            f"cannot reach Temporal at {configuration.temporal_address}: {error}; is it running?",
            ExitCode.UNREACHABLE,
        )
