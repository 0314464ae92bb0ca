"""The claim page's X12 on real pieces: the worker's real activities on the dev server, the payer
sandbox as its own process, a SQLite ledger. A paid claim's page carries the 837 it sent and the
999, 277CA and 835 it received, the ERA by service line with each CAS group, reason and its
published description, and each file's text (a segment per line) opened on demand; the ledger holds
the text sealed (no patient's name in the database file); a signed-out request sees none of it."""

from __future__ import annotations

import asyncio
import contextlib
import html
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import async_playwright, expect
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.carc import carc_text
from claimflow.claims.lifecycle import ClaimInput, ClaimSnapshot, ClaimState
from claimflow.claims.x12 import read_835
from claimflow.integrations.ledger.exchanges import RECEIVED, SENT, KeptX12, X12Archive
from claimflow.integrations.ledger.users import UserStore
from claimflow.integrations.sandbox.scenarios import Trouble, scenario_batch
from claimflow.integrations.settings import Settings
from claimflow.workers.worker import INBOX_SCHEDULE_ID, claimflow_worker, ensure_inbox_schedule
from claimflow.workflows.claim import ClaimWorkflow
from tests.console.web.conftest import PASSWORD, Console, make_console
from tests.e2e.conftest import SandboxProcess, sandbox  # noqa: F401  (fixture)
from tests.workflows.conftest import TEST_KEYS

pytestmark = pytest.mark.asyncio(loop_scope="session")

PAID = {ClaimState.PATIENT_BILLING, ClaimState.CLOSED}


async def test_a_paid_claims_page_shows_its_837_and_835_with_the_era_by_line(
    dev_env: WorkflowEnvironment,
    sandbox: SandboxProcess,  # noqa: F811
    ledger_url: str,
    users: UserStore,
    tmp_path: Path,
) -> None:
    client = dev_env.client
    settings = Settings(
        temporal_address=client.service_client.config.target_host,
        temporal_task_queue=f"x12-{uuid.uuid4().hex[:8]}",
        home=tmp_path,
        database_url=ledger_url,
        clearinghouse_url=sandbox.url,
        keys=TEST_KEYS.encoded(),  # the worker seals with the keys the console opens with
    )
    batch = scenario_batch(12, today=datetime.now(UTC).date(), seed=7, prefix=f"X12{uuid.uuid4().hex[:4]}")
    clean = next(s for s in batch if s.kind is Trouble.CLEAN and not s.encounter.other_coverages)
    pcn = clean.encounter.encounter_id
    console, close = make_console(dev_env, ledger_url, users, tmp_path)
    archive = console.data.x12 = X12Archive(ledger_url, TEST_KEYS)
    try:
        async with claimflow_worker(client, settings):
            await ensure_inbox_schedule(client, settings, every=timedelta(seconds=1))
            handle = await client.start_workflow(
                ClaimWorkflow.run,
                ClaimInput(encounter=clean.encounter),
                id=f"claim-{pcn}",
                task_queue=settings.temporal_task_queue,
            )
            snapshot = await paid(handle)
            assert snapshot.paid > 0
            kept = await wait_for_835(archive, pcn)
            # the claim page asks the claim's workflow, so the worker keeps polling while it is read
            # (the earlier version left this block first: the query found "no poller seen")
            texts = {x.file_id: archive.text(x.file_id, pcn) for x in kept}

            # what the ledger kept is what went out and came in: the 837 with this claim, its 835
            sent = [x for x in kept if x.direction == SENT]
            received = [x for x in kept if x.direction == RECEIVED and x.kind == "835"]
            assert [x.kind for x in sent] == ["837"] and f"CLM*{pcn}*" in texts[sent[0].file_id]
            era = [
                c
                for r in read_835(texts[received[0].file_id])
                for c in r.claims
                if c.patient_control_number == pcn
            ]
            assert era and era[0].paid == snapshot.paid
            line = era[0].service_lines[0]
            assert line.adjustments, "the sandbox's 835 adjusts the first line (the contract's allowed)"
            cas = line.adjustments[0]
            # sealed at rest: the 837's claim and patient segments are not in the ledger's files
            segments = [part.strip() for part in texts[sent[0].file_id].split("~")]
            patient = next(s for s in segments if s.startswith(("NM1*QC*", "NM1*IL*")))
            database = Path(ledger_url.removeprefix("sqlite:///"))
            raw = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
            assert patient.encode() not in raw and f"CLM*{pcn}*".encode() not in raw

            amy = await console.as_user("amy")
            page = await amy.http.get(f"/claims/claim-{pcn}")
            assert page.status_code == 200
            text = html.unescape(page.text)
            assert "X12 exchanged" in text
            assert {"837", "999", "835"} <= {x.kind for x in kept}
            for x in kept:
                assert f"/claims/claim-{pcn}/x12/{x.file_id}" in page.text
            # the ERA by line: the service line with its charge, paid and CAS group, reason and words
            assert 'class="era-line"' in page.text and line.procedure_code in text
            assert f"{cas.group.value}-{cas.reason}" in text
            assert carc_text(cas.reason) in text
            assert f"${line.charge:,.2f}" in text and f"${line.paid:,.2f}" in text
            assert "accepted" in text  # the 999's and the 277CA's word
            if any(x.kind == "277CA" for x in kept):  # its STC category and status code in words
                assert 'class="ack-meanings"' in page.text and "Acknowledgement/" in text
            # the text is not in the page until asked for: then a segment per line, and audited
            assert f"CLP*{pcn}*" not in text and f"CLM*{pcn}*" not in text
            fragment = await amy.http.get(
                f"/claims/claim-{pcn}/x12/{received[0].file_id}", headers={"hx-request": "true"}
            )
            assert fragment.status_code == 200 and '<pre class="x12">' in fragment.text
            lines = html.unescape(fragment.text).splitlines()
            assert any(segment.startswith(f"CLP*{pcn}*") for segment in lines)
            assert not [s for s in lines if s.startswith("CLP*") and not s.startswith(f"CLP*{pcn}*")]
            plain = await amy.http.get(f"/claims/claim-{pcn}/x12/{sent[0].file_id}")
            assert plain.headers["content-type"].startswith("text/plain")
            assert any(s.startswith(f"CLM*{pcn}*") for s in plain.text.splitlines())
            viewed = [e for e in console.ledger.audit() if e.action == "x12_viewed" and e.actor == "amy"]
            assert len(viewed) == 2
            # another claim's file through this claim's page: refused
            other = await amy.http.get(f"/claims/claim-{pcn}/x12/{max(x.file_id for x in kept) + 1000}")
            assert other.status_code == 404

            # signed out: sent to the login page, no X12 in the answer; htmx gets a 401
            for path in (f"/claims/claim-{pcn}", f"/claims/claim-{pcn}/x12/{received[0].file_id}"):
                anonymous = await console.app.get(path)
                assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
                assert f"CLP*{pcn}" not in anonymous.text and f"CLM*{pcn}" not in anonymous.text
                htmx = await console.app.get(path, headers={"hx-request": "true"})
                assert htmx.status_code == 401 and f"CLP*{pcn}" not in htmx.text
            assert (await amy.post("/logout")).status_code == 303
            after = await amy.http.get(f"/claims/claim-{pcn}/x12/{received[0].file_id}")
            assert after.status_code == 303 and f"CLP*{pcn}" not in after.text

            # in real Chromium: the ERA table, and the 835's text opened in place by its summary
            await in_chromium(console, f"/claims/claim-{pcn}", pcn, received[0].file_id, tmp_path / "screens")
    finally:
        archive.close()
        close()
        await leave_no_work_behind(dev_env, f"claim-{pcn}")


