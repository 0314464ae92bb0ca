"""Results from payers and clearinghouses, as events routed to the claim they concern: one model per
kind of result (`PayerEvent` is their union on `kind`), each with exactly its own fields."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from claimflow.claims.remittance import ClaimPayment
from claimflow.claims.responses import ClaimStatusDetail
from claimflow.claims.variants import Variant


class EventKind(StrEnum):
    ACK_999 = "999"
    CLAIM_ACK_277CA = "277ca"
    REMITTANCE_835 = "835"
    APPEAL_DECISION = "appeal_decision"


class _Event(Variant):
    """`event_id` is derived from the content, so a redelivered file yields the same id and the
    claim applies it once."""

    event_id: str
    file_id: str
    received_at: datetime
    payer_id: str | None = None


class Ack999(_Event):
    """The clearinghouse's syntax acknowledgement of the claim's transaction set."""

    kind: Literal[EventKind.ACK_999] = EventKind.ACK_999
    ack_status: str = Field(description="999 IK5: A, E or R")
    ack_errors: list[str] = Field(default_factory=list, description="999 IK3/IK4, as text")


class ClaimAck277CA(_Event):
    """The payer's claim-level acceptance or rejection at the front door."""

    kind: Literal[EventKind.CLAIM_ACK_277CA] = EventKind.CLAIM_ACK_277CA
    claim_status: ClaimStatusDetail


class Remittance835(_Event):
    """One claim payment (CLP loop) of an 835, with its remittance's trace number and date."""

    kind: Literal[EventKind.REMITTANCE_835] = EventKind.REMITTANCE_835
    payment: ClaimPayment
    trace_number: str | None = Field(default=None, description="835 TRN02")
    payment_date: date | None = None


class AppealNotice(_Event):
    """The payer's decision on an appeal, as the notice said it."""

    kind: Literal[EventKind.APPEAL_DECISION] = EventKind.APPEAL_DECISION
    notice: dict[str, str]


PayerEvent = Annotated[Ack999 | ClaimAck277CA | Remittance835 | AppealNotice, Field(discriminator="kind")]
"""A result from the payer or clearinghouse, routed to its claim by the inbox workflow."""
