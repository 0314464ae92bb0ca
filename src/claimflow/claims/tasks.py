"""Human tasks: where a claim needs a person's judgement, and what a valid resolution is.

A task lives inside its claim's workflow. The checks here are pure so that the workflow's Update
validator, the command line and the web console give the same answer to the same resolution.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, TypeAdapter, field_validator

from claimflow.claims.encounter import Coverage, DiagnosisCode, Encounter, Model, ServiceLine
from claimflow.claims.events import PayerEvent
from claimflow.claims.money import Money
from claimflow.claims.roles import Permission, Role
from claimflow.claims.variants import Variant


class TaskKind(StrEnum):
    FIX_INTAKE = "fix_intake"
    """The document received cannot become a claim (claims/intake_hold): the task carries what was
    found and the document itself; a corrected encounter releases the claim."""
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
    UNDERPAYMENT = "underpayment"
    """A line the payer allowed below the contract (claims/underpayment)."""


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
    """Send it with the biller's argument instead (Edit.argument)."""
    WITHDRAW = "withdraw"
    APPROVE_WRITE_OFF = "approve_write_off"
    REJECT = "reject"
    APPEAL = "appeal"
    """Ask the payer to pay the contracted rate (a letter stating it)."""
    ACCEPT = "accept"
    """Take the payment as it is (the shortfall is written off as contractual)."""
    CORRECT_CONTRACT = "correct_contract"
    """The payer was right: our contract line was wrong; record the rate the contract really says."""


ALLOWED_ACTIONS: dict[TaskKind, frozenset[Action]] = {
    TaskKind.FIX_INTAKE: frozenset({Action.CORRECT, Action.WRITE_OFF}),
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
    TaskKind.UNDERPAYMENT: frozenset({Action.APPEAL, Action.ACCEPT, Action.CORRECT_CONTRACT}),
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
    document: str | None = Field(
        default=None, description="a fix_intake task's document as received (PHI: sealed like every payload)"
    )

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def allowed_actions(self) -> list[str]:
        return sorted(action.value for action in ALLOWED_ACTIONS[self.kind])


class _Resolution(Variant):
    """What every resolution carries: the task, who decided (recorded) and, optionally, why."""

    task_id: str
    actor: str = Field(min_length=1, max_length=80, description="who resolved it (recorded)")
    actor_role: Role | None = Field(
        default=None, description="the actor's role, as the console that authenticated them found it"
    )
    reason: str | None = Field(default=None, max_length=500)


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
"""A reason that is kept in the audit trail: required, not blank."""


class Correct(_Resolution):
    """Corrected encounter data; the claim goes back through the step that stopped it."""

    action: Literal[Action.CORRECT] = Action.CORRECT
    encounter: Encounter = Field(description="the corrected encounter")


class NewCoverage(_Resolution):
    action: Literal[Action.NEW_COVERAGE] = Action.NEW_COVERAGE
    coverage: Coverage = Field(description="payer id, payer name, member id")


class SelfPay(_Resolution):
    action: Literal[Action.SELF_PAY] = Action.SELF_PAY


class Codes(_Resolution):
    action: Literal[Action.CODES] = Action.CODES
    diagnoses: list[DiagnosisCode] = Field(min_length=1)
    service_lines: list[ServiceLine] = Field(min_length=1)


class Override(_Resolution):
    action: Literal[Action.OVERRIDE] = Action.OVERRIDE
    reason: Reason


class Resubmit(_Resolution):
    action: Literal[Action.RESUBMIT] = Action.RESUBMIT


class InquireAgain(_Resolution):
    action: Literal[Action.INQUIRE_AGAIN] = Action.INQUIRE_AGAIN


class WriteOff(_Resolution):
    action: Literal[Action.WRITE_OFF] = Action.WRITE_OFF
    reason: Reason


class Route(_Resolution):
    action: Literal[Action.ROUTE] = Action.ROUTE
    target_claim: str = Field(min_length=1, description="the encounter id of the claim it belongs to")


class Acknowledge(_Resolution):
    action: Literal[Action.ACKNOWLEDGE] = Action.ACKNOWLEDGE


class Approve(_Resolution):
    """Send the appeal letter as drafted."""

    action: Literal[Action.APPROVE] = Action.APPROVE


class Edit(_Resolution):
    """Redraft the appeal letter with the biller's argument, then send it."""

    action: Literal[Action.EDIT] = Action.EDIT
    argument: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000)] = Field(
        description="the new argument text, paragraphs separated by a blank line"
    )


