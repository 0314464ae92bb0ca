"""Control numbers per sender (unique, increasing, reserved once per key) and inbound-file records."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from claimflow.integrations.ledger import InboundOutcome, InboundRecord, InterchangeRegistry, Ledger


@pytest.fixture
def registry(ledger: Ledger, database_url: str) -> Iterator[InterchangeRegistry]:
    interchanges = InterchangeRegistry(database_url)
    try:
        yield interchanges
    finally:
        interchanges.close()


def test_control_numbers_increase_per_sender(registry: InterchangeRegistry) -> None:
    assert [registry.next_control_number("CLAIMFLOW") for _ in range(3)] == [1, 2, 3]
    assert registry.next_control_number("OTHER") == 1
    assert registry.next_control_number("CLAIMFLOW") == 4


def test_a_reservation_gives_the_same_number_again(registry: InterchangeRegistry) -> None:
    first = registry.reserve_control_number("CLAIMFLOW", "E1-1")
    assert registry.reserve_control_number("CLAIMFLOW", "E1-1") == first
    second = registry.reserve_control_number("CLAIMFLOW", "E1-2")
    assert second > first
    assert registry.next_control_number("CLAIMFLOW") > second


def test_concurrent_callers_never_share_a_number(registry: InterchangeRegistry) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(lambda _: registry.next_control_number("CLAIMFLOW"), range(40)))
        reserved = set(pool.map(lambda _: registry.reserve_control_number("CLAIMFLOW", "same"), range(8)))
    assert sorted(numbers) == list(range(1, 41))
    assert len(reserved) == 1


def test_counters_start_above_submissions_recorded_before_them(
    ledger: Ledger, registry: InterchangeRegistry
) -> None:
    ledger.record_submission("E1", 177_000_123, "S1")
    assert registry.next_control_number("CLAIMFLOW") == 177_000_124


def test_inbound_files_are_recorded_once_with_their_interchange(registry: InterchangeRegistry) -> None:
    record = InboundRecord("sftp:ch/in", "F1.835", "835", InboundOutcome.ROUTED, "CLEARINGHOUSE", "000000007")
    registry.record_pickup(record)
    registry.record_pickup(record)  # a retried activity
    assert registry.picked_up("sftp:ch/in", ["F1.835", "F2.835"]) == {"F1.835"}
    assert registry.picked_up("sftp:other/in", ["F1.835"]) == set()
    assert registry.routed_interchange("CLEARINGHOUSE", "000000007") == "F1.835"
    assert registry.routed_interchange("CLEARINGHOUSE", "000000008") is None
    registry.record_pickup(InboundRecord("sftp:ch/in", "bad.x12", "unreadable", InboundOutcome.PARKED))
    assert registry.routed_interchange("CLEARINGHOUSE", "") is None
    assert registry.pickups("sftp:ch/in", ["F1.835", "bad.x12", "F3.835"]) == {
        "F1.835": InboundOutcome.ROUTED,
        "bad.x12": InboundOutcome.PARKED,
    }


def test_the_first_routed_file_of_an_interchange_keeps_its_content_hash(
    registry: InterchangeRegistry,
) -> None:
    box = "sftp:ch/in"
    registry.record_pickup(
        InboundRecord(box, "bad.835", "unreadable", InboundOutcome.PARKED, "CH", "000000009")
    )
    assert registry.first_routed("CH", "000000009") is None  # a parked file routed nothing
    registry.record_pickup(
        InboundRecord(box, "A.835", "835", InboundOutcome.ROUTED, "CH", "000000009", "ab" * 32)
    )
    registry.record_pickup(
        InboundRecord(box, "B.835", "duplicate", InboundOutcome.DUPLICATE, "CH", "000000009")
    )
    registry.record_pickup(InboundRecord(box, "T.ta1", "TA1", InboundOutcome.ENVELOPE, "CH", "000000010"))
    assert registry.first_routed("CH", "000000009") == ("A.835", "ab" * 32)
    assert registry.first_routed("CH", "000000010") == ("T.ta1", None)
