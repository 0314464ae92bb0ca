"""What the templates show, worked out in Python: plain words for each task, the codes behind it
with their published descriptions, the forms a task offers, a claim's documents and the CSV cells."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from claimflow.claims.carc import UnknownCodeError, carc_text, group_text, rarc_text
from claimflow.claims.claim_status import describe_status
from claimflow.claims.lifecycle import ClaimSnapshot
from claimflow.claims.tasks import Action, TaskKind, permission_for
from claimflow.console.web.data import FoundClaim, QueueItem
from claimflow.integrations.ledger.users import User

IN_WORDS: dict[TaskKind, str] = {
    TaskKind.FIX_INTAKE: "The document received cannot become a claim: the problems below say where. "
    "Correct the encounter and the claim starts its intake, or write it off if it was never a visit.",
    TaskKind.FIX_DEMOGRAPHICS: "The patient's or subscriber's details are incomplete, so the payer cannot be "
    "asked about coverage yet. Correct the encounter and the claim goes on to eligibility.",
    TaskKind.COVERAGE_ISSUE: "The payer says the patient is not covered (or could not find them) for the "
    "date of service. Enter the right coverage to check again, or bill the patient (self-pay).",
    TaskKind.CODING: "The visit has no diagnosis or procedure codes yet. Enter the ICD-10-CM diagnoses and "
    "the service lines and the claim is scrubbed and sent.",
    TaskKind.SCRUB_FAILURE: "The claim would be rejected or denied as it is: the scrubber found the errors "
    "below. Correct the encounter, or override with a reason if you know the payer accepts it.",
    TaskKind.PAYER_REJECTION: "The clearinghouse (999) or the payer (277CA) rejected the claim at the front "
    "door; nothing was adjudicated. Correct and resend, or resubmit as it is.",
    TaskKind.NO_RESPONSE: "The payer has not answered, even to status inquiries. Ask again, resubmit, or "
    "write the claim off with a reason.",
    TaskKind.PATIENT_BALANCE: "The patient has not paid their share after the final notice. Write it off "
    "(or send it to collections) with a reason.",
    TaskKind.DENIAL: "The payer denied all or part of the claim for a reason a corrected claim can fix (see "
    "the adjustment codes). Correct the claim to send a replacement (frequency 7), or write it off.",
    TaskKind.UNMATCHED_REMITTANCE: "A payer's answer names no claim we have open. Route it to the claim it "
    "belongs to, or write it off with a reason.",
    TaskKind.TIMELY_FILING_RISK: "The claim is not yet accepted by the payer and its timely-filing deadline "
    "is near. A reconsideration letter with the proof of filing is ready; acknowledge that you are on it.",
    TaskKind.APPEAL_REVIEW: "The payer denied the claim for a reason an appeal can overturn. Read the "
    "drafted letter; send it as drafted, send it with your own argument, or withdraw the appeal.",
    TaskKind.WRITE_OFF_APPROVAL: "The appeals are exhausted. A manager decides whether the amount is written "
    "off for good or the write-off is refused.",
    TaskKind.UNDERPAYMENT: "The payer allowed a line below the contract. Appeal with a letter stating the "
    "contract rate, accept the payment, or correct the contract rate if ours was wrong.",
}

ACTION_LABELS: dict[Action, str] = {
    Action.CORRECT: "Correct the claim and send it again",
    Action.NEW_COVERAGE: "Use other coverage and check eligibility again",
    Action.SELF_PAY: "Bill the patient (self-pay)",
    Action.CODES: "Enter the codes",
    Action.OVERRIDE: "Override the scrubber",
    Action.RESUBMIT: "Resubmit as it is",
    Action.INQUIRE_AGAIN: "Ask the payer again (276)",
    Action.WRITE_OFF: "Write off",
    Action.ROUTE: "Route to a claim",
    Action.ACKNOWLEDGE: "Acknowledge: I am on it",
    Action.APPROVE: "Send the letter as drafted",
    Action.EDIT: "Send it with my argument",
    Action.WITHDRAW: "Withdraw the appeal",
    Action.APPROVE_WRITE_OFF: "Approve the write-off",
    Action.REJECT: "Refuse the write-off",
    Action.APPEAL: "Appeal: send a letter stating the contract rate",
    Action.ACCEPT: "Accept the payment as it is",
    Action.CORRECT_CONTRACT: "Correct the contract rate",
}

ADJUSTMENT = re.compile(r"\b(CO|PR|OA|PI|CR)-([A-Z0-9]{1,3})\b")
REMARK = re.compile(r"\b(MA\d{2,3}|N\d{1,3}|M\d{1,3})\b")
CLAIM_STATUS = re.compile(
    r"\b(?:STC|277(?:CA)?)\s+([A-Z][0-9]{1,2}[A-Z]?):([A-Z0-9]{1,5})(?::([A-Z0-9]{2,3}))?\b"
)
"""a 277CA's or 277's STC category:code[:entity] as the timeline notes it ("STC A7:562", "277 A1:20")"""
FACT_STEPS = ("eligibility", "scrub", "999", "277CA", "276", "835", "appeal", "correction")


@dataclass(frozen=True)
class CodeFact:
    code: str
    description: str


@dataclass(frozen=True)
class TaskFacts:
    in_words: str
    codes: list[CodeFact]
    timeline: list[tuple[datetime, str, str]]
    """the claim's steps that bear on the task: 271, scrub, 999, 277CA, 276, 835"""


