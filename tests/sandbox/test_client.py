"""The clearinghouse client's retry policy and typed errors, against scripted answers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from claimflow.integrations.clearinghouse import (
    ClearinghouseClient,
    PermanentClearinghouseError,
    TransientClearinghouseError,
)

RECEIPT = {
    "submission_id": "S00000001",
    "claims": 1,
    "accepted": True,
    "acknowledgement_file_id": "F00000001",
    "received_at": "2026-11-02T09:00:00+00:00",
    "duplicate": False,
}


class Script:
    """Answers requests in order from a list; records what was asked and every sleep."""

    def __init__(self, answers: list[Callable[[httpx.Request], httpx.Response]]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers[len(self.requests) - 1](request)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def client(self, max_attempts: int = 4) -> ClearinghouseClient:
        return ClearinghouseClient(
            "http://sandbox.test",
            max_attempts=max_attempts,
            backoff=1.0,
            transport=httpx.MockTransport(self.handle),
            sleep=self.sleep,
        )


def status(
    code: int, headers: dict[str, str] | None = None, body: object = None
) -> Callable[..., httpx.Response]:
    return lambda request: httpx.Response(code, headers=headers, json=body or {"error": f"status {code}"})


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def test_5xx_and_connection_errors_are_retried_with_growing_backoff() -> None:
    script = Script([status(503), refused, status(502), status(202, body=RECEIPT)])
    async with script.client() as client:
        receipt = await client.submit_claims("ISA...", idempotency_key="PCN1-1")
    assert receipt.submission_id == "S00000001" and not receipt.duplicate
    assert len(script.requests) == 4
    assert all(r.headers["Idempotency-Key"] == "PCN1-1" for r in script.requests)
    assert all(r.headers["Content-Type"] == "application/edi-x12" for r in script.requests)
    first, second, third = script.sleeps
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0 and 2.0 <= third <= 4.0  # equal jitter


def timed_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("no answer in time", request=request)


async def test_a_timeout_is_retried() -> None:
    script = Script([timed_out, lambda request: httpx.Response(200, text="ISA*277")])
    async with script.client() as client:
        assert await client.claim_status("ISA*276") == "ISA*277"
    assert len(script.requests) == 2


async def test_429_retry_after_is_honoured() -> None:
    script = Script([status(429, {"Retry-After": "7"}), lambda request: httpx.Response(200, text="ISA*271")])
    async with script.client() as client:
        assert await client.check_eligibility("ISA*270") == "ISA*271"
    assert script.sleeps == [7.0]


async def test_attempts_run_out_as_a_transient_error() -> None:
    script = Script([status(500)] * 3)
    async with script.client(max_attempts=3) as client:
        with pytest.raises(TransientClearinghouseError, match=r"after 3 attempts.*HTTP 500"):
            await client.claim_status("ISA*276")
    assert len(script.sleeps) == 2


async def test_a_refusal_is_permanent_and_carries_the_message_at_once() -> None:
    script = Script([status(400, body={"error": "the body is not a readable 270: no ISA segment"})])
    async with script.client() as client:
        with pytest.raises(PermanentClearinghouseError, match="no ISA segment") as caught:
            await client.check_eligibility("nonsense")
    assert caught.value.status == 400 and script.sleeps == []


async def test_inbox_calls() -> None:
    listing = {"files": [{"id": "F1", "kind": "835", "created_at": "2026-11-02T09:00:00+00:00",
                          "media_type": "application/edi-x12", "size": 10}]}  # fmt: skip
    script = Script([
        status(200, body=listing),
        lambda request: httpx.Response(200, text="ISA*835"),
        status(200, body={"id": "F1", "acknowledged": True}),
        status(404, body={"error": "no inbox file F9"}),
    ])  # fmt: skip
    async with script.client() as client:
        (entry,) = await client.list_inbox()
        assert (entry.id, entry.kind) == ("F1", "835")
        assert await client.fetch("F1") == "ISA*835"
        await client.acknowledge("F1")
        with pytest.raises(PermanentClearinghouseError, match="no inbox file F9"):
            await client.fetch("F9")
    assert [r.url.path for r in script.requests] == ["/inbox", "/inbox/F1", "/inbox/F1/ack", "/inbox/F9"]


async def test_submissions_need_a_key() -> None:
    async with Script([]).client() as client:
        with pytest.raises(ValueError, match="idempotency key"):
            await client.submit_claims("ISA", idempotency_key=" ")
