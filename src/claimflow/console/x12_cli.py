"""`claimflow x12 ...`: read, write and check X12 005010 files."""

from __future__ import annotations

import typer

app = typer.Typer(help="Read, write and check X12 005010 files.", no_args_is_help=True)
