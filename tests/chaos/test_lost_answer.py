"""Found by the chaos test: the sandbox took a submission, its answer was lost on the way back, and
its 999 (which names the interchange's GS06, not the claim) reached the inbox before the retried
activity had told the ledger which claim that interchange carried: the 999 went unmatched and the
claim waited for it forever. The ledger now learns it before the 837 is sent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from claimflow.activities.requests import SubmitRequest
from claimflow.activities.submission import SubmissionActivities
from claimflow.claims.x12 import read_999
from claimflow.integrations.clearinghouse import TransientClearinghouseError
from claimflow.integrations.envelopes import EnvelopeFactory
from claimflow.integrations.ledger import InterchangeRegistry, Ledger
from claimflow.integrations.sandbox.app import create_app
from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from claimflow.integrations.transport.http import HttpTransport
from tests.factories import ClaimFactory
from tests.sandbox.helpers import FakeClock, Line, claim, quiet_config


class AnswerLost(httpx.AsyncBaseTransport):
    """The real sandbox does the work; the first answer to a submission never arrives."""

    def __init__(self, app: httpx.AsyncBaseTransport) -> None:
        self.app = app
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.app.handle_async_request(request)
        if request.url.path == "/claims" and not self.lost:
            self.lost += 1
            await response.aread()
            raise httpx.ReadError("connection reset by peer", request=request)
        return response


async def test_the_ledger_knows_the_interchange_before_the_answer_comes(tmp_path: Path) -> None:
    sandbox = Sandbox(quiet_config(), Store(tmp_path / "s.db"), clock=FakeClock())
    network = AnswerLost(httpx.ASGITransport(app=create_app(sandbox)))
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(url)
    registry = InterchangeRegistry(url)
    clearinghouse = HttpTransport("http://sandbox", transport=network)
    activities = SubmissionActivities(clearinghouse, ledger, EnvelopeFactory(registry=registry))
    billed = claim(ClaimFactory(3), [Line("99213", "120.00")], pcn="LOST-ANSWER-1")
    request = SubmitRequest(claim=billed, attempt=1, submitted_at=datetime(2026, 12, 4, 15, tzinfo=UTC))
    try:
        with pytest.raises(TransientClearinghouseError):
            await activities.submit_claim(request)
        # the sandbox took it and its 999 is already in the inbox: the inbox can route it now
        inbox = await clearinghouse.list_inbox()
        acks = [read_999(await clearinghouse.fetch(f.id)) for f in inbox if f.kind == "999"]
        assert acks, inbox
        group = acks[0][0].group_control_number
        assert ledger.claims_for_submission(str(group)) == ["LOST-ANSWER-1"]
        # the retried activity gets the first receipt, and nothing is recorded twice
        receipt = await activities.submit_claim(request)
        assert receipt.duplicate
        assert ledger.claims_for_submission(str(group)) == ["LOST-ANSWER-1"]
    finally:
        await clearinghouse.aclose()
        registry.close()
        ledger.close()
