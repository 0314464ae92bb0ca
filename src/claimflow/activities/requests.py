"""The typed inputs and outputs of claimflow's activities: what crosses into and out of workflows."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from claimflow.claims.appeals import TimelyFilingProof
from claimflow.claims.claim import Claim
from claimflow.claims.encounter import Encounter, Model
from claimflow.claims.money import ZERO, Money
from claimflow.claims.payers import PayerProfile
from claimflow.claims.remittance import ClaimPayment
from claimflow.claims.scrub.findings import Finding


class EligibilityRequest(Model):
    encounter: Encounter
    trace_number: str


class ScrubRequest(Model):
    claim: Claim
    as_of: date = Field(description="the day the claim would reach the payer")
    categories: list[str] | None = Field(default=None, description="only these categories; all if None")


class Issue(Model):
    """One scrub finding as the workflow keeps it (rule, category, severity and the message)."""

    rule: str
    category: str
    severity: str
    message: str
    fix_hint: str | None = None

    @classmethod
    def of(cls, finding: Finding) -> Issue:
        return cls(
            rule=finding.rule,
            category=finding.category.value,
            severity=finding.severity.value,
            message=finding.message,
            fix_hint=finding.fix,
        )


class ScrubOutcome(Model):
    encounter: Encounter = Field(description="with the certain fixes applied")
    errors: list[Issue] = Field(default_factory=list)
    warnings: list[Issue] = Field(default_factory=list)
    fixes: list[str] = Field(default_factory=list)


class SubmitRequest(Model):
    claim: Claim
    attempt: int = Field(ge=1, description="1 for the first submission; part of the idempotency key")
    submitted_at: datetime
    interchange_control_number: int | None = Field(
        default=None,
        ge=1,
        le=999_999_999,
        description="ISA13 the workflow reserved (RESERVE_INTERCHANGE) before the upload, so every retry "
        "sends the same interchange; None (a workflow from before): reserved by the activity under its key",
    )


def submission_key(patient_control_number: str, attempt: int) -> str:
    """The key of one submission attempt: its idempotency key and its control number's reservation."""
    return f"{patient_control_number}-{attempt}"


class SubmitReceipt(Model):
    submission_id: str
    interchange_control_number: int
    duplicate: bool = Field(default=False, description="the clearinghouse had it already")


class StatusRequest(Model):
    claim: Claim
    trace_number: str
    payer_claim_number: str | None = None


class PostingRequest(Model):
    claim_id: str
    payment: ClaimPayment
    trace_number: str
    payer_id: str | None
    payment_date: date | None
    actor: str = "claimflow"


class PostingOutcome(Model):
    posted: bool = Field(description="False when this payment was already in the ledger")
    paid: Money = ZERO
    patient_responsibility: Money = ZERO
    adjusted: Money = ZERO


class PatientPaymentPosting(Model):
    """A patient payment for the ledger, with the claim it pays (the ledger learns a claim that never
    went to a payer, a self-pay visit, from it)."""

    claim: Claim
    amount: Money
    actor: str
    reference: str = Field(description="the receipt id, or the Update's id: one reference posts once")


class StatementRequest(Model):
    claim: Claim
    notice: str = Field(pattern=r"^(first|reminder|final)$")
    billed: Money
    insurance_paid: Money
    adjusted: Money
    amount_due: Money
    patient_paid: Money = ZERO
    statement_date: date
    due_date: date


class RoutingReport(Model):
    """What the inbox did with one file."""

    file_id: str
    kind: str
    routed: int = 0
    unmatched: int = 0
    ignored: int = Field(default=0, description="results no claim acts on (a 277's pending status)")
    acknowledged: bool = False
    problem: str | None = None


class TimelyFilingLetterRequest(Model):
    """A reconsideration letter for a claim the payer has not accepted, near its filing deadline."""

    claim: Claim
    payer: PayerProfile
    proof: TimelyFilingProof
    deadline: date
    letter_date: date
