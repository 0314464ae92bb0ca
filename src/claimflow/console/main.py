"""The `claimflow` command: one binary, a subcommand per job."""

from __future__ import annotations

import typer

from claimflow.console import codesets_cli, sandbox_cli, scrub_cli, x12_cli

app = typer.Typer(
    name="claimflow",
    help="claimflow: medical claims from the visit to the last cent collected.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(x12_cli.app, name="x12")
app.add_typer(codesets_cli.app, name="codesets")
app.command("scrub")(scrub_cli.scrub)
app.command("sandbox")(sandbox_cli.sandbox)


if __name__ == "__main__":
    app()
