"""The issue-15 corpus (tests/data/fhir_defects): every defect, met reading the Bundle or by a rule, is
an error finding in its category at its FHIR path and 837 segment, printed by `claimflow scrub --json`;
every clean twin has no finding at all, and its 837 passes pyx12."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from claimflow.claims.encounter import ClaimKind
from claimflow.claims.scrub import Category
from claimflow.claims.x12 import write_837
from claimflow.claims.x12.writer import Envelope
from claimflow.console.main import app
from claimflow.integrations.fhir import read_file
from tests.fhir import make_defect_corpus
from tests.x12.oracle import pyx12_errors

CORPUS = make_defect_corpus.OUT
MANIFEST: dict[str, dict[str, Any]] = json.loads((CORPUS / "manifest.json").read_text())
DEFECTS = sorted(name for name, meta in MANIFEST.items() if meta["defect"])
TWINS = sorted(name for name, meta in MANIFEST.items() if meta["defect"] is None)
runner = CliRunner()


def _scrub(name: str) -> tuple[int, list[dict[str, Any]]]:
    meta = MANIFEST[name]
    arguments = ["scrub", str(CORPUS / name), "--as-of", meta["as_of"], "--json"]
    if meta.get("known"):
        arguments += ["--known", str(CORPUS / meta["known"])]
    result = runner.invoke(app, arguments)
    return result.exit_code, json.loads(result.output)


def _found(meta: dict[str, Any], findings: list[dict[str, Any]]) -> bool:
    """The seeded defect is an error finding with its rule, category, FHIR path and 837 segment."""
    expected = meta["defect"]
    return any(
        finding["severity"] == "error"
        and all(finding[key] == expected[key] for key in ("rule", "category", "fhir_path", "x12"))
        for finding in findings
    )


def test_the_corpus_pairs_every_defect_with_a_clean_twin_across_every_category(tmp_path: Path) -> None:
    assert len(MANIFEST) >= 60 and len(DEFECTS) == len(TWINS)
    for name in DEFECTS:
        assert MANIFEST[MANIFEST[name]["twin"]]["twin"] == name
    assert {MANIFEST[name]["defect"]["category"] for name in DEFECTS} == {c.value for c in Category}
    # the generator is deterministic: what is checked in is what it writes
    make_defect_corpus.main(tmp_path)
    for path in sorted(tmp_path.iterdir()):
        assert path.read_text() == (CORPUS / path.name).read_text(), path.name
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("name", DEFECTS)
def test_each_defect_is_found_in_its_category_and_located(name: str) -> None:
    code, findings = _scrub(name)
    errors = [finding for finding in findings if finding["severity"] == "error"]
    assert code == 1 and _found(MANIFEST[name], findings), errors
    # one defect, one problem: nothing else is reported as an error
    assert {finding["category"] for finding in errors} == {MANIFEST[name]["defect"]["category"]}, errors
    for finding in findings:
        assert finding["message"] and finding["fix"] and finding["location"]


@pytest.mark.parametrize("name", TWINS)
def test_each_clean_twin_has_no_finding(name: str) -> None:
    code, findings = _scrub(name)
    assert (code, findings) == (0, [])


def test_recall_and_false_error_rate() -> None:
    """The figures the README quotes: recall over the seeded defects, false errors over the twins."""
    found = sum(_found(MANIFEST[name], _scrub(name)[1]) for name in DEFECTS)
    false_errors = sum(any(f["severity"] == "error" for f in _scrub(name)[1]) for name in TWINS)
    assert (found, len(DEFECTS)) == (len(DEFECTS), len(DEFECTS))
    assert false_errors == 0


ENVELOPE = Envelope(
    sender_id="CLAIMFLOW",
    receiver_id="SMPCLEARING",
    interchange_control_number=1515,
    created=datetime(2026, 11, 2, 9, 30),
)


@pytest.mark.parametrize("name", TWINS)
def test_each_clean_twin_837_passes_pyx12(name: str) -> None:
    read = read_file(CORPUS / name)
    claim = read.claim()
    text = write_837([claim], ENVELOPE)
    guide = "005010X223A2" if claim.encounter.kind is ClaimKind.INSTITUTIONAL else "005010X222A1"
    assert guide in text
    assert pyx12_errors(text) == []


def test_reading_a_bundle_reports_every_problem_not_only_the_first(tmp_path: Path) -> None:
    """Five defects met while reading, in one bundle: five located findings in one JSON list."""
    chosen = {
        "intake-claim-item-diagnosis-sequence",
        "intake-place-of-service",
        "intake-coverage-subscriber-id",
        "intake-claim-provider",
        "intake-patient-gender",
    }
    defects = [next(d for d in make_defect_corpus.DEFECTS if d.rule == rule) for rule in sorted(chosen)]
    assert len(defects) == len(chosen)
    bundle = json.loads((CORPUS / "twin-01-intake-claim-item-diagnosis-sequence.json").read_text())
    for defect in defects:
        defect.mutate(bundle)
    path = tmp_path / "five-defects.json"
    path.write_text(json.dumps(bundle))
    result = runner.invoke(app, ["scrub", str(path), "--json"])
    assert result.exit_code == 1
    found = {(f["rule"], f["fhir_path"], f["x12"]) for f in json.loads(result.output)}
    assert {(d.rule, d.fhir_path, d.x12) for d in defects} <= found
