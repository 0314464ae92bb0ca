"""How the claimflow commands speak: rich tables for people, JSON for scripts, exit codes to trust.

Exit codes (the same for every command):

* 0: done.
* 1: a business "no": a resolution or payment the claim refused, a claim or task that does not exist, a child
  of `claimflow up` that died.
* 2: usage: a bad option, an unreadable or invalid input file, bad configuration (an unknown
  namespace, search attributes not registered), a port in use.
* 3: Temporal cannot be reached (TEMPORAL_ADDRESS) or failed the request.
* 4: not allowed: CLAIMFLOW_TOKEN missing or refused (unknown, revoked, user disabled), a wrong
  password, or a role that may not do this (a biller approving a write-off).

Colour is rich's: off when the output is not a terminal, and off when NO_COLOR is set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from enum import IntEnum
from typing import Any, NoReturn

import typer
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

PIPE_WIDTH = 200
"""Width of a table written to a pipe or file, where no terminal says how wide to be."""


class ExitCode(IntEnum):
    OK = 0
    NO = 1
    USAGE = 2
    UNREACHABLE = 3
    DENIED = 4


def stdout() -> Console:
    console = Console()
    if not console.is_terminal:
        # Ids are long: in a pipe keep each row on one line instead of wrapping at 80 columns.
        console = Console(width=PIPE_WIDTH)
    return console


def stderr() -> Console:
    return Console(stderr=True)


def fail(message: str, code: ExitCode) -> NoReturn:
    """Say what went wrong (on stderr) and exit with `code`."""
    stderr().print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(int(code))


def print_json(value: Any) -> None:
    """JSON on stdout: models and lists of models as their JSON form, dates as ISO 8601."""
    typer.echo(json.dumps(_plain(value), indent=2, default=str))


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    result = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        result.add_column(column, overflow="fold")
    for row in rows:
        result.add_row(*row)
    return result


def when(moment: datetime | date | None) -> str:
    """A time as a person reads it in a table: UTC, to the minute."""
    if moment is None:
        return "-"
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.isoformat()


def problems(error: ValidationError) -> str:
    """A validation error as one line a person reads: `field.path: what is wrong; ...`."""
    return "; ".join(
        ".".join(str(part) for part in problem["loc"]) + f": {problem['msg']}" for problem in error.errors()
    )
