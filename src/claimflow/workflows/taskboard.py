"""TaskBoard: the tasks a workflow keeps for people, in one place.

Every workflow that needs a person's judgement (the claim, the appeal, the exceptions) composes one
board: it opens a task, waits for its resolution with an escalation past the due date, resolves it
through the workflow's validated `resolve_task` Update, closes tasks nobody resolved when what they
waited for came otherwise, and publishes the open tasks as search attributes so billers find them.

The board works on the list of tasks it is given (the workflow's state record holds it), so the
tasks survive continue-as-new with the rest of the state.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ApplicationError

from claimflow.workflows import metrics

with workflow.unsafe.imports_passed_through():
    from claimflow.claims import ids
    from claimflow.claims.tasks import (
        InvalidResolution,
        Priority,
        Task,
        TaskKind,
        TaskResolution,
        check_resolution,
    )
    from claimflow.workflows import search_attributes as sa
    from claimflow.workflows.common import Note

Checker = Callable[[list[Task], TaskResolution], Task]
"""Finds the open task a resolution applies to, or raises InvalidResolution saying what is wrong."""

ESCALATION_ASSIGNEE = "billing-manager"
SHORTEST_WAIT = timedelta(seconds=1)
"""A task already due (an appeal's filing deadline is today) still gets a moment before escalation."""


class TaskClosed(Exception):
    """A task somebody waited on was closed without a resolution (superseded by a newer one)."""


class TaskBoard:
    def __init__(
        self,
        owner: str,
        tasks: list[Task],
        *,
        note: Note | None = None,
        checker: Checker = check_resolution,
        also_publish: Sequence[SearchAttributeUpdate[Any]] = (),
    ) -> None:
        """`owner` is the prefix of task ids (`claim-E1`: tasks `claim-E1:1`, ...); `note`, when
        given, records every change on the workflow's timeline; `also_publish` goes with every
        publication of the open tasks (the exceptions workflow names its state)."""
        self._owner = owner
        self.tasks = tasks
        self._note = note
        self._checker = checker
        self._also_publish = list(also_publish)

    # ------------------------------------------------------------------ reading
    def get(self, task_id: str) -> Task:
        return next(task for task in self.tasks if task.id == task_id)

    @property
    def open_tasks(self) -> list[Task]:
        return [task for task in self.tasks if task.is_open]

    # ------------------------------------------------------------------ opening and waiting
    def open(
        self,
        kind: TaskKind,
        reason: str,
        details: list[str],
        *,
        due_at: datetime,
        priority: Priority = Priority.NORMAL,
        assignee: str | None = None,
        document: str | None = None,
    ) -> Task:
        """Add a task for a person; ids number on past every id still on the board. `document`: what
        the person works from, as received (a fix_intake task's document)."""
        number = max((ids.task_number(task.id) for task in self.tasks), default=0) + 1
        task = Task(
            id=ids.task_id(self._owner, number),
            kind=kind,
            reason=reason,
            details=details,
            created_at=workflow.now(),
            due_at=due_at,
            priority=priority,
            assignee=assignee,
            document=document,
        )
        self.tasks.append(task)
        metrics.task_opened(kind.value)
        self._record(f"{kind.value} opened: {reason}")
        self.publish()
        return task

    async def wait(
        self,
        task: Task,
        *,
        escalate_to: str = ESCALATION_ASSIGNEE,
        escalated_priority: Priority = Priority.HIGH,
        ends_when: Callable[[], bool] | None = None,
    ) -> TaskResolution | None:
        """Wait for the task's resolution; past its due date it is escalated (priority and assignee)
        and waited for further. When `ends_when` comes true first, the task is closed on
        claimflow's behalf and None returned."""

        def done() -> bool:
            return not self.get(task.id).is_open or (ends_when is not None and ends_when())

        try:
            await workflow.wait_condition(done, timeout=max(task.due_at - workflow.now(), SHORTEST_WAIT))
        except TimeoutError:
            metrics.sla_breached(task.kind.value)
            self._change(
                task.id,
                f"{task.kind.value} {task.id} overdue: escalated to {escalate_to}",
                priority=escalated_priority,
                assignee=escalate_to,
            )
            await workflow.wait_condition(done)
        current = self.get(task.id)
        if current.is_open:
            self.close_unresolved(task.id, None)
            return None
        return current.resolution

    async def ask(
        self,
        kind: TaskKind,
        reason: str,
        details: list[str],
        *,
        due_at: datetime,
        assignee: str | None,
        priority: Priority = Priority.NORMAL,
        escalate_to: str = ESCALATION_ASSIGNEE,
        escalated_priority: Priority = Priority.HIGH,
        document: str | None = None,
    ) -> TaskResolution:
        """Open a task and wait until a person resolves it: their resolution."""
        task = self.open(
            kind, reason, details, due_at=due_at, priority=priority, assignee=assignee, document=document
        )
        resolution = await self.wait(task, escalate_to=escalate_to, escalated_priority=escalated_priority)
        if resolution is None:
            raise TaskClosed(f"{task.id} was closed without a resolution")
        return resolution

    # ------------------------------------------------------------------ resolving and closing
    def validate(self, resolution: TaskResolution) -> None:
        """For the Update's validator: an invalid resolution is refused at once, with the reason."""
        try:
            self._checker(self.tasks, resolution)
        except InvalidResolution as invalid:
            raise ApplicationError(str(invalid), type="InvalidResolution", non_retryable=True) from None

    def resolve(self, resolution: TaskResolution) -> Task:
        """Record a person's resolution on its task (the validator accepted it)."""
        task = self._checker(self.tasks, resolution)
        metrics.task_resolved(task.kind.value, by_person=True)
        return self._change(
            task.id,
            f"{task.kind.value} {task.id} resolved by {resolution.actor}: {resolution.action}",
            resolved_at=workflow.now(),
            resolved_by=resolution.actor,
            resolution=resolution,
        )

    def close_unresolved(self, task_id: str, note: str | None) -> Task:
        """Close a task nobody resolved, on claimflow's behalf: what it waited for came otherwise."""
        metrics.task_resolved(self.get(task_id).kind.value, by_person=False)
        return self._change(task_id, note, resolved_at=workflow.now(), resolved_by="claimflow")

    def revise(self, task_id: str, reason: str, details: list[str], note: str) -> Task:
        """Restate an open task's reason and details: what it is about changed (a re-adjudication)."""
        return self._change(task_id, note, reason=reason, details=details)

    def supersede(self, kind: TaskKind) -> None:
        """Close the open tasks of this kind: a newer one replaces them."""
        for task in [t for t in self.tasks if t.kind is kind and t.is_open]:
            self.close_unresolved(task.id, f"{kind.value} {task.id} superseded by a newer one")

    def publish(self) -> None:
        """OpenTask, TaskPriority and AssignedTo from the open tasks: how billers find the work."""
        open_tasks = self.open_tasks
        top = max(open_tasks, key=lambda t: t.priority, default=None)
        workflow.upsert_search_attributes(
            [
                sa.OPEN_TASK.value_set([t.kind.value for t in open_tasks]),
                sa.TASK_PRIORITY.value_set(int(top.priority) if top else 0),
                sa.ASSIGNED_TO.value_set(top.assignee or "") if top else sa.ASSIGNED_TO.value_unset(),
                *self._also_publish,
            ]
        )

    # ------------------------------------------------------------------ internals
    def _change(self, task_id: str, note: str | None, **changes: Any) -> Task:
        """Replace the task with its changed copy; note why (unless `note` is None) and publish."""
        current = self.get(task_id)
        changed = current.model_copy(update=changes)
        self.tasks[self.tasks.index(current)] = changed
        if note is not None:
            self._record(note)
        self.publish()
        return changed

    def _record(self, outcome: str) -> None:
        if self._note is not None:
            self._note("task", outcome)
