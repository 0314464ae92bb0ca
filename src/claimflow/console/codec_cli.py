"""`claimflow codec-server`: Temporal's remote codec for the Web UI (console.codec_server)."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from claimflow.console.identity import settings, user_store
from claimflow.console.output import ExitCode, fail
from claimflow.integrations.crypto import KeyConfigError, load_keys

ORIGIN = re.compile(r"^https?://[^/\s]+$")
DEFAULT_PORT = 8888


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="TCP port: the UI's codec endpoint is http://HOST:PORT")
    ] = DEFAULT_PORT,
    ui_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--ui-origin",
            help="the Temporal Web UI's origin, allowed by CORS (repeat for several; default "
            "http://localhost:8233 and http://127.0.0.1:8233)",
        ),
    ] = None,
    secure_cookies: Annotated[
        bool, typer.Option(help="mark the sign-in cookie Secure (behind HTTPS)")
    ] = False,
) -> None:
    """Serve Temporal's remote codec (/decode, /encode) with the claim keys, for managers and admins.

    Keys are CLAIMFLOW_KEYS (or the key file under CLAIMFLOW_HOME), users the ledger's (DATABASE_URL);
    a web console session (CLAIMFLOW_CONSOLE_SECRET, or the home's console secret) signs in here too.
    Exits 2 when the keys or the settings cannot be read, 3 when the ledger cannot be opened.
    """
    import uvicorn

    from claimflow.console.codec_server import CodecConfig, create_codec_app

    configuration = settings()
    try:
        keys = load_keys(configuration)
    except KeyConfigError as error:
        fail(str(error), ExitCode.USAGE)
    origins = tuple(ui_origin or ("http://localhost:8233", "http://127.0.0.1:8233"))
    bad = [origin for origin in origins if not ORIGIN.match(origin)]
    if bad:
        fail(
            f"--ui-origin {bad[0]!r} is not an origin: write scheme://host[:port], e.g. http://localhost:8233",
            ExitCode.USAGE,
        )
    from claimflow.console.web.server import session_secret

    with user_store(configuration) as store:
        config = CodecConfig(
            keys,
            store,
            origins,
            secure_cookies=secure_cookies,
            console_secret=session_secret(configuration.home),
        )
        app = create_codec_app(config)
        typer.echo(f"codec server on http://{host}:{port} for the UI at {', '.join(origins)}")
        uvicorn.run(app, host=host, port=port, log_level="warning")
