"""The CARC/RARC list shipped in the package answers every code the letters print."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from claimflow.claims.carc import (
    CodeType,
    UnknownCodeError,
    all_codes,
    carc_text,
    group_text,
    lookup,
    rarc_text,
)

SHARED = (
    Path(__file__).parents[2]
    / ".."
    / "shared"
    / "data"
    / "codesets"
    / "x12_carc_rarc_group_codes_2024jun.csv"
)


def test_the_package_copy_holds_the_whole_list() -> None:
    assert len(all_codes(CodeType.CARC)) == 405
    assert len(all_codes(CodeType.RARC)) == 1171
    assert {code.code for code in all_codes(CodeType.GROUP)} == {"CO", "CR", "OA", "PI", "PR"}
    if SHARED.exists():  # the reference copy is beside the repository on development machines
        with SHARED.open(encoding="utf-8") as file:
            assert sum(1 for _ in csv.DictReader(file)) == 405 + 1171 + 5


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("1", "Deductible"),
        ("29", "time limit for filing has expired"),
        ("50", "medical necessity"),
        ("97", "included in the payment/allowance for another service"),
        ("197", "authorization"),
    ],
)
def test_carc_texts(code: str, words: str) -> None:
    assert words in carc_text(code)


def test_rarc_and_group_texts() -> None:
    assert "bundled" in rarc_text("M15")
    assert group_text("co") == "Contractual Obligations"


def test_stop_dates_are_read() -> None:
    stopped = [code for code in all_codes(CodeType.CARC) if code.stop_date is not None]
    assert len(stopped) == 110
    assert all(not code.active_on(date(2030, 1, 1)) for code in stopped)
    assert lookup(CodeType.CARC, "45").active_on(date(2026, 1, 1))


def test_an_unknown_code_is_a_clear_error() -> None:
    with pytest.raises(UnknownCodeError, match=r"CARC 'Z99' is not in the X12/CMS code list"):
        carc_text("Z99")
