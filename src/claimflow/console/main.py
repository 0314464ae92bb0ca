"""The `claimflow` command: one binary, a subcommand per job."""

from __future__ import annotations

import os
import sys

import typer

from claimflow.console import (
    claims_cli,
    codec_cli,
    codesets_cli,
    coordination_cli,
    demo_cli,
    readmodel_cli,
    sandbox_cli,
    scrub_cli,
    tasks_cli,
    up_cli,
    users_cli,
    web_cli,
    x12_cli,
)

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
app.command("tasks")(tasks_cli.tasks)
app.add_typer(tasks_cli.app, name="task")
app.add_typer(claims_cli.app, name="claim")
app.command("stuck")(claims_cli.stuck)
app.command("intake")(claims_cli.intake)
app.command("underpayments")(coordination_cli.underpayments)
app.command("eob")(coordination_cli.eob)
app.command("up")(up_cli.up)
app.command("demo")(demo_cli.demo)
app.add_typer(users_cli.app, name="users")
app.command("codec-server")(codec_cli.serve)
app.command("web")(web_cli.web)
app.add_typer(readmodel_cli.app, name="readmodel")


def main() -> None:
    """The `claimflow` script. A process that used a Temporal client can abort while the interpreter
    shuts down (a known SDK issue, ../shared/TEMPORAL.md), so exit at once after flushing the output,
    keeping the command's own exit code."""
    code: int | str | None = 0
    try:
        app()
    except SystemExit as exit_:
        code = exit_.code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


if __name__ == "__main__":
    main()
