"""What every claimflow workflow does the same way: run an activity under the I/O retry policy
without letting a lasting failure crash the workflow, and keep tasks for people (`TaskHost`)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError

with workflow.unsafe.imports_passed_through():
    from claimflow.activities.catalog import ActivityRef
    from claimflow.claims.tasks import Task, TaskResolution
    from claimflow.workflows import search_attributes as sa

IO_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=2),
    maximum_attempts=12,
    # Business refusals and unreadable data never get better by retrying: they become tasks.
    non_retryable_error_types=[
        "PermanentClearinghouseError",
        "X12Error",
        "ValidationError",
        "MissingEvidence",
    ],
)

Arg = TypeVar("Arg")
Result = TypeVar("Result")


class StepFailed(Exception):
    """An activity failed for good; the message says why, for the task a person gets."""


async def run_step(activity: ActivityRef[Arg, Result], argument: Arg) -> Result:
    """Run an activity with the I/O retry policy. A lasting failure raises StepFailed with its
    reason; a cancellation (the workflow is ending the step) passes through unchanged."""
    try:
        result: Result = await workflow.execute_activity(
            activity.name,
            argument,
            result_type=activity.result_type,
            start_to_close_timeout=activity.timeout,
            retry_policy=IO_RETRY,
        )
    except ActivityError as failure:
        cause = failure.cause
        if isinstance(cause, CancelledError):
            raise
        raise StepFailed(cause.message if isinstance(cause, ApplicationError) else str(cause)) from None
    return result


def publish_open_tasks(tasks: list[Task]) -> None:
    """OpenTask, TaskPriority and AssignedTo from the open tasks: how billers find the work."""
    open_tasks = [t for t in tasks if t.is_open]
    top = max(open_tasks, key=lambda t: t.priority, default=None)
    workflow.upsert_search_attributes(
        [
            sa.OPEN_TASK.value_set([t.kind.value for t in open_tasks]),
            sa.TASK_PRIORITY.value_set(int(top.priority) if top else 0),
            sa.ASSIGNED_TO.value_set(top.assignee or "") if top else sa.ASSIGNED_TO.value_unset(),
        ]
    )


class TaskHost(ABC):
    """A workflow that keeps tasks for people (the claim, the appeal): how it adds, changes and
    resolves them (each change noted on its timeline and the open tasks published for search),
    and how it runs a step whose lasting failure becomes a task instead of a crash."""

    _tasks: list[Task]
    _last_failure: str

    @abstractmethod
    def _note(self, step: str, outcome: str) -> None:
        """Add an entry to the workflow's timeline."""

    def _current(self, task_id: str) -> Task:
        return next(t for t in self._tasks if t.id == task_id)

    def _add_task(self, task: Task) -> Task:
        self._tasks.append(task)
        self._note("task", f"{task.kind.value} opened: {task.reason}")
        publish_open_tasks(self._tasks)
        return task

    def _change_task(self, task_id: str, note: str | None, **changes: Any) -> Task:
        """Replace the task with its changed copy; note why (unless `note` is None) and publish."""
        current = self._current(task_id)
        changed = current.model_copy(update=changes)
        self._tasks[self._tasks.index(current)] = changed
        if note is not None:
            self._note("task", note)
        publish_open_tasks(self._tasks)
        return changed

    def _resolve_task(self, task: Task, resolution: TaskResolution) -> Task:
        return self._change_task(
            task.id,
            f"{task.kind.value} {task.id} resolved by {resolution.actor}: {resolution.action}",
            resolved_at=workflow.now(),
            resolved_by=resolution.actor,
            resolution=resolution,
        )

    def _close_unresolved(self, task_id: str, note: str | None) -> Task:
        """Close a task nobody resolved, on claimflow's behalf: what it waited for came otherwise."""
        return self._change_task(task_id, note, resolved_at=workflow.now(), resolved_by="claimflow")

    async def _io(self, activity: ActivityRef[Arg, Result], argument: Arg) -> Result | None:
        """Run a step; if it fails for good the workflow does not crash: the failure is noted and
        kept in `_last_failure`, and the caller turns it into a task."""
        try:
            return await run_step(activity, argument)
        except StepFailed as failure:
            self._last_failure = str(failure)
            self._note("error", f"{activity.name} failed: {self._last_failure}")
            return None
