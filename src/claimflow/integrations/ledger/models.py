"""What the ledger answers with: pydantic models that travel as activity results."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from claimflow.claims.money import ZERO, Money
from claimflow.claims.remittance import Remittance


class LedgerModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LedgerClaimState(StrEnum):
    """The claim's standing in the books (the workflow's own lifecycle state is richer)."""

    BILLED = "billed"
    PAID = "paid"
    DENIED = "denied"
    REVERSED = "reversed"
    ADJUDICATED = "adjudicated"
    CLOSED = "closed"


class RemittanceRef(LedgerModel):
    """The 835-level facts a posting needs, so an activity need not carry the whole remittance."""

    trace_number: str = Field(min_length=1, max_length=50, description="TRN02")
    payment_date: date | None = Field(default=None, description="BPR16")
    payer_id: str | None = None

    @classmethod
    def of(cls, remittance: Remittance) -> RemittanceRef:
        return cls(
            trace_number=remittance.trace_number,
            payment_date=remittance.payment_date,
            payer_id=remittance.payer_id,
        )


class Balance(LedgerModel):
    """One claim's account. Adjustment amounts are keyed by group (CO, PR, OA, PI).

    insurance_balance: billed but not yet paid or adjusted by the payer.
    patient_due: patient responsibility (PR) not yet paid by the patient.
    outstanding: everything still to collect, insurance_balance + patient_due.
    """

    patient_control_number: str
    state: LedgerClaimState
    charges: Money
    paid: Money
    adjustments: dict[str, Money] = Field(default_factory=dict)
    patient_responsibility: Money = ZERO
    patient_paid: Money = ZERO
    patient_due: Money = ZERO
    insurance_balance: Money = ZERO
    outstanding: Money = ZERO


class PostingResult(LedgerModel):
    """What one claim occurrence of an 835 did to the books. `posted` is False for a redelivery,
    in which case the amounts are those of the earlier posting."""

    patient_control_number: str
    trace_number: str
    occurrence: str = Field(description="payer claim number + ':' + CLP02")
    posted: bool
    paid: Money
    adjustments: dict[str, Money] = Field(default_factory=dict)
    patient_responsibility: Money = ZERO
    balance: Balance


class LedgerTotals(LedgerModel):
    """Sums over every claim (or those billed to one payer now) for reports: the sums of the claims'
    balances. Charges count once per claim; `paid` is every payer's payments; adjustments (by group
    and by group-CARC) and patient responsibility are each claim's standing decision, so under
    coordination of benefits the last payer's restatement, not every payer's 835 added up."""

    claims: int
    payments: int
    charges: Money
    paid: Money
    paid_by_payer: dict[str, Money] = Field(
        default_factory=dict, description="what each payer paid, by the payer id of its 835s"
    )
    adjustments: dict[str, Money] = Field(default_factory=dict)
    adjustments_by_reason: dict[str, Money] = Field(default_factory=dict, description="e.g. 'CO-45'")
    posted_adjustments: dict[str, Money] = Field(
        default_factory=dict,
        description="every 835's adjustments by group as posted (an earlier payer's restated ones too): "
        "what reconciles the books with the 835s received",
    )
    patient_responsibility: Money = ZERO
    patient_paid: Money = ZERO
    outstanding: Money = ZERO


class AuditEntry(LedgerModel):
    at: datetime
    actor: str
    action: str
    patient_control_number: str | None
    details: dict[str, Any]
