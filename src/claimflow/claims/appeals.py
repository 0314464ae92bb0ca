"""Appeals: the payer's levels and windows, what comes after an upheld decision, and the models the
AppealWorkflow is driven by. Pure: today is always an argument.

Levels come from the payer's profile (claims/data/payers.toml): Medicare's five (redetermination 120
days, reconsideration 180, ALJ hearing 60 with an amount in controversy, Appeals Council 60, judicial
review 60 with a higher amount), a commercial plan's first and second level. Each level's window runs
from the decision it appeals: the remittance for the first level, the previous level's decision after.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from claimflow.claims.claim import Claim
from claimflow.claims.deadlines import appeal_deadline
from claimflow.claims.denials import LetterCategory
from claimflow.claims.encounter import Model
from claimflow.claims.money import ZERO, Money
from claimflow.claims.payers import AppealLevel, CoverageKind, PayerProfile
from claimflow.claims.remittance import ClaimPayment
from claimflow.claims.roles import Permission
from claimflow.claims.tasks import InvalidResolution, Task, TaskKind, TaskResolution, check_resolution

MEDICARE_DECISION_DAYS = (60, 60, 90, 90, 180)
"""How long Medicare takes to decide each level: 60 days for redetermination (42 CFR 405.950) and
reconsideration (405.970), 90 for an ALJ hearing (405.1016) and the Council (405.1100); the federal
court sets no limit, so a long watch stands in for it."""
PLAN_DECISION_DAYS = 60
"""Other payers: 60 days for a post-service claim appeal (ERISA, 29 CFR 2560.503-1(i)(2)(iii))."""


def appeal_levels(profile: PayerProfile) -> tuple[AppealLevel, ...]:
    """The payer's levels in order; a profile without levels has one, on its appeal window."""
    if profile.appeal_levels:
        return tuple(sorted(profile.appeal_levels, key=lambda level: level.level))
    return (AppealLevel(level=1, name="appeal", window_days=profile.appeal_days),)


def level_of(profile: PayerProfile, number: int) -> AppealLevel:
    levels = appeal_levels(profile)
    found = next((level for level in levels if level.level == number), None)
    if found is None:
        numbers = ", ".join(str(level.level) for level in levels)
        raise ValueError(f"{profile.name} has appeal levels {numbers}, not {number}")
    return found


def filing_deadline(level: AppealLevel, decided_on: date) -> date:
    """The last day an appeal at `level` of a decision made on `decided_on` is heard."""
    return appeal_deadline(decided_on, level.window_days)


def first_level_deadline(profile: PayerProfile, remittance_date: date) -> date:
    """The last day to file the first appeal of a remittance: an unappealed denial's window."""
    return filing_deadline(appeal_levels(profile)[0], remittance_date)


def decision_days(profile: PayerProfile, level: AppealLevel) -> int:
    """How long the payer may take to decide an appeal at this level."""
    if profile.kind is CoverageKind.MEDICARE and level.level <= len(MEDICARE_DECISION_DAYS):
        return MEDICARE_DECISION_DAYS[level.level - 1]
    return PLAN_DECISION_DAYS


class NextStep(Model):
    """After an upheld decision: the next level and its deadline, or why the appeals end here."""

    level: AppealLevel | None = None
    deadline: date | None = None
    stop_reason: str | None = None

    @property
    def stops(self) -> bool:
        return self.level is None


def next_step(
    profile: PayerProfile, current: int, decided_on: date, amount_in_controversy: Money, today: date
) -> NextStep:
    """Where an appeal upheld at level `current` on `decided_on` goes next."""
    levels = appeal_levels(profile)
    following = [level for level in levels if level.level > current]
    if not following:
        last = level_of(profile, current)
        return NextStep(
            stop_reason=f"level {current} ({last.name}) is the last appeal level of {profile.name}"
        )
    level = following[0]
    if level.min_amount is not None and amount_in_controversy < level.min_amount:
        return NextStep(
            stop_reason=(
                f"the amount in controversy {amount_in_controversy} is below the {level.min_amount} "
                f"that a {level.name} (level {level.level}) requires"
            )
        )
    deadline = filing_deadline(level, decided_on)
    if today > deadline:
        return NextStep(
            stop_reason=f"the window for a {level.name} closed on {deadline.isoformat()} "
            f"({level.window_days} days from the decision of {decided_on.isoformat()})"
        )
    return NextStep(level=level, deadline=deadline)


