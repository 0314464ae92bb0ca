"""The biller's work list: each open task beside what a person needs to pick it (patient, date of
service, amount at stake, age), sorted so that what matters comes first.

Pure: snapshots and the time come in, rows go out; `claimflow tasks` prints them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from claimflow.claims.kpi import facts_of
from claimflow.claims.lifecycle import ClaimSnapshot
from claimflow.claims.money import ZERO, Money
from claimflow.claims.tasks import Priority, Task, TaskKind
from claimflow.console.claims_client import TaskRow
from claimflow.integrations.ledger.readmodel import TaskView


class SortKey(StrEnum):
    """How `claimflow tasks --sort` orders the list; every order ends with due date and task id."""

    PRIORITY = "priority"  # urgent first, then the earliest due (the default)
    DUE = "due"  # the earliest due first
    AMOUNT = "amount"  # the most money at stake first
    AGE = "age"  # the oldest date of service first
    PATIENT = "patient"  # by patient name
    DOS = "dos"  # by date of service, oldest first


class WorkItem(TaskRow):
    """An open task with its claim's patient, date of service, amount at stake and age (None when
    the task has no claim of its own, as an unmatched remittance)."""

    patient: str | None = Field(default=None, description="the patient's name, family name first")
    date_of_service: date | None = None
    amount_at_stake: Money | None = Field(
        default=None,
        description="what the claim may still bring in: its charge less what the payer and the patient "
        "paid and its contractual adjustments (the whole charge before it is paid)",
    )
    age_days: int | None = Field(default=None, description="days since the date of service, as A/R ages")


def work_items(rows: Iterable[TaskRow], claims: Mapping[str, ClaimSnapshot], today: date) -> list[WorkItem]:
    """Each row with what its claim's snapshot says (rows whose claim is not in `claims` stay bare)."""
    items = []
    for row in rows:
        claim = claims.get(row.claim_id)
        if claim is None or claim.encounter is None:
            items.append(WorkItem.model_validate(row.model_dump()))
            continue
        facts = facts_of(claim)
        owed = facts.charges - facts.payer_paid - facts.patient_paid - facts.contractual_adjustment
        patient = claim.encounter.patient
        items.append(
            WorkItem.model_validate(
                {
                    **row.model_dump(),
                    "patient": f"{patient.last_name}, {patient.first_name}",
                    "date_of_service": facts.service_date,
                    "amount_at_stake": max(owed, ZERO),
                    "age_days": (today - facts.service_date).days,
                }
            )
        )
    return items


def from_read_model(views: Iterable[TaskView], today: date) -> list[WorkItem]:
    """The read model's rows as work items (the read model keeps a task's list fields, not its
    details: `claimflow task show` asks the workflow for those). The rows are typed by the
    database's schema, so ten thousand of them are built without validating each again."""
    return [
        WorkItem.model_construct(
            claim_id=view.claim_id,
            claim_state=view.claim_state,
            payer_id=view.payer_id,
            task=Task.model_construct(
                id=view.task_id,
                kind=TaskKind(view.kind),
                reason=view.reason,
                details=[],  # given: a default factory costs model_construct a signature inspection
                created_at=view.created_at,
                due_at=view.due_at,
                priority=Priority(view.priority),
                assignee=view.assignee,
            ),
            patient=view.patient,
            date_of_service=view.date_of_service,
            amount_at_stake=view.amount_at_stake,
            age_days=(today - view.date_of_service).days if view.date_of_service else None,
        )
        for view in views
    ]


def sort_work(items: Iterable[WorkItem], by: SortKey = SortKey.PRIORITY) -> list[WorkItem]:
    """The list in `by`'s order; ties by due date, then task id. Unknown values sort last."""
    far = datetime.max.date()

    def key(item: WorkItem) -> tuple[object, ...]:
        tail = (item.task.due_at, item.task.id)
        if by is SortKey.PRIORITY:
            return (-int(item.task.priority), *tail)
        if by is SortKey.AMOUNT:
            return (-(item.amount_at_stake if item.amount_at_stake is not None else ZERO - 1), *tail)
        if by in (SortKey.AGE, SortKey.DOS):
            return (item.date_of_service or far, *tail)
        if by is SortKey.PATIENT:
            return (item.patient is None, (item.patient or "").casefold(), *tail)
        return tail

    return sorted(items, key=key)
