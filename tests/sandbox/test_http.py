"""The sandbox over HTTP through the clearinghouse client, in process (httpx.ASGITransport)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from claimflow.claims.claim import ClaimStatusInquiry, EligibilityInquiry
from claimflow.claims.remittance import ClaimStatusCode
from claimflow.claims.x12 import read_277ca, read_835, write_837
from claimflow.claims.x12.eligibility import read_271, write_270
from claimflow.claims.x12.status import read_277, write_276
from claimflow.integrations.clearinghouse import ClearinghouseClient, PermanentClearinghouseError
from claimflow.integrations.sandbox.app import create_app
from claimflow.integrations.sandbox.engine import Sandbox
from claimflow.integrations.sandbox.store import Store
from tests.factories import ClaimFactory
from tests.sandbox.helpers import (
    MEMBERS,
    FakeClock,
    Line,
    assert_balanced,
    assert_valid_x12,
    claim,
    envelope,
    quiet_config,
)


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


def client_for(sandbox: Sandbox, max_attempts: int = 12) -> ClearinghouseClient:
    return ClearinghouseClient(
        "http://sandbox.test",
        max_attempts=max_attempts,
        backoff=0.01,
        transport=httpx.ASGITransport(app=create_app(sandbox)),
        sleep=_no_wait,
    )


@pytest.fixture
async def faulty(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, FakeClock]]:
    """30% of requests fail: 20% with a 5xx (half after the work was done), 10% with a 429; 5% are
    slow; 30% of inbox files are delivered twice."""
    clock = FakeClock()
    config = quiet_config(
        error_rate=0.2, throttle_rate=0.1, retry_after_seconds=0, slow_rate=0.05, slow_seconds=0.01,
        duplicate_delivery_rate=0.3,
    )  # fmt: skip
    store = Store(tmp_path / "sandbox.db")
    yield Sandbox(config, store, clock=clock), clock
    store.close()


@pytest.mark.slow
async def test_200_claims_through_30_percent_faults_arrive_exactly_once(
    faulty: tuple[Sandbox, FakeClock],
) -> None:
    sandbox, clock = faulty
    factory = ClaimFactory(5)
    payer_ids = list(MEMBERS)
    claims = [
        claim(factory, [Line("99213", "140.00")], payer_id=payer_ids[i % 5], pcn=f"BATCH-{i:03d}")
        for i in range(200)
    ]
    gate = asyncio.Semaphore(8)
    async with client_for(sandbox) as client:

        async def submit(index: int) -> None:
            async with gate:
                text = write_837([claims[index]], envelope(1000 + index))
                await client.submit_claims(text, idempotency_key=f"{claims[index].patient_control_number}-1")

        await asyncio.gather(*(submit(i) for i in range(200)))
        stats = sandbox.stats()
        assert stats["claims_received"] == {c.patient_control_number: 1 for c in claims}
        assert stats["idempotent_replays"] > 0  # some answers were lost after the work was done

        clock.tick(4000)
        seen: set[str] = set()
        deliveries = 0
        texts: dict[str, list[str]] = {}
        paid: dict[str, int] = {}
        accepted: set[str] = set()
        for entry in await client.list_inbox():
            text = await client.fetch(entry.id)
            deliveries += 1
            digest = hashlib.sha256(text.encode()).hexdigest()
            if digest not in seen:  # a redelivered file is the same file: apply it once
                seen.add(digest)
                texts.setdefault(entry.kind, []).append(text)
                if entry.kind == "277CA":
                    accepted |= {c.patient_control_number for a in read_277ca(text) for c in a.claims}
                if entry.kind == "835":
                    for remittance in read_835(text):
                        assert_balanced(remittance)
                        for payment in remittance.claims:
                            paid[payment.patient_control_number] = (
                                paid.get(payment.patient_control_number, 0) + 1
                            )
            await client.acknowledge(entry.id)
        assert await client.list_inbox() == []
        assert deliveries > len(seen)  # some files were delivered twice
    for files in texts.values():  # pyx12 reads many interchanges in one stream, much faster
        assert_valid_x12("".join(files))
    assert sorted(texts) == ["277CA", "835", "999"]
    every = {c.patient_control_number for c in claims}
    assert accepted == every
    assert paid == {pcn: 1 for pcn in every}


async def test_idempotent_submission_over_http_gives_one_claim_and_one_835(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    text = write_837([claim(factory, [Line("99213")], pcn="HTTP-1")], envelope(3))
    async with client_for(sandbox) as client:
        first = await client.submit_claims(text, idempotency_key="HTTP-1-1")
        second = await client.submit_claims(text, idempotency_key="HTTP-1-1")
        assert second.duplicate and second.submission_id == first.submission_id
        clock.tick(4000)
        kinds = [entry.kind for entry in await client.list_inbox()]
        assert sorted(kinds) == ["277CA", "835", "999"]
        (remit_entry,) = [e for e in await client.list_inbox() if e.kind == "835"]
        (remittance,) = read_835(await client.fetch(remit_entry.id))
        assert [c.patient_control_number for c in remittance.claims] == ["HTTP-1"]
        assert remittance.claims[0].status is ClaimStatusCode.PRIMARY
    assert sandbox.stats()["claims_received"] == {"HTTP-1": 1}


async def test_refusals_are_permanent_errors_with_the_reason(sandbox: Sandbox, factory: ClaimFactory) -> None:
    async with client_for(sandbox, max_attempts=2) as client:
        with pytest.raises(PermanentClearinghouseError, match="not an X12 837 interchange"):
            await client.submit_claims("hello", idempotency_key="k")
        text = write_837([claim(factory, [Line("99213")])], envelope(4))
        await client.submit_claims(text, idempotency_key="k2")
        other = write_837([claim(factory, [Line("99214")])], envelope(5))
        with pytest.raises(PermanentClearinghouseError, match="used for different claims"):
            await client.submit_claims(other, idempotency_key="k2")
        with pytest.raises(PermanentClearinghouseError, match="no inbox file F99999999"):
            await client.acknowledge("F99999999")


async def test_admin_advance_moves_the_clock_and_releases_the_835(
    sandbox: Sandbox, factory: ClaimFactory
) -> None:
    transport = httpx.ASGITransport(app=create_app(sandbox))
    async with httpx.AsyncClient(base_url="http://sandbox.test", transport=transport) as http:
        text = write_837([claim(factory, [Line("99213")], pcn="ADV-1")], envelope(6))
        response = await http.post("/claims", content=text, headers={"Idempotency-Key": "adv"})
        assert response.status_code == 202
        assert (await http.post("/admin/advance", json={"days": 1})).status_code == 200
        assert (await http.get("/admin/clock")).json()["offset_seconds"] == 86400
        kinds = sorted(f["kind"] for f in (await http.get("/inbox")).json()["files"])
        assert kinds == ["277CA", "835", "999"]
        stats = (await http.get("/admin/stats")).json()
        assert stats["claims_received"] == {"ADV-1": 1}
        faults = (await http.post("/admin/faults", json={"error_rate": 0.5})).json()
        assert faults["error_rate"] == 0.5
        bad = await http.post("/admin/faults", json={"error_rate": 2})
        assert bad.status_code == 422 and "error_rate" in bad.json()["error"]


async def test_fault_injection_answers_429_with_retry_after_and_5xx_but_spares_admin(
    sandbox: Sandbox,
) -> None:
    transport = httpx.ASGITransport(app=create_app(sandbox))
    async with httpx.AsyncClient(base_url="http://sandbox.test", transport=transport) as http:
        await http.post("/admin/faults", json={"throttle_rate": 1.0, "retry_after_seconds": 3})
        throttled = await http.get("/inbox")
        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
        assert (await http.get("/admin/stats")).status_code == 200
        await http.post("/admin/faults", json={"throttle_rate": 0.0, "error_rate": 1.0})
        assert (await http.get("/inbox")).status_code in (500, 502, 503)
        assert (await http.get("/health")).status_code == 200
        await http.post("/admin/faults", json={"error_rate": 0.0})
        assert (await http.get("/inbox")).status_code == 200
        assert (await http.get("/admin/stats")).json()["faults_injected"] == 2


async def test_eligibility_status_and_appeal_through_the_client(
    sandbox: Sandbox, clock: FakeClock, factory: ClaimFactory
) -> None:
    sent = claim(factory, [Line("80053", "48.00"), Line("80048", "40.00")], payer_id="SMPMCD", pcn="CLI-1")
    async with client_for(sandbox) as client:
        inquiry = EligibilityInquiry.for_encounter(sent.encounter, "ELIG1")
        (coverage,) = read_271(await client.check_eligibility(write_270(inquiry, envelope(60))))
        assert coverage.active and coverage.copay == Decimal("4.00")
        await client.submit_claims(write_837([sent], envelope(61)), idempotency_key="CLI-1-1")
        clock.tick(4000)
        status_inquiry = ClaimStatusInquiry.for_claim(sent, "STAT1")
        (status,) = read_277(await client.claim_status(write_276(status_inquiry, envelope(62))))
        number = status.claims[0].payer_claim_number
        assert status.claims[0].primary.category == "F1" and number
        receipt = await client.send_appeal(
            "The panels were separate and distinct draws.", payer_claim_number=number, idempotency_key="ap-1"
        )
        assert receipt.payer_claim_number == number and not receipt.duplicate
        again = await client.send_appeal("x", patient_control_number="CLI-1", idempotency_key="ap-1")
        assert again.duplicate and again.appeal_id == receipt.appeal_id
        clock.tick(7200)
        entries = await client.list_inbox()
        assert [entry.kind for entry in entries] == ["999", "277CA", "835", "835"]
        (decision,) = read_835(await client.fetch(entries[-1].id))
    reversal, repaid = decision.claims
    assert reversal.status is ClaimStatusCode.REVERSAL and reversal.payer_claim_number == number
    assert [line.paid > 0 for line in repaid.service_lines] == [True, True]  # CO-97 overturned
