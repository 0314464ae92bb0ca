"""A 277CA's or 277's STC codes in words: the shipped X12 claim status category (507) and claim
status code (508) lists answer the codes the console shows, and an unknown code is shown as it came."""

from __future__ import annotations

import pytest

from claimflow.claims.claim_status import UnknownCodeError, category_text, describe_status, status_code_text
from claimflow.console.web.views import codes_in


def test_category_and_status_code_have_their_published_texts() -> None:
    assert "Rejected for Invalid Information" in category_text("A7")
    assert "Rejected for Missing Information" in category_text("a6")
    assert category_text("F1") == "Finalized/Payment-The claim/line has been paid."
    assert status_code_text("562").startswith("Entity's National Provider Identifier (NPI)")
    assert status_code_text("20") == "Accepted for processing."
    for unknown in ("X9", "R17"):  # not listed, and listed without a description
        with pytest.raises(UnknownCodeError, match=unknown):
            category_text(unknown)
    with pytest.raises(UnknownCodeError):
        status_code_text("99999")


def test_a_status_reads_as_its_codes_with_their_meanings() -> None:
    words = describe_status("A7", "562", "85")
    assert words.startswith("A7 Acknowledgement/Rejected for Invalid Information")
    assert "status code 562: Entity's National Provider Identifier (NPI)" in words
    assert words.endswith("; entity 85")
    # unknown codes: the raw code, said to be unknown, nothing raised
    unknown = describe_status("X9", "99999")
    assert unknown.startswith("category X9 (not in the shipped") and "status code 99999 (not in" in unknown


def test_the_codes_table_explains_the_timelines_claim_statuses() -> None:
    notes = ["277CA rejected the claim: STC A7:562", "inquiry 1: 277 A1:20", "paid: CO-45", "STC Q9:1"]
    facts = codes_in(notes)
    by_code = {fact.code: fact.description for fact in facts}
    assert set(by_code) == {"A7:562", "A1:20", "CO-45", "Q9:1"}
    assert "Rejected for Invalid Information" in by_code["A7:562"] and "status code 562" in by_code["A7:562"]
    assert "status code 20: Accepted for processing" in by_code["A1:20"]
    assert by_code["Q9:1"].startswith("category Q9 (not in the shipped")
    assert codes_in(["at 12:30 the 999 came"]) == []  # a time is not a status