async def leave_no_work_behind(dev_env: WorkflowEnvironment, claim_id: str) -> None:
    """The dev server is the session's: its claim and inbox Schedule, on a task queue nobody polls
    once this test is over, would leave later tests' listings waiting on them."""
    with contextlib.suppress(RPCError):
        await dev_env.client.get_workflow_handle(claim_id).terminate("test over")
    with contextlib.suppress(RPCError):
        await dev_env.client.get_schedule_handle(INBOX_SCHEDULE_ID).delete()
    with contextlib.suppress(RPCError):
        await dev_env.client.get_workflow_handle("claimflow-inbox-run").terminate("test over")


async def in_chromium(console: Console, path: str, pcn: str, file_id: int, screens: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is missing: scripts/chromium installs it")
    screens.mkdir()
    server = uvicorn.Server(
        uvicorn.Config(console.asgi, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium)
            page = await (
                await browser.new_context(
                    base_url=f"http://127.0.0.1:{port}", viewport={"width": 1280, "height": 900}
                )
            ).new_page()
            await page.goto(path)
            await page.fill("input[name=username]", "amy")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await expect(page.locator("h1")).to_contain_text(f"claim-{pcn}")
            await expect(page.locator("#x12 table.era tr.era-line").first).to_be_visible()
            block = page.locator(f"details.x12-text[hx-get$='/x12/{file_id}']")
            await expect(block.locator("pre.x12")).to_have_count(0)  # not fetched until opened
            await block.locator("summary").click()
            await expect(block.locator("pre.x12")).to_contain_text(f"CLP*{pcn}*")
            await page.locator("#x12").screenshot(path=str(screens / "claim-x12.png"))
            await page.screenshot(path=str(screens / "claim-page.png"), full_page=True)
            await browser.close()
    finally:
        server.should_exit = True
        await serving


async def paid(handle: object) -> ClaimSnapshot:
    deadline = asyncio.get_running_loop().time() + 120
    while True:
        snapshot: ClaimSnapshot = await handle.query(  # type: ignore[attr-defined]
            ClaimWorkflow.state, rpc_timeout=timedelta(seconds=30)
        )
        if snapshot.state in PAID:
            return snapshot
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{snapshot.claim_id} is {snapshot.state}: {snapshot.timeline[-6:]}")
        await asyncio.sleep(0.5)


async def wait_for_835(archive: X12Archive, pcn: str) -> list[KeptX12]:
    for _ in range(100):
        kept = archive.files_of(pcn)
        if any(x.kind == "835" for x in kept):
            return kept
        await asyncio.sleep(0.1)
    raise AssertionError(f"no 835 kept for {pcn}")
