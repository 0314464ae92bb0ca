"""Submission and status inquiry: 837 and 276 out through the clearinghouse."""

from __future__ import annotations

import asyncio

from temporalio import activity

from claimflow.activities import catalog
from claimflow.activities.requests import StatusRequest, SubmitReceipt, SubmitRequest, submission_key
from claimflow.claims.claim import ClaimStatusInquiry
from claimflow.claims.responses import ClaimStatus
from claimflow.claims.x12 import read_277, write_276, write_837
from claimflow.integrations.envelopes import EnvelopeFactory
from claimflow.integrations.ledger import Ledger, X12Archive
from claimflow.integrations.ledger.exchanges import SENT
from claimflow.integrations.metrics import SUBMISSIONS
from claimflow.integrations.transport import Transport


class SubmissionActivities:
    def __init__(
        self,
        clearinghouse: Transport,
        ledger: Ledger,
        envelopes: EnvelopeFactory,
        archive: X12Archive | None = None,
    ) -> None:
        """`archive`: where each 837 sent is kept, sealed, for the console's claim page (None: not kept)."""
        self._clearinghouse = clearinghouse
        self._ledger = ledger
        self._envelopes = envelopes
        self._archive = archive

    @activity.defn(name=catalog.RESERVE_INTERCHANGE.name)
    async def reserve_interchange(self, key: str) -> int:
        """The interchange control number of a submission attempt, chosen once and kept in the ledger."""
        return await asyncio.to_thread(self._envelopes.reserve, key)

    @activity.defn(name=catalog.SUBMIT_CLAIM.name)
    async def submit_claim(self, request: SubmitRequest) -> SubmitReceipt:
        """Record the charges, then send the 837. The interchange is rebuilt from the request alone
        (its reserved number, its submission time), so a retried activity sends the same bytes; the
        idempotency key (claim and attempt) and the interchange's own name make the clearinghouse
        return its first receipt instead of taking a second claim."""
        claim = request.claim
        await asyncio.to_thread(self._ledger.record_charges, claim, "claimflow")
        key = submission_key(claim.patient_control_number, request.attempt)
        number = request.interchange_control_number
        if number is None:
            number = await asyncio.to_thread(self._envelopes.reserve, key)
        envelope = self._envelopes.numbered(number, request.submitted_at)
        # Before sending: the 999 names the interchange's GS06, not the claim, and it can reach the
        # inbox before this activity hears back (or its answer is lost and the activity retried): the
        # inbox must already know which claim the interchange carried, or the 999 goes unmatched and
        # the claim waits for it forever. A retry records nothing twice (same key, same number).
        await asyncio.to_thread(
            self._ledger.record_submission, claim.patient_control_number, envelope.group_control_number, key
        )
        interchange = write_837([claim], envelope)
        if self._archive is not None:  # kept once under the key (a retry sends the same bytes)
            await asyncio.to_thread(
                self._archive.keep, SENT, "837", key, interchange, [claim.patient_control_number]
            )
        receipt = await self._clearinghouse.submit_claims(interchange, idempotency_key=key)
        SUBMISSIONS.labels("duplicate" if receipt.duplicate else "accepted").inc()
        return SubmitReceipt(
            submission_id=receipt.submission_id,
            interchange_control_number=envelope.interchange_control_number,
            duplicate=receipt.duplicate,
        )

    @activity.defn(name=catalog.INQUIRE_CLAIM_STATUS.name)
    async def inquire_claim_status(self, request: StatusRequest) -> ClaimStatus:
        inquiry = ClaimStatusInquiry.for_claim(
            request.claim, request.trace_number, request.payer_claim_number
        )
        answer = await self._clearinghouse.claim_status(
            write_276(inquiry, await asyncio.to_thread(self._envelopes.next))
        )
        statuses = read_277(answer)
        return statuses[0] if statuses else ClaimStatus(trace_number=request.trace_number)
