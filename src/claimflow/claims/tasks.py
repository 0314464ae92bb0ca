"""Human tasks: where a claim needs a person's judgement, and what a valid resolution is.

A task lives inside its claim's workflow. The checks here are pure so that the workflow's Update
validator, the command line and the web console give the same answer to the same resolution.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import IntEnum, StrEnum

from pydantic import Field

from claimflow.claims.encounter import Coverage, DiagnosisCode, Encounter, Model, ServiceLine
from claimflow.claims.events import PayerEvent
from claimflow.claims.roles import Permission, Role


class TaskKind(StrEnum):
    FIX_DEMOGRAPHICS = "fix_demographics"
    COVERAGE_ISSUE = "coverage_issue"
    CODING = "coding"
    SCRUB_FAILURE = "scrub_failure"
    PAYER_REJECTION = "payer_rejection"
    NO_RESPONSE = "no_response"
    PATIENT_BALANCE = "patient_balance"
    DENIAL = "denial"
    UNMATCHED_REMITTANCE = "unmatched_remittance"
    TIMELY_FILING_RISK = "timely_filing_risk"
    APPEAL_REVIEW = "appeal_review"
    WRITE_OFF_APPROVAL = "write_off_approval"


class Priority(IntEnum):
    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4


class Action(StrEnum):
    CORRECT = "correct"
    """Corrected encounter data; the claim goes back through the step that stopped it."""
    NEW_COVERAGE = "new_coverage"
    SELF_PAY = "self_pay"
    CODES = "codes"
    OVERRIDE = "override"
    RESUBMIT = "resubmit"
    INQUIRE_AGAIN = "inquire_again"
    WRITE_OFF = "write_off"
    ROUTE = "route"
    ACKNOWLEDGE = "acknowledge"
    """A person has the matter in hand (a deadline warning): the claim goes on as it was."""
    APPROVE = "approve"
    """Send the appeal letter as drafted."""
    EDIT = "edit"
    """Send it with the biller's argument instead (AppealResolution.argument)."""
    WITHDRAW = "withdraw"
    APPROVE_WRITE_OFF = "approve_write_off"
    REJECT = "reject"


ALLOWED_ACTIONS: dict[TaskKind, frozenset[Action]] = {
    TaskKind.FIX_DEMOGRAPHICS: frozenset({Action.CORRECT}),
    TaskKind.COVERAGE_ISSUE: frozenset({Action.NEW_COVERAGE, Action.SELF_PAY}),
    TaskKind.CODING: frozenset({Action.CODES}),
    TaskKind.SCRUB_FAILURE: frozenset({Action.CORRECT, Action.OVERRIDE}),
    TaskKind.PAYER_REJECTION: frozenset({Action.CORRECT, Action.RESUBMIT}),
    TaskKind.NO_RESPONSE: frozenset({Action.INQUIRE_AGAIN, Action.RESUBMIT, Action.WRITE_OFF}),
    TaskKind.PATIENT_BALANCE: frozenset({Action.WRITE_OFF}),
    TaskKind.DENIAL: frozenset({Action.CORRECT, Action.WRITE_OFF}),
    TaskKind.UNMATCHED_REMITTANCE: frozenset({Action.ROUTE, Action.WRITE_OFF}),
    TaskKind.TIMELY_FILING_RISK: frozenset({Action.ACKNOWLEDGE, Action.WRITE_OFF}),
    TaskKind.APPEAL_REVIEW: frozenset({Action.APPROVE, Action.EDIT, Action.WITHDRAW}),
    TaskKind.WRITE_OFF_APPROVAL: frozenset({Action.APPROVE_WRITE_OFF, Action.REJECT}),
}


class Task(Model):
    id: str
    kind: TaskKind
    reason: str = Field(description="one line a biller reads in a list; carries no PHI")
    details: list[str] = Field(default_factory=list)
    created_at: datetime
    due_at: datetime
    priority: Priority = Priority.NORMAL
    assignee: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: TaskResolution | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def allowed_actions(self) -> list[str]:
        return sorted(action.value for action in ALLOWED_ACTIONS[self.kind])


class TaskResolution(Model):
    """What a person decided. Only the fields its action needs are read."""

    task_id: str
    action: Action
    actor: str = Field(min_length=1, max_length=80, description="who resolved it (recorded)")
    actor_role: Role | None = Field(
        default=None, description="the actor's role, as the console that authenticated them found it"
    )
    reason: str | None = Field(default=None, max_length=500)
    encounter: Encounter | None = Field(default=None, description="corrected data, for correct")
    coverage: Coverage | None = Field(default=None, description="for new_coverage")
    diagnoses: list[DiagnosisCode] | None = Field(default=None, description="for codes")
    service_lines: list[ServiceLine] | None = Field(default=None, description="for codes")
    amount: Decimal | None = None
    target_claim: str | None = Field(default=None, description="for route: the claim it belongs to")


MANAGER_ACTIONS = frozenset({Action.APPROVE_WRITE_OFF, Action.REJECT})
"""The resolutions of a write_off_approval task: money given up for good needs a manager."""


def permission_for(action: Action) -> Permission:
    """The permission a person needs to resolve a task with `action`."""
    return Permission.APPROVE_WRITE_OFFS if action in MANAGER_ACTIONS else Permission.WORK_TASKS


class InvalidResolution(ValueError):
    """A resolution that cannot be applied; the message tells the biller what to send instead."""


def check_resolution(tasks: list[Task], resolution: TaskResolution) -> Task:
    """The open task a resolution applies to, or InvalidResolution saying exactly what is wrong."""
    task = next((t for t in tasks if t.id == resolution.task_id), None)
    if task is None:
        open_ids = ", ".join(t.id for t in tasks if t.is_open) or "none"
        raise InvalidResolution(f"no task {resolution.task_id!r} on this claim (open tasks: {open_ids})")
    if not task.is_open:
        raise InvalidResolution(
            f"task {task.id} was already resolved by {task.resolved_by} at {task.resolved_at:%Y-%m-%d %H:%M}"
        )
    if resolution.action not in ALLOWED_ACTIONS[task.kind]:
        raise InvalidResolution(
            f"action {resolution.action.value!r} does not resolve a {task.kind.value} task; "
            f"use one of: {', '.join(task.allowed_actions)}"
        )
    missing = _missing_fields(resolution)
    if missing:
        raise InvalidResolution(f"action {resolution.action.value!r} needs {missing}")
    return task


def _missing_fields(resolution: TaskResolution) -> str | None:
    match resolution.action:
        case Action.CORRECT if resolution.encounter is None:
            return "the corrected encounter (field 'encounter')"
        case Action.NEW_COVERAGE if resolution.coverage is None:
            return "the new coverage (field 'coverage': payer id, payer name, member id)"
        case Action.CODES if not resolution.diagnoses or not resolution.service_lines:
            return "at least one diagnosis and one service line (fields 'diagnoses' and 'service_lines')"
        case Action.OVERRIDE | Action.WRITE_OFF if not resolution.reason:
            return "a reason (field 'reason'), which is kept in the audit trail"
        case Action.ROUTE if not resolution.target_claim:
            return "the claim it belongs to (field 'target_claim')"
        case Action.WITHDRAW | Action.REJECT | Action.APPROVE_WRITE_OFF if not resolution.reason:
            return "a reason (field 'reason'), which is kept in the audit trail"
    return None


class UnmatchedItem(Model):
    """A payer result no open claim owns, or a file claimflow could not read: kept for a person."""

    file_id: str
    kind: str = Field(description="999, 277ca, 835 or unreadable")
    reason: str
    event: PayerEvent | None = None
