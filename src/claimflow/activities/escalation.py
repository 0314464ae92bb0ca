"""The reconsideration letter for a claim near its timely-filing deadline and not yet accepted."""

from __future__ import annotations

from pathlib import Path

from temporalio import activity

from claimflow.activities import catalog
from claimflow.activities.rendering import render_off_loop, save_letter
from claimflow.activities.requests import TimelyFilingLetterRequest
from claimflow.letters.appeal import AppealCategory, AppealData, render_appeal
from claimflow.letters.appeal_packet import filing_proof
from claimflow.letters.practice import Practice


class EscalationActivities:
    def __init__(self, documents_dir: Path, billing_phone: str = "800-555-0100") -> None:
        self._documents_dir = documents_dir
        self._billing_phone = billing_phone

    @activity.defn(name=catalog.WRITE_TIMELY_FILING_LETTER.name)
    async def write_timely_filing_letter(self, request: TimelyFilingLetterRequest) -> str:
        """Write the letter (HTML and PDF) and return the PDF's path; "" when the claim was never
        sent, since then there is nothing to prove and the task says to submit it instead."""
        proof = request.proof
        if proof.submitted_at is None and not proof.has_proof:
            return ""
        claim = request.claim
        data = AppealData.for_claim(
            claim,
            None,
            category=AppealCategory.TIMELY_FILING,
            practice=Practice.from_provider(claim.encounter.billing_provider, phone=self._billing_phone),
            letter_date=request.letter_date,
            enclosures=["Clearinghouse acceptance report (999)", "Payer acknowledgement (277CA), if any"],
            signer_name="Billing Office",
            filing_proof=filing_proof(claim, request.payer, proof),
            payer_claim_number=proof.payer_claim_number,
        )
        letter = await render_off_loop(render_appeal, data)
        days_left = (request.deadline - request.letter_date).days
        target = (
            self._documents_dir / "letters" / f"{claim.encounter.encounter_id}-timely-filing-T{days_left}.pdf"
        )
        await save_letter(letter, target)
        return str(target)
