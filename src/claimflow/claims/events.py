"""Results from payers and clearinghouses, as events routed to the claim they concern."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from claimflow.claims.encounter import Model
from claimflow.claims.remittance import ClaimPayment
from claimflow.claims.responses import ClaimStatusDetail


class EventKind(StrEnum):
    ACK_999 = "999"
    CLAIM_ACK_277CA = "277ca"
    REMITTANCE_835 = "835"
    APPEAL_DECISION = "appeal_decision"


class PayerEvent(Model):
    """A result from the payer or clearinghouse, routed to its claim by the inbox workflow.

    `event_id` is derived from the content, so a redelivered file yields the same id and the
    claim applies it once."""

    event_id: str
    kind: EventKind
    file_id: str
    received_at: datetime
    ack_status: str | None = Field(default=None, description="999 IK5: A, E or R")
    ack_errors: list[str] = Field(default_factory=list, description="999 IK3/IK4, as text")
    claim_status: ClaimStatusDetail | None = Field(default=None, description="277CA")
    payment: ClaimPayment | None = Field(default=None, description="835 CLP loop")
    trace_number: str | None = Field(default=None, description="835 TRN02")
    payer_id: str | None = None
    payment_date: date | None = None
    notice: dict[str, str] | None = Field(default=None, description="an appeal decision notice, as sent")
