"""The web console in real Chromium (Debian's, driven by Playwright; no browser is downloaded), served
by uvicorn on the loopback against the dev server's claims: a biller works one task of each kind the
scripted payer can raise to the claim's next step and watches the claim page follow; a manager
approves a write-off the biller was refused and reads a dashboard that agrees with the ledger and the
workflows. Every page visited is saved as a PNG under the test's tmp_path (screens/)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright, expect
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.encounter import ClaimFilingIndicator, Coverage, Encounter, ServiceLine
from claimflow.claims.ids import claim_workflow_id
from claimflow.claims.intake_hold import HeldIntake
from claimflow.claims.lifecycle import (
    ClaimInput,
    ClaimRecord,
    ClaimSnapshot,
    ClaimState,
    ClaimStep,
    Dunning,
    TimelineEntry,
    UnderpaymentStatus,
)
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
    correct: Callable[[dict[str, Any]], None] | None = None
    """what the biller changes in the encounter the correct form is filled with"""
    settled: Callable[[ClaimSnapshot], bool] | None = None
    """the claim has taken the step the resolution leads to and rests there (every claim's case
    names one: a claim passing through a state shows the next one by the time the page reloads)"""
    shows: str | None = None
    """what the claim page says of that step"""


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


async def raise_demographics(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    """A visit whose patient has no birth date: the scrubber's demographics rule holds it at intake."""
    enc = encounter(today(), 409)
    patient = enc.patient.model_copy(update={"birth_date": None})
    claim_id = await started(console, enc.model_copy(update={"patient": patient}))
    return claim_id, claim_id


def with_birth_date(enc: dict[str, Any]) -> None:
    enc["patient"]["birth_date"] = "1961-04-02"  # from the registration form


HMO = Coverage(
    payer_id="SMPHMO",
    payer_name="Summit Health HMO",
    member_id="HMO12345678",
    filing_indicator=ClaimFilingIndicator.HMO,
)


async def raise_underpayment(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    """An office visit the HMO allows at its 2025 rate (112.00), below the 2026 contract's 118.00
    (the fee schedule loaded with the payer profiles), and a venipuncture allowed at the contract:
    the 835's lines are checked against the contract once it posts, and the claim closes."""
    day = today() - timedelta(days=20)
    lines = [
        ServiceLine(
            procedure_code=code,
            units=Decimal(1),
            charge=Decimal(charge),
            diagnosis_pointers=[1],
            service_date=day,
        )
        for code, charge in (("99213", "150.00"), ("36415", "20.00"))
    ]
    enc = encounter(today(), 410).model_copy(
        update={"coverage": HMO, "service_lines": lines, "service_date": day}
    )
    claim_id = await submitted(console, enc)
    handle = env.client.get_workflow_handle_for(ClaimWorkflow.run, claim_id)
    await handle.signal(ClaimWorkflow.payer_event, ack_999())
    await handle.signal(ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id))
    await until_state(console, claim_id, ClaimState.ACCEPTED)
    allowed = [Decimal("112.00"), Decimal("5.00")]
    await handle.signal(ClaimWorkflow.payer_event, remittance(enc, allowed=allowed))
    await until_state(console, claim_id, ClaimState.CLOSED)
    return claim_id, claim_id


async def raise_no_response(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    """A claim the payer accepted (999, 277CA) and then never paid. Its waits run from now whatever
    the record says (a claim resumed at the payer step sends its 837 again), so it does not start
    'submitted long ago': its record carries a payer profile with short waits instead, the payer's
    own but expecting the 835 at once and asking one 276 before a person is told."""
    enc = encounter(today(), 411)
    payer = default_directory().profile_for(enc.coverage.payer_id, enc.coverage.filing_indicator)
    quick = payer.model_copy(
        update={"expected_adjudication_days": 0, "status_inquiry_every_days": 0, "status_inquiries_max": 1}
    )
    claim_id = claim_workflow_id(enc.encounter_id)
    await env.client.start_workflow(
        ClaimWorkflow.run,
        ClaimInput(record=ClaimRecord(encounter=enc, profile=quick)),
        id=claim_id,
        task_queue=TASK_QUEUE,
    )
    await until_state(console, claim_id, ClaimState.SUBMITTED)
    handle = env.client.get_workflow_handle_for(ClaimWorkflow.run, claim_id)
    await handle.signal(ClaimWorkflow.payer_event, ack_999())
    await handle.signal(ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id))
    return claim_id, claim_id


