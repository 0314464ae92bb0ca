"""Coordination of benefits on a claim: the other payers an 837 names (loops 2320/2330) and what
each of them already decided (2320 CAS and AMT*D, 2430 SVD/CAS/DTP*573)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from claimflow.claims.encounter import Coverage, Model
from claimflow.claims.money import Money, money_sum
from claimflow.claims.remittance import Adjustment, AdjustmentGroup


class PayerResponsibility(StrEnum):
    """SBR01: where a payer stands in the order of coverages."""

    PRIMARY = "P"
    SECONDARY = "S"
    TERTIARY = "T"

    @classmethod
    def at(cls, position: int) -> PayerResponsibility:
        """The responsibility of the coverage at `position` (0 primary) in the encounter's order."""
        order = list(cls)
        if not 0 <= position < len(order):
            raise ValueError(
                f"coverage position {position} is beyond tertiary: claimflow bills at most "
                f"{len(order)} payers in order"
            )
        return order[position]

    @property
    def position(self) -> int:
        return list(PayerResponsibility).index(self)


class LineAdjudication(Model):
    """Loop 2430: how an earlier payer decided one service line of this claim."""

    line_number: int = Field(ge=1, description="the LX of the line on this claim")
    procedure_code: str = Field(pattern=r"^[A-Z0-9]{5}$")
    modifiers: list[str] = Field(default_factory=list, max_length=4)
    revenue_code: str | None = Field(default=None, pattern=r"^\d{4}$", description="837I lines")
    paid: Money = Field(description="SVD02")
    paid_units: Decimal = Field(gt=0, description="SVD05 (837P) / SVD05 (837I)")
    adjustments: list[Adjustment] = Field(default_factory=list, description="2430 CAS")
    adjudicated_on: date = Field(description="DTP*573")

    def adjusted(self, group: AdjustmentGroup | None = None) -> Money:
        return money_sum(a.amount for a in self.adjustments if group is None or a.group is group)


class PriorAdjudication(Model):
    """What an earlier payer paid and adjusted: its 835 claim, restated in the next payer's 837."""

    paid: Money = Field(description="2320 AMT*D")
    adjustments: list[Adjustment] = Field(default_factory=list, description="2320 claim-level CAS")
    adjudicated_on: date = Field(description="2330B DTP*573")
    payer_claim_number: str | None = Field(default=None, max_length=50, description="2330B REF*F8")
    lines: list[LineAdjudication] = Field(default_factory=list)

    def line(self, number: int) -> LineAdjudication | None:
        return next((line for line in self.lines if line.line_number == number), None)

    @property
    def patient_responsibility(self) -> Money:
        """What this payer left to the patient (PR at claim and line level)."""
        group = AdjustmentGroup.PATIENT_RESPONSIBILITY
        return money_sum(a.amount for a in self.adjustments if a.group is group) + money_sum(
            line.adjusted(group) for line in self.lines
        )


class OtherPayer(Model):
    """One 2320/2330 loop set: a payer other than the one billed, and its decision once it made one."""

    coverage: Coverage
    responsibility: PayerResponsibility
    adjudication: PriorAdjudication | None = Field(
        default=None, description="absent for a payer that has not decided the claim (a later one)"
    )
