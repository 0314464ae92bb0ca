"""The typed inputs and outputs of the appeal activities (render the letter, send it)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from claimflow.claims.appeals import AppealLetterRef, TimelyFilingProof
from claimflow.claims.claim import Claim
from claimflow.claims.denials import LetterCategory
from claimflow.claims.encounter import Model
from claimflow.claims.money import Money
from claimflow.claims.payers import AppealLevel, PayerProfile
from claimflow.claims.remittance import ClaimPayment


class AppealLetterRequest(Model):
    appeal_id: str = Field(description="the AppealWorkflow's id; names the files")
    claim: Claim
    payer: PayerProfile
    payment: ClaimPayment
    category: LetterCategory
    level: AppealLevel
    revision: int = Field(ge=1, description="1 for the draft; each edit renders a new revision")
    letter_date: date
    remittance_date: date
    proof: TimelyFilingProof = Field(default_factory=TimelyFilingProof)
    argument: list[str] | None = Field(default=None, description="the biller's paragraphs; None: the draft")
    enclosures: list[str] = Field(default_factory=list)


class AppealLetter(Model):
    """A rendered letter: where its files are, and the argument it carries (for the review task)."""

    ref: AppealLetterRef
    argument: list[str]
    amount_in_dispute: Money


class AppealSendRequest(Model):
    appeal_id: str
    letter: AppealLetterRef
    attempt: int = Field(default=1, ge=1, description="part of the idempotency key: a resend is a new appeal")
    payer_claim_number: str | None = None
    patient_control_number: str


class AppealSent(Model):
    clearinghouse_appeal_id: str
    decision_due: datetime
    duplicate: bool = False
