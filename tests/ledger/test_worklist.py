"""Who holds a task and the notes on it: each change in one transaction with its audit entry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from claimflow.integrations.ledger import Ledger
from claimflow.integrations.ledger.worklist import NOTE_MAX_CHARS, Worklist


@pytest.fixture
def worklist(database_url: str) -> Iterator[Worklist]:
    desk = Worklist(database_url)
    try:
        yield desk
    finally:
        desk.close()


def test_assign_reassign_release_each_audited(worklist: Worklist, ledger: Ledger) -> None:
    worklist.assign("claim-E1:1", "E1", "amy", by="amy")
    worklist.assign("claim-E1:1", "E1", "bob", by="mgr")
    worklist.assign("claim-E2:1", "E2", "amy", by="amy")
    held = worklist.assignments()
    assert {task: a.assignee for task, a in held.items()} == {"claim-E1:1": "bob", "claim-E2:1": "amy"}
    assert set(worklist.assignments(["claim-E2:1", "claim-E9:1"])) == {"claim-E2:1"}

    worklist.release("claim-E1:1", "E1", by="bob")
    worklist.release("claim-E1:1", "E1", by="bob")  # nobody holds it: nothing changes, nothing recorded
    assert set(worklist.assignments()) == {"claim-E2:1"}
    trail = [(e.actor, e.action, e.details) for e in ledger.audit("E1")]
    assert trail == [
        ("amy", "task_assigned", {"task_id": "claim-E1:1", "assignee": "amy", "previous": None}),
        ("mgr", "task_assigned", {"task_id": "claim-E1:1", "assignee": "bob", "previous": "amy"}),
        ("bob", "task_released", {"task_id": "claim-E1:1", "previous": "bob"}),
    ]


def test_notes_by_task_and_claim_and_their_text_stays_out_of_the_audit(
    worklist: Worklist, ledger: Ledger
) -> None:
    worklist.add_note("claim-E1:1", "claim-E1", "E1", "amy", "  called the payer, ref 42  ")
    worklist.add_note("claim-E1:2", "claim-E1", "E1", "bob", "waiting on the coder")
    assert [n.text for n in worklist.notes(task_id="claim-E1:1")] == ["called the payer, ref 42"]
    assert [n.author for n in worklist.notes(claim_id="claim-E1")] == ["amy", "bob"]
    assert all("text" not in e.details for e in ledger.audit("E1"))

    with pytest.raises(ValueError, match="needs some text"):
        worklist.add_note("claim-E1:1", "claim-E1", "E1", "amy", "   ")
    with pytest.raises(ValueError, match=f"at most {NOTE_MAX_CHARS}"):
        worklist.add_note("claim-E1:1", "claim-E1", "E1", "amy", "x" * (NOTE_MAX_CHARS + 1))
    assert len(worklist.notes(claim_id="claim-E1")) == 2
