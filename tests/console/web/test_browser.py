"""The web console in real Chromium (Debian's, driven by Playwright; no browser is downloaded), served
by uvicorn on the loopback against the dev server's claims: a biller works one task of each kind the
scripted payer can raise to the claim's next step and watches the claim page follow; a manager
approves a write-off the biller was refused and reads a dashboard that agrees with the ledger and the
workflows. Every page visited is saved as a PNG under the test's tmp_path (screens/)."""

from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright, expect
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.encounter import Encounter
from claimflow.claims.intake_hold import HeldIntake
from claimflow.claims.lifecycle import ClaimState
from claimflow.claims.payers import default_directory
from claimflow.claims.roles import Role
from claimflow.claims.tasks import UnmatchedItem
from claimflow.console.web.data import QueueFilter
from claimflow.integrations.fhir import read_file
from claimflow.integrations.ledger.users import UserStore
from claimflow.workflows import search_attributes as sa
from claimflow.workflows.claim import ClaimWorkflow
from claimflow.workflows.exceptions import ExceptionsWorkflow
from tests.console.conftest import TASK_QUEUE
from tests.console.test_commands import inactive, today, uncoded, zero_charge
from tests.console.web.conftest import PASSWORD, Console, start_write_off_approval, started, task_of
from tests.fhir.make_defect_corpus import OUT as DEFECTS
from tests.workflows.scripted import ack_277ca, ack_999, encounter, remittance

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.slow]

BILLER, OTHER_BILLER, MANAGER = "bea", "ben", "max"
"""Names no other test uses: the dev server's claims are shared by the session, while each test has
its own ledger, so what the dashboard counts for these people is what this test's ledger recorded."""


