"""Posting: an 835's claim payment into the ledger, and patient payments."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio import activity

from claimflow.activities import catalog
from claimflow.activities.requests import PatientPaymentPosting, PostingOutcome, PostingRequest
from claimflow.claims.money import ZERO
from claimflow.integrations.ledger import Ledger, RemittanceRef
from claimflow.integrations.metrics import REMITTANCE_POSTINGS


class PostingActivities:
    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    @activity.defn(name=catalog.POST_PAYMENT.name)
    async def post_payment(self, request: PostingRequest) -> PostingOutcome:
        """Idempotent: a redelivered 835 finds its posting and posts nothing twice."""
        ref = RemittanceRef(
            trace_number=request.trace_number, payment_date=request.payment_date, payer_id=request.payer_id
        )
        result = await asyncio.to_thread(self._ledger.post_remittance, request.payment, ref, request.actor)
        REMITTANCE_POSTINGS.labels("posted" if result.posted else "already_posted").inc()
        adjusted = sum((amount for group, amount in result.adjustments.items() if group != "PR"), ZERO)
        return PostingOutcome(
            posted=result.posted,
            paid=result.paid,
            patient_responsibility=result.patient_responsibility,
            adjusted=adjusted,
        )

    @activity.defn(name=catalog.RECORD_PATIENT_PAYMENT.name)
    async def record_patient_payment(self, request: PatientPaymentPosting) -> None:
        """Idempotent by reference. The charges are recorded first (a no-op for a claim the ledger
        has), so a self-pay claim that never went to a payer can take its payment too."""
        await asyncio.to_thread(self._ledger.record_charges, request.claim, request.actor)
        await asyncio.to_thread(
            self._ledger.record_patient_payment,
            request.claim.patient_control_number,
            request.amount,
            datetime.now(UTC).date(),
            request.reference,
            request.actor,
        )
