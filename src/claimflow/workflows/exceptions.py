"""ExceptionsWorkflow: payer results that no open claim owns, each a task for a person on its
TaskBoard. It lives as long as claimflow does, so it continues as new with its open tasks (and the
items and event ids they stand for) whenever its history grows long."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from claimflow.claims import ids
    from claimflow.claims.tasks import Route, Task, TaskKind, TaskResolution, UnmatchedItem
    from claimflow.workflows import search_attributes as sa
    from claimflow.workflows.taskboard import TaskBoard

HISTORY_LIMIT = 2_000
"""Events after which the workflow continues as new with its open tasks, keeping history bounded."""
DUE_DAYS = 2


@workflow.defn(name=ids.WorkflowType.EXCEPTIONS)
class ExceptionsWorkflow:
    def __init__(self) -> None:
        self._board = TaskBoard(
            ids.EXCEPTIONS_TASK_OWNER, [], also_publish=[sa.CLAIM_STATE.value_set("exceptions")]
        )
        self._items: dict[str, UnmatchedItem] = {}
        self._seen: set[str] = set()

    @workflow.run
    async def run(
        self,
        carried: list[Task] | None = None,
        items: dict[str, UnmatchedItem] | None = None,
        seen: list[str] | None = None,
    ) -> None:
        # Signal-with-start delivers the first item before run begins: keep it after the carried tasks.
        self._board.tasks[:0] = carried or []
        self._items.update(items or {})
        self._seen.update(seen or [])
        self._board.publish()
        await workflow.wait_condition(lambda: workflow.info().get_current_history_length() > HISTORY_LIMIT)
        await workflow.wait_condition(workflow.all_handlers_finished)
        open_tasks = self._board.open_tasks
        workflow.continue_as_new(
            args=[
                open_tasks,
                {task.id: self._items[task.id] for task in open_tasks if task.id in self._items},
                sorted(self._seen),
            ]
        )

    @workflow.signal(name=ids.Signal.UNMATCHED)
    def unmatched(self, item: UnmatchedItem) -> None:
        key = item.event.event_id if item.event else f"{item.kind}:{item.file_id}"
        if key in self._seen:
            return
        self._seen.add(key)
        task = self._board.open(
            TaskKind.UNMATCHED_REMITTANCE,
            item.reason,
            [f"file {item.file_id} ({item.kind})"],
            due_at=workflow.now() + timedelta(days=DUE_DAYS),
            assignee="billing",
        )
        self._items[task.id] = item

    @workflow.update(name=ids.Update.RESOLVE_TASK)
    async def resolve_task(self, resolution: TaskResolution) -> Task:
        self._board.validate(resolution)  # again: the task may have been resolved since validation
        item = self._items.get(resolution.task_id)
        if isinstance(resolution, Route) and item is not None and item.event is not None:
            target = workflow.get_external_workflow_handle(ids.claim_workflow_id(resolution.target_claim))
            await target.signal(ids.Signal.PAYER_EVENT, item.event)
        return self._board.resolve(resolution)

    @resolve_task.validator
    def validate_resolution(self, resolution: TaskResolution) -> None:
        self._board.validate(resolution)

    @workflow.query(name=ids.Query.TASKS)
    def tasks(self) -> list[Task]:
        return list(self._board.tasks)
