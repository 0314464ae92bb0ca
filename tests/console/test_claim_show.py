"""`claimflow claim show`: a biller sees who and what the claim bills (patient, member id, date of
service, diagnoses, service lines with their codes), in the table and in --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.console.conftest import RunCli
from tests.console.test_commands import inactive, until_listed, write


@pytest.mark.asyncio(loop_scope="session")
async def test_claim_show_carries_the_encounter(cli: RunCli, tmp_path: Path) -> None:
    enc = inactive(9301)  # held on a coverage task: the claim stays put while we look
    assert (await cli("intake", str(write(tmp_path, enc)))).exit_code == 0
    claim_id = f"claim-{enc.encounter_id}"
    await until_listed(cli, {claim_id})

    shown = await cli("claim", "show", enc.encounter_id)
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())
    assert f"patient {enc.patient.last_name}, {enc.patient.first_name}" in text
    assert f"member id {enc.coverage.member_id}" in text
    assert f"date of service {enc.service_date.isoformat()}" in text
    for number, code in enumerate(enc.diagnoses, start=1):
        assert f"{number}. {code}" in text
    assert enc.service_lines
    for line in enc.service_lines:
        assert line.procedure_code in text and str(line.charge) in text

    as_json = await cli("claim", "show", claim_id, "--json")
    encounter = json.loads(as_json.stdout)["encounter"]
    assert encounter["patient"]["last_name"] == enc.patient.last_name
    assert encounter["coverage"]["member_id"] == enc.coverage.member_id
    assert encounter["service_date"] == enc.service_date.isoformat()
    assert encounter["diagnoses"] == enc.diagnoses
    assert [line["procedure_code"] for line in encounter["service_lines"]] == [
        line.procedure_code for line in enc.service_lines
    ]
