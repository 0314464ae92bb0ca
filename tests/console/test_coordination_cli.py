"""`claimflow underpayments`, `claimflow eob` and an underpayment task resolved from the command line,
against the dev server, the scripted payer and the real contract check (tests/console/conftest)."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from claimflow.claims.lifecycle import ClaimInput, ClaimState
from claimflow.integrations.fhir.eob import validate
from claimflow.workflows.claim import ClaimWorkflow
from tests.console.conftest import RunCli
from tests.console.test_commands import json_of, submitted, today, until_claim
from tests.workflows.scripted import ack_277ca, ack_999, until
from tests.workflows.test_underpayments import hmo_encounter, remit

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_underpayments_by_payer_eob_and_a_contract_correction(
    cli: RunCli, tmp_path: Path, dev_env: WorkflowEnvironment
) -> None:
    enc = hmo_encounter(today(), 71)
    claim = await submitted(cli, dev_env.client, tmp_path, enc)
    await claim.signal(ClaimWorkflow.payer_event, ack_999())
    await claim.signal(ClaimWorkflow.payer_event, ack_277ca(enc.encounter_id))
    await until(claim, lambda s: s.state is ClaimState.ACCEPTED, "accepted")
    await claim.signal(ClaimWorkflow.payer_event, remit(enc, "112.00"))
    snapshot = await until_claim(cli, enc.encounter_id, lambda s: bool(s["underpayments"]))
    (case,) = snapshot["underpayments"]
    assert case["finding"]["shortfall"] == "6.00" and case["status"] == "open"

    rows = await json_of(cli, "underpayments")
    hmo = next(row for row in rows if row["payer_id"] == "SMPHMO")
    assert hmo["open_lines"] >= 1 and Decimal(hmo["open_amount"]) >= Decimal("6.00")
    table = await cli("underpayments")
    assert table.exit_code == 0 and "underpayments by payer" in table.stdout and "SMPHMO" in table.stdout

    out = tmp_path / "eob.json"
    written = await cli("eob", enc.encounter_id, "--out", str(out))
    assert written.exit_code == 0, written.output
    bundle = json.loads(out.read_text())
    validate(bundle)
    (eob,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ExplanationOfBenefit"
    ]
    assert eob["payment"]["amount"]["value"] == 117

    no_rate = await cli(
        "task", "resolve", case["task_id"], "--action", "correct_contract", "--reason", "old rate"
    )
    assert no_rate.exit_code == 2 and "--rate" in no_rate.stderr
    corrected = await cli(
        "task",
        "resolve",
        case["task_id"],
        "--action",
        "correct_contract",
        "--rate",
        "112.00",
        "--reason",
        "old rate",
    )
    assert corrected.exit_code == 0, corrected.output
    done = await until_claim(cli, enc.encounter_id, lambda s: s["underpayments"][0]["status"] != "open")
    assert done["underpayments"][0]["status"] == "contract_corrected"
    assert done["underpayments"][0]["corrected_rate"] == "112.00"


async def test_a_claim_closed_before_any_worker_ran_it_is_left_out_of_the_report(
    cli: RunCli, dev_env: WorkflowEnvironment
) -> None:
    never_ran = f"claim-never-ran-{uuid.uuid4().hex[:8]}"
    handle = await dev_env.client.start_workflow(
        ClaimWorkflow.run,
        ClaimInput(encounter=hmo_encounter(today(), 72)),
        id=never_ran,
        task_queue="nobody-polls",
    )
    await handle.terminate("started on the wrong task queue")
    report = await cli("underpayments", "--json")
    assert report.exit_code == 0, report.output
    shown = await cli("claim", "show", never_ran)
    assert shown.exit_code != 0 and "before any worker ran it" in shown.stderr, shown.output
