"""The typed inputs and outputs of the underpayment activities (find them, write the appeal letter)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from claimflow.claims.claim import Claim
from claimflow.claims.encounter import Model
from claimflow.claims.money import Money
from claimflow.claims.remittance import ClaimPayment
from claimflow.claims.underpayment import Underpayment


class UnderpaymentRequest(Model):
    """Check one 835 claim payment against the billed payer's contract."""

    claim: Claim = Field(description="the claim as the payer was billed (its lines match the 835's)")
    payment: ClaimPayment
    payer_id: str
    corrected_rates: dict[int, Money] = Field(
        default_factory=dict, description="line number -> the contract rate a person corrected"
    )


class Underpayments(Model):
    findings: list[Underpayment] = Field(default_factory=list)
    has_contract: bool = Field(description="False: the payer has no contract on file, nothing was checked")


class UnderpaymentLetterRequest(Model):
    claim: Claim
    payment: ClaimPayment
    findings: list[Underpayment] = Field(min_length=1)
    letter_date: date
    remittance_date: date | None = None
    task_id: str = Field(description="names the file")
