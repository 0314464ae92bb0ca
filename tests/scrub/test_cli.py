"""`claimflow scrub FILE`: findings as text or JSON, and exit codes 0 clean, 1 errors, 2 unreadable."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from claimflow.console.main import app
from claimflow.integrations.fhir import load_encounter

CORPUS = Path(__file__).resolve().parents[1] / "data" / "fhir"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
runner = CliRunner()


def _scrub(name: str, *options: str) -> tuple[int, str]:
    result = runner.invoke(app, ["scrub", str(CORPUS / name), "--as-of", MANIFEST[name]["as_of"], *options])
    return result.exit_code, result.output


def test_a_clean_bundle_exits_0() -> None:
    code, output = _scrub("clean-01.json")
    assert code == 0 and "clean" in output
    code, output = _scrub("clean-01.json", "--json")
    assert code == 0 and json.loads(output) == []


def test_a_warning_alone_exits_0_and_is_listed(tmp_path: Path) -> None:
    """A rule that cannot decide warns (here: no coverage period to check the dates against); a
    warning is no error, so the exit code stays 0."""
    bundle = json.loads((CORPUS / "clean-01.json").read_text())
    (coverage,) = (e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Coverage")
    del coverage["period"]
    path = tmp_path / "no-period.json"
    path.write_text(json.dumps(bundle))
    result = runner.invoke(app, ["scrub", str(path), "--as-of", MANIFEST["clean-01.json"]["as_of"], "--json"])
    assert result.exit_code == 0, result.output
    (finding,) = json.loads(result.output)
    assert (finding["rule"], finding["severity"]) == ("coverage-period-unknown", "warning")
    assert finding["fhir_path"] == "Coverage.period"


def test_an_error_finding_exits_1_with_json_findings() -> None:
    name = next(
        n for n, meta in MANIFEST.items() if meta["defect"] and meta["defect"]["rule"] == "ptp-never-together"
    )
    code, output = _scrub(name, "--json")
    assert code == 1
    (finding,) = json.loads(output)
    assert finding["category"] == "ncci_ptp" and finding["severity"] == "error"
    assert finding["rule"] == "ptp-never-together" and finding["location"].startswith("service_lines[")
    assert "G0439" in finding["message"]


def test_text_output_names_rule_location_and_fix() -> None:
    name = next(
        n for n, meta in MANIFEST.items() if meta["defect"] and meta["defect"]["category"] == "authorization"
    )
    code, output = _scrub(name)
    assert code == 1
    assert "authorization-missing" in output and "fix: Obtain the authorization number" in output


def test_known_claims_find_duplicates() -> None:
    name, meta = next((n, m) for n, m in MANIFEST.items() if m.get("known"))
    assert _scrub(name)[0] == 0
    code, output = _scrub(name, "--known", str(CORPUS / meta["known"]), "--json")
    assert code == 1 and {f["category"] for f in json.loads(output)} == {"duplicate"}


def test_as_of_decides_timely_filing() -> None:
    late = runner.invoke(app, ["scrub", str(CORPUS / "clean-01.json"), "--as-of", "2028-01-01", "--json"])
    assert late.exit_code == 1 and "timely-filing-expired" in late.output


def test_encounter_json_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "encounter.json"
    path.write_text(load_encounter(CORPUS / "clean-01.json").model_dump_json())
    result = runner.invoke(app, ["scrub", str(path), "--as-of", MANIFEST["clean-01.json"]["as_of"]])
    assert result.exit_code == 0, result.output


def test_unreadable_input_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    result = runner.invoke(app, ["scrub", str(broken)])
    assert result.exit_code == 2 and "not JSON" in result.output
    assert runner.invoke(app, ["scrub", str(tmp_path / "absent.json")]).exit_code == 2
    assert runner.invoke(app, ["scrub", str(CORPUS / "clean-01.json"), "--as-of", "soon"]).exit_code == 2


def test_a_json_object_that_is_no_encounter_is_a_usage_error(tmp_path: Path) -> None:
    other = tmp_path / "package.json"
    other.write_text(json.dumps({"name": "x", "version": 1}))
    result = runner.invoke(app, ["scrub", str(other), "--json"])
    assert result.exit_code == 2 and "no encounter field" in result.output
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"encounter_id": "E1"}))
    read = runner.invoke(app, ["scrub", str(partial), "--json"])
    assert read.exit_code == 1 and {f["rule"] for f in json.loads(read.output)} >= {"intake-patient"}