class Withdraw(_Resolution):
    action: Literal[Action.WITHDRAW] = Action.WITHDRAW
    reason: Reason


class ApproveWriteOff(_Resolution):
    action: Literal[Action.APPROVE_WRITE_OFF] = Action.APPROVE_WRITE_OFF
    reason: Reason


class Reject(_Resolution):
    action: Literal[Action.REJECT] = Action.REJECT
    reason: Reason


class AppealUnderpayment(_Resolution):
    """Send the payer a letter stating the contract rate and the shortfall."""

    action: Literal[Action.APPEAL] = Action.APPEAL


class Accept(_Resolution):
    action: Literal[Action.ACCEPT] = Action.ACCEPT
    reason: Reason


class CorrectContract(_Resolution):
    """Our contract line was wrong: the rate per unit it really says (later 835s are checked with it)."""

    action: Literal[Action.CORRECT_CONTRACT] = Action.CORRECT_CONTRACT
    rate: Money = Field(description="the contracted allowed amount per unit")
    reason: Reason

    @field_validator("rate")
    @classmethod
    def _not_negative(cls, rate: Decimal) -> Decimal:
        if rate < 0:
            raise ValueError(f"a contract rate cannot be negative ({rate})")
        return rate


TaskResolution = Annotated[
    Correct
    | NewCoverage
    | SelfPay
    | Codes
    | Override
    | Resubmit
    | InquireAgain
    | WriteOff
    | Route
    | Acknowledge
    | Approve
    | Edit
    | Withdraw
    | ApproveWriteOff
    | Reject
    | AppealUnderpayment
    | Accept
    | CorrectContract,
    Field(discriminator="action"),
]
"""What a person decided: one model per action, with exactly the fields that action needs."""
RESOLUTION: TypeAdapter[TaskResolution] = TypeAdapter(TaskResolution)
"""Validates a resolution from plain data (the command line, the web console)."""

Task.model_rebuild()  # its resolution is defined above only now: complete before any workflow uses it


MANAGER_ACTIONS = frozenset({Action.APPROVE_WRITE_OFF, Action.REJECT})
"""The resolutions of a write_off_approval task: money given up for good needs a manager."""


def permission_for(action: Action) -> Permission:
    """The permission a person needs to resolve a task with `action`."""
    return Permission.APPROVE_WRITE_OFFS if action in MANAGER_ACTIONS else Permission.WORK_TASKS


class InvalidResolution(ValueError):
    """A resolution that cannot be applied; the message tells the biller what to send instead."""


def check_resolution(tasks: list[Task], resolution: TaskResolution) -> Task:
    """The open task a resolution applies to, or InvalidResolution saying exactly what is wrong.
    What each action carries is checked by its model already."""
    task = next((t for t in tasks if t.id == resolution.task_id), None)
    if task is None:
        open_ids = ", ".join(t.id for t in tasks if t.is_open) or "none"
        raise InvalidResolution(f"no task {resolution.task_id!r} on this claim (open tasks: {open_ids})")
    if not task.is_open:
        raise InvalidResolution(
            f"task {task.id} was already resolved by {task.resolved_by} at "
            f"{task.resolved_at:%Y-%m-%d %H:%M}: nothing left to do on it "
            "(`claimflow tasks` lists the open ones)"
        )
    if resolution.action not in ALLOWED_ACTIONS[task.kind]:
        raise InvalidResolution(
            f"action {resolution.action.value!r} does not resolve a {task.kind.value} task; "
            f"use one of: {', '.join(task.allowed_actions)}"
        )
    return task


class UnmatchedItem(Model):
    """A payer result no open claim owns, or a file claimflow could not read: kept for a person."""

    file_id: str
    kind: str = Field(description="999, 277ca, 835 or unreadable")
    reason: str
    event: PayerEvent | None = None
