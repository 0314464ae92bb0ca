"""`claimflow sandbox`: the payer and clearinghouse simulator."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from claimflow.integrations.sandbox import Sandbox


def sandbox(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (CLEARINGHOUSE_URL points here)")] = 8700,
    config: Annotated[
        Path | None, typer.Option(help="payer TOML file (default: the five shipped sandbox payers)")
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(help="SQLite file: sandbox state across restarts (default: $CLAIMFLOW_HOME/sandbox.db)"),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="seed for noise and faults (default: the file's)")] = None,
    sftp_port: Annotated[
        int,
        typer.Option(help="also serve the clearinghouse as an SFTP mailbox on this port (0: HTTP only)"),
    ] = 0,
    sftp_dir: Annotated[
        Path | None,
        typer.Option(
            help="the mailbox's folders, keys and client-profile.toml for CLEARINGHOUSE_PROFILE "
            "(default: sftp/ beside the state file)"
        ),
    ] = None,
) -> None:
    """Serve the payer and clearinghouse sandbox (HTTP; with --sftp-port, an SFTP mailbox too)."""
    import asyncio

    from claimflow.integrations.sandbox import build_sandbox
    from claimflow.integrations.sandbox.config import ConfigError
    from claimflow.integrations.settings import Settings

    db = db or Settings.from_env().home / "sandbox.db"
    try:
        engine = build_sandbox(config_path=config, db_path=db, seed=seed)
    except ConfigError as exc:
        typer.echo(
            f"error: {exc}\n  fix the payers file, or leave out --config for the shipped payers", err=True
        )
        raise typer.Exit(2) from None
    typer.echo(f"sandbox on http://{host}:{port} (state in {db})")
    folder = (sftp_dir or db.parent / "sftp").resolve() if sftp_port else None
    if folder is not None:
        typer.echo(
            f"SFTP mailbox on {host}:{sftp_port}: CLAIMFLOW_TRANSPORT=sftp "
            f"CLEARINGHOUSE_PROFILE={folder / 'client-profile.toml'}"
        )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(engine, host, port, sftp_port, folder))


async def _serve(engine: Sandbox, host: str, port: int, sftp_port: int, folder: Path | None) -> None:
    """HTTP (uvicorn) and, when asked, the SFTP mailbox, on one event loop and one sandbox."""
    import uvicorn

    from claimflow.integrations.sandbox.app import create_app
    from claimflow.integrations.sandbox.sftp import prepare, serve_mailbox

    server = uvicorn.Server(uvicorn.Config(create_app(engine), host=host, port=port, log_level="warning"))
    mailbox = None
    if folder is not None:
        files = prepare(folder, host, sftp_port, f"http://{host}:{port}")
        mailbox = await serve_mailbox(engine, files, host, sftp_port)
    try:
        await server.serve()  # until SIGINT or SIGTERM
    finally:
        if mailbox is not None:
            await mailbox.close()
