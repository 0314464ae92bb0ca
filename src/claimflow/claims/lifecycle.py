"""A claim's life as the workflow tracks it: its states, its one state record (`ClaimRecord`), its
timeline, and the snapshot the `state` query projects from the record."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from claimflow.claims import ids
from claimflow.claims.claim import FrequencyCode
from claimflow.claims.deadlines import timely_filing_deadline
from claimflow.claims.encounter import Coverage, Encounter, Model
from claimflow.claims.events import PayerEvent
from claimflow.claims.intake_hold import HeldIntake
from claimflow.claims.money import ZERO, Money
from claimflow.claims.payers import PayerProfile
from claimflow.claims.remittance import ClaimPayment
from claimflow.claims.tasks import Task
from claimflow.claims.underpayment import Underpayment


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


class TimelineEntry(Model):
    at: datetime
    step: str
    outcome: str = Field(description="what happened; carries no PHI")


class ClaimStep(StrEnum):
    """The lifecycle's named steps, in order: where a claim resumes after continue-as-new or when
    it starts from a record."""

    INTAKE = "intake"
    ELIGIBILITY = "eligibility"
    CODING = "coding"
    SCRUB = "scrub"
    PAYER = "payer"
    """Submitted to the payer and followed until it pays (or a person stops it)."""
    PATIENT_BILLING = "patient_billing"
    REOPEN_WINDOW = "reopen_window"
    """Closed, listening for the payer's late word through its reopen window."""
    DONE = "done"


class Dunning(Model):
    """The patient statement cycle: how many statements go out before a person decides (the last
    is the final notice), and how many have gone out."""

    statements: int = Field(default=3, ge=1, description="first, reminders, final notice")
    sent: int = Field(default=0, ge=0)

    def notice(self) -> str:
        """What the next statement is: the first, a reminder or the final notice."""
        if self.sent + 1 >= self.statements:
            return "final"
        return "first" if self.sent == 0 else "reminder"


UNKNOWN_PAYER = "unknown"
"""How a claim or payment whose payer id is empty is listed and counted (one name everywhere)."""


class PayerDecision(Model):
    """One payer's decision of the claim (its 835 claim payment), by its place in the coverage order:
    what the next payer's claim restates (loops 2320/2430) and what an ExplanationOfBenefit shows."""

    position: int = Field(ge=0, le=2, description="0 primary, 1 secondary, 2 tertiary")
    payer_id: str
    payment: ClaimPayment
    decided_on: date


class UnderpaymentStatus(StrEnum):
    OPEN = "open"
    APPEALED = "appealed"
    """A letter stating the contract rate went to the payer; a re-adjudication settles it."""
    ACCEPTED = "accepted"
    """A person took the payment as it was."""
    CONTRACT_CORRECTED = "contract_corrected"
    """Our contract line was wrong; the corrected rate is kept on the case."""
    RECOVERED = "recovered"
    """A re-adjudication allowed the line at the contract (or closer to it: `recovered`)."""


class UnderpaymentCase(Model):
    """One underpaid line of one claim and what became of it: one task per line, updated when the
    payer reverses and re-adjudicates the claim."""

    finding: Underpayment
    task_id: str
    status: UnderpaymentStatus = UnderpaymentStatus.OPEN
    first_allowed: Money = Field(description="what the payer allowed when the shortfall was found")
    recovered: Money = Field(default=ZERO, description="allowed since, above what it first allowed")
    corrected_rate: Money | None = Field(default=None, description="the contract rate a person corrected")
    letter: str | None = None

    @property
    def open_shortfall(self) -> Money:
        if self.status in {UnderpaymentStatus.OPEN, UnderpaymentStatus.APPEALED}:
            return self.finding.shortfall
        return ZERO


