"""ClaimsClient's pure parts: ids and the bound on queries in flight."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from claimflow.claims import ids
from claimflow.claims.tasks import Task, TaskKind
from claimflow.console.claims_client import ClaimsClient, NotFound, TaskRow, workflow_id_of_task


async def test_listing_never_has_more_than_the_bound_in_flight() -> None:
    in_flight = peak = 0

    async def query(item: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return item * 2

    claims = ClaimsClient(client=None, task_queue="q", max_in_flight=50)  # type: ignore[arg-type]
    assert await claims._bounded(list(range(500)), query) == [i * 2 for i in range(500)]
    assert peak == 50


def test_a_claim_is_found_by_workflow_id_or_encounter_id() -> None:
    assert ids.claim_workflow_ids_for("E1") == ["claim-E1"]
    # encounter ids may say claim-
    assert ids.claim_workflow_ids_for("claim-E1") == ["claim-E1", "claim-claim-E1"]


def test_a_task_id_names_its_workflow() -> None:
    assert workflow_id_of_task("claim-E1:3") == "claim-E1"
    assert workflow_id_of_task("claim-claim-9:12") == "claim-claim-9"
    assert workflow_id_of_task("exceptions:2") == "claim-exceptions"
    assert workflow_id_of_task("appeal-E1-2:3") == "appeal-E1-2"
    assert ids.is_appeal_workflow(workflow_id_of_task("appeal-E1-2:3"))
    assert not ids.is_appeal_workflow(workflow_id_of_task("claim-appeal-1:1"))
    for bad in ("claim-E1", "claim-E1:x", ":1"):
        with pytest.raises(NotFound, match="is not a task id"):
            workflow_id_of_task(bad)


def test_a_task_is_overdue_only_while_open_and_past_due() -> None:
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    task = Task(
        id="claim-E1:1",
        kind=TaskKind.CODING,
        reason="no codes",
        created_at=now - timedelta(days=4),
        due_at=now - timedelta(minutes=1),
    )
    row = TaskRow(claim_id="claim-E1", task=task)
    assert row.overdue(now)
    assert not row.overdue(now - timedelta(minutes=2))
    resolved = row.model_copy(
        update={"task": task.model_copy(update={"resolved_at": now, "resolved_by": "c"})}
    )
    assert not resolved.overdue(now)