@dataclass
class Screens:
    folder: Path
    count: int = 0

    async def shot(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is missing: scripts/chromium installs it")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium)
        yield launched
        await launched.close()


@pytest.fixture
async def base_url(console: Console, users: UserStore) -> AsyncIterator[str]:
    """The console served by uvicorn on a free loopback port, with this test's biller and manager."""
    users.add(BILLER, "Bea Biller", Role.BILLER, by="tests", password=PASSWORD)
    users.add(OTHER_BILLER, "Ben Biller", Role.BILLER, by="tests", password=PASSWORD)
    users.add(MANAGER, "Max Manager", Role.MANAGER, by="tests", password=PASSWORD)
    server = uvicorn.Server(
        uvicorn.Config(console.asgi, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


@pytest.fixture
def screens(tmp_path: Path) -> Screens:
    folder = tmp_path / "screens"
    folder.mkdir()
    return Screens(folder)


async def logged_in(browser: Browser, base_url: str, username: str, screens: Screens) -> Page:
    page = await (
        await browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    ).new_page()
    await page.goto("/queue")
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Fqueue"))
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    if screens.count == 0:
        await screens.shot(page, "login")
    await page.click("button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/queue$"))
    await expect(page.locator("header .who")).to_contain_text(username)
    return page


async def state_of(console: Console, claim_id: str) -> ClaimState:
    return (await console.data.claim(claim_id)).state


async def until_state(console: Console, claim_id: str, state: ClaimState, seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.1)):
        if await state_of(console, claim_id) is state:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{claim_id} never reached {state}; it is {await state_of(console, claim_id)}")


@dataclass
class Case:
    """One kind of task: how to raise it, and the form a biller fills to resolve it."""

    kind: str
    action: str
    raise_it: Callable[[Console, WorkflowEnvironment], Awaitable[tuple[str, str]]]
    """returns (the claim's workflow id, the task's owner: the claim, its appeal or the exceptions)"""
    fields: Callable[[], dict[str, str]] = dict


async def submitted(console: Console, enc: Encounter) -> str:
    claim_id = await started(console, enc)
    await until_state(console, claim_id, ClaimState.SUBMITTED)
    return claim_id


async def raise_coverage(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    claim_id = await started(console, inactive(401))
    return claim_id, claim_id


async def raise_coding(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    claim_id = await started(console, uncoded(402))
    return claim_id, claim_id


async def raise_scrub(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    claim_id = await started(console, zero_charge(403))
    return claim_id, claim_id


async def raise_rejection(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    enc = encounter(today(), 404)
    claim_id = await submitted(console, enc)
    handle = env.client.get_workflow_handle_for(ClaimWorkflow.run, claim_id)
    await handle.signal(ClaimWorkflow.payer_event, ack_999())
    await handle.signal(ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id, category="A7", code="21"))
    return claim_id, claim_id


async def denied(console: Console, env: WorkflowEnvironment, seed: int, carc: str) -> tuple[str, Encounter]:
    enc = encounter(today(), seed)
    claim_id = await submitted(console, enc)
    handle = env.client.get_workflow_handle_for(ClaimWorkflow.run, claim_id)
    await handle.signal(ClaimWorkflow.payer_event, ack_999())
    await handle.signal(ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id))
    await until_state(console, claim_id, ClaimState.ACCEPTED)
    await handle.signal(ClaimWorkflow.payer_event, remittance(enc, denied_with=carc))
    return claim_id, enc


async def raise_denial(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    claim_id, _ = await denied(console, env, 405, "16")
    return claim_id, claim_id


async def raise_appeal_review(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    claim_id, enc = await denied(console, env, 406, "50")
    return claim_id, f"appeal-{enc.encounter_id}-1"


async def raise_filing_risk(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    """A visit from long ago, filed 10 days before its payer's limit: the 14-day warning is due at once
    while the claim waits for its 999."""
    base = encounter(today(), 408)
    limit = default_directory().profile_for(base.coverage.payer_id, base.coverage.filing_indicator)
    visit = today() - timedelta(days=limit.timely_filing_days - 10)
    lines = [line.model_copy(update={"service_date": visit}) for line in base.service_lines]
    dates = {"service_date": visit, "statement_from": visit, "statement_to": visit}
    late = base.model_copy(update={"service_lines": lines, **dates})
    claim_id = await submitted(console, late)
    return claim_id, claim_id


async def raise_intake_hold(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    """A FHIR document that cannot become a claim (the defect corpus's, no subscriber id): held at
    intake, under an id of its own so the session's other holds do not meet it."""
    path = DEFECTS / "defect-04-intake-coverage-subscriber-id.json"
    read = read_file(path)
    held = HeldIntake(
        encounter_id=f"held-{uuid.uuid4().hex[:12]}", findings=read.findings, document=path.read_text()
    )
    outcome = await console.data.claims.intake(held)  # as the console's intake holds a document
    assert outcome.started
    return outcome.claim_id, outcome.claim_id


UNMATCHED_FILE = f"835-browser-{uuid.uuid4().hex[:8]}"


async def raise_unmatched(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    await env.client.start_workflow(
        ExceptionsWorkflow.run,
        id="claim-exceptions",
        task_queue=TASK_QUEUE,
        start_signal="unmatched",
        start_signal_args=[
            UnmatchedItem(file_id=UNMATCHED_FILE, kind="835", reason="CLP01 matches no claim")
        ],
    )
    return "claim-exceptions", "claim-exceptions"


def coded_lines() -> dict[str, str]:
    lines = encounter(today(), 402).service_lines
    return {
        "diagnoses": "E119",
        "service_lines": "[" + ",".join(line.model_dump_json() for line in lines) + "]",
    }


CASES = [
    Case("coverage_issue", "self_pay", raise_coverage),
    Case("coding", "codes", raise_coding, coded_lines),
    Case(
        "scrub_failure",
        "override",
        raise_scrub,
        lambda: {"reason": "no-charge visit agreed with the provider"},
    ),
    Case("payer_rejection", "resubmit", raise_rejection),
    Case("denial", "correct", raise_denial),  # the prefilled encounter, sent back as a corrected claim
    Case("appeal_review", "approve", raise_appeal_review),
    # a warning: acknowledged, the claim goes on waiting for the payer in the state it was in
    Case("timely_filing_risk", "acknowledge", raise_filing_risk),
    Case(
        "fix_intake",
        "write_off",
        raise_intake_hold,
        lambda: {"reason": "a duplicate of a visit billed already"},
    ),
    Case("unmatched_remittance", "write_off", raise_unmatched, lambda: {"reason": "a test file, not ours"}),
]


STAYS = {"appeal_review", "timely_filing_risk"}
"""Kinds whose resolution leaves the claim in its state: the appeal decides, a warning is owned."""


async def exceptions_task(console: Console) -> str:
    for _ in range(200):
        await console.data.reload()
        for item in await console.data.queue(QueueFilter(), "nobody"):
            if item.row.claim_id == "claim-exceptions" and UNMATCHED_FILE in " ".join(item.task.details):
                return item.task.id
        await asyncio.sleep(0.1)
    raise AssertionError(f"the unmatched {UNMATCHED_FILE} was never listed")


async def test_a_biller_works_one_task_of_each_kind_and_the_claim_page_follows(
    console: Console, dev_env: WorkflowEnvironment, browser: Browser, base_url: str, screens: Screens
) -> None:
    raised = await asyncio.gather(*(case.raise_it(console, dev_env) for case in CASES))
    tasks = {}
    for case, (claim_id, owner) in zip(CASES, raised, strict=True):
        if owner == "claim-exceptions":
            tasks[case.kind] = (claim_id, await exceptions_task(console))
        else:
            tasks[case.kind] = (claim_id, await task_of(console, owner, case.kind))

    page = await logged_in(browser, base_url, BILLER, screens)
    await screens.shot(page, "queue")
    # the filters and the Claim button swap parts of the page in place: no full reload
    await page.evaluate("window.stillTheSamePage = true")
    await page.select_option("select[name=kind]", "coverage_issue")
    coverage_task = tasks["coverage_issue"][1]
    row = page.locator(f"#row-{coverage_task.replace(':', '-')}")
    await expect(row).to_be_visible()
    await expect(page.locator("table.queue tbody tr")).to_have_count(
        len(
            [
                i
                for i in await console.data.queue(QueueFilter(), BILLER)
                if i.task.kind.value == "coverage_issue"
            ]
        )
    )
    await expect(page).to_have_url(re.compile(r"kind=coverage_issue"))
    await row.locator("button", has_text="Claim").click()
    await expect(row.locator(".holder")).to_have_text(BILLER)
    assert await page.evaluate("window.stillTheSamePage") is True
    await screens.shot(page, "queue-claimed")

    for case in CASES:
        claim_id, task_id = tasks[case.kind]
        is_claim = claim_id != "claim-exceptions"
        before = await state_of(console, claim_id) if is_claim else None
        await page.goto(f"/tasks/{task_id}")
        await expect(page.locator("h1")).to_contain_text(case.kind.replace("_", " ").capitalize())
        await screens.shot(page, f"task-{case.kind}")
        form = page.locator(f"form.action[data-action={case.action}]")
        for field, value in case.fields().items():
            await form.locator(f"[name={field}]").fill(value)
        await form.locator("button[type=submit]").click()
        if not is_claim:
            await expect(page).to_have_url(re.compile(re.escape(f"/tasks/{task_id}")))
            await expect(page.locator(".summary")).to_contain_text(f"resolved by {BILLER}")
            await screens.shot(page, f"resolved-{case.kind}")
            continue
        await expect(page).to_have_url(re.compile(re.escape(f"/claims/{claim_id}?resolved={task_id}")))
        await expect(page.locator("#resolved")).to_contain_text(task_id)
        # the claim moves on in its workflow; the page shows it at the next look
        for _ in range(100):
            now = await state_of(console, claim_id)
            if now is not before or case.kind in STAYS:
                break
            await asyncio.sleep(0.1)
        await page.reload()
        state = page.locator("h1 .state")
        if case.kind == "appeal_review":
            await expect(state).to_have_text("appealing")  # the letter went out; the payer decides
        elif case.kind == "timely_filing_risk":
            assert now is before is ClaimState.SUBMITTED, f"{claim_id} is {now} after {case.action}"
            await expect(state).to_have_text("submitted")  # still waiting for its 999, the risk owned
        else:
            assert now is not before, f"{claim_id} stayed {before} after {case.action}"
            await expect(state).to_have_text(now.value.replace("_", " "))
        if task_id.startswith("claim-"):
            await expect(page.locator("table.tasks")).to_contain_text(f"{case.action} by {BILLER}")
        await screens.shot(page, f"claim-after-{case.kind}")

    # the queue no longer lists what was resolved
    await page.goto("/queue")
    for _, task_id in tasks.values():
        await expect(page.locator(f"#row-{task_id.replace(':', '-')}")).to_have_count(0)
    await page.goto(f"/search?q={tasks['coding'][0].removeprefix('claim-')}")
    await expect(page.locator("main")).to_contain_text(tasks["coding"][0])
    await screens.shot(page, "search")
    assert screens.count >= 2 + 2 * len(CASES)


async def test_a_manager_approves_the_write_off_a_biller_was_refused_and_the_dashboard_agrees(
    console: Console, dev_env: WorkflowEnvironment, browser: Browser, base_url: str, screens: Screens
) -> None:
    appeal_id = await start_write_off_approval(dev_env)
    task_id = await task_of(console, appeal_id, "write_off_approval")
    coverage_claim = await started(console, inactive(407))
    coverage_task = await task_of(console, coverage_claim, "coverage_issue")

    ben = await logged_in(browser, base_url, OTHER_BILLER, screens)
    await ben.goto(f"/tasks/{coverage_task}")
    await ben.locator("form.action[data-action=self_pay] button[type=submit]").click()
    await expect(ben.locator("#resolved")).to_contain_text(coverage_task)
    await ben.goto(f"/tasks/{task_id}")
    form = ben.locator("form.action[data-action=approve_write_off]")
    await expect(form).to_contain_text("Only a manager may")
    await form.locator("[name=reason]").fill("nothing left to recover")
    await form.locator("button[type=submit]").click()
    await expect(ben.locator("main")).to_contain_text("approve_write_offs")
    await screens.shot(ben, "refused-biller-write-off")
    assert (await console.data.claims.task(task_id)).task.is_open
    await ben.goto("/dashboard")
    await expect(ben.locator("main")).to_contain_text("may not")
    assert "Dashboard" not in await ben.locator("header nav").inner_text()

    max_ = await logged_in(browser, base_url, MANAGER, screens)
    await max_.goto(f"/tasks/{task_id}")
    await screens.shot(max_, "task-write_off_approval")
    form = max_.locator("form.action[data-action=approve_write_off]")
    await form.locator("[name=reason]").fill("appeal window missed: nothing left to recover")
    await form.locator("button[type=submit]").click()
    await expect(max_).to_have_url(re.compile(r"/claims/.*\?resolved="))
    resolved = (await console.data.claims.task(task_id)).task
    assert resolved.resolved_by == MANAGER

    await console.data.reload()
    await max_.goto("/dashboard")
    await expect(max_.locator("h1")).to_contain_text("Dashboard")
    await screens.shot(max_, "dashboard")

    # claims by state: what visibility says of the workflows, claim by claim
    workflows: Counter[str] = Counter()
    async for execution in dev_env.client.list_workflows("WorkflowType = 'ClaimWorkflow'"):
        workflows[execution.typed_search_attributes.get(sa.CLAIM_STATE) or "unknown"] += 1
    shown = await table_of(max_, "claims_by_state")
    assert {state: int(count) for state, count in shown} == dict(workflows)
    # open tasks: the same count the work queue holds
    open_tasks = await table_of(max_, "open_tasks")
    assert sum(sum(int(cell) for cell in row[1:-1]) for row in open_tasks) == len(
        await console.data.queue(QueueFilter(), MANAGER)
    )
    # resolutions per person: every resolution in the ledger's audit trail, the manager's write-off
    # approval (an appeal's task) too, and each is the workflow's own record of who resolved it
    ledger = Counter(
        (entry.actor, str(entry.details["kind"]))
        for entry in console.ledger.audit()
        if entry.action == "task_resolved" and entry.actor in (OTHER_BILLER, MANAGER)
    )
    board = {(row[0], row[1]): int(row[2]) for row in await table_of(max_, "resolutions")}
    assert {key: count for key, count in board.items() if key[0] in (OTHER_BILLER, MANAGER)} == ledger
    assert ledger == Counter({(OTHER_BILLER, "coverage_issue"): 1, (MANAGER, "write_off_approval"): 1})
    assert (await console.data.claims.task(coverage_task)).task.resolved_by == OTHER_BILLER
    # the headline figure: every claim whose workflow answered
    claims = len([c for c in (await console.data.loaded()).claims.values() if c.encounter is not None])
    await expect(max_.locator("#kpi-claims")).to_have_text(str(claims))


async def table_of(page: Page, name: str) -> list[list[str]]:
    rows = page.locator(f"#table-{name} table tbody tr")
    found = []
    for index in range(await rows.count()):
        cells = [text.strip() for text in await rows.nth(index).locator("td").all_inner_texts()]
        if cells != ["none"]:
            found.append(cells)
    return found
