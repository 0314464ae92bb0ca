"""`claimflow claim show|pay`, `claimflow stuck`, `claimflow intake`: claims for billers and managers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from claimflow.claims.encounter import Encounter
from claimflow.claims.intake_hold import HeldIntake, document_id
from claimflow.claims.lifecycle import PatientPaymentRequest
from claimflow.claims.roles import Permission
from claimflow.claims.tasks import TaskKind
from claimflow.console.claims_client import SavedSearch
from claimflow.console.identity import acting_user, audited, no_actor_option, refuse
from claimflow.console.output import ExitCode, fail, print_json, problems, stdout, table, when
from claimflow.console.session import with_claims
from claimflow.integrations.fhir import IntakeError, read_file
from claimflow.integrations.ledger.users import PermissionDenied

app = typer.Typer(help="Look at one claim.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="print JSON instead of tables")]


@app.command("show")
def show(
    claim_id: Annotated[str, typer.Argument(metavar="ID", help="claim-<encounter id>, or the encounter id")],
    as_json: JsonOption = False,
) -> None:
    """A claim's state, amounts, timeline and tasks."""

    snapshot = with_claims(lambda claims: claims.claim(claim_id))
    if as_json:
        print_json(snapshot)
        return
    out = stdout()
    out.print(
        f"[bold]{snapshot.claim_id}[/]  {snapshot.state.value}  payer {snapshot.payer_id}"
        f"  payer claim {snapshot.payer_claim_number or '-'}  submissions {snapshot.submissions}",
        highlight=False,
    )
    out.print(
        f"billed {snapshot.billed}  paid {snapshot.paid}  adjusted {snapshot.adjusted}  "
        f"patient responsibility {snapshot.patient_responsibility} (paid {snapshot.patient_paid})",
        highlight=False,
    )
    out.print(
        f"timely filing by {when(snapshot.timely_filing_deadline)}  accepted on {when(snapshot.accepted_on)}",
        highlight=False,
    )
    if snapshot.encounter is not None:
        print_encounter(snapshot.encounter)
    elif any(task.kind is TaskKind.FIX_INTAKE and task.is_open for task in snapshot.tasks):
        out.print(
            "encounter: none yet, held at intake until its fix_intake task is resolved", highlight=False
        )
    else:
        out.print("encounter: not in this claim's state (its worker predates it)", highlight=False)
    out.print(
        table(
            "timeline",
            ("at (UTC)", "step", "outcome"),
            [(when(entry.at), entry.step, entry.outcome) for entry in snapshot.timeline],
        )
    )
    out.print(
        table(
            "tasks",
            ("task", "kind", "reason", "due", "status"),
            [
                (
                    task.id,
                    task.kind.value,
                    task.reason,
                    when(task.due_at),
                    "open" if task.is_open else f"resolved by {task.resolved_by}",
                )
                for task in snapshot.tasks
            ],
        )
    )
    for document in snapshot.documents:
        out.print(f"document: {document}", highlight=False, markup=False)


def print_encounter(encounter: Encounter) -> None:
    """Who and what the claim bills: patient, member id, date of service, diagnoses and service lines."""
    out = stdout()
    patient, coverage = encounter.patient, encounter.coverage
    born = f"  born {patient.birth_date.isoformat()}" if patient.birth_date else ""
    out.print(
        f"patient {patient.last_name}, {patient.first_name}{born}  member id {coverage.member_id} "
        f"({coverage.payer_name})  date of service {encounter.service_date.isoformat()}  "
        f"encounter {encounter.encounter_id}",
        highlight=False,
        markup=False,
    )
    diagnoses = ", ".join(f"{number}. {code}" for number, code in enumerate(encounter.diagnoses, start=1))
    out.print(f"diagnoses {diagnoses or '- (not coded yet)'}", highlight=False, markup=False)
    out.print(
        table(
            "service lines",
            ("#", "date", "procedure", "modifiers", "units", "charge", "diagnoses"),
            [
                (
                    str(number),
                    line.service_date.isoformat(),
                    line.procedure_code,
                    " ".join(line.modifiers) or "-",
                    f"{line.units.normalize():f}",
                    str(line.charge),
                    ",".join(str(pointer) for pointer in line.diagnosis_pointers) or "-",
                )
                for number, line in enumerate(encounter.service_lines, start=1)
            ],
        )
    )


