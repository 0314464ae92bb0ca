"""Appeal activities: render the letter (HTML and PDF under the documents folder) and send it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from temporalio import activity

from claimflow.activities import catalog
from claimflow.activities.appeal_requests import (
    AppealLetter,
    AppealLetterRequest,
    AppealSendRequest,
    AppealSent,
)
from claimflow.activities.rendering import render_off_loop, save_letter
from claimflow.claims.appeals import AppealLetterRef
from claimflow.claims.denials import classify
from claimflow.integrations.transport import Transport
from claimflow.letters.appeal import render_appeal
from claimflow.letters.appeal_packet import AppealPacket, build_appeal
from claimflow.letters.practice import Practice


class AppealActivities:
    def __init__(
        self, clearinghouse: Transport, documents_dir: Path, billing_phone: str = "800-555-0100"
    ) -> None:
        self._clearinghouse = clearinghouse
        self._documents_dir = documents_dir
        self._billing_phone = billing_phone

    @activity.defn(name=catalog.RENDER_APPEAL_LETTER.name)
    async def render_appeal_letter(self, request: AppealLetterRequest) -> AppealLetter:
        """Write the letter as HTML and PDF; the same request writes the same files (safe to retry)."""
        claim = request.claim
        packet = AppealPacket(
            claim=claim,
            payment=request.payment,
            assessment=classify(request.payment),
            payer=request.payer,
            category=request.category,
            level=request.level,
            practice=Practice.from_provider(claim.encounter.billing_provider, phone=self._billing_phone),
            letter_date=request.letter_date,
            remittance_date=request.remittance_date,
            proof=request.proof,
            argument=request.argument,
            enclosures=request.enclosures,
        )
        # Missing evidence or invalid data: no retry mends it (activities/failures.py), a person
        # adds what is missing or withdraws the appeal.
        data = build_appeal(packet)
        letter = await render_off_loop(render_appeal, data)
        target = (
            self._documents_dir
            / "appeals"
            / f"{request.appeal_id}-L{request.level.level}-r{request.revision}.pdf"
        )
        await save_letter(letter, target)
        return AppealLetter(
            ref=AppealLetterRef(
                level=request.level.level,
                revision=request.revision,
                pdf_path=str(target),
                html_path=str(target.with_suffix(".html")),
            ),
            argument=data.argument,
            amount_in_dispute=data.amount_in_dispute,
        )

    @activity.defn(name=catalog.SEND_APPEAL.name)
    async def send_appeal(self, request: AppealSendRequest) -> AppealSent:
        """Send the letter to the payer's appeals endpoint. The idempotency key (appeal, level,
        revision, attempt) makes a retried activity get the first receipt, not a second appeal."""
        letter = await asyncio.to_thread(Path(request.letter.html_path).read_text, encoding="utf-8")
        key = f"{request.appeal_id}-L{request.letter.level}-r{request.letter.revision}-{request.attempt}"
        receipt = await self._clearinghouse.send_appeal(
            letter,
            idempotency_key=key,
            payer_claim_number=request.payer_claim_number,
            patient_control_number=request.patient_control_number,
        )
        return AppealSent(
            clearinghouse_appeal_id=receipt.appeal_id,
            decision_due=receipt.decision_due,
            duplicate=receipt.duplicate,
        )