def task_facts(item: QueueItem) -> TaskFacts:
    texts = [item.task.reason, *item.task.details]
    timeline = [
        (entry.at, entry.step, entry.outcome)
        for entry in (item.claim.timeline if item.claim else [])
        if entry.step in FACT_STEPS
    ]
    texts += [outcome for _, _, outcome in timeline]
    return TaskFacts(in_words=IN_WORDS[item.task.kind], codes=codes_in(texts), timeline=timeline)


def codes_in(texts: list[str]) -> list[CodeFact]:
    """Every group-CARC pair, remark code and 277/277CA claim status (category:code) mentioned, once
    each, with its published description (a CARC or RARC not in the shipped list is left out rather
    than shown without one; a claim status is always shown, an unknown code as it came)."""
    found: dict[str, CodeFact] = {}
    for text in texts:
        for group, reason in ADJUSTMENT.findall(text):
            code = f"{group}-{reason}"
            if code not in found:
                with contextlib.suppress(UnknownCodeError):
                    found[code] = CodeFact(code, f"{group_text(group)}: {carc_text(reason)}")
        for remark in REMARK.findall(text):
            if remark not in found:
                with contextlib.suppress(UnknownCodeError):
                    found[remark] = CodeFact(remark, rarc_text(remark))
        for category, status, entity in CLAIM_STATUS.findall(text):
            code = ":".join(part for part in (category, status, entity) if part)
            if code not in found:
                found[code] = CodeFact(code, describe_status(category, status, entity or None))
    return list(found.values())


@dataclass(frozen=True)
class ActionForm:
    action: Action
    label: str
    fields: tuple[str, ...]
    allowed: bool
    """the user's role may send it (others are shown disabled, with the reason)"""
    prefill: Mapping[str, str]


def action_forms(
    item: QueueItem, fields_by_action: Mapping[Action, tuple[str, ...]], user: User
) -> list[ActionForm]:
    encounter = item.claim.encounter if item.claim else None
    prefill: dict[str, str] = {}
    if encounter is not None:
        prefill["encounter"] = encounter.model_dump_json(indent=2)
        prefill["diagnoses"] = ",".join(encounter.diagnoses)
        prefill["service_lines"] = (
            "[" + ",\n".join(line.model_dump_json() for line in encounter.service_lines) + "]"
        )
        prefill["coverage_payer_id"] = encounter.coverage.payer_id
        prefill["coverage_payer_name"] = encounter.coverage.payer_name
    return [
        ActionForm(
            action=action,
            label=ACTION_LABELS[action],
            fields=fields_by_action[action],
            allowed=user.can(permission_for(action)),
            prefill=prefill,
        )
        for action in sorted(Action(a) for a in item.task.allowed_actions)
    ]


@dataclass(frozen=True)
class Document:
    name: str
    path: Path | None
    """None when the file is not under the documents folder (it is not served)"""
    media_type: str


def documents_of(claim: ClaimSnapshot, documents_dir: Path) -> list[Document]:
    """The claim's statements and letters; only files inside the documents folder are served."""
    root = documents_dir.resolve()
    found = []
    for written in claim.documents:
        path = Path(written).resolve()
        inside = path.is_relative_to(root) and path.is_file()
        media = (
            "application/pdf"
            if path.suffix == ".pdf"
            else "text/html"
            if path.suffix == ".html"
            else "text/plain"
        )
        found.append(Document(name=path.name, path=path if inside else None, media_type=media))
    return found


@dataclass(frozen=True)
class ClaimView:
    documents: list[Document]
    codes: list[CodeFact]
    balance: Decimal


def claim_view(claim: ClaimSnapshot, documents_dir: Path) -> ClaimView:
    return ClaimView(
        documents=documents_of(claim, documents_dir),
        codes=codes_in([entry.outcome for entry in claim.timeline]),
        balance=claim.patient_responsibility - claim.patient_paid,
    )


QUEUE_COLUMNS = ("task", "kind", "claim", "patient", "payer", "amount", "due", "sla", "priority", "assignee")
SEARCH_COLUMNS = ("claim", "patient", "date of service", "payer", "state", "billed", "paid", "open tasks")


def queue_cells(item: QueueItem) -> tuple[str, ...]:
    return (
        item.task.id,
        item.task.kind.value,
        item.row.claim_id,
        item.patient,
        item.row.payer_id or "",
        str(item.amount),
        item.task.due_at.isoformat(),
        item.sla.value,
        item.task.priority.name.lower(),
        item.holder or "",
    )


def search_cells(claim: FoundClaim) -> tuple[str, ...]:
    return (
        claim.claim_id,
        claim.patient,
        claim.date_of_service.isoformat() if claim.date_of_service else "",
        claim.payer_id,
        claim.state,
        str(claim.billed),
        str(claim.paid),
        str(claim.open_tasks),
    )


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"${value:,.2f}"


def _when(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


FILTERS = {"money": _money, "when": _when, "label": lambda action: ACTION_LABELS[Action(action)]}
