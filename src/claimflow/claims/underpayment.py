"""Underpayments: an 835 line allowed below the payer's contract.

When a remittance posts, every paid line's allowed amount (AMT*B6, or the charge less the payer's
reductions when the payer leaves AMT*B6 out) is compared with what the contract allows for that
service on that day: the contracted rate times the units, or the charge when that is lower (payers
allow the lesser of the two). A shortfall beyond the contract's tolerance is an underpayment; a
denied line is a denial, not an underpayment, and a reversal (CLP02 22) is compared by the
re-adjudication that follows it. Pure: contract, claim and payment in, findings out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from pydantic import Field

from claimflow.claims.claim import Claim
from claimflow.claims.contracts import Contract, PosClass, pos_class
from claimflow.claims.coordination import match_lines
from claimflow.claims.encounter import Model
from claimflow.claims.money import ZERO, Money, money_sum
from claimflow.claims.remittance import AdjustmentGroup, ClaimPayment, ClaimStatusCode, ServicePayment

AFTER_ALLOWED = frozenset({"23", "253"})
"""Reductions taken from the allowed amount after it was set (the prior payer's payment, Medicare
sequestration): an allowed amount derived from the adjustments adds them back."""


class Underpayment(Model):
    """One line allowed below the contract: what a person checks before appealing."""

    payer_id: str
    line_number: int = Field(ge=1, description="the claim's service line (LX)")
    procedure_code: str
    modifiers: list[str] = Field(default_factory=list)
    service_date: date
    units: Decimal
    contract_rate: Money = Field(description="contracted allowed amount per unit")
    expected: Money = Field(description="contracted allowed amount for the line")
    allowed: Money = Field(description="what the payer allowed")
    paid: Money
    shortfall: Money
    contract_line: str = Field(description="the contract row, as a person reads it")
    payer_claim_number: str | None = None

    @property
    def key(self) -> str:
        """Identifies the line across re-adjudications of the same claim."""
        return f"line-{self.line_number}"

    def summary(self) -> str:
        code = self.procedure_code + "".join(f"-{m}" for m in self.modifiers)
        return (
            f"line {self.line_number} {code}: allowed ${self.allowed}, contract ${self.expected} "
            f"(${self.contract_rate} x {self.units.normalize()}), short ${self.shortfall}"
        )


def line_allowed(line: ServicePayment) -> Money | None:
    """The payer's allowed amount for a line: AMT*B6, else the charge less its contractual and other
    reductions (the patient's share is part of the allowed amount); None for a line allowed nothing."""
    if line.allowed_amount is not None:
        return line.allowed_amount
    reductions = money_sum(
        a.amount
        for a in line.adjustments
        if a.group is not AdjustmentGroup.PATIENT_RESPONSIBILITY and a.reason not in AFTER_ALLOWED
    )
    allowed = line.charge - reductions
    return allowed if allowed > ZERO else None


def find_underpayments(claim: Claim, payment: ClaimPayment, contract: Contract) -> list[Underpayment]:
    """Every line of `payment` (the 835's answer to `claim`) allowed below `contract` beyond its
    tolerance, in line order. Lines the contract does not price, denied lines and reversals give none."""
    if payment.status in {ClaimStatusCode.REVERSAL, ClaimStatusCode.DENIED, ClaimStatusCode.NOT_OUR_CLAIM}:
        return []
    encounter = claim.encounter
    found: list[Underpayment] = []
    for number, line in match_lines(claim, payment.service_lines):
        billed = encounter.service_lines[number - 1]
        allowed = line_allowed(line)
        if allowed is None or line.charge <= ZERO:
            continue
        place = (
            PosClass.FACILITY
            if encounter.institutional is not None
            else pos_class(billed.place_of_service or encounter.place_of_service)
        )
        modifiers = line.submitted_modifiers or line.modifiers or billed.modifiers
        on = line.service_date or billed.service_date
        priced = contract.unit_rate(billed.procedure_code, modifiers, place, on)
        if priced is None:
            continue
        rate, row = priced
        units = line.units or billed.units
        expected = min(line.charge, (rate * units).quantize(Decimal("0.01")))
        shortfall = expected - allowed
        if shortfall <= ZERO or contract.allows_shortfall(expected, shortfall):
            continue
        found.append(
            Underpayment(
                payer_id=contract.payer_id,
                line_number=number,
                procedure_code=billed.procedure_code,
                modifiers=list(modifiers),
                service_date=on,
                units=units,
                contract_rate=rate,
                expected=expected,
                allowed=allowed,
                paid=line.paid,
                shortfall=shortfall,
                contract_line=contract.describe(row),
                payer_claim_number=payment.payer_claim_number,
            )
        )
    return found


def total_shortfall(found: Sequence[Underpayment]) -> Money:
    return money_sum(u.shortfall for u in found)
