"""ExceptionsWorkflow: payer results that no open claim owns, each a task for a person."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from claimflow.claims.tasks import (
        Action,
        InvalidResolution,
        Task,
        TaskKind,
        TaskResolution,
        UnmatchedItem,
        check_resolution,
    )
    from claimflow.workflows import search_attributes as sa

HISTORY_LIMIT = 2_000
"""Events after which the workflow continues as new with its open tasks, keeping history bounded."""


@workflow.defn
class ExceptionsWorkflow:
    def __init__(self) -> None:
        self._tasks: list[Task] = []
        self._items: dict[str, UnmatchedItem] = {}
        self._seen: set[str] = set()

    @workflow.run
    async def run(self, carried: list[Task] | None = None) -> None:
        # Signal-with-start delivers the first item before run begins: keep it after the carried tasks.
        self._tasks = [*(carried or []), *self._tasks]
        self._publish()
        await workflow.wait_condition(lambda: workflow.info().get_current_history_length() > HISTORY_LIMIT)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new([t for t in self._tasks if t.is_open])

    @workflow.signal
    def unmatched(self, item: UnmatchedItem) -> None:
        key = item.event.event_id if item.event else f"{item.kind}:{item.file_id}"
        if key in self._seen:
            return
        self._seen.add(key)
        now = workflow.now()
        task = Task(
            id=f"exceptions:{self._next_task_number()}",
            kind=TaskKind.UNMATCHED_REMITTANCE,
            reason=item.reason,
            details=[f"file {item.file_id} ({item.kind})"],
            created_at=now,
            due_at=now + timedelta(days=2),
            assignee="billing",
        )
        self._tasks.append(task)
        self._items[task.id] = item
        self._publish()

    @workflow.update
    async def resolve_task(self, resolution: TaskResolution) -> Task:
        task = check_resolution(self._tasks, resolution)
        item = self._items.get(task.id)
        if resolution.action is Action.ROUTE and item is not None and item.event is not None:
            target = workflow.get_external_workflow_handle(f"claim-{resolution.target_claim}")
            await target.signal("payer_event", item.event)
        resolved = task.model_copy(
            update={"resolved_at": workflow.now(), "resolved_by": resolution.actor, "resolution": resolution}
        )
        self._tasks[self._tasks.index(task)] = resolved
        self._publish()
        return resolved

    @resolve_task.validator
    def validate_resolution(self, resolution: TaskResolution) -> None:
        try:
            check_resolution(self._tasks, resolution)
        except InvalidResolution as invalid:
            raise ApplicationError(str(invalid), type="InvalidResolution", non_retryable=True) from None

    def _next_task_number(self) -> int:
        """After continue-as-new only open tasks are carried: number past every id still in use."""
        return max((int(t.id.rsplit(":", 1)[1]) for t in self._tasks), default=0) + 1

    @workflow.query
    def tasks(self) -> list[Task]:
        return list(self._tasks)

    def _publish(self) -> None:
        open_kinds = sorted({t.kind.value for t in self._tasks if t.is_open})
        workflow.upsert_search_attributes(
            [sa.OPEN_TASK.value_set(open_kinds), sa.CLAIM_STATE.value_set("exceptions")]
        )
