"""The real-world corpus: every file is read or refused with a typed error naming the place, and
every derived negative is reported by the check (and `claimflow x12 check`) with its fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from claimflow.claims.x12 import X12Error, check, parse
from claimflow.claims.x12.check import Severity
from claimflow.console.x12_cli import app

SAMPLES = Path(__file__).parent.parent / "data" / "x12-samples"
FILES = sorted(p for p in SAMPLES.glob("*/*") if p.suffix not in (".md", ".json"))
DERIVED = SAMPLES / "derived"

# file -> (finding code, segment id, element) the fault must be reported as
DERIVED_FAULTS = {
    "837p__missing_NM1_85_segment_only.x12": ("SEGMENT_MISSING", "HL", None),
    "837p__missing_2010AA_billing_provider_loop.x12": ("SEGMENT_MISSING", "HL", None),
    "837p__SE01_count_plus_1.x12": ("SE01_COUNT", "SE", 1),
    "837p__SE02_ne_ST02.x12": ("SE02_MISMATCH", "SE", 2),
    "837p__GE01_wrong_count.x12": ("GE01_COUNT", "GE", 1),
    "837p__HL_parent_bad.x12": ("HL_PARENT", "HL", 2),
    "837p__NPI_bad_luhn_check_digit.x12": ("NPI_CHECK_DIGIT", "NM1", 9),
    "837p__SBR09_invalid_code.x12": ("INVALID_CODE", "SBR", 9),
    "837p__DTP_invalid_date.x12": ("INVALID_DATE", "DTP", 3),
    "837p__CLM02_not_sum_of_SV102.x12": ("CLAIM_TOTAL", "CLM", 2),
    "835__missing_TRN.x12": ("SEGMENT_MISSING", "ST", None),
    "835__BPR02_ne_sum_of_CLP04.x12": ("BALANCE_FILE", "BPR", 2),
    "835__CLP_unbalanced_CLP03_minus_CLP04_ne_CAS.x12": ("BALANCE_CLAIM", "CLP", 3),
    "835__CLP02_invalid_status.x12": ("INVALID_CODE", "CLP", 2),
}


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 80
    negatives = {p.name for p in DERIVED.glob("*.x12")} - {"837p__baseline_lfh_demo.example1_X222A1.x12"}
    assert negatives == set(DERIVED_FAULTS)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_file_is_read_or_refused_with_the_place(path: Path) -> None:
    data = path.read_bytes()
    try:
        parsed = parse(data)
    except X12Error as exc:
        assert exc.segment_id or exc.position, f"{path.name}: {exc} names no place"
    else:
        assert parsed, f"{path.name}: no transaction set read"
    check(data)  # the check never raises on a readable file


def test_the_baseline_of_the_negatives_is_clean() -> None:
    assert check((DERIVED / "837p__baseline_lfh_demo.example1_X222A1.x12").read_bytes()) == []


@pytest.mark.parametrize("name", sorted(DERIVED_FAULTS))
def test_each_derived_negative_is_reported_with_its_fault(name: str) -> None:
    code, segment_id, element = DERIVED_FAULTS[name]
    findings = check((DERIVED / name).read_bytes())
    errors = [f for f in findings if f.severity is Severity.ERROR]
    assert (code, segment_id, element) in {(f.code, f.segment_id, f.element) for f in errors}, findings
    assert all(f.position for f in errors)


@pytest.mark.parametrize("name", sorted(DERIVED_FAULTS))
def test_the_check_command_exits_1_and_names_the_fault(name: str) -> None:
    result = CliRunner().invoke(app, ["check", str(DERIVED / name)])
    assert result.exit_code == 1, result.output
    assert DERIVED_FAULTS[name][0] in result.output


def test_the_check_command_passes_the_baseline() -> None:
    result = CliRunner().invoke(app, ["check", str(DERIVED / "837p__baseline_lfh_demo.example1_X222A1.x12")])
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output
