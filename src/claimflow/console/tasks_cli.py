"""`claimflow tasks`, `claimflow task show`, `claimflow task resolve`: the biller's work list."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from pydantic import TypeAdapter, ValidationError

from claimflow.claims.encounter import Coverage, DiagnosisCode, Encounter, ServiceLine
from claimflow.claims.tasks import RESOLUTION, Action, Task, TaskKind, TaskResolution
from claimflow.console.claims_client import ClaimsClient, NotFound
from claimflow.console.identity import acting_user, audited, no_actor_option, refuse
from claimflow.console.identity import settings as configured_settings
from claimflow.console.output import ExitCode, fail, print_json, problems, stderr, stdout, table, when
from claimflow.console.session import with_claims
from claimflow.console.worklist import SortKey, WorkItem, from_read_model, sort_work, work_items
from claimflow.integrations.fhir import load_encounter
from claimflow.integrations.fhir.errors import IntakeError
from claimflow.integrations.ledger.readmodel import ReadModel
from claimflow.integrations.ledger.users import PermissionDenied, resolution_by

app = typer.Typer(help="Show or resolve one task.", no_args_is_help=True)

STALE_AFTER = timedelta(minutes=5)
"""A read model older than this gets a warning: the worker's projector catches up every few seconds."""

_WORK_ITEMS = TypeAdapter(list[WorkItem])

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def tasks(
    kind: Annotated[TaskKind | None, typer.Option(help="only tasks of this kind")] = None,
    payer: Annotated[str | None, typer.Option(help="only claims of this payer id")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="only tasks past their due time")] = False,
    sort: Annotated[
        SortKey,
        typer.Option(
            help="priority: urgent first, then the earliest due; due; amount: the most at stake first; "
            "age or dos: the oldest date of service first; patient"
        ),
    ] = SortKey.PRIORITY,
    as_json: JsonOption = False,
) -> None:
    """List open tasks, the most urgent first (then the earliest due), each with its claim's patient,
    date of service, amount at stake (charge less payments and contractual adjustments) and age (days
    since the date of service)."""

    now = datetime.now(UTC)
    listed = _from_read_model(kind, payer, now)
    if listed is None:
        stderr().print(
            "the read model is empty, so every workflow is asked instead (slow with many claims): "
            "run `claimflow readmodel rebuild` once; the worker keeps it current after that",
            highlight=False,
        )
        listed = with_claims(lambda claims: _work_list(claims, kind, payer, now))
    rows = sort_work((row for row in listed if not overdue or row.overdue(now)), sort)
    if as_json:
        typer.echo(_WORK_ITEMS.dump_json(rows, indent=2))  # pydantic-core: ten thousand rows at once
        return
    out = stdout()
    out.print(
        table(
            f"{len(rows)} open task(s), by {sort.value}",
            (
                "task",
                "kind",
                "priority",
                "due",
                "patient",
                "DOS",
                "at stake",
                "age",
                "payer",
                "state",
                "reason",
                "assignee",
            ),
            [
                (
                    row.task.id,
                    row.task.kind.value,
                    row.task.priority.name.lower(),
                    when(row.task.due_at) + (" OVERDUE" if row.overdue(now) else ""),
                    row.patient or "-",
                    row.date_of_service.isoformat() if row.date_of_service else "-",
                    f"{row.amount_at_stake}" if row.amount_at_stake is not None else "-",
                    f"{row.age_days}d" if row.age_days is not None else "-",
                    row.payer_id or "-",
                    row.claim_state or "-",
                    row.task.reason,
                    row.task.assignee or "-",
                )
                for row in rows
            ],
        )
    )


def _from_read_model(kind: TaskKind | None, payer: str | None, now: datetime) -> list[WorkItem] | None:
    """The open tasks from the read model, in one query; None when it was never built. A read
    model the worker has not brought up to date for a while says so."""
    store = ReadModel(configured_settings().ledger_url)
    try:
        cursor = store.cursor()
        if cursor is None:
            return None
        views = store.open_tasks(kind=kind.value if kind else None, payer=payer)
    finally:
        store.close()
    if now - cursor > STALE_AFTER:
        stderr().print(
            f"the read model was last brought up to date at {when(cursor)} UTC: is a claimflow worker "
            "running? "
            "(`claimflow readmodel rebuild` brings it up to date now)",
            highlight=False,
        )
    return from_read_model(views, now.date())


