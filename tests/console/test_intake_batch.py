"""`claimflow intake` on a batch with bad files (dev server, scripted payer): every good encounter
starts, every document that cannot become a claim is parked on a fix_intake task with its findings,
a corrected encounter releases it; --strict keeps all-or-nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from claimflow.claims.intake_hold import HeldIntake
from claimflow.console import claims_cli
from claimflow.integrations.fhir import IntakeError
from tests.console.conftest import RunCli
from tests.console.test_commands import json_of, today, until_claim, until_listed, write
from tests.fhir.make_defect_corpus import OUT as DEFECTS
from tests.workflows.scripted import encounter

pytestmark = pytest.mark.asyncio(loop_scope="session")

BAD = (
    "defect-01-intake-claim-item-diagnosis-sequence.json",  # a pointer to no diagnosis
    "defect-03-intake-service-lines-procedure-code.json",  # a malformed procedure code
    "defect-04-intake-coverage-subscriber-id.json",  # no member id
    "defect-05-intake-claim-item-net.json",  # a negative charge
    "defect-06-intake-claim-provider.json",  # a reference to nothing
)


def bad_copy(tmp_path: Path, name: str) -> tuple[Path, str]:
    """The corpus document under a Claim id of its own (claims live on in the session's server)."""
    bundle = json.loads((DEFECTS / name).read_text())
    claim_id = f"held-{uuid.uuid4().hex[:12]}"
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Claim":
            entry["resource"]["id"] = claim_id
    path = tmp_path / name
    path.write_text(json.dumps(bundle))
    return path, f"claim-{claim_id}"


async def test_a_batch_starts_every_good_encounter_and_parks_every_bad_one(
    cli: RunCli, tmp_path: Path
) -> None:
    good = [encounter(today(), seed) for seed in (61, 62, 63)]
    good_files = [str(write(tmp_path, enc)) for enc in good]
    bad = [bad_copy(tmp_path, name) for name in BAD]
    files = [good_files[0], str(bad[0][0]), good_files[1], *(str(path) for path, _ in bad[1:]), good_files[2]]

    started = await json_of(cli, "intake", *files)
    assert [row["started"] for row in started] == [True] * len(files)
    held = {row["claim_id"] for row in started if row["held"]}
    assert held == {claim_id for _, claim_id in bad}
    assert {row["claim_id"] for row in started if not row["held"]} == {
        f"claim-{e.encounter_id}" for e in good
    }

    rows = await until_listed(cli, held, "--kind", "fix_intake")
    parked = {row["claim_id"]: row for row in rows if row["claim_id"] in held}
    assert set(parked) == held and {row["task"]["kind"] for row in parked.values()} == {"fix_intake"}
    for path, claim_id in bad:
        snapshot = await json_of(cli, "claim", "show", claim_id)
        (task,) = snapshot["tasks"]
        assert snapshot["state"] == "intake" and task["document"] == path.read_text()
        assert task["details"] and all(" at " in line for line in task["details"])
    shown = await cli("claim", "show", bad[0][1])
    assert shown.exit_code == 0 and "held at intake until its fix_intake task is resolved" in shown.stdout
    # the good ones went on to the payer's side of intake
    for enc in good:
        await until_claim(cli, f"claim-{enc.encounter_id}", lambda s: s["state"] != "intake")

    # a corrected encounter releases a parked claim into the lifecycle
    _, claim_id = bad[2]
    corrected = tmp_path / "corrected.json"
    corrected.write_text(encounter(today(), 64).model_dump_json())
    task_id = parked[claim_id]["task"]["id"]
    shown = await cli("task", "show", task_id)
    assert shown.exit_code == 0 and "correct | write_off" in shown.stdout and "subscriberId" in shown.stdout
    resolved = await cli("task", "resolve", task_id, "--action", "correct", "--encounter", str(corrected))
    assert resolved.exit_code == 0, resolved.output
    released = await until_claim(cli, claim_id, lambda s: s["state"] not in ("intake",))
    assert released["patient_control_number"] == claim_id.removeprefix("claim-")

    again = await cli("intake", *files)
    assert again.exit_code == 0 and again.stdout.count("already exists") == len(files)


async def test_a_file_that_is_no_document_is_refused_and_the_others_start(
    cli: RunCli, tmp_path: Path
) -> None:
    good = encounter(today(), 65)
    bad, held_id = bad_copy(tmp_path, BAD[1])
    junk = tmp_path / "junk.json"
    junk.write_text('{"resourceType": "Bundle", "entry": [')
    result = await cli("intake", str(write(tmp_path, good)), str(bad), str(junk))
    assert result.exit_code == 2
    assert "junk.json" in result.stderr and "not JSON" in result.stderr
    assert "held at intake" in result.stdout and "started" in result.stdout
    assert (await json_of(cli, "claim", "show", good.encounter_id))[
        "claim_id"
    ] == f"claim-{good.encounter_id}"
    assert (await json_of(cli, "claim", "show", held_id))["state"] == "intake"


async def test_strict_starts_nothing_unless_every_file_becomes_a_claim(cli: RunCli, tmp_path: Path) -> None:
    good = encounter(today(), 66)
    bad, held_id = bad_copy(tmp_path, BAD[0])
    result = await cli("intake", "--strict", str(write(tmp_path, good)), str(bad))
    assert result.exit_code == 2
    assert "nothing was started" in result.stderr and "Claim.item[0].diagnosisSequence" in result.stderr
    for claim_id in (good.encounter_id, held_id):
        assert (await cli("claim", "show", claim_id)).exit_code == 1


async def test_a_document_too_large_to_hold_is_refused_with_its_reason(tmp_path: Path) -> None:
    bundle = json.loads((DEFECTS / BAD[0]).read_text())
    bundle["meta"] = {"tag": [{"display": "x" * claims_cli.MAX_HELD_DOCUMENT_BYTES}]}
    path = tmp_path / "large.json"
    path.write_text(json.dumps(bundle))
    with pytest.raises(IntakeError, match="too large to hold"):
        claims_cli._read_for_intake(path)
    small = tmp_path / "small.json"
    small.write_text((DEFECTS / BAD[0]).read_text())
    held = claims_cli._read_for_intake(small)
    assert isinstance(held, HeldIntake) and held.document == small.read_text()
