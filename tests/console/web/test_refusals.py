"""Every refusal the issue names, each against a real open task: a clear message and a 4xx, an entry in
the audit trail, and nothing changed (the task still open, its claim's tasks and timeline as they
were, nobody holding it)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from claimflow.integrations.ledger.users import UserStore
from tests.console.test_commands import inactive
from tests.console.web.conftest import (
    PASSWORD,
    Console,
    Person,
    make_console,
    start_write_off_approval,
    started,
    task_of,
)
from tests.workflows.scripted import ScriptedPayer

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def unchanged_by(
    console: Console, task_id: str, attempt: Callable[[], Awaitable[httpx.Response]]
) -> tuple[httpx.Response, dict[str, object]]:
    """Run `attempt`; assert it changed neither the task, nor its workflow, nor who holds it; return
    the response and the one audit entry it added."""
    before_task = await console.data.claims.task(task_id)
    own_claim = task_id.startswith("claim-")  # else an appeal's task: the appeal's state is the task's
    before_claim = await console.data.claim(before_task.claim_id) if own_claim else None
    before_audit = len(console.ledger.audit())
    before_holder = console.data.worklist.assignments([task_id])
    response = await attempt()
    await asyncio.sleep(0.2)  # anything it set going would show by now
    after_task = await console.data.claims.task(task_id)
    assert after_task == before_task
    if before_claim is not None:
        after_claim = await console.data.claim(before_task.claim_id)
        assert after_claim.tasks == before_claim.tasks and after_claim.timeline == before_claim.timeline
    assert console.data.worklist.assignments([task_id]) == before_holder
    added = console.ledger.audit()[before_audit:]
    assert len(added) == 1, added
    return response, {"actor": added[0].actor, "action": added[0].action, **added[0].details}


async def test_each_refusal_is_a_clear_4xx_recorded_that_changes_nothing(
    dev_env: WorkflowEnvironment,
    payer_worker: ScriptedPayer,
    ledger_url: str,
    users: UserStore,
    tmp_path: Path,
) -> None:
    console, close = make_console(dev_env, ledger_url, users, tmp_path, idle_timeout_seconds=5.0)
    try:
        claim_id = await started(console, inactive(501))
        task_id = await task_of(console, claim_id, "coverage_issue")
        appeal_id = await start_write_off_approval(dev_env)
        approval = await task_of(console, appeal_id, "write_off_approval")
        amy, bob = await console.as_user("amy"), await console.as_user("bob")

        # a wrong password: 401, no session, recorded with the name that was tried
        stranger = Person(console.make_client(), "amy")
        wrong, entry = await unchanged_by(console, task_id, lambda: stranger.login("guess"))
        assert wrong.status_code == 401 and "wrong username or password" in wrong.text
        assert entry["action"] == "console_login_refused" and entry["actor"] == "amy"
        assert (await stranger.http.get("/queue")).status_code == 303  # still logged out

        # a missing CSRF token on a resolution
        no_token, entry = await unchanged_by(
            console,
            task_id,
            lambda: amy.http.post(f"/tasks/{task_id}/resolve", data={"action": "self_pay"}),
        )
        assert no_token.status_code == 403 and "security token is missing or stale" in no_token.text
        assert entry == entry | {"actor": "amy", "action": "console_refused", "status": 403}

        # a wrong CSRF token on a claim (htmx sends it as a header)
        forged_header, entry = await unchanged_by(
            console,
            task_id,
            lambda: amy.http.post(
                f"/tasks/{task_id}/claim", headers={"HX-Request": "true", "X-CSRF-Token": "x" * 43}
            ),
        )
        assert forged_header.status_code == 403 and "security token" in forged_header.text
        assert forged_header.headers["HX-Retarget"] == "#messages"  # the page shows the reason in place

        # a biller posting the manager-only action
        manager_only, entry = await unchanged_by(
            console,
            approval,
            lambda: amy.post(f"/tasks/{approval}/resolve", action="approve_write_off", reason="let it go"),
        )
        assert manager_only.status_code == 403
        assert "amy (biller) may not" in manager_only.text and "approve_write_offs" in manager_only.text
        assert entry["status"] == 403 and entry["actor"] == "amy"

        # forged task ids: a task number the claim never had, and something that is no task id
        for forged_id, expected in (
            (f"{claim_id}:99", "has no task"),
            ("claim-E1;x", "not a task id"),
        ):
            forged, entry = await unchanged_by(
                console,
                task_id,
                lambda forged_id=forged_id: amy.post(f"/tasks/{forged_id}/resolve", action="self_pay"),  # type: ignore[misc]
            )
            assert forged.status_code == 404 and expected in forged.text, forged.text
            assert entry["status"] == 404 and entry["actor"] == "amy"

        # an expired session: the form is refused (401) and nothing is done as amy
        await asyncio.sleep(5.5)
        expired, entry = await unchanged_by(
            console, task_id, lambda: amy.post(f"/tasks/{task_id}/resolve", action="self_pay")
        )
        assert expired.status_code == 401 and "session expired" in expired.text
        assert entry["actor"] == "anonymous" and entry["status"] == 401

        # a resolution for a task someone else resolved already
        bob = await console.as_user("bob")
        done = await bob.post(f"/tasks/{task_id}/resolve", action="self_pay")
        assert done.status_code == 303
        amy = await console.as_user("amy")
        late, entry = await unchanged_by(
            console, task_id, lambda: amy.post(f"/tasks/{task_id}/resolve", action="new_coverage")
        )
        assert late.status_code == 409 and "already resolved by bob" in late.text
        assert entry["status"] == 409 and entry["actor"] == "amy"
        assert (await console.data.claims.task(task_id)).task.resolved_by == "bob"
    finally:
        close()


async def test_repeated_wrong_passwords_are_rate_limited(console: Console) -> None:
    mallory = Person(console.make_client(), "mary")
    statuses = [(await mallory.login("not it")).status_code for _ in range(12)]
    assert statuses[0] == 401 and statuses[-1] == 429
    limited = await mallory.login(PASSWORD)  # even the right password waits out the limit
    assert limited.status_code == 429 and "too many wrong passwords for user" in limited.text
    refused = [e for e in console.ledger.audit() if e.action == "console_login_refused" and e.actor == "mary"]
    assert len(refused) == 13 and refused[-1].details["why"] == "RateLimitedError"