@app.command("pay")
def pay(
    claim_id: Annotated[str, typer.Argument(metavar="ID", help="claim-<encounter id>, or the encounter id")],
    amount: Annotated[str, typer.Option(help="what the patient paid, in dollars, e.g. 25.00")],
    reference: Annotated[
        str | None, typer.Option(help="receipt or transaction id: the same reference is recorded once")
    ] = None,
    actor: Annotated[
        str | None, typer.Option(hidden=True, help="gone: you act as CLAIMFLOW_TOKEN's user")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Record a patient payment on a claim that is billing the patient, as the user of
    CLAIMFLOW_TOKEN; the ledger takes it first.

    A payment above the balance, on a claim not billing the patient, or with a reference recorded
    already is refused with the reason (exit 1). When the balance reaches 0 the claim closes.
    """
    no_actor_option(actor)
    with acting_user("record a patient payment") as (user, store):
        details = {"claim_id": claim_id, "amount": amount, "reference": reference}
        try:
            user.require(Permission.RECORD_PAYMENTS, "record a patient payment")
        except PermissionDenied as error:
            refuse(store, user, error, details)
        try:
            payment = PatientPaymentRequest(
                claim_id=claim_id, amount=amount, actor=user.username, reference=reference
            )
        except ValidationError as error:
            fail(
                f"the payment is not valid: {problems(error)}; correct it (--amount in dollars, e.g. 25.00; "
                "--reference at most 80 characters)",
                ExitCode.USAGE,
            )
        snapshot = audited(
            store,
            user,
            "patient_payment_recorded",
            details,
            lambda: with_claims(lambda claims: claims.pay(payment)),
        )
    if as_json:
        print_json(snapshot)
        return
    stdout().print(
        f"recorded {payment.amount} on {snapshot.claim_id} by {user.username}: the patient has paid "
        f"{snapshot.patient_paid} of {snapshot.patient_responsibility}",
        highlight=False,
    )


def stuck(
    days: Annotated[
        int, typer.Option(min=1, help="no progress for this many days; deadline within them")
    ] = 7,
    as_json: JsonOption = False,
) -> None:
    """Claims without progress for N days, and timely-filing deadlines within N days, by state and payer."""

    report = with_claims(lambda claims: claims.stuck(days, datetime.now(UTC)))
    if as_json:
        print_json(
            {
                **report.model_dump(mode="json"),
                "by_state_and_payer": [
                    {"state": state, "payer_id": payer, "no_progress": idle, "deadline_near": near}
                    for state, payer, idle, near in report.by_state_and_payer()
                ],
            }
        )
        return
    out = stdout()
    out.print(
        table(
            f"by state and payer (as of {when(report.as_of)} UTC)",
            ("state", "payer", f"no progress {days}+ days", f"deadline within {days} days"),
            [
                (state, payer, str(idle), str(near))
                for state, payer, idle, near in report.by_state_and_payer()
            ],
        )
    )
    out.print(
        table(
            f"{len(report.no_progress)} claim(s) without progress for {days} days",
            ("claim", "state", "payer", "last progress", "idle days"),
            [
                (c.claim_id, c.state, c.payer_id, when(c.last_progress_at), str(c.idle_days))
                for c in report.no_progress
            ],
        )
    )
    out.print(
        table(
            f"{len(report.deadline_near)} claim(s) not yet accepted, timely filing due within {days} days",
            ("claim", "state", "payer", "deadline", "days left"),
            [
                (c.claim_id, c.state, c.payer_id, when(c.timely_filing_deadline), str(c.days_to_deadline))
                for c in report.deadline_near
            ],
        )
    )
    print_saved_searches(report.saved_searches)


def print_saved_searches(searches: list[SavedSearch]) -> None:
    """The saved searches, as `stuck` and the demo show them."""
    out = stdout()
    out.print(
        "Saved searches for the Temporal UI (paste into the workflow search, save as a view):",
        highlight=False,
    )
    for search in searches:
        out.print(f"  {search.name}:\n    {search.query}", highlight=False, markup=False, soft_wrap=True)


MAX_HELD_DOCUMENT_BYTES = 1024 * 1024
"""A held document travels in the claim's workflow input: Temporal refuses payloads over 2 MB."""


def _read_for_intake(path: Path) -> Encounter | HeldIntake:
    """The encounter a file holds, or the HeldIntake of a document that cannot become a claim yet.
    IntakeError for a file that is no document at all (not JSON, neither a Bundle nor encounter JSON)."""
    result = read_file(path)
    if result.encounter is not None:
        return result.encounter
    text = path.read_text(encoding="utf-8")
    if len(text.encode("utf-8")) > MAX_HELD_DOCUMENT_BYTES:
        raise IntakeError(
            str(path),
            [
                f"cannot become a claim ({len(result.errors)} problem(s); `claimflow scrub {path}` lists "
                f"them) and, at over {MAX_HELD_DOCUMENT_BYTES // 1024} KiB, is too large to hold in its "
                "claim: correct it and run intake again"
            ],
        )
    return HeldIntake(
        encounter_id=document_id(json.loads(text), text), findings=result.findings, document=text
    )


def intake(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE...", help="FHIR R4 Bundles or encounter JSON files")
    ],
    strict: Annotated[
        bool,
        typer.Option("--strict", help="all or nothing: start no claim unless every file becomes one"),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Start a claim per file. A claim that exists already is reported, not started twice.

    A document that cannot become a claim (its problems are listed by `claimflow scrub FILE`) starts
    its claim in an intake hold: a fix_intake task carries the findings and the document, and a
    corrected encounter (`task resolve ID --action correct --encounter FILE`) releases it. A file that
    is no document at all (not JSON, neither a FHIR Bundle nor encounter JSON) is not started and
    named (exit 2); every other file is. With --strict, one file that cannot become a claim stops the
    whole intake (exit 2) and nothing starts.
    """
    documents: list[tuple[Path, Encounter | HeldIntake]] = []
    refused: list[str] = []
    for path in files:
        try:
            documents.append((path, _read_for_intake(path)))
        except IntakeError as error:
            refused.append(str(error))
    if strict:
        refused += [
            f"{path}: cannot become a claim ({len(document.findings)} finding(s)):\n"
            + "\n".join(f"  - {line}" for line in document.details)
            for path, document in documents
            if isinstance(document, HeldIntake)
        ]
    if refused and (strict or not documents):
        fail(
            "nothing was started; fix these files, or leave them out, and run intake again:\n"
            + "\n".join(refused),
            ExitCode.USAGE,
        )

    outcomes = with_claims(lambda claims: claims.intake_many([document for _, document in documents]))
    if as_json:
        print_json(
            [
                {"file": str(path), **outcome.model_dump(mode="json")}
                for (path, _), outcome in zip(documents, outcomes, strict=True)
            ]
        )
    else:
        started = sum(outcome.started for outcome in outcomes)
        held = sum(outcome.started and outcome.held for outcome in outcomes)
        existed = len(outcomes) - started
        out = stdout()
        out.print(
            table(
                f"{started} claim(s) started ({held} held at intake), {existed} already existed",
                ("file", "claim", "outcome"),
                [
                    (str(path), outcome.claim_id, _outcome(outcome.started, outcome.held))
                    for (path, _), outcome in zip(documents, outcomes, strict=True)
                ],
            )
        )
    if refused:
        fail(
            "not started, not a claim document (give an encounter JSON or a FHIR R4 Bundle and run intake "
            "on it again):\n" + "\n".join(refused),
            ExitCode.USAGE,
        )


def _outcome(started: bool, held: bool) -> str:
    if not started:
        return "already exists"
    return "held at intake: fix_intake task" if held else "started"