async def _work_list(
    claims: ClaimsClient, kind: TaskKind | None, payer: str | None, now: datetime
) -> list[WorkItem]:
    """The open tasks with their claims' snapshots: asked with the list for a claim's own tasks, and
    once more for each claim whose appeal holds a task."""
    queue = await claims.work_queue(kind=kind, payer=payer)
    snapshots = dict(queue.claims)
    for claim_id in sorted({row.claim_id for row in queue.rows} - snapshots.keys()):
        with contextlib.suppress(NotFound):  # an unmatched remittance has no claim; a claim may be gone
            snapshots[claim_id] = await claims.claim(claim_id)
    return work_items(queue.rows, snapshots, now.date())


@app.command("show")
def show(
    task_id: Annotated[str, typer.Argument(metavar="ID", help="task id, e.g. claim-E1001:1")],
    as_json: JsonOption = False,
) -> None:
    """One task: what it is about, its details, what resolves it."""

    row = with_claims(lambda claims: claims.task(task_id))
    if as_json:
        print_json(row)
        return
    _print_task(row.task, f"claim {row.claim_id} ({row.claim_state or '-'}, payer {row.payer_id or '-'})")


@app.command("resolve")
def resolve(
    task_id: Annotated[str, typer.Argument(metavar="ID", help="task id, e.g. claim-E1001:1")],
    action: Annotated[Action, typer.Option(help="what you decided (task show lists the allowed ones)")],
    reason: Annotated[str | None, typer.Option(help="why (needed for override and write_off)")] = None,
    encounter: Annotated[
        Path | None, typer.Option(help="corrected encounter JSON or FHIR Bundle (for correct)")
    ] = None,
    coverage_payer_id: Annotated[str | None, typer.Option(help="new coverage: payer id")] = None,
    coverage_payer_name: Annotated[str | None, typer.Option(help="new coverage: payer name")] = None,
    member_id: Annotated[str | None, typer.Option(help="new coverage: member id")] = None,
    diagnoses: Annotated[
        str | None, typer.Option(help="ICD-10-CM codes without dots, comma separated (for codes)")
    ] = None,
    lines: Annotated[Path | None, typer.Option(help="JSON list of service lines (for codes)")] = None,
    target_claim: Annotated[
        str | None, typer.Option(help="the encounter id a remittance belongs to (for route)")
    ] = None,
    argument: Annotated[
        str | None, typer.Option(help="the appeal letter's new argument text (for edit on an appeal task)")
    ] = None,
    rate: Annotated[
        str | None, typer.Option(help="the contracted allowed amount per unit (for correct_contract)")
    ] = None,
    actor: Annotated[
        str | None, typer.Option(hidden=True, help="gone: you act as CLAIMFLOW_TOKEN's user")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Resolve a task through the claim's Update, as the user of CLAIMFLOW_TOKEN. A refused
    resolution says why and exits 1; an action your role may not take (a biller approving a
    write-off) exits 4 before anything is sent."""
    no_actor_option(actor)
    coverage = _coverage(coverage_payer_id, coverage_payer_name, member_id)
    with acting_user("resolve a task") as (user, store):
        typed = _resolution(
            task_id,
            action,
            user.username,
            reason,
            encounter_file=encounter,
            coverage=coverage,
            diagnoses=diagnoses,
            lines_file=lines,
            target_claim=target_claim,
            argument=argument,
            rate=rate,
        )
        details: dict[str, object] = {"task_id": task_id, "action": action.value}
        try:
            resolution = resolution_by(user, typed)
        except PermissionDenied as error:
            refuse(store, user, error, details)

        def send() -> Task:
            sent = with_claims(lambda claims: claims.resolve(resolution))
            details["kind"] = sent.kind.value  # the dashboard counts resolutions per person and kind
            return sent

        resolved = audited(store, user, "task_resolved", details, send)
    if as_json:
        print_json(resolved)
        return
    stdout().print(
        f"resolved {resolved.id} ({resolved.kind.value}) with {action.value} by {resolved.resolved_by}",
        highlight=False,
    )


def _print_task(task: Task, belongs_to: str) -> None:
    out = stdout()
    out.print(f"[bold]{task.id}[/]  {task.kind.value}  ({belongs_to})", highlight=False)
    out.print(f"reason:   {task.reason}", highlight=False, markup=False)
    status = f"resolved by {task.resolved_by} at {when(task.resolved_at)}" if not task.is_open else "open"
    out.print(f"status:   {status}", highlight=False, markup=False)
    out.print(f"created:  {when(task.created_at)}   due: {when(task.due_at)}", highlight=False)
    out.print(f"priority: {task.priority.name.lower()}   assignee: {task.assignee or '-'}", highlight=False)
    if task.details:
        out.print("details:", highlight=False)
        for detail in task.details:
            out.print(f"  - {detail}", highlight=False, markup=False)
    if task.document is not None:
        out.print(
            f"document: {len(task.document)} characters as received (--json shows it); "
            "correct it and resolve with --action correct --encounter FILE",
            highlight=False,
            markup=False,
        )
    out.print(f"resolve with --action {' | '.join(task.allowed_actions)}", highlight=False, markup=False)


def _coverage(payer_id: str | None, payer_name: str | None, member_id: str | None) -> Coverage | None:
    given = {"--coverage-payer-id": payer_id, "--coverage-payer-name": payer_name, "--member-id": member_id}
    if not any(given.values()):
        return None
    missing = [option for option, value in given.items() if not value]
    if missing:
        fail(
            f"new coverage needs all three options; missing {', '.join(missing)}: give --coverage-payer-id, "
            "--coverage-payer-name and --member-id together",
            ExitCode.USAGE,
        )
    try:
        return Coverage(payer_id=payer_id or "", payer_name=payer_name or "", member_id=member_id or "")
    except ValidationError as error:
        fail(f"new coverage is not valid: {problems(error)}; correct the option named", ExitCode.USAGE)


def _resolution(
    task_id: str,
    action: Action,
    actor: str,
    reason: str | None,
    *,
    encounter_file: Path | None,
    coverage: Coverage | None,
    diagnoses: str | None,
    lines_file: Path | None,
    target_claim: str | None,
    argument: str | None,
    rate: str | None = None,
) -> TaskResolution:
    fields = {
        "task_id": task_id,
        "action": action,
        "actor": actor,
        "reason": reason,
        "encounter": _encounter(encounter_file) if encounter_file else None,
        "coverage": coverage,
        "diagnoses": _diagnoses(diagnoses) if diagnoses else None,
        "service_lines": _lines(lines_file) if lines_file else None,
        "target_claim": target_claim,
        "argument": argument,
        "rate": rate,
    }
    if argument is not None and action is not Action.EDIT:
        fail(
            "--argument goes with --action edit: it redrafts an appeal letter (appeal-..:N); leave it out, "
            "or use --action edit",
            ExitCode.USAGE,
        )
    given = {name: value for name, value in fields.items() if value is not None}
    try:
        # One model per action: a field the action needs and lacks, or one it does not take, is named.
        return RESOLUTION.validate_python(given)
    except ValidationError as error:
        missing = [
            _OPTION_OF.get(str(e["loc"][-1]), str(e["loc"][-1]))
            for e in error.errors()
            if e["type"] == "missing"
        ]
        if missing:
            fail(
                f"--action {action.value} needs {'; '.join(missing)}: give it "
                "(`claimflow task show ID` lists what each action takes)",
                ExitCode.USAGE,
            )
        fail(
            f"the resolution is not valid: {problems(error)}; correct the option named "
            "(`claimflow task show ID` lists what each action takes)",
            ExitCode.USAGE,
        )


_OPTION_OF = {
    "encounter": "--encounter (the corrected encounter file)",
    "coverage": "the new coverage (--coverage-payer-id, --coverage-payer-name, --member-id)",
    "diagnoses": "--diagnoses",
    "service_lines": "--lines",
    "target_claim": "--target-claim",
    "argument": "--argument (the edited argument text)",
    "reason": "--reason",
    "rate": "--rate (the contracted amount per unit)",
}
"""The option that gives each resolution field, for the message when an action lacks one."""


def _encounter(path: Path) -> Encounter:
    try:
        return load_encounter(path)
    except IntakeError as error:
        fail(f"--encounter: {error}; correct the file and resolve again", ExitCode.USAGE)


def _diagnoses(text: str) -> list[str]:
    codes = [code.strip().replace(".", "").upper() for code in text.split(",") if code.strip()]
    try:
        return TypeAdapter(list[DiagnosisCode]).validate_python(codes)
    except ValidationError as error:
        fail(f"--diagnoses: {problems(error)} (give ICD-10-CM codes like E119,I10)", ExitCode.USAGE)


def _lines(path: Path) -> list[ServiceLine]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        fail(f"--lines {path}: cannot read the file: {error}; give a readable JSON file", ExitCode.USAGE)
    except json.JSONDecodeError as error:
        fail(
            f"--lines {path}: not JSON: {error.msg} at line {error.lineno}; "
            "give a JSON list of service lines",
            ExitCode.USAGE,
        )
    try:
        return TypeAdapter(list[ServiceLine]).validate_python(data)
    except ValidationError as error:
        fail(f"--lines {path}: {problems(error)} (give a JSON list of service lines)", ExitCode.USAGE)
