"""The biller's and manager's commands against the dev server and a scripted payer."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.encounter import Encounter
from claimflow.claims.lifecycle import ClaimInput, ClaimSnapshot
from claimflow.claims.payers import default_directory
from claimflow.claims.tasks import UnmatchedItem
from claimflow.console.claims_client import ClaimsClient
from claimflow.workflows import search_attributes as sa
from claimflow.workflows.appeal import AppealWorkflow
from claimflow.workflows.claim import ClaimWorkflow
from claimflow.workflows.exceptions import ExceptionsWorkflow
from tests.console.conftest import TASK_QUEUE, RunCli
from tests.workflows.scripted import (
    INACTIVE_MEMBER,
    ScriptedPayer,
    ack_277ca,
    ack_999,
    encounter,
    pay_cleanly,
    remittance,
)


def today() -> date:
    """The dev server runs on the wall clock."""
    return datetime.now(UTC).date()


ANSI_ESCAPE = "\x1b["
# The scripted payer's worker runs on the session loop: the tests must run on it too.
pytestmark = pytest.mark.asyncio(loop_scope="session")


def write(tmp_path: Path, enc: Encounter) -> Path:
    path = tmp_path / f"{enc.encounter_id}.json"
    path.write_text(enc.model_dump_json())
    return path


def inactive(seed: int) -> Encounter:
    enc = encounter(today(), seed)
    return enc.model_copy(update={"coverage": enc.coverage.model_copy(update={"member_id": INACTIVE_MEMBER})})


def uncoded(seed: int) -> Encounter:
    return encounter(today(), seed).model_copy(update={"diagnoses": [], "service_lines": []})


def zero_charge(seed: int) -> Encounter:
    enc = encounter(today(), seed)
    lines = [enc.service_lines[0].model_copy(update={"charge": 0}), *enc.service_lines[1:]]
    return enc.model_copy(update={"service_lines": lines})


async def json_of(cli: RunCli, *args: str, user: str = "amy@billing") -> Any:
    result = await cli(*args, "--json", user=user)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def until_listed(cli: RunCli, claim_ids: set[str], *filters: str) -> list[dict[str, Any]]:
    """Visibility is eventually consistent: poll `tasks` until every claim shows a task."""
    for _ in range(100):
        rows: list[dict[str, Any]] = await json_of(cli, "tasks", *filters)
        if claim_ids <= {row["claim_id"] for row in rows}:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError(f"tasks of {claim_ids} never listed; last listing: {rows}")


async def until_claim(cli: RunCli, claim_id: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    for _ in range(100):
        snapshot: dict[str, Any] = await json_of(cli, "claim", "show", claim_id)
        if check(snapshot):
            return snapshot
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"{claim_id} never got there; it is {snapshot['state']}: {snapshot['timeline'][-3:]}"
    )


async def test_intake_list_show_and_resolve_each_kind(cli: RunCli, tmp_path: Path) -> None:
    coverage, coding, scrub = inactive(11), uncoded(12), zero_charge(13)
    files = [str(write(tmp_path, enc)) for enc in (coverage, coding, scrub)]

    started = await json_of(cli, "intake", *files)
    assert [row["started"] for row in started] == [True, True, True]
    again = await cli("intake", *files)
    assert again.exit_code == 0, again.output
    assert again.stdout.count("already exists") == 3 and ANSI_ESCAPE not in again.stdout

    ids = {f"claim-{enc.encounter_id}" for enc in (coverage, coding, scrub)}
    rows = await until_listed(cli, ids)
    kinds = {row["claim_id"]: row["task"]["kind"] for row in rows if row["claim_id"] in ids}
    assert kinds == {
        f"claim-{coverage.encounter_id}": "coverage_issue",
        f"claim-{coding.encounter_id}": "coding",
        f"claim-{scrub.encounter_id}": "scrub_failure",
    }
    only_coding = await until_listed(cli, {f"claim-{coding.encounter_id}"}, "--kind", "coding")
    assert {row["task"]["kind"] for row in only_coding} == {"coding"}
    by_payer = await until_listed(cli, {f"claim-{coding.encounter_id}"}, "--payer", coding.coverage.payer_id)
    assert {row["payer_id"] for row in by_payer} == {coding.coverage.payer_id}
    assert await json_of(cli, "tasks", "--payer", "NO-SUCH-PAYER") == []
    assert await json_of(cli, "tasks", "--overdue") == []  # every task is due in days, not yet

    table = await cli("tasks", "--kind", "coverage_issue")
    assert f"claim-{coverage.encounter_id}:1" in table.stdout and "coverage_issue" in table.stdout

    coverage_task = f"claim-{coverage.encounter_id}:1"
    shown = await cli("task", "show", coverage_task)
    assert shown.exit_code == 0 and "inactive" in shown.stdout and "new_coverage | self_pay" in shown.stdout

    refused = await cli(
        "task", "resolve", coverage_task, "--action", "override", "--reason", "x", user="amy@billing"
    )
    assert refused.exit_code == 1
    assert "does not resolve a coverage_issue task; use one of: new_coverage, self_pay" in refused.stderr
    incomplete = await cli("task", "resolve", coverage_task, "--action", "new_coverage", user="amy@billing")
    # One model per action: what the action lacks is named before anything is sent (exit 2).
    assert incomplete.exit_code == 2 and "--action new_coverage needs the new coverage" in incomplete.stderr

    resolved = await cli(
        "task", "resolve", coverage_task, "--action", "new_coverage",
        "--coverage-payer-id", "SMPBCX", "--coverage-payer-name", "Sandbox Blue Cross",
        "--member-id", "BCX1234", user="amy@billing",
    )  # fmt: skip
    assert resolved.exit_code == 0, resolved.output
    assert f"resolved {coverage_task} (coverage_issue) with new_coverage by amy@billing" in resolved.stdout
    twice = await cli("task", "resolve", coverage_task, "--action", "self_pay", user="amy@billing")
    assert twice.exit_code == 1 and "already resolved by amy@billing" in twice.stderr

    lines = tmp_path / "lines.json"
    lines.write_text(
        json.dumps([line.model_dump(mode="json") for line in encounter(today(), 12).service_lines])
    )
    coded = await cli(
        "task", "resolve", f"claim-{coding.encounter_id}:1", "--action", "codes",
        "--diagnoses", "E11.9,I10", "--lines", str(lines), user="cody",
    )  # fmt: skip
    assert coded.exit_code == 0, coded.output

    overridden = await cli(
        "task", "resolve", f"claim-{scrub.encounter_id}:1", "--action", "override",
        "--reason", "free follow-up visit, charge is 0 by contract", "--json", user="sam",
    )  # fmt: skip
    assert overridden.exit_code == 0, overridden.output
    assert json.loads(overridden.stdout)["resolved_by"] == "sam"

    for enc in (coverage, coding, scrub):
        snapshot = await until_claim(cli, enc.encounter_id, lambda s: s["state"] == "submitted")
        assert not [t for t in snapshot["tasks"] if t["resolved_at"] is None]
    recoded = await json_of(cli, "claim", "show", f"claim-{coding.encounter_id}")
    assert any(e["outcome"] == "coded by cody" for e in recoded["timeline"])


async def submitted(
    cli: RunCli, client: Client, tmp_path: Path, enc: Encounter
) -> WorkflowHandle[ClaimWorkflow, ClaimSnapshot]:
    """A claim taken in from the command line and sent to the scripted payer."""
    assert (await cli("intake", str(write(tmp_path, enc)))).exit_code == 0
    await until_claim(cli, enc.encounter_id, lambda s: s["state"] == "submitted")
    return client.get_workflow_handle_for(ClaimWorkflow.run, f"claim-{enc.encounter_id}")


async def test_patient_pays_from_the_command_line(
    cli: RunCli, tmp_path: Path, dev_env: WorkflowEnvironment, payer_worker: ScriptedPayer
) -> None:
    enc = encounter(today(), 51)
    claim = await submitted(cli, dev_env.client, tmp_path, enc)
    await pay_cleanly(claim, enc, patient_owes=Decimal("30.00"))
    await until_claim(cli, enc.encounter_id, lambda s: s["state"] == "patient_billing")

    too_much = await cli("claim", "pay", enc.encounter_id, "--amount", "30.01", user="desk")
    assert too_much.exit_code == 1 and "at most the balance 30.00" in too_much.stderr
    not_money = await cli("claim", "pay", enc.encounter_id, "--amount", "ten", user="desk")
    assert not_money.exit_code == 2 and "amount" in not_money.stderr
    part = await cli("claim", "pay", enc.encounter_id, "--amount", "10", "--reference", "RCPT-7", user="desk")
    assert part.exit_code == 0, part.output
    assert f"recorded 10.00 on claim-{enc.encounter_id} by desk" in part.stdout
    assert "the patient has paid 10.00 of 30.00" in part.stdout
    again = await cli(
        "claim", "pay", enc.encounter_id, "--amount", "10", "--reference", "RCPT-7", user="desk"
    )
    assert again.exit_code == 1 and "reference 'RCPT-7' is recorded already" in again.stderr
    rest = await json_of(cli, "claim", "pay", f"claim-{enc.encounter_id}", "--amount", "20.00", user="portal")
    assert rest["patient_paid"] == "30.00"
    closed = await until_claim(cli, enc.encounter_id, lambda s: s["state"] == "closed")
    assert [e["outcome"] for e in closed["timeline"] if e["step"] == "payment"] == [
        "patient paid 10.00 (recorded by desk)",
        "patient paid 20.00 (recorded by portal)",
    ]
    posted = [p for p in payer_worker.patient_payments if p.claim.patient_control_number == enc.encounter_id]
    assert [p.amount for p in posted] == [Decimal("10.00"), Decimal("20.00")]
    assert posted[0].reference == "RCPT-7" and posted[1].reference not in (None, "RCPT-7")
    closed_pay = await cli("claim", "pay", enc.encounter_id, "--amount", "1", user="desk")
    assert closed_pay.exit_code == 1 and "not waiting for a patient payment" in closed_pay.stderr


async def test_appeal_tasks_are_listed_and_resolved_from_the_command_line(
    cli: RunCli, tmp_path: Path, dev_env: WorkflowEnvironment
) -> None:
    enc = encounter(today(), 52)
    claim = await submitted(cli, dev_env.client, tmp_path, enc)
    await claim.signal(ClaimWorkflow.payer_event, ack_999())
    await claim.signal(ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id))
    await until_claim(cli, enc.encounter_id, lambda s: s["state"] == "accepted")
    await claim.signal(ClaimWorkflow.payer_event, remittance(enc, denied_with="50"))

    appeal_id = f"appeal-{enc.encounter_id}-1"
    for _ in range(100):
        rows = await json_of(cli, "tasks", "--kind", "appeal_review", "--payer", enc.coverage.payer_id)
        mine = [row for row in rows if row["task"]["id"].startswith(f"{appeal_id}:")]
        if mine:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the appeal's review task was never listed: {rows}")
    row = mine[0]
    assert row["claim_id"] == f"claim-{enc.encounter_id}" and row["claim_state"] == "appealing"
    assert row["payer_id"] == enc.coverage.payer_id
    review = row["task"]["id"]

    shown = await cli("task", "show", review)
    assert shown.exit_code == 0 and "appeal_review" in shown.stdout
    assert "approve | edit | withdraw" in shown.stdout
    no_text = await cli("task", "resolve", review, "--action", "edit", user="bo")
    assert no_text.exit_code == 2 and "--action edit needs --argument" in no_text.stderr
    misplaced = await cli(
        "task", "resolve", f"claim-{enc.encounter_id}:1", "--action", "correct",
        "--argument", "x", user="bo",
    )  # fmt: skip
    assert misplaced.exit_code == 2 and "--argument goes with --action edit" in misplaced.stderr
    edited = await cli(
        "task", "resolve", review, "--action", "edit",
        "--argument", "The progress note documents medical necessity for the ECG.", user="bo",
    )  # fmt: skip
    assert edited.exit_code == 0, edited.output
    assert f"resolved {review} (appeal_review) with edit by bo" in edited.stdout
    appeal = dev_env.client.get_workflow_handle_for(AppealWorkflow.run, appeal_id)
    for _ in range(100):
        snapshot = await appeal.query(AppealWorkflow.state)
        if snapshot.appeals_sent:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the edited letter was never sent: {snapshot.timeline[-3:]}")
    assert "medical necessity for the ECG" in snapshot.argument
    listed = await json_of(cli, "tasks", "--kind", "appeal_review")
    assert review not in {r["task"]["id"] for r in listed}
    await claim.terminate("test over")  # its appeal child ends with it


async def test_claim_show_prints_timeline_and_tasks(cli: RunCli, tmp_path: Path) -> None:
    enc = inactive(21)
    assert (await cli("intake", str(write(tmp_path, enc)))).exit_code == 0
    await until_listed(cli, {f"claim-{enc.encounter_id}"})
    shown = await cli("claim", "show", enc.encounter_id)
    assert shown.exit_code == 0, shown.output
    for expected in (f"claim-{enc.encounter_id}", "eligibility", "270 sent", "coverage_issue", "open"):
        assert expected in shown.stdout
    missing = await cli("claim", "show", "claim-never-seen")
    assert missing.exit_code == 1 and "no claim 'claim-never-seen'" in missing.stderr
    bad_task = await cli("task", "show", "not-a-task-id")
    assert bad_task.exit_code == 1 and "is not a task id" in bad_task.stderr


async def test_unmatched_remittance_listed_and_resolved(cli: RunCli, dev_env: WorkflowEnvironment) -> None:
    file_id = f"835-{uuid.uuid4().hex[:8]}"
    await dev_env.client.start_workflow(
        ExceptionsWorkflow.run,
        id="claim-exceptions",
        task_queue=TASK_QUEUE,
        start_signal="unmatched",
        start_signal_args=[UnmatchedItem(file_id=file_id, kind="835", reason="CLP01 matches no claim")],
    )
    rows = await until_listed(cli, {"claim-exceptions"}, "--kind", "unmatched_remittance")
    task_id = next(row["task"]["id"] for row in rows if file_id in " ".join(row["task"]["details"]))
    done = await cli("task", "resolve", task_id, "--action", "write_off", "--reason", "test file", user="lee")
    assert done.exit_code == 0, done.output
    left = await json_of(cli, "tasks", "--kind", "unmatched_remittance")
    assert task_id not in {row["task"]["id"] for row in left}


async def test_stuck_lists_idle_claims_and_near_deadlines(cli: RunCli, dev_env: WorkflowEnvironment) -> None:
    # A claim nobody works on: its workflow waits on a queue no worker polls, as after an outage.
    idle_id = f"claim-idle-{uuid.uuid4().hex[:8]}"
    await dev_env.client.start_workflow(
        "ClaimWorkflow",
        ClaimInput(encounter=encounter(today(), 31)),
        id=idle_id,
        task_queue="nobody-polls-this",
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.CLAIM_STATE, "submitted"),
                SearchAttributePair(sa.PAYER_ID, "SMPIDLE"),
                SearchAttributePair(sa.LAST_PROGRESS_AT, datetime.now(UTC) - timedelta(days=12, hours=1)),
            ]
        ),
    )
    # A claim whose timely-filing window (90 days at this payer) closes in 5 days, held in coding.
    enc = uncoded(32)
    days = default_directory().profile_for(enc.coverage.payer_id, enc.coverage.filing_indicator)
    late = enc.model_copy(update={"service_date": date.today() - timedelta(days=days.timely_filing_days - 5)})
    outcome = await ClaimsClient(dev_env.client, TASK_QUEUE).intake(late)
    assert outcome.started

    late_id = f"claim-{late.encounter_id}"
    for _ in range(100):
        report = await json_of(cli, "stuck", "--days", "7")
        idle = {c["claim_id"]: c for c in report["no_progress"]}
        near = {c["claim_id"]: c for c in report["deadline_near"]}
        if idle_id in idle and late_id in near:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"stuck never listed both claims: {report}")
    assert idle[idle_id]["idle_days"] == 12 and idle[idle_id]["state"] == "submitted"
    assert near[late_id]["days_to_deadline"] == 5 and late_id not in idle
    groups = {(g["state"], g["payer_id"]): g for g in report["by_state_and_payer"]}
    assert groups[("submitted", "SMPIDLE")]["no_progress"] == 1
    assert groups[(near[late_id]["state"], late.coverage.payer_id)]["deadline_near"] >= 1

    text = await cli("stuck", "--days", "7")
    assert text.exit_code == 0 and idle_id in text.stdout and late_id in text.stdout
    assert report["no_progress_query"] in text.stdout  # a manager can save it as a view in the UI
    searches = report["saved_searches"]  # the demo prints the same three, from one definition
    assert [s["query"] for s in searches[1:]] == [report["no_progress_query"], report["deadline_near_query"]]
    assert "TaskPriority >= 3" in searches[0]["query"]
    assert all(search["name"] in text.stdout for search in searches)
    quiet = await json_of(cli, "stuck", "--days", "30")
    assert idle_id not in {c["claim_id"] for c in quiet["no_progress"]}
    await dev_env.client.get_workflow_handle(idle_id).terminate("test done")


async def test_unreadable_intake_file_starts_nothing_when_strict(cli: RunCli, tmp_path: Path) -> None:
    good = write(tmp_path, encounter(today(), 41))
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Bundle", "entry": [')
    result = await cli("intake", "--strict", str(good), str(bad))
    assert result.exit_code == 2
    assert (
        "nothing was started" in result.stderr and "bad.json" in result.stderr and "not JSON" in result.stderr
    )
    missing = await cli("claim", "show", encounter(today(), 41).encounter_id)
    assert missing.exit_code == 1
    # without --strict the good file starts and the bad one is named (tests/console/test_intake_batch.py)


async def test_bad_resolution_options_are_usage_errors(cli: RunCli, tmp_path: Path) -> None:
    partial = await cli("task", "resolve", "claim-x:1", "--action", "new_coverage", "--member-id", "M1")
    assert partial.exit_code == 2 and "missing --coverage-payer-id, --coverage-payer-name" in partial.stderr
    codes = await cli("task", "resolve", "claim-x:1", "--action", "codes", "--diagnoses", "E11.9,??")
    assert codes.exit_code == 2 and "--diagnoses" in codes.stderr
    lines = tmp_path / "lines.json"
    lines.write_text("[{}]")
    no_lines = await cli("task", "resolve", "claim-x:1", "--action", "codes", "--lines", str(lines))
    assert no_lines.exit_code == 2 and "procedure_code" in no_lines.stderr
    bad_action = await cli("task", "resolve", "claim-x:1", "--action", "pray")
    assert bad_action.exit_code == 2


async def test_temporal_unreachable_exits_3(cli: RunCli) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await cli("tasks", env={"TEMPORAL_ADDRESS": f"127.0.0.1:{port}"})
    assert result.exit_code == 3
    assert f"cannot reach Temporal at 127.0.0.1:{port}" in result.stderr and "claimflow up" in result.stderr


async def test_unknown_namespace_is_a_configuration_error(cli: RunCli) -> None:
    for command in (["tasks"], ["claim", "show", "E1"]):
        result = await cli(*command, env={"TEMPORAL_NAMESPACE": "no-such-namespace"})
        assert result.exit_code == 2, result.output
        assert "no-such-namespace" in result.stderr and "TEMPORAL_NAMESPACE" in result.stderr