# ---------------------------------------------------------------------------------- workflow models


class TimelyFilingProof(Model):
    """When the claim reached the clearinghouse and the payer: the proof a timely-filing appeal needs."""

    submitted_at: datetime | None = None
    ack_999_at: datetime | None = Field(default=None, description="999 accepted the file")
    accepted_277ca_at: datetime | None = Field(default=None, description="277CA accepted the claim")
    status_277ca: str | None = Field(default=None, description="the accepting STC, e.g. A1:20")
    interchange_control_number: int | None = None
    payer_claim_number: str | None = None

    @property
    def has_proof(self) -> bool:
        return self.ack_999_at is not None or self.accepted_277ca_at is not None


class AppealInput(Model):
    """What the claim hands its AppealWorkflow."""

    claim: Claim
    payer: PayerProfile
    payment: ClaimPayment = Field(description="the CLP loop that denied the claim")
    remittance_date: date = Field(description="the 835's date: the first level's window runs from it")
    proof: TimelyFilingProof = Field(default_factory=TimelyFilingProof)
    managers: list[str] = Field(
        min_length=1, description="actors who may approve a write-off (the configured managers list)"
    )
    enclosures: list[str] = Field(default_factory=list, description="documents sent with every letter")
    start_level: int = Field(default=1, ge=1)
    record: AppealRecord | None = Field(
        default=None, description="the appeal's state, to continue from (continue-as-new carries it)"
    )
    history_limit: int = Field(
        default=5_000, ge=10, description="events after which the wait for a decision continues as new"
    )


class AppealDecision(Model):
    """The payer's answer to an appeal, forwarded by the claim as the `decision` signal."""

    overturned: bool
    paid_amount: Money = ZERO
    payer_note: str = Field(default="", max_length=2000)
    decision_date: date
    appeal_id: str | None = Field(default=None, description="the clearinghouse's id, when the payer gives it")


def decision_from_notice(notice: Mapping[str, Any]) -> AppealDecision:
    """The payer's appeal decision notice (the clearinghouse inbox's `appeal_decision` JSON:
    appeal_id, decision "upheld" or "overturned", explanation, decided_on) as the signal's model."""
    try:
        verdict = str(notice["decision"]).strip().lower()
        decided_on = date.fromisoformat(str(notice["decided_on"]))
    except (KeyError, ValueError) as bad:
        raise ValueError(
            f"appeal decision notice {notice.get('appeal_id', '(no appeal_id)')} lacks a readable "
            f"'decision' or 'decided_on' ({bad}); route it to a person"
        ) from None
    if verdict not in ("upheld", "overturned"):
        raise ValueError(f"appeal decision {verdict!r} is neither 'upheld' nor 'overturned'")
    return AppealDecision(
        overturned=verdict == "overturned",
        payer_note=str(notice.get("explanation") or "")[:2000],
        decision_date=decided_on,
        appeal_id=str(notice["appeal_id"]) if notice.get("appeal_id") else None,
    )


def decision_from_readjudication(payment: ClaimPayment, paid_on: date) -> AppealDecision:
    """A payer that answers an appeal by re-adjudicating the claim (a reversal, then a new claim
    payment) has overturned it: the new payment is the decision."""
    return AppealDecision(
        overturned=True,
        paid_amount=payment.paid,
        payer_note=f"re-adjudicated as payer claim {payment.payer_claim_number or 'unknown'}",
        decision_date=paid_on,
    )