async def raise_patient_balance(console: Console, env: WorkflowEnvironment) -> tuple[str, str]:
    """A claim the payer paid months ago, its patient's share billed on three statements, the final
    notice's cycle over: it starts from that record (ClaimInput.record) and asks a person at once."""
    now = datetime.now(UTC)
    visit = (now - timedelta(days=150)).date()
    base = encounter(today(), 412)
    lines = [line.model_copy(update={"service_date": visit}) for line in base.service_lines]
    enc = base.model_copy(update={"service_lines": lines, "service_date": visit})
    owed, contractual = Decimal("40.00"), (enc.total_charge * Decimal("0.2")).quantize(Decimal("0.01"))
    paid = enc.total_charge - contractual - owed
    days = {"submit": 148, "277CA": 146, "835": 120, "first": 119, "reminder": 89, "final": 59}

    def entry(step: str, outcome: str, ago: str) -> TimelineEntry:
        return TimelineEntry(at=now - timedelta(days=days[ago]), step=step, outcome=outcome)

    record = ClaimRecord(
        encounter=enc,
        step=ClaimStep.PATIENT_BILLING,
        state=ClaimState.PATIENT_BILLING,
        submissions=1,
        submitted_at=now - timedelta(days=days["submit"]),
        accepted_on=now - timedelta(days=days["277CA"]),
        payer_claim_number="PCN-1",
        remittance_date=(now - timedelta(days=days["835"])).date(),
        paid=paid,
        adjusted=contractual,
        patient_responsibility=owed,
        dunning=Dunning(statements=3, sent=3),
        timeline=[
            entry("submit", "837 submission 1 (SUB1), frequency 1", "submit"),
            entry("277CA", "accepted, payer claim PCN-1", "277CA"),
            entry("835", f"paid {paid}, patient owes {owed}", "835"),
            *(
                entry("statement", f"{notice} statement for {owed}", notice)
                for notice in ("first", "reminder", "final")
            ),
        ],
    )
    claim_id = claim_workflow_id(enc.encounter_id)
    await env.client.start_workflow(
        ClaimWorkflow.run, ClaimInput(record=record), id=claim_id, task_queue=TASK_QUEUE
    )
    return claim_id, claim_id


def coded_lines() -> dict[str, str]:
    lines = encounter(today(), 402).service_lines
    return {
        "diagnoses": "E119",
        "service_lines": "[" + ",".join(line.model_dump_json() for line in lines) + "]",
    }


def settles_in(state: ClaimState, submissions: int | None = None) -> Callable[[ClaimSnapshot], bool]:
    """The claim rests in `state` (after `submissions` 837s, when given): not passing through it."""
    return lambda claim: claim.state is state and submissions in (None, claim.submissions)


