"""`claimflow sandbox`: the payer and clearinghouse simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


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
) -> None:
    """Serve the payer and clearinghouse sandbox."""
    import uvicorn

    from claimflow.integrations.sandbox import build_app
    from claimflow.integrations.sandbox.config import ConfigError
    from claimflow.integrations.settings import Settings

    db = db or Settings.from_env().home / "sandbox.db"
    try:
        app = build_app(config_path=config, db_path=db, seed=seed)
    except ConfigError as exc:
        typer.echo(
            f"error: {exc}\n  fix the payers file, or leave out --config for the shipped payers", err=True
        )
        raise typer.Exit(2) from None
    typer.echo(f"sandbox on http://{host}:{port} (state in {db})")
    uvicorn.run(app, host=host, port=port, log_level="warning")
