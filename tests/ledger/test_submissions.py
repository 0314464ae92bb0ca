"""The submission registry: how a 999, which names only a group control number, finds its claims."""

from __future__ import annotations

from claimflow.integrations.ledger import Ledger


def test_claims_of_a_submission_by_group_control_number(ledger: Ledger) -> None:
    ledger.record_submission("ENC-A", 123, "SUB-1")
    ledger.record_submission("ENC-B", 123, "SUB-1")
    ledger.record_submission("ENC-C", 124, "SUB-2")
    assert ledger.claims_for_submission("123") == ["ENC-A", "ENC-B"]
    assert ledger.claims_for_submission("000000124") == ["ENC-C"]  # AK102 as the 999 may pad it
    assert ledger.claims_for_submission("999") == []


def test_recording_a_submission_twice_keeps_one(ledger: Ledger) -> None:
    ledger.record_submission("ENC-A", 7, "SUB-1")
    ledger.record_submission("ENC-A", 7, "SUB-1")  # a retried activity
    assert ledger.claims_for_submission("7") == ["ENC-A"]