CASES = [
    # self-pay: the patient is billed the whole charge
    Case("coverage_issue", "self_pay", raise_coverage, settled=settles_in(ClaimState.PATIENT_BILLING)),
    Case("coding", "codes", raise_coding, coded_lines, settled=settles_in(ClaimState.SUBMITTED)),
    Case(
        "scrub_failure",
        "override",
        raise_scrub,
        lambda: {"reason": "no-charge visit agreed with the provider"},
        settled=settles_in(ClaimState.SUBMITTED),
    ),
    Case("payer_rejection", "resubmit", raise_rejection, settled=settles_in(ClaimState.SUBMITTED, 2)),
    # the prefilled encounter, sent back as a corrected claim
    Case("denial", "correct", raise_denial, settled=settles_in(ClaimState.SUBMITTED, 2)),
    Case("appeal_review", "approve", raise_appeal_review, settled=settles_in(ClaimState.APPEALING)),
    # a warning: acknowledged, the claim goes on waiting for the payer in the state it was in
    Case(
        "timely_filing_risk",
        "acknowledge",
        raise_filing_risk,
        settled=settles_in(ClaimState.SUBMITTED, 1),
    ),
    Case(
        "fix_intake",
        "write_off",
        raise_intake_hold,
        lambda: {"reason": "a duplicate of a visit billed already"},
        settled=settles_in(ClaimState.WRITTEN_OFF),
    ),
    Case("unmatched_remittance", "write_off", raise_unmatched, lambda: {"reason": "a test file, not ours"}),
    # the corrected birth date releases the claim from intake: checked, scrubbed and sent
    Case(
        "fix_demographics",
        "correct",
        raise_demographics,
        correct=with_birth_date,
        settled=settles_in(ClaimState.SUBMITTED, 1),
        shows="demographics complete",
    ),
    # a letter stating the contract rate goes to the payer; the closed claim stays closed
    Case(
        "underpayment",
        "appeal",
        raise_underpayment,
        settled=lambda claim: any(u.status is UnderpaymentStatus.APPEALED for u in claim.underpayments),
        shows="line 1 appealed: letter",
    ),
    # the payer accepted the claim and then said nothing: it goes to the payer again
    Case(
        "no_response",
        "resubmit",
        raise_no_response,
        settled=settles_in(ClaimState.SUBMITTED, 2),
        shows="837 submission 2",
    ),
    Case(
        "patient_balance",
        "write_off",
        raise_patient_balance,
        lambda: {"reason": "small balance: collections would cost more"},
        settled=settles_in(ClaimState.WRITTEN_OFF),
        shows="written off: small balance",
    ),
]


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
        if case.correct is not None:
            box = form.locator("[name=encounter]")
            corrected = json.loads(await box.input_value())
            case.correct(corrected)
            await box.fill(json.dumps(corrected, indent=2))
        await form.locator("button[type=submit]").click()
        if not is_claim:
            await expect(page).to_have_url(re.compile(re.escape(f"/tasks/{task_id}")))
            await expect(page.locator(".summary")).to_contain_text(f"resolved by {BILLER}")
            await screens.shot(page, f"resolved-{case.kind}")
            continue
        await expect(page).to_have_url(re.compile(re.escape(f"/claims/{claim_id}?resolved={task_id}")))
        await expect(page.locator("#resolved")).to_contain_text(task_id)
        # the claim moves on in its workflow; the page shows it at the next look
        assert case.settled is not None, f"{case.kind} names no step for its claim to take"
        for _ in range(100):
            claim = await console.data.claim(claim_id)
            if case.settled(claim):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"{claim_id} never took its step after {case.action}: {claim.state}")
        now = claim.state
        await page.reload()
        state = page.locator("h1 .state")
        if case.kind == "appeal_review":
            await expect(state).to_have_text("appealing")  # the letter went out; the payer decides
        elif case.kind == "timely_filing_risk":
            assert now is before is ClaimState.SUBMITTED, f"{claim_id} is {now} after {case.action}"
            await expect(state).to_have_text("submitted")  # still waiting for its 999, the risk owned
        elif case.kind == "underpayment":
            assert now is before is ClaimState.CLOSED, f"{claim_id} is {now} after {case.action}"
            await expect(state).to_have_text("closed")  # the letter went out; the payer answers
        else:
            assert now is not before, f"{claim_id} stayed {before} after {case.action}"
            await expect(state).to_have_text(now.value.replace("_", " "))
        if case.shows is not None:
            await expect(page.locator("table.timeline")).to_contain_text(case.shows)
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
