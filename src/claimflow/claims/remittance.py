"""An 835: what the payer paid, adjusted and why."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from claimflow.claims.encounter import Address, Model
from claimflow.claims.money import ZERO, Money, money_sum


class AdjustmentGroup(StrEnum):
    """CAS01."""

    CONTRACTUAL = "CO"
    OTHER = "OA"
    PAYER_INITIATED = "PI"
    PATIENT_RESPONSIBILITY = "PR"
    CORRECTION_REVERSAL = "CR"
    """4010 only: real 5010 files still carry it on reversals, so the reader must accept it."""


class ClaimStatusCode(StrEnum):
    """CLP02."""

    PRIMARY = "1"
    SECONDARY = "2"
    TERTIARY = "3"
    DENIED = "4"
    PRIMARY_FORWARDED = "19"
    SECONDARY_FORWARDED = "20"
    TERTIARY_FORWARDED = "21"
    REVERSAL = "22"
    NOT_OUR_CLAIM = "23"
    PREDETERMINATION = "25"


class Adjustment(Model):
    """One reason/amount triple of a CAS segment."""

    group: AdjustmentGroup
    reason: str = Field(pattern=r"^[A-Z0-9]{1,5}$", description="CARC")
    amount: Money
    quantity: Decimal | None = None


class ServicePayment(Model):
    """An SVC loop (2110)."""

    procedure_code: str
    qualifier: str = Field(default="HC", description="SVC01-1: HC, NU (revenue code)..")
    modifiers: list[str] = Field(default_factory=list)
    charge: Money
    paid: Money
    revenue_code: str | None = None
    units: Decimal | None = None
    original_units: Decimal | None = None
    service_date: date | None = None
    submitted_procedure_code: str | None = Field(
        default=None, description="SVC06-2: the code billed, when the payer adjudicated another"
    )
    submitted_modifiers: list[str] = Field(default_factory=list, description="SVC06-3..6")
    line_control_number: str | None = Field(default=None, description="REF*6R")
    allowed_amount: Money | None = Field(default=None, description="AMT*B6")
    adjustments: list[Adjustment] = Field(default_factory=list)
    remarks: list[str] = Field(default_factory=list, description="LQ*HE RARCs")

    @property
    def adjusted(self) -> Money:
        return money_sum(adjustment.amount for adjustment in self.adjustments)


class ClaimPayment(Model):
    """A CLP loop (2100)."""

    patient_control_number: str
    status: ClaimStatusCode
    charge: Money
    paid: Money
    patient_responsibility: Money | None = None
    filing_indicator: str | None = None
    payer_claim_number: str | None = None
    facility_type: str | None = None
    frequency: str | None = None
    drg: str | None = None
    adjustments: list[Adjustment] = Field(default_factory=list, description="claim-level CAS")
    service_lines: list[ServicePayment] = Field(default_factory=list)
    remarks: list[str] = Field(default_factory=list, description="MOA/MIA remark codes")
    patient_last_name: str | None = None
    patient_first_name: str | None = None
    member_id: str | None = None
    service_date: date | None = None
    received_date: date | None = Field(default=None, description="DTM*050")

    @property
    def all_adjustments(self) -> list[Adjustment]:
        """Claim-level and line-level adjustments together."""
        return self.adjustments + [a for line in self.service_lines for a in line.adjustments]

    def adjusted(self, group: AdjustmentGroup | None = None) -> Money:
        return money_sum(a.amount for a in self.all_adjustments if group is None or a.group is group)


class ProviderAdjustment(Model):
    """One reason/amount pair of a PLB segment; positive amounts reduce the payment."""

    provider_id: str
    fiscal_period_end: date | None = None
    reason: str = Field(description="PLB03-1, e.g. WO overpayment recovery, L6 interest")
    reference: str | None = None
    amount: Money


class Party(Model):
    name: str
    id: str | None = None
    id_qualifier: str | None = None
    address: Address | None = Field(default=None, description="N3/N4; the 835 requires the payer's")
    contact_name: str | None = Field(default=None, description="PER02 of the payer's technical contact")
    contact_phone: str | None = Field(default=None, description="PER*BL telephone, required for the payer")


class BankAccount(Model):
    """One side of an electronic funds transfer (BPR06-09 sender, BPR12-15 receiver)."""

    routing_number: str = Field(pattern=r"^[0-9]{3,12}$", description="ABA routing (DFI) number")
    account_number: str = Field(min_length=1, max_length=35)


class BalancingLevel(StrEnum):
    LINE = "line"
    CLAIM = "claim"
    FILE = "file"


class BalancingFinding(Model):
    """An 835 that does not add up: reported, never a reason to refuse the file."""

    level: BalancingLevel
    patient_control_number: str | None = None
    line_number: int | None = None
    expected: Money
    actual: Money
    message: str


class Remittance(Model):
    """One 835 transaction set."""

    control_number: str | None = Field(default=None, description="ST02")
    payment_amount: Money = Field(description="BPR02")
    credit_debit: str = Field(default="C", description="BPR03")
    payment_method: str = Field(default="ACH", description="BPR04: ACH, CHK, NON..")
    payment_date: date | None = Field(default=None, description="BPR16")
    trace_number: str = Field(description="TRN02: check or EFT number")
    payer_identifier: str | None = Field(default=None, description="TRN03")
    production_date: date | None = Field(default=None, description="DTM*405")
    payer: Party
    payee: Party
    payer_account: BankAccount | None = Field(default=None, description="BPR06-09, required for ACH")
    payee_account: BankAccount | None = Field(default=None, description="BPR12-15, required for ACH")
    claims: list[ClaimPayment] = Field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = Field(default_factory=list)
    findings: list[BalancingFinding] = Field(default_factory=list)

    @property
    def payer_id(self) -> str | None:
        return self.payer.id or self.payer_identifier

    @property
    def provider_adjusted(self) -> Money:
        return money_sum(p.amount for p in self.provider_adjustments) if self.provider_adjustments else ZERO
