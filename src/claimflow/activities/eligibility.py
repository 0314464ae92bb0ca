"""Eligibility: a 270 to the payer through the clearinghouse, the 271 read back."""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.exceptions import ApplicationError

from claimflow.activities import catalog
from claimflow.activities.requests import EligibilityRequest
from claimflow.claims.claim import EligibilityInquiry
from claimflow.claims.responses import EligibilityResult
from claimflow.claims.x12 import read_271, write_270
from claimflow.integrations.envelopes import EnvelopeFactory
from claimflow.integrations.transport import Transport


class EligibilityActivities:
    def __init__(self, clearinghouse: Transport, envelopes: EnvelopeFactory) -> None:
        self._clearinghouse = clearinghouse
        self._envelopes = envelopes

    @activity.defn(name=catalog.CHECK_ELIGIBILITY.name)
    async def check_eligibility(self, request: EligibilityRequest) -> EligibilityResult:
        inquiry = EligibilityInquiry.for_encounter(request.encounter, request.trace_number)
        answer = await self._clearinghouse.check_eligibility(
            write_270(inquiry, await asyncio.to_thread(self._envelopes.next))
        )
        results = read_271(answer)
        if not results:
            raise ApplicationError("the 271 held no eligibility answer", type="EmptyEligibilityAnswer")
        result = results[0]
        if any(rejection.retryable for rejection in result.rejections):
            # AAA 42 "unable to respond now": a retryable error, so Temporal asks again later.
            raise ApplicationError("payer cannot answer now (AAA 42); asking again", type="PayerBusy")
        return result
