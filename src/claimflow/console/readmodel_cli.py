"""`claimflow readmodel rebuild` and `claimflow readmodel status`: the read model the work lists read.

The worker keeps the read model current (integrations/ledger/projector.py); `rebuild` lists every
claim, appeal and exceptions workflow from visibility, asks each its state and replaces the tables,
for a new ledger database or after rows were lost.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from claimflow.console.identity import settings as configured_settings
from claimflow.console.output import ExitCode, fail, print_json, stdout, when
from claimflow.integrations.ledger.projector import PassReport, Projector
from claimflow.integrations.ledger.readmodel import ReadModel
from claimflow.integrations.temporal import connect

app = typer.Typer(help="The read model behind `claimflow tasks` and the work queue.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of text")]


@app.command("rebuild")
def rebuild(as_json: JsonOption = False) -> None:
    """Ask every claim, appeal and exceptions workflow and replace the read model with what they say."""
    settings = configured_settings()

    async def main() -> PassReport:
        try:
            client = await connect(settings)
        except RuntimeError as error:
            fail(
                f"cannot reach Temporal at {settings.temporal_address}: {error}. Start it with "
                "`claimflow up`, "
                "or set TEMPORAL_ADDRESS",
                ExitCode.UNREACHABLE,
            )
        store = await asyncio.to_thread(ReadModel, settings.ledger_url)
        try:
            return await Projector(client, store).rebuild()
        finally:
            store.close()

    report = asyncio.run(main())
    if as_json:
        print_json(
            {"workflows": report.listed, "queried": report.queried, "written": report.written,
             "seconds": round(report.seconds, 3)}
        )  # fmt: skip
        return
    stdout().print(
        f"read model rebuilt: {report.written} workflow(s) written, {report.queried} asked, "
        f"in {report.seconds:.1f}s",
        highlight=False,
    )


@app.command("status")
def status(as_json: JsonOption = False) -> None:
    """How many open tasks and claims the read model holds, and when it was last brought up to date."""
    store = ReadModel(configured_settings().ledger_url)
    try:
        counts, cursor = store.counts(), store.cursor()
    finally:
        store.close()
    if as_json:
        print_json(
            {"tasks": counts.tasks, "claims": counts.claims, "workflows": counts.workflows,
             "by_kind": counts.by_kind, "updated_at": cursor.isoformat() if cursor else None}
        )  # fmt: skip
        return
    out = stdout()
    if cursor is None:
        out.print("the read model is empty: run `claimflow readmodel rebuild`", highlight=False)
        return
    age = datetime.now(UTC) - cursor
    out.print(
        f"{counts.tasks} open task(s), {counts.claims} claim(s) from {counts.workflows} workflow(s); "
        f"up to date as of {when(cursor)} UTC ({int(age.total_seconds())}s ago)",
        highlight=False,
    )
