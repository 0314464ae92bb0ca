"""`claimflow x12 parse|check|837` driven through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimflow.claims.x12 import check, read_835, read_837, write_835
from claimflow.console.x12_cli import app
from tests.factories import varied_claims
from tests.x12.remittance_corpus import envelope, remittances

SAMPLES = Path(__file__).parent.parent / "data" / "x12-samples"
runner = CliRunner()


@pytest.fixture
def generated_835(tmp_path: Path) -> Path:
    path = tmp_path / "generated.835"
    path.write_text(write_835(remittances(seed=4, total_claims=12, per_remittance=6), envelope()))
    return path


def test_parse_json_of_an_835_lists_payment_claims_adjustments_and_findings(generated_835: Path) -> None:
    result = runner.invoke(app, ["parse", str(generated_835), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    expected = read_835(generated_835.read_bytes())
    transactions = document["transactions"]
    assert [t["kind"] for t in transactions] == ["835", "835"]
    first, model = transactions[0], expected[0]
    assert first["payment_amount"] == str(model.payment_amount)
    assert first["trace_number"] == model.trace_number
    assert first["payer_id"] == model.payer_id
    assert first["balancing_findings"] == []
    claim, claim_model = first["claims"][0], model.claims[0]
    assert claim["patient_control_number"] == claim_model.patient_control_number
    assert claim["status_code"] == claim_model.status.value
    assert (claim["charge"], claim["paid"]) == (str(claim_model.charge), str(claim_model.paid))
    assert claim["payer_claim_number"] == claim_model.payer_claim_number
    line, line_model = claim["service_lines"][0], claim_model.service_lines[0]
    assert line["adjustments"] == [
        {"group": a.group.value, "reason": a.reason, "amount": str(a.amount)} for a in line_model.adjustments
    ]


def test_parse_json_reports_balancing_findings_of_a_real_file() -> None:
    path = SAMPLES / "derived" / "835__CLP_unbalanced_CLP03_minus_CLP04_ne_CAS.x12"
    result = runner.invoke(app, ["parse", str(path), "--json"])
    assert result.exit_code == 0, result.output
    levels = [f["level"] for f in json.loads(result.output)["transactions"][0]["balancing_findings"]]
    assert levels == ["claim", "file"]


def test_parse_json_of_a_999_is_the_model() -> None:
    result = runner.invoke(app, ["parse", str(SAMPLES / "999" / "ims__x12_999_rejected.txt"), "--json"])
    assert result.exit_code == 0, result.output
    (ack,) = json.loads(result.output)["transactions"]
    assert ack["kind"] == "999"
    assert ack["result"]["status"] == "R"
    assert ack["result"]["transaction_sets"][0]["errors"][0]["segment_id"] == "NM"


def test_parse_summary_names_each_claim(generated_835: Path) -> None:
    result = runner.invoke(app, ["parse", str(generated_835)])
    assert result.exit_code == 0, result.output
    assert "claim PCN0000000 status" in result.output


def test_parse_of_a_file_with_an_unreadable_value_says_where_and_exits_1() -> None:
    result = runner.invoke(app, ["parse", str(SAMPLES / "835" / "lfh__managed-care.835")])
    assert result.exit_code == 1
    assert "BPR16, segment 4" in result.output
    assert "what to do" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["parse", "check"])
def test_input_that_is_not_x12_exits_2_without_a_traceback(command: str, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not an interchange")
    result = runner.invoke(app, [command, str(path)])
    assert result.exit_code == 2
    assert "does not start with an ISA segment" in result.output
    missing = runner.invoke(app, [command, str(tmp_path / "absent.x12")])
    assert missing.exit_code == 2
    assert "cannot read" in missing.output


def test_check_json_lists_findings_with_their_place() -> None:
    path = SAMPLES / "derived" / "837p__SE01_count_plus_1.x12"
    result = runner.invoke(app, ["check", str(path), "--json"])
    assert result.exit_code == 1
    (finding,) = json.loads(result.output)
    assert (finding["code"], finding["segment_id"], finding["element"]) == ("SE01_COUNT", "SE", 1)


def test_837_writes_a_claim_file_from_an_encounter_json(tmp_path: Path) -> None:
    claim = varied_claims(1, seed=21)[0]
    path = tmp_path / "encounter.json"
    path.write_text(claim.encounter.model_dump_json())
    result = runner.invoke(app, ["837", str(path)])
    assert result.exit_code == 0, result.output
    assert check(result.output) == []
    (read,) = read_837(result.output)
    assert read.encounter == claim.encounter
    assert read.patient_control_number == claim.encounter.encounter_id


def test_837_type_follows_the_claim_and_the_flags_only_override(tmp_path: Path) -> None:
    institutional = tmp_path / "institutional.json"
    institutional.write_text(varied_claims(1, seed=2, institutional=True)[0].encounter.model_dump_json())
    written = runner.invoke(app, ["837", str(institutional)])
    assert written.exit_code == 0, written.output
    assert "005010X223A2" in written.output and check(written.output) == []
    assert runner.invoke(app, ["837", str(institutional), "--institutional"]).output == written.output
    as_professional = runner.invoke(app, ["837", str(institutional), "--professional"])
    assert as_professional.exit_code == 0, as_professional.output
    assert "005010X222A1" in as_professional.output and check(as_professional.output) == []
    professional = tmp_path / "professional.json"
    professional.write_text(varied_claims(1, seed=2)[0].encounter.model_dump_json())
    plain = runner.invoke(app, ["837", str(professional)])
    assert plain.exit_code == 0 and "005010X222A1" in plain.output


def test_837_a_professional_encounter_cannot_be_forced_to_837i(tmp_path: Path) -> None:
    professional = tmp_path / "professional.json"
    professional.write_text(varied_claims(1, seed=2)[0].encounter.model_dump_json())
    result = runner.invoke(app, ["837", str(professional), "--institutional"])
    assert result.exit_code == 2
    assert "cannot be an 837I" in result.output and "drop --institutional" in result.output
    both = runner.invoke(app, ["837", str(professional), "--institutional", "--professional"])
    assert both.exit_code == 2 and "both given" in both.output


def test_837_of_an_institutional_fhir_bundle_is_an_837i() -> None:
    corpus = Path(__file__).resolve().parents[1] / "data" / "fhir"
    bundle = next(
        path for path in sorted(corpus.glob("clean-*.json")) if '"code": "institutional"' in path.read_text()
    )
    result = runner.invoke(app, ["837", str(bundle)])
    assert result.exit_code == 0, result.output
    assert "005010X223A2" in result.output and check(result.output) == []


def test_837_of_an_invalid_encounter_names_the_fields(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"encounter_id": "E1"}))
    result = runner.invoke(app, ["837", str(path)])
    assert result.exit_code == 2
    assert "billing_provider" in result.output
    assert "Traceback" not in result.output
