"""`claimflow demo`: the embedded stack, the shipped batch of 120 encounters, a progress bar, a summary.

The demo starts Temporal, the sandbox (its payers answering in seconds instead of days) and the worker,
submits the batch (a claim that already exists, from an earlier run on the same home, is reported and
left alone), and watches the claims move through visibility queries. It resolves nothing itself: it
stops when no claim is in flight, every remaining one waiting on a person or on the patient, or at
--timeout, and prints what happened.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from temporalio.client import Client, WorkflowExecutionStatus

from claimflow.claims.money import money_sum
from claimflow.claims.tasks import TaskKind
from claimflow.console import demo_summary
from claimflow.console.claims_cli import print_saved_searches
from claimflow.console.claims_client import ClaimsClient, saved_searches
from claimflow.console.coordination_cli import underpayment_table
from claimflow.console.demo_batch import DemoClaim, load_demo_batch
from claimflow.console.demo_summary import DemoSummary
from claimflow.console.demo_summary import Progress as Stage
from claimflow.console.output import ExitCode, stdout, table
from claimflow.console.stack import Stack, StackConfig
from claimflow.console.up_cli import (
    HOME_PAYERS,
    CodecPort,
    ConsolePort,
    MetricsPort,
    SandboxPort,
    SftpPort,
    TemporalPort,
    Transport,
    TransportOption,
    UiPort,
    run_on_stack,
)
from claimflow.integrations.temporal import connect
from claimflow.workflows import search_attributes as sa

POLL_SECONDS = 2.0
# Payer noise the demo keeps (front-end rejections, partial payments); the rest is off so that every
# claim reaches a person, the patient or the end within minutes.
KEPT_NOISE = ("front_end_rejection_rate", "partial_payment_rate")
STUCK_DAYS = 7


def fast_payers() -> str:
    """The shipped payers file with delays of seconds instead of hours and days."""
    text = files("claimflow.integrations.sandbox").joinpath("payers.toml").read_text()
    text = re.sub(r'(acknowledgement_delay|adjudication_delay) = "[^"]*"', r'\1 = "2s"', text)
    text = re.sub(r'appeal_decision_delay = "[^"]*"', 'appeal_decision_delay = "5s"', text)

    def quiet(match: re.Match[str]) -> str:
        return match.group(0) if match.group(1) in KEPT_NOISE else f"{match.group(1)} = 0.0"

    return re.sub(r"(\w+_rate) = [0-9.]+", quiet, text)


def demo(
    home: Annotated[Path, typer.Option(help="data folder (kept between runs)")] = Path(".claimflow"),
    ui_port: UiPort = StackConfig.ui_port,
    port: TemporalPort = StackConfig.temporal_port,
    sandbox_port: SandboxPort = StackConfig.sandbox_port,
    metrics_port: MetricsPort = StackConfig.worker_metrics_port,
    codec_port: CodecPort = StackConfig.codec_port,
    console_port: ConsolePort = StackConfig.console_port,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the claims to settle")] = 600.0,
    limit: Annotated[int | None, typer.Option(hidden=True, help="submit only the first N claims")] = None,
    transport: TransportOption = Transport.HTTP,
    sftp_port: SftpPort = StackConfig.sftp_port,
) -> None:
    """Run claimflow on the shipped batch of 120 sample encounters and summarise what happened.

    Exits 0 when every claim settled or waits on a person or the patient, 1 at --timeout or when a part
    of the stack dies, 2 when a port is taken.
    """
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    payers = home / HOME_PAYERS  # kept: a later `claimflow up` on this home answers as fast
    payers.write_text(fast_payers())
    config = StackConfig(
        home=home,
        temporal_port=port,
        ui_port=ui_port,
        sandbox_port=sandbox_port,
        sandbox_config=payers,
        worker_metrics_port=metrics_port,
        codec_port=codec_port,
        console_port=console_port,
        transport=transport.value,
        sftp_port=sftp_port,
    )
    batch = load_demo_batch(datetime.now(UTC).date(), limit)
    ready = (
        f"The demo stops by itself once no claim is in flight (at most {timeout:.0f} s, --timeout); "
        "Ctrl-C stops it sooner."
    )
    finished = run_on_stack(config, lambda stack: asyncio.run(_run(stack, batch, timeout)), ready)
    if finished is False:  # None: stopped by Ctrl-C, which is not a failure
        raise typer.Exit(ExitCode.NO)


async def _run(stack: Stack, batch: list[DemoClaim], timeout: float) -> bool:
    out = stdout()
    client = await connect(stack.settings())
    claims = ClaimsClient(client, stack.config.task_queue)
    outcomes = await claims.intake_many([claim.encounter for claim in batch])
    started = sum(outcome.started for outcome in outcomes)
    out.print(
        f"submitted {started} claims from the sample batch"
        + (
            f"; {len(outcomes) - started} already existed (an earlier run) and were left alone"
            if started < len(outcomes)
            else ""
        ),
        highlight=False,
    )
    ids = {outcome.claim_id for outcome in outcomes}
    deadline = time.monotonic() + timeout
    settled_twice = 0
    with Progress(
        TextColumn("claims"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        console=out,
        transient=False,
    ) as bar:
        task = bar.add_task("claims", total=len(ids), counts="")
        while True:
            stages = await _stages(client, ids)
            counts = Counter(stages.values())
            bar.update(
                task,
                completed=len(ids) - counts[Stage.IN_FLIGHT],
                counts=", ".join(f"{stage.value} {counts[stage]}" for stage in Stage if counts[stage]),
            )
            died = stack.exited_child()
            if died is not None:
                out.print(f"[red]{died.describe()}[/]", highlight=False)
                return False
            # Visibility lags a moment behind the workflows: nothing in flight twice running means it.
            settled_twice = settled_twice + 1 if counts[Stage.IN_FLIGHT] == 0 else 0
            if settled_twice >= 2:
                break
            if time.monotonic() > deadline:
                out.print(
                    f"[yellow]--timeout reached: {counts[Stage.IN_FLIGHT]} claims still in flight[/]",
                    highlight=False,
                )
                break
            await asyncio.sleep(POLL_SECONDS)
    snapshots = await asyncio.gather(*(claims.claim(i) for i in sorted(ids)))
    appeal_tasks = await _appeal_tasks(client, ids)
    charges = money_sum(claim.encounter.total_charge for claim in batch)
    summary = demo_summary.summarize(snapshots, charges, datetime.now(UTC).date(), appeal_tasks)
    print_summary(summary, stack.config.home, stack)
    return settled_twice >= 2


async def _stages(client: Client, ids: set[str]) -> dict[str, Stage]:
    """Every claim's stage from visibility; a claim visibility does not show yet is in flight."""
    appeal_waiting = set()
    async for execution in client.list_workflows(
        "WorkflowType = 'AppealWorkflow' AND ExecutionStatus = 'Running' AND TaskPriority > 0"
    ):
        if execution.parent_id:
            appeal_waiting.add(execution.parent_id)
    stages = dict.fromkeys(ids, Stage.IN_FLIGHT)
    async for execution in client.list_workflows("WorkflowType = 'ClaimWorkflow'"):
        if execution.id not in ids:
            continue
        attributes = execution.typed_search_attributes
        stages[execution.id] = demo_summary.progress_of(
            attributes.get(sa.CLAIM_STATE),
            attributes.get(sa.TASK_PRIORITY) or 0,
            execution.status is WorkflowExecutionStatus.RUNNING,
            execution.id in appeal_waiting,
            attributes.get(sa.OPEN_TASK) or [],
        )
    return stages


