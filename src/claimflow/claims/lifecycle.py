"""A claim's life as the workflow tracks it: its states, its timeline and the payer events it hears."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from claimflow.claims.encounter import Encounter, Model
from claimflow.claims.money import ZERO, Money
from claimflow.claims.tasks import Task


class ClaimState(StrEnum):
    INTAKE = "intake"
    ELIGIBILITY = "eligibility"
    CODING = "coding"
    SCRUBBING = "scrubbing"
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ADJUDICATED = "adjudicated"
    DENIED = "denied"
    APPEALING = "appealing"
    """An appeal (a child workflow with its own tasks) is under way."""
    PATIENT_BILLING = "patient_billing"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"


class ClaimInput(Model):
    """What starts a claim workflow: the encounter, as intake received it."""

    encounter: Encounter
    received_by: str = "intake"
    managers: list[str] = Field(
        default_factory=lambda: ["billing-manager"], min_length=1, description="who may approve write-offs"
    )


class TimelineEntry(Model):
    at: datetime
    step: str
    outcome: str = Field(description="what happened; carries no PHI")


class ClaimSnapshot(Model):
    """The answer to the `state` query: where the claim is, how it got there, what waits on people."""

    claim_id: str
    state: ClaimState
    payer_id: str
    patient_control_number: str
    payer_claim_number: str | None = None
    billed: Money = ZERO
    paid: Money = ZERO
    patient_responsibility: Money = ZERO
    patient_paid: Money = ZERO
    adjusted: Money = ZERO
    submissions: int = 0
    timely_filing_deadline: date | None = None
    accepted_on: date | None = Field(default=None, description="277CA acceptance: proof of timely filing")
    timeline: list[TimelineEntry] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    documents: list[str] = Field(default_factory=list, description="statements and letters written")
    encounter: Encounter | None = Field(
        default=None,
        description="the encounter as the claim now bills it (PHI: sealed by the codec like every payload, "
        "shown to the person asking, never logged); None from a worker that predates it",
    )

    @property
    def open_tasks(self) -> list[Task]:
        return [task for task in self.tasks if task.is_open]


class PatientPaymentRequest(Model):
    """Money the patient paid toward a claim's balance, as the front desk or a portal records it."""

    claim_id: str
    amount: Money
    actor: str = Field(min_length=1, max_length=80, description="who recorded it (kept in the audit trail)")
    reference: str | None = Field(
        default=None,
        max_length=80,
        description="receipt or transaction id: the same reference is posted to the ledger once",
    )
