"""`claimflow tasks`: the most urgent work first, each task beside its patient, date of service,
amount at stake and age; `--sort` for another order."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from claimflow.claims.lifecycle import ClaimSnapshot, ClaimState
from claimflow.claims.tasks import Priority, Task, TaskKind
from claimflow.console.claims_client import TaskRow
from claimflow.console.worklist import SortKey, WorkItem, sort_work, work_items
from tests.console.conftest import RunCli
from tests.console.test_commands import inactive, uncoded, until_listed, write
from tests.workflows.scripted import encounter

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _task(number: int, priority: Priority, due_in_days: int, kind: TaskKind = TaskKind.CODING) -> Task:
    return Task(
        id=f"claim-E{number}:1",
        kind=kind,
        reason="r",
        created_at=NOW - timedelta(days=1),
        due_at=NOW + timedelta(days=due_in_days),
        priority=priority,
    )


def _item(number: int, priority: Priority, due_in_days: int, **facts: object) -> WorkItem:
    return WorkItem(claim_id=f"claim-E{number}", task=_task(number, priority, due_in_days), **facts)  # type: ignore[arg-type]


def test_the_high_priority_timely_filing_risks_come_first_though_due_later() -> None:
    items = [
        _item(1, Priority.NORMAL, 1),
        _item(2, Priority.HIGH, 9),
        _item(3, Priority.LOW, 0),
        _item(4, Priority.HIGH, 5),
        _item(5, Priority.URGENT, 30),
        _item(6, Priority.NORMAL, 2),
    ]
    assert [i.claim_id for i in sort_work(items)] == [
        "claim-E5", "claim-E4", "claim-E2", "claim-E1", "claim-E6", "claim-E3",
    ]  # fmt: skip
    assert [i.claim_id for i in sort_work(items, SortKey.DUE)][:3] == ["claim-E3", "claim-E1", "claim-E6"]


def test_sort_by_amount_patient_date_of_service_and_age() -> None:
    items = [
        _item(1, Priority.NORMAL, 1, patient="Young, Ann", date_of_service=date(2026, 2, 20),
              amount_at_stake=Decimal("80.00"), age_days=10),
        _item(2, Priority.NORMAL, 2, patient="abbott, Bo", date_of_service=date(2025, 12, 1),
              amount_at_stake=Decimal("1200.00"), age_days=91),
        _item(3, Priority.HIGH, 3),  # an unmatched remittance: no claim, so nothing to show
        _item(4, Priority.NORMAL, 4, patient="Miller, Cy", date_of_service=date(2026, 1, 15),
              amount_at_stake=Decimal("0.00"), age_days=46),
    ]  # fmt: skip
    order = {key: [i.claim_id[-1] for i in sort_work(items, key)] for key in SortKey}
    assert order[SortKey.AMOUNT] == ["2", "1", "4", "3"]
    assert order[SortKey.PATIENT] == ["2", "4", "1", "3"]  # case does not matter; no name last
    assert order[SortKey.DOS] == order[SortKey.AGE] == ["2", "4", "1", "3"]


def test_each_row_carries_patient_dos_amount_at_stake_and_age() -> None:
    enc = encounter(NOW.date() - timedelta(days=20), 41)  # its date of service is the date given
    snapshot = ClaimSnapshot(
        claim_id=f"claim-{enc.encounter_id}",
        state=ClaimState.DENIED,
        payer_id=enc.coverage.payer_id,
        patient_control_number=enc.encounter_id,
        billed=Decimal("300.00"),
        paid=Decimal("120.00"),
        patient_paid=Decimal("20.00"),
        adjusted=Decimal("60.00"),
        submissions=1,
        encounter=enc,
    )
    rows = [
        TaskRow(claim_id=snapshot.claim_id, task=_task(1, Priority.HIGH, 3)),
        TaskRow(
            claim_id="claim-exceptions", task=_task(2, Priority.NORMAL, 1, TaskKind.UNMATCHED_REMITTANCE)
        ),
    ]
    item, bare = work_items(rows, {snapshot.claim_id: snapshot}, NOW.date())
    assert item.patient == f"{enc.patient.last_name}, {enc.patient.first_name}"
    assert item.date_of_service == enc.service_date == NOW.date() - timedelta(days=20)
    assert item.age_days == 20
    assert item.amount_at_stake == Decimal("100.00")  # 300 billed - 120 paid - 20 patient - 60 contractual
    assert bare.patient is None and bare.amount_at_stake is None and bare.task.id == "claim-E2:1"


@pytest.mark.asyncio(loop_scope="session")
async def test_the_command_shows_and_sorts_them(cli: RunCli, tmp_path: Path) -> None:
    first, second = inactive(9101), uncoded(9102)
    for enc in (first, second):
        started = await cli("intake", str(write(tmp_path, enc)))
        assert started.exit_code == 0, started.output
    ids = {f"claim-{enc.encounter_id}" for enc in (first, second)}
    rows = [row for row in await until_listed(cli, ids) if row["claim_id"] in ids]
    by_claim = {row["claim_id"]: row for row in rows}
    shown = by_claim[f"claim-{first.encounter_id}"]
    assert shown["patient"] == f"{first.patient.last_name}, {first.patient.first_name}"
    assert shown["date_of_service"] == first.service_date.isoformat()
    assert Decimal(shown["amount_at_stake"]) == sum(line.charge for line in first.service_lines)
    assert shown["age_days"] == (datetime.now(UTC).date() - first.service_date).days

    listed = await cli("tasks", "--sort", "patient", "--json")
    assert listed.exit_code == 0, listed.output
    names = [row["patient"] for row in json.loads(listed.stdout) if row["patient"]]
    assert names == sorted(names, key=str.casefold)
    table = await cli("tasks", "--kind", "coverage_issue")
    text = " ".join(table.stdout.split())
    assert (
        "by priority" in text and first.patient.last_name in text and first.service_date.isoformat() in text
    )
    refused = await cli("tasks", "--sort", "size")
    assert refused.exit_code == 2 and "priority" in refused.output
