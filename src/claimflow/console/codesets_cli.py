"""`claimflow codesets ...`: the CMS code sets the scrubber uses."""

from __future__ import annotations

import typer

app = typer.Typer(help="The code sets the scrubber uses.", no_args_is_help=True)
