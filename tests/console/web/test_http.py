"""The web console over HTTP for each role: what each may do, and every refusal a clear 4xx that
changes nothing and is recorded in the audit trail. Real claims on the dev server (scripted payer),
a real ledger with real users; no browser."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.lifecycle import ClaimState
from claimflow.console.web import auth
from claimflow.console.web.data import QueueFilter
from claimflow.integrations.ledger.users import UserStore
from claimflow.workflows.claim import ClaimWorkflow
from tests.console.test_commands import inactive, uncoded
from tests.console.web.conftest import (
    PASSWORD,
    Console,
    Person,
    csrf_of,
    make_console,
    start_write_off_approval,
    started,
    task_of,
)
from tests.workflows.scripted import ScriptedPayer, ack_277ca, ack_999, encounter

pytestmark = pytest.mark.asyncio(loop_scope="session")


def refusals(console: Console) -> list[dict[str, object]]:
    return [
        entry.details | {"actor": entry.actor}
        for entry in console.ledger.audit()
        if entry.action == "console_refused"
    ]


async def test_login_logout_and_the_pages_need_a_session(console: Console) -> None:
    anonymous = console.app
    page = await anonymous.get("/queue")
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=%2Fqueue")
    refused = await anonymous.post("/tasks/claim-x:1/claim", data={})
    assert refused.status_code == 401 and "log in" in refused.text

    amy = Person(console.make_client(), "amy")
    wrong = await amy.login("not her password")
    assert wrong.status_code == 401 and "wrong username or password" in wrong.text
    login_page = await amy.http.get("/login")
    no_token = await amy.http.post("/login", data={"username": "amy", "password": PASSWORD})
    assert no_token.status_code == 403 and "security token" in no_token.text
    assert csrf_of(login_page.text)
    logged_in = await amy.login(PASSWORD)
    assert logged_in.status_code == 303
    cookie = logged_in.headers["set-cookie"].lower()
    assert "claimflow_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    queue = await amy.http.get("/queue")
    assert queue.status_code == 200 and "Work queue" in queue.text and "amy" in queue.text
    assert (await amy.post("/logout")).status_code == 303
    assert (await amy.http.get("/queue")).status_code == 303

    actions = [entry.action for entry in console.ledger.audit()]
    assert "console_login_refused" in actions and "console_login" in actions and "console_logout" in actions


async def test_an_idle_session_expires(
    dev_env: WorkflowEnvironment,
    payer_worker: ScriptedPayer,
    ledger_url: str,
    users: UserStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = SimpleNamespace(now=time.time())  # the sessions' clock, moved by the test, not by waiting
    monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: clock.now))
    console, close = make_console(dev_env, ledger_url, users, tmp_path, idle_timeout_seconds=60)
    try:
        amy = await console.as_user("amy")
        assert (await amy.http.get("/search")).status_code == 200
        for _ in range(2):  # each request keeps the session alive: 118 s since login, never 60 idle
            clock.now += 59
            assert (await amy.http.get("/search")).status_code == 200
        clock.now += 61
        expired = await amy.http.get("/search")
        assert expired.status_code == 303 and "why=expired" in expired.headers["location"]
        login = await amy.http.get(expired.headers["location"])
        assert "session expired" in login.text
        posted = await amy.post("/tasks/claim-x:1/note", text="late")
        assert posted.status_code == 401
    finally:
        close()


async def test_biller_works_the_queue_claim_note_release_and_csrf_is_checked(
    console: Console, dev_env: WorkflowEnvironment
) -> None:
    coverage = await started(console, inactive(201))
    task_id = await task_of(console, coverage, "coverage_issue")
    amy, bob = await console.as_user("amy"), await console.as_user("bob")

    forged = await amy.http.post(f"/tasks/{task_id}/claim", data={})
    assert forged.status_code == 403 and "security token" in forged.text
    assert console.data.worklist.assignments([task_id]) == {}

    claimed = await amy.http.post(
        f"/tasks/{task_id}/claim", headers={"HX-Request": "true", "X-CSRF-Token": amy.csrf}
    )
    assert claimed.status_code == 200 and claimed.text.lstrip().startswith("<tr") and ">amy<" in claimed.text
    taken = await bob.post(f"/tasks/{task_id}/claim")
    assert taken.status_code == 403 and "amy" in taken.text
    bob_release = await bob.post(f"/tasks/{task_id}/release")
    assert bob_release.status_code == 403
    assign_other = await amy.post(f"/tasks/{task_id}/assign", assignee="bob")
    assert assign_other.status_code == 403
    assert console.data.worklist.assignments([task_id])[task_id].assignee == "amy"

    mine = await amy.http.get("/queue", params={"holder": "mine"})
    assert task_id in mine.text
    unassigned = await amy.http.get("/queue", params={"holder": "unassigned", "kind": "coverage_issue"})
    assert task_id not in unassigned.text
    table_only = await amy.http.get(
        "/queue",
        params={"kind": "coverage_issue"},
        headers={"HX-Request": "true", "HX-Target": "queue-table"},
    )
    assert table_only.text.lstrip().startswith('<div id="queue-table">') and task_id in table_only.text
    exported = await amy.http.get("/queue.csv", params={"holder": "mine"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["task"] for row in rows] == [task_id] and rows[0]["assignee"] == "amy" and rows[0]["patient"]

    noted = await amy.post(f"/tasks/{task_id}/note", text="called the payer: member moved to another plan")
    assert noted.status_code == 303
    empty = await amy.post(f"/tasks/{task_id}/note", text="   ")
    assert empty.status_code == 422
    page = await amy.http.get(f"/tasks/{task_id}")
    assert "member moved to another plan" in page.text and "not covered" in page.text

    assert (await amy.post(f"/tasks/{task_id}/release")).status_code == 303
    assert console.data.worklist.assignments([task_id]) == {}
    assert (await amy.post(f"/tasks/{task_id}/nonsense")).status_code == 404

    statuses = sorted(int(str(r["status"])) for r in refusals(console) if r["actor"] in ("amy", "bob"))
    assert statuses == [403, 403, 403, 403, 404, 422]


async def test_a_277ca_rejection_reads_in_words_on_the_task_and_claim_pages(
    console: Console, dev_env: WorkflowEnvironment
) -> None:
    enc = encounter((await dev_env.get_current_time()).date(), 221)
    claim_id = await started(console, enc)
    for _ in range(200):
        if (await console.data.claim(claim_id)).state is ClaimState.SUBMITTED:
            break
        await asyncio.sleep(0.1)
    handle = dev_env.client.get_workflow_handle_for(ClaimWorkflow.run, claim_id)
    await handle.signal(ClaimWorkflow.payer_event, ack_999())
    await handle.signal(ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id, category="A7", code="562"))
    task_id = await task_of(console, claim_id, "payer_rejection")
    amy = await console.as_user("amy")
    task_page = html.unescape((await amy.http.get(f"/tasks/{task_id}")).text)
    assert "STC A7:562" in task_page  # the reason as the workflow gave it, and its codes in words
    assert "<th>A7:562</th>" in task_page and "Rejected for Invalid Information" in task_page
    assert "status code 562: Entity's National Provider Identifier (NPI)" in task_page
    claim_page = html.unescape((await amy.http.get(f"/claims/{claim_id}")).text)
    assert "Codes on this claim" in claim_page and "Rejected for Invalid Information" in claim_page


async def test_resolving_through_the_form_records_the_user_and_a_second_resolution_is_refused(
    console: Console, dev_env: WorkflowEnvironment
) -> None:
    coverage = await started(console, inactive(202))
    coding = await started(console, uncoded(203))
    coverage_task = await task_of(console, coverage, "coverage_issue")
    coding_task = await task_of(console, coding, "coding")
    amy, bob = await console.as_user("amy"), await console.as_user("bob")

    incomplete = await amy.post(f"/tasks/{coverage_task}/resolve", action="new_coverage", member_id="X1")
    assert incomplete.status_code == 422 and "Refused" in incomplete.text
    wrong_action = await amy.post(f"/tasks/{coverage_task}/resolve", action="resubmit")
    assert wrong_action.status_code == 422 and "does not resolve a coverage_issue task" in wrong_action.text
    bad_codes = await amy.post(
        f"/tasks/{coding_task}/resolve", action="codes", diagnoses="E119", service_lines="[{"
    )
    assert bad_codes.status_code == 422 and "not JSON" in bad_codes.text

    done = await amy.post(f"/tasks/{coverage_task}/resolve", action="self_pay", actor="mary")
    assert (
        done.status_code == 303 and done.headers["location"] == f"/claims/{coverage}?resolved={coverage_task}"
    )
    claim_page = await amy.http.get(done.headers["location"])
    assert "resolved: the claim goes on" in claim_page.text and "self_pay by amy" in claim_page.text
    snapshot = await console.data.claim(coverage)
    resolved = next(t for t in snapshot.tasks if t.id == coverage_task)
    assert resolved.resolved_by == "amy"  # the session's user, not the form's "actor"

    again = await bob.post(f"/tasks/{coverage_task}/resolve", action="self_pay")
    assert again.status_code == 409 and "already resolved by amy" in again.text
    forged = await bob.http.get("/tasks/claim-nobody-here:7")
    assert forged.status_code == 404
    queue = await amy.http.get("/queue")
    assert coverage_task not in queue.text

    trail = [(e.actor, e.action) for e in console.ledger.audit(coverage.removeprefix("claim-"))]
    assert ("amy", "task_resolved") in trail
    assert {(r["actor"], r["status"]) for r in refusals(console)} >= {
        ("amy", 422),
        ("bob", 409),
        ("bob", 404),
    }


async def test_only_a_manager_approves_a_write_off_or_sees_the_dashboard(
    console: Console, dev_env: WorkflowEnvironment
) -> None:
    appeal_id = await start_write_off_approval(dev_env)
    for _ in range(200):
        await console.data.reload()
        items = [i for i in await console.data.queue(QueueFilter(), "x") if i.task.id.startswith(appeal_id)]
        if items:
            break
        await asyncio.sleep(0.1)
    task_id = items[0].task.id
    amy, mary = await console.as_user("amy"), await console.as_user("mary")

    page = await amy.http.get(f"/tasks/{task_id}")
    assert "Only a manager may approve the write-off" in page.text
    refused = await amy.post(
        f"/tasks/{task_id}/resolve", action="approve_write_off", reason="nothing to recover"
    )
    assert refused.status_code == 403 and "approve_write_offs" in refused.text
    assert (await console.data.claims.task(task_id)).task.is_open

    assert (await amy.http.get("/dashboard")).status_code == 403
    assert (await amy.http.get("/dashboard/kpis.csv")).status_code == 403

    approved = await mary.post(
        f"/tasks/{task_id}/resolve", action="approve_write_off", reason="window missed"
    )
    assert approved.status_code == 303
    assert (await console.data.claims.task(task_id)).task.resolved_by == "mary"

    board = await mary.http.get("/dashboard")
    assert board.status_code == 200 and "clean-claim rate" in board.text and "<svg" in board.text
    kpis = list(csv.reader(io.StringIO((await mary.http.get("/dashboard/kpis.csv")).text)))
    assert kpis[0][:3] == ["payer", "claims", "clean-claim rate"] and kpis[1][0] == "all payers"
    assert (await mary.http.get("/dashboard/nope.csv")).status_code == 404
    assert (await mary.http.get("/dashboard", params={"days": "x"})).status_code == 400
    assert {(r["actor"], r["status"]) for r in refusals(console)} >= {("amy", 403)}


async def test_search_by_patient_and_state(console: Console, dev_env: WorkflowEnvironment) -> None:
    enc = inactive(204)
    claim_id = await started(console, enc)
    await task_of(console, claim_id, "coverage_issue")
    amy = await console.as_user("amy")
    by_name = await amy.http.get("/search", params={"q": enc.patient.last_name.upper()})
    assert claim_id in by_name.text
    by_id = await amy.http.get("/search", params={"q": enc.encounter_id, "state": "eligibility"})
    assert claim_id in by_id.text
    wrong_state = await amy.http.get("/search", params={"q": enc.encounter_id, "state": "closed"})
    assert claim_id not in wrong_state.text
    exported = await amy.http.get("/search.csv", params={"q": enc.encounter_id})
    assert claim_id in exported.text and exported.headers["content-type"].startswith("text/csv")
    assert (await amy.http.get("/search", params={"from": "yesterday"})).status_code == 400
    assert (await amy.http.get("/claims/no-such-claim")).status_code == 404
