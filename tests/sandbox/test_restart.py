"""A real sandbox process (uvicorn) killed in the middle of a batch and started again on the same
database: no submission and no file is lost, and no claim is taken twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from claimflow.claims.x12 import read_277ca, read_835, write_837
from claimflow.integrations.clearinghouse import ClearinghouseClient, TransientClearinghouseError
from tests.factories import ClaimFactory
from tests.ports import free_port
from tests.sandbox.helpers import MEMBERS, Line, assert_balanced, assert_valid_x12, claim, envelope

pytestmark = pytest.mark.slow


class SandboxProcess:
    def __init__(self, db: Path, port: int) -> None:
        self.db, self.port = db, port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "claimflow.console.main", "sandbox",
                   "--port", str(self.port), "--db", str(self.db), "--seed", "3"]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"the sandbox did not start: {self.stop()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as when the machine loses power."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> str:
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        errors = self.process.stderr.read().decode() if self.process.stderr else ""
        self.process = None
        return errors


async def test_killed_mid_batch_loses_no_claim_and_no_file(tmp_path: Path) -> None:
    factory = ClaimFactory(8)
    payers = list(MEMBERS)
    claims = [claim(factory, [Line("99214", "190.00")], payer_id=payers[i % 5], pcn=f"RST-{i:03d}")
              for i in range(60)]  # fmt: skip
    sandbox = SandboxProcess(tmp_path / "sandbox.db", free_port())
    sandbox.start()
    receipts: dict[str, str] = {}
    at_kill: list[int] = []
    try:
        async with ClearinghouseClient(sandbox.url, timeout=5, max_attempts=40, backoff=0.05,
                                       max_backoff=0.5) as client:  # fmt: skip

            async def submit(index: int) -> None:
                text = write_837([claims[index]], envelope(500 + index))
                key = f"{claims[index].patient_control_number}-1"
                for _ in range(10):  # the activity's retry policy: keep the key, try again
                    try:
                        receipt = await client.submit_claims(text, idempotency_key=key)
                    except TransientClearinghouseError:
                        continue
                    receipts[claims[index].patient_control_number] = receipt.submission_id
                    return
                raise AssertionError(f"{key}: the sandbox never came back")

            async def restart_midway() -> None:
                while len(receipts) < 20:
                    await asyncio.sleep(0.01)
                await asyncio.to_thread(sandbox.kill)
                at_kill.append(len(receipts))
                await asyncio.sleep(0.3)
                await asyncio.to_thread(sandbox.start)

            gate = asyncio.Semaphore(4)

            async def gated(index: int) -> None:
                async with gate:
                    await submit(index)

            await asyncio.gather(restart_midway(), *(gated(i) for i in range(60)))
            assert len(receipts) == 60 and at_kill[0] < 60  # the kill came in the middle of the batch

            stats = httpx.get(f"{sandbox.url}/admin/stats").json()
            assert stats["claims_received"] == {c.patient_control_number: 1 for c in claims}
            assert stats["submissions"] == 60

            httpx.post(f"{sandbox.url}/admin/advance", json={"days": 30})
            files: dict[str, list[str]] = {}
            for entry in await client.list_inbox():
                files.setdefault(entry.kind, []).append(await client.fetch(entry.id))
    finally:
        sandbox.stop()
    assert len(files["999"]) == 60
    for texts in files.values():
        assert_valid_x12("".join(texts))
    acknowledged = {
        c.patient_control_number: c for t in files["277CA"] for a in read_277ca(t) for c in a.claims
    }
    assert set(acknowledged) == set(receipts)
    remitted = [c.patient_control_number for t in files["835"] for r in read_835(t) for c in r.claims]
    for text in files["835"]:
        for remittance in read_835(text):
            assert_balanced(remittance)
    accepted = {pcn for pcn, detail in acknowledged.items() if detail.primary.accepted}
    assert sorted(remitted) == sorted(accepted)  # the shipped payers' noise rejects a few at the front door