class ClaimRecord(BaseModel):
    """Everything a claim workflow knows, in one record: the state query projects it, continue-as-new
    carries it, and a test can start a claim from one in any state. The workflow changes it in place
    (deterministically); nothing else holds claim state."""

    model_config = ConfigDict(extra="forbid")

    encounter: Encounter
    managers: list[str] = Field(default_factory=lambda: ["billing-manager"], min_length=1)
    step: ClaimStep = ClaimStep.INTAKE
    state: ClaimState = ClaimState.INTAKE
    profile: PayerProfile | None = Field(default=None, description="loaded at start and on new coverage")
    self_pay: bool = False
    # the claim at the payer
    frequency: FrequencyCode = FrequencyCode.ORIGINAL
    payer_claim_number: str | None = None
    submissions: int = 0
    submitted_at: datetime | None = None
    interchange_control_number: int | None = None
    ack_999_at: datetime | None = None
    accepted_on: datetime | None = Field(default=None, description="277CA acceptance: proof of timely filing")
    status_277ca: str | None = None
    last_payment: ClaimPayment | None = None
    remittance_date: date | None = None
    appeals: int = Field(default=0, description="appeals started: the next one's number")
    # coordination of benefits
    payer_position: int = Field(default=0, ge=0, le=2, description="the coverage billed: 0 primary")
    decisions: list[PayerDecision] = Field(default_factory=list, description="the earlier payers' 835s")
    filing_from: date | None = Field(
        default=None,
        description="the day the billed payer's timely filing counts from: for a secondary or tertiary "
        "the earlier payer's 835 date (None: the date of service)",
    )
    denied_claim_numbers: dict[int, str] = Field(
        default_factory=dict,
        description="by position: the payer's number of a claim it denied CO-22 (the next one replaces it)",
    )
    replacement_due: bool = Field(
        default=False,
        description="an earlier payer re-adjudicated while the billed payer held the claim under a number "
        "claimflow does not know: the replacement (frequency 7, REF*F8) goes once the payer's 835 names it",
    )
    underpayments: list[UnderpaymentCase] = Field(default_factory=list)
    # money
    paid: Money = ZERO
    adjusted: Money = ZERO
    patient_responsibility: Money = ZERO
    patient_paid: Money = ZERO
    payment_references: list[str] = Field(default_factory=list, description="patient payments posted")
    dunning: Dunning = Field(default_factory=Dunning)
    # waits
    reopen_until: datetime | None = Field(default=None, description="end of the late-remittance window")
    write_off_reason: str | None = Field(default=None, description="a person wrote the claim off")
    # what was heard and done
    seen_event_ids: list[str] = Field(default_factory=list, description="payer events applied or queued")
    pending_events: list[PayerEvent] = Field(default_factory=list, description="heard, not yet taken")
    timeline: list[TimelineEntry] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    documents: list[str] = Field(default_factory=list)

    @property
    def claim_id(self) -> str:
        return ids.claim_workflow_id(self.encounter.encounter_id)

    @property
    def patient_due(self) -> Money:
        return self.patient_responsibility - self.patient_paid

    @property
    def billed_coverage(self) -> Coverage:
        """The coverage the claim is billed to now (the primary until its 835 moves the claim on)."""
        coverages = self.encounter.coverages
        return coverages[min(self.payer_position, len(coverages) - 1)]

    @property
    def timely_filing_deadline(self) -> date | None:
        """The billed payer's: its limit from the date of service, or for a secondary or tertiary
        from the earlier payer's 835 date (`filing_from`). None for a self-pay claim (no payer to
        file with) or before the payer is known."""
        if self.self_pay or self.profile is None:
            return None
        start = self.filing_from or self.encounter.service_date
        return timely_filing_deadline(start, self.profile.timely_filing_days)

    def snapshot(self) -> ClaimSnapshot:
        """The `state` query's answer: a projection of the record."""
        return ClaimSnapshot(
            claim_id=self.claim_id,
            state=self.state,
            payer_id=self.billed_coverage.payer_id,
            patient_control_number=self.encounter.encounter_id,
            payer_claim_number=self.payer_claim_number,
            billed=self.encounter.total_charge,
            paid=self.paid,
            patient_responsibility=self.patient_responsibility,
            patient_paid=self.patient_paid,
            adjusted=self.adjusted,
            submissions=self.submissions,
            timely_filing_deadline=self.timely_filing_deadline,
            accepted_on=self.accepted_on.date() if self.accepted_on else None,
            timeline=list(self.timeline),
            tasks=list(self.tasks),
            documents=list(self.documents),
            encounter=self.encounter,
            payer_position=self.payer_position,
            adjudications=[*self.decisions, *self._current_decision()],
            underpayments=list(self.underpayments),
        )

    def _current_decision(self) -> list[PayerDecision]:
        """The billed payer's latest 835, once it has one (the earlier payers' are in `decisions`)."""
        if self.last_payment is None or any(d.position == self.payer_position for d in self.decisions):
            return []
        return [
            PayerDecision(
                position=self.payer_position,
                payer_id=self.billed_coverage.payer_id,
                payment=self.last_payment,
                decided_on=self.remittance_date or self.encounter.service_date,
            )
        ]


class ClaimInput(Model):
    """What starts a claim workflow: the encounter, as intake received it; or a record, to start (or
    continue as new) a claim where that record stands."""

    encounter: Encounter | None = Field(default=None, description="None only for a held document")
    held: HeldIntake | None = Field(
        default=None, description="a document that cannot become a claim yet: the claim starts held"
    )
    received_by: str = "intake"
    managers: list[str] = Field(
        default_factory=lambda: ["billing-manager"], min_length=1, description="who may approve write-offs"
    )
    record: ClaimRecord | None = Field(default=None, description="the claim's state, to resume from")
    history_limit: int = Field(
        default=5_000, ge=100, description="events after which a long wait continues as new"
    )

    @model_validator(mode="after")
    def _an_encounter_or_a_held_document(self) -> ClaimInput:
        if self.record is None and (self.encounter is None) == (self.held is None):
            raise ValueError("a claim starts from an encounter or from a held document (exactly one)")
        return self

    def starting_record(self) -> ClaimRecord:
        if self.record is not None:
            return self.record
        if self.encounter is None:
            raise ValueError("a held claim has no record until its document is corrected")
        return ClaimRecord(encounter=self.encounter, managers=list(self.managers))


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
    payer_position: int = Field(default=0, description="the coverage billed now: 0 primary, 1, 2")
    adjudications: list[PayerDecision] = Field(
        default_factory=list, description="each payer's latest 835 claim payment, in coverage order"
    )
    underpayments: list[UnderpaymentCase] = Field(default_factory=list)

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
