"""The command line acts only as the user of CLAIMFLOW_TOKEN: what their role may not do is refused
(exit 4) before anything reaches the claim, refusals and changes go to the audit trail, and a token
that is missing, unknown, revoked or of a disabled user is refused."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.appeals import AppealInput
from claimflow.claims.payers import default_directory
from claimflow.claims.roles import Role
from claimflow.integrations.ledger import Ledger
from claimflow.workflows.appeal import AppealWorkflow
from tests.appeals.scripted import denied_claim
from tests.console.conftest import MANAGER, TASK_QUEUE, ConsoleUsers, RunCli

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def write_off_task(cli: RunCli, dev_env: WorkflowEnvironment) -> str:
    """An appeal whose window closed long ago asks a manager at once to approve the write-off; the
    id of that task once `tasks` lists it."""
    claim, payment = denied_claim("50")
    today = (await dev_env.get_current_time()).date()
    appeal_id = f"appeal-{claim.encounter.encounter_id}-1"
    await dev_env.client.start_workflow(
        AppealWorkflow.run,
        AppealInput(
            claim=claim,
            payer=default_directory().profiles[claim.encounter.coverage.payer_id],
            payment=payment,
            remittance_date=today - timedelta(days=400),
            managers=["billing-manager"],
        ),
        id=appeal_id,
        task_queue=TASK_QUEUE,
    )
    for _ in range(200):
        listed = await cli("tasks", "--kind", "write_off_approval", "--json")
        assert listed.exit_code == 0, listed.output
        mine = [
            row["task"]["id"] for row in json.loads(listed.stdout) if row["task"]["id"].startswith(appeal_id)
        ]
        if mine:
            return mine[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"{appeal_id} never listed its write_off_approval task")


async def task_json(cli: RunCli, task_id: str) -> dict[str, Any]:
    shown = await cli("task", "show", task_id, "--json")
    assert shown.exit_code == 0, shown.output
    task: dict[str, Any] = json.loads(shown.stdout)["task"]
    return task


def audit(users: ConsoleUsers, actor: str) -> list[tuple[str, dict[str, Any]]]:
    ledger = Ledger(users.database_url)
    try:
        return [(entry.action, entry.details) for entry in ledger.audit() if entry.actor == actor]
    finally:
        ledger.close()


async def test_a_biller_may_not_approve_a_write_off_and_a_manager_may(
    cli: RunCli, dev_env: WorkflowEnvironment, console_users: ConsoleUsers
) -> None:
    task_id = await write_off_task(cli, dev_env)

    refused = await cli(
        "task", "resolve", task_id, "--action", "approve_write_off", "--reason", "nothing to recover",
        user="lee",
    )  # fmt: skip
    assert refused.exit_code == 4, refused.output
    assert "lee (biller) may not resolve a task with 'approve_write_off'" in refused.stderr
    assert "approve_write_offs permission, which roles manager, admin have" in refused.stderr
    rejected = await cli("task", "resolve", task_id, "--action", "reject", "--reason", "x", user="lee")
    assert rejected.exit_code == 4
    still = await task_json(cli, task_id)
    assert still["resolved_at"] is None and still["resolved_by"] is None  # nothing reached the appeal
    denials = [d for action, d in audit(console_users, "lee") if action == "permission_denied"]
    assert {"task_id": task_id, "action": "approve_write_off", "permission": "approve_write_offs"} in denials

    approved = await cli(
        "task", "resolve", task_id, "--action", "approve_write_off", "--reason", "window missed",
        user=MANAGER,
    )  # fmt: skip
    assert approved.exit_code == 0, approved.output
    assert f"with approve_write_off by {MANAGER}" in approved.stdout
    done = await task_json(cli, task_id)
    assert done["resolved_by"] == MANAGER
    assert (
        "task_resolved",
        {"task_id": task_id, "action": "approve_write_off", "kind": "write_off_approval"},
    ) in audit(console_users, MANAGER)
    # Resolved once: the appeal ended with the write-off, and a second decision is refused (exit 1).
    again = await cli("task", "resolve", task_id, "--action", "reject", "--reason", "x", user=MANAGER)
    assert again.exit_code == 1 and "is not open" in again.stderr
    assert ("task_resolved_refused", {"task_id": task_id, "action": "reject", "exit_code": 1}) in audit(
        console_users, MANAGER
    )


async def test_no_token_an_unknown_one_and_the_old_actor_option_are_refused(cli: RunCli) -> None:
    resolve = ("task", "resolve", "claim-x:1", "--action", "self_pay")
    without = await cli(*resolve, env={"CLAIMFLOW_TOKEN": ""})
    assert without.exit_code == 4 and "set CLAIMFLOW_TOKEN" in without.stderr
    assert "claimflow users token USERNAME" in without.stderr
    forged = await cli(*resolve, env={"CLAIMFLOW_TOKEN": "cft_not-one-we-issued"})
    assert forged.exit_code == 4 and "not one claimflow issued" in forged.stderr
    pay = await cli("claim", "pay", "claim-x", "--amount", "5", env={"CLAIMFLOW_TOKEN": ""})
    assert pay.exit_code == 4 and "to record a patient payment" in pay.stderr
    actor = await cli(*resolve, "--actor", "mia@billing")
    assert actor.exit_code == 2 and "--actor is gone" in actor.stderr


async def test_a_disabled_users_or_revoked_token_is_refused(cli: RunCli, console_users: ConsoleUsers) -> None:
    store = console_users.store()
    try:
        store.add("gone@billing", "Gone Away", Role.BILLER, by="tests")
        token = store.issue_token("gone@billing", by="tests")
        store.disable("gone@billing", by="tests")
    finally:
        store.close()
    as_gone = {"CLAIMFLOW_TOKEN": token.secret}
    refused = await cli("task", "resolve", "claim-x:1", "--action", "self_pay", env=as_gone)
    assert refused.exit_code == 4
    assert "user 'gone@billing' is disabled, so their API tokens are refused" in refused.stderr
    paid = await cli("claim", "pay", "claim-x", "--amount", "5", env=as_gone)
    assert paid.exit_code == 4 and "disabled" in paid.stderr

    store = console_users.store()
    try:
        store.enable("gone@billing", by="tests")
        store.revoke_token(token.token.id, by="tests")
    finally:
        store.close()
    revoked = await cli("task", "resolve", "claim-x:1", "--action", "self_pay", env=as_gone)
    assert revoked.exit_code == 4 and "was revoked on" in revoked.stderr