async def _appeal_tasks(client: Client, ids: set[str]) -> list[TaskKind]:
    kinds: list[TaskKind] = []
    async for execution in client.list_workflows(
        "WorkflowType = 'AppealWorkflow' AND ExecutionStatus = 'Running'"
    ):
        if execution.parent_id in ids:
            kinds += [TaskKind(kind) for kind in execution.typed_search_attributes.get(sa.OPEN_TASK) or []]
    return kinds


def print_summary(summary: DemoSummary, home: Path, stack: Stack) -> None:
    out = stdout()
    out.print(table("claims by state", ("state", "claims"), sorted_rows(summary.by_state)))
    out.print(table("open tasks by kind", ("kind", "open"), sorted_rows(summary.open_tasks)))
    kpis = summary.kpis
    out.print(
        table(
            "denials by category",
            ("category", "share of claims with an 835"),
            [(category.value, str(share)) for category, share in kpis.denials_by_category.items()],
        )
    )
    out.print(
        table(
            "A/R aging (days since the date of service)",
            ("days", "claims", "balance"),
            [(bucket.label, str(bucket.claims), f"${bucket.balance:,}") for bucket in kpis.ar_aging],
        )
    )
    cob = summary.coordination
    out.print(
        table(
            "coordination of benefits",
            (
                "claims with other coverage",
                "secondary decided",
                "tertiary decided",
                "crossovers",
                "paid by later payers",
            ),
            [
                (
                    str(cob.with_other_coverage),
                    str(cob.secondary_decided),
                    str(cob.tertiary_decided),
                    str(cob.crossovers),
                    f"${cob.paid_by_later_payers:,}",
                )
            ],
        )
    )
    out.print(underpayment_table(summary.underpayments))
    rows = (
        ("claims", str(summary.claims)),
        ("clean-claim rate", f"{kpis.clean_claim_rate} of all claims"),
        ("first-pass resolution", f"{kpis.first_pass_resolution_rate} of claims submitted"),
        ("denial rate", f"{kpis.denial_rate} of claims with an 835"),
        ("days in A/R", "n/a (nothing billed)" if kpis.days_in_ar is None else str(kpis.days_in_ar)),
        ("net collection rate", str(kpis.net_collection_rate)),
        ("charges", f"${summary.charges:,}"),
        ("paid", f"${summary.paid:,}"),
        ("patient responsibility", f"${summary.patient_responsibility:,}"),
        ("adjusted", f"${summary.adjusted:,}"),
        ("letters and statements", f"written under {home / 'documents'}:"),
    )
    for label, value in rows:
        out.print(f"  {label:<24} {value}", highlight=False, markup=False, soft_wrap=True)
    documents = home / "documents"
    if documents.is_dir():
        for folder in sorted({path.parent for path in documents.rglob("*") if path.is_file()}):
            count = sum(1 for path in folder.iterdir() if path.is_file())
            out.print(f"    {folder}  ({count} files)", highlight=False, markup=False, soft_wrap=True)
    out.print(f"Temporal Web UI: {stack.config.ui_url}", highlight=False, markup=False, soft_wrap=True)
    print_saved_searches(saved_searches(STUCK_DAYS, datetime.now(UTC)))
    out.print(
        f"Next, with the stack running (claimflow up --home {home}): claimflow tasks, "
        f"claimflow task resolve ID ..., claimflow stuck --days {STUCK_DAYS}, claimflow underpayments, "
        "claimflow eob ID",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def sorted_rows(counts: Counter[str]) -> list[tuple[str, str]]:
    return [(name, str(count)) for name, count in sorted(counts.items())] or [("none", "0")]
