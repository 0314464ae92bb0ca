"""The read model's tables: a workflow's projection replaces its task rows, a claim's facts reach
every task of the claim, lists filter and sort in the database, A/R aging buckets by date of service."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from claimflow.integrations.ledger import Ledger
from claimflow.integrations.ledger.readmodel import (
    ClaimView,
    Projection,
    ReadModel,
    SourceView,
    TaskSort,
    TaskView,
)
from claimflow.integrations.ledger.worklist import Worklist

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


@pytest.fixture
def model(database_url: str) -> Iterator[ReadModel]:
    store = ReadModel(database_url)
    try:
        yield store
    finally:
        store.close()


def _claim(number: int, *, days_old: int, balance: str, patient: str = "Doe, Jo") -> ClaimView:
    return ClaimView(
        claim_id=f"claim-E{number}",
        state="submitted",
        payer_id="P1" if number % 2 else "P2",
        billed=Decimal("100.00"),
        balance=Decimal(balance),
        amount_at_stake=Decimal(balance),
        patient=patient,
        date_of_service=TODAY - timedelta(days=days_old),
        last_progress_at=NOW,
    )


def _task(
    claim: ClaimView, number: int, *, priority: int = 2, due_in: int = 1, kind: str = "coding"
) -> TaskView:
    return TaskView(
        task_id=f"{claim.claim_id}:{number}",
        workflow_id=claim.claim_id,
        claim_id=claim.claim_id,
        kind=kind,
        reason="r",
        priority=priority,
        due_at=NOW + timedelta(days=due_in),
        created_at=NOW,
        patient=claim.patient,
        date_of_service=claim.date_of_service,
        payer_id=claim.payer_id,
        amount_at_stake=claim.amount_at_stake,
        claim_state=claim.state,
    )


def _projection(claim: ClaimView, *tasks: TaskView) -> Projection:
    source = SourceView(
        workflow_id=claim.claim_id, workflow_type="ClaimWorkflow", run_id="r1", claim_id=claim.claim_id,
        status="Running", last_progress_at=NOW,
    )  # fmt: skip
    return Projection(source=source, tasks=tasks, claim=claim)


def test_a_projection_replaces_the_workflows_tasks_and_restates_its_claim(model: ReadModel) -> None:
    first, second = _claim(1, days_old=10, balance="100.00"), _claim(2, days_old=40, balance="50.00")
    model.rebuild(
        [_projection(first, _task(first, 1), _task(first, 2)), _projection(second, _task(second, 1))], NOW
    )
    assert model.cursor() == NOW
    assert model.counts().tasks == 3
    # the claim moved: task 1 resolved, a payment made the amount at stake smaller
    paid = first.model_copy(update={"amount_at_stake": Decimal("30.00"), "balance": Decimal("30.00")})
    model.apply([_projection(paid, _task(paid, 2))], cursor=NOW + timedelta(minutes=1))
    assert [t.task_id for t in model.tasks_of("claim-E1")] == ["claim-E1:2"]
    assert model.tasks_of("claim-E1")[0].amount_at_stake == Decimal("30.00")
    assert model.claim("claim-E1") == paid
    assert model.cursor() == NOW + timedelta(minutes=1)


def test_lists_filter_and_sort_in_the_database_with_the_holder(model: ReadModel, database_url: str) -> None:
    a = _claim(1, days_old=5, balance="10.00", patient="Young, Ann")
    b = _claim(2, days_old=90, balance="900.00", patient="abbott, Bo")
    c = _claim(3, days_old=30, balance="0.00", patient="Miller, Cy")
    model.rebuild(
        [
            _projection(a, _task(a, 1, priority=2, due_in=1)),
            _projection(b, _task(b, 1, priority=4, due_in=9, kind="denial")),
            _projection(c, _task(c, 1, priority=3, due_in=-1)),
        ],
        NOW,
    )
    worklist = Worklist(database_url)
    try:
        worklist.assign("claim-E2:1", "E2", "sam", by="mia")
    finally:
        worklist.close()
    order = {sort: [t.claim_id[-1] for t in model.open_tasks(sort=sort)] for sort in TaskSort}
    assert order[TaskSort.DUE] == ["3", "1", "2"]
    assert order[TaskSort.PRIORITY] == ["2", "3", "1"]
    assert order[TaskSort.AMOUNT] == ["2", "1", "3"]
    assert order[TaskSort.DOS] == ["2", "3", "1"]
    assert order[TaskSort.PATIENT] == ["2", "3", "1"]  # case does not matter
    assert [t.task_id for t in model.open_tasks(kind="denial")] == ["claim-E2:1"]
    assert [t.task_id for t in model.open_tasks(payer="P1")] == ["claim-E3:1", "claim-E1:1"]
    assert [t.task_id for t in model.open_tasks(due_before=NOW)] == ["claim-E3:1"]
    assert [(t.task_id, t.holder) for t in model.open_tasks(holder="sam")] == [("claim-E2:1", "sam")]
    assert [t.task_id for t in model.open_tasks(unassigned=True)] == ["claim-E3:1", "claim-E1:1"]


def test_ar_aging_buckets_the_balance_by_days_since_the_date_of_service(model: ReadModel) -> None:
    claims = [
        _claim(1, days_old=3, balance="10.00"),
        _claim(2, days_old=30, balance="20.00"),
        _claim(3, days_old=31, balance="30.00"),
        _claim(4, days_old=100, balance="40.00"),
        _claim(5, days_old=400, balance="50.00"),
        _claim(6, days_old=400, balance="0.00"),  # settled: not in A/R
    ]
    model.rebuild([_projection(claim) for claim in claims], NOW)
    aging = {bucket.bucket: (bucket.claims, bucket.balance) for bucket in model.ar_aging(TODAY)}
    assert aging == {
        "0-30": (2, Decimal("30.00")),
        "31-60": (1, Decimal("30.00")),
        "61-90": (0, Decimal("0.00")),
        "91-120": (1, Decimal("40.00")),
        "120+": (1, Decimal("50.00")),
    }


def test_a_task_row_carries_its_claims_charge_and_payers_are_listed(model: ReadModel) -> None:
    a, b = _claim(1, days_old=5, balance="10.00"), _claim(2, days_old=5, balance="20.00")
    model.rebuild([_projection(a, _task(a, 1)), _projection(b, _task(b, 1), _task(b, 2))], NOW)
    assert {t.task_id: t.billed for t in model.open_tasks()} == dict.fromkeys(
        ("claim-E1:1", "claim-E2:1", "claim-E2:2"), Decimal("100.00")
    )
    assert model.payers() == ["P1", "P2"]
    model.forget_tasks(["claim-E2:1"])
    assert [t.task_id for t in model.open_tasks()] == ["claim-E1:1", "claim-E2:2"]


def test_resolutions_per_person_count_every_resolution_in_the_audit_trail(
    model: ReadModel, database_url: str
) -> None:
    """The console's and the CLI's `task_resolved` entries, whichever workflow held the task: a
    manager's write-off approval on an appeal counts like a biller's coding fix; refusals do not."""
    ledger = Ledger(database_url)
    try:
        for actor, task_id, kind in (
            ("bea", "claim-E1:1", "coding"),
            ("bea", "claim-E2:1", "coding"),
            ("bea", "claim-exceptions:3", "unmatched_remittance"),
            ("max", "appeal-E3-1:2", "write_off_approval"),
        ):
            ledger.log_action(actor, "task_resolved", None, {"task_id": task_id, "kind": kind, "action": "x"})
        ledger.log_action("ben", "task_resolved_refused", None, {"task_id": "appeal-E3-1:2", "exit_code": 4})
        ledger.log_action("old", "task_resolved", None, {"task_id": "claim-E9:1", "action": "x"})
    finally:
        ledger.close()
    assert [(r.actor, r.kind, r.resolved) for r in model.resolutions()] == [
        ("bea", "coding", 2),
        ("bea", "unmatched_remittance", 1),
        ("max", "write_off_approval", 1),
        ("old", "unrecorded", 1),
    ]


def test_the_dashboards_counts_and_lists_are_queries(model: ReadModel) -> None:
    quiet = _claim(1, days_old=5, balance="10.00").model_copy(
        update={
            "last_progress_at": NOW - timedelta(days=9),
            "timely_filing_deadline": TODAY + timedelta(days=3),
        }
    )
    settled = _claim(2, days_old=5, balance="0.00").model_copy(
        update={"state": "closed", "last_progress_at": NOW - timedelta(days=30), "is_open": False}
    )
    busy = _claim(3, days_old=5, balance="10.00").model_copy(
        update={"state": "coding", "timely_filing_deadline": TODAY + timedelta(days=30)}
    )
    late = _task(busy, 1, due_in=-1)
    model.rebuild([_projection(quiet, _task(quiet, 1)), _projection(settled), _projection(busy, late)], NOW)
    assert model.claims_by_state() == [("closed", 1), ("coding", 1), ("submitted", 1)]
    assert model.claims_by_payer() == [("P1", 2), ("P2", 1)]
    idle_since = NOW - timedelta(days=7)
    quiet_found = model.quiet_claims(idle_since, ["closed", "written_off"])
    assert [c.claim_id for c in quiet_found.claims] == ["claim-E1"] and quiet_found.total == 1
    within = model.deadlines_before(TODAY + timedelta(days=7), ["submitted", "coding"])
    assert [c.claim_id for c in within.claims] == ["claim-E1"] and within.total == 1
    # capped: the first by last progress, and the count of them all
    first = model.quiet_claims(NOW + timedelta(seconds=1), [], limit=2)
    assert [c.claim_id for c in first.claims] == ["claim-E2", "claim-E1"] and first.total == 3
    assert sorted(model.task_ages()) == [
        ("coding", NOW, NOW - timedelta(days=1)),
        ("coding", NOW, NOW + timedelta(days=1)),
    ]