class AppealState(StrEnum):
    PREPARING = "preparing"
    IN_REVIEW = "in_review"
    AWAITING_DECISION = "awaiting_decision"
    WRITE_OFF_PENDING = "write_off_pending"
    OVERTURNED = "overturned"
    WRITTEN_OFF = "written_off"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"
    """The appeals ended without a write-off: a manager refused it, or the payer never answered."""


class AppealLetterRef(Model):
    level: int
    revision: int
    pdf_path: str
    html_path: str


class AppealTimelineEntry(Model):
    at: datetime
    step: str
    outcome: str = Field(description="codes, levels and amounts; no PHI")


class AppealSnapshot(Model):
    """The answer to the AppealWorkflow's `state` query."""

    appeal_id: str
    claim_id: str
    payer_id: str | None = None
    state: AppealState
    level: int
    level_name: str
    filing_deadline: date | None = None
    letter_category: LetterCategory | None = None
    amount_at_stake: Money = ZERO
    argument: str = ""
    appeals_sent: list[str] = Field(default_factory=list, description="the clearinghouse's appeal ids")
    letters: list[AppealLetterRef] = Field(default_factory=list)
    decisions: list[AppealDecision] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    timeline: list[AppealTimelineEntry] = Field(default_factory=list)

    @property
    def open_tasks(self) -> list[Task]:
        return [task for task in self.tasks if task.is_open]


class AppealRecord(BaseModel):
    """Everything an AppealWorkflow knows beyond its input, in one record: the state query projects
    it and continue-as-new carries it while the appeal waits months for a payer's decision. The
    workflow changes it in place (deterministically); nothing else holds appeal state."""

    model_config = ConfigDict(extra="forbid")

    state: AppealState = AppealState.PREPARING
    level: AppealLevel
    level_from: date = Field(description="the decision the current level appeals: its window runs from it")
    deadline: date | None = None
    decision_due_at: datetime | None = Field(
        default=None, description="set once the level's appeal is sent: when silence calls for a person"
    )
    decision_wait_days: int = Field(default=0, description="how long the current wait for a decision is")
    argument: list[str] = Field(default_factory=list)
    letters: list[AppealLetterRef] = Field(default_factory=list)
    sent: list[str] = Field(default_factory=list, description="the clearinghouse's appeal ids")
    decisions: list[AppealDecision] = Field(default_factory=list)
    unread: list[AppealDecision] = Field(default_factory=list, description="decisions heard, not yet taken")
    decided: list[str] = Field(default_factory=list, description="appeal ids whose decision was heard")
    levels_tried: list[int] = Field(default_factory=list)
    recovered: Money = ZERO
    timeline: list[AppealTimelineEntry] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)


AppealInput.model_rebuild()  # its record is defined above only now


class AppealOutcome(Model):
    """What the AppealWorkflow returns to the claim."""

    overturned: bool
    amount_recovered: Money = ZERO
    levels_tried: list[int] = Field(default_factory=list)
    written_off: bool = False
    written_off_amount: Money = ZERO
    withdrawn: bool = False
    letters: list[AppealLetterRef] = Field(default_factory=list)
    reason: str = Field(description="why it ended; no PHI")


# ---------------------------------------------------------------------------------- resolutions


def check_appeal_resolution(tasks: list[Task], resolution: TaskResolution, managers: list[str]) -> Task:
    """check_resolution, plus what appeal tasks need: only a manager approves or rejects a write-off."""
    task = check_resolution(tasks, resolution)
    # The workflow cannot check who someone is: the console that authenticated the actor vouches for
    # their role (actor_role); the managers list is for resolutions sent without one.
    role = resolution.actor_role
    may_approve = role is not None and role.can(Permission.APPROVE_WRITE_OFFS)
    if task.kind is TaskKind.WRITE_OFF_APPROVAL and not may_approve and resolution.actor not in managers:
        raise InvalidResolution(
            f"{resolution.actor} is not a manager: a write-off needs the approval of a user with the "
            f"manager or admin role, or of one of {', '.join(sorted(managers))}"
        )
    return task
